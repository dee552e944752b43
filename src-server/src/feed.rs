//! Writing the change feed. Every visible change is recorded here, inside
//! the same transaction as the change (so the cursor can never run ahead of
//! the state it covers), and live listeners are woken after commit.

use mostrador_core::ErrorCode;
use uuid::Uuid;

use crate::db::{now_ms, Together, Tx, Value};
use crate::error::AppError;
use crate::state::AppState;

/// The kinds of entity the feed carries (`changes.entity` holds
/// [`EntityKind::as_str`]): core's type, the one the engine's store and the
/// UI's refresh use, named for this module's callers.
pub use mostrador_core::sync::EntityKind as Entity;

/// One change to record.
#[derive(Debug, Clone, Copy)]
pub struct Change {
    pub entity: Entity,
    pub id: Uuid,
    /// Whose data it is; `None` for staff-only data.
    pub customer_id: Option<Uuid>,
    /// Internal notes: never shown to customers.
    pub staff_only: bool,
    pub removed: bool,
}

impl Change {
    pub fn upsert(entity: Entity, id: Uuid, customer_id: Option<Uuid>) -> Self {
        Self {
            entity,
            id,
            customer_id,
            staff_only: false,
            removed: false,
        }
    }
}

/// Records a change and returns its sequence number.
pub async fn record(tx: &mut Tx, change: Change) -> Result<i64, sqlx::Error> {
    let seq: i64 =
        sqlx::query_scalar("UPDATE feed_counter SET seq = seq + 1 WHERE id = 1 RETURNING seq")
            .fetch_one(&mut **tx)
            .await?;
    sqlx::query(
        "INSERT INTO changes (seq, entity, entity_id, customer_id, staff_only, removed, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(seq)
    .bind(change.entity.as_str())
    .bind(change.id.to_string())
    .bind(change.customer_id.map(|c| c.to_string()))
    .bind(i64::from(change.staff_only))
    .bind(i64::from(change.removed))
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(seq)
}

/// Records changes, numbered in the order given (see [`push_changes`]).
pub async fn record_all(tx: &mut Tx, changes: &[Change]) -> Result<(), sqlx::Error> {
    let mut together = Together::on(tx);
    push_changes(&mut together, changes);
    together.run(tx).await
}

/// Records many changes (thousands: a set-wise run of sends), numbered in
/// the order given: the counter moves once (`RETURNING` its new value),
/// then the rows go in through `db::insert_rows`, two calls in all. For a
/// few rows [`push_changes`] joins them to a write's other statements.
pub async fn record_many(
    conn: &mut sqlx::AnyConnection,
    changes: &[Change],
) -> Result<(), sqlx::Error> {
    if changes.is_empty() {
        return Ok(());
    }
    let n = changes.len() as i64;
    let head: i64 =
        sqlx::query_scalar("UPDATE feed_counter SET seq = seq + $1 WHERE id = 1 RETURNING seq")
            .bind(n)
            .fetch_one(&mut *conn)
            .await?;
    let at = now_ms();
    let rows: Vec<Vec<Value>> = changes
        .iter()
        .zip(head - n + 1..)
        .map(|(change, seq)| {
            vec![
                seq.into(),
                change.entity.as_str().into(),
                change.id.to_string().into(),
                change.customer_id.map(|c| c.to_string()).into(),
                Value::Int(i64::from(change.staff_only)),
                Value::Int(i64::from(change.removed)),
                at.into(),
            ]
        })
        .collect();
    crate::db::insert_rows(
        conn,
        "INSERT INTO changes (seq, entity, entity_id, customer_id, staff_only, removed, at)",
        7,
        &rows,
    )
    .await
}

/// Adds the writes recording `changes` to `together`: the counter moves
/// once, and the rows go in as one multi-row insert (per 500 rows),
/// numbered in the order given from the counter's new value (row `i` of
/// `n` gets `seq - n + 1 + i`), so nothing is read back. The insert reads
/// the new value from the counter's row on SQLite (the update ran before
/// it) and from the update's `RETURNING` on PostgreSQL.
pub fn push_changes(together: &mut Together, changes: &[Change]) {
    if changes.is_empty() {
        return;
    }
    let n = changes.len() as i64;
    let (counter, source) = if together.is_sqlite() {
        together.push(
            "UPDATE feed_counter SET seq = seq + $1 WHERE id = 1",
            vec![n.into()],
        );
        ("feed_counter".to_owned(), "WHERE fc.id = 1")
    } else {
        let part = together.push(
            "UPDATE feed_counter SET seq = seq + $1 WHERE id = 1 RETURNING seq",
            vec![n.into()],
        );
        (Together::part_name(part), "")
    };
    let at = now_ms();
    let mut numbered = 0i64;
    // 6 parameters a row, well under both engines' limits.
    for chunk in changes.chunks(500) {
        let mut rows = Vec::with_capacity(chunk.len());
        let mut values: Vec<Value> = vec![(n - numbered).into(), at.into()];
        for (i, change) in chunk.iter().enumerate() {
            let p = 3 + i * 6;
            let marks: Vec<String> = (p..p + 6).map(|k| format!("${k}")).collect();
            rows.push(format!("({})", marks.join(", ")));
            values.extend([
                Value::Int(i as i64),
                change.entity.as_str().into(),
                change.id.to_string().into(),
                change.customer_id.map(|c| c.to_string()).into(),
                Value::Int(i64::from(change.staff_only)),
                Value::Int(i64::from(change.removed)),
            ]);
        }
        numbered += chunk.len() as i64;
        together.push(
            format!(
                "INSERT INTO changes (seq, entity, entity_id, customer_id, staff_only, removed, at)
                 SELECT fc.seq - $1 + 1 + v.column1, v.column2, v.column3, v.column4,
                        v.column5, v.column6, $2
                 FROM {counter} fc, (VALUES {}) AS v {source}",
                rows.join(", ")
            ),
            values,
        );
    }
}

/// Commits and wakes live listeners.
pub async fn commit(state: &AppState, tx: Tx) -> Result<(), AppError> {
    tx.commit().await?;
    state.notify_feed(state.db.feed_head().await?);
    Ok(())
}

/// Compacts the feed (maintenance). Every change row that a later row of
/// the same entity supersedes is dropped, so each entity keeps exactly its
/// latest row and a full sync from 0 still sees everything that exists.
/// Removal rows (tombstones) up to `up_to_seq` are dropped too; that is what
/// an incremental cursor older than `up_to_seq` would miss, so such cursors
/// (other than 0) must resync.
pub async fn prune(state: &AppState, up_to_seq: i64) -> Result<(), AppError> {
    let mut tx = state.db.begin_write().await?;
    sqlx::query(
        "DELETE FROM changes WHERE seq <= $1 AND EXISTS (
            SELECT 1 FROM changes later
            WHERE later.entity = changes.entity AND later.entity_id = changes.entity_id AND later.seq > changes.seq)",
    )
    .bind(up_to_seq)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM changes WHERE seq <= $1 AND removed = 1")
        .bind(up_to_seq)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE feed_counter SET floor = $1 WHERE id = 1 AND floor < $1")
        .bind(up_to_seq)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Compacts the feed every `every`, up to the newest change older than
/// `retention` (devices offline longer than that resync from 0).
pub fn spawn_pruner(state: AppState, every: std::time::Duration, retention: std::time::Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let before =
                crate::db::now_ms() - i64::try_from(retention.as_millis()).unwrap_or(i64::MAX / 2);
            let up_to: Option<i64> =
                match sqlx::query_scalar("SELECT MAX(seq) FROM changes WHERE at < $1")
                    .bind(before)
                    .fetch_one(state.db.pool())
                    .await
                {
                    Ok(v) => v,
                    Err(e) => {
                        tracing::warn!(error = %e, "feed prune: could not read the feed");
                        continue;
                    }
                };
            if let Some(up_to) = up_to {
                match prune(&state, up_to).await {
                    Ok(()) => tracing::info!(up_to, "change feed pruned"),
                    Err(e) => tracing::warn!(error = ?e, "feed prune failed"),
                }
            }
        }
    });
}

/// The error for an incremental cursor the feed no longer covers.
pub fn resync_required() -> AppError {
    AppError::new(
        ErrorCode::ResyncRequired,
        "this cursor is older than the change feed; start a full resync from 0",
    )
}
