//! Synced entities and the cursor: pages applied atomically, reads by kind.

use mostrador_core::orders::Order;
use mostrador_core::sync::{EntityKind, SnapshotKey, SnapshotPage, SyncItem, SyncPage};
use sqlx::Row;
use uuid::Uuid;

use super::{db_err, json_err, Store};
use crate::rules::page;
use crate::ClientError;

use crate::rules::page::SnapshotStep;
pub use crate::rules::page::{Cached, OrderProgress, SnapshotProgress};

/// The JSON an entity is kept as (a removal has none).
fn entity_json(item: &SyncItem) -> Result<String, ClientError> {
    page::entity_json(item).map_err(json_err)
}

/// The `kv` key of an unfinished snapshot's progress.
const SNAPSHOT: &str = "snapshot";

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

/// Writes one synced item (an entity, or the removal of one) with what
/// it says about its conversation's activity; an order that moved on since
/// the cached copy is returned.
async fn write_item(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    item: &SyncItem,
) -> Result<Option<OrderProgress>, ClientError> {
    let mut progress = None;
    if let Some(a) = match item {
        SyncItem::Message(m) => page::activity(m),
        _ => None,
    } {
        sqlx::query(
            "INSERT INTO conversation_activity (conversation_id, customer_at, staff_at, customer_name)
             VALUES (?1, CASE WHEN ?2 THEN ?3 END, CASE WHEN ?2 THEN NULL ELSE ?3 END, CASE WHEN ?2 THEN ?4 END)
             ON CONFLICT (conversation_id) DO UPDATE SET
               customer_at = CASE WHEN ?2 THEN MAX(COALESCE(customer_at, 0), ?3) ELSE customer_at END,
               staff_at = CASE WHEN ?2 THEN staff_at ELSE MAX(COALESCE(staff_at, 0), ?3) END,
               customer_name = CASE WHEN ?2 THEN ?4 ELSE customer_name END",
        )
        .bind(a.conversation_id.to_string())
        .bind(a.by_customer)
        .bind(a.at_ms)
        .bind(a.author_name)
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
    }
    if let SyncItem::Order(new) = item {
        let old: Option<String> =
            sqlx::query_scalar("SELECT json FROM entities WHERE kind = ? AND id = ?")
                .bind(EntityKind::Order.as_str())
                .bind(new.id.to_string())
                .fetch_optional(&mut **tx)
                .await
                .map_err(db_err)?;
        let old: Option<Order> = old.and_then(|j| serde_json::from_str(&j).ok());
        progress = OrderProgress::between(old.as_ref(), new);
    }
    let (Some(at), json) = (page::placement(item), entity_json(item)) else {
        // A tombstone of a kind this build does not know has nothing
        // cached to delete.
        if let (SyncItem::Removed { id, .. }, Some(kind)) = (item, item.kind()) {
            sqlx::query("DELETE FROM entities WHERE kind = ? AND id = ?")
                .bind(kind.as_str())
                .bind(id.to_string())
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
        }
        return Ok(progress);
    };
    sqlx::query(
        "INSERT INTO entities (kind, id, parent_id, sort_key, json) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (kind, id) DO UPDATE SET parent_id = excluded.parent_id, sort_key = excluded.sort_key, json = excluded.json",
    )
    .bind(at.kind.as_str())
    .bind(at.id.to_string())
    .bind(at.parent.map(|p| p.to_string()))
    .bind(at.sort_key)
    .bind(json?)
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
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
        let mut progress = Vec::new();
        for item in &page.items {
            if let Some(p) = write_item(&mut tx, item).await? {
                progress.push(p);
            }
        }
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
        let rows = sqlx::query("SELECT key, value FROM kv WHERE key IN ('cursor', ?)")
            .bind(SNAPSHOT)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
        let value = |key: &str| {
            rows.iter()
                .find(|r| r.get::<String, _>("key") == key)
                .map(|r| r.get::<String, _>("value"))
        };
        let cursor = value("cursor").and_then(|c| c.parse().ok()).unwrap_or(0);
        let progress: Option<SnapshotProgress> =
            value(SNAPSHOT).and_then(|j| serde_json::from_str(&j).ok());
        let step = page::snapshot_step(cursor, progress.as_ref(), after, snapshot);
        let (key, value) = match &step {
            SnapshotStep::Skip => return Ok(false),
            SnapshotStep::Continue(p) => (SNAPSHOT, serde_json::to_string(p).map_err(json_err)?),
            SnapshotStep::Complete { cursor } => ("cursor", cursor.to_string()),
        };
        if after.is_none() {
            clear_cache(&mut tx).await?;
        }
        for item in &snapshot.items {
            write_item(&mut tx, item).await?;
        }
        if let SnapshotStep::Complete { .. } = step {
            sqlx::query("DELETE FROM kv WHERE key = ?")
                .bind(SNAPSHOT)
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
        self.get_json(SNAPSHOT).await
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
