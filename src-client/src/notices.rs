//! What deserves the user's attention outside the window: a reply from the
//! other side, an order's progress, a callback about to start. The engine
//! decides (these pure functions) and emits [`Notice`]s; a shell only
//! words them (in the user's language) and shows them when its window is
//! in the background.

use std::collections::HashSet;
use std::time::Duration;

use jiff::Timestamp;
use mostrador_core::app::CallbackLine;
use mostrador_core::callbacks::CallbackChannel;
use mostrador_core::chat::{MessageKind, MessageState};
use mostrador_core::lang::Lang;
use mostrador_core::notification::{self, Audience, Note};
use mostrador_core::orders::{TrackingEvent, TrackingStatus};
use mostrador_core::sync::SyncItem;
use uuid::Uuid;

/// Something to tell the user about.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// A fresh message from the other side of a conversation.
    Reply {
        conversation_id: Uuid,
        author_name: String,
        body: String,
    },
    /// A callback starts in `minutes` (at least 1); staff see whom to call.
    Reminder {
        callback_id: Uuid,
        channel: CallbackChannel,
        minutes: i64,
        /// The customer's name (staff), empty for the customer.
        customer_name: String,
    },
    /// An order's status changed (`status`) or its timeline grew.
    OrderProgress {
        order_id: Uuid,
        number: String,
        status: Option<TrackingStatus>,
        new_events: Vec<TrackingEvent>,
    },
}

impl Notice {
    /// The notice in the user's language, as both shells show it (core's
    /// words); `None` for one this audience is not told about (an order
    /// whose timeline grew without a new status).
    pub fn note(&self, lang: Lang, audience: Audience) -> Option<Note> {
        match self {
            Notice::Reply {
                author_name, body, ..
            } => Some(notification::reply(lang, audience, author_name, body)),
            Notice::OrderProgress { number, status, .. } => {
                status.and_then(|s| notification::order(lang, audience, number, s))
            }
            Notice::Reminder {
                channel,
                minutes,
                customer_name,
                ..
            } => Some(notification::reminder(
                lang,
                audience,
                *channel,
                *minutes,
                customer_name,
            )),
        }
    }
}

/// How long before its slot a callback is announced.
pub const REMIND_BEFORE: Duration = Duration::from_secs(10 * 60);

/// The replies among `items` worth a notice: per conversation, the newest
/// text message from someone other than `me`, not yet seen on another
/// device, written at or after `since` (history arriving with a first sync
/// stays quiet; a burst of messages is one notice, not one each).
pub fn replies(me: Uuid, items: &[SyncItem], since: Timestamp) -> Vec<Notice> {
    let mut newest: Vec<&mostrador_core::chat::Message> = Vec::new();
    for item in items {
        let SyncItem::Message(m) = item else { continue };
        let fresh = m.author_id != me
            && m.kind == MessageKind::Text
            && m.state == MessageState::Sent
            && m.created_at >= since;
        if !fresh {
            continue;
        }
        match newest
            .iter_mut()
            .find(|n| n.conversation_id == m.conversation_id)
        {
            Some(n) if n.created_at <= m.created_at => *n = m,
            Some(_) => {}
            None => newest.push(m),
        }
    }
    newest
        .into_iter()
        .map(|m| Notice::Reply {
            conversation_id: m.conversation_id,
            author_name: m.author_name.clone(),
            body: m.body.clone(),
        })
        .collect()
}

/// The reminders due at `now` among `lines` (each with the customer's name
/// for staff): a pending callback whose slot starts within
/// [`REMIND_BEFORE`], once each (`reminded` remembers which were).
pub fn due_reminders(
    lines: &[(CallbackLine, String)],
    now: Timestamp,
    reminded: &mut HashSet<Uuid>,
) -> Vec<Notice> {
    let horizon = now + REMIND_BEFORE;
    let mut due = Vec::new();
    for (line, customer_name) in lines {
        let c = &line.callback;
        let Some(start) = c.slot_start else { continue };
        if c.status.is_pending() && start > now && start <= horizon && reminded.insert(c.id) {
            due.push(Notice::Reminder {
                callback_id: c.id,
                channel: c.channel,
                minutes: (start.as_second() - now.as_second()).max(60) / 60,
                customer_name: customer_name.clone(),
            });
        }
    }
    due
}

#[cfg(test)]
mod tests {
    use super::*;
    use mostrador_core::app::Delivery;
    use mostrador_core::auth::Role;
    use mostrador_core::callbacks::{Callback, CallbackStatus};
    use mostrador_core::chat::Message;

    fn at(minute: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + minute * 60).unwrap()
    }

    fn message(author: Uuid, minute: i64) -> Message {
        Message {
            id: Uuid::new_v4(),
            conversation_id: Uuid::new_v4(),
            author_id: author,
            author_role: Role::Agent,
            author_name: "Marta".into(),
            kind: MessageKind::Text,
            body: "On its way".into(),
            state: MessageState::Sent,
            created_at: at(minute),
            attachments: vec![],
        }
    }

    #[test]
    fn only_fresh_unseen_text_from_the_other_side_is_a_reply_notice() {
        let (me, agent) = (Uuid::new_v4(), Uuid::new_v4());
        let fresh = message(agent, 5);
        let mine = message(me, 5);
        let old = message(agent, 1);
        let mut seen = message(agent, 5);
        seen.state = MessageState::Read;
        let mut note = message(agent, 5);
        note.kind = MessageKind::Note;
        let mut earlier = fresh.clone();
        earlier.id = Uuid::new_v4();
        earlier.created_at = at(4);
        earlier.body = "Hello".into();
        let items: Vec<SyncItem> = [fresh.clone(), earlier, mine, old, seen, note]
            .into_iter()
            .map(SyncItem::Message)
            .collect();
        assert_eq!(
            replies(me, &items, at(3)),
            [Notice::Reply {
                conversation_id: fresh.conversation_id,
                author_name: "Marta".into(),
                body: "On its way".into(),
            }]
        );
    }

    fn line(status: CallbackStatus, start: Option<Timestamp>) -> (CallbackLine, String) {
        let callback = Callback {
            id: Uuid::new_v4(),
            customer_id: Uuid::new_v4(),
            channel: CallbackChannel::Voice,
            phone: None,
            topic: "refund".into(),
            order_id: None,
            time_zone: "Europe/Madrid".into(),
            slot_start: start,
            slot_end: None,
            status,
            outcome_note: None,
            created_at: at(0),
            updated_at: at(0),
        };
        (
            CallbackLine {
                callback,
                delivery: Delivery::Sent,
            },
            "Ana".into(),
        )
    }

    #[test]
    fn a_pending_callback_is_announced_once_shortly_before_its_slot() {
        let now = at(0);
        let soon = line(CallbackStatus::Scheduled, Some(at(4)));
        let later = line(CallbackStatus::Scheduled, Some(at(30)));
        let past = line(CallbackStatus::Scheduled, Some(at(-1)));
        let done = line(CallbackStatus::Completed, Some(at(4)));
        let lines = [soon.clone(), later, past, done];
        let mut reminded = HashSet::new();
        assert_eq!(
            due_reminders(&lines, now, &mut reminded),
            [Notice::Reminder {
                callback_id: soon.0.callback.id,
                channel: CallbackChannel::Voice,
                minutes: 4,
                customer_name: "Ana".into(),
            }]
        );
        assert!(
            due_reminders(&lines, at(1), &mut reminded).is_empty(),
            "once"
        );
    }

    #[test]
    fn a_notice_is_worded_in_the_users_language_or_not_at_all() {
        let reply = Notice::Reply {
            conversation_id: Uuid::nil(),
            author_name: "Lucía".into(),
            body: "Ya está en camino".into(),
        };
        let note = reply
            .note(Lang::Es, Audience::Shopper)
            .expect("a reply is told");
        assert_eq!(
            note,
            notification::reply(Lang::Es, Audience::Shopper, "Lucía", "Ya está en camino")
        );
        let grown = Notice::OrderProgress {
            order_id: Uuid::nil(),
            number: "MS-1".into(),
            status: None,
            new_events: vec![],
        };
        assert_eq!(grown.note(Lang::En, Audience::Shopper), None);
    }
}
