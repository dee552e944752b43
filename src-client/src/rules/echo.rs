//! Local echo, with no I/O: what the user sees before the server has
//! answered. Cached rows merged with the writes still in the outbox, each
//! marked pending, or failed with the server's reason. The engine reads the
//! rows from its store and calls these; so will a browser engine.

use jiff::Timestamp;
use mostrador_core::app::{self, CallbackLine};
use mostrador_core::callbacks::{Callback, CallbackStatus};
use mostrador_core::chat::{Conversation, Message, MessageKind, MessageState};
use mostrador_core::sync::MutationOp;
use mostrador_core::ApiError;
use uuid::Uuid;

use crate::rules::outbox::OutboxItem;

/// How far a message has got.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// Still in the outbox, waiting for the server.
    Pending,
    /// Refused by the server; the user can retry or discard `client_id`.
    Failed { client_id: Uuid, reason: ApiError },
    /// The server has it: sent, delivered or read.
    Stored(MessageState),
}

impl Delivery {
    /// The state of a write still in the outbox.
    fn of(item: &OutboxItem) -> Self {
        match &item.wedged {
            Some(reason) => Delivery::Failed {
                client_id: item.mutation.client_id,
                reason: reason.clone(),
            },
            None => Delivery::Pending,
        }
    }
}

/// One line of a thread as the UI shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreadLine {
    pub id: Uuid,
    pub body: String,
    pub kind: MessageKind,
    /// `None` for the signed-in user's own unsent messages.
    pub author_name: Option<String>,
    /// `None` for the signed-in user's own unsent messages.
    pub author_id: Option<Uuid>,
    /// Files of a stored message (unsent ones show theirs once stored).
    pub attachments: Vec<mostrador_core::chat::Attachment>,
    pub created_at: Timestamp,
    pub delivery: Delivery,
}

/// A conversation as the UI lists it; `pending` until the server has it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationLine {
    pub id: Uuid,
    pub subject: String,
    pub order_id: Option<Uuid>,
    pub conversation: Option<Conversation>,
    pub delivery: Delivery,
}

/// When a write was queued, as a timestamp.
fn queued_at(item: &OutboxItem) -> Timestamp {
    Timestamp::from_millisecond(item.created_at).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The thread of a conversation: `cached` messages, then the unsent ones in
/// the order they were written (those the server already has are not
/// repeated; the acknowledgement is on its way).
pub fn thread(
    conversation_id: Uuid,
    cached: Vec<Message>,
    outbox: &[OutboxItem],
) -> Vec<ThreadLine> {
    let mut lines: Vec<ThreadLine> = cached
        .into_iter()
        .map(|m| ThreadLine {
            id: m.id,
            body: m.body,
            kind: m.kind,
            author_name: Some(m.author_name),
            author_id: Some(m.author_id),
            attachments: m.attachments,
            created_at: m.created_at,
            delivery: Delivery::Stored(m.state),
        })
        .collect();
    for item in outbox {
        let (id, body, kind) = match &item.mutation.op {
            MutationOp::OpenConversation(o) if o.id == conversation_id => {
                (o.message_id, o.body.clone(), MessageKind::Text)
            }
            MutationOp::SendMessage {
                conversation_id: c,
                message,
            } if *c == conversation_id => (message.id, message.body.clone(), message.kind),
            _ => continue,
        };
        if lines.iter().any(|l| l.id == id) {
            continue;
        }
        lines.push(ThreadLine {
            id,
            body,
            kind,
            author_name: None,
            author_id: None,
            attachments: Vec::new(),
            created_at: queued_at(item),
            delivery: Delivery::of(item),
        });
    }
    lines
}

/// Conversations: the `cached` ones, then those opened offline that the
/// server does not have yet.
pub fn conversations(cached: Vec<Conversation>, outbox: &[OutboxItem]) -> Vec<ConversationLine> {
    let mut lines: Vec<ConversationLine> = cached
        .into_iter()
        .map(|c| ConversationLine {
            id: c.id,
            subject: c.subject.clone(),
            order_id: c.order_id,
            delivery: Delivery::Stored(MessageState::Sent),
            conversation: Some(c),
        })
        .collect();
    for item in outbox {
        if let MutationOp::OpenConversation(o) = &item.mutation.op {
            if lines.iter().any(|l| l.id == o.id) {
                continue;
            }
            lines.push(ConversationLine {
                id: o.id,
                subject: o.subject.clone(),
                order_id: o.order_id,
                conversation: None,
                delivery: Delivery::of(item),
            });
        }
    }
    lines
}

impl Delivery {
    /// The wire form the UI gets.
    pub fn to_wire(&self) -> app::Delivery {
        match self {
            Delivery::Pending => app::Delivery::Pending,
            Delivery::Failed { client_id, reason } => app::Delivery::Failed {
                client_id: *client_id,
                reason: reason.clone(),
            },
            Delivery::Stored(s) => (*s).into(),
        }
    }
}

/// The wire form of a write's state still in the outbox.
pub fn outbox_delivery(item: &OutboxItem) -> app::Delivery {
    match &item.wedged {
        Some(reason) => app::Delivery::Failed {
            client_id: item.mutation.client_id,
            reason: reason.clone(),
        },
        None => app::Delivery::Pending,
    }
}

/// Callbacks, soonest slot first: the `cached` ones with the requests,
/// cancellations and changes still in the outbox applied on top. `me` is
/// the customer a request queued here is for.
pub fn callback_lines(me: Uuid, cached: Vec<Callback>, outbox: &[OutboxItem]) -> Vec<CallbackLine> {
    let mut lines: Vec<CallbackLine> = cached
        .into_iter()
        .map(|callback| CallbackLine {
            callback,
            delivery: app::Delivery::Sent,
        })
        .collect();
    for item in outbox {
        let at = queued_at(item);
        match &item.mutation.op {
            MutationOp::RequestCallback(r) => {
                if lines.iter().any(|l| l.callback.id == r.id) {
                    continue;
                }
                let window = r.windows.first();
                lines.push(CallbackLine {
                    callback: Callback {
                        id: r.id,
                        customer_id: me,
                        channel: r.channel,
                        phone: r.phone.clone(),
                        topic: r.topic.clone(),
                        order_id: r.order_id,
                        time_zone: r.time_zone.clone(),
                        slot_start: window.map(|w| w.start),
                        slot_end: window.map(|w| w.end),
                        status: CallbackStatus::Requested,
                        outcome_note: None,
                        created_at: at,
                        updated_at: at,
                    },
                    delivery: outbox_delivery(item),
                });
            }
            MutationOp::CancelCallback { callback_id } => {
                if let Some(l) = lines.iter_mut().find(|l| l.callback.id == *callback_id) {
                    l.callback.status = CallbackStatus::Cancelled;
                    l.delivery = outbox_delivery(item);
                }
            }
            MutationOp::RescheduleCallback {
                callback_id,
                reschedule,
            } => {
                if let Some(l) = lines.iter_mut().find(|l| l.callback.id == *callback_id) {
                    if let Some(w) = reschedule.windows.first() {
                        l.callback.slot_start = Some(w.start);
                        l.callback.slot_end = Some(w.end);
                    }
                    l.delivery = outbox_delivery(item);
                }
            }
            _ => {}
        }
    }
    lines.sort_by_key(|l| l.callback.slot_start.unwrap_or(l.callback.created_at));
    lines
}
