-- Files uploaded into conversations. The bytes live in the upload directory
-- under the attachment's id; the content type is detected from the bytes.
-- `message_id` is set when a message carrying the attachment is sent.
CREATE TABLE attachments (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    uploader_id TEXT NOT NULL REFERENCES users (id),
    message_id TEXT REFERENCES messages (id),
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX attachments_conversation ON attachments (conversation_id);
