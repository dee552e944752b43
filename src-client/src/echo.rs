//! Local echo: what the user sees before the server has answered. Cached
//! messages and conversations merged with the writes still in the outbox,
//! each marked pending, or failed with the server's reason.

use jiff::Timestamp;
use mostrador_core::chat::{Conversation, Message, MessageKind, MessageState};
use mostrador_core::sync::MutationOp;
use mostrador_core::ApiError;
use uuid::Uuid;

use crate::engine::Engine;
use crate::store::OutboxItem;
use crate::ClientError;

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

impl Engine {
    /// The thread of a conversation: cached messages, then the unsent ones
    /// in the order they were written.
    pub async fn thread(&self, conversation_id: Uuid) -> Result<Vec<ThreadLine>, ClientError> {
        let cached: Vec<Message> = self.store().list(Some(conversation_id)).await?;
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
        for item in self.outbox().await? {
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
                continue; // the server has it; the acknowledgement is on its way
            }
            lines.push(ThreadLine {
                id,
                body,
                kind,
                author_name: None,
                author_id: None,
                attachments: Vec::new(),
                created_at: Timestamp::from_millisecond(item.created_at)
                    .unwrap_or(Timestamp::UNIX_EPOCH),
                delivery: Delivery::of(&item),
            });
        }
        Ok(lines)
    }

    /// Conversations, most recently active last, with the ones opened
    /// offline that the server does not have yet.
    pub async fn conversations(&self) -> Result<Vec<ConversationLine>, ClientError> {
        let cached: Vec<Conversation> = self.store().list(None).await?;
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
        for item in self.outbox().await? {
            if let MutationOp::OpenConversation(o) = &item.mutation.op {
                if lines.iter().any(|l| l.id == o.id) {
                    continue;
                }
                lines.push(ConversationLine {
                    id: o.id,
                    subject: o.subject.clone(),
                    order_id: o.order_id,
                    conversation: None,
                    delivery: Delivery::of(&item),
                });
            }
        }
        Ok(lines)
    }
}
