-- Unread counts (sql/inbox.rs, `load_read_states`, `unread_conversations`) count a
-- conversation's visible inbound messages after the last one read: from the index of messages
-- by conversation alone once it carries kind and hidden (before, each of the conversation's
-- messages was read from the table: hundreds of rows for a page of the inbox). History pages
-- walk the same index as before. Keep in step with ../postgres/0009_inbox_reads.sql.
DROP INDEX messages_conversation;
CREATE INDEX messages_conversation ON messages(conversation_id, id DESC, kind, hidden);

-- Contact search compares the lower-cased term with the copy on each conversation (0007), by
-- its trigram index or, for a term that matches a great many, by reading the copy of each
-- conversation walked. Both need the identity's name lower-cased the way the term is (SQLite's
-- lower() folds only A-Z): the store writes it beside the name, and the copy reads it.
ALTER TABLE contact_identities ADD COLUMN search_name TEXT NOT NULL DEFAULT '';
UPDATE contact_identities SET search_name = lower(name);
DROP TRIGGER conversations_search_ai;
DROP TRIGGER conversations_search_au;
DROP TRIGGER contacts_search_conversations;
DROP TRIGGER identities_search_conversations;
CREATE TRIGGER conversations_search_ai AFTER INSERT ON conversations BEGIN
    UPDATE conversations SET
        search_text = COALESCE((SELECT k.search_text FROM contacts k WHERE k.id = new.contact_id), '')
            || char(31) || COALESCE((SELECT i.search_name FROM contact_identities i WHERE i.id = new.identity_id), ''),
        search_phone = COALESCE((SELECT k.phone_digits FROM contacts k WHERE k.id = new.contact_id), '')
    WHERE id = new.id;
END;
CREATE TRIGGER conversations_search_au AFTER UPDATE OF contact_id, identity_id ON conversations
WHEN old.contact_id IS NOT new.contact_id OR old.identity_id IS NOT new.identity_id BEGIN
    UPDATE conversations SET
        search_text = COALESCE((SELECT k.search_text FROM contacts k WHERE k.id = new.contact_id), '')
            || char(31) || COALESCE((SELECT i.search_name FROM contact_identities i WHERE i.id = new.identity_id), ''),
        search_phone = COALESCE((SELECT k.phone_digits FROM contacts k WHERE k.id = new.contact_id), '')
    WHERE id = new.id;
END;
CREATE TRIGGER contacts_search_conversations AFTER UPDATE OF search_text, phone_digits ON contacts BEGIN
    UPDATE conversations SET
        search_text = new.search_text || char(31)
            || COALESCE((SELECT i.search_name FROM contact_identities i WHERE i.id = conversations.identity_id), ''),
        search_phone = new.phone_digits
    WHERE contact_id = new.id;
END;
CREATE TRIGGER identities_search_conversations AFTER UPDATE OF search_name ON contact_identities BEGIN
    UPDATE conversations SET
        search_text = COALESCE((SELECT k.search_text FROM contacts k WHERE k.id = conversations.contact_id), '')
            || char(31) || new.search_name
    WHERE identity_id = new.id;
END;

-- The pending counters of such a search read the copy from their index alone.
DROP INDEX conversations_pending;
CREATE INDEX conversations_pending ON conversations(workspace_id, channel_id, assignee_id, team_id, is_group, contact_id,
    identity_id, last_message_author, owned_by_bot, last_activity_at, status, unanswered, search_text, search_phone)
    WHERE status = 'open' AND unanswered = 1;
