//! Authentication: Argon2id passwords, opaque bearer tokens stored hashed,
//! the [`Actor`] extractor, and login throttling.
//!
//! **Invariant:** passwords and tokens never reach a log, an error message
//! or the database in clear. Hashing runs on the blocking pool, off the
//! async executor.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
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

/// Who is calling: resolved from the bearer token on every request.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Uuid,
    pub role: Role,
    pub session_id: Uuid,
    pub display_name: String,
}

impl Actor {
    pub fn is_staff(&self) -> bool {
        self.role.is_staff()
    }

    /// May this actor see support data belonging to `customer_id`?
    pub fn can_see_customer(&self, customer_id: Uuid) -> bool {
        self.is_staff() || self.user_id == customer_id
    }

    /// Refuses non-staff callers with 403.
    pub fn require_staff(&self) -> Result<(), AppError> {
        if self.is_staff() {
            Ok(())
        } else {
            Err(AppError::new(
                ErrorCode::Forbidden,
                "this action is for support staff",
            ))
        }
    }

    pub fn require_admin(&self) -> Result<(), AppError> {
        if self.role == Role::Admin {
            Ok(())
        } else {
            Err(AppError::new(
                ErrorCode::Forbidden,
                "this action is for administrators",
            ))
        }
    }
}

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
        let header = parts
            .headers
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
}

/// Resolves a bearer token to its live session and user.
pub async fn actor_for_token(state: &AppState, token: &str) -> Result<Option<Actor>, AppError> {
    let now = now_ms();
    let row = sqlx::query(
        "SELECT s.id AS session_id, s.last_seen_at, u.id AS user_id, u.role, u.display_name
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2
           AND u.disabled = 0 AND u.deleted_at IS NULL",
    )
    .bind(hash_token(token))
    .bind(now)
    .fetch_optional(state.db.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let session_id = uuid(&row.try_get::<String, _>("session_id")?)?;
    let last_seen: i64 = row.try_get("last_seen_at")?;
    if now - last_seen > 5 * 60 * 1000 {
        // Coarse on purpose: a write per request would serialise readers.
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
            .bind(now)
            .bind(session_id.to_string())
            .execute(state.db.pool())
            .await?;
    }
    let role: String = row.try_get("role")?;
    Ok(Some(Actor {
        user_id: uuid(&row.try_get::<String, _>("user_id")?)?,
        role: Role::parse(&role).ok_or_else(|| anyhow::anyhow!("bad role in database"))?,
        session_id,
        display_name: row.try_get("display_name")?,
    }))
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

/// Argon2id with the crate's default (OWASP) parameters, on the blocking pool.
pub async fn hash_password(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(anyhow::anyhow!("hashing failed: {e}")))
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?
}

/// Verifies on the blocking pool. With no stored hash (unknown account) a
/// dummy hash is checked anyway, so timing does not reveal which emails exist.
pub async fn verify_password(password: String, stored: Option<String>) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.with(|h| h.clone()));
        let ok = PasswordHash::new(&stored)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false);
        known && ok
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))
}

thread_local! {
    static DUMMY_HASH: String = {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(b"not-a-real-password", &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    };
}

/// Sliding-window limit on failed logins, per account and per address.
#[derive(Debug)]
pub struct LoginThrottle {
    window: Duration,
    per_account: usize,
    per_address: usize,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginThrottle {
    pub fn new(window: Duration, per_account: usize, per_address: usize) -> Self {
        Self {
            window,
            per_account,
            per_address,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn keys(email: &str, address: &str) -> [(String, bool); 2] {
        [
            (format!("acct:{email}"), true),
            (format!("addr:{address}"), false),
        ]
    }

    /// `Some(retry_after)` when either key is over its limit.
    pub fn check(&self, email: &str, address: &str) -> Option<Duration> {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let mut wait = None::<Duration>;
        for (key, is_account) in Self::keys(email, address) {
            let limit = if is_account {
                self.per_account
            } else {
                self.per_address
            };
            if let Some(q) = map.get_mut(&key) {
                while q
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= self.window)
                {
                    q.pop_front();
                }
                if q.len() >= limit {
                    let oldest = *q.front().expect("non-empty");
                    let left = self.window.saturating_sub(now.duration_since(oldest));
                    wait = Some(wait.map_or(left, |w| w.max(left)));
                }
            }
        }
        wait
    }

    pub fn record_failure(&self, email: &str, address: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for (key, _) in Self::keys(email, address) {
            map.entry(key).or_default().push_back(Instant::now());
        }
    }

    pub fn record_success(&self, email: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&format!("acct:{email}"));
    }
}

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

    #[test]
    fn throttle_limits_per_account_and_per_address() {
        let t = LoginThrottle::new(Duration::from_secs(60), 3, 5);
        for _ in 0..3 {
            assert!(t.check("a@x.io", "1.1.1.1").is_none());
            t.record_failure("a@x.io", "1.1.1.1");
        }
        let wait = t.check("a@x.io", "2.2.2.2").expect("account limit");
        assert!(wait <= Duration::from_secs(60) && wait > Duration::from_secs(50));
        // Other accounts from the same address still have 2 tries left.
        assert!(t.check("b@x.io", "1.1.1.1").is_none());
        t.record_failure("b@x.io", "1.1.1.1");
        t.record_failure("c@x.io", "1.1.1.1");
        assert!(t.check("d@x.io", "1.1.1.1").is_some(), "address limit");
    }

    #[tokio::test]
    async fn argon2id_hashes_verify_and_wrong_passwords_fail() {
        let h = hash_password("correct horse battery".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(
            verify_password("correct horse battery".into(), Some(h.clone()))
                .await
                .unwrap()
        );
        assert!(!verify_password("wrong".into(), Some(h)).await.unwrap());
        assert!(!verify_password("x".into(), None).await.unwrap());
    }
}
