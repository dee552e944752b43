-- Browser sign-in and the browser's live socket (issue 13).
--
-- Shop-signed identities (`POST /api/v1/auth/identity`) carry a `jti`; each
-- is accepted once. The SHA-256 of the shop's `jti` is kept until the
-- identity's own `exp` (after which the identity is refused as expired
-- anyway), then pruned. A table rather than memory: several servers behind
-- one load balancer share it, and a restart forgets nothing.
CREATE TABLE identity_jtis (
    jti_hash TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX identity_jtis_expires ON identity_jtis (expires_at);

-- Single-use tickets for opening the live WebSocket from a browser, which
-- cannot set an Authorization header on a WebSocket: issued to a session
-- (`POST /api/v1/live/ticket`), valid 30 seconds, deleted when used
-- (`GET /api/v1/live?ticket=…`). Only the SHA-256 of a ticket is stored. In
-- the database, so a ticket issued by one server instance opens a socket on
-- another.
CREATE TABLE live_tickets (
    ticket_hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    expires_at BIGINT NOT NULL
);
CREATE INDEX live_tickets_expires ON live_tickets (expires_at);
