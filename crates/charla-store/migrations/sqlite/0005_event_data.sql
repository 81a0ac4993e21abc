-- Structured data of history (event) lines, so clients can show them in the operator's language:
-- JSON {"type": "assigned"|"transferred"|"closed"|..., ...}; NULL for other messages.
ALTER TABLE messages ADD COLUMN event_data TEXT;
