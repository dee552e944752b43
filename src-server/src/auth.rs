//! Authentication: Argon2id passwords, opaque bearer tokens stored hashed,
//! the [`Actor`] extractor, and login throttling.
//!
//! **Invariant:** passwords and tokens never reach a log, an error message
//! or the database in clear. Hashing runs on a few dedicated threads, off
//! the async executor, at most `--hash-concurrency` at once (503 with
//! `Retry-After` when no turn frees up in time), so a flood of sign-ins
//! cannot exhaust memory.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine;
use mostrador_core::auth::{Role, Token};
use mostrador_core::ErrorCode;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::Row;
use tokio::sync::Semaphore;
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

/// How many Argon2id hashes may run at once, and how long a request waits
/// for a turn before it is answered 503 with `Retry-After`. Each hash holds
/// about 19 MiB, so this bounds the memory sign-ins and registrations can
/// take (see [`configure_hashing`]).
type HashJob = Box<dyn FnOnce() + Send>;

#[derive(Debug)]
struct HashGate {
    permits: Arc<Semaphore>,
    wait: Duration,
    /// Jobs for the gate's own hashing threads (as many as permits). Not
    /// the blocking pool: each thread keeps its allocator arena, so a few
    /// long-lived threads bound the memory where hundreds would not.
    jobs: Mutex<std::sync::mpsc::Sender<HashJob>>,
}

impl HashGate {
    fn new(concurrency: usize, wait: Duration) -> Self {
        let (tx, rx) = std::sync::mpsc::channel::<HashJob>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..concurrency {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || loop {
                    let job = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    match job {
                        Ok(job) => job(),
                        Err(_) => break, // the gate was replaced
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a hashing thread");
            }
        }
        Self {
            permits: Arc::new(Semaphore::new(concurrency)),
            wait,
            jobs: Mutex::new(tx),
        }
    }
}

static HASH_GATE: RwLock<Option<Arc<HashGate>>> = RwLock::new(None);

/// Default concurrent hashes when nothing was configured.
pub const DEFAULT_HASH_CONCURRENCY: usize = 2;
/// Default wait for a hashing turn.
pub const DEFAULT_HASH_WAIT: Duration = Duration::from_secs(3);

/// Sets the process-wide hashing bound (the server calls this at start).
pub fn configure_hashing(concurrency: usize, wait: Duration) {
    let gate = Arc::new(HashGate::new(concurrency.max(1), wait));
    *HASH_GATE.write().unwrap_or_else(|p| p.into_inner()) = Some(gate);
}

fn hash_gate() -> Arc<HashGate> {
    let mut slot = HASH_GATE.write().unwrap_or_else(|p| p.into_inner());
    slot.get_or_insert_with(|| {
        Arc::new(HashGate::new(DEFAULT_HASH_CONCURRENCY, DEFAULT_HASH_WAIT))
    })
    .clone()
}

/// An error with `code` whose response carries `Retry-After: secs`.
pub fn retry_later(code: ErrorCode, message: &str, secs: u64) -> AppError {
    AppError::Api(
        mostrador_core::ApiError::new(code, message)
            .with_details(serde_json::json!({"retry_after_seconds": secs.max(1)})),
    )
}

/// Runs `work` on a hashing thread once a turn is free; 503 with
/// `Retry-After` when none frees up within the configured wait.
async fn with_hash_turn<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    let gate = hash_gate();
    let permit = tokio::time::timeout(gate.wait, gate.permits.clone().acquire_owned())
        .await
        .map_err(|_| {
            tracing::warn!("password hashing saturated; answering 503");
            retry_later(
                ErrorCode::Unavailable,
                "the server is busy; try again in a moment",
                gate.wait.as_secs().max(1),
            )
        })?
        .map_err(|e| AppError::Internal(e.into()))?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: HashJob = Box::new(move || {
        let _ = tx.send(work());
        drop(permit);
    });
    gate.jobs
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .send(job)
        .map_err(|_| AppError::Internal(anyhow::anyhow!("no hashing thread")))?;
    rx.await
        .map_err(|_| AppError::Internal(anyhow::anyhow!("a hashing thread failed")))
}

/// Argon2id with the crate's default (OWASP) parameters, on a hashing
/// thread, bounded by the hashing gate.
pub async fn hash_password(password: String) -> Result<String, AppError> {
    with_hash_turn(move || {
        let salt = SaltString::generate(&mut OsRng);
        phc_hash(&Argon2::default(), password.as_bytes(), salt.as_salt())
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(anyhow::anyhow!("hashing failed: {e}")))
    })
    .await?
}

/// Verifies on a hashing thread (bounded like [`hash_password`]). With no
/// stored hash (unknown account) a dummy hash is checked anyway, so timing
/// does not reveal which emails exist.
pub async fn verify_password(password: String, stored: Option<String>) -> Result<bool, AppError> {
    with_hash_turn(move || {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.with(|h| h.clone()));
        let ok = PasswordHash::new(&stored)
            .map(|parsed| phc_verify(password.as_bytes(), &parsed))
            .unwrap_or(false);
        known && ok
    })
    .await
}

thread_local! {
    /// The Argon2 working memory of this hashing thread, allocated once and
    /// reused: allocating ~19 MiB per hash left the allocator holding far
    /// more than one hash's worth per thread.
    static BLOCKS: std::cell::RefCell<Vec<argon2::Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `argon.hash_password` (the PHC string form), in this thread's reused
/// working memory.
fn phc_hash<'a>(
    argon: &Argon2<'_>,
    password: &[u8],
    salt: argon2::password_hash::Salt<'a>,
) -> argon2::password_hash::Result<PasswordHash<'a>> {
    let mut salt_arr = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_arr)?;
    let params = argon.params().clone();
    let output_len = params
        .output_len()
        .unwrap_or(argon2::Params::DEFAULT_OUTPUT_LEN);
    let output = argon2::password_hash::Output::init_with(output_len, |out| {
        BLOCKS.with(|blocks| {
            let mut blocks = blocks.borrow_mut();
            let n = params.block_count();
            if blocks.len() < n {
                blocks.resize(n, argon2::Block::default());
            }
            argon
                .hash_password_into_with_memory(password, salt_bytes, out, &mut blocks[..n])
                .map_err(|_| argon2::password_hash::Error::Crypto)
        })
    })?;
    Ok(PasswordHash {
        algorithm: argon2::Algorithm::Argon2id.ident(),
        version: Some(argon2::Version::V0x13.into()),
        params: argon2::password_hash::ParamsString::try_from(&params)?,
        salt: Some(salt),
        hash: Some(output),
    })
}

/// Checks `password` against a stored Argon2 PHC hash (constant-time
/// comparison of the outputs), in this thread's reused working memory.
fn phc_verify(password: &[u8], stored: &PasswordHash<'_>) -> bool {
    let (Some(salt), Some(expected)) = (stored.salt, stored.hash) else {
        return false;
    };
    let Ok(algorithm) = argon2::Algorithm::try_from(stored.algorithm) else {
        return false;
    };
    let Ok(version) = argon2::Version::try_from(stored.version.unwrap_or(0x13)) else {
        return false;
    };
    let Ok(params) = argon2::Params::try_from(stored) else {
        return false;
    };
    let params = match argon2::Params::new(
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        Some(expected.len()),
    ) {
        Ok(p) => p,
        Err(_) => return false,
    };
    let argon = Argon2::new(algorithm, version, params);
    match phc_hash_with(&argon, algorithm, version, password, salt) {
        Ok(computed) => computed.hash.is_some_and(|h| h == expected),
        Err(_) => false,
    }
}

/// [`phc_hash`] for any algorithm and version (verification of older hashes).
fn phc_hash_with<'a>(
    argon: &Argon2<'_>,
    algorithm: argon2::Algorithm,
    version: argon2::Version,
    password: &[u8],
    salt: argon2::password_hash::Salt<'a>,
) -> argon2::password_hash::Result<PasswordHash<'a>> {
    let mut h = phc_hash(argon, password, salt)?;
    h.algorithm = algorithm.ident();
    h.version = Some(version.into());
    Ok(h)
}

thread_local! {
    static DUMMY_HASH: String = {
        let salt = SaltString::generate(&mut OsRng);
        phc_hash(&Argon2::default(), b"not-a-real-password", salt.as_salt())
            .map(|h| h.to_string())
            .unwrap_or_default()
    };
}

/// Failed sign-ins, per account and per client address.
///
/// An attempt is counted (as a failure) *before* the slow password check
/// ([`LoginThrottle::begin`]) and taken back when it succeeds, so parallel
/// guesses cannot all slip in under the limit. Per account there is no hard
/// lock: after `free_tries` failures each further attempt must wait a delay
/// that doubles per failure (from `base_delay`, at most `max_delay`), so an
/// attacker cannot lock the owner out for long. Per address there is a
/// sliding-window limit.
#[derive(Debug)]
pub struct LoginThrottle {
    window: Duration,
    free_tries: usize,
    base_delay: Duration,
    max_delay: Duration,
    per_address: usize,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginThrottle {
    /// `per_account` failures pass without delay; `per_address` failures
    /// per `window` from one address.
    pub fn new(window: Duration, per_account: usize, per_address: usize) -> Self {
        Self {
            window,
            free_tries: per_account,
            base_delay: Duration::from_secs(30),
            max_delay: window,
            per_address,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn prune(q: &mut VecDeque<Instant>, now: Instant, window: Duration) {
        while q.front().is_some_and(|t| now.duration_since(*t) >= window) {
            q.pop_front();
        }
    }

    /// The wait the account's failures impose after its last one.
    fn account_delay(&self, failures: usize) -> Duration {
        if failures < self.free_tries {
            return Duration::ZERO;
        }
        let doublings = u32::try_from(failures - self.free_tries)
            .unwrap_or(u32::MAX)
            .min(20);
        self.base_delay
            .saturating_mul(1 << doublings)
            .min(self.max_delay)
    }

    /// `Some(retry_after)` when an attempt now would be refused (nothing
    /// is counted).
    pub fn check(&self, email: &str, address: &str) -> Option<Duration> {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        self.wait_locked(&mut map, email, address, now)
    }

    fn wait_locked(
        &self,
        map: &mut HashMap<String, VecDeque<Instant>>,
        email: &str,
        address: &str,
        now: Instant,
    ) -> Option<Duration> {
        let mut wait = None::<Duration>;
        if let Some(q) = map.get_mut(&format!("addr:{address}")) {
            Self::prune(q, now, self.window);
            if q.len() >= self.per_address {
                let oldest = q.front().copied().unwrap_or(now);
                wait = Some(self.window.saturating_sub(now.duration_since(oldest)));
            }
        }
        if let Some(q) = map.get_mut(&format!("acct:{email}")) {
            Self::prune(q, now, self.window);
            let delay = self.account_delay(q.len());
            if let Some(last) = q.back() {
                let left = delay.saturating_sub(now.duration_since(*last));
                if !left.is_zero() {
                    wait = Some(wait.map_or(left, |w| w.max(left)));
                }
            }
        }
        wait
    }

    /// Counts an attempt before the password is checked: `Err(retry_after)`
    /// when it must not be tried now. Call [`Self::succeeded`] or
    /// [`Self::abandoned`] if it turns out not to be a failure.
    pub fn begin(&self, email: &str, address: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            let window = self.window;
            map.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < window));
        }
        if let Some(wait) = self.wait_locked(&mut map, email, address, now) {
            return Err(wait);
        }
        for key in [format!("acct:{email}"), format!("addr:{address}")] {
            map.entry(key).or_default().push_back(now);
        }
        Ok(())
    }

    /// The attempt was right: the account's failures are forgiven and the
    /// address gets its attempt back.
    pub fn succeeded(&self, email: &str, address: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&format!("acct:{email}"));
        if let Some(q) = map.get_mut(&format!("addr:{address}")) {
            q.pop_back();
        }
    }

    /// The attempt was never judged (e.g. the server was busy): uncount it.
    pub fn abandoned(&self, email: &str, address: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for key in [format!("acct:{email}"), format!("addr:{address}")] {
            if let Some(q) = map.get_mut(&key) {
                q.pop_back();
            }
        }
    }
}

/// A sliding-window count of events per key (e.g. registrations per
/// address): `hit` counts one and says how long to wait when over the limit.
#[derive(Debug)]
pub struct RateWindow {
    window: Duration,
    limit: usize,
    hits: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RateWindow {
    pub fn new(window: Duration, limit: usize) -> Self {
        Self {
            window,
            limit,
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one event for `key`; `Err(wait)` (not counted) when the key
    /// already had `limit` events in the window.
    pub fn hit(&self, key: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut map = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < self.window));
        }
        let q = map.entry(key.to_owned()).or_default();
        while q
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            q.pop_front();
        }
        if q.len() >= self.limit {
            let oldest = q.front().copied().unwrap_or(now);
            return Err(self.window.saturating_sub(now.duration_since(oldest)));
        }
        q.push_back(now);
        Ok(())
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
    fn throttle_counts_before_checking_and_delays_grow_per_account() {
        let t = LoginThrottle::new(Duration::from_secs(900), 3, 5);
        for _ in 0..3 {
            assert!(t.begin("a@x.io", "1.1.1.1").is_ok());
        }
        // Three attempts in flight or failed: the fourth waits 30 s.
        let wait = t.begin("a@x.io", "2.2.2.2").expect_err("account delay");
        assert!(wait <= Duration::from_secs(30) && wait > Duration::from_secs(25));
        assert_eq!(t.account_delay(4), Duration::from_secs(60));
        assert_eq!(t.account_delay(40), Duration::from_secs(900));
        // A success forgives the account and gives the address its try back.
        t.succeeded("a@x.io", "1.1.1.1");
        assert!(t.check("a@x.io", "1.1.1.1").is_none());
        for e in ["b", "c", "d"] {
            assert!(t.begin(&format!("{e}@x.io"), "1.1.1.1").is_ok());
        }
        assert!(t.begin("e@x.io", "1.1.1.1").is_err(), "address limit");
        t.abandoned("d@x.io", "1.1.1.1");
        assert!(t.begin("e@x.io", "1.1.1.1").is_ok());
    }

    #[test]
    fn reused_memory_hashes_match_the_crates_own() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default()
            .hash_password(b"pw 1234567890", &salt)
            .unwrap()
            .to_string();
        let ours = phc_hash(&Argon2::default(), b"pw 1234567890", salt.as_salt())
            .unwrap()
            .to_string();
        assert_eq!(ours, theirs);
        assert!(phc_verify(b"pw 1234567890", &PasswordHash::new(&theirs).unwrap()));
        assert!(!phc_verify(b"pw 1234567891", &PasswordHash::new(&theirs).unwrap()));
        assert!(Argon2::default()
            .verify_password(b"pw 1234567890", &PasswordHash::new(&ours).unwrap())
            .is_ok());
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
