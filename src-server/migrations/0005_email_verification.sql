-- Email verification and password reset.
--
-- A customer who registers has not proved the address yet: the row's
-- `email` holds a placeholder (`unverified-<id>@unverified.invalid`, unique
-- like every email) and `pending_email` the address claimed. Orders are
-- linked by `email`, so nothing the shop sent for an address reaches an
-- account until it is verified; several unverified claims of one address
-- may exist, and none blocks the real owner. Verifying moves the address
-- into `email`. Accounts that existed before this migration (and staff and
-- demo accounts) have `pending_email` NULL: verified.
ALTER TABLE users ADD COLUMN pending_email TEXT;
CREATE INDEX users_pending_email ON users (pending_email);

-- One-time codes sent by email. Only a SHA-256 of the code (salted with the
-- user id) is kept; a code is single use, expires, and dies after a few
-- wrong guesses.
CREATE TABLE email_codes (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    purpose TEXT NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    email TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX email_codes_user ON email_codes (user_id, purpose);
