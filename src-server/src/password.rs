//! Passwords: Argon2id hashing and verification on a few dedicated
//! threads that reuse their working memory, at most `--hash-concurrency` at
//! once (503 with `Retry-After` when no turn frees up in time), so a flood of
//! sign-ins cannot exhaust memory. It knows nothing of the server's state,
//! so configuration and state name it without a cycle through `auth`.

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, SaltString};
use argon2::Argon2;
use mostrador_core::ErrorCode;
use tokio::sync::Semaphore;

use crate::error::AppError;

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
    slot.get_or_insert_with(|| Arc::new(HashGate::new(DEFAULT_HASH_CONCURRENCY, DEFAULT_HASH_WAIT)))
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

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(phc_verify(
            b"pw 1234567890",
            &PasswordHash::new(&theirs).unwrap()
        ));
        assert!(!phc_verify(
            b"pw 1234567891",
            &PasswordHash::new(&theirs).unwrap()
        ));
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
