-- An agent's search walks their own order and their channels' (sql/inbox.rs, the branches of
-- what a viewer sees): those indexes lacked the search copy that the workspace-wide orders
-- include (0009), so each walked row was read from the table to test it. One agent's 4,894
-- conversations for a name with 20 among them: 4,894 table reads, 25 ms warm and 153 ms cold.
-- With the copy in every order the walk reads the index alone (PostgreSQL only, as 0009).
DROP INDEX conversations_channel_processing;
CREATE INDEX conversations_channel_processing ON conversations(workspace_id, channel_id, unanswered DESC,
    COALESCE(due_at, 9000000000000000), last_activity_at DESC, id DESC, assignee_id, team_id, is_group, contact_id, identity_id)
    INCLUDE (due_at, tag_ids, search_text, search_phone);
DROP INDEX conversations_assignee_processing;
CREATE INDEX conversations_assignee_processing ON conversations(workspace_id, assignee_id, unanswered DESC,
    COALESCE(due_at, 9000000000000000), last_activity_at DESC, id DESC, channel_id, team_id, is_group, contact_id, identity_id)
    INCLUDE (due_at, tag_ids, search_text, search_phone);
DROP INDEX conversations_channel;
CREATE INDEX conversations_channel ON conversations(workspace_id, channel_id, last_activity_at DESC, id DESC,
    assignee_id, team_id, is_group, contact_id, identity_id) INCLUDE (tag_ids, search_text, search_phone);
DROP INDEX conversations_assignee;
CREATE INDEX conversations_assignee ON conversations(workspace_id, assignee_id, last_activity_at DESC, id DESC,
    channel_id, team_id, is_group, contact_id, identity_id) INCLUDE (tag_ids, search_text, search_phone);
