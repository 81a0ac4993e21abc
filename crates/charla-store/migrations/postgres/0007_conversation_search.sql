-- Inbox search at millions of conversations. Keep in step with ../sqlite/0007_conversation_search.sql.
--
-- What contact search looks at, copied onto each conversation: its contact's search text
-- (lower-cased name, e-mail, username), then the identity's name (unit separator between), and
-- the contact's phone digits. A search then reads trigram indexes that yield conversations, and
-- a scan checks the row it is on instead of looking a contact and an identity up for each
-- conversation walked. Triggers keep the copy current whatever the write path: a new
-- conversation, a contact edited, merged or detached, an identity renamed.

ALTER TABLE conversations ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN search_phone TEXT NOT NULL DEFAULT '';

UPDATE conversations c SET search_text = x.search_text, search_phone = x.search_phone
FROM (SELECT c2.id, COALESCE(k.search_text, '') || chr(31) || COALESCE(lower(i.name), '') AS search_text,
             COALESCE(k.phone_digits, '') AS search_phone
      FROM conversations c2 LEFT JOIN contacts k ON k.id = c2.contact_id
      LEFT JOIN contact_identities i ON i.id = c2.identity_id) x
WHERE x.id = c.id;

CREATE FUNCTION conversations_search_fill() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_text := COALESCE((SELECT k.search_text FROM contacts k WHERE k.id = NEW.contact_id), '')
        || chr(31) || COALESCE((SELECT lower(i.name) FROM contact_identities i WHERE i.id = NEW.identity_id), '');
    NEW.search_phone := COALESCE((SELECT k.phone_digits FROM contacts k WHERE k.id = NEW.contact_id), '');
    RETURN NEW;
END
$$;
CREATE TRIGGER conversations_search_fill BEFORE INSERT ON conversations
    FOR EACH ROW EXECUTE FUNCTION conversations_search_fill();
-- Only when they change: every message saves its conversation's row, contact_id included.
CREATE TRIGGER conversations_search_refill BEFORE UPDATE OF contact_id, identity_id ON conversations
    FOR EACH ROW WHEN (OLD.contact_id IS DISTINCT FROM NEW.contact_id OR OLD.identity_id IS DISTINCT FROM NEW.identity_id)
    EXECUTE FUNCTION conversations_search_fill();

CREATE FUNCTION contacts_search_conversations() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE conversations c SET
        search_text = NEW.search_text || chr(31)
            || COALESCE((SELECT lower(i.name) FROM contact_identities i WHERE i.id = c.identity_id), ''),
        search_phone = NEW.phone_digits
    WHERE c.contact_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER contacts_search_conversations AFTER UPDATE OF search_text, phone_digits ON contacts
    FOR EACH ROW WHEN (OLD.search_text IS DISTINCT FROM NEW.search_text OR OLD.phone_digits IS DISTINCT FROM NEW.phone_digits)
    EXECUTE FUNCTION contacts_search_conversations();

CREATE FUNCTION identities_search_conversations() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE conversations c SET
        search_text = COALESCE((SELECT k.search_text FROM contacts k WHERE k.id = c.contact_id), '')
            || chr(31) || lower(NEW.name)
    WHERE c.identity_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER identities_search_conversations AFTER UPDATE OF name ON contact_identities
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION identities_search_conversations();

-- The pending counters check the copy from their index alone.
DROP INDEX conversations_pending;
CREATE INDEX conversations_pending ON conversations(workspace_id, channel_id, assignee_id, team_id, is_group, contact_id,
    identity_id, last_message_author, owned_by_bot, last_activity_at, status, unanswered)
    INCLUDE (id, search_text, search_phone)
    WHERE status = 'open' AND unanswered = 1;

-- Trigram indexes over the copy (without pg_trgm search scans, as before). The identities'
-- own one served only the inbox search.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX conversations_search_trgm ON conversations USING GIN (search_text gin_trgm_ops);
        CREATE INDEX conversations_phone_trgm ON conversations USING GIN (search_phone gin_trgm_ops);
        DROP INDEX IF EXISTS contact_identities_name_trgm;
    END IF;
END
$$;
-- Statistics for the new indexes, on a database that has rows. An empty table is left
-- unanalyzed: PostgreSQL then plans it as at least 10 pages until autovacuum's first
-- ANALYZE, whereas statistics saying "empty" made the generic plans cached in the first
-- seconds scan the whole table for every message until then (10 ms at 10,000 rows).
DO $$ BEGIN IF EXISTS (SELECT 1 FROM conversations) THEN ANALYZE conversations; END IF; END $$;
