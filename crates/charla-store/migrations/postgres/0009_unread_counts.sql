-- Unread counts (sql/inbox.rs, `load_read_states`, `unread_conversations`) count a
-- conversation's visible inbound messages after the last one read: from the index of messages
-- by conversation alone (index-only) once it carries kind and hidden (before, each of the
-- conversation's messages was read from the table: hundreds of rows for a page of the
-- inbox). History pages walk the same index as before. Keep in step with
-- ../sqlite/0009_unread_counts.sql.
DROP INDEX messages_conversation;
CREATE INDEX messages_conversation ON messages(conversation_id, id DESC) INCLUDE (kind, hidden);
