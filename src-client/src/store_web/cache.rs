//! Synced entities and the cursor: pages applied atomically, reads by kind.

use std::collections::HashMap;

use mostrador_core::auth::Role;
use mostrador_core::chat::{MessageKind, MessageState};
use mostrador_core::orders::Order;
use mostrador_core::sync::{SnapshotKey, SnapshotPage, SyncItem, SyncPage};
use uuid::Uuid;
use wasm_bindgen::JsValue;

use super::idb::{self, json_err, Durability, Tx};
use super::last::Lasts;
use super::{clear, entity_key, put_kv, Store, ACTIVITY, ENTITIES, KV, LAST};
use crate::rules::page::{
    self, Activity, Cached, OrderProgress, Placement, SnapshotProgress, SnapshotStep, PROGRESS_KEY,
};
use crate::ClientError;

/// The record `item` is kept as: its placement, its JSON, and the fields
/// the views' indexes and filters read without parsing it.
fn entity_record(at: &Placement, item: &SyncItem, json: String) -> Result<JsValue, ClientError> {
    let id = at.id.to_string();
    let parent = at.parent.map(|p| p.to_string()).unwrap_or_default();
    let mut fields = vec![
        ("kind", at.kind.as_str().into()),
        ("id", id.as_str().into()),
        ("p", parent.as_str().into()),
        ("s", idb::int(at.sort_key)),
        ("j", json.into()),
    ];
    match item {
        SyncItem::Message(m) => {
            if m.kind == MessageKind::Text {
                fields.push((
                    "t",
                    idb::key(&[
                        parent.as_str().into(),
                        idb::int(at.sort_key),
                        id.as_str().into(),
                    ]),
                ));
                if m.state != MessageState::Read {
                    fields.push(("u", parent.as_str().into()));
                }
            }
            fields.push(("a", m.author_id.to_string().into()));
            fields.push(("c", (m.author_role == Role::Customer).into()));
            fields.push(("b", m.body.to_ascii_lowercase().into()));
        }
        SyncItem::Conversation(c) => {
            fields.push(("cu", c.customer_id.to_string().into()));
            // What the agent's inbox filters on (`inbox.rs`).
            fields.push(("st", c.status.as_str().into()));
            let agent = c.assigned_agent_id.map(|a| a.to_string());
            fields.push(("ag", idb::opt_str(agent.as_deref())));
            fields.push(("o", c.order_id.is_some().into()));
        }
        _ => {}
    }
    idb::record(&fields)
}

/// A conversation's activity row (see `ConversationActivity`) as a page
/// moves it: the customer's last message time and name, staff's last
/// reply time.
#[derive(Debug, Default)]
struct ActivityRow {
    /// The row exists (else the first message sets its time as is).
    seen: bool,
    customer_at: Option<i64>,
    staff_at: Option<i64>,
    name: Option<String>,
}

impl ActivityRow {
    fn read(row: &JsValue) -> Self {
        Self {
            seen: row.is_object(),
            customer_at: idb::int_field(row, "ca"),
            staff_at: idb::int_field(row, "sa"),
            name: idb::str_field(row, "n"),
        }
    }

    fn note(&mut self, a: &Activity<'_>) {
        let seen = self.seen;
        let later = |at: Option<i64>| {
            Some(if seen {
                at.unwrap_or(0).max(a.at_ms)
            } else {
                a.at_ms
            })
        };
        if a.by_customer {
            self.customer_at = later(self.customer_at);
            self.name = Some(a.author_name.to_owned());
        } else {
            self.staff_at = later(self.staff_at);
        }
        self.seen = true;
    }

    fn record(&self, id: Uuid) -> Result<JsValue, ClientError> {
        idb::record(&[
            ("id", id.to_string().into()),
            ("ca", idb::opt_int(self.customer_at)),
            ("sa", idb::opt_int(self.staff_at)),
            ("n", idb::opt_str(self.name.as_deref())),
        ])
    }
}

/// The cached `T` in an entity record (`None` for no record).
fn decode<T: Cached>(row: &JsValue) -> Result<Option<T>, ClientError> {
    idb::str_field(row, "j")
        .map(|j| serde_json::from_str(&j).map_err(json_err))
        .transpose()
}

/// Forgets every synced entity, the cursor and a snapshot's progress.
async fn clear_cache(tx: &Tx) -> Result<(), ClientError> {
    clear(tx, &[ENTITIES, ACTIVITY, LAST]).await?;
    let kv = tx.store(KV)?;
    idb::call(kv.delete(&"cursor".into())).await?;
    idb::call(kv.delete(&PROGRESS_KEY.into())).await?;
    Ok(())
}

/// Writes synced items (entities, or removals) in `tx` with what they say
/// about their conversations (activity, newest message); the orders that
/// moved on since their cached copies are returned.
async fn write_items(tx: &Tx, items: &[SyncItem]) -> Result<Vec<OrderProgress>, ClientError> {
    let (entities, activity) = (tx.store(ENTITIES)?, tx.store(ACTIVITY)?);
    // First the reads, in one batch: the activity of every conversation
    // the items speak in, the cached copy of every order they carry.
    let spoken: Vec<Activity<'_>> = items
        .iter()
        .filter_map(|item| match item {
            SyncItem::Message(m) => page::activity(m),
            _ => None,
        })
        .collect();
    let mut activities: HashMap<Uuid, ActivityRow> = idb::get_many(
        &activity,
        spoken
            .iter()
            .map(|a| (a.conversation_id, a.conversation_id.to_string().into())),
    )
    .await?
    .into_iter()
    .map(|(id, row)| (id, ActivityRow::read(&row)))
    .collect();
    for a in &spoken {
        activities.entry(a.conversation_id).or_default().note(a);
    }
    let order_kind = Order::KIND.as_str();
    // An unreadable old copy counts as none.
    let mut orders: HashMap<Uuid, Option<Order>> = idb::get_many(
        &entities,
        items.iter().filter_map(|item| match item {
            SyncItem::Order(o) => Some((o.id, entity_key(order_kind, o.id))),
            _ => None,
        }),
    )
    .await?
    .into_iter()
    .map(|(id, row)| {
        (
            id,
            idb::str_field(&row, "j").and_then(|j| serde_json::from_str(&j).ok()),
        )
    })
    .collect();
    let mut lasts = Lasts::read(tx, &entities, items).await?;
    // Then the writes, in order, queued without waiting for each:
    // one that fails aborts the transaction, and `commit` says so.
    let mut progress = Vec::new();
    for item in items {
        if let SyncItem::Order(new) = item {
            let old = orders.insert(new.id, Some(new.clone())).flatten();
            if let Some(p) = OrderProgress::between(old.as_ref(), new) {
                progress.push(p);
            }
        }
        match (page::placement(item), item) {
            (Some(at), _) => {
                let json = page::entity_json(item).map_err(json_err)?;
                lasts.note(item, at.sort_key, &json);
                entities
                    .put(&entity_record(&at, item, json)?)
                    .map_err(idb::js_err)?;
            }
            // A tombstone of a kind this build does not know has
            // nothing cached to delete.
            (None, SyncItem::Removed { id, .. }) => {
                if let Some(kind) = item.kind() {
                    if kind == Order::KIND {
                        orders.insert(*id, None);
                    }
                    lasts.note(item, 0, "");
                    entities
                        .delete(&entity_key(kind.as_str(), *id))
                        .map_err(idb::js_err)?;
                }
            }
            (None, _) => {}
        }
    }
    lasts.write(tx, &entities).await?;
    for (id, row) in &activities {
        activity.put(&row.record(*id)?).map_err(idb::js_err)?;
    }
    Ok(progress)
}

impl Store {
    /// Applies one page of changes and advances the cursor, atomically.
    /// A page that ends at or before the stored cursor (a duplicate, or one
    /// overtaken by a newer pull) changes nothing. Returns whether it applied.
    pub async fn apply_page(
        &self,
        page: &SyncPage,
    ) -> Result<Option<Vec<OrderProgress>>, ClientError> {
        let tx = Tx::write(
            &self.db().await?,
            &[ENTITIES, ACTIVITY, LAST, KV],
            Durability::Default,
        )?;
        let current = idb::call(tx.store(KV)?.get(&"cursor".into())).await?;
        let current = idb::str_field(&current, "v")
            .and_then(|c| c.parse::<i64>().ok())
            .unwrap_or(0);
        if !page::applies(current, page) {
            return Ok(None);
        }
        let progress = write_items(&tx, &page.items).await?;
        put_kv(&tx, "cursor", &page.cursor.to_string()).await?;
        tx.commit().await?;
        Ok(Some(progress))
    }

    /// Applies one snapshot page asked after `after` (`None`: the first),
    /// with the snapshot's progress, atomically: the cache is marked
    /// complete (the cursor written, the progress gone) only with the last
    /// page, so a store left mid-snapshot never looks complete. The first
    /// page starts the cache over. A page the store does not expect (see
    /// [`page::snapshot_step`]) changes nothing. Returns whether it applied.
    pub async fn apply_snapshot_page(
        &self,
        after: Option<&SnapshotKey>,
        snapshot: &SnapshotPage,
    ) -> Result<bool, ClientError> {
        let tx = Tx::write(
            &self.db().await?,
            &[ENTITIES, ACTIVITY, LAST, KV],
            Durability::Default,
        )?;
        let kv = tx.store(KV)?;
        let cursor = idb::call(kv.get(&"cursor".into())).await?;
        // A cursor that does not parse still marks the cache complete.
        let cursor = idb::str_field(&cursor, "v").map(|c| c.parse().unwrap_or(0));
        let progress = idb::call(kv.get(&PROGRESS_KEY.into())).await?;
        let progress: Option<SnapshotProgress> =
            idb::str_field(&progress, "v").and_then(|j| serde_json::from_str(&j).ok());
        let step = page::snapshot_step(cursor, progress.as_ref(), after, snapshot);
        let Some((key, value)) = step.record().map_err(json_err)? else {
            return Ok(false);
        };
        if after.is_none() {
            clear_cache(&tx).await?;
        }
        write_items(&tx, &snapshot.items).await?;
        if let SnapshotStep::Complete { .. } = step {
            idb::call(kv.delete(&PROGRESS_KEY.into())).await?;
        }
        put_kv(&tx, key, &value).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Where an unfinished snapshot stands (`None`: none is, or its record
    /// is unreadable, and a snapshot starts over).
    pub async fn snapshot_progress(&self) -> Result<Option<SnapshotProgress>, ClientError> {
        self.get_json(PROGRESS_KEY).await
    }

    /// Forgets every synced entity and the cursor (the server asked for a
    /// full resync). The outbox is kept: unsent writes are never dropped.
    pub async fn reset_cache(&self) -> Result<(), ClientError> {
        let tx = Tx::write(
            &self.db().await?,
            &[ENTITIES, ACTIVITY, LAST, KV],
            Durability::Default,
        )?;
        clear_cache(&tx).await?;
        tx.commit().await
    }

    /// Every cached `T` (or only those under `parent`: a conversation's
    /// messages), newest `sort_key` last.
    pub async fn list<T: Cached>(&self, parent: Option<Uuid>) -> Result<Vec<T>, ClientError> {
        let kind: JsValue = T::KIND.as_str().into();
        let tx = Tx::read(&self.db().await?, &[ENTITIES])?;
        let entities = tx.store(ENTITIES)?;
        let all = match parent {
            Some(p) => {
                let range = idb::prefix_range(&[kind, p.to_string().into()])?;
                entities
                    .index("list")
                    .and_then(|i| i.get_all_with_key(&range))
            }
            None => {
                let range = idb::prefix_range(&[kind])?;
                entities
                    .index("kind")
                    .and_then(|i| i.get_all_with_key(&range))
            }
        };
        idb::rows(idb::call(all).await?)
            .iter()
            .filter_map(|row| decode(row).transpose())
            .collect()
    }

    /// One cached `T`.
    pub async fn get<T: Cached>(&self, id: Uuid) -> Result<Option<T>, ClientError> {
        let tx = Tx::read(&self.db().await?, &[ENTITIES])?;
        let row = idb::call(tx.store(ENTITIES)?.get(&entity_key(T::KIND.as_str(), id))).await?;
        decode(&row)
    }
}
