-- Agent mode: when a conversation was resolved (resolution-time metric) and
-- the saved replies admins manage.
ALTER TABLE conversations ADD COLUMN resolved_at BIGINT;

CREATE TABLE canned_responses (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
