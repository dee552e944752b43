//! What the user left typed in a conversation's composer.

use uuid::Uuid;

use super::{db_err, now_ms, Store};
use crate::ClientError;

impl Store {
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
}
