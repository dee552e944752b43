//! The database: pools over embedded SQLite (default) or PostgreSQL (reads
//! and write transactions; see [`Db`]).
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

/// The rows of `sql` for `ids`, in one statement: `{in}` in `sql` stands
/// for their `IN (…)` list ([`in_order`] marks; `sql` has no other
/// parameter). No ids, no statement.
pub async fn fetch_in(
    conn: &mut sqlx::AnyConnection,
    sql: &str,
    ids: &[uuid::Uuid],
) -> Result<Vec<sqlx::any::AnyRow>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sqlite = is_sqlite(conn);
    let sql = sql.replace("{in}", &in_order(sqlite, 0, ids.len()).join(", "));
    ids.iter()
        .fold(sqlx::query(&sql), |q, id| q.bind(id.to_string()))
        .fetch_all(conn)
        .await
}

/// Whether `conn` is SQLite's.
pub fn is_sqlite(conn: &sqlx::AnyConnection) -> bool {
    conn.backend_name() == "SQLite"
}

/// The marks of `n` parameters for a statement whose parameters are all
/// bound in the order they appear, each used once, after `before` others
/// of the same statement: `?` on SQLite, `$before+1, …` on PostgreSQL.
///
/// SQLite looks a named parameter (`$12`) up by name among the
/// statement's others, one by one, when it prepares the statement, and
/// sqlx asks each parameter's name when it binds: both quadratic in the
/// number of parameters (a fifth of the writer's time in the server bench's
/// profile, before this). Anonymous
/// `?` marks skip both.
pub fn in_order(sqlite: bool, before: usize, n: usize) -> Vec<String> {
    if sqlite {
        vec!["?".to_owned(); n]
    } else {
        (before + 1..=before + n).map(|i| format!("${i}")).collect()
    }
}

/// Inserts `rows` (each `width` values, in `head`'s column order) with
/// multi-row `INSERT`s of [`in_order`] marks: `head` is the statement up to
/// `VALUES`. One call per 4,000 rows or 30,000 values, whichever comes
/// first (under SQLite's 32,766 parameters a statement and PostgreSQL's
/// 65,535).
pub async fn insert_rows(
    conn: &mut sqlx::AnyConnection,
    head: &str,
    width: usize,
    rows: &[Vec<Value>],
) -> Result<(), sqlx::Error> {
    let sqlite = is_sqlite(conn);
    let per_call = (30_000 / width.max(1)).clamp(1, 4_000);
    for chunk in rows.chunks(per_call) {
        let marks: Vec<String> = (0..chunk.len())
            .map(|r| format!("({})", in_order(sqlite, r * width, width).join(", ")))
            .collect();
        let sql = format!("{head} VALUES {}", marks.join(", "));
        let values: Vec<Value> = chunk
            .iter()
            .inspect(|row| debug_assert_eq!(row.len(), width))
            .flatten()
            .cloned()
            .collect();
        bind(sqlx::query(&sql), values).execute(&mut *conn).await?;
    }
    Ok(())
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
    /// Reads, and the few writes that take no part in the feed.
    pool: AnyPool,
    /// Write transactions ([`Db::begin_write`]): on SQLite a connection of
    /// their own, so a write never waits for a connection behind the
    /// reads (only one SQLite writer runs at a time anyway); on PostgreSQL
    /// the same pool (its feed-counter row lock orders the writers).
    writes: AnyPool,
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
    /// foreign keys on and a busy timeout, so readers never block the writer,
    /// and `synchronous = NORMAL`: a commit is in the write-ahead log before
    /// it returns, so a crash of the server loses nothing committed; only a
    /// power loss or an operating-system crash can lose the last commits
    /// (never corrupting the file), since the log is synced at checkpoints.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        if backend == Backend::Sqlite {
            ensure_sqlite_parent_dir(url)?;
        }
        let options = AnyConnectOptions::from_str(url).context("invalid database URL")?;
        let readers = match backend {
            Backend::Sqlite => 8,
            Backend::Postgres => 16,
        };
        let pool = Self::pool_options(backend, readers, false)
            .connect_with(options.clone())
            .await?;
        if backend == Backend::Sqlite {
            pool.execute("PRAGMA journal_mode = WAL").await?;
            tokio::spawn(checkpoints(pool.clone()));
        }
        MIGRATOR.run(&pool).await.context("running migrations")?;
        // An in-memory SQLite database is one per connection: it keeps one
        // pool for everything.
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let writes = if backend == Backend::Sqlite && !in_memory {
            Self::pool_options(backend, 1, true)
                .connect_with(options)
                .await?
        } else {
            pool.clone()
        };
        Ok(Self {
            pool,
            writes,
            backend,
        })
    }

    /// A pool of at most `max` connections, each set up as every
    /// connection of this server is.
    fn pool_options(backend: Backend, max: u32, writer: bool) -> AnyPoolOptions {
        AnyPoolOptions::new()
            .max_connections(max)
            // A ping before every checkout is a round trip per request
            // (on SQLite through the connection's worker thread). A file
            // cannot hang up; a PostgreSQL server can, so it keeps it.
            .test_before_acquire(backend == Backend::Postgres)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA busy_timeout = 5000").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        // Checkpoints run in the background (see
                        // `checkpoints`), not inside a writer's commit.
                        conn.execute("PRAGMA wal_autocheckpoint = 0").await?;
                        // The writer maps the file instead of copying each
                        // page out of the kernel with a system call. Readers
                        // do not: in WAL mode a connection drops its whole
                        // map when it finds the database changed since its
                        // last read, so under a stream of commits every
                        // read unmapped and faulted the file back in
                        // (measured: see BENCHMARKS.md, session 12).
                        if writer {
                            conn.execute("PRAGMA mmap_size = 268435456").await?;
                        }
                        // Pages a write touches again (the WAL's newest
                        // copies, index pages) stay in memory instead of
                        // being read back: 32 MiB a connection at most,
                        // never more than the database. Measured with
                        // `cargo xtask bench server` (2026-11-30): the
                        // set-wise write path 4,768 -> 5,508 msg/s.
                        conn.execute("PRAGMA cache_size = -32768").await?;
                    }
                    Ok(())
                })
            })
    }

    /// Starts a write transaction. Its first statement takes the feed
    /// counter's row lock (PostgreSQL) or the write lock (SQLite), so write
    /// transactions run one at a time and change-feed order is commit order.
    pub async fn begin_write(&self) -> Result<Tx, sqlx::Error> {
        let mut tx = self.writes.begin().await?;
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

    /// Closes every connection (the reads' and the writer's).
    pub async fn close(&self) {
        self.writes.close().await;
        self.pool.close().await;
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

/// SQLite: copies the write-ahead log into the database every 200 ms
/// (`PASSIVE`: it waits for no reader or writer), so the write that fills
/// the log does not run the checkpoint, and its sync, inside its commit,
/// holding up every write queued behind it. Ends with the pool.
async fn checkpoints(pool: AnyPool) {
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(200));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !pool.is_closed() {
        tick.tick().await;
        if let Err(e) = pool.execute("PRAGMA wal_checkpoint(PASSIVE)").await {
            if pool.is_closed() {
                break;
            }
            tracing::warn!(error = %e, "WAL checkpoint failed");
        }
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

/// Keeps what was written since savepoint `name` and opens it again, in
/// one round trip (two statements without parameters: PostgreSQL's simple
/// protocol and SQLite both take them in one call). Between the items of a
/// batch this replaces a `release` and a `savepoint`; the last one open
/// needs no release (`COMMIT`, or the release of an enclosing savepoint,
/// keeps it).
pub async fn release_and_reopen(tx: &mut Tx, name: &'static str) -> Result<(), sqlx::Error> {
    let sql = format!("RELEASE SAVEPOINT {name}; SAVEPOINT {name}");
    (&mut **tx).execute(sql.as_str()).await.map(|_| ())
}

/// Undoes what was written since savepoint `name`, which stays open (for
/// [`release_and_reopen`]).
pub async fn rollback_to_open(tx: &mut Tx, name: &'static str) -> Result<(), sqlx::Error> {
    sqlx::query(&format!("ROLLBACK TO SAVEPOINT {name}"))
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

/// A parameter of a statement run with [`Together`].
#[derive(Debug, Clone)]
pub enum Value {
    Text(String),
    MaybeText(Option<String>),
    Int(i64),
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}

impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        Value::MaybeText(v)
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

/// Writes that run together inside a transaction, in one call: on SQLite
/// as one multi-statement call, run in order (sqlx runs each SQLite
/// statement on the connection's worker thread, so every call costs two
/// thread switches); on PostgreSQL as one statement whose parts are
/// data-modifying `WITH` queries (its extended protocol takes one
/// statement per call). So the parts must not depend on each other's
/// effects (on PostgreSQL they all see the snapshot from before the call):
/// writes whose values are all in hand, on different rows, none read back.
/// A part that needs another's result names it ([`Together::part_name`]:
/// on PostgreSQL it reads that part's `RETURNING`, on SQLite the table it
/// wrote, as `feed::push_changes` does with the feed counter). Each part
/// numbers its parameters from `$1`; they are renumbered when joined.
/// For a few statements of a few parameters each: on SQLite the joined
/// numbers are named parameters, whose cost grows with the square of their
/// number (see [`in_order`]); thousands of rows go through [`insert_rows`].
#[derive(Debug)]
pub struct Together {
    sqlite: bool,
    parts: Vec<(String, Vec<Value>)>,
}

impl Together {
    /// An empty set of writes for `tx`'s engine.
    pub fn on(tx: &Tx) -> Self {
        Self {
            sqlite: tx.backend_name() == "SQLite",
            parts: Vec::new(),
        }
    }

    pub fn is_sqlite(&self) -> bool {
        self.sqlite
    }

    /// Adds a part; returns its index (for [`Together::part_name`]).
    pub fn push(&mut self, sql: impl Into<String>, values: Vec<Value>) -> usize {
        self.parts.push((sql.into(), values));
        self.parts.len() - 1
    }

    /// The name part `index` has on PostgreSQL, for a later part to read
    /// its `RETURNING` rows.
    pub fn part_name(index: usize) -> String {
        format!("part{index}")
    }

    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// Runs the parts (and leaves `self` empty).
    pub async fn run(&mut self, tx: &mut Tx) -> Result<(), sqlx::Error> {
        let parts = std::mem::take(&mut self.parts);
        if parts.len() == 1 {
            let (sql, values) = parts.into_iter().next().expect("one part");
            return execute(tx, &sql, values).await;
        }
        if parts.is_empty() {
            return Ok(());
        }
        let mut sql = String::new();
        let mut values = Vec::new();
        for (i, (part, vals)) in parts.into_iter().enumerate() {
            let part = renumber(&part, values.len());
            if self.sqlite {
                sql.push_str(&part);
                sql.push_str(";\n");
            } else {
                sql.push_str(if i == 0 { "WITH " } else { ", " });
                sql.push_str(&format!("{} AS ({part})", Self::part_name(i)));
            }
            values.extend(vals);
        }
        if !self.sqlite {
            sql.push_str(" SELECT 1");
        }
        execute(tx, &sql, values).await
    }
}

async fn execute(tx: &mut Tx, sql: &str, values: Vec<Value>) -> Result<(), sqlx::Error> {
    bind(sqlx::query(sql), values)
        .execute(&mut **tx)
        .await
        .map(|_| ())
}

/// `query` with `values` bound in order.
pub fn bind<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    values: Vec<Value>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    values.into_iter().fold(query, |query, v| match v {
        Value::Text(t) => query.bind(t),
        Value::MaybeText(t) => query.bind(t),
        Value::Int(i) => query.bind(i),
    })
}

/// `sql` with each parameter `$n` written `$(n + offset)`.
fn renumber(sql: &str, offset: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c != '$' {
            continue;
        }
        let mut n = String::new();
        while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            n.push(*d);
            chars.next();
        }
        match n.parse::<usize>() {
            Ok(n) => out.push_str(&(n + offset).to_string()),
            Err(_) => out.push_str(&n),
        }
    }
    out
}

/// Claims an embedded SQLite database for this server process (an
/// exclusive lock on `<file>.serving`, released when the process ends):
/// one process serves it, since sessions remembered between requests
/// (`session_cache`), live pokes and socket closes are in-process. A second
/// server on the same file waits up to 5 s (a restart) and then refuses to
/// start. `None` for PostgreSQL and in-memory databases.
pub fn claim_sqlite_file(url: &str) -> anyhow::Result<Option<std::fs::File>> {
    if Backend::from_url(url)? != Backend::Sqlite {
        return Ok(None);
    }
    let Some(path) = sqlite_file(url) else {
        return Ok(None);
    };
    ensure_sqlite_parent_dir(url)?;
    let lock_path = format!("{path}.serving");
    let file = open_private(&lock_path).with_context(|| format!("opening {lock_path}"))?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(Some(file)),
            Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
                "another mostrador-server is serving {path}: the embedded SQLite database \
                 is served by one process (use PostgreSQL for several instances)"
            ),
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("locking {lock_path}"))
            }
        }
    }
}

/// The file a SQLite URL names; `None` for an in-memory database.
fn sqlite_file(url: &str) -> Option<&str> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or("");
    let in_memory = path.is_empty() || path == ":memory:" || url.contains("mode=memory");
    (!in_memory).then_some(path)
}

/// Opens `path` for writing, creating it readable by its owner only.
fn open_private(path: &str) -> std::io::Result<std::fs::File> {
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    open.open(path)
}

fn ensure_sqlite_parent_dir(url: &str) -> anyhow::Result<()> {
    let Some(path) = sqlite_file(url) else {
        return Ok(());
    };
    if let Some(parent) = std::path::Path::new(path).parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
    }
    // A new database file is readable by its owner only (SQLite gives its
    // -wal and -shm files the same permissions).
    open_private(path).with_context(|| format!("creating {path}"))?;
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

#[cfg(test)]
mod tests {
    use super::renumber;

    #[test]
    fn parameters_are_renumbered_past_the_statements_before() {
        assert_eq!(
            renumber("UPDATE t SET a = $1, b = $12 WHERE id = $2", 3),
            "UPDATE t SET a = $4, b = $15 WHERE id = $5"
        );
        assert_eq!(renumber("SELECT 1", 7), "SELECT 1");
    }
}
