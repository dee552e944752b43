-- Uploads carry their dependency and their own retry state, like outbox
-- rows: `waits_for` is the client_id of the outbox write that must be
-- applied first (the opening of a conversation started offline); a file
-- that fails is retried (or, refused for good, marked `failed` with the
-- reason) on its own, so it holds back only the message that needs it.
ALTER TABLE pending_uploads ADD COLUMN waits_for TEXT;
ALTER TABLE pending_uploads ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pending_uploads ADD COLUMN next_attempt_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pending_uploads ADD COLUMN last_error TEXT;
ALTER TABLE pending_uploads ADD COLUMN failed TEXT;

UPDATE pending_uploads SET waits_for = (
    SELECT o.client_id FROM outbox o
    WHERE json_extract(o.mutation, '$.op') = 'open_conversation'
      AND json_extract(o.mutation, '$.args.id') = pending_uploads.conversation_id
);
