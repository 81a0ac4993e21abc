-- The tag filter reads a copy of the contact's tags on each conversation, as on PostgreSQL
-- (its migration 0011).
--
-- A tag filter walks a section's order and keeps the conversations whose contact has the tags:
-- each walked row looked its contact up in `contact_tags`. Warm, that lookup is cheap; on pages
-- the OS has dropped it is a disk read per walked row (hundreds for one page of a channel): the
-- bench's tag + channel p99 moved between 12 and 27 ms from run to run. With the tags copied
-- into the inbox indexes the walk reads them alone. `tag_ids` is ',' followed by each tag id and
-- a comma, ascending (',6,8,'); ',' without tags. Triggers keep it current: a new conversation
-- whose contact has tags, its contact changed (merge, detach), tags added to or removed from a
-- contact. A new sender's conversation has no tags, and its row is not written again for them.
-- (The ids are ordered by a subquery, not group_concat's own ORDER BY: that needs SQLite 3.44,
-- and an older sqlite3 shell could not read the schema.)

ALTER TABLE conversations ADD COLUMN tag_ids TEXT NOT NULL DEFAULT ',';

UPDATE conversations SET tag_ids = ',' || (SELECT group_concat(x.tag_id, ',') FROM
        (SELECT t.tag_id FROM contact_tags t WHERE t.contact_id = conversations.contact_id ORDER BY t.tag_id) x) || ','
WHERE contact_id IN (SELECT contact_id FROM contact_tags);

CREATE TRIGGER conversations_tags_ai AFTER INSERT ON conversations
WHEN EXISTS (SELECT 1 FROM contact_tags t WHERE t.contact_id = new.contact_id) BEGIN
    UPDATE conversations SET tag_ids = ',' || (SELECT group_concat(x.tag_id, ',') FROM
        (SELECT t.tag_id FROM contact_tags t WHERE t.contact_id = new.contact_id ORDER BY t.tag_id) x) || ','
    WHERE id = new.id;
END;
CREATE TRIGGER conversations_tags_au AFTER UPDATE OF contact_id ON conversations
WHEN old.contact_id IS NOT new.contact_id BEGIN
    UPDATE conversations SET tag_ids = ',' || COALESCE((SELECT group_concat(x.tag_id, ',') || ',' FROM
        (SELECT t.tag_id FROM contact_tags t WHERE t.contact_id = new.contact_id ORDER BY t.tag_id) x), '')
    WHERE id = new.id;
END;
CREATE TRIGGER contact_tags_conversations_ai AFTER INSERT ON contact_tags BEGIN
    UPDATE conversations SET tag_ids = ',' || COALESCE((SELECT group_concat(x.tag_id, ',') || ',' FROM
        (SELECT t.tag_id FROM contact_tags t WHERE t.contact_id = new.contact_id ORDER BY t.tag_id) x), '')
    WHERE contact_id = new.contact_id;
END;
CREATE TRIGGER contact_tags_conversations_ad AFTER DELETE ON contact_tags BEGIN
    UPDATE conversations SET tag_ids = ',' || COALESCE((SELECT group_concat(x.tag_id, ',') || ',' FROM
        (SELECT t.tag_id FROM contact_tags t WHERE t.contact_id = old.contact_id ORDER BY t.tag_id) x), '')
    WHERE contact_id = old.contact_id;
END;
CREATE TRIGGER contact_tags_conversations_au AFTER UPDATE ON contact_tags BEGIN
    UPDATE conversations SET tag_ids = ',' || COALESCE((SELECT group_concat(x.tag_id, ',') || ',' FROM
        (SELECT t.tag_id FROM contact_tags t WHERE t.contact_id = conversations.contact_id ORDER BY t.tag_id) x), '')
    WHERE contact_id IN (old.contact_id, new.contact_id);
END;

-- Every inbox order and the pending counters carry the copy (last: it is only read, never
-- sorted on), and the inbox orders the copy of contact search too (0007, 0009), as the pending
-- counters' index already did: a search for a name too common to gather its matches as a set
-- (over 5,000 conversations: sql/inbox.rs, `SEARCH_SET_MAX`) checks each walked row's copy, which was a read of the table per
-- row (an agent's search for "marta": its page 5-18 ms).
DROP INDEX conversations_processing;
CREATE INDEX conversations_processing ON conversations(workspace_id, unanswered DESC, COALESCE(due_at, 9000000000000000),
    last_activity_at DESC, id DESC, channel_id, assignee_id, team_id, is_group, contact_id, identity_id, tag_ids,
    search_text, search_phone);
DROP INDEX conversations_activity_all;
CREATE INDEX conversations_activity_all ON conversations(workspace_id, last_activity_at DESC, id DESC,
    channel_id, assignee_id, team_id, is_group, contact_id, identity_id, tag_ids,
    search_text, search_phone);
DROP INDEX conversations_assignee_processing;
CREATE INDEX conversations_assignee_processing ON conversations(workspace_id, assignee_id, unanswered DESC,
    COALESCE(due_at, 9000000000000000), last_activity_at DESC, id DESC, channel_id, team_id, is_group, contact_id, identity_id,
    tag_ids, search_text, search_phone);
DROP INDEX conversations_assignee;
CREATE INDEX conversations_assignee ON conversations(workspace_id, assignee_id, last_activity_at DESC, id DESC,
    channel_id, team_id, is_group, contact_id, identity_id, tag_ids,
    search_text, search_phone);
DROP INDEX conversations_channel_processing;
CREATE INDEX conversations_channel_processing ON conversations(workspace_id, channel_id, unanswered DESC,
    COALESCE(due_at, 9000000000000000), last_activity_at DESC, id DESC, assignee_id, team_id, is_group, contact_id, identity_id,
    tag_ids, search_text, search_phone);
DROP INDEX conversations_channel;
CREATE INDEX conversations_channel ON conversations(workspace_id, channel_id, last_activity_at DESC, id DESC,
    assignee_id, team_id, is_group, contact_id, identity_id, tag_ids,
    search_text, search_phone);
DROP INDEX conversations_pending;
CREATE INDEX conversations_pending ON conversations(workspace_id, channel_id, assignee_id, team_id, is_group, contact_id,
    identity_id, last_message_author, owned_by_bot, last_activity_at, status, unanswered, search_text, search_phone, tag_ids)
    WHERE status = 'open' AND unanswered = 1;

-- A new conversation comes with its copy of contact search (the store's insert reads it from
-- the contact and the identity), so that its row is not written again at once: every inbox
-- index carries the copy now. The trigger that made the copy is left for an insert without it,
-- and the copy's way into the trigram index (a queue, 0010, until now reached through that
-- trigger's UPDATE) gets a trigger of its own.
DROP TRIGGER conversations_search_ai;
CREATE TRIGGER conversations_search_ai AFTER INSERT ON conversations WHEN new.search_text = '' BEGIN
    UPDATE conversations SET
        search_text = COALESCE((SELECT k.search_text FROM contacts k WHERE k.id = new.contact_id), '')
            || char(31) || COALESCE((SELECT i.search_name FROM contact_identities i WHERE i.id = new.identity_id), ''),
        search_phone = COALESCE((SELECT k.phone_digits FROM contacts k WHERE k.id = new.contact_id), '')
    WHERE id = new.id;
END;
CREATE TRIGGER conversations_fts_ai AFTER INSERT ON conversations WHEN new.search_text <> '' BEGIN
    INSERT INTO conversation_search_queue(id, search_text, search_phone)
        VALUES (new.id, new.search_text, new.search_phone);
END;
