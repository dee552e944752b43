//! The local store: SQLite through sqlx, WAL mode, embedded migrations.
//!
//! Holds the cache of synced entities, the sync cursor and the outbox.
//! **Invariant:** a page of changes and the cursor that follows it are
//! written in one transaction, so after a crash the cache never claims to
//! be further along than it is. No secret is ever written here (the session
//! token lives in the OS keychain).

use std::path::{Path, PathBuf};
use std::str::FromStr;

use mostrador_core::orders::{Order, TrackingEvent, TrackingStatus};
use mostrador_core::sync::{Mutation, SyncItem, SyncPage};
use mostrador_core::ApiError;
use serde::de::DeserializeOwned;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use uuid::Uuid;

use crate::ClientError;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// An order moved on since the cache last saw it (for notifications).
#[derive(Debug, Clone, PartialEq)]
pub struct OrderProgress {
    pub order_id: Uuid,
    pub number: String,
    /// `Some` when the status changed.
    pub status: Option<TrackingStatus>,
    /// Timeline entries that are new to this device, oldest first.
    pub new_events: Vec<TrackingEvent>,
}

impl OrderProgress {
    /// `None` for an order seen for the first time or unchanged.
    pub fn between(old: Option<&Order>, new: &Order) -> Option<Self> {
        let old = old?;
        let status = (old.status != new.status).then_some(new.status);
        let new_events: Vec<TrackingEvent> = new
            .timeline
            .iter()
            .filter(|e| !old.timeline.iter().any(|o| o.id == e.id))
            .cloned()
            .collect();
        (status.is_some() || !new_events.is_empty()).then(|| OrderProgress {
            order_id: new.id,
            number: new.number.clone(),
            status,
            new_events,
        })
    }
}

/// A row of the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxItem {
    pub seq: i64,
    pub mutation: Mutation,
    pub created_at: i64,
    pub attempts: i64,
    pub next_attempt_at: i64,
    /// The last transient failure, for display.
    pub last_error: Option<String>,
    /// Set when the server refused it for good: the user retries or discards.
    pub wedged: Option<ApiError>,
}

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

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub async fn get_kv(&self, key: &str) -> Result<Option<String>, ClientError> {
        sqlx::query_scalar("SELECT value FROM kv WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)
    }

    pub async fn set_kv(&self, key: &str, value: &str) -> Result<(), ClientError> {
        sqlx::query("INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    /// The feed cursor the cache is complete up to.
    pub async fn cursor(&self) -> Result<i64, ClientError> {
        Ok(self
            .get_kv("cursor")
            .await?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    /// Applies one page of changes and advances the cursor, atomically.
    /// A page that ends at or before the stored cursor (a duplicate, or one
    /// overtaken by a newer pull) changes nothing. Returns whether it applied.
    pub async fn apply_page(
        &self,
        page: &SyncPage,
    ) -> Result<Option<Vec<OrderProgress>>, ClientError> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let current: Option<String> =
            sqlx::query_scalar("SELECT value FROM kv WHERE key = 'cursor'")
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
        let current = current.and_then(|c| c.parse::<i64>().ok()).unwrap_or(0);
        if page.cursor <= current {
            return Ok(None);
        }
        let mut progress = Vec::new();
        for item in &page.items {
            if let SyncItem::Message(m) = item {
                if m.kind == mostrador_core::chat::MessageKind::Text {
                    let at = m.created_at.as_millisecond();
                    let customer = m.author_role == mostrador_core::auth::Role::Customer;
                    sqlx::query(
                        "INSERT INTO conversation_activity (conversation_id, customer_at, staff_at, customer_name)
                         VALUES (?1, CASE WHEN ?2 THEN ?3 END, CASE WHEN ?2 THEN NULL ELSE ?3 END, CASE WHEN ?2 THEN ?4 END)
                         ON CONFLICT (conversation_id) DO UPDATE SET
                           customer_at = CASE WHEN ?2 THEN MAX(COALESCE(customer_at, 0), ?3) ELSE customer_at END,
                           staff_at = CASE WHEN ?2 THEN staff_at ELSE MAX(COALESCE(staff_at, 0), ?3) END,
                           customer_name = CASE WHEN ?2 THEN ?4 ELSE customer_name END",
                    )
                    .bind(m.conversation_id.to_string())
                    .bind(customer)
                    .bind(at)
                    .bind(&m.author_name)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                }
            }
            if let SyncItem::Order(new) = item {
                let old: Option<String> =
                    sqlx::query_scalar("SELECT json FROM entities WHERE kind = 'order' AND id = ?")
                        .bind(new.id.to_string())
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db_err)?;
                let old: Option<Order> = old.and_then(|j| serde_json::from_str(&j).ok());
                if let Some(p) = OrderProgress::between(old.as_ref(), new) {
                    progress.push(p);
                }
            }
            let (kind, id, parent, sort, json) = match item {
                SyncItem::Order(o) => (
                    "order",
                    o.id,
                    None,
                    o.placed_at.as_millisecond(),
                    serde_json::to_string(o),
                ),
                SyncItem::Conversation(c) => (
                    "conversation",
                    c.id,
                    None,
                    c.last_message_at.unwrap_or(c.updated_at).as_millisecond(),
                    serde_json::to_string(c),
                ),
                SyncItem::Message(m) => (
                    "message",
                    m.id,
                    Some(m.conversation_id),
                    m.created_at.as_millisecond(),
                    serde_json::to_string(m),
                ),
                SyncItem::Callback(c) => (
                    "callback",
                    c.id,
                    None,
                    c.slot_start.unwrap_or(c.created_at).as_millisecond(),
                    serde_json::to_string(c),
                ),
                SyncItem::Profile(p) => ("profile", p.user_id, None, 0, serde_json::to_string(p)),
                SyncItem::Removed { kind, id } => {
                    sqlx::query("DELETE FROM entities WHERE kind = ? AND id = ?")
                        .bind(kind)
                        .bind(id.to_string())
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    continue;
                }
            };
            sqlx::query(
                "INSERT INTO entities (kind, id, parent_id, sort_key, json) VALUES (?, ?, ?, ?, ?)
                 ON CONFLICT (kind, id) DO UPDATE SET parent_id = excluded.parent_id, sort_key = excluded.sort_key, json = excluded.json",
            )
            .bind(kind)
            .bind(id.to_string())
            .bind(parent.map(|p| p.to_string()))
            .bind(sort)
            .bind(json.map_err(json_err)?)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        sqlx::query("INSERT INTO kv (key, value) VALUES ('cursor', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(page.cursor.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(Some(progress))
    }

    /// Forgets every synced entity and the cursor (the server asked for a
    /// full resync). The outbox is kept: unsent writes are never dropped.
    pub async fn reset_cache(&self) -> Result<(), ClientError> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query("DELETE FROM conversation_activity")
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        sqlx::query("DELETE FROM entities")
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        sqlx::query("DELETE FROM kv WHERE key = 'cursor'")
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    /// Forgets the cache, the cursor, the outbox and pending files: the
    /// device now belongs to another account.
    pub async fn forget_everything(&self) -> Result<(), ClientError> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        for table in [
            "entities",
            "kv",
            "outbox",
            "pending_uploads",
            "attachment_cache",
            "conversation_activity",
            "drafts",
        ] {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    /// Entities of a kind (optionally under a parent), newest `sort_key` last.
    pub async fn list<T: DeserializeOwned>(
        &self,
        kind: &str,
        parent: Option<Uuid>,
    ) -> Result<Vec<T>, ClientError> {
        let rows = match parent {
            Some(p) => sqlx::query(
                "SELECT json FROM entities WHERE kind = ? AND parent_id = ? ORDER BY sort_key, id",
            )
            .bind(kind)
            .bind(p.to_string())
            .fetch_all(&self.pool)
            .await,
            None => {
                sqlx::query("SELECT json FROM entities WHERE kind = ? ORDER BY sort_key, id")
                    .bind(kind)
                    .fetch_all(&self.pool)
                    .await
            }
        }
        .map_err(db_err)?;
        rows.iter()
            .map(|r| serde_json::from_str(&r.get::<String, _>("json")).map_err(json_err))
            .collect()
    }

    pub async fn get<T: DeserializeOwned>(
        &self,
        kind: &str,
        id: Uuid,
    ) -> Result<Option<T>, ClientError> {
        let json: Option<String> =
            sqlx::query_scalar("SELECT json FROM entities WHERE kind = ? AND id = ?")
                .bind(kind)
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        json.map(|j| serde_json::from_str(&j).map_err(json_err))
            .transpose()
    }

    // ---- outbox ----

    /// Persists a write before anything else happens to it.
    pub async fn enqueue(&self, mutation: &Mutation) -> Result<i64, ClientError> {
        let json = serde_json::to_string(mutation).map_err(json_err)?;
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO outbox (client_id, mutation, created_at) VALUES (?, ?, ?)
             ON CONFLICT (client_id) DO UPDATE SET client_id = excluded.client_id RETURNING seq",
        )
        .bind(mutation.client_id.to_string())
        .bind(json)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(seq)
    }

    /// Every outbox row, oldest first.
    pub async fn outbox(&self) -> Result<Vec<OutboxItem>, ClientError> {
        let rows = sqlx::query("SELECT seq, mutation, created_at, attempts, next_attempt_at, last_error, wedged FROM outbox ORDER BY seq")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(OutboxItem {
                    seq: r.get("seq"),
                    mutation: serde_json::from_str(&r.get::<String, _>("mutation"))
                        .map_err(json_err)?,
                    created_at: r.get("created_at"),
                    attempts: r.get("attempts"),
                    next_attempt_at: r.get("next_attempt_at"),
                    last_error: r.get("last_error"),
                    wedged: r
                        .get::<Option<String>, _>("wedged")
                        .map(|w| serde_json::from_str(&w).map_err(json_err))
                        .transpose()?,
                })
            })
            .collect()
    }

    pub async fn remove_outbox(&self, client_id: Uuid) -> Result<(), ClientError> {
        sqlx::query("DELETE FROM outbox WHERE client_id = ?")
            .bind(client_id.to_string())
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    pub async fn wedge(&self, client_id: Uuid, reason: &ApiError) -> Result<(), ClientError> {
        sqlx::query("UPDATE outbox SET wedged = ?, attempts = attempts + 1 WHERE client_id = ?")
            .bind(serde_json::to_string(reason).map_err(json_err)?)
            .bind(client_id.to_string())
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    /// Records a transient failure of the head of the queue and when to try
    /// again.
    pub async fn defer(
        &self,
        client_id: Uuid,
        error: &str,
        next_attempt_at: i64,
    ) -> Result<(), ClientError> {
        sqlx::query("UPDATE outbox SET last_error = ?, attempts = attempts + 1, next_attempt_at = ? WHERE client_id = ?")
            .bind(error)
            .bind(next_attempt_at)
            .bind(client_id.to_string())
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    /// The draft kept for a conversation's composer.
    pub async fn draft(&self, conversation_id: Uuid) -> Result<Option<String>, ClientError> {
        sqlx::query_scalar("SELECT body FROM drafts WHERE conversation_id = ?")
            .bind(conversation_id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)
    }

    /// Keeps `body` as the conversation's draft (replacing the last one).
    pub async fn put_draft(&self, conversation_id: Uuid, body: &str) -> Result<(), ClientError> {
        sqlx::query(
            "INSERT INTO drafts (conversation_id, body, updated_at) VALUES (?, ?, ?)
             ON CONFLICT (conversation_id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
        )
        .bind(conversation_id.to_string())
        .bind(body)
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    /// Forgets the conversation's draft (sent, or emptied by the user).
    pub async fn delete_draft(&self, conversation_id: Uuid) -> Result<(), ClientError> {
        sqlx::query("DELETE FROM drafts WHERE conversation_id = ?")
            .bind(conversation_id.to_string())
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    /// The user asked to try a wedged item again.
    pub async fn unwedge(&self, client_id: Uuid) -> Result<bool, ClientError> {
        let done = sqlx::query("UPDATE outbox SET wedged = NULL, next_attempt_at = 0 WHERE client_id = ? AND wedged IS NOT NULL")
            .bind(client_id.to_string())
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
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

/// A file waiting to go up (its bytes stay in the table until then).
#[derive(Debug, Clone, PartialEq)]
pub struct PendingUpload {
    pub attachment_id: Uuid,
    pub conversation_id: Uuid,
    pub filename: String,
    pub size: i64,
    /// The outbox write that must be applied first (the opening of its
    /// conversation, when that was started on this device and is unsent).
    pub waits_for: Option<Uuid>,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    /// Refused for good: the message that needs it is refused with this.
    pub failed: Option<ApiError>,
}

// ---- files: uploads waiting and the attachment cache ----
impl Store {
    /// Keeps a file to upload once `waits_for` (if any) has been applied.
    pub async fn add_pending_upload(
        &self,
        attachment_id: Uuid,
        conversation_id: Uuid,
        filename: &str,
        bytes: Vec<u8>,
        waits_for: Option<Uuid>,
    ) -> Result<(), ClientError> {
        sqlx::query(
            "INSERT INTO pending_uploads (attachment_id, conversation_id, filename, bytes, created_at, waits_for)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(attachment_id.to_string())
        .bind(conversation_id.to_string())
        .bind(filename)
        .bind(bytes)
        .bind(now_ms())
        .bind(waits_for.map(|w| w.to_string()))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    /// Every file waiting to go up, oldest first (without their bytes).
    pub async fn pending_uploads(&self) -> Result<Vec<PendingUpload>, ClientError> {
        let rows = sqlx::query(
            "SELECT attachment_id, conversation_id, filename, LENGTH(bytes) AS size, waits_for,
                    attempts, next_attempt_at, last_error, failed
             FROM pending_uploads ORDER BY created_at, attachment_id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let id = |s: String| {
            Uuid::parse_str(&s).map_err(|e| ClientError::Store(format!("bad id in the store: {e}")))
        };
        rows.iter()
            .map(|r| {
                Ok(PendingUpload {
                    attachment_id: id(r.get("attachment_id"))?,
                    conversation_id: id(r.get("conversation_id"))?,
                    filename: r.get("filename"),
                    size: r.get("size"),
                    waits_for: r
                        .get::<Option<String>, _>("waits_for")
                        .map(id)
                        .transpose()?,
                    attempts: r.get("attempts"),
                    next_attempt_at: r.get("next_attempt_at"),
                    last_error: r.get("last_error"),
                    failed: r
                        .get::<Option<String>, _>("failed")
                        .map(|w| serde_json::from_str(&w).map_err(json_err))
                        .transpose()?,
                })
            })
            .collect()
    }

    /// The bytes of a file still waiting to go up.
    pub async fn pending_upload_bytes(&self, id: Uuid) -> Result<Option<Vec<u8>>, ClientError> {
        sqlx::query_scalar("SELECT bytes FROM pending_uploads WHERE attachment_id = ?")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)
    }

    /// The server has the file (or the user gave up its message).
    pub async fn remove_pending_upload(&self, id: Uuid) -> Result<(), ClientError> {
        sqlx::query("DELETE FROM pending_uploads WHERE attachment_id = ?")
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    /// A transient failure of one upload and when to try it again.
    pub async fn defer_upload(
        &self,
        id: Uuid,
        error: &str,
        next_attempt_at: i64,
    ) -> Result<(), ClientError> {
        sqlx::query("UPDATE pending_uploads SET last_error = ?, attempts = attempts + 1, next_attempt_at = ? WHERE attachment_id = ?")
            .bind(error)
            .bind(next_attempt_at)
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    /// The server refused the file for good.
    pub async fn fail_upload(&self, id: Uuid, reason: &ApiError) -> Result<(), ClientError> {
        sqlx::query("UPDATE pending_uploads SET failed = ?, attempts = attempts + 1 WHERE attachment_id = ?")
            .bind(serde_json::to_string(reason).map_err(json_err)?)
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    /// The user asked to send again: these files are tried again now.
    pub async fn retry_uploads(&self, ids: &[Uuid]) -> Result<(), ClientError> {
        for id in ids {
            sqlx::query("UPDATE pending_uploads SET failed = NULL, next_attempt_at = 0 WHERE attachment_id = ?")
                .bind(id.to_string())
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
        }
        Ok(())
    }

    /// Makes every unwedged write and every unrefused file due now (the
    /// connection came back).
    pub async fn make_due_now(&self) -> Result<(), ClientError> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query("UPDATE outbox SET next_attempt_at = 0 WHERE wedged IS NULL")
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        sqlx::query("UPDATE pending_uploads SET next_attempt_at = 0 WHERE failed IS NULL")
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    /// A fetched file from the cache (marked as just used).
    pub async fn cached_attachment(&self, id: Uuid) -> Result<Option<Vec<u8>>, ClientError> {
        sqlx::query_scalar(
            "UPDATE attachment_cache SET used_at = ? WHERE attachment_id = ? RETURNING bytes",
        )
        .bind(now_ms())
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)
    }

    /// Keeps a fetched file, evicting the least recently used until the
    /// cache holds at most `limit` bytes.
    pub async fn cache_attachment(
        &self,
        id: Uuid,
        bytes: &[u8],
        limit: i64,
    ) -> Result<(), ClientError> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query("INSERT OR REPLACE INTO attachment_cache (attachment_id, bytes, size, used_at) VALUES (?, ?, ?, ?)")
            .bind(id.to_string())
            .bind(bytes)
            .bind(bytes.len() as i64)
            .bind(now_ms())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        loop {
            let total: i64 =
                sqlx::query_scalar("SELECT COALESCE(SUM(size), 0) FROM attachment_cache")
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db_err)?;
            if total <= limit {
                break;
            }
            sqlx::query("DELETE FROM attachment_cache WHERE attachment_id = (SELECT attachment_id FROM attachment_cache ORDER BY used_at LIMIT 1)")
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }
}

// ---- the end of a session ----
impl Store {
    /// The session ended without a sign-out (expired, revoked): forgets the
    /// cache, the cursor, drafts, the signed-in user and every other table,
    /// but keeps unsent writes and their files, with `owner` (who wrote them, as JSON) under
    /// the `unsent_owner` key. With nothing unsent, or no known owner,
    /// forgets everything. Returns whether writes were kept.
    pub async fn forget_session(&self, owner: Option<&str>) -> Result<bool, ClientError> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let unsent: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM outbox) + (SELECT COUNT(*) FROM pending_uploads)",
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let keep = unsent > 0 && owner.is_some();
        // Every table but the migrations' own (a table added later is
        // forgotten too), and the unsent ones when they are kept.
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table'
               AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'
               AND NOT (?1 AND name IN ('outbox', 'pending_uploads'))",
        )
        .bind(keep)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        for table in tables {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        if let Some(owner) = owner.filter(|_| keep) {
            sqlx::query("INSERT INTO kv (key, value) VALUES ('unsent_owner', ?)")
                .bind(owner)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(keep)
    }

    /// Who wrote the unsent writes kept after their session ended (JSON).
    pub async fn unsent_owner(&self) -> Result<Option<String>, ClientError> {
        self.get_kv("unsent_owner").await
    }

    /// The unsent writes now belong to the signed-in user again.
    pub async fn clear_unsent_owner(&self) -> Result<(), ClientError> {
        sqlx::query("DELETE FROM kv WHERE key = 'unsent_owner'")
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mostrador_core::auth::Role;
    use mostrador_core::chat::{Message, MessageKind, MessageState};

    fn message(id: Uuid, body: &str) -> SyncItem {
        SyncItem::Message(Message {
            id,
            conversation_id: Uuid::nil(),
            author_id: Uuid::nil(),
            author_role: Role::Agent,
            author_name: "Luis".into(),
            kind: MessageKind::Text,
            body: body.into(),
            state: MessageState::Sent,
            created_at: jiff::Timestamp::UNIX_EPOCH,
            attachments: vec![],
        })
    }

    #[tokio::test]
    async fn duplicate_and_overtaken_pages_change_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.sqlite3")).await.unwrap();
        let id = Uuid::new_v4();
        let newer = SyncPage {
            changes: 0,
            remaining: 0,
            items: vec![message(id, "v2")],
            cursor: 10,
            has_more: false,
        };
        let older = SyncPage {
            changes: 0,
            remaining: 0,
            items: vec![message(id, "v1")],
            cursor: 5,
            has_more: false,
        };
        assert!(store.apply_page(&newer).await.unwrap().is_some());
        assert!(
            store.apply_page(&newer).await.unwrap().is_none(),
            "the same page twice"
        );
        assert!(
            store.apply_page(&older).await.unwrap().is_none(),
            "an older page after a newer one"
        );
        let got: Message = store.get("message", id).await.unwrap().unwrap();
        assert_eq!(
            (got.body.as_str(), store.cursor().await.unwrap()),
            ("v2", 10)
        );
        // Removals apply, and survive reopening the file.
        let gone = SyncPage {
            changes: 0,
            remaining: 0,
            items: vec![SyncItem::Removed {
                kind: "message".into(),
                id,
            }],
            cursor: 11,
            has_more: false,
        };
        assert!(store.apply_page(&gone).await.unwrap().is_some());
        drop(store);
        let store = Store::open(&dir.path().join("s.sqlite3")).await.unwrap();
        assert!(store.get::<Message>("message", id).await.unwrap().is_none());
        assert_eq!(store.cursor().await.unwrap(), 11);
    }
}

#[cfg(test)]
mod order_progress_tests {
    use super::*;
    use mostrador_core::orders::TrackingEvent;

    fn order(status: TrackingStatus, events: &[(&str, TrackingStatus)]) -> Order {
        Order {
            id: Uuid::nil(),
            number: "MS-1".into(),
            customer_id: None,
            status,
            placed_at: jiff::Timestamp::UNIX_EPOCH,
            total_minor: 0,
            currency: "EUR".into(),
            items: vec![],
            shipping_address: None,
            shipment: None,
            timeline: events
                .iter()
                .map(|(id, s)| TrackingEvent {
                    id: (*id).into(),
                    status: *s,
                    at: jiff::Timestamp::UNIX_EPOCH,
                    place: None,
                    description: None,
                })
                .collect(),
            updated_at: jiff::Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn progress_is_what_this_device_has_not_seen() {
        use TrackingStatus::*;
        let v1 = order(Shipped, &[("a", Placed), ("b", Shipped)]);
        let v2 = order(Delayed, &[("a", Placed), ("b", Shipped), ("c", Delayed)]);
        assert_eq!(
            OrderProgress::between(None, &v1),
            None,
            "first sight is not news"
        );
        assert_eq!(OrderProgress::between(Some(&v1), &v1), None);
        let p = OrderProgress::between(Some(&v1), &v2).unwrap();
        assert_eq!(p.status, Some(Delayed));
        assert_eq!(
            p.new_events
                .iter()
                .map(|e| e.id.as_str())
                .collect::<Vec<_>>(),
            ["c"]
        );
        // A late event that does not change the status is still news.
        let v3 = order(
            Delayed,
            &[("a", Placed), ("x", Paid), ("b", Shipped), ("c", Delayed)],
        );
        let p = OrderProgress::between(Some(&v2), &v3).unwrap();
        assert_eq!((p.status, p.new_events.len()), (None, 1));
    }
}
