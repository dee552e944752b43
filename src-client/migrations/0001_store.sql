-- The app's local store: a cache of everything the signed-in user can see,
-- and the outbox of writes not yet acknowledged by the server.
-- Sign-out deletes the whole file.

-- Small values: the sync cursor, the signed-in user.
CREATE TABLE kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Synced entities as the server sent them (JSON of the mostrador-core type).
-- `parent_id` is the conversation of a message; `sort_key` orders lists
-- (message time, order placement, conversation activity, callback slot).
CREATE TABLE entities (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    parent_id TEXT,
    sort_key INTEGER NOT NULL,
    json TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX entities_list ON entities (kind, parent_id, sort_key);

-- Writes waiting for the server, in the order the user made them. A row
-- leaves only when the server acknowledged it (applied) or the user
-- discarded it; a permanent refusal keeps it, "wedged", with the reason.
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id TEXT NOT NULL UNIQUE,
    mutation TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    wedged TEXT
);
