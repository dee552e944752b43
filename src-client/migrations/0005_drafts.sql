-- What the user was typing in a conversation's composer, kept across
-- language switches and app restarts until it is sent or emptied. Wiped
-- with the rest of the store on sign-out.
CREATE TABLE drafts (
    conversation_id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
