//! The signed-in user, and what the end of a session (or of an account on
//! this device) forgets or keeps.

use mostrador_core::auth::Me;

use super::{db_err, json_err, Store};
use crate::ClientError;

/// The `kv` key of the signed-in user.
const ME: &str = "me";
/// The `kv` key of who wrote the writes kept after their session ended.
const UNSENT_OWNER: &str = "unsent_owner";

impl Store {
    /// The signed-in user as last confirmed by the server (`None` signed
    /// out; an unreadable entry counts as signed out).
    pub async fn me(&self) -> Result<Option<Me>, ClientError> {
        self.get_json(ME).await
    }

    /// Remembers who is signed in.
    pub async fn set_me(&self, me: &Me) -> Result<(), ClientError> {
        let json = serde_json::to_string(me).map_err(json_err)?;
        self.set_kv(ME, &json).await
    }

    pub(super) async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Option<T>, ClientError> {
        Ok(self
            .get_kv(key)
            .await?
            .and_then(|j| serde_json::from_str(&j).ok()))
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

    /// The session ended without a sign-out (expired, revoked): forgets the
    /// cache, the cursor, drafts, the signed-in user and every other table,
    /// but keeps unsent writes and their files, with `owner` (who wrote
    /// them; see [`Store::unsent_owner`]). With nothing unsent, or no known owner,
    /// forgets everything. Returns whether writes were kept.
    pub async fn forget_session(&self, owner: Option<&Me>) -> Result<bool, ClientError> {
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
            sqlx::query("INSERT INTO kv (key, value) VALUES (?, ?)")
                .bind(UNSENT_OWNER)
                .bind(serde_json::to_string(owner).map_err(json_err)?)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(keep)
    }

    /// Who wrote the unsent writes kept after their session ended.
    pub async fn unsent_owner(&self) -> Result<Option<Me>, ClientError> {
        self.get_json(UNSENT_OWNER).await
    }

    /// The unsent writes now belong to the signed-in user again.
    pub async fn clear_unsent_owner(&self) -> Result<(), ClientError> {
        sqlx::query("DELETE FROM kv WHERE key = ?")
            .bind(UNSENT_OWNER)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }
}
