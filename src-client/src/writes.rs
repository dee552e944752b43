//! The user's writes: each checks what the user typed, builds its
//! [`MutationOp`] and queues it through [`Engine::enqueue`] (the outbox),
//! so it shows at once (local echo) and goes out when it can. The reads
//! the screens show are in `views.rs`, `echo.rs` and `agent.rs`.

use std::collections::HashMap;

use jiff::Timestamp;
use mostrador_core::callbacks::CallbackOutcome;
use mostrador_core::chat::{
    MarkMessages, Message, MessageKind, MessageState, OpenConversation, SendMessage,
    UpdateConversation,
};
use mostrador_core::sync::{MutationOp, SyncItem};
use mostrador_core::{ApiError, ErrorCode};
use uuid::Uuid;

use crate::engine::Engine;
use crate::ClientError;

fn invalid(message: &str) -> ClientError {
    ClientError::Api(ApiError::new(ErrorCode::ValidationFailed, message))
}

/// Longest subject line taken from a first message.
const SUBJECT_CHARS: usize = 80;

impl Engine {
    /// Starts a conversation (optionally about an order) with its first
    /// message; it goes out through the outbox. Returns its id.
    pub async fn ask(&self, order_id: Option<Uuid>, body: &str) -> Result<Uuid, ClientError> {
        let body = body.trim();
        if body.is_empty() {
            return Err(invalid("write a message first"));
        }
        mostrador_core::chat::check_body(body, false).map_err(ClientError::Api)?;
        let subject = match order_id {
            Some(id) => match self.order(id).await? {
                Some(o) => format!("Order {}", o.number),
                None => first_line(body),
            },
            None => first_line(body),
        };
        let id = Uuid::new_v4();
        self.enqueue(MutationOp::OpenConversation(OpenConversation {
            id,
            order_id,
            subject,
            message_id: Uuid::new_v4(),
            body: body.to_owned(),
        }))
        .await?;
        Ok(id)
    }

    /// Sends a message with files already kept by [`Engine::attach`].
    pub async fn say(
        &self,
        conversation_id: Uuid,
        body: &str,
        attachment_ids: Vec<Uuid>,
    ) -> Result<Uuid, ClientError> {
        let body = body.trim();
        if body.is_empty() && attachment_ids.is_empty() {
            return Err(invalid("write a message or attach a file first"));
        }
        mostrador_core::chat::check_body(body, !attachment_ids.is_empty())
            .map_err(ClientError::Api)?;
        let id = Uuid::new_v4();
        self.enqueue(MutationOp::SendMessage {
            conversation_id,
            message: SendMessage {
                id,
                body: body.to_owned(),
                kind: MessageKind::Text,
                attachment_ids,
            },
        })
        .await?;
        Ok(id)
    }

    /// Tells the other side their fresh messages reached this device: per
    /// conversation, marks the newest message from someone else written
    /// after `since` (and still only `sent`) as delivered. Older history
    /// arriving with a first sync is left alone. Returns the marks queued.
    pub async fn acknowledge_delivery(
        &self,
        items: &[SyncItem],
        since: Timestamp,
    ) -> Result<usize, ClientError> {
        let me = self.my_id().await?;
        let mut newest: HashMap<Uuid, &Message> = HashMap::new();
        for item in items {
            if let SyncItem::Message(m) = item {
                let fresh = m.author_id != me
                    && m.kind == MessageKind::Text
                    && m.state == MessageState::Sent
                    && m.created_at >= since;
                if fresh
                    && newest
                        .get(&m.conversation_id)
                        .is_none_or(|n| n.created_at <= m.created_at)
                {
                    newest.insert(m.conversation_id, m);
                }
            }
        }
        for (conversation_id, m) in &newest {
            self.enqueue(MutationOp::MarkMessages {
                conversation_id: *conversation_id,
                mark: MarkMessages {
                    up_to: m.id,
                    state: MessageState::Delivered,
                },
            })
            .await?;
        }
        Ok(newest.len())
    }

    /// Marks the other side's messages in a conversation as read, if any
    /// are not yet; returns whether a mark was queued.
    pub async fn mark_read(&self, conversation_id: Uuid) -> Result<bool, ClientError> {
        let me = self.my_id().await?;
        let messages: Vec<Message> = self.store().list(Some(conversation_id)).await?;
        let Some(last) = messages.iter().rev().find(|m| m.author_id != me) else {
            return Ok(false);
        };
        if messages
            .iter()
            .all(|m| m.author_id == me || m.state == MessageState::Read)
        {
            return Ok(false);
        }
        let already = self.outbox().await?.iter().any(|i| {
            matches!(&i.mutation.op, MutationOp::MarkMessages { mark, .. } if mark.up_to == last.id && mark.state == MessageState::Read)
        });
        if already {
            return Ok(false);
        }
        self.enqueue(MutationOp::MarkMessages {
            conversation_id,
            mark: MarkMessages {
                up_to: last.id,
                state: MessageState::Read,
            },
        })
        .await?;
        Ok(true)
    }

    /// An agent's reply or internal note, with files kept by `attach`.
    pub async fn reply(
        &self,
        conversation_id: Uuid,
        body: &str,
        note: bool,
        attachment_ids: Vec<Uuid>,
    ) -> Result<Uuid, ClientError> {
        if !note {
            return self.say(conversation_id, body, attachment_ids).await;
        }
        let body = body.trim();
        if body.is_empty() {
            return Err(invalid("write the note first"));
        }
        mostrador_core::chat::check_body(body, !attachment_ids.is_empty())
            .map_err(ClientError::Api)?;
        let id = Uuid::new_v4();
        self.enqueue(MutationOp::SendMessage {
            conversation_id,
            message: SendMessage {
                id,
                body: body.to_owned(),
                kind: MessageKind::Note,
                attachment_ids,
            },
        })
        .await?;
        Ok(id)
    }

    /// Queues a write whose client id the caller has no use for.
    async fn queue(&self, op: MutationOp) -> Result<(), ClientError> {
        self.enqueue(op).await.map(|_| ())
    }

    /// Claim, assign, set pending or resolved.
    pub async fn update_conversation(
        &self,
        conversation_id: Uuid,
        update: UpdateConversation,
    ) -> Result<(), ClientError> {
        self.queue(MutationOp::UpdateConversation {
            conversation_id,
            update,
        })
        .await
    }

    /// Start, complete or mark a callback missed.
    pub async fn record_outcome(
        &self,
        callback_id: Uuid,
        outcome: CallbackOutcome,
    ) -> Result<(), ClientError> {
        self.queue(MutationOp::RecordOutcome {
            callback_id,
            outcome,
        })
        .await
    }
}

/// A subject from the first line of a message, cut at a word boundary.
pub fn first_line(body: &str) -> String {
    let line = body.lines().next().unwrap_or("").trim();
    if line.chars().count() <= SUBJECT_CHARS {
        return line.to_owned();
    }
    let cut: String = line.chars().take(SUBJECT_CHARS).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(a, _)| a);
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::first_line;

    #[test]
    fn subjects_come_from_the_first_line_and_are_cut_at_a_word() {
        assert_eq!(first_line("It's late\nOrder MS-1"), "It's late");
        let long = "word ".repeat(40);
        let s = first_line(&long);
        assert!(s.ends_with('…') && s.chars().count() <= 81, "{s}");
        assert!(!s.contains("wor…"), "cut inside a word: {s}");
    }
}
