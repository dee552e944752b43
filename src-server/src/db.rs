//! The database: one pool over embedded SQLite (default) or PostgreSQL.
//!
//! The backend is chosen from the URL scheme. Queries are written in the
//! portable subset both engines accept (numbered `$n` parameters, `BIGINT`
//! unix-millisecond timestamps, `TEXT` ids), and run through sqlx's `Any`
//! driver, so every handler has exactly one implementation and the same
//! integration tests run against both engines.

use std::fmt;
use std::str::FromStr;

use anyhow::{bail, Context};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

/// Migrations, embedded; the same files serve both engines.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// Milliseconds since the Unix epoch, the stored form of every time.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

pub fn ts(ms: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// Parses a stored UUID; a malformed one is a corrupt row (internal error).
pub fn uuid(s: &str) -> Result<uuid::Uuid, sqlx::Error> {
    uuid::Uuid::parse_str(s).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

pub fn opt_uuid(s: Option<String>) -> Result<Option<uuid::Uuid>, sqlx::Error> {
    s.as_deref().map(uuid).transpose()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            bail!("unsupported database URL scheme (use sqlite:// or postgres://)")
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl Db {
    /// Opens (creating if needed) the database. SQLite runs in WAL mode with
    /// foreign keys on and a busy timeout, so readers never block the writer.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        if backend == Backend::Sqlite {
            ensure_sqlite_parent_dir(url)?;
        }
        let options = AnyConnectOptions::from_str(url).context("invalid database URL")?;
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            })
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA busy_timeout = 5000").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        if backend == Backend::Sqlite {
            pool.execute("PRAGMA journal_mode = WAL").await?;
        }
        MIGRATOR.run(&pool).await.context("running migrations")?;
        Ok(Self { pool, backend })
    }

    /// Starts a write transaction. Its first statement takes the feed
    /// counter's row lock (PostgreSQL) or the write lock (SQLite), so write
    /// transactions run one at a time and change-feed order is commit order.
    pub async fn begin_write(&self) -> Result<Tx, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE feed_counter SET seq = seq WHERE id = 1")
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }

    /// The feed's head: the sequence number of the newest change.
    pub async fn feed_head(&self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT seq FROM feed_counter WHERE id = 1")
            .fetch_one(&self.pool)
            .await
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A cheap round trip proving the database answers.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
    }
}

/// Opens a savepoint `name` inside `tx` (both engines nest them).
pub async fn savepoint(tx: &mut Tx, name: &'static str) -> Result<(), sqlx::Error> {
    sqlx::query(&format!("SAVEPOINT {name}"))
        .execute(&mut **tx)
        .await
        .map(|_| ())
}

/// Keeps what was written since savepoint `name`.
pub async fn release(tx: &mut Tx, name: &'static str) -> Result<(), sqlx::Error> {
    sqlx::query(&format!("RELEASE SAVEPOINT {name}"))
        .execute(&mut **tx)
        .await
        .map(|_| ())
}

/// Undoes what was written since savepoint `name` and closes it; the
/// transaction goes on (on PostgreSQL, also after a failed statement).
pub async fn rollback_to(tx: &mut Tx, name: &'static str) -> Result<(), sqlx::Error> {
    sqlx::query(&format!("ROLLBACK TO SAVEPOINT {name}"))
        .execute(&mut **tx)
        .await?;
    release(tx, name).await
}

fn ensure_sqlite_parent_dir(url: &str) -> anyhow::Result<()> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or("");
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    if let Some(parent) = std::path::Path::new(path).parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
    }
    // A new database file is readable by its owner only (SQLite gives its
    // -wal and -shm files the same permissions).
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    open.open(path)
        .with_context(|| format!("creating {path}"))?;
    Ok(())
}

/// Creates `dir` (and parents) readable by its owner only, if missing.
pub fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}
