//! The local store: SQLite through sqlx, WAL mode, embedded migrations.
//!
//! Holds the cache of synced entities, the sync cursor, the outbox, files
//! waiting to go up, fetched files, drafts and the signed-in user.
//! **Invariant:** a page of changes and the cursor that follows it are
//! written in one transaction, so after a crash the cache never claims to
//! be further along than it is. No secret is ever written here (the session
//! token lives in the OS keychain).
//!
//! **SQL lives only here.** The rest of the engine calls [`Store`]'s typed
//! methods, which take and return domain types (`mostrador_core`'s and this
//! crate's: [`OutboxItem`], [`PendingUpload`], [`OrderProgress`],
//! [`ConversationActivity`]), never rows or sqlx types: that method surface
//! is the interface a browser store (IndexedDB or sqlite-wasm) implements.
//! One submodule per concern:
//!
//! - `cache`: synced entities and the cursor (`apply_page`, a snapshot's
//!   `apply_snapshot_page` and `snapshot_progress`, `list`, `get`, `reset_cache`);
//! - `views`: the reads the screens need beyond `list`/`get` (unread counts,
//!   last messages, the agent inbox's waiting times, message search);
//! - `outbox`: queued writes and their retry state;
//! - `files`: uploads waiting and the attachment cache;
//! - `drafts`: what the user left typed in a composer;
//! - `kept`: the last answers of server-only reads, for offline use;
//! - `session`: the signed-in user, and what an ended session forgets or keeps.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use crate::ClientError;

mod by_id;
mod cache;
mod drafts;
mod files;
mod inbox;
mod kept;
mod outbox;
mod session;
mod views;

pub use cache::{Cached, OrderProgress, SnapshotProgress};
pub use files::PendingUpload;
pub use kept::Kept;
pub use outbox::OutboxItem;
pub use views::ConversationActivity;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    path: PathBuf,
}

fn db_err(e: sqlx::Error) -> ClientError {
    ClientError::Store(e.to_string())
}

fn json_err(e: serde_json::Error) -> ClientError {
    ClientError::Store(format!("corrupt JSON in the local store: {e}"))
}

/// An id column read back (ids are stored as text).
fn parse_id(s: &str) -> Result<uuid::Uuid, ClientError> {
    uuid::Uuid::parse_str(s).map_err(|e| ClientError::Store(format!("bad id in the store: {e}")))
}

pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

impl Store {
    /// Opens (creating if needed) the store file.
    pub async fn open(path: &Path) -> Result<Self, ClientError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| ClientError::Store(format!("creating {}: {e}", dir.display())))?;
        }
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
            .map_err(db_err)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(std::time::Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(db_err)?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| ClientError::Store(e.to_string()))?;
        Ok(Self {
            pool,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A value kept under `key`; private to the store (callers use the
    /// typed methods: `cursor`, `me`, `kept`).
    async fn get_kv(&self, key: &str) -> Result<Option<String>, ClientError> {
        sqlx::query_scalar("SELECT value FROM kv WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)
    }

    async fn set_kv(&self, key: &str, value: &str) -> Result<(), ClientError> {
        sqlx::query("INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    /// Whether the cache is complete up to a cursor (0 included: a
    /// snapshot of an empty feed), so a pull goes on with the feed; else it
    /// starts (or resumes) a snapshot.
    pub async fn has_cursor(&self) -> Result<bool, ClientError> {
        Ok(self.get_kv(crate::rules::page::CURSOR_KEY).await?.is_some())
    }

    /// The feed cursor the cache is complete up to.
    pub async fn cursor(&self) -> Result<i64, ClientError> {
        Ok(self
            .get_kv("cursor")
            .await?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    /// Closes the connections (the file stays; benches reopen it cold).
    pub async fn close(self) {
        self.pool.close().await;
    }

    /// Closes the pool and deletes the store's files (sign-out).
    pub async fn wipe(self) -> Result<(), ClientError> {
        self.pool.close().await;
        for suffix in ["", "-wal", "-shm"] {
            let p = PathBuf::from(format!("{}{suffix}", self.path.display()));
            match std::fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(ClientError::Store(format!("removing {}: {e}", p.display()))),
            }
        }
        Ok(())
    }
}
