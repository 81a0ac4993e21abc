-- Contact search's copy (0010, `conversation_search`) carries who may see each conversation,
-- and keeps finer statistics.
--
-- Who may see it. A search with few matches reads every match's conversation row to keep the
-- visible ones and sort them (inbox.rs, `pg_gather`, then the page "driven" by the matches):
-- for an agent who sees two of eight channels whole, a surname in 2,850 conversations read
-- 2,850 rows of `conversations` (a wide table, mostly outside shared buffers: 6-14 ms warm,
-- 41 cold) to keep 972. The gathering reads each candidate's row here anyway (a trigram match
-- must be checked against it), so it now tells which ones the viewer may see, and the page reads
-- only those. The columns are those `Viewer::can_see` looks at (`push_visibility`); a trigger
-- keeps them in step, on the writes that change them (assignment, transfer, a contact's merge),
-- not on every message. Fill factor 90: those updates touch no indexed column, so they stay
-- on their page (HOT) instead of adding the row's trigrams to both GIN indexes again.
--
-- Statistics. The gathering runs up to a limit, and the planner picks the trigram index or a
-- read of the table in order from its estimate of the matches. A substring LIKE is estimated
-- from the column's histogram, whose default 100 entries give steps of 1 % (10,000 of the
-- bench's million conversations): "moya", in 4,452 conversations, was estimated at 29,547, so
-- the table was read in order for its 501 matches (118,000 rows, 9.6-25 ms) where the index
-- takes 1.9-2.5 ms. With 1,000 entries it is estimated at 2,718 and read from the index, while
-- a name in 28,000 conversations ("aura", estimated 27,870) is still read in order, the quicker
-- way for it (4 ms against 5). The price: 0.4 ms more planning for the gathering statement, and
-- ANALYZE samples 300,000 rows of this narrow table (0.9 s at a million conversations).
--
-- The table is built again rather than updated in place: a million updated rows would leave
-- a million dead ones behind. Keep in step with bulk.rs (which fills it after a load).
CREATE TABLE conversation_search_next (
    id BIGINT PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
    workspace_id BIGINT NOT NULL,
    search_text TEXT NOT NULL,
    search_phone TEXT NOT NULL,
    contact_id BIGINT,
    channel_id BIGINT NOT NULL,
    assignee_id BIGINT,
    team_id BIGINT,
    is_group BIGINT NOT NULL
) WITH (fillfactor = 90);

INSERT INTO conversation_search_next
    (id, workspace_id, search_text, search_phone, contact_id, channel_id, assignee_id, team_id, is_group)
SELECT id, workspace_id, search_text, search_phone, contact_id, channel_id, assignee_id, team_id, is_group
FROM conversations;

DROP TABLE conversation_search;
ALTER TABLE conversation_search_next RENAME TO conversation_search;
ALTER INDEX conversation_search_next_pkey RENAME TO conversation_search_pkey;
ALTER TABLE conversation_search RENAME CONSTRAINT conversation_search_next_id_fkey TO conversation_search_id_fkey;
ALTER TABLE conversation_search ALTER COLUMN search_text SET STATISTICS 1000;
ALTER TABLE conversation_search ALTER COLUMN search_phone SET STATISTICS 1000;

-- No pending list (0013): each insert writes its trigrams into the index directly.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX conversation_search_text_trgm ON conversation_search
            USING GIN (search_text gin_trgm_ops) WITH (fastupdate = off);
        CREATE INDEX conversation_search_phone_trgm ON conversation_search
            USING GIN (search_phone gin_trgm_ops) WITH (fastupdate = off);
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION conversation_search_mirror() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO conversation_search
        (id, workspace_id, search_text, search_phone, contact_id, channel_id, assignee_id, team_id, is_group)
    VALUES (NEW.id, NEW.workspace_id, NEW.search_text, NEW.search_phone, NEW.contact_id, NEW.channel_id,
            NEW.assignee_id, NEW.team_id, NEW.is_group)
    ON CONFLICT (id) DO UPDATE SET search_text = EXCLUDED.search_text, search_phone = EXCLUDED.search_phone,
        contact_id = EXCLUDED.contact_id, channel_id = EXCLUDED.channel_id, assignee_id = EXCLUDED.assignee_id,
        team_id = EXCLUDED.team_id, is_group = EXCLUDED.is_group;
    RETURN NULL;
END
$$;
-- Only when the copy or who may see the conversation changes, not on the row's rewrite by
-- every message.
DROP TRIGGER conversation_search_update ON conversations;
CREATE TRIGGER conversation_search_update AFTER UPDATE ON conversations
    FOR EACH ROW WHEN (OLD.search_text IS DISTINCT FROM NEW.search_text OR OLD.search_phone IS DISTINCT FROM NEW.search_phone
        OR OLD.contact_id IS DISTINCT FROM NEW.contact_id OR OLD.channel_id IS DISTINCT FROM NEW.channel_id
        OR OLD.assignee_id IS DISTINCT FROM NEW.assignee_id OR OLD.team_id IS DISTINCT FROM NEW.team_id
        OR OLD.is_group IS DISTINCT FROM NEW.is_group)
    EXECUTE FUNCTION conversation_search_mirror();

-- An existing database gets its statistics now; an empty one stays unanalyzed (see the test
-- `a_fresh_database_plans_lookups_with_its_indexes`: "empty" statistics made lookups by id
-- full scans).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM conversation_search) THEN
        ANALYZE conversation_search;
    END IF;
END
$$;
