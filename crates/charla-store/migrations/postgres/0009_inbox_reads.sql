-- Unread counts (sql/inbox.rs, `load_read_states`, `unread_conversations`) count a
-- conversation's visible inbound messages after the last one read: from the index of messages
-- by conversation alone (index-only) once it carries kind and hidden (before, each of the
-- conversation's messages was read from the table: hundreds of rows for a page of the
-- inbox). History pages walk the same index as before. Keep in step with
-- ../sqlite/0009_inbox_reads.sql.
DROP INDEX messages_conversation;
CREATE INDEX messages_conversation ON messages(conversation_id, id DESC) INCLUDE (kind, hidden);

-- Contact search compares the lower-cased term with the copy on each conversation (0007). The
-- identity's name in it is lower-cased by the store, as the term is (as SQLite must: its
-- lower() folds only A-Z), and written beside the name.
ALTER TABLE contact_identities ADD COLUMN search_name TEXT NOT NULL DEFAULT '';
UPDATE contact_identities SET search_name = lower(name);

CREATE OR REPLACE FUNCTION conversations_search_fill() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_text := COALESCE((SELECT k.search_text FROM contacts k WHERE k.id = NEW.contact_id), '')
        || chr(31) || COALESCE((SELECT i.search_name FROM contact_identities i WHERE i.id = NEW.identity_id), '');
    NEW.search_phone := COALESCE((SELECT k.phone_digits FROM contacts k WHERE k.id = NEW.contact_id), '');
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION contacts_search_conversations() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE conversations c SET
        search_text = NEW.search_text || chr(31)
            || COALESCE((SELECT i.search_name FROM contact_identities i WHERE i.id = c.identity_id), ''),
        search_phone = NEW.phone_digits
    WHERE c.contact_id = NEW.id;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION identities_search_conversations() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE conversations c SET
        search_text = COALESCE((SELECT k.search_text FROM contacts k WHERE k.id = c.contact_id), '')
            || chr(31) || NEW.search_name
    WHERE c.identity_id = NEW.id;
    RETURN NULL;
END
$$;
DROP TRIGGER identities_search_conversations ON contact_identities;
CREATE TRIGGER identities_search_conversations AFTER UPDATE OF search_name ON contact_identities
    FOR EACH ROW WHEN (OLD.search_name IS DISTINCT FROM NEW.search_name)
    EXECUTE FUNCTION identities_search_conversations();

-- A search that matches many conversations walks the workspace's order and keeps the rows whose
-- copy matches (sql/inbox.rs, `SearchMode::Scan`), a tag filter walks a channel's or an
-- assignee's order and keeps the rows whose contact has the tag: with the copy in the two
-- workspace-wide orders and the due time in every processing order, those walks read the index
-- alone (PostgreSQL reads the table for each row an index scan walks, kept or not; an
-- index-only scan does not, and its processing orders sort on an expression of due_at, which
-- it must find in the index as a column). SQLite evaluates what its index holds before reading
-- the row, so its indexes stay as they are.
DROP INDEX conversations_processing;
CREATE INDEX conversations_processing ON conversations(workspace_id, unanswered DESC, COALESCE(due_at, 9000000000000000),
    last_activity_at DESC, id DESC, channel_id, assignee_id, team_id, is_group, contact_id, identity_id)
    INCLUDE (due_at, search_text, search_phone);
DROP INDEX conversations_channel_processing;
CREATE INDEX conversations_channel_processing ON conversations(workspace_id, channel_id, unanswered DESC,
    COALESCE(due_at, 9000000000000000), last_activity_at DESC, id DESC, assignee_id, team_id, is_group, contact_id, identity_id)
    INCLUDE (due_at);
DROP INDEX conversations_assignee_processing;
CREATE INDEX conversations_assignee_processing ON conversations(workspace_id, assignee_id, unanswered DESC,
    COALESCE(due_at, 9000000000000000), last_activity_at DESC, id DESC, channel_id, team_id, is_group, contact_id, identity_id)
    INCLUDE (due_at);
DROP INDEX conversations_activity_all;
CREATE INDEX conversations_activity_all ON conversations(workspace_id, last_activity_at DESC, id DESC,
    channel_id, assignee_id, team_id, is_group, contact_id, identity_id)
    INCLUDE (search_text, search_phone);
