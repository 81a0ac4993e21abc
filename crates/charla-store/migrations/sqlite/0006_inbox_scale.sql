-- The inbox at millions of conversations. Keep in step with ../postgres/0006_inbox_scale.sql.
--
-- Each page of the conversation list walks one index in its sort order (store: sql/inbox.rs,
-- `branches`): the whole workspace (admins), one assignee (Mine, Unassigned, an agent's own),
-- one channel (agents who see all of their channels; the channel filter). Processing order
-- sorts on COALESCE(due_at, ...), so the indexes carry that expression. They end with the
-- columns visibility, the channel and tag filters and search look at, so that walking them
-- needs no row until one is kept.

DROP INDEX conversations_processing;
DROP INDEX conversations_assignee;
DROP INDEX conversations_channel;
CREATE INDEX conversations_processing ON conversations(workspace_id, unanswered DESC, COALESCE(due_at, 9000000000000000),
    last_activity_at DESC, id DESC, channel_id, assignee_id, team_id, is_group, contact_id, identity_id);
CREATE INDEX conversations_activity_all ON conversations(workspace_id, last_activity_at DESC, id DESC,
    channel_id, assignee_id, team_id, is_group, contact_id, identity_id);
CREATE INDEX conversations_assignee_processing ON conversations(workspace_id, assignee_id, unanswered DESC,
    COALESCE(due_at, 9000000000000000), last_activity_at DESC, id DESC, channel_id, team_id, is_group, contact_id, identity_id);
CREATE INDEX conversations_assignee ON conversations(workspace_id, assignee_id, last_activity_at DESC, id DESC,
    channel_id, team_id, is_group, contact_id, identity_id);
CREATE INDEX conversations_channel_processing ON conversations(workspace_id, channel_id, unanswered DESC,
    COALESCE(due_at, 9000000000000000), last_activity_at DESC, id DESC, assignee_id, team_id, is_group, contact_id, identity_id);
CREATE INDEX conversations_channel ON conversations(workspace_id, channel_id, last_activity_at DESC, id DESC,
    assignee_id, team_id, is_group, contact_id, identity_id);
DROP INDEX conversations_activity;

-- The pending counters count exactly these rows, with every column visibility and the
-- filters look at (so that it covers them).
CREATE INDEX conversations_pending ON conversations(workspace_id, channel_id, assignee_id, team_id, is_group, contact_id,
    identity_id, last_message_author, owned_by_bot, last_activity_at, status, unanswered)
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

-- An identity's name is searched on its own only where it says more than its contact's name
-- (a messenger profile name, a detached conversation): otherwise the contact's search text
-- finds the same conversations, and one set of matches instead of two keeps common terms
-- cheap. Contentless (what is indexed is decided here), rows deleted by id.
CREATE VIRTUAL TABLE identities_fts USING fts5(name, content='', contentless_delete=1, tokenize='trigram');
CREATE TRIGGER identities_fts_ai AFTER INSERT ON contact_identities
WHEN new.contact_id IS NULL OR lower(new.name) <> lower(COALESCE((SELECT name FROM contacts WHERE id = new.contact_id), ''))
BEGIN
    INSERT INTO identities_fts(rowid, name) VALUES (new.id, new.name);
END;
CREATE TRIGGER identities_fts_ad AFTER DELETE ON contact_identities BEGIN
    DELETE FROM identities_fts WHERE rowid = old.id;
END;
CREATE TRIGGER identities_fts_au AFTER UPDATE OF name, contact_id ON contact_identities BEGIN
    DELETE FROM identities_fts WHERE rowid = old.id;
    INSERT INTO identities_fts(rowid, name) SELECT new.id, new.name
    WHERE new.contact_id IS NULL OR lower(new.name) <> lower(COALESCE((SELECT name FROM contacts WHERE id = new.contact_id), ''));
END;
CREATE TRIGGER identities_fts_contact_name AFTER UPDATE OF name ON contacts BEGIN
    DELETE FROM identities_fts WHERE rowid IN (SELECT id FROM contact_identities WHERE contact_id = new.id);
    INSERT INTO identities_fts(rowid, name) SELECT id, name FROM contact_identities
    WHERE contact_id = new.id AND lower(name) <> lower(new.name);
END;
INSERT INTO identities_fts(rowid, name)
SELECT i.id, i.name FROM contact_identities i LEFT JOIN contacts k ON k.id = i.contact_id
WHERE k.id IS NULL OR lower(i.name) <> lower(k.name);
