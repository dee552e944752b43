//! The local store in the browser: IndexedDB (skeleton; filled in next).

#![allow(clippy::todo, unused_variables, dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use mostrador_core::auth::Me;
use mostrador_core::chat::Message;
use mostrador_core::sync::{Mutation, SyncPage};
use mostrador_core::ApiError;
use uuid::Uuid;

pub use crate::platform::now_ms;
pub use crate::rules::kept::Kept;
pub use crate::rules::outbox::{OutboxItem, PendingUpload};
pub use crate::rules::page::{Cached, ConversationActivity, OrderProgress};
use crate::ClientError;

#[derive(Debug, Clone)]
pub struct Store {
    db: web_sys::IdbDatabase,
    path: PathBuf,
}

impl Store {
    pub async fn open_browser(name: &str) -> Result<Self, ClientError> {
        todo!()
    }
    pub fn path(&self) -> &Path {
        &self.path
    }
    pub async fn cursor(&self) -> Result<i64, ClientError> {
        todo!()
    }
    pub async fn close(self) {
        todo!()
    }
    pub async fn wipe(self) -> Result<(), ClientError> {
        todo!()
    }

    pub async fn apply_page(
        &self,
        page: &SyncPage,
    ) -> Result<Option<Vec<OrderProgress>>, ClientError> {
        todo!()
    }
    pub async fn reset_cache(&self) -> Result<(), ClientError> {
        todo!()
    }
    pub async fn list<T: Cached>(&self, parent: Option<Uuid>) -> Result<Vec<T>, ClientError> {
        todo!()
    }
    pub async fn get<T: Cached>(&self, id: Uuid) -> Result<Option<T>, ClientError> {
        todo!()
    }

    pub async fn unread_counts(
        &self,
        me: Uuid,
        only: Option<Uuid>,
    ) -> Result<HashMap<Uuid, i64>, ClientError> {
        todo!()
    }
    pub async fn last_text_messages(
        &self,
        only: Option<Uuid>,
    ) -> Result<HashMap<Uuid, Message>, ClientError> {
        todo!()
    }
    pub async fn last_text_message(
        &self,
        conversation_id: Uuid,
    ) -> Result<Option<Message>, ClientError> {
        todo!()
    }
    pub async fn conversation_activity(
        &self,
    ) -> Result<HashMap<Uuid, ConversationActivity>, ClientError> {
        todo!()
    }
    pub async fn customer_names_from_messages(&self) -> Result<HashMap<Uuid, String>, ClientError> {
        todo!()
    }
    pub async fn conversations_mentioning(&self, text: &str) -> Result<Vec<Uuid>, ClientError> {
        todo!()
    }

    pub async fn enqueue(&self, mutation: &Mutation) -> Result<i64, ClientError> {
        todo!()
    }
    pub async fn outbox(&self) -> Result<Vec<OutboxItem>, ClientError> {
        todo!()
    }
    pub async fn remove_outbox(&self, client_id: Uuid) -> Result<(), ClientError> {
        todo!()
    }
    pub async fn wedge(&self, client_id: Uuid, reason: &ApiError) -> Result<(), ClientError> {
        todo!()
    }
    pub async fn defer(
        &self,
        client_id: Uuid,
        error: &str,
        next_attempt_at: i64,
    ) -> Result<(), ClientError> {
        todo!()
    }
    pub async fn unwedge(&self, client_id: Uuid) -> Result<bool, ClientError> {
        todo!()
    }
    pub async fn make_due_now(&self) -> Result<(), ClientError> {
        todo!()
    }

    pub async fn add_pending_upload(
        &self,
        attachment_id: Uuid,
        conversation_id: Uuid,
        filename: &str,
        bytes: Vec<u8>,
        waits_for: Option<Uuid>,
    ) -> Result<(), ClientError> {
        todo!()
    }
    pub async fn pending_uploads(&self) -> Result<Vec<PendingUpload>, ClientError> {
        todo!()
    }
    pub async fn pending_upload_bytes(&self, id: Uuid) -> Result<Option<Vec<u8>>, ClientError> {
        todo!()
    }
    pub async fn remove_pending_upload(&self, id: Uuid) -> Result<(), ClientError> {
        todo!()
    }
    pub async fn defer_upload(
        &self,
        id: Uuid,
        error: &str,
        next_attempt_at: i64,
    ) -> Result<(), ClientError> {
        todo!()
    }
    pub async fn fail_upload(&self, id: Uuid, reason: &ApiError) -> Result<(), ClientError> {
        todo!()
    }
    pub async fn retry_uploads(&self, ids: &[Uuid]) -> Result<(), ClientError> {
        todo!()
    }
    pub async fn cached_attachment(&self, id: Uuid) -> Result<Option<Vec<u8>>, ClientError> {
        todo!()
    }
    pub async fn cache_attachment(
        &self,
        id: Uuid,
        bytes: &[u8],
        limit: i64,
    ) -> Result<(), ClientError> {
        todo!()
    }

    pub async fn draft(&self, conversation_id: Uuid) -> Result<Option<String>, ClientError> {
        todo!()
    }
    pub async fn put_draft(&self, conversation_id: Uuid, body: &str) -> Result<(), ClientError> {
        todo!()
    }
    pub async fn delete_draft(&self, conversation_id: Uuid) -> Result<(), ClientError> {
        todo!()
    }

    pub async fn keep<T: Kept>(&self, value: &T) -> Result<(), ClientError> {
        todo!()
    }
    pub async fn kept<T: Kept>(&self) -> Result<Option<T>, ClientError> {
        todo!()
    }

    pub async fn me(&self) -> Result<Option<Me>, ClientError> {
        todo!()
    }
    pub async fn set_me(&self, me: &Me) -> Result<(), ClientError> {
        todo!()
    }
    pub async fn forget_everything(&self) -> Result<(), ClientError> {
        todo!()
    }
    pub async fn forget_session(&self, owner: Option<&Me>) -> Result<bool, ClientError> {
        todo!()
    }
    pub async fn unsent_owner(&self) -> Result<Option<Me>, ClientError> {
        todo!()
    }
    pub async fn clear_unsent_owner(&self) -> Result<(), ClientError> {
        todo!()
    }
}
