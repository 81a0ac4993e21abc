-- Finer statistics for the contact search's copy (0010, `conversation_search`).
--
-- A search gathers the conversations whose copy contains the term up to a limit (inbox.rs,
-- `pg_gather`), and the planner picks the trigram index or a read of the table in order until
-- the limit from its estimate of the matches. A substring LIKE is estimated from the column's
-- histogram, whose default 100 entries give steps of 1 % (10,000 of the bench's million
-- conversations): "moya", in 4,452 conversations, was estimated at 29,547, so the table was read
-- in order for its 501 matches (118,000 rows, 9.6-25 ms) where the index takes 1.9-2.5 ms.
-- With 1,000 entries it is estimated at 2,718 and read from the index, while a name in 28,000
-- conversations ("aura", estimated 27,870) is still read in order, the quicker way for it
-- (4 ms against 5). The price: 0.4 ms more planning for the gathering statement, and ANALYZE
-- samples 300,000 rows of this narrow table (0.9 s at a million conversations).
ALTER TABLE conversation_search ALTER COLUMN search_text SET STATISTICS 1000;
ALTER TABLE conversation_search ALTER COLUMN search_phone SET STATISTICS 1000;
-- An existing database gets the finer estimate now; an empty one stays unanalyzed (see the
-- test `a_fresh_database_plans_lookups_with_its_indexes`: "empty" statistics made lookups by
-- id full scans).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM conversation_search) THEN
        ANALYZE conversation_search;
    END IF;
END
$$;
