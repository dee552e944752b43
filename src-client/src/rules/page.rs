//! Applying a pulled page, with no I/O: whether a page applies at all,
//! where each synced entity is kept and how it sorts, what a text message
//! says about a conversation's activity, and which orders moved on. The
//! store writes what these answer, in one transaction with the cursor.

use mostrador_core::auth::Role;
use mostrador_core::callbacks::Callback;
use mostrador_core::chat::{Conversation, Message, MessageKind};
use mostrador_core::orders::{Order, TrackingEvent, TrackingStatus};
use mostrador_core::profile::Profile;
use mostrador_core::sync::{EntityKind, SnapshotKey, SnapshotPage, SyncItem, SyncPage};
use serde::de::DeserializeOwned;
use uuid::Uuid;

/// Whether `page` moves a cache that is complete up to `stored_cursor`: a
/// page ending at or before it (a duplicate, or one overtaken by a newer
/// pull) changes nothing.
pub fn applies(stored_cursor: i64, page: &SyncPage) -> bool {
    page.cursor > stored_cursor
}

/// Where a synced entity is kept: its kind and id, the parent reads filter
/// on (a message's conversation), and the key lists are ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    pub kind: EntityKind,
    pub id: Uuid,
    pub parent: Option<Uuid>,
    pub sort_key: i64,
}

/// Where `item` is kept; `None` for a removal.
pub fn placement(item: &SyncItem) -> Option<Placement> {
    let at = |kind, id, parent, sort: jiff::Timestamp| Placement {
        kind,
        id,
        parent,
        sort_key: sort.as_millisecond(),
    };
    Some(match item {
        SyncItem::Order(o) => at(EntityKind::Order, o.id, None, o.placed_at),
        SyncItem::Conversation(c) => at(
            EntityKind::Conversation,
            c.id,
            None,
            c.last_message_at.unwrap_or(c.updated_at),
        ),
        SyncItem::Message(m) => at(
            EntityKind::Message,
            m.id,
            Some(m.conversation_id),
            m.created_at,
        ),
        SyncItem::Callback(c) => at(
            EntityKind::Callback,
            c.id,
            None,
            c.slot_start.unwrap_or(c.created_at),
        ),
        SyncItem::Profile(p) => Placement {
            kind: EntityKind::Profile,
            id: p.user_id,
            parent: None,
            sort_key: 0,
        },
        SyncItem::Removed { .. } => return None,
    })
}

/// The JSON an entity is kept as, in either store (a removal has none).
pub fn entity_json(item: &SyncItem) -> Result<String, serde_json::Error> {
    match item {
        SyncItem::Order(o) => serde_json::to_string(o),
        SyncItem::Conversation(c) => serde_json::to_string(c),
        SyncItem::Message(m) => serde_json::to_string(m),
        SyncItem::Callback(c) => serde_json::to_string(c),
        SyncItem::Profile(p) => serde_json::to_string(p),
        SyncItem::Removed { .. } => Ok(String::new()),
    }
}

/// What a message says about its conversation's activity (the agent's
/// inbox orders by who spoke last and how long the customer has waited).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Activity<'a> {
    pub conversation_id: Uuid,
    /// The customer spoke (else staff did).
    pub by_customer: bool,
    pub at_ms: i64,
    pub author_name: &'a str,
}

/// The activity a message records; `None` for notes and system lines,
/// which do not count as anyone speaking.
pub fn activity(m: &Message) -> Option<Activity<'_>> {
    (m.kind == MessageKind::Text).then(|| Activity {
        conversation_id: m.conversation_id,
        by_customer: m.author_role == Role::Customer,
        at_ms: m.created_at.as_millisecond(),
        author_name: &m.author_name,
    })
}

/// When a conversation last heard from each side (unix ms), kept by the
/// store's `apply_page` for every text message, so the inbox sorts by
/// waiting time without scanning messages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConversationActivity {
    /// The customer's last message.
    pub customer_at: Option<i64>,
    /// Staff's last reply.
    pub staff_at: Option<i64>,
    /// The customer's name, as their last message carried it.
    pub customer_name: Option<String>,
}

/// An order moved on since the cache last saw it (for notifications).
#[derive(Debug, Clone, PartialEq)]
pub struct OrderProgress {
    pub order_id: Uuid,
    pub number: String,
    /// `Some` when the status changed.
    pub status: Option<TrackingStatus>,
    /// Timeline entries that are new to this device, oldest first.
    pub new_events: Vec<TrackingEvent>,
}

impl OrderProgress {
    /// `None` for an order seen for the first time or unchanged.
    pub fn between(old: Option<&Order>, new: &Order) -> Option<Self> {
        let old = old?;
        let status = (old.status != new.status).then_some(new.status);
        let new_events: Vec<TrackingEvent> = new
            .timeline
            .iter()
            .filter(|e| !old.timeline.iter().any(|o| o.id == e.id))
            .cloned()
            .collect();
        (status.is_some() || !new_events.is_empty()).then(|| OrderProgress {
            order_id: new.id,
            number: new.number.clone(),
            status,
            new_events,
        })
    }
}

/// How far an unfinished snapshot got, kept with the pages it applied (in
/// their transactions): the feed cursor its first page gave, and the last
/// entity the pages covered. A store with this and no cursor is not
/// complete; the engine goes on from `after`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SnapshotProgress {
    pub cursor: i64,
    pub after: SnapshotKey,
}

/// What applying a snapshot page does to the store, beside writing its
/// entities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotStep {
    /// The page is not the one the store expects (the cache already has a
    /// cursor, or the progress stands elsewhere): change nothing.
    Skip,
    /// More pages follow: keep this progress (no cursor yet).
    Continue(SnapshotProgress),
    /// The last page: the cache is complete up to `cursor`; the progress
    /// goes.
    Complete { cursor: i64 },
}

/// The `kv` key of the feed cursor: present once the cache is complete
/// (even at 0, a snapshot of an empty feed).
pub const CURSOR_KEY: &str = "cursor";

/// The `kv` key of an unfinished snapshot's progress.
pub const PROGRESS_KEY: &str = "snapshot";

impl SnapshotStep {
    /// The `kv` record the step writes with its page, as (key, value):
    /// the progress while more pages follow; the cursor with the last, when
    /// the progress goes. `None` for `Skip`.
    pub fn record(&self) -> Result<Option<(&'static str, String)>, serde_json::Error> {
        Ok(match self {
            SnapshotStep::Skip => None,
            SnapshotStep::Continue(p) => Some((PROGRESS_KEY, serde_json::to_string(p)?)),
            SnapshotStep::Complete { cursor } => Some((CURSOR_KEY, cursor.to_string())),
        })
    }
}

/// The step for `page`, asked after `after`, on a store whose cursor is
/// `stored_cursor` (`None`: not complete) and whose progress is `stored`.
/// A snapshot fills only a cache with no cursor, page after page in order;
/// the cursor it ends at is the first page's (taken before anything was
/// read), 0 included.
pub fn snapshot_step(
    stored_cursor: Option<i64>,
    stored: Option<&SnapshotProgress>,
    after: Option<&SnapshotKey>,
    page: &SnapshotPage,
) -> SnapshotStep {
    if stored_cursor.is_some() || stored.map(|p| &p.after) != after {
        return SnapshotStep::Skip;
    }
    let cursor = stored.map_or(page.cursor, |p| p.cursor);
    match &page.next {
        Some(next) => SnapshotStep::Continue(SnapshotProgress {
            cursor,
            after: next.clone(),
        }),
        None => SnapshotStep::Complete { cursor },
    }
}

/// A synced entity the cache keeps, with the kind it is kept under: reads
/// name the type, never a kind word, so the two cannot disagree.
pub trait Cached: DeserializeOwned {
    const KIND: EntityKind;
}

macro_rules! cached {
    ($($t:ty => $kind:ident),* $(,)?) => {
        $(impl Cached for $t {
            const KIND: EntityKind = EntityKind::$kind;
        })*
    };
}

cached! {
    Order => Order,
    Conversation => Conversation,
    Message => Message,
    Profile => Profile,
    Callback => Callback,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(status: TrackingStatus, events: &[(&str, TrackingStatus)]) -> Order {
        Order {
            id: Uuid::nil(),
            number: "MS-1".into(),
            customer_id: None,
            status,
            placed_at: jiff::Timestamp::UNIX_EPOCH,
            total_minor: 0,
            currency: "EUR".into(),
            items: vec![],
            shipping_address: None,
            shipment: None,
            timeline: events
                .iter()
                .map(|(id, s)| TrackingEvent {
                    id: (*id).into(),
                    status: *s,
                    at: jiff::Timestamp::UNIX_EPOCH,
                    place: None,
                    description: None,
                })
                .collect(),
            updated_at: jiff::Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_snapshot_fills_an_empty_cache_in_order_and_ends_at_its_first_cursor() {
        let key = |n| SnapshotKey {
            kind: "message".into(),
            id: Uuid::from_u128(n),
        };
        let page = |cursor, next: Option<SnapshotKey>| SnapshotPage {
            items: vec![],
            cursor,
            next,
            total: None,
        };
        let at = |cursor, n| SnapshotProgress {
            cursor,
            after: key(n),
        };
        use SnapshotStep::*;
        let cases = [
            // First page of an empty store: keep its cursor.
            (None, None, None, page(7, Some(key(1))), Continue(at(7, 1))),
            (None, None, None, page(7, None), Complete { cursor: 7 }),
            // An empty feed completes at 0.
            (None, None, None, page(0, None), Complete { cursor: 0 }),
            // Later pages keep the first page's cursor, not their own.
            (
                None,
                Some(at(7, 1)),
                Some(key(1)),
                page(9, Some(key(2))),
                Continue(at(7, 2)),
            ),
            (
                None,
                Some(at(7, 2)),
                Some(key(2)),
                page(9, None),
                Complete { cursor: 7 },
            ),
            // Out of order, repeated, or on a complete cache (0 included):
            // nothing.
            (None, Some(at(7, 2)), Some(key(1)), page(9, None), Skip),
            (None, Some(at(7, 2)), None, page(9, None), Skip),
            (None, None, Some(key(1)), page(9, None), Skip),
            (Some(7), None, None, page(9, None), Skip),
            (Some(0), None, None, page(9, None), Skip),
        ];
        for (cursor, stored, after, page, want) in cases {
            assert_eq!(
                snapshot_step(cursor, stored.as_ref(), after.as_ref(), &page),
                want,
                "{cursor:?} {stored:?} {after:?} {page:?}"
            );
        }
    }

    #[test]
    fn a_step_writes_the_progress_or_the_cursor() {
        let progress = SnapshotProgress {
            cursor: 7,
            after: SnapshotKey {
                kind: "order".into(),
                id: Uuid::nil(),
            },
        };
        let (key, value) = SnapshotStep::Continue(progress.clone())
            .record()
            .unwrap()
            .unwrap();
        assert_eq!(key, PROGRESS_KEY);
        assert_eq!(
            serde_json::from_str::<SnapshotProgress>(&value).unwrap(),
            progress
        );
        assert_eq!(
            SnapshotStep::Complete { cursor: 0 }.record().unwrap(),
            Some((CURSOR_KEY, "0".to_owned()))
        );
        assert_eq!(SnapshotStep::Skip.record().unwrap(), None);
    }

    #[test]
    fn progress_is_what_this_device_has_not_seen() {
        use TrackingStatus::*;
        let v1 = order(Shipped, &[("a", Placed), ("b", Shipped)]);
        let v2 = order(Delayed, &[("a", Placed), ("b", Shipped), ("c", Delayed)]);
        assert_eq!(
            OrderProgress::between(None, &v1),
            None,
            "first sight is not news"
        );
        assert_eq!(OrderProgress::between(Some(&v1), &v1), None);
        let p = OrderProgress::between(Some(&v1), &v2).unwrap();
        assert_eq!(p.status, Some(Delayed));
        assert_eq!(
            p.new_events
                .iter()
                .map(|e| e.id.as_str())
                .collect::<Vec<_>>(),
            ["c"]
        );
        // A late event that does not change the status is still news.
        let v3 = order(
            Delayed,
            &[("a", Placed), ("x", Paid), ("b", Shipped), ("c", Delayed)],
        );
        let p = OrderProgress::between(Some(&v2), &v3).unwrap();
        assert_eq!((p.status, p.new_events.len()), (None, 1));
    }

    fn message(kind: MessageKind, role: Role) -> Message {
        Message {
            id: Uuid::from_u128(1),
            conversation_id: Uuid::from_u128(2),
            author_id: Uuid::from_u128(3),
            author_role: role,
            author_name: "Nora".into(),
            kind,
            body: "hi".into(),
            state: mostrador_core::chat::MessageState::Sent,
            created_at: jiff::Timestamp::from_millisecond(42).unwrap(),
            attachments: vec![],
        }
    }

    #[test]
    fn only_a_page_past_the_cursor_applies() {
        let page = |cursor| SyncPage {
            changes: 0,
            remaining: 0,
            items: vec![],
            cursor,
            has_more: false,
        };
        assert!(applies(10, &page(11)));
        assert!(!applies(11, &page(11)), "a duplicate");
        assert!(!applies(12, &page(11)), "overtaken by a newer pull");
    }

    #[test]
    fn messages_are_kept_under_their_conversation_and_removals_nowhere() {
        let m = message(MessageKind::Text, Role::Customer);
        assert_eq!(
            placement(&SyncItem::Message(m)),
            Some(Placement {
                kind: EntityKind::Message,
                id: Uuid::from_u128(1),
                parent: Some(Uuid::from_u128(2)),
                sort_key: 42,
            })
        );
        let removed = SyncItem::removed(EntityKind::Message, Uuid::nil());
        assert_eq!(placement(&removed), None);
    }

    #[test]
    fn only_text_messages_count_as_someone_speaking() {
        let customer = message(MessageKind::Text, Role::Customer);
        let a = activity(&customer).unwrap();
        assert!(a.by_customer);
        assert_eq!((a.at_ms, a.author_name), (42, "Nora"));
        assert!(
            !activity(&message(MessageKind::Text, Role::Agent))
                .unwrap()
                .by_customer
        );
        assert_eq!(activity(&message(MessageKind::Note, Role::Agent)), None);
    }
}
