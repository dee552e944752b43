//! The user's writes: each checks what the user typed, builds its
//! [`MutationOp`] and queues it through [`Engine::enqueue`] (the outbox),
//! so it shows at once (local echo) and goes out when it can. The reads
//! the screens show are in `views.rs`, `echo.rs` and `agent.rs`.

use std::collections::HashMap;

use jiff::Timestamp;
use mostrador_core::callbacks::CallbackOutcome;
use mostrador_core::chat::{
    self, Conversation, MarkMessages, Message, MessageKind, MessageState, OpenConversation,
    SendMessage, UpdateConversation,
};
use mostrador_core::sync::{MutationOp, SyncItem};
use mostrador_core::{ApiError, ErrorCode};
use uuid::Uuid;

use crate::engine::Engine;
use crate::receipts::{self, Queued, Receipt};
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

    /// Sends a message with files already kept by [`Engine::attach_for`].
    pub async fn say(
        &self,
        conversation_id: Uuid,
        body: &str,
        attachment_ids: Vec<Uuid>,
    ) -> Result<Uuid, ClientError> {
        if body.trim().is_empty() && attachment_ids.is_empty() {
            return Err(invalid("write a message or attach a file first"));
        }
        self.send_kind(conversation_id, body, MessageKind::Text, attachment_ids)
            .await
    }

    /// Checks `body` (core's one rule) and queues it as a message of `kind`
    /// with its new id.
    async fn send_kind(
        &self,
        conversation_id: Uuid,
        body: &str,
        kind: MessageKind,
        attachment_ids: Vec<Uuid>,
    ) -> Result<Uuid, ClientError> {
        let body = mostrador_core::chat::check_body(body.trim(), !attachment_ids.is_empty())
            .map_err(ClientError::Api)?;
        let id = Uuid::new_v4();
        self.enqueue(MutationOp::SendMessage {
            conversation_id,
            message: SendMessage {
                id,
                body: body.to_owned(),
                kind,
                attachment_ids,
            },
        })
        .await?;
        Ok(id)
    }

    /// Tells the other side their fresh messages reached this device, as
    /// the receipts policy decides (`receipts::deliveries`): per
    /// conversation this user takes part in (its customer, or its assigned
    /// agent), the newest message from someone else written after `since`
    /// and still only `sent`, unless a queued mark already covers it. The
    /// engine calls it after applying each page. Returns the marks queued.
    pub async fn acknowledge_delivery(
        &self,
        items: &[SyncItem],
        since: Timestamp,
    ) -> Result<usize, ClientError> {
        let me = self.my_id().await?;
        let messages: Vec<&Message> = items
            .iter()
            .filter_map(|i| match i {
                SyncItem::Message(m) if m.author_id != me && m.created_at >= since => Some(m),
                _ => None,
            })
            .collect();
        if messages.is_empty() {
            return Ok(0);
        }
        let mut conversations = HashMap::new();
        for m in &messages {
            if !conversations.contains_key(&m.conversation_id) {
                if let Some(c) = self.store().get::<Conversation>(m.conversation_id).await? {
                    conversations.insert(c.id, c);
                }
            }
        }
        let queued = self.queued_receipts().await?;
        let receipts = receipts::deliveries(me, messages, &conversations, since, &queued);
        for r in &receipts {
            self.queue_receipt(r).await?;
        }
        Ok(receipts.len())
    }

    /// The receipts waiting in the outbox, with when the message each
    /// names was written (a mark naming a message not cached is skipped:
    /// it covers nothing this device can tell).
    async fn queued_receipts(&self) -> Result<Vec<Queued>, ClientError> {
        let mut queued = Vec::new();
        for item in self.outbox().await? {
            if let MutationOp::MarkMessages {
                conversation_id,
                mark,
            } = &item.mutation.op
            {
                if let Some(m) = self.store().get::<Message>(mark.up_to).await? {
                    queued.push(Queued {
                        client_id: item.mutation.client_id,
                        conversation_id: *conversation_id,
                        state: mark.state,
                        up_to_at: m.created_at,
                    });
                }
            }
        }
        Ok(queued)
    }

    async fn queue_receipt(&self, r: &Receipt) -> Result<(), ClientError> {
        self.queue(MutationOp::MarkMessages {
            conversation_id: r.conversation_id,
            mark: MarkMessages {
                up_to: r.up_to,
                state: r.state,
            },
        })
        .await
    }

    /// Marks the other side's messages in a conversation as read, if any
    /// are not yet; returns whether a mark was queued. A "delivered" still
    /// waiting in the outbox that the read covers is dropped: one receipt
    /// goes instead of two (`receipts::superseded_by_read`).
    pub async fn mark_read(&self, conversation_id: Uuid) -> Result<bool, ClientError> {
        let me = self.my_id().await?;
        // Staff read the customer's messages; the customer, staff's. A
        // conversation not cached yet is one this user just opened.
        let staff = self
            .store()
            .get::<Conversation>(conversation_id)
            .await?
            .is_some_and(|c| c.customer_id != me);
        let messages: Vec<Message> = self.store().list(Some(conversation_id)).await?;
        let theirs = |m: &&Message| chat::from_other_side(m, me, staff);
        let Some(last) = messages.iter().rev().find(theirs) else {
            return Ok(false);
        };
        if messages
            .iter()
            .filter(theirs)
            .all(|m| m.state == MessageState::Read)
        {
            return Ok(false);
        }
        let queued = self.queued_receipts().await?;
        let already = queued.iter().any(|q| {
            q.conversation_id == conversation_id
                && q.state == MessageState::Read
                && q.up_to_at >= last.created_at
        });
        if already {
            return Ok(false);
        }
        self.queue_receipt(&Receipt {
            conversation_id,
            up_to: last.id,
            state: MessageState::Read,
        })
        .await?;
        let superseded = receipts::superseded_by_read(conversation_id, last.created_at, &queued);
        for client_id in &superseded {
            self.store().remove_outbox(*client_id).await?;
        }
        if !superseded.is_empty() {
            self.emit_outbox().await?;
        }
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
        if body.trim().is_empty() {
            return Err(invalid("write the note first"));
        }
        self.send_kind(conversation_id, body, MessageKind::Note, attachment_ids)
            .await
    }

    /// Queues a write whose client id the caller has no use for.
    pub(crate) async fn queue(&self, op: MutationOp) -> Result<(), ClientError> {
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
