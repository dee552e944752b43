//! Drafts: what the user was typing in a conversation's composer, kept in
//! the store so it survives a language switch, leaving the screen and an
//! app restart; gone once sent or emptied (and with the store on sign-out).

use uuid::Uuid;

use crate::engine::Engine;
use crate::ClientError;

impl Engine {
    /// The conversation's draft, if the user left one.
    pub async fn draft(&self, conversation_id: Uuid) -> Result<Option<String>, ClientError> {
        self.store().draft(conversation_id).await
    }

    /// Keeps what the user is typing; blank text forgets the draft.
    pub async fn save_draft(&self, conversation_id: Uuid, body: &str) -> Result<(), ClientError> {
        if body.trim().is_empty() {
            self.store().delete_draft(conversation_id).await
        } else {
            self.store().put_draft(conversation_id, body).await
        }
    }
}
