//! Files on the device: uploads waiting (bytes kept until the server has
//! them) and the bounded cache of fetched attachments.

use mostrador_core::ApiError;
use sqlx::Row;
use uuid::Uuid;

use super::{db_err, json_err, now_ms, parse_id, Store};
use crate::ClientError;

pub use crate::rules::outbox::PendingUpload;

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
        let id = |s: String| parse_id(&s);
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
