-- The inbox at millions of conversations. Keep in step with ../postgres/0006_inbox_scale.sql.
--
-- Each page of the conversation list walks one index in its sort order (store: sql/inbox.rs,
-- `branches`): the whole workspace (admins), one assignee (Mine, Unassigned, an agent's own),
-- one channel (agents who see all of their channels; the channel filter). Processing order
-- sorts on COALESCE(due_at, ...), so the indexes carry that expression.

DROP INDEX conversations_processing;
CREATE INDEX conversations_processing ON conversations(workspace_id, unanswered DESC, COALESCE(due_at, 9000000000000000), last_activity_at DESC, id DESC);
CREATE INDEX conversations_assignee_processing ON conversations(workspace_id, assignee_id, unanswered DESC, COALESCE(due_at, 9000000000000000), last_activity_at DESC, id DESC);
CREATE INDEX conversations_channel_processing ON conversations(workspace_id, channel_id, unanswered DESC, COALESCE(due_at, 9000000000000000), last_activity_at DESC, id DESC);
DROP INDEX conversations_assignee;
CREATE INDEX conversations_assignee ON conversations(workspace_id, assignee_id, last_activity_at DESC, id DESC);
DROP INDEX conversations_channel;
CREATE INDEX conversations_channel ON conversations(workspace_id, channel_id, last_activity_at DESC, id DESC);

-- The pending counters count exactly these rows, with every column visibility looks at.
CREATE INDEX conversations_pending ON conversations(workspace_id, channel_id, assignee_id, team_id, is_group, contact_id, status, unanswered)
    WHERE status = 'open' AND unanswered = 1;

-- Substring search from 4 characters: trigram indexes over the contacts' search text and phone
-- digits, and over identity names (external content: the text lives in the tables).
CREATE VIRTUAL TABLE contacts_fts USING fts5(search_text, phone_digits, content='contacts', content_rowid='id', tokenize='trigram');
CREATE TRIGGER contacts_fts_ai AFTER INSERT ON contacts BEGIN
    INSERT INTO contacts_fts(rowid, search_text, phone_digits) VALUES (new.id, new.search_text, new.phone_digits);
END;
CREATE TRIGGER contacts_fts_ad AFTER DELETE ON contacts BEGIN
    INSERT INTO contacts_fts(contacts_fts, rowid, search_text, phone_digits) VALUES ('delete', old.id, old.search_text, old.phone_digits);
END;
CREATE TRIGGER contacts_fts_au AFTER UPDATE OF search_text, phone_digits ON contacts BEGIN
    INSERT INTO contacts_fts(contacts_fts, rowid, search_text, phone_digits) VALUES ('delete', old.id, old.search_text, old.phone_digits);
    INSERT INTO contacts_fts(rowid, search_text, phone_digits) VALUES (new.id, new.search_text, new.phone_digits);
END;
INSERT INTO contacts_fts(contacts_fts) VALUES ('rebuild');

CREATE VIRTUAL TABLE identities_fts USING fts5(name, content='contact_identities', content_rowid='id', tokenize='trigram');
CREATE TRIGGER identities_fts_ai AFTER INSERT ON contact_identities BEGIN
    INSERT INTO identities_fts(rowid, name) VALUES (new.id, new.name);
END;
CREATE TRIGGER identities_fts_ad AFTER DELETE ON contact_identities BEGIN
    INSERT INTO identities_fts(identities_fts, rowid, name) VALUES ('delete', old.id, old.name);
END;
CREATE TRIGGER identities_fts_au AFTER UPDATE OF name ON contact_identities BEGIN
    INSERT INTO identities_fts(identities_fts, rowid, name) VALUES ('delete', old.id, old.name);
    INSERT INTO identities_fts(rowid, name) VALUES (new.id, new.name);
END;
INSERT INTO identities_fts(identities_fts) VALUES ('rebuild');
