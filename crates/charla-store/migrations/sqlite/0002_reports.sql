-- Ratings of attentions and the per-operator report. Keep in step with ../postgres/0002_reports.sql.

ALTER TABLE attentions ADD COLUMN rating TEXT;                 -- satisfied | neutral | dissatisfied
ALTER TABLE attentions ADD COLUMN rating_comment TEXT;
ALTER TABLE attentions ADD COLUMN rating_hidden INTEGER NOT NULL DEFAULT 0;  -- off the public page
ALTER TABLE attentions ADD COLUMN rated_at INTEGER;

-- The report reads a period of attentions of a workspace; the index covers what it reads.
CREATE INDEX attentions_report ON attentions(workspace_id, opened_at, assignee_id, first_response_at, rating);
