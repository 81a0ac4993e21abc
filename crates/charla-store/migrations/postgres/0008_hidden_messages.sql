-- The daily purge of blocked contacts' messages older than 30 days (sql/conversations.rs,
-- `purge_hidden_messages`) reads only these rows instead of every message. Hidden messages
-- are few. Keep in step with ../sqlite/0008_hidden_messages.sql.
CREATE INDEX messages_hidden ON messages(created_at) WHERE hidden = 1;
