-- The tag filter reads a copy of the contact's tags on each conversation (PostgreSQL only).
--
-- A tag filter walks a section's order and keeps the conversations whose contact has the tags:
-- each walked row looked its contact up in `contact_tags`, a random read of that index per row
-- (978 rows walked for one page of a channel, 844 index pages read: 37 ms). With the tags
-- copied into the inbox indexes the walk reads them alone. `tag_ids` is ',' followed by each
-- tag id and a comma, ascending (',6,8,'); ',' without tags. Triggers keep it current: a new
-- conversation, its contact changed (merge, detach), tags added to or removed from a contact.
-- SQLite evaluates the lookup on its page-cached index cheaply enough and keeps the EXISTS.

ALTER TABLE conversations ADD COLUMN tag_ids TEXT NOT NULL DEFAULT ',';

CREATE FUNCTION conversation_tag_ids(contact BIGINT) RETURNS TEXT LANGUAGE sql STABLE AS $$
    SELECT ',' || COALESCE(string_agg(t.tag_id::text || ',', '' ORDER BY t.tag_id), '')
    FROM contact_tags t WHERE t.contact_id = contact
$$;

UPDATE conversations c SET tag_ids = x.tag_ids
FROM (SELECT contact_id, ',' || string_agg(tag_id::text || ',', '' ORDER BY tag_id) AS tag_ids
      FROM contact_tags GROUP BY contact_id) x
WHERE c.contact_id = x.contact_id;

-- The copy of contact search (0007, 0009) and now the tags: on insert, and when the contact
-- or identity changes.
CREATE OR REPLACE FUNCTION conversations_search_fill() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_text := COALESCE((SELECT k.search_text FROM contacts k WHERE k.id = NEW.contact_id), '')
        || chr(31) || COALESCE((SELECT i.search_name FROM contact_identities i WHERE i.id = NEW.identity_id), '');
    NEW.search_phone := COALESCE((SELECT k.phone_digits FROM contacts k WHERE k.id = NEW.contact_id), '');
    NEW.tag_ids := conversation_tag_ids(NEW.contact_id);
    RETURN NEW;
END
$$;

-- Once per statement: setting a contact's tags deletes and inserts several rows.
CREATE FUNCTION contact_tags_conversations() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE conversations c SET tag_ids = conversation_tag_ids(c.contact_id)
    WHERE c.contact_id IN (SELECT DISTINCT contact_id FROM changed)
      AND c.tag_ids IS DISTINCT FROM conversation_tag_ids(c.contact_id);
    RETURN NULL;
END
$$;
CREATE TRIGGER contact_tags_inserted AFTER INSERT ON contact_tags
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION contact_tags_conversations();
CREATE TRIGGER contact_tags_deleted AFTER DELETE ON contact_tags
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION contact_tags_conversations();
CREATE TRIGGER contact_tags_updated AFTER UPDATE ON contact_tags
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION contact_tags_conversations();

-- Every inbox order carries the tags' copy, so that a walk with a tag filter reads the index
-- alone, and the search copy (0007): an agent's search walks their own order and their channels',
-- which lacked it, so each walked row was read from the table to test it (one agent's 4,894
-- conversations for a name with 20 among them: 4,894 table reads, 25 ms warm, 153 ms cold).
DROP INDEX conversations_processing;
CREATE INDEX conversations_processing ON conversations(workspace_id, unanswered DESC, COALESCE(due_at, 9000000000000000),
    last_activity_at DESC, id DESC, channel_id, assignee_id, team_id, is_group, contact_id, identity_id)
    INCLUDE (due_at, search_text, search_phone, tag_ids);
DROP INDEX conversations_channel_processing;
CREATE INDEX conversations_channel_processing ON conversations(workspace_id, channel_id, unanswered DESC,
    COALESCE(due_at, 9000000000000000), last_activity_at DESC, id DESC, assignee_id, team_id, is_group, contact_id, identity_id)
    INCLUDE (due_at, tag_ids, search_text, search_phone);
DROP INDEX conversations_assignee_processing;
CREATE INDEX conversations_assignee_processing ON conversations(workspace_id, assignee_id, unanswered DESC,
    COALESCE(due_at, 9000000000000000), last_activity_at DESC, id DESC, channel_id, team_id, is_group, contact_id, identity_id)
    INCLUDE (due_at, tag_ids, search_text, search_phone);
DROP INDEX conversations_activity_all;
CREATE INDEX conversations_activity_all ON conversations(workspace_id, last_activity_at DESC, id DESC,
    channel_id, assignee_id, team_id, is_group, contact_id, identity_id)
    INCLUDE (search_text, search_phone, tag_ids);
DROP INDEX conversations_channel;
CREATE INDEX conversations_channel ON conversations(workspace_id, channel_id, last_activity_at DESC, id DESC,
    assignee_id, team_id, is_group, contact_id, identity_id) INCLUDE (tag_ids, search_text, search_phone);
DROP INDEX conversations_assignee;
CREATE INDEX conversations_assignee ON conversations(workspace_id, assignee_id, last_activity_at DESC, id DESC,
    channel_id, team_id, is_group, contact_id, identity_id) INCLUDE (tag_ids, search_text, search_phone);
DROP INDEX conversations_pending;
CREATE INDEX conversations_pending ON conversations(workspace_id, channel_id, assignee_id, team_id, is_group, contact_id,
    identity_id, last_message_author, owned_by_bot, last_activity_at, status, unanswered)
    INCLUDE (id, search_text, search_phone, tag_ids)
    WHERE status = 'open' AND unanswered = 1;
-- Statistics for the new indexes, on a database that has rows. An empty table is left
-- unanalyzed: PostgreSQL then plans it as at least 10 pages until autovacuum's first
-- ANALYZE, whereas statistics saying "empty" made the generic plans cached in the first
-- seconds scan the whole table for every message until then (10 ms at 10,000 rows).
DO $$ BEGIN IF EXISTS (SELECT 1 FROM conversations) THEN ANALYZE conversations; END IF; END $$;
