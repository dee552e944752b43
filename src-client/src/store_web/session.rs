//! The signed-in user, and what the end of a session (or of an account on
//! this device) forgets or keeps.

use mostrador_core::auth::Me;
use wasm_bindgen::JsValue;

use super::idb::{self, json_err, Durability, Tx};
use super::{clear, put_kv, Store, ALL, KV, UNSENT};
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

    /// The JSON kept under `key`, decoded (an unreadable value is none).
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
        let tx = Tx::write(&self.db().await?, &ALL, Durability::Strict)?;
        clear(&tx, &ALL).await?;
        tx.commit().await
    }

    /// The session ended without a sign-out (expired, revoked): forgets the
    /// cache, the cursor, drafts, the signed-in user and every other store,
    /// but keeps unsent writes and their files, with `owner` (who wrote
    /// them; see [`Store::unsent_owner`]). With nothing unsent, or no known
    /// owner, forgets everything. Returns whether writes were kept.
    pub async fn forget_session(&self, owner: Option<&Me>) -> Result<bool, ClientError> {
        let tx = Tx::write(&self.db().await?, &ALL, Durability::Strict)?;
        let mut unsent = 0.0;
        for store in UNSENT {
            unsent += idb::call(tx.store(store)?.count())
                .await?
                .as_f64()
                .unwrap_or(0.0);
        }
        let keep = unsent > 0.0 && owner.is_some();
        let forget: Vec<&str> = ALL
            .into_iter()
            .filter(|s| !(keep && UNSENT.contains(s)))
            .collect();
        clear(&tx, &forget).await?;
        if let Some(owner) = owner.filter(|_| keep) {
            put_kv(
                &tx,
                UNSENT_OWNER,
                &serde_json::to_string(owner).map_err(json_err)?,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(keep)
    }

    /// Who wrote the unsent writes kept after their session ended.
    pub async fn unsent_owner(&self) -> Result<Option<Me>, ClientError> {
        self.get_json(UNSENT_OWNER).await
    }

    /// The unsent writes now belong to the signed-in user again.
    pub async fn clear_unsent_owner(&self) -> Result<(), ClientError> {
        let tx = Tx::write(&self.db().await?, &[KV], Durability::Strict)?;
        idb::call(tx.store(KV)?.delete(&JsValue::from_str(UNSENT_OWNER))).await?;
        tx.commit().await
    }
}
