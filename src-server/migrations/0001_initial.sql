-- Mostrador's schema, written once in the SQL subset that SQLite and
-- PostgreSQL both accept: TEXT ids (UUIDs), BIGINT unix-millisecond times,
-- BIGINT 0/1 flags, JSON documents as TEXT. Never edit an applied migration;
-- add a new one.

-- The change feed's clock. Every write transaction starts by updating this
-- row (see db::Db::begin_write), which serialises writers, so the order of
-- `changes.seq` is the order of commits and a reader paging by seq can never
-- skip a change that commits later with a smaller number.
-- `floor` is the oldest cursor still served; older ones must resync.
CREATE TABLE feed_counter (
    id BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL,
    floor BIGINT NOT NULL
);
INSERT INTO feed_counter (id, seq, floor) VALUES (1, 0, 0);

-- Accounts. `email` is normalised (lower case). Deleting an account
-- anonymises the row (it keeps the id that messages and audit entries point
-- at) and erases the personal data.
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,          -- Argon2id PHC string
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('customer', 'agent', 'admin')),
    language TEXT NOT NULL,
    phone TEXT,
    time_zone TEXT,
    contact_email BIGINT NOT NULL,
    contact_sms BIGINT NOT NULL,
    contact_push BIGINT NOT NULL,
    disabled BIGINT NOT NULL,
    deleted_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- One row per signed-in device. Only the SHA-256 of the bearer token is
-- kept, so a database leak yields no usable token.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL UNIQUE,
    device_name TEXT,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE addresses (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL CHECK (kind IN ('shipping', 'billing')),
    label TEXT,
    name TEXT NOT NULL,
    line1 TEXT NOT NULL,
    line2 TEXT,
    city TEXT NOT NULL,
    region TEXT,
    postal_code TEXT NOT NULL,
    country TEXT NOT NULL,
    is_default BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX addresses_user ON addresses (user_id);

-- Orders as the shop reports them. `snapshot_at` is the occurred_at of the
-- order snapshot applied: an older snapshot is ignored. `status` is the
-- newest tracking event by event time (ties broken by event id), whatever
-- the order events arrived in. A tracking event may arrive before its order:
-- the row then exists with snapshot_at = 0 and no customer.
CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    customer_email TEXT NOT NULL,
    customer_id TEXT REFERENCES users (id),
    placed_at BIGINT NOT NULL,
    total_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    items_json TEXT NOT NULL,
    shipping_address_json TEXT,
    snapshot_at BIGINT NOT NULL,
    carrier TEXT,
    tracking_number TEXT,
    eta BIGINT,
    shipment_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    status_at BIGINT NOT NULL,
    status_event_id TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX orders_customer ON orders (customer_id);
CREATE INDEX orders_email ON orders (customer_email);

CREATE TABLE tracking_events (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders (id),
    status TEXT NOT NULL,
    at BIGINT NOT NULL,
    place TEXT,
    description TEXT
);
CREATE INDEX tracking_events_order ON tracking_events (order_id, at);

-- Ingest idempotency: every event id ever received.
CREATE TABLE ingest_events (
    event_id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL,
    received_at BIGINT NOT NULL
);

CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES users (id),
    order_id TEXT REFERENCES orders (id),
    subject TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'pending', 'resolved')),
    assigned_agent_id TEXT REFERENCES users (id),
    rating_score BIGINT,
    rating_comment TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    last_message_at BIGINT
);
CREATE INDEX conversations_customer ON conversations (customer_id);

-- Message ids are chosen by the sending device (its idempotency key).
-- kind 'note' is an internal note: never visible to customers.
CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    author_id TEXT NOT NULL REFERENCES users (id),
    author_role TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('text', 'note')),
    body TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('sent', 'delivered', 'read')),
    created_at BIGINT NOT NULL
);
CREATE INDEX messages_conversation ON messages (conversation_id, created_at);

-- The change feed. `customer_id` is whose data changed (NULL: staff only);
-- `staff_only` marks internal notes. Written in the same transaction as the
-- change it describes.
CREATE TABLE changes (
    seq BIGINT PRIMARY KEY,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    customer_id TEXT,
    staff_only BIGINT NOT NULL,
    removed BIGINT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX changes_customer ON changes (customer_id, seq);

-- Push idempotency: the first result of every client mutation.
CREATE TABLE applied_mutations (
    user_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    result_json TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (user_id, client_id)
);

-- Kept when everything else about a person is erased.
CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    actor_id TEXT,
    action TEXT NOT NULL,
    subject_id TEXT,
    at BIGINT NOT NULL
);
