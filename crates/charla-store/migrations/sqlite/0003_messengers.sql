-- Messenger channels (WhatsApp, Telegram, Instagram), SQLite dialect.
-- Keep in step with ../postgres/0003_messengers.sql.

-- What the provider says about an identity (WhatsApp profile, Telegram user, Instagram user).
ALTER TABLE contact_identities ADD COLUMN username TEXT;
ALTER TABLE contact_identities ADD COLUMN first_name TEXT;
ALTER TABLE contact_identities ADD COLUMN last_name TEXT;
ALTER TABLE contact_identities ADD COLUMN phone TEXT;           -- E.164
ALTER TABLE contact_identities ADD COLUMN updated_at INTEGER;

-- The template an outbound message was sent from (its text is the filled body).
ALTER TABLE messages ADD COLUMN template_name TEXT;
ALTER TABLE messages ADD COLUMN template_language TEXT;
ALTER TABLE messages ADD COLUMN template_params TEXT;           -- JSON array of strings

-- Event lines from a provider (reactions, edits, unsupported types) are deduplicated like
-- inbound messages.
CREATE UNIQUE INDEX messages_event_provider ON messages(channel_id, provider_id)
    WHERE kind = 'event' AND provider_id IS NOT NULL;

-- Every id a provider gave an outbound message (a message with several attachments is several
-- provider messages): receipts and quotes find the message by any of them.
CREATE TABLE message_provider_ids (
    channel_id INTEGER NOT NULL,
    provider_id TEXT NOT NULL,
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    PRIMARY KEY (channel_id, provider_id)
);
CREATE INDEX message_provider_ids_message ON message_provider_ids(message_id);

-- Receipts for a provider id not known yet (the receipt overtook the send's answer); applied
-- when the send is recorded, forgotten after a week.
CREATE TABLE pending_receipts (
    channel_id INTEGER NOT NULL,
    provider_id TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (channel_id, provider_id)
);
CREATE INDEX pending_receipts_created ON pending_receipts(created_at);

CREATE TABLE templates (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    channel_id INTEGER NOT NULL REFERENCES channels(id),
    name TEXT NOT NULL,
    language TEXT NOT NULL,
    category TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    rejection_reason TEXT,
    provider_id TEXT,
    updated_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX templates_name ON templates(channel_id, name, language);
