//! What the user left typed in a conversation's composer.

use uuid::Uuid;

use super::idb::{self, Durability, Tx};
use super::{now_ms, Store, DRAFTS};
use crate::ClientError;

impl Store {
    /// The draft kept for a conversation's composer.
    pub async fn draft(&self, conversation_id: Uuid) -> Result<Option<String>, ClientError> {
        let tx = Tx::read(&self.db().await?, &[DRAFTS])?;
        let row = idb::call(tx.store(DRAFTS)?.get(&conversation_id.to_string().into())).await?;
        Ok(idb::str_field(&row, "body"))
    }

    /// Keeps `body` as the conversation's draft (replacing the last one).
    pub async fn put_draft(&self, conversation_id: Uuid, body: &str) -> Result<(), ClientError> {
        let row = idb::record(&[
            ("id", conversation_id.to_string().into()),
            ("body", body.into()),
            ("at", idb::int(now_ms())),
        ])?;
        let tx = Tx::write(&self.db().await?, &[DRAFTS], Durability::Default)?;
        idb::call(tx.store(DRAFTS)?.put(&row)).await?;
        tx.commit().await
    }

    /// Forgets the conversation's draft (sent, or emptied by the user).
    pub async fn delete_draft(&self, conversation_id: Uuid) -> Result<(), ClientError> {
        let tx = Tx::write(&self.db().await?, &[DRAFTS], Durability::Default)?;
        idb::call(
            tx.store(DRAFTS)?
                .delete(&conversation_id.to_string().into()),
        )
        .await?;
        tx.commit().await
    }
}
