//! Synced entities and the cursor: pages applied atomically, reads by kind.

use std::collections::HashMap;

use mostrador_core::orders::Order;
use mostrador_core::sync::{SnapshotKey, SnapshotPage, SyncItem, SyncPage};
use sqlx::Row;
use uuid::Uuid;

use super::{db_err, json_err, Store};
use crate::rules::page;
use crate::ClientError;

pub use crate::rules::page::{Cached, OrderProgress, SnapshotProgress};
use crate::rules::page::{ConversationActivity, SnapshotStep, PROGRESS_KEY};

/// The JSON an entity is kept as (a removal has none).
fn entity_json(item: &SyncItem) -> Result<String, ClientError> {
    page::entity_json(item).map_err(json_err)
}

/// Forgets every synced entity, the cursor and a snapshot's progress.
async fn clear_cache(tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>) -> Result<(), ClientError> {
    for sql in [
        "DELETE FROM conversation_activity",
        "DELETE FROM entities",
        "DELETE FROM kv WHERE key IN ('cursor', 'snapshot')",
    ] {
        sqlx::query(sql).execute(&mut **tx).await.map_err(db_err)?;
    }
    Ok(())
}

/// Entity rows per multi-row `INSERT` (five values each).
const ROWS: usize = 200;

/// Writes synced items (entities, or removals) in `tx`, in order, with
/// what they say about their conversations' activity, in a few statements
/// a page rather than a few an item: the entities in multi-row upserts
/// (a removal ends a run), the activity folded per conversation first.
/// With `progress`, the orders that moved on since their cached copies are
/// returned (their copies read in one statement first).
async fn write_items(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    items: &[SyncItem],
    progress: bool,
) -> Result<Vec<OrderProgress>, ClientError> {
    let mut moved = Vec::new();
    if progress {
        let mut orders = cached_orders(tx, items).await?;
        for item in items {
            match item {
                SyncItem::Order(new) => {
                    let old = orders.insert(new.id, Some(new.clone())).flatten();
                    moved.extend(OrderProgress::between(old.as_ref(), new));
                }
                SyncItem::Removed { id, .. } if item.kind() == Some(Order::KIND) => {
                    orders.insert(*id, None);
                }
                _ => {}
            }
        }
    }
    write_activity(tx, items).await?;
    let mut run = Vec::with_capacity(items.len().min(ROWS));
    for item in items {
        match (page::placement(item), item) {
            (Some(at), _) => {
                run.push((at, entity_json(item)?));
                if run.len() == ROWS {
                    upsert_entities(tx, &mut run).await?;
                }
            }
            // A tombstone of a kind this build does not know has nothing
            // cached to delete.
            (None, SyncItem::Removed { id, .. }) => {
                if let Some(kind) = item.kind() {
                    upsert_entities(tx, &mut run).await?;
                    sqlx::query("DELETE FROM entities WHERE kind = ? AND id = ?")
                        .bind(kind.as_str())
                        .bind(id.to_string())
                        .execute(&mut **tx)
                        .await
                        .map_err(db_err)?;
                }
            }
            (None, _) => {}
        }
    }
    upsert_entities(tx, &mut run).await?;
    Ok(moved)
}

/// The cached copies of the orders `items` carry, in one statement (an
/// unreadable copy counts as none).
async fn cached_orders(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    items: &[SyncItem],
) -> Result<HashMap<Uuid, Option<Order>>, ClientError> {
    let ids: Vec<String> = items
        .iter()
        .filter_map(|item| match item {
            SyncItem::Order(o) => Some(o.id.to_string()),
            _ => None,
        })
        .collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = sqlx::query(
        "SELECT id, json FROM entities WHERE kind = ? AND id IN (SELECT value FROM json_each(?))",
    )
    .bind(Order::KIND.as_str())
    .bind(serde_json::to_string(&ids).map_err(json_err)?)
    .fetch_all(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            let id = Uuid::parse_str(&r.get::<String, _>("id")).ok()?;
            Some((id, serde_json::from_str(&r.get::<String, _>("json")).ok()))
        })
        .collect())
}

/// Upserts a run of entities in one statement and empties it.
async fn upsert_entities(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    run: &mut Vec<(page::Placement, String)>,
) -> Result<(), ClientError> {
    if run.is_empty() {
        return Ok(());
    }
    // Rows of one statement apply in order: a later copy of an entity
    // updates an earlier one, as separate statements would.
    let sql = format!(
        "INSERT INTO entities (kind, id, parent_id, sort_key, json) VALUES {}
         ON CONFLICT (kind, id) DO UPDATE SET parent_id = excluded.parent_id, sort_key = excluded.sort_key, json = excluded.json",
        vec!["(?, ?, ?, ?, ?)"; run.len()].join(", ")
    );
    let mut query = sqlx::query(&sql);
    for (at, json) in run.drain(..) {
        query = query
            .bind(at.kind.as_str())
            .bind(at.id.to_string())
            .bind(at.parent.map(|p| p.to_string()))
            .bind(at.sort_key)
            .bind(json);
    }
    query.execute(&mut **tx).await.map_err(db_err)?;
    Ok(())
}

/// Notes what the text messages in `items` say about their conversations'
/// activity (see `ConversationActivity`): folded per conversation in the
/// items' order, then one upsert for all of them.
async fn write_activity(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    items: &[SyncItem],
) -> Result<(), ClientError> {
    let mut rows: Vec<(Uuid, ConversationActivity)> = Vec::new();
    let mut at: HashMap<Uuid, usize> = HashMap::new();
    for a in items.iter().filter_map(|item| match item {
        SyncItem::Message(m) => page::activity(m),
        _ => None,
    }) {
        let i = *at.entry(a.conversation_id).or_insert_with(|| {
            rows.push((a.conversation_id, ConversationActivity::default()));
            rows.len() - 1
        });
        let row = &mut rows[i].1;
        if a.by_customer {
            row.customer_at = row.customer_at.max(Some(a.at_ms));
            row.customer_name = Some(a.author_name.to_owned());
        } else {
            row.staff_at = row.staff_at.max(Some(a.at_ms));
        }
    }
    if rows.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = rows
        .into_iter()
        .map(|(id, a)| (id.to_string(), a.customer_at, a.staff_at, a.customer_name))
        .collect();
    sqlx::query(
        "INSERT INTO conversation_activity (conversation_id, customer_at, staff_at, customer_name)
         SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?) WHERE true
         ON CONFLICT (conversation_id) DO UPDATE SET
           customer_at = CASE WHEN excluded.customer_at IS NULL THEN customer_at
             ELSE MAX(COALESCE(customer_at, 0), excluded.customer_at) END,
           staff_at = CASE WHEN excluded.staff_at IS NULL THEN staff_at
             ELSE MAX(COALESCE(staff_at, 0), excluded.staff_at) END,
           customer_name = COALESCE(excluded.customer_name, customer_name)",
    )
    .bind(serde_json::to_string(&rows).map_err(json_err)?)
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(())
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
        if !page::applies(current, page) {
            return Ok(None);
        }
        let progress = write_items(&mut tx, &page.items, true).await?;
        sqlx::query("INSERT INTO kv (key, value) VALUES ('cursor', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(page.cursor.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
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
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let rows = sqlx::query("SELECT key, value FROM kv WHERE key IN (?, ?)")
            .bind(page::CURSOR_KEY)
            .bind(PROGRESS_KEY)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
        let value = |key: &str| {
            rows.iter()
                .find(|r| r.get::<String, _>("key") == key)
                .map(|r| r.get::<String, _>("value"))
        };
        // A cursor that does not parse still marks the cache complete.
        let cursor = value(page::CURSOR_KEY).map(|c| c.parse().unwrap_or(0));
        let progress: Option<SnapshotProgress> =
            value(PROGRESS_KEY).and_then(|j| serde_json::from_str(&j).ok());
        let step = page::snapshot_step(cursor, progress.as_ref(), after, snapshot);
        let Some((key, value)) = step.record().map_err(json_err)? else {
            return Ok(false);
        };
        if after.is_none() {
            clear_cache(&mut tx).await?;
        }
        // No order moves on in a snapshot: the cache was empty before it.
        write_items(&mut tx, &snapshot.items, false).await?;
        if let SnapshotStep::Complete { .. } = step {
            sqlx::query("DELETE FROM kv WHERE key = ?")
                .bind(PROGRESS_KEY)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        sqlx::query("INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
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
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        clear_cache(&mut tx).await?;
        tx.commit().await.map_err(db_err)
    }

    /// Every cached `T` (or only those under `parent`: a conversation's
    /// messages), newest `sort_key` last.
    pub async fn list<T: Cached>(&self, parent: Option<Uuid>) -> Result<Vec<T>, ClientError> {
        let kind = T::KIND.as_str();
        // One row: SQLite joins the entities' JSON into one array, in
        // order, decoded at once. Thousands of rows (a staff device's
        // conversations) would each cross sqlx's worker channel as a row of
        // their own, which cost more than the decoding.
        let all: String = match parent {
            Some(p) => sqlx::query_scalar(
                "SELECT '[' || COALESCE(group_concat(json, ',' ORDER BY sort_key, id), '') || ']'
                 FROM entities WHERE kind = ? AND parent_id = ?",
            )
            .bind(kind)
            .bind(p.to_string())
            .fetch_one(&self.pool)
            .await,
            None => sqlx::query_scalar(
                "SELECT '[' || COALESCE(group_concat(json, ',' ORDER BY sort_key, id), '') || ']'
                 FROM entities WHERE kind = ?",
            )
            .bind(kind)
            .fetch_one(&self.pool)
            .await,
        }
        .map_err(db_err)?;
        serde_json::from_str(&all).map_err(json_err)
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
    use mostrador_core::sync::EntityKind;

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
            items: vec![SyncItem::removed(EntityKind::Message, id)],
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
