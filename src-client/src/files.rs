//! Attachments on the device: files attached offline wait in
//! `pending_uploads` and go up on their own schedule; fetched files are kept
//! in a bounded cache (least recently used evicted first).
//!
//! # Dependencies
//!
//! Like the writes in the outbox, a file carries what it waits for, and
//! what waits for it is held back, nothing else (the idea of
//! matrix-rust-sdk's dependent send-queue requests):
//!
//! - a file attached in a conversation opened on this device and not yet
//!   on the server waits for that `open_conversation` write to be applied
//!   (`waits_for`, recorded when the file is attached): uploading it first
//!   would be refused (the conversation does not exist yet);
//! - a message waits for every file it names that has not gone up yet
//!   ([`Engine::push_pending`] skips it); later writes do not wait for it;
//! - a file that fails without an answer or with a 5xx backs off on its own
//!   (attempts, next attempt, last error, like an outbox row); one refused
//!   for good is kept, marked `failed`, and its message is refused with the
//!   reason (the user retries both, or discards the message and its files).
//!
//! An upload has a time budget that grows with its size
//! ([`upload_timeout`]) instead of the 10 s of other requests, and reports
//! its progress as [`EngineEvent::UploadProgress`].

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use mostrador_core::chat::{sniff_attachment, MAX_ATTACHMENT_BYTES};
use mostrador_core::sync::MutationOp;
use mostrador_core::ErrorCode;
use uuid::Uuid;

use crate::engine::Engine;
use crate::events::EngineEvent;
use crate::platform::{self, now_ms};
use crate::rules::outbox::{attachment_ids, next_attempt_at, OutboxItem};
use crate::rules::retry::{classify, jitter, RetryKind};
use crate::ClientError;

/// The lock an upload round holds ([`platform::exclusive`]).
pub const UPLOADS_LOCK: &str = "mostrador-uploads";

/// How many bytes of fetched attachments the cache keeps.
pub const CACHE_LIMIT_BYTES: i64 = 64 * 1024 * 1024;

/// The time one upload of `size` bytes may take: 30 s, plus a second for
/// every 32 KiB (a slow mobile link): 5 min 50 s for the 10 MB maximum.
pub fn upload_timeout(size: usize) -> Duration {
    Duration::from_secs(30 + (size as u64).div_ceil(32 * 1024))
}

/// What one round of uploads did.
#[derive(Debug, Default)]
pub struct UploadReport {
    /// Files the server now has.
    pub uploaded: usize,
    /// Files refused for good (their messages will be refused with the reason).
    pub refused: usize,
    /// The first failure that will be retried (no answer, 429, 5xx).
    pub deferred: Option<ClientError>,
    /// When the next deferred file is due (unix ms), if any.
    pub next_due: Option<i64>,
}

impl UploadReport {
    fn due_at(&mut self, at: i64) {
        self.next_due = Some(self.next_due.map_or(at, |n| n.min(at)));
    }
}

impl Engine {
    /// Keeps `files` for a message (or note) with `body` in
    /// `conversation_id`: the body and every file are checked before any
    /// file is kept, so a refusal leaves nothing queued (a kept file waits
    /// for its message and counts against the server's quota of unsent
    /// uploads). The attachment ids, for [`Engine::say`] or
    /// [`Engine::reply`].
    pub async fn attach_for(
        &self,
        conversation_id: Uuid,
        body: &str,
        files: Vec<mostrador_core::app::PickedFile>,
    ) -> Result<Vec<Uuid>, ClientError> {
        if files.is_empty() {
            return Ok(Vec::new());
        }
        mostrador_core::chat::check_body(body.trim(), true).map_err(ClientError::Api)?;
        for f in &files {
            check_file(&f.bytes)?;
        }
        let mut ids = Vec::with_capacity(files.len());
        for f in files {
            ids.push(self.attach(conversation_id, &f.name, f.bytes).await?);
        }
        Ok(ids)
    }

    /// Keeps a file for a message; returns the attachment id to put in
    /// `SendMessage::attachment_ids`. Refuses at once what the server would
    /// refuse (not an image or PDF, over 10 MB). A file for a conversation
    /// whose opening is still in the outbox waits for it.
    pub async fn attach(
        &self,
        conversation_id: Uuid,
        filename: &str,
        bytes: Vec<u8>,
    ) -> Result<Uuid, ClientError> {
        check_file(&bytes)?;
        let opening = self
            .outbox()
            .await?
            .into_iter()
            .find_map(|i| match i.mutation.op {
                MutationOp::OpenConversation(o) if o.id == conversation_id => {
                    Some(i.mutation.client_id)
                }
                _ => None,
            });
        let id = Uuid::new_v4();
        self.store()
            .add_pending_upload(id, conversation_id, filename, bytes, opening)
            .await?;
        self.uploads_changed().notify_one();
        Ok(id)
    }

    /// Uploads the files that are due and whose dependency has been applied,
    /// oldest first, each on its own: a failure defers (or, refused for
    /// good, marks) that file and the others still go. Returns an error only
    /// for the local store or a session the server no longer accepts.
    /// In the browser the origin's tabs take turns ([`UPLOADS_LOCK`]), so a
    /// file goes up from one of them.
    pub async fn upload_pending(&self) -> Result<UploadReport, ClientError> {
        let _one = self.upload_lock().lock().await;
        platform::exclusive(UPLOADS_LOCK, self.upload_due()).await
    }

    async fn upload_due(&self) -> Result<UploadReport, ClientError> {
        let waiting = self.store().pending_uploads().await?;
        let outbox = self.outbox().await?;
        let unsent: HashSet<Uuid> = outbox.iter().map(|i| i.mutation.client_id).collect();
        let mut report = UploadReport::default();
        for up in waiting {
            if up.failed.is_some() || up.waits_for.is_some_and(|w| unsent.contains(&w)) {
                continue;
            }
            if up.next_attempt_at > now_ms() {
                report.due_at(up.next_attempt_at);
                continue;
            }
            let Some(bytes) = self.store().pending_upload_bytes(up.attachment_id).await? else {
                continue; // discarded meanwhile
            };
            let message_id = outbox.iter().find_map(|i| match &i.mutation.op {
                MutationOp::SendMessage { message, .. }
                    if message.attachment_ids.contains(&up.attachment_id) =>
                {
                    Some(message.id)
                }
                _ => None,
            });
            let progress = self.upload_progress(up.attachment_id, message_id);
            let total = bytes.len();
            progress(0, total as u64);
            let sent = self
                .api()
                .upload(
                    &up.conversation_id.to_string(),
                    &up.attachment_id.to_string(),
                    &up.filename,
                    bytes,
                    upload_timeout(total),
                    progress,
                )
                .await;
            let err = match sent {
                Ok(()) => {
                    self.store().remove_pending_upload(up.attachment_id).await?;
                    report.uploaded += 1;
                    continue;
                }
                Err(err) => err,
            };
            let retry_after = match classify(&err) {
                RetryKind::Permanent(reason) if reason.code == ErrorCode::Unauthorized => {
                    return Err(err);
                }
                RetryKind::Permanent(reason) => {
                    tracing::info!(code = ?reason.code, "an attachment was refused");
                    self.store().fail_upload(up.attachment_id, &reason).await?;
                    report.refused += 1;
                    continue;
                }
                RetryKind::NetworkFailure => None,
                RetryKind::Transient { retry_after } => retry_after,
            };
            let at = next_attempt_at(up.attempts, jitter(), retry_after, now_ms());
            tracing::info!(error = %err, "an upload will be tried again");
            self.store()
                .defer_upload(up.attachment_id, &err.to_string(), at)
                .await?;
            report.due_at(at);
            report.deferred.get_or_insert(err);
        }
        Ok(report)
    }

    /// Reports an upload's bytes sent as events (a handful per file).
    fn upload_progress(
        &self,
        attachment_id: Uuid,
        message_id: Option<Uuid>,
    ) -> Arc<dyn Fn(u64, u64) + Send + Sync> {
        let events = self.events_tx().clone();
        Arc::new(move |sent, total| {
            let _ = events.send(EngineEvent::UploadProgress {
                attachment_id,
                message_id,
                sent,
                total,
            });
        })
    }

    /// Drops the files of a message the user gave up.
    pub(crate) async fn drop_uploads_of(&self, item: &OutboxItem) -> Result<(), ClientError> {
        for id in attachment_ids(&item.mutation.op) {
            self.store().remove_pending_upload(*id).await?;
        }
        Ok(())
    }

    /// The user sends a message again: its refused files are tried again too.
    pub(crate) async fn retry_uploads_of(&self, item: &OutboxItem) -> Result<(), ClientError> {
        self.store()
            .retry_uploads(attachment_ids(&item.mutation.op))
            .await?;
        self.uploads_changed().notify_one();
        Ok(())
    }

    /// The bytes of an attachment: a file still waiting to upload, the
    /// cache, or the server (then cached).
    pub async fn attachment_bytes(&self, id: Uuid) -> Result<Vec<u8>, ClientError> {
        if let Some(b) = self.store().pending_upload_bytes(id).await? {
            return Ok(b);
        }
        if let Some(b) = self.store().cached_attachment(id).await? {
            return Ok(b);
        }
        let bytes = self.api().download(&id.to_string()).await?;
        self.store()
            .cache_attachment(id, &bytes, CACHE_LIMIT_BYTES)
            .await?;
        Ok(bytes)
    }
}

/// A file the server would accept: at most 10 MB, an image or a PDF by its
/// bytes.
fn check_file(bytes: &[u8]) -> Result<(), ClientError> {
    if bytes.len() > MAX_ATTACHMENT_BYTES {
        return Err(ClientError::Api(mostrador_core::ApiError::new(
            ErrorCode::PayloadTooLarge,
            "files are limited to 10 MB",
        )));
    }
    if sniff_attachment(bytes).is_none() {
        return Err(ClientError::Api(mostrador_core::ApiError::new(
            ErrorCode::ValidationFailed,
            "only images (PNG, JPEG, GIF, WebP) and PDF files can be attached",
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_upload_budget_grows_with_the_file() {
        let cases = [
            (0, 30),
            (1, 31),
            (32 * 1024, 31),
            (1024 * 1024, 62),
            (MAX_ATTACHMENT_BYTES, 30 + 320),
        ];
        for (size, secs) in cases {
            assert_eq!(upload_timeout(size), Duration::from_secs(secs), "{size}");
        }
        assert!(upload_timeout(MAX_ATTACHMENT_BYTES) > Duration::from_secs(10));
    }
}
