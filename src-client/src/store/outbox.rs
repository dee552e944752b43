//! The outbox's rows: a write is here before anything else happens to it.

use mostrador_core::sync::Mutation;
use mostrador_core::ApiError;
use sqlx::Row;
use uuid::Uuid;

use super::{db_err, json_err, now_ms, Store};
use crate::ClientError;

pub use crate::rules::outbox::OutboxItem;

impl Store {
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

    /// The user asked to try a wedged item again.
    pub async fn unwedge(&self, client_id: Uuid) -> Result<bool, ClientError> {
        let done = sqlx::query("UPDATE outbox SET wedged = NULL, next_attempt_at = 0 WHERE client_id = ? AND wedged IS NOT NULL")
            .bind(client_id.to_string())
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
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
}
