//! The agent's inbox as both stores answer it (`Store::inbox`): which
//! conversations a filter keeps, in which order, and how many there are in
//! all, decided from a few fields per conversation (its status, assignee,
//! order, last activity, and when each side last spoke) so that only the
//! rows of the page shown are decoded. The answer is
//! `mostrador_core::app::filter_inbox`'s, to the millisecond (the
//! server's times are whole milliseconds); the tests below hold the two
//! together, and `tests/store_contract` holds both stores to it.

use std::cmp::Ordering;

use jiff::Timestamp;
use mostrador_core::app::{ConversationSummary, Delivery, InboxFilter, InboxGroup, InboxRow};
use mostrador_core::chat::{Conversation, ConversationStatus};
use uuid::Uuid;

use super::page::ConversationActivity;

/// What a page of the inbox is asked with.
#[derive(Debug, Clone, PartialEq)]
pub struct InboxQuery {
    /// The signed-in agent ("mine").
    pub me: Uuid,
    pub filter: InboxFilter,
    /// An hour before now, unix ms ("waiting over an hour": since then or
    /// earlier).
    pub hour_ago_ms: i64,
    /// Rows on the page.
    pub limit: usize,
}

/// One row of a page: the conversation, since when its customer waits,
/// and the customer's name as their last message carried it.
#[derive(Debug, Clone, PartialEq)]
pub struct InboxEntry {
    pub conversation: Conversation,
    /// Unix ms; `None`: nobody waits (staff spoke last, or it is resolved).
    pub waiting_ms: Option<i64>,
    pub customer_name: Option<String>,
}

impl InboxEntry {
    /// The entry as one of `conversation`'s inbox rows, as
    /// `filter_inbox` and the screen take it (its last message and order
    /// number not read yet; the customer's name empty when unknown).
    pub fn of(conversation: Conversation, activity: &ConversationActivity) -> Self {
        Self {
            waiting_ms: waiting_since(conversation.status, activity),
            customer_name: activity.customer_name.clone(),
            conversation,
        }
    }

    pub fn into_row(self) -> InboxRow {
        let c = self.conversation;
        InboxRow {
            customer_id: c.customer_id,
            summary: ConversationSummary {
                id: c.id,
                subject: c.subject.clone(),
                order_id: c.order_id,
                unread: 0,
                last_body: None,
                last_at: c.last_message_at.or(Some(c.updated_at)),
                delivery: Delivery::Sent,
                conversation: Some(c),
            },
            customer_name: self.customer_name.unwrap_or_default(),
            waiting_since: self
                .waiting_ms
                .and_then(|ms| Timestamp::from_millisecond(ms).ok()),
            order_number: None,
        }
    }
}

/// A page of the inbox and how many conversations match in all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InboxSlice {
    pub entries: Vec<InboxEntry>,
    pub total: usize,
}

/// Since when the customer waits for an answer (unix ms): their last text
/// message has no staff reply after it, and the conversation is not
/// resolved.
pub fn waiting_since(status: ConversationStatus, activity: &ConversationActivity) -> Option<i64> {
    match (activity.customer_at, activity.staff_at) {
        (Some(a), Some(b)) if a > b => Some(a),
        (Some(a), None) => Some(a),
        _ => None,
    }
    .filter(|_| status != ConversationStatus::Resolved)
}

/// What the inbox filters and sorts a conversation by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxKey {
    pub id: Uuid,
    pub status: ConversationStatus,
    pub agent: Option<Uuid>,
    pub has_order: bool,
    /// Its last activity (unix ms): the cached conversation's sort key.
    pub last_at: i64,
    pub waiting_ms: Option<i64>,
}

impl InboxKey {
    pub fn of(c: &Conversation, activity: &ConversationActivity) -> Self {
        Self {
            id: c.id,
            status: c.status,
            agent: c.assigned_agent_id,
            has_order: c.order_id.is_some(),
            last_at: c.last_message_at.unwrap_or(c.updated_at).as_millisecond(),
            waiting_ms: waiting_since(c.status, activity),
        }
    }

    /// Whether `q`'s filter keeps it.
    pub fn matches(&self, q: &InboxQuery) -> bool {
        let f = &q.filter;
        let open = self.status != ConversationStatus::Resolved;
        let group = match f.group {
            InboxGroup::Unassigned => open && self.agent.is_none(),
            InboxGroup::Mine => open && self.agent == Some(q.me),
            InboxGroup::All => true,
        };
        group
            && f.status.is_none_or(|s| self.status == s)
            && (!f.has_order || self.has_order)
            && (!f.waiting_long || self.waiting_ms.is_some_and(|w| w <= q.hour_ago_ms))
            && f.matches.as_ref().is_none_or(|m| m.contains(&self.id))
    }

    /// The inbox's order: waiting customers first, the longest-waiting
    /// first (equal times: the earlier activity first), then the most
    /// recently active; last, by id (the order conversations are listed
    /// in, which `filter_inbox`'s stable sort keeps for ties).
    pub fn order(&self, other: &Self) -> Ordering {
        let rank = |k: &Self| match k.waiting_ms {
            Some(w) => (0, w, k.last_at),
            None => (1, -k.last_at, 0),
        };
        rank(self).cmp(&rank(other)).then(self.id.cmp(&other.id))
    }
}

/// The page `q` asks for out of `keys` (their ids, in order) and how many
/// match in all.
pub fn select(keys: &[InboxKey], q: &InboxQuery) -> (Vec<Uuid>, usize) {
    let mut hits: Vec<&InboxKey> = keys.iter().filter(|k| k.matches(q)).collect();
    let total = hits.len();
    if q.limit < total {
        hits.select_nth_unstable_by(q.limit, |a, b| a.order(b));
        hits.truncate(q.limit);
    }
    hits.sort_by(|a, b| a.order(b));
    (hits.into_iter().map(|k| k.id).collect(), total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mostrador_core::app::filter_inbox;

    /// A small world with every case the inbox tells apart: assigned to
    /// me, to another, to nobody; open, pending, resolved; with and
    /// without an order; the customer or staff speaking last, or nobody;
    /// equal waiting times and equal activity times (ties).
    fn world(me: Uuid) -> Vec<(Conversation, ConversationActivity)> {
        let ms = |m: i64| Timestamp::from_millisecond(m).unwrap();
        (0..240u128)
            .map(|i| {
                let n = i as i64;
                let c = Conversation {
                    id: Uuid::from_u128(0x1000 + (i * 7919) % 240),
                    customer_id: Uuid::from_u128(9),
                    order_id: (i % 3 == 0).then(|| Uuid::from_u128(5)),
                    subject: format!("c{i}"),
                    status: [
                        ConversationStatus::Open,
                        ConversationStatus::Pending,
                        ConversationStatus::Resolved,
                    ][(i % 5 % 3) as usize],
                    assigned_agent_id: [None, Some(me), Some(Uuid::from_u128(2))]
                        [(i % 7 % 3) as usize],
                    rating: None,
                    created_at: ms(0),
                    updated_at: ms(10_000 + n % 11 * 1_000),
                    last_message_at: (i % 4 != 0).then(|| ms(20_000 + n % 13 * 1_000)),
                };
                let activity = ConversationActivity {
                    customer_at: (i % 6 != 0).then_some(5_000 + n % 9 * 1_000),
                    staff_at: (i % 2 == 0).then_some(6_000 + n % 5 * 1_000),
                    customer_name: None,
                };
                (c, activity)
            })
            .collect()
    }

    #[test]
    fn select_answers_as_filter_inbox_for_every_filter() {
        let me = Uuid::from_u128(1);
        let mut world = world(me);
        // `filter_inbox` keeps ties in the order it is given: the order
        // conversations are listed in (sort key, then id).
        world.sort_by_key(|(c, _)| (c.last_message_at.unwrap_or(c.updated_at), c.id));
        let rows: Vec<InboxRow> = world
            .iter()
            .map(|(c, a)| InboxEntry::of(c.clone(), a).into_row())
            .collect();
        let keys: Vec<InboxKey> = world.iter().map(|(c, a)| InboxKey::of(c, a)).collect();
        let now = Timestamp::from_millisecond(3_600_000 + 9_000).unwrap();
        let mut checked = 0;
        for group in [InboxGroup::Unassigned, InboxGroup::Mine, InboxGroup::All] {
            for status in [
                None,
                Some(ConversationStatus::Open),
                Some(ConversationStatus::Pending),
                Some(ConversationStatus::Resolved),
            ] {
                for (has_order, waiting_long) in [(false, false), (true, false), (false, true)] {
                    for matches in [None, Some(keys.iter().step_by(3).map(|k| k.id).collect())] {
                        let filter = InboxFilter {
                            group,
                            status,
                            has_order,
                            waiting_long,
                            matches,
                        };
                        let want: Vec<Uuid> = filter_inbox(&rows, me, &filter, now)
                            .iter()
                            .map(|r| r.summary.id)
                            .collect();
                        for limit in [0, 1, 25, 1_000] {
                            let q = InboxQuery {
                                me,
                                filter: filter.clone(),
                                hour_ago_ms: (now - jiff::SignedDuration::from_hours(1))
                                    .as_millisecond(),
                                limit,
                            };
                            let (page, total) = select(&keys, &q);
                            assert_eq!(total, want.len(), "{q:?}");
                            assert_eq!(page, want[..limit.min(want.len())], "{q:?}");
                            checked += usize::from(!page.is_empty());
                        }
                    }
                }
            }
        }
        assert!(checked > 100, "the world exercises the filters");
    }

    #[test]
    fn a_resolved_conversation_keeps_nobody_waiting() {
        let waits = ConversationActivity {
            customer_at: Some(2),
            staff_at: Some(1),
            customer_name: None,
        };
        assert_eq!(waiting_since(ConversationStatus::Open, &waits), Some(2));
        assert_eq!(waiting_since(ConversationStatus::Resolved, &waits), None);
        let answered = ConversationActivity {
            staff_at: Some(2),
            ..waits
        };
        assert_eq!(waiting_since(ConversationStatus::Pending, &answered), None);
    }
}
