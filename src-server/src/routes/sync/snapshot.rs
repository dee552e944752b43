//! `GET /api/v1/sync/snapshot`: what an initial sync carries instead of the
//! whole feed from 0, each entity once.
//!
//! The snapshot is read from the feed itself: for every entity the
//! caller's feed rows name (the same row filter as `GET /api/v1/sync`: a
//! customer's own rows without internal notes, every row for staff), the
//! latest such row; a removal is left out, and so is what
//! [`super::visible_items`] (the feed's visibility rule) hides. The store
//! that results is the one a pull of the whole feed from 0 leaves. Pages
//! go by (kind word, id), so a write during paging cannot shift them; each
//! page gives the feed head read before its rows, and the client continues
//! the feed from the first page's, so every change made while it paged is
//! replayed (items are whole current states, applied idempotently).

use axum::extract::State;
use mostrador_core::sync::{EntityKind, SnapshotKey, SnapshotPage, DEFAULT_PAGE, MAX_PAGE};
use serde::Deserialize;
use sqlx::Row;
use uuid::Uuid;

use crate::auth::Actor;
use crate::db::uuid;
use crate::error::AppResult;
use crate::extract::{invalid, Json, Query};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SnapshotQuery {
    /// With `after_id`: continue after this entity (the previous page's
    /// `next`); neither for the first page.
    pub after_kind: Option<String>,
    pub after_id: Option<Uuid>,
    /// Entities per page (default 200, at most 2000).
    pub limit: Option<i64>,
}

/// The caller's rows of the feed, the last of each entity (`c` is the row,
/// `l` a later one): the filter of the feed, written once for the page and
/// the count.
fn latest_rows(staff: bool) -> &'static str {
    if staff {
        "FROM changes c WHERE NOT EXISTS (SELECT 1 FROM changes l
           WHERE l.entity = c.entity AND l.entity_id = c.entity_id AND l.seq > c.seq)"
    } else {
        "FROM changes c WHERE c.customer_id = $1 AND c.staff_only = 0 AND NOT EXISTS (SELECT 1 FROM changes l
           WHERE l.entity = c.entity AND l.entity_id = c.entity_id
             AND l.customer_id = $1 AND l.staff_only = 0 AND l.seq > c.seq)"
    }
}

/// Reads one page of the caller's snapshot.
pub async fn page(
    state: &AppState,
    actor: &Actor,
    after: Option<SnapshotKey>,
    limit: i64,
) -> AppResult<SnapshotPage> {
    let mut conn = state.db.pool().acquire().await?;
    // The head first: a change committed after it has a later seq, and the
    // feed from here replays it.
    let cursor: i64 = sqlx::query_scalar("SELECT seq FROM feed_counter WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?;
    let staff = actor.is_staff();
    // Parameters: the customer (customers only), then the key and limit.
    let n = if staff { 0 } else { 1 };
    // A row-value comparison, so both engines seek the index to the key
    // (an OR of two comparisons makes SQLite scan the whole kind again on
    // every page).
    let sql = format!(
        "SELECT c.entity, c.entity_id, c.removed {} AND (c.entity, c.entity_id) > (${}, ${})
         ORDER BY c.entity, c.entity_id LIMIT ${}",
        latest_rows(staff),
        n + 1,
        n + 2,
        n + 3
    );
    let (after_kind, after_id) = match &after {
        Some(k) => (k.kind.clone(), k.id.to_string()),
        None => (String::new(), String::new()),
    };
    let mut query = sqlx::query(&sql);
    if !staff {
        query = query.bind(actor.user_id.to_string());
    }
    let rows = query
        .bind(after_kind)
        .bind(after_id)
        .bind(limit + 1)
        .fetch_all(&mut *conn)
        .await?;
    let has_more = rows.len() as i64 > limit;
    let rows = &rows[..rows.len().min(limit as usize)];
    let mut keys = Vec::with_capacity(rows.len());
    let mut last = None;
    for r in rows {
        let word: String = r.try_get("entity")?;
        let id = uuid(&r.try_get::<String, _>("entity_id")?)?;
        let removed = r.try_get::<i64, _>("removed")? != 0;
        last = Some(SnapshotKey {
            kind: word.clone(),
            id,
        });
        // Only `feed::record` writes the word, from an `EntityKind`.
        let Some(entity) = EntityKind::parse(&word) else {
            continue;
        };
        if !removed {
            keys.push((entity, id));
        }
    }
    let items: Vec<_> = super::visible_items(&mut conn, actor, &keys)
        .await?
        .into_iter()
        .flatten()
        .collect();
    let total = if after.is_some() {
        None
    } else {
        let sql = format!("SELECT COUNT(*) {} AND c.removed = 0", latest_rows(staff));
        let mut count = sqlx::query_scalar::<_, i64>(&sql);
        if !staff {
            count = count.bind(actor.user_id.to_string());
        }
        Some(count.fetch_one(&mut *conn).await?)
    };
    Ok(SnapshotPage {
        items,
        cursor,
        next: if has_more { last } else { None },
        total,
    })
}

/// The current state of every entity the caller may see, each once, paged
/// by (kind, id); what an initial sync reads instead of the feed from 0.
/// Each page gives the feed's head read before its entities: continue the
/// feed (`GET /api/v1/sync?since=`) from the first page's once `next` is
/// null, and every change made meanwhile is replayed.
#[utoipa::path(get, path = "/api/v1/sync/snapshot", tag = "sync", security(("bearer" = [])), params(SnapshotQuery),
    responses((status = 200, body = SnapshotPage)))]
pub async fn snapshot(
    State(state): State<AppState>,
    actor: Actor,
    Query(q): Query<SnapshotQuery>,
) -> AppResult<Json<SnapshotPage>> {
    let after = match (q.after_kind, q.after_id) {
        (Some(kind), Some(id)) => Some(SnapshotKey { kind, id }),
        (None, None) => None,
        (Some(_), None) => return Err(invalid("after_id", "required with after_kind")),
        (None, Some(_)) => return Err(invalid("after_kind", "required with after_id")),
    };
    let limit = q.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    Ok(Json(page(&state, &actor, after, limit).await?))
}
