//! Attachments on the device: files attached offline wait in
//! `pending_uploads` and are uploaded before the outbox is pushed; fetched
//! files are kept in a bounded cache (least recently used evicted first).

use mostrador_core::chat::{sniff_attachment, MAX_ATTACHMENT_BYTES};
use mostrador_core::ErrorCode;
use sqlx::Row;
use uuid::Uuid;

use crate::engine::Engine;
use crate::retry::{classify, RetryKind};
use crate::store::now_ms;
use crate::ClientError;

/// How many bytes of fetched attachments the cache keeps.
pub const CACHE_LIMIT_BYTES: i64 = 64 * 1024 * 1024;

fn db_err(e: sqlx::Error) -> ClientError {
    ClientError::Store(e.to_string())
}

impl Engine {
    /// Keeps a file for a message; returns the attachment id to put in
    /// `SendMessage::attachment_ids`. Refuses at once what the server would
    /// refuse (not an image or PDF, over 10 MB).
    pub async fn attach(
        &self,
        conversation_id: Uuid,
        filename: &str,
        bytes: Vec<u8>,
    ) -> Result<Uuid, ClientError> {
        if bytes.len() > MAX_ATTACHMENT_BYTES {
            return Err(ClientError::Api(mostrador_core::ApiError::new(
                ErrorCode::PayloadTooLarge,
                "files are limited to 10 MB",
            )));
        }
        if sniff_attachment(&bytes).is_none() {
            return Err(ClientError::Api(mostrador_core::ApiError::new(
                ErrorCode::ValidationFailed,
                "only images (PNG, JPEG, GIF, WebP) and PDF files can be attached",
            )));
        }
        let id = Uuid::new_v4();
        sqlx::query("INSERT INTO pending_uploads (attachment_id, conversation_id, filename, bytes, created_at) VALUES (?, ?, ?, ?, ?)")
            .bind(id.to_string())
            .bind(conversation_id.to_string())
            .bind(filename)
            .bind(bytes)
            .bind(now_ms())
            .execute(self.store().pool())
            .await
            .map_err(db_err)?;
        Ok(id)
    }

    /// Uploads every pending file, oldest first. A network or server failure
    /// stops here (the files stay); a refusal drops the file, and the message
    /// that refers to it is then refused with the reason, visibly.
    pub async fn upload_pending(&self) -> Result<usize, ClientError> {
        let rows = sqlx::query("SELECT attachment_id, conversation_id, filename, bytes FROM pending_uploads ORDER BY created_at")
            .fetch_all(self.store().pool())
            .await
            .map_err(db_err)?;
        let mut done = 0;
        for r in rows {
            let id: String = r.get("attachment_id");
            let conv: String = r.get("conversation_id");
            let filename: String = r.get("filename");
            let bytes: Vec<u8> = r.get("bytes");
            match self.api().upload(&conv, &id, &filename, bytes).await {
                Ok(()) => {}
                Err(err) => match classify(&err) {
                    RetryKind::Permanent(reason) => {
                        tracing::info!(code = ?reason.code, "an attachment was refused")
                    }
                    _ => return Err(err),
                },
            }
            sqlx::query("DELETE FROM pending_uploads WHERE attachment_id = ?")
                .bind(&id)
                .execute(self.store().pool())
                .await
                .map_err(db_err)?;
            done += 1;
        }
        Ok(done)
    }

    /// The bytes of an attachment: a file still waiting to upload, the
    /// cache, or the server (then cached).
    pub async fn attachment_bytes(&self, id: Uuid) -> Result<Vec<u8>, ClientError> {
        let pool = self.store().pool();
        let pending: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT bytes FROM pending_uploads WHERE attachment_id = ?")
                .bind(id.to_string())
                .fetch_optional(pool)
                .await
                .map_err(db_err)?;
        if let Some(b) = pending {
            return Ok(b);
        }
        let cached: Option<Vec<u8>> = sqlx::query_scalar(
            "UPDATE attachment_cache SET used_at = ? WHERE attachment_id = ? RETURNING bytes",
        )
        .bind(now_ms())
        .bind(id.to_string())
        .fetch_optional(pool)
        .await
        .map_err(db_err)?;
        if let Some(b) = cached {
            return Ok(b);
        }
        let bytes = self.api().download(&id.to_string()).await?;
        let mut tx = pool.begin().await.map_err(db_err)?;
        sqlx::query("INSERT OR REPLACE INTO attachment_cache (attachment_id, bytes, size, used_at) VALUES (?, ?, ?, ?)")
            .bind(id.to_string())
            .bind(&bytes)
            .bind(bytes.len() as i64)
            .bind(now_ms())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        // Evict the least recently used until the cache fits its limit.
        loop {
            let total: i64 =
                sqlx::query_scalar("SELECT COALESCE(SUM(size), 0) FROM attachment_cache")
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db_err)?;
            if total <= CACHE_LIMIT_BYTES {
                break;
            }
            sqlx::query("DELETE FROM attachment_cache WHERE attachment_id = (SELECT attachment_id FROM attachment_cache ORDER BY used_at LIMIT 1)")
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(bytes)
    }
}
