-- New messages reach the full-text index (message_search, 0007) once per group commit instead
-- of once per message. FTS5 writes its pending terms to disk as a new segment whenever a
-- savepoint begins, and every statement that fires a trigger opens one (its statement
-- journal): inserting the message straight into the index from its trigger made one segment
-- per message, and merging them took a fifth of the writer's time on the ingest path. The
-- trigger now queues the message; the SQLite writer moves the queue into the index just before
-- each COMMIT, in the same transaction (sql/mod.rs, `SearchQueue`), so a committed
-- message is always searchable and nothing is queued across commits. SQLite only: PostgreSQL's
-- index is on the messages table itself.
CREATE TABLE message_search_queue (
    key INTEGER PRIMARY KEY,
    text TEXT NOT NULL
);
DROP TRIGGER message_search_ai;
DROP TRIGGER message_search_ad;
DROP TRIGGER message_search_au;
CREATE TRIGGER message_search_ai AFTER INSERT ON messages WHEN new.hidden = 0 BEGIN
    INSERT INTO message_search_queue(key, text) VALUES ((new.id << 28) | (new.conversation_id & 268435455), new.text);
END;
-- A message still queued is not in the index yet: it leaves the queue instead (deleting from an
-- external-content index what it does not hold would damage it).
CREATE TRIGGER message_search_ad AFTER DELETE ON messages WHEN old.hidden = 0 BEGIN
    INSERT INTO message_search(message_search, rowid, text)
        SELECT 'delete', k, old.text FROM (SELECT (old.id << 28) | (old.conversation_id & 268435455) AS k)
        WHERE NOT EXISTS (SELECT 1 FROM message_search_queue WHERE key = k);
    DELETE FROM message_search_queue WHERE key = (old.id << 28) | (old.conversation_id & 268435455);
END;
CREATE TRIGGER message_search_au AFTER UPDATE OF text ON messages WHEN new.hidden = 0 BEGIN
    INSERT INTO message_search(message_search, rowid, text)
        SELECT 'delete', k, old.text FROM (SELECT (old.id << 28) | (old.conversation_id & 268435455) AS k)
        WHERE NOT EXISTS (SELECT 1 FROM message_search_queue WHERE key = k);
    DELETE FROM message_search_queue WHERE key = (old.id << 28) | (old.conversation_id & 268435455);
    INSERT INTO message_search_queue(key, text)
        VALUES ((new.id << 28) | (new.conversation_id & 268435455), new.text);
END;

-- The same for the trigram index of the conversations' search copy (0007): a new sender's
-- conversation is indexed at the group's COMMIT, not in the middle of its request.
CREATE TABLE conversation_search_queue (
    id INTEGER PRIMARY KEY,
    search_text TEXT NOT NULL,
    search_phone TEXT NOT NULL
);
DROP TRIGGER conversations_fts_ad;
DROP TRIGGER conversations_fts_au;
CREATE TRIGGER conversations_fts_ad AFTER DELETE ON conversations WHEN old.search_text <> '' BEGIN
    INSERT INTO conversations_fts(conversations_fts, rowid, search_text, search_phone)
        SELECT 'delete', old.id, old.search_text, old.search_phone
        WHERE NOT EXISTS (SELECT 1 FROM conversation_search_queue WHERE id = old.id);
    DELETE FROM conversation_search_queue WHERE id = old.id;
END;
CREATE TRIGGER conversations_fts_au AFTER UPDATE OF search_text, search_phone ON conversations BEGIN
    INSERT INTO conversations_fts(conversations_fts, rowid, search_text, search_phone)
        SELECT 'delete', old.id, old.search_text, old.search_phone
        WHERE old.search_text <> '' AND NOT EXISTS (SELECT 1 FROM conversation_search_queue WHERE id = old.id);
    DELETE FROM conversation_search_queue WHERE id = old.id;
    INSERT INTO conversation_search_queue(id, search_text, search_phone)
        SELECT new.id, new.search_text, new.search_phone WHERE new.search_text <> '';
END;
