//! Synced entities and the cursor: pages applied atomically, reads by kind.

use mostrador_core::callbacks::Callback;
use mostrador_core::chat::{Conversation, Message};
use mostrador_core::orders::{Order, TrackingEvent, TrackingStatus};
use mostrador_core::profile::Profile;
use mostrador_core::sync::{EntityKind, SyncItem, SyncPage};
use serde::de::DeserializeOwned;
use sqlx::Row;
use uuid::Uuid;

use super::{db_err, json_err, Store};
use crate::ClientError;

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

impl Store {
    /// Applies one page of changes and advances the cursor, atomically.
    /// A page that ends at or before the stored cursor (a duplicate, or one
    /// overtaken by a newer pull) changes nothing. Returns whether it applied.
    pub async fn apply_page(
        &self,
        page: &SyncPage,
    ) -> Result<Option<Vec<OrderProgress>>, ClientError> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let current: Option<String> =
            sqlx::query_scalar("SELECT value FROM kv WHERE key = 'cursor'")
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
        let current = current.and_then(|c| c.parse::<i64>().ok()).unwrap_or(0);
        if page.cursor <= current {
            return Ok(None);
        }
        let mut progress = Vec::new();
        for item in &page.items {
            if let SyncItem::Message(m) = item {
                if m.kind == mostrador_core::chat::MessageKind::Text {
                    let at = m.created_at.as_millisecond();
                    let customer = m.author_role == mostrador_core::auth::Role::Customer;
                    sqlx::query(
                        "INSERT INTO conversation_activity (conversation_id, customer_at, staff_at, customer_name)
                         VALUES (?1, CASE WHEN ?2 THEN ?3 END, CASE WHEN ?2 THEN NULL ELSE ?3 END, CASE WHEN ?2 THEN ?4 END)
                         ON CONFLICT (conversation_id) DO UPDATE SET
                           customer_at = CASE WHEN ?2 THEN MAX(COALESCE(customer_at, 0), ?3) ELSE customer_at END,
                           staff_at = CASE WHEN ?2 THEN staff_at ELSE MAX(COALESCE(staff_at, 0), ?3) END,
                           customer_name = CASE WHEN ?2 THEN ?4 ELSE customer_name END",
                    )
                    .bind(m.conversation_id.to_string())
                    .bind(customer)
                    .bind(at)
                    .bind(&m.author_name)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                }
            }
            if let SyncItem::Order(new) = item {
                let old: Option<String> =
                    sqlx::query_scalar("SELECT json FROM entities WHERE kind = 'order' AND id = ?")
                        .bind(new.id.to_string())
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db_err)?;
                let old: Option<Order> = old.and_then(|j| serde_json::from_str(&j).ok());
                if let Some(p) = OrderProgress::between(old.as_ref(), new) {
                    progress.push(p);
                }
            }
            let (kind, id, parent, sort, json) = match item {
                SyncItem::Order(o) => (
                    EntityKind::Order.as_str(),
                    o.id,
                    None,
                    o.placed_at.as_millisecond(),
                    serde_json::to_string(o),
                ),
                SyncItem::Conversation(c) => (
                    EntityKind::Conversation.as_str(),
                    c.id,
                    None,
                    c.last_message_at.unwrap_or(c.updated_at).as_millisecond(),
                    serde_json::to_string(c),
                ),
                SyncItem::Message(m) => (
                    EntityKind::Message.as_str(),
                    m.id,
                    Some(m.conversation_id),
                    m.created_at.as_millisecond(),
                    serde_json::to_string(m),
                ),
                SyncItem::Callback(c) => (
                    EntityKind::Callback.as_str(),
                    c.id,
                    None,
                    c.slot_start.unwrap_or(c.created_at).as_millisecond(),
                    serde_json::to_string(c),
                ),
                SyncItem::Profile(p) => (
                    EntityKind::Profile.as_str(),
                    p.user_id,
                    None,
                    0,
                    serde_json::to_string(p),
                ),
                SyncItem::Removed { kind, id } => {
                    sqlx::query("DELETE FROM entities WHERE kind = ? AND id = ?")
                        .bind(kind)
                        .bind(id.to_string())
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    continue;
                }
            };
            sqlx::query(
                "INSERT INTO entities (kind, id, parent_id, sort_key, json) VALUES (?, ?, ?, ?, ?)
                 ON CONFLICT (kind, id) DO UPDATE SET parent_id = excluded.parent_id, sort_key = excluded.sort_key, json = excluded.json",
            )
            .bind(kind)
            .bind(id.to_string())
            .bind(parent.map(|p| p.to_string()))
            .bind(sort)
            .bind(json.map_err(json_err)?)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        sqlx::query("INSERT INTO kv (key, value) VALUES ('cursor', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(page.cursor.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(Some(progress))
    }

    /// Forgets every synced entity and the cursor (the server asked for a
    /// full resync). The outbox is kept: unsent writes are never dropped.
    pub async fn reset_cache(&self) -> Result<(), ClientError> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query("DELETE FROM conversation_activity")
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        sqlx::query("DELETE FROM entities")
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        sqlx::query("DELETE FROM kv WHERE key = 'cursor'")
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    /// Every cached `T` (or only those under `parent`: a conversation's
    /// messages), newest `sort_key` last.
    pub async fn list<T: Cached>(&self, parent: Option<Uuid>) -> Result<Vec<T>, ClientError> {
        let kind = T::KIND.as_str();
        let rows = match parent {
            Some(p) => sqlx::query(
                "SELECT json FROM entities WHERE kind = ? AND parent_id = ? ORDER BY sort_key, id",
            )
            .bind(kind)
            .bind(p.to_string())
            .fetch_all(&self.pool)
            .await,
            None => {
                sqlx::query("SELECT json FROM entities WHERE kind = ? ORDER BY sort_key, id")
                    .bind(kind)
                    .fetch_all(&self.pool)
                    .await
            }
        }
        .map_err(db_err)?;
        rows.iter()
            .map(|r| serde_json::from_str(&r.get::<String, _>("json")).map_err(json_err))
            .collect()
    }

    /// One cached `T`.
    pub async fn get<T: Cached>(&self, id: Uuid) -> Result<Option<T>, ClientError> {
        let kind = T::KIND.as_str();
        let json: Option<String> =
            sqlx::query_scalar("SELECT json FROM entities WHERE kind = ? AND id = ?")
                .bind(kind)
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        json.map(|j| serde_json::from_str(&j).map_err(json_err))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mostrador_core::auth::Role;
    use mostrador_core::chat::{Message, MessageKind, MessageState};

    fn message(id: Uuid, body: &str) -> SyncItem {
        SyncItem::Message(Message {
            id,
            conversation_id: Uuid::nil(),
            author_id: Uuid::nil(),
            author_role: Role::Agent,
            author_name: "Luis".into(),
            kind: MessageKind::Text,
            body: body.into(),
            state: MessageState::Sent,
            created_at: jiff::Timestamp::UNIX_EPOCH,
            attachments: vec![],
        })
    }

    #[tokio::test]
    async fn duplicate_and_overtaken_pages_change_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.sqlite3")).await.unwrap();
        let id = Uuid::new_v4();
        let newer = SyncPage {
            changes: 0,
            remaining: 0,
            items: vec![message(id, "v2")],
            cursor: 10,
            has_more: false,
        };
        let older = SyncPage {
            changes: 0,
            remaining: 0,
            items: vec![message(id, "v1")],
            cursor: 5,
            has_more: false,
        };
        assert!(store.apply_page(&newer).await.unwrap().is_some());
        assert!(
            store.apply_page(&newer).await.unwrap().is_none(),
            "the same page twice"
        );
        assert!(
            store.apply_page(&older).await.unwrap().is_none(),
            "an older page after a newer one"
        );
        let got: Message = store.get(id).await.unwrap().unwrap();
        assert_eq!(
            (got.body.as_str(), store.cursor().await.unwrap()),
            ("v2", 10)
        );
        // Removals apply, and survive reopening the file.
        let gone = SyncPage {
            changes: 0,
            remaining: 0,
            items: vec![SyncItem::Removed {
                kind: "message".into(),
                id,
            }],
            cursor: 11,
            has_more: false,
        };
        assert!(store.apply_page(&gone).await.unwrap().is_some());
        drop(store);
        let store = Store::open(&dir.path().join("s.sqlite3")).await.unwrap();
        assert!(store.get::<Message>(id).await.unwrap().is_none());
        assert_eq!(store.cursor().await.unwrap(), 11);
    }
}

#[cfg(test)]
mod order_progress_tests {
    use super::*;
    use mostrador_core::orders::TrackingEvent;

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
}
