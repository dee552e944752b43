//! The outbox's rules that need no I/O: what a queued write is (for the
//! summary of another account's unsent writes) and what it still waits for
//! (the files it names). Shared by the engine's push and the uploads in
//! `files.rs`, so neither imports the other.

use mostrador_core::app::UnsentKind;
use mostrador_core::sync::MutationOp;
use uuid::Uuid;

use crate::store::{OutboxItem, PendingUpload};

/// What a queued write still needs before it can be sent.
#[derive(Debug, PartialEq)]
pub(crate) enum Needs {
    Nothing,
    /// A file it names has not gone up yet.
    Upload,
    /// A file it names was refused for good.
    Refused(mostrador_core::ApiError),
}

/// The files a write names.
pub(crate) fn attachment_ids(op: &MutationOp) -> &[Uuid] {
    match op {
        MutationOp::SendMessage { message, .. } => &message.attachment_ids,
        _ => &[],
    }
}

/// Whether `item` can be sent now, given the files still waiting.
pub(crate) fn needs(item: &OutboxItem, waiting: &[PendingUpload]) -> Needs {
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
pub(crate) fn unsent_kind(op: &MutationOp) -> UnsentKind {
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
