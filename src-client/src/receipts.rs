//! The receipts policy: which "delivered" and "read" marks a device queues.
//! Pure (no store, no network) so the browser build shares it; the engine
//! feeds it what it read from the store and queues what it answers.
//!
//! Two rules keep receipts from multiplying writes:
//! - **Only participants acknowledge.** The customer's devices acknowledge
//!   staff messages; on the staff side only the conversation's assigned
//!   agent does, not every staff device that synced the message (N agents
//!   online would be N write transactions per message).
//! - **"Read" covers "delivered".** The server raises every message up to a
//!   mark's message to at least the mark's state, so a "delivered" for a
//!   message that a queued "read" covers is never queued, and a "read"
//!   queued while a "delivered" it covers still waits in the outbox drops
//!   that "delivered".

use std::collections::HashMap;

use jiff::Timestamp;
use mostrador_core::chat::{from_other_side, Conversation, Message, MessageKind, MessageState};
use uuid::Uuid;

/// Whether user `me`'s devices acknowledge messages in `conversation`: the
/// customer's, and the assigned agent's.
pub fn acknowledges(me: Uuid, conversation: &Conversation) -> bool {
    conversation.customer_id == me || conversation.assigned_agent_id == Some(me)
}

/// A receipt to queue: messages of `conversation_id` up to `up_to` reach
/// `state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    pub conversation_id: Uuid,
    pub up_to: Uuid,
    pub state: MessageState,
}

/// A receipt already waiting in the outbox: `up_to_at` is when the message
/// it names was written (the marks cover every message up to then).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Queued {
    pub client_id: Uuid,
    pub conversation_id: Uuid,
    pub state: MessageState,
    pub up_to_at: Timestamp,
}

impl Queued {
    /// Whether this queued mark already raises a message of
    /// `conversation_id` written at `at` to `state` or beyond.
    fn covers(&self, conversation_id: Uuid, at: Timestamp, state: MessageState) -> bool {
        self.conversation_id == conversation_id
            && self.up_to_at >= at
            && (self.state == state || self.state == MessageState::Read)
    }
}

/// The "delivered" receipts to queue for `messages` just synced: per
/// conversation `me` takes part in (`conversations`, by id), the newest
/// text message from someone else written at or after `since` and still
/// only `sent`, unless a queued mark already covers it. Older history
/// arriving with a first sync is left alone.
pub fn deliveries<'a>(
    me: Uuid,
    messages: impl IntoIterator<Item = &'a Message>,
    conversations: &HashMap<Uuid, Conversation>,
    since: Timestamp,
    queued: &[Queued],
) -> Vec<Receipt> {
    let mut newest: HashMap<Uuid, &Message> = HashMap::new();
    for m in messages {
        let due = m.kind == MessageKind::Text
            && m.state == MessageState::Sent
            && m.created_at >= since
            && conversations.get(&m.conversation_id).is_some_and(|c| {
                acknowledges(me, c) && from_other_side(m, me, c.customer_id != me)
            });
        if due
            && newest
                .get(&m.conversation_id)
                .is_none_or(|n| n.created_at <= m.created_at)
        {
            newest.insert(m.conversation_id, m);
        }
    }
    let mut receipts: Vec<Receipt> = newest
        .into_values()
        .filter(|m| {
            !queued
                .iter()
                .any(|q| q.covers(m.conversation_id, m.created_at, MessageState::Delivered))
        })
        .map(|m| Receipt {
            conversation_id: m.conversation_id,
            up_to: m.id,
            state: MessageState::Delivered,
        })
        .collect();
    receipts.sort_by_key(|r| r.conversation_id);
    receipts
}

/// The queued "delivered" marks a "read" of `conversation_id` up to a
/// message written at `read_up_to_at` makes redundant (their client ids):
/// they are dropped from the outbox when the read is queued.
pub fn superseded_by_read(
    conversation_id: Uuid,
    read_up_to_at: Timestamp,
    queued: &[Queued],
) -> Vec<Uuid> {
    queued
        .iter()
        .filter(|q| {
            q.conversation_id == conversation_id
                && q.state == MessageState::Delivered
                && q.up_to_at <= read_up_to_at
        })
        .map(|q| q.client_id)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mostrador_core::auth::Role;
    use mostrador_core::chat::ConversationStatus;

    fn at(minute: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + minute * 60).unwrap()
    }

    fn conversation(customer: Uuid, agent: Option<Uuid>) -> Conversation {
        Conversation {
            id: Uuid::new_v4(),
            customer_id: customer,
            order_id: None,
            subject: "Where is it?".into(),
            status: ConversationStatus::Open,
            assigned_agent_id: agent,
            rating: None,
            created_at: at(0),
            updated_at: at(0),
            last_message_at: None,
        }
    }

    fn message(conversation: &Conversation, author: Uuid, minute: i64) -> Message {
        Message {
            id: Uuid::new_v4(),
            conversation_id: conversation.id,
            author_id: author,
            author_role: if author == conversation.customer_id {
                Role::Customer
            } else {
                Role::Agent
            },
            author_name: "someone".into(),
            kind: MessageKind::Text,
            body: "hello".into(),
            state: MessageState::Sent,
            created_at: at(minute),
            attachments: vec![],
        }
    }

    fn by_id(c: &Conversation) -> HashMap<Uuid, Conversation> {
        HashMap::from([(c.id, c.clone())])
    }

    #[test]
    fn only_the_customer_and_the_assigned_agent_acknowledge() {
        let (customer, assigned, other) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let c = conversation(customer, Some(assigned));
        let from_customer = message(&c, customer, 5);
        let from_agent = message(&c, assigned, 6);
        let all = [from_customer.clone(), from_agent.clone()];
        let convs = by_id(&c);

        let mine = deliveries(customer, &all, &convs, at(0), &[]);
        assert_eq!(
            mine.iter().map(|r| r.up_to).collect::<Vec<_>>(),
            [from_agent.id]
        );
        let assigned_acks = deliveries(assigned, &all, &convs, at(0), &[]);
        assert_eq!(
            assigned_acks.iter().map(|r| r.up_to).collect::<Vec<_>>(),
            [from_customer.id]
        );
        assert!(
            deliveries(other, &all, &convs, at(0), &[]).is_empty(),
            "a staff device not assigned to the conversation acknowledges nothing"
        );
        let unassigned = conversation(customer, None);
        let m = message(&unassigned, customer, 5);
        assert!(deliveries(other, [&m], &by_id(&unassigned), at(0), &[]).is_empty());
        // A colleague's later reply is not the assigned agent's to
        // acknowledge: still the customer's message.
        let from_colleague = message(&c, other, 7);
        let acks = deliveries(
            assigned,
            [&from_customer, &from_colleague],
            &convs,
            at(0),
            &[],
        );
        assert_eq!(
            acks.iter().map(|r| r.up_to).collect::<Vec<_>>(),
            [from_customer.id]
        );
    }

    #[test]
    fn one_delivered_per_conversation_for_its_newest_fresh_message() {
        let (customer, agent) = (Uuid::new_v4(), Uuid::new_v4());
        let c = conversation(customer, Some(agent));
        let old = message(&c, agent, 1);
        let first = message(&c, agent, 5);
        let newest = message(&c, agent, 7);
        let mut read = message(&c, agent, 8);
        read.state = MessageState::Read;
        let mut note = message(&c, agent, 9);
        note.kind = MessageKind::Note;
        let got = deliveries(
            customer,
            [&old, &newest, &first, &read, &note],
            &by_id(&c),
            at(3),
            &[],
        );
        assert_eq!(
            got,
            [Receipt {
                conversation_id: c.id,
                up_to: newest.id,
                state: MessageState::Delivered
            }]
        );
        assert!(
            deliveries(customer, [&old], &by_id(&c), at(3), &[]).is_empty(),
            "history"
        );
    }

    #[test]
    fn no_delivered_for_messages_a_queued_mark_covers() {
        let (customer, agent) = (Uuid::new_v4(), Uuid::new_v4());
        let c = conversation(customer, Some(agent));
        let m = message(&c, agent, 5);
        let queued = |state, minute| Queued {
            client_id: Uuid::new_v4(),
            conversation_id: c.id,
            state,
            up_to_at: at(minute),
        };
        for covering in [
            queued(MessageState::Read, 5),
            queued(MessageState::Delivered, 6),
        ] {
            assert!(deliveries(customer, [&m], &by_id(&c), at(0), &[covering]).is_empty());
        }
        // A mark up to an older message does not cover a newer one.
        let older = queued(MessageState::Read, 4);
        assert_eq!(
            deliveries(customer, [&m], &by_id(&c), at(0), &[older]).len(),
            1
        );
    }

    #[test]
    fn a_read_drops_the_delivered_marks_it_covers() {
        let conv = Uuid::new_v4();
        let q = |conversation_id, state, minute| Queued {
            client_id: Uuid::new_v4(),
            conversation_id,
            state,
            up_to_at: at(minute),
        };
        let covered = q(conv, MessageState::Delivered, 5);
        let newer = q(conv, MessageState::Delivered, 9);
        let elsewhere = q(Uuid::new_v4(), MessageState::Delivered, 5);
        let read = q(conv, MessageState::Read, 5);
        assert_eq!(
            superseded_by_read(conv, at(7), &[covered, newer, elsewhere, read]),
            [covered.client_id]
        );
    }
}
