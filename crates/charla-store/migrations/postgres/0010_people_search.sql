-- Contact search on its own narrow table (PostgreSQL only; SQLite's trigram index already
-- stands apart, `conversations_fts`).
--
-- A trigram match must be checked against the row (trigrams in any order match the index):
-- on `conversations` that meant one page of that wide table per candidate, mostly outside
-- shared buffers, about 20 ms for 3,000 candidates of a common name on a million
-- conversations. Here a row is the copy alone, so a million fit in ~80 MB and the checks stay
-- in memory. The indexes also leave `conversations`, whose row every message rewrites: each
-- rewrite used to add the copy's trigrams to both indexes again.
--
-- `conversations.search_text` / `search_phone` stay (the sorted walks of a common name check
-- them in the inbox indexes that include them); a trigger mirrors them here.

CREATE TABLE conversation_search (
    id BIGINT PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
    workspace_id BIGINT NOT NULL,
    search_text TEXT NOT NULL,
    search_phone TEXT NOT NULL
);

INSERT INTO conversation_search (id, workspace_id, search_text, search_phone)
SELECT id, workspace_id, search_text, search_phone FROM conversations;

CREATE FUNCTION conversation_search_mirror() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO conversation_search (id, workspace_id, search_text, search_phone)
    VALUES (NEW.id, NEW.workspace_id, NEW.search_text, NEW.search_phone)
    ON CONFLICT (id) DO UPDATE SET search_text = EXCLUDED.search_text, search_phone = EXCLUDED.search_phone;
    RETURN NULL;
END
$$;
CREATE TRIGGER conversation_search_insert AFTER INSERT ON conversations
    FOR EACH ROW EXECUTE FUNCTION conversation_search_mirror();
-- Only when the copy changes (a contact edited, merged or detached; an identity renamed), not
-- on the row's rewrite by every message.
CREATE TRIGGER conversation_search_update AFTER UPDATE ON conversations
    FOR EACH ROW WHEN (OLD.search_text IS DISTINCT FROM NEW.search_text OR OLD.search_phone IS DISTINCT FROM NEW.search_phone)
    EXECUTE FUNCTION conversation_search_mirror();

DROP INDEX IF EXISTS conversations_search_trgm;
DROP INDEX IF EXISTS conversations_phone_trgm;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX conversation_search_text_trgm ON conversation_search USING GIN (search_text gin_trgm_ops);
        CREATE INDEX conversation_search_phone_trgm ON conversation_search USING GIN (search_phone gin_trgm_ops);
    END IF;
END
$$;
-- Statistics for the new indexes, on a database that has rows. An empty table is left
-- unanalyzed: PostgreSQL then plans it as at least 10 pages until autovacuum's first
-- ANALYZE, whereas statistics saying "empty" made the generic plans cached in the first
-- seconds scan the whole table for every message until then (10 ms at 10,000 rows).
DO $$ BEGIN IF EXISTS (SELECT 1 FROM conversation_search) THEN ANALYZE conversation_search; END IF; END $$;
