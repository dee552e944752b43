//! Authentication: opaque bearer tokens stored hashed, the [`Actor`] and
//! [`ClientAddr`] extractors, and the per-address limits. Password hashing
//! is `password`, the throttles' state `throttle` (re-exported here).
//!
//! **Invariant:** passwords and tokens never reach a log, an error message
//! or the database in clear. Hashing runs on a few dedicated threads, off
//! the async executor, at most `--hash-concurrency` at once (503 with
//! `Retry-After` when no turn frees up in time), so a flood of sign-ins
//! cannot exhaust memory.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine;
use mostrador_core::auth::{Role, Token};
use mostrador_core::ErrorCode;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::Row;
use uuid::Uuid;

use crate::db::{now_ms, uuid};
use crate::error::AppError;
use crate::state::AppState;

pub use crate::actor::Actor;

fn unauthorized() -> AppError {
    AppError::new(
        ErrorCode::Unauthorized,
        "sign in first: missing, invalid or expired token",
    )
}

impl FromRequestParts<AppState> for Actor {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        bearer_actor(state, &parts.headers).await
    }
}

/// The caller named by the `Authorization: Bearer` header; 401 without a
/// live session.
pub async fn bearer_actor(
    state: &AppState,
    headers: &axum::http::HeaderMap,
) -> Result<Actor, AppError> {
    let header = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(unauthorized)?;
    let token = header
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(unauthorized)?;
    actor_for_token(state, token).await?.ok_or_else(|| {
        tracing::info!("rejected a request with an unknown, revoked or expired token");
        unauthorized()
    })
}

/// The caller's address: the TCP peer, or, when a trusted proxy header is
/// configured (`--client-ip-header`), the last entry of that header (the
/// one our proxy added; earlier entries are the client's to choose).
#[derive(Debug, Clone)]
pub struct ClientAddr(pub String);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
        let Some(header) = state.config.client_ip_header.as_deref() else {
            return Ok(ClientAddr(peer));
        };
        let from_proxy = parts
            .headers
            .get_all(header)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .rfind(|v| !v.is_empty())
            .and_then(|v| v.parse::<std::net::IpAddr>().ok());
        Ok(ClientAddr(from_proxy.map_or(peer, |ip| ip.to_string())))
    }
}

/// Counts a registration from `address`; 429 with `Retry-After` over the
/// per-address limit.
pub fn check_registration(state: &AppState, address: &str) -> Result<(), AppError> {
    per_address(
        &state.register_limit,
        address,
        "registration",
        "too many new accounts from this address; try again later",
    )
}

/// Counts a request that mails a code (password reset, verification
/// resend) from `address`; 429 with `Retry-After` over the per-address
/// limit. Counted whether or not the email belongs to an account, so the
/// answer reveals nothing about accounts.
pub fn check_mail_request(state: &AppState, address: &str) -> Result<(), AppError> {
    per_address(
        &state.mail_limit,
        address,
        "mail request",
        "too many emails asked for from this address; try again later",
    )
}

fn per_address(
    window: &RateWindow,
    address: &str,
    what: &'static str,
    message: &str,
) -> Result<(), AppError> {
    window.hit(address).map_err(|wait| {
        tracing::warn!(%address, what, "throttled per client address");
        retry_later(ErrorCode::RateLimited, message, wait.as_secs())
    })
}

/// Resolves a bearer token to its live session and user (remembered
/// between requests where that is sound: `session_cache`).
pub async fn actor_for_token(state: &AppState, token: &str) -> Result<Option<Actor>, AppError> {
    let hash = hash_token(token);
    if let Some(actor) = state.sessions.get(&hash, now_ms()) {
        return Ok(Some(actor));
    }
    let generation = state.sessions.generation();
    let found = actor_where(state, "s.token_hash", &hash).await?;
    Ok(found.map(|(actor, until)| {
        state.sessions.remember(&hash, &actor, generation, until);
        actor
    }))
}

/// Resolves a session id (from a redeemed live ticket) to the session and
/// user, if both are still live.
pub async fn actor_for_session(state: &AppState, session: Uuid) -> Result<Option<Actor>, AppError> {
    Ok(actor_where(state, "s.id", &session.to_string())
        .await?
        .map(|(actor, _)| actor))
}

/// How often a session's `last_seen_at` is written: coarse on purpose, a
/// write per request would serialise readers.
const LAST_SEEN_EVERY_MS: i64 = 5 * 60 * 1000;

/// The live session whose `column` (trusted text) is `value`, its user, and
/// until when that answer holds (the session's expiry, or when its
/// `last_seen_at` is next due).
async fn actor_where(
    state: &AppState,
    column: &'static str,
    value: &str,
) -> Result<Option<(Actor, i64)>, AppError> {
    let now = now_ms();
    let row = sqlx::query(&format!(
        "SELECT s.id AS session_id, s.last_seen_at, s.expires_at, u.id AS user_id, u.role,
                u.display_name
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE {column} = $1 AND s.revoked_at IS NULL AND s.expires_at > $2
           AND u.disabled = 0 AND u.deleted_at IS NULL"
    ))
    .bind(value)
    .bind(now)
    .fetch_optional(state.db.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let session_id = uuid(&row.try_get::<String, _>("session_id")?)?;
    let mut last_seen: i64 = row.try_get("last_seen_at")?;
    if now - last_seen > LAST_SEEN_EVERY_MS {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
            .bind(now)
            .bind(session_id.to_string())
            .execute(state.db.pool())
            .await?;
        last_seen = now;
    }
    let expires_at: i64 = row.try_get("expires_at")?;
    let role: String = row.try_get("role")?;
    let actor = Actor {
        user_id: uuid(&row.try_get::<String, _>("user_id")?)?,
        role: Role::parse(&role).ok_or_else(|| anyhow::anyhow!("bad role in database"))?,
        session_id,
        display_name: row.try_get("display_name")?,
    };
    Ok(Some((
        actor,
        expires_at.min(last_seen + LAST_SEEN_EVERY_MS),
    )))
}

/// A new random bearer token (256 bits, base64url) and the hash to store.
pub fn new_token() -> (Token, String) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_token(&token);
    (Token(token), hash)
}

/// Tokens are high-entropy, so a plain SHA-256 is the right stored form.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub use crate::password::{
    configure_hashing, hash_password, retry_later, verify_password, DEFAULT_HASH_CONCURRENCY,
    DEFAULT_HASH_WAIT,
};
pub use crate::throttle::{LoginThrottle, RateWindow};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, ha) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), 43);
        assert_eq!(ha, hash_token(a.expose()));
        assert!(!ha.contains(a.expose()));
    }
}
