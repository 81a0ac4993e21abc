-- Inbox search at millions of conversations. Keep in step with ../postgres/0007_conversation_search.sql.
--
-- What contact search looks at, copied onto each conversation: its contact's search text
-- (lower-cased name, e-mail, username), then the identity's name (unit separator between), and
-- the contact's phone digits. A search then reads one trigram index that yields conversations
-- (not contacts, then their conversations), and a scan checks the row it is on instead of
-- joining contacts and identities. Triggers keep the copy current whatever the write path:
-- a new conversation, a contact edited, merged or detached, an identity renamed.

ALTER TABLE conversations ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN search_phone TEXT NOT NULL DEFAULT '';

UPDATE conversations SET
    search_text = COALESCE((SELECT k.search_text FROM contacts k WHERE k.id = conversations.contact_id), '')
        || char(31) || COALESCE((SELECT lower(i.name) FROM contact_identities i WHERE i.id = conversations.identity_id), ''),
    search_phone = COALESCE((SELECT k.phone_digits FROM contacts k WHERE k.id = conversations.contact_id), '');

CREATE TRIGGER conversations_search_ai AFTER INSERT ON conversations BEGIN
    UPDATE conversations SET
        search_text = COALESCE((SELECT k.search_text FROM contacts k WHERE k.id = new.contact_id), '')
            || char(31) || COALESCE((SELECT lower(i.name) FROM contact_identities i WHERE i.id = new.identity_id), ''),
        search_phone = COALESCE((SELECT k.phone_digits FROM contacts k WHERE k.id = new.contact_id), '')
    WHERE id = new.id;
END;
-- Only when they change: every message saves its conversation's row, contact_id included.
CREATE TRIGGER conversations_search_au AFTER UPDATE OF contact_id, identity_id ON conversations
WHEN old.contact_id IS NOT new.contact_id OR old.identity_id IS NOT new.identity_id BEGIN
    UPDATE conversations SET
        search_text = COALESCE((SELECT k.search_text FROM contacts k WHERE k.id = new.contact_id), '')
            || char(31) || COALESCE((SELECT lower(i.name) FROM contact_identities i WHERE i.id = new.identity_id), ''),
        search_phone = COALESCE((SELECT k.phone_digits FROM contacts k WHERE k.id = new.contact_id), '')
    WHERE id = new.id;
END;
CREATE TRIGGER contacts_search_conversations AFTER UPDATE OF search_text, phone_digits ON contacts BEGIN
    UPDATE conversations SET
        search_text = new.search_text || char(31)
            || COALESCE((SELECT lower(i.name) FROM contact_identities i WHERE i.id = conversations.identity_id), ''),
        search_phone = new.phone_digits
    WHERE contact_id = new.id;
END;
CREATE TRIGGER identities_search_conversations AFTER UPDATE OF name ON contact_identities BEGIN
    UPDATE conversations SET
        search_text = COALESCE((SELECT k.search_text FROM contacts k WHERE k.id = conversations.contact_id), '')
            || char(31) || lower(new.name)
    WHERE identity_id = new.id;
END;

-- The trigram index over the copy (external content: the text lives in conversations). A new
-- conversation is indexed when conversations_search_ai fills its copy (an empty copy is never
-- indexed, so there is nothing to delete before the first fill).
CREATE VIRTUAL TABLE conversations_fts USING fts5(search_text, search_phone, content='conversations', content_rowid='id', tokenize='trigram');
CREATE TRIGGER conversations_fts_ad AFTER DELETE ON conversations WHEN old.search_text <> '' BEGIN
    INSERT INTO conversations_fts(conversations_fts, rowid, search_text, search_phone) VALUES ('delete', old.id, old.search_text, old.search_phone);
END;
CREATE TRIGGER conversations_fts_au AFTER UPDATE OF search_text, search_phone ON conversations BEGIN
    INSERT INTO conversations_fts(conversations_fts, rowid, search_text, search_phone)
        SELECT 'delete', old.id, old.search_text, old.search_phone WHERE old.search_text <> '';
    INSERT INTO conversations_fts(rowid, search_text, search_phone)
        SELECT new.id, new.search_text, new.search_phone WHERE new.search_text <> '';
END;
INSERT INTO conversations_fts(conversations_fts) VALUES ('rebuild');

-- The contacts' and identities' own trigram indexes served only the inbox search.
DROP TRIGGER contacts_fts_ai;
DROP TRIGGER contacts_fts_ad;
DROP TRIGGER contacts_fts_au;
DROP TABLE contacts_fts;
DROP TRIGGER identities_fts_ai;
DROP TRIGGER identities_fts_ad;
DROP TRIGGER identities_fts_au;
DROP TRIGGER identities_fts_contact_name;
DROP TABLE identities_fts;

-- Full-text search over messages that yields conversations from the index alone: each visible
-- message is indexed under the key (id << 28) | conversation_id, so the index reads the
-- conversation of a match instead of the search looking every matching message up (a common
-- word is in tens of thousands). Keys grow with message ids, as the index's writes want (out
-- of order they would flush its buffer on every message). Exact while conversation ids are
-- below 2^28 and message ids below 2^35; past that the store looks matches up in messages
-- (sql/inbox.rs, `messages_index_is_exact`). Hidden messages (blocked contacts) are not
-- indexed: search never shows them.
CREATE VIEW message_search_rows AS
    SELECT (id << 28) | (conversation_id & 268435455) AS key, text FROM messages WHERE hidden = 0;
CREATE VIRTUAL TABLE message_search USING fts5(text, content='message_search_rows', content_rowid='key',
    tokenize='unicode61 remove_diacritics 2');
CREATE TRIGGER message_search_ai AFTER INSERT ON messages WHEN new.hidden = 0 BEGIN
    INSERT INTO message_search(rowid, text) VALUES ((new.id << 28) | (new.conversation_id & 268435455), new.text);
END;
CREATE TRIGGER message_search_ad AFTER DELETE ON messages WHEN old.hidden = 0 BEGIN
    INSERT INTO message_search(message_search, rowid, text)
        VALUES ('delete', (old.id << 28) | (old.conversation_id & 268435455), old.text);
END;
CREATE TRIGGER message_search_au AFTER UPDATE OF text ON messages WHEN new.hidden = 0 BEGIN
    INSERT INTO message_search(message_search, rowid, text)
        VALUES ('delete', (old.id << 28) | (old.conversation_id & 268435455), old.text);
    INSERT INTO message_search(rowid, text) VALUES ((new.id << 28) | (new.conversation_id & 268435455), new.text);
END;
DROP TRIGGER messages_fts_ai;
DROP TRIGGER messages_fts_ad;
DROP TRIGGER messages_fts_au;
DROP TABLE messages_fts;
INSERT INTO message_search(message_search) VALUES ('rebuild');
