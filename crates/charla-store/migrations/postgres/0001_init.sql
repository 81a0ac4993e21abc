-- Charla schema, PostgreSQL dialect. Times are Unix milliseconds (BIGINT); booleans 0/1.
-- Keep in step with ../sqlite/0001_init.sql: same tables, columns and meanings.

CREATE TABLE server_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE workspaces (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    email TEXT NOT NULL,               -- stored lower-cased; unique across the server (login)
    name TEXT NOT NULL,
    display_name TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    flags BIGINT NOT NULL DEFAULT 0,
    language TEXT NOT NULL DEFAULT 'en',
    presence TEXT NOT NULL DEFAULT 'offline',
    last_activity_at BIGINT,
    last_assigned_at BIGINT,
    max_concurrent BIGINT NOT NULL DEFAULT 10,
    active BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_email ON users(email);
CREATE INDEX users_workspace ON users(workspace_id);

CREATE TABLE teams (
    id BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL
);
CREATE TABLE team_members (
    team_id BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id),
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members(user_id);

CREATE TABLE channels (
    id BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    secret TEXT NOT NULL,
    webhook_url TEXT,
    routing_mode TEXT NOT NULL DEFAULT 'manual',
    max_message_length BIGINT NOT NULL,
    auto_close_after_secs BIGINT,
    response_time_limit_secs BIGINT NOT NULL DEFAULT 900,
    greeting TEXT,
    settings TEXT NOT NULL DEFAULT '{}',
    active BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL
);
CREATE INDEX channels_workspace ON channels(workspace_id);
CREATE TABLE channel_members (
    channel_id BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id),
    PRIMARY KEY (channel_id, user_id)
);
CREATE INDEX channel_members_user ON channel_members(user_id);

CREATE TABLE contacts (
    id BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    phone TEXT,
    phone_digits TEXT NOT NULL DEFAULT '',   -- digits only, for search whatever the format
    email TEXT,
    avatar_url TEXT,
    telegram_username TEXT,
    telegram_id TEXT,
    source TEXT,
    custom_attributes TEXT NOT NULL DEFAULT '{}',
    search_text TEXT NOT NULL DEFAULT '',    -- lower-cased name, e-mail, username
    blocked BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX contacts_workspace ON contacts(workspace_id, id);

CREATE TABLE contact_identities (
    id BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    channel_id BIGINT NOT NULL REFERENCES channels(id),
    external_id TEXT NOT NULL,
    contact_id BIGINT REFERENCES contacts(id),
    name TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX contact_identities_external ON contact_identities(channel_id, external_id);
CREATE INDEX contact_identities_contact ON contact_identities(contact_id);

CREATE TABLE tags (
    id BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    color TEXT NOT NULL DEFAULT '#888888',
    pinned BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX tags_name ON tags(workspace_id, name);
CREATE TABLE contact_tags (
    contact_id BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    tag_id BIGINT NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    PRIMARY KEY (contact_id, tag_id)
);
CREATE INDEX contact_tags_tag ON contact_tags(tag_id);

CREATE TABLE close_reasons (
    id BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL
);
CREATE UNIQUE INDEX close_reasons_name ON close_reasons(workspace_id, name);

CREATE TABLE canned_responses (
    id BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    owner_id BIGINT REFERENCES users(id),
    shortcut TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX canned_responses_workspace ON canned_responses(workspace_id, shortcut);

-- One row per conversation, carrying the state of its current attention so the inbox is
-- one indexed query.
CREATE TABLE conversations (
    id BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    channel_id BIGINT NOT NULL REFERENCES channels(id),
    identity_id BIGINT NOT NULL REFERENCES contact_identities(id),
    contact_id BIGINT REFERENCES contacts(id),
    is_group BIGINT NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    attention_id BIGINT,
    assignee_id BIGINT REFERENCES users(id),
    team_id BIGINT REFERENCES teams(id),
    snoozed_until BIGINT,
    unanswered BIGINT NOT NULL DEFAULT 0,
    no_reply_needed BIGINT NOT NULL DEFAULT 0,
    waiting_since BIGINT,
    due_at BIGINT,
    owned_by_bot BIGINT NOT NULL DEFAULT 0,
    last_message_id BIGINT,
    last_message_preview TEXT,
    last_message_author TEXT,
    last_inbound_at BIGINT,
    last_activity_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX conversations_identity ON conversations(identity_id);
CREATE INDEX conversations_activity ON conversations(workspace_id, last_activity_at DESC, id DESC);
CREATE INDEX conversations_processing ON conversations(workspace_id, unanswered DESC, due_at, last_activity_at DESC, id DESC);
CREATE INDEX conversations_assignee ON conversations(workspace_id, assignee_id, last_activity_at DESC);
CREATE INDEX conversations_channel ON conversations(workspace_id, channel_id, last_activity_at DESC);
CREATE INDEX conversations_contact ON conversations(contact_id);

CREATE TABLE attentions (
    id BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    conversation_id BIGINT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    assignee_id BIGINT REFERENCES users(id),
    team_id BIGINT REFERENCES teams(id),
    opened_at BIGINT NOT NULL,
    closed_at BIGINT,
    close_reason TEXT,
    first_response_at BIGINT
);
CREATE INDEX attentions_conversation ON attentions(conversation_id, id);
CREATE INDEX attentions_assignee ON attentions(assignee_id, status);

CREATE TABLE messages (
    id BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    conversation_id BIGINT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    attention_id BIGINT,
    channel_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    author_type TEXT NOT NULL,
    author_id BIGINT,
    author_name TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL DEFAULT '',
    reply_to BIGINT,
    client_msg_id TEXT,
    provider_id TEXT,
    status TEXT NOT NULL,
    error TEXT,
    hidden BIGINT NOT NULL DEFAULT 0,   -- inbound from a blocked contact: kept, not shown
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX messages_conversation ON messages(conversation_id, id DESC);
CREATE UNIQUE INDEX messages_inbound_provider ON messages(channel_id, provider_id) WHERE kind = 'inbound';
CREATE UNIQUE INDEX messages_client_msg ON messages(conversation_id, client_msg_id) WHERE client_msg_id IS NOT NULL;

-- Full-text index over message text.
CREATE INDEX messages_fts ON messages USING GIN (to_tsvector('simple', text));

CREATE TABLE attachments (
    id BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    message_id BIGINT REFERENCES messages(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    storage_key TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX attachments_message ON attachments(message_id);

CREATE TABLE read_states (
    user_id BIGINT NOT NULL REFERENCES users(id),
    conversation_id BIGINT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    last_read_message_id BIGINT,
    marked_unread BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, conversation_id)
);
CREATE INDEX read_states_conversation ON read_states(conversation_id);

CREATE TABLE drafts (
    user_id BIGINT NOT NULL REFERENCES users(id),
    conversation_id BIGINT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    text TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, conversation_id)
);

CREATE TABLE notifications (
    id BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    conversation_id BIGINT,
    text TEXT NOT NULL,
    read BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX notifications_user ON notifications(user_id, id DESC);

-- The durable event log WebSocket clients resume from. A seq is never reused.
CREATE TABLE events (
    seq BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    access TEXT,            -- JSON ConversationAccess, for permission filtering
    user_id BIGINT,        -- set when only this user may receive it
    payload TEXT NOT NULL,  -- JSON of the domain record
    created_at BIGINT NOT NULL
);
CREATE INDEX events_workspace ON events(workspace_id, seq);

-- Timed work: auto-close, snooze wake-up, outbound delivery (the outbox).
CREATE TABLE jobs (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    target_id BIGINT NOT NULL,
    run_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    last_error TEXT
);
CREATE UNIQUE INDEX jobs_target ON jobs(kind, target_id);
CREATE INDEX jobs_due ON jobs(run_at);
