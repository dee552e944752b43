//! What a local write touches, as the [`Changes`] the screens refetch by:
//! the engine emits them when a write is queued, applied, refused, retried
//! or discarded, so a screen redraws only when it shows what changed
//! (pending writes show in threads, lists and callbacks through local echo).
//! Pure: the engine looks up whose conversation or callback it is.

use mostrador_core::app::Changes;
use mostrador_core::sync::{EntityKind, MutationOp};
use uuid::Uuid;

/// What an op writes to, for looking up its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Conversation(Uuid),
    Callback(Option<Uuid>),
    /// The user's own profile and addresses.
    Profile,
    /// The account itself (its deletion wipes the device anyway).
    Account,
}

/// The entity `op` writes to.
pub fn target(op: &MutationOp) -> Target {
    match op {
        MutationOp::OpenConversation(o) => Target::Conversation(o.id),
        MutationOp::SendMessage {
            conversation_id, ..
        }
        | MutationOp::MarkMessages {
            conversation_id, ..
        }
        | MutationOp::RateConversation {
            conversation_id, ..
        }
        | MutationOp::UpdateConversation {
            conversation_id, ..
        } => Target::Conversation(*conversation_id),
        MutationOp::RequestCallback(r) => Target::Callback(Some(r.id)),
        MutationOp::CancelCallback { callback_id }
        | MutationOp::RescheduleCallback { callback_id, .. }
        | MutationOp::RecordOutcome { callback_id, .. } => Target::Callback(Some(*callback_id)),
        MutationOp::UpdateProfile(_)
        | MutationOp::PutAddress(_)
        | MutationOp::DeleteAddress { .. } => Target::Profile,
        MutationOp::DeleteAccount => Target::Account,
    }
}

/// What `op` changes for the screens; `customer` is whose conversation,
/// callback or profile it is, when known (the agent's customer panel).
pub fn of_op(op: &MutationOp, customer: Option<Uuid>) -> Changes {
    let mut c = Changes::default();
    match target(op) {
        Target::Conversation(id) => match op {
            // A rating or a status change shows on the summary only.
            MutationOp::RateConversation { .. } | MutationOp::UpdateConversation { .. } => {
                c.conversation(id, customer)
            }
            // A receipt this device queues (or the server applies) shows
            // nowhere until the feed brings the messages' new state back,
            // as the page's own change: no screen reloads for it. (On a
            // reader's screen a reply's arrival would otherwise be read
            // twice: once for it, once for its "delivered".)
            MutationOp::MarkMessages { .. } => {}
            // The line it shows, named so an open thread reads it alone.
            MutationOp::OpenConversation(o) => c.message(id, o.message_id, customer),
            MutationOp::SendMessage { message, .. } => c.message(id, message.id, customer),
            _ => c.conversation(id, customer),
        },
        Target::Callback(_) => c.callback(customer),
        Target::Profile => c.merge(&Changes {
            kinds: vec![EntityKind::Profile],
            customers: customer.into_iter().collect(),
            ..Changes::default()
        }),
        Target::Account => {}
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use mostrador_core::chat::{MarkMessages, MessageKind, MessageState, Rating, SendMessage};

    #[test]
    fn a_message_write_names_its_conversation_and_customer() {
        let (conv, customer, line) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let op = MutationOp::SendMessage {
            conversation_id: conv,
            message: SendMessage {
                id: line,
                body: "hello".into(),
                kind: MessageKind::Text,
                attachment_ids: vec![],
            },
        };
        let c = of_op(&op, Some(customer));
        assert_eq!(c.kinds, [EntityKind::Conversation, EntityKind::Message]);
        assert_eq!(
            (c.conversations.as_slice(), c.customers.as_slice()),
            ([conv].as_slice(), [customer].as_slice())
        );
        assert!(c.unscoped.is_empty(), "no blanket refresh");
        assert_eq!(c.messages, [line], "its line, for an open thread");
        let rated = of_op(
            &MutationOp::RateConversation {
                conversation_id: conv,
                rating: Rating {
                    score: 5,
                    comment: None,
                },
            },
            None,
        );
        assert_eq!(rated.kinds, [EntityKind::Conversation]);
    }

    #[test]
    fn a_receipt_reloads_no_screen() {
        for state in [MessageState::Delivered, MessageState::Read] {
            let op = MutationOp::MarkMessages {
                conversation_id: Uuid::new_v4(),
                mark: MarkMessages {
                    up_to: Uuid::new_v4(),
                    state,
                },
            };
            assert!(of_op(&op, Some(Uuid::new_v4())).is_empty(), "{state:?}");
        }
    }

    #[test]
    fn profile_and_callback_writes_name_only_their_kind() {
        let me = Uuid::new_v4();
        let p = of_op(
            &MutationOp::DeleteAddress {
                address_id: Uuid::new_v4(),
            },
            Some(me),
        );
        assert_eq!(
            (p.kinds.as_slice(), p.customers.as_slice()),
            ([EntityKind::Profile].as_slice(), [me].as_slice())
        );
        let cb = of_op(
            &MutationOp::CancelCallback {
                callback_id: Uuid::new_v4(),
            },
            Some(me),
        );
        assert_eq!(cb.kinds, [EntityKind::Callback]);
        assert!(of_op(&MutationOp::DeleteAccount, None).is_empty());
    }
}
