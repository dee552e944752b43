-- Files the user attached while offline, uploaded (idempotently, by id)
-- before the outbox's writes are pushed, so a message never reaches the
-- server before its attachment.
CREATE TABLE pending_uploads (
    attachment_id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    filename TEXT NOT NULL,
    bytes BLOB NOT NULL,
    created_at INTEGER NOT NULL
);

-- A bounded cache of attachment bytes already fetched (least recently used
-- go first when it grows past its limit).
CREATE TABLE attachment_cache (
    attachment_id TEXT PRIMARY KEY,
    bytes BLOB NOT NULL,
    size INTEGER NOT NULL,
    used_at INTEGER NOT NULL
);
