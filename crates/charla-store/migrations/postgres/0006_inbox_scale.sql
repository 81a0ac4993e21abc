-- The inbox at millions of conversations. Keep in step with ../sqlite/0006_inbox_scale.sql.
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

-- Substring search from 4 characters: trigram indexes (pg_trgm) serve the LIKE '%...%' of the
-- contacts' search text and phone digits and of identity names. Without the extension (or the
-- right to create it) search still works, by scanning.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS pg_trgm;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'pg_trgm not created (insufficient privilege): contact search will scan';
        END;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX contacts_search_trgm ON contacts USING GIN (search_text gin_trgm_ops);
        CREATE INDEX contacts_phone_trgm ON contacts USING GIN (phone_digits gin_trgm_ops);
        CREATE INDEX contact_identities_name_trgm ON contact_identities USING GIN (LOWER(name) gin_trgm_ops);
    END IF;
END
$$;
