//! The outbox's rules, with no I/O: what a queued write is, what it still
//! waits for (the files it names), which writes a push sends now, and when a
//! failed one is tried again. The native engine's push (`engine.rs`), the
//! uploads (`files.rs`) and a browser engine share them; the store only
//! keeps the rows.

use std::time::Duration;

use mostrador_core::app::UnsentKind;
use mostrador_core::sync::{Mutation, MutationOp};
use mostrador_core::ApiError;
use uuid::Uuid;

/// A row of the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxItem {
    pub seq: i64,
    pub mutation: Mutation,
    pub created_at: i64,
    pub attempts: i64,
    pub next_attempt_at: i64,
    /// The last transient failure, for display.
    pub last_error: Option<String>,
    /// Set when the server refused it for good: the user retries or discards.
    pub wedged: Option<ApiError>,
}

/// A file waiting to go up (its bytes stay in the store until then).
#[derive(Debug, Clone, PartialEq)]
pub struct PendingUpload {
    pub attachment_id: Uuid,
    pub conversation_id: Uuid,
    pub filename: String,
    pub size: i64,
    /// The outbox write that must be applied first (the opening of its
    /// conversation, when that was started on this device and is unsent).
    pub waits_for: Option<Uuid>,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    /// Refused for good: the message that needs it is refused with this.
    pub failed: Option<ApiError>,
}

/// What a queued write still needs before it can be sent.
#[derive(Debug, PartialEq)]
pub enum Needs {
    Nothing,
    /// A file it names has not gone up yet.
    Upload,
    /// A file it names was refused for good.
    Refused(mostrador_core::ApiError),
}

/// The files a write names.
pub fn attachment_ids(op: &MutationOp) -> &[Uuid] {
    match op {
        MutationOp::SendMessage { message, .. } => &message.attachment_ids,
        _ => &[],
    }
}

/// Whether `item` can be sent now, given the files still waiting.
pub fn needs(item: &OutboxItem, waiting: &[PendingUpload]) -> Needs {
    let mut needs = Needs::Nothing;
    for id in attachment_ids(&item.mutation.op) {
        if let Some(u) = waiting.iter().find(|u| u.attachment_id == *id) {
            match &u.failed {
                Some(reason) => return Needs::Refused(reason.clone()),
                None => needs = Needs::Upload,
            }
        }
    }
    needs
}

/// What a queued write is, for the summary of another account's writes.
pub fn unsent_kind(op: &MutationOp) -> UnsentKind {
    use mostrador_core::chat::MessageKind;
    match op {
        MutationOp::OpenConversation(_) => UnsentKind::Question,
        MutationOp::SendMessage { message, .. } if message.kind == MessageKind::Note => {
            UnsentKind::Note
        }
        MutationOp::SendMessage { .. } => UnsentKind::Message,
        MutationOp::MarkMessages { .. } => UnsentKind::Receipt,
        MutationOp::RequestCallback(_) => UnsentKind::CallbackRequest,
        MutationOp::CancelCallback { .. } => UnsentKind::CallbackCancel,
        MutationOp::RescheduleCallback { .. } => UnsentKind::CallbackChange,
        MutationOp::RateConversation { .. } => UnsentKind::Rating,
        MutationOp::UpdateProfile(_) => UnsentKind::Profile,
        MutationOp::PutAddress(_) => UnsentKind::Address,
        MutationOp::DeleteAddress { .. } => UnsentKind::AddressRemoval,
        MutationOp::DeleteAccount => UnsentKind::AccountDeletion,
        MutationOp::UpdateConversation { .. } => UnsentKind::ConversationUpdate,
        MutationOp::RecordOutcome { .. } => UnsentKind::CallbackOutcome,
    }
}

/// What a push does with the outbox as it stands at `now`.
#[derive(Debug, Default, PartialEq)]
pub struct PushPlan {
    /// Due, unwedged writes whose files are up, oldest first: sent in
    /// batches of at most `MAX_PUSH`.
    pub send: Vec<OutboxItem>,
    /// Writes naming a file refused for good: wedged with the file's reason.
    pub wedge: Vec<(Uuid, ApiError)>,
}

/// Which writes go now: not wedged, due, and not waiting for a file (a
/// message waits only for its own files, so text never queues behind an
/// upload).
pub fn plan_push(items: Vec<OutboxItem>, waiting: &[PendingUpload], now: i64) -> PushPlan {
    let mut plan = PushPlan::default();
    for item in items {
        if item.wedged.is_some() || item.next_attempt_at > now {
            continue;
        }
        match needs(&item, waiting) {
            Needs::Nothing => plan.send.push(item),
            Needs::Upload => {}
            Needs::Refused(reason) => plan.wedge.push((item.mutation.client_id, reason)),
        }
    }
    plan
}

/// When a write that failed without a final answer is tried again: after
/// the jittered backoff for its attempts so far (at least the server's
/// `retry_after`), in milliseconds since the epoch.
pub fn next_attempt_at(attempts: i64, jitter: f64, retry_after: Option<Duration>, now: i64) -> i64 {
    let attempts = u32::try_from(attempts).unwrap_or(u32::MAX);
    let wait = crate::rules::retry::backoff(attempts, jitter, retry_after);
    now.saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 4))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mostrador_core::chat::{MessageKind, SendMessage};
    use mostrador_core::ErrorCode;

    fn item(seq: i64, op: MutationOp) -> OutboxItem {
        OutboxItem {
            seq,
            mutation: Mutation {
                client_id: Uuid::from_u128(seq as u128),
                op,
            },
            created_at: 0,
            attempts: 0,
            next_attempt_at: 0,
            last_error: None,
            wedged: None,
        }
    }

    fn message_with(file: Uuid) -> MutationOp {
        MutationOp::SendMessage {
            conversation_id: Uuid::nil(),
            message: SendMessage {
                id: Uuid::new_v4(),
                body: "see the photo".into(),
                kind: MessageKind::Text,
                attachment_ids: vec![file],
            },
        }
    }

    fn upload(id: Uuid, failed: Option<ApiError>) -> PendingUpload {
        PendingUpload {
            attachment_id: id,
            conversation_id: Uuid::nil(),
            filename: "a.png".into(),
            size: 1,
            waits_for: None,
            attempts: 0,
            next_attempt_at: 0,
            last_error: None,
            failed,
        }
    }

    #[test]
    fn a_push_sends_what_is_due_and_holds_only_the_messages_whose_files_wait() {
        let (waiting, refused) = (Uuid::from_u128(100), Uuid::from_u128(101));
        let reason = ApiError::new(ErrorCode::ValidationFailed, "too large");
        let mut later = item(2, MutationOp::DeleteAccount);
        later.next_attempt_at = 5_000;
        let mut wedged = item(3, MutationOp::DeleteAccount);
        wedged.wedged = Some(reason.clone());
        let items = vec![
            item(1, MutationOp::DeleteAccount),
            later,
            wedged,
            item(4, message_with(waiting)),
            item(5, message_with(refused)),
            item(6, MutationOp::DeleteAccount),
        ];
        let files = [upload(waiting, None), upload(refused, Some(reason.clone()))];

        let plan = plan_push(items.clone(), &files, 1_000);
        let seqs: Vec<i64> = plan.send.iter().map(|i| i.seq).collect();
        assert_eq!(seqs, [1, 6], "due, unwedged, not waiting for a file");
        assert_eq!(plan.wedge, [(Uuid::from_u128(5), reason)]);

        // Once due, the deferred write goes too, still in order.
        let plan = plan_push(items, &files, 5_000);
        let seqs: Vec<i64> = plan.send.iter().map(|i| i.seq).collect();
        assert_eq!(seqs, [1, 2, 6]);
    }

    #[test]
    fn the_next_attempt_backs_off_from_now_and_honours_retry_after() {
        assert_eq!(next_attempt_at(0, 1.0, None, 1_000), 1_500);
        assert_eq!(next_attempt_at(3, 1.0, None, 0), 4_000);
        assert_eq!(
            next_attempt_at(-1, 1.0, None, 0),
            60_000,
            "never negative attempts"
        );
        assert_eq!(
            next_attempt_at(0, 1.0, Some(Duration::from_secs(9)), 0),
            9_000
        );
    }
}
