//! The change feed and batched client writes.
//!
//! `GET /api/v1/sync?since=N` pages through `changes` in sequence order.
//! Because write transactions are serialised on the feed counter (see
//! `db::Db::begin_write`), sequence order is commit order, so a reader that
//! continues from the last cursor it saw can never skip a change.
//!
//! `POST /api/v1/sync/push` is one write of the group commit
//! (`crate::writer`): its mutations are applied in order, each in a
//! savepoint, together with its idempotency record, in a transaction it may
//! share with other writers; a resent mutation (even one resent while the
//! first is in the same transaction) returns its first result and changes
//! nothing.
//!
//! Each mutation gets its own result, and one bad item never holds back the
//! others: a refusal (validation, authorization, a conflict, or data the
//! database itself refuses, such as a constraint or text it cannot encode)
//! is that item's `rejected` result, remembered like an application; a fault
//! on our side that is not worth retrying is a `rejected` `internal` result
//! that is not remembered, so the same item can be tried again later. Only
//! failures that are worth retrying as they are (the database busy, locked
//! or unreachable; see `error::classify_db_error`) stop the batch with 503
//! and undo it: the client resends it, and nothing is applied twice.
//! Each mutation checks, inside its write transaction, that its account
//! still exists and its session is still open, so nothing after a
//! `delete_account` (in the same batch or a concurrent one) is applied.

use axum::extract::State;
use mostrador_core::sync::{
    EntityKind, Mutation, MutationOp, MutationOutcome, MutationResult, PushRequest, PushResponse,
    SyncItem, SyncPage, DEFAULT_PAGE, MAX_PAGE, MAX_PUSH,
};
use serde::Deserialize;
use sqlx::Row;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use mostrador_core::{ApiError, ErrorCode};

use crate::auth::Actor;
use crate::db::{self, now_ms, uuid, Tx};
use crate::error::{classify_db_error, AppError, AppResult, DbFailure};
use crate::extract::{invalid, Json, Query};
use crate::feed;
use crate::routes::{callbacks, chat, orders, profile};
use crate::state::AppState;

mod snapshot;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(pull))
        .routes(routes!(snapshot::snapshot))
        .routes(routes!(push))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SyncQuery {
    /// The cursor from the previous page; 0 for everything.
    #[serde(default)]
    pub since: i64,
    /// Changes per page (default 200, at most 2000).
    pub limit: Option<i64>,
}

/// Reads one page of the caller's change feed.
pub async fn page(state: &AppState, actor: &Actor, since: i64, limit: i64) -> AppResult<SyncPage> {
    let mut conn = state.db.pool().acquire().await?;
    // The feed's floor comes with the rows (one statement, one snapshot).
    let rows = if actor.is_staff() {
        sqlx::query(
            "SELECT seq, entity, entity_id, removed,
                (SELECT floor FROM feed_counter WHERE id = 1) AS floor
             FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(since)
        .bind(limit + 1)
        .fetch_all(&mut *conn)
        .await?
    } else {
        sqlx::query(
            "SELECT seq, entity, entity_id, removed,
                (SELECT floor FROM feed_counter WHERE id = 1) AS floor
             FROM changes
             WHERE customer_id = $1 AND staff_only = 0 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(actor.user_id.to_string())
        .bind(since)
        .bind(limit + 1)
        .fetch_all(&mut *conn)
        .await?
    };
    let floor: i64 = match rows.first() {
        Some(r) => r.try_get("floor")?,
        None if since > 0 => {
            sqlx::query_scalar("SELECT floor FROM feed_counter WHERE id = 1")
                .fetch_one(&mut *conn)
                .await?
        }
        None => 0,
    };
    // 0 is a full sync, always served: compaction keeps every entity's
    // latest change.
    if since > 0 && since < floor {
        return Err(feed::resync_required());
    }
    let has_more = rows.len() as i64 > limit;
    let rows = &rows[..rows.len().min(limit as usize)];
    let mut cursor = since;
    // Each entity once, at the position of its last change in the page.
    let mut keys: Vec<(EntityKind, Uuid, bool)> = Vec::with_capacity(rows.len());
    for r in rows {
        cursor = r.try_get("seq")?;
        // Only `feed::record` writes the word, from an `EntityKind`.
        let Some(entity) = EntityKind::parse(&r.try_get::<String, _>("entity")?) else {
            continue;
        };
        let id = uuid(&r.try_get::<String, _>("entity_id")?)?;
        let removed = r.try_get::<i64, _>("removed")? != 0;
        keys.retain(|(e, i, _)| !(e == &entity && *i == id));
        keys.push((entity, id, removed));
    }
    let live: Vec<(EntityKind, Uuid)> = keys
        .iter()
        .filter(|(_, _, removed)| !removed)
        .map(|&(entity, id, _)| (entity, id))
        .collect();
    let mut visible = visible_items(&mut conn, actor, &live).await?.into_iter();
    let mut items = Vec::with_capacity(keys.len());
    for (entity, id, removed) in keys {
        let item = if removed {
            None
        } else {
            visible.next().flatten()
        };
        items.push(item.unwrap_or_else(|| SyncItem::removed(entity, id)));
    }
    let remaining: i64 = if !has_more {
        0
    } else if actor.is_staff() {
        sqlx::query_scalar("SELECT COUNT(*) FROM changes WHERE seq > $1")
            .bind(cursor)
            .fetch_one(&mut *conn)
            .await?
    } else {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM changes WHERE customer_id = $1 AND staff_only = 0 AND seq > $2",
        )
        .bind(actor.user_id.to_string())
        .bind(cursor)
        .fetch_one(&mut *conn)
        .await?
    };
    Ok(SyncPage {
        items,
        cursor,
        has_more,
        changes: rows.len() as i64,
        remaining,
    })
}

/// The current state of each entity in `keys` as `actor` may see it, in
/// their order; `None` for one that is gone or hidden from them. The one
/// visibility rule of the feed and the snapshot (whose rows are already
/// filtered to the actor's). Orders, conversations and messages are read
/// per kind in a few statements (not one or two per entity: a page of a
/// snapshot is 1,000 of them); callbacks and profiles, which an account
/// has few of, one by one.
pub(crate) async fn visible_items(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    keys: &[(EntityKind, Uuid)],
) -> AppResult<Vec<Option<SyncItem>>> {
    let ids = |kind: EntityKind| -> Vec<Uuid> {
        keys.iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, id)| *id)
            .collect()
    };
    let orders = orders::data::load_orders(conn, &ids(EntityKind::Order)).await?;
    let conversations = chat::load_conversations(conn, &ids(EntityKind::Conversation)).await?;
    let messages = chat::load_messages(conn, &ids(EntityKind::Message)).await?;
    let mut items = Vec::with_capacity(keys.len());
    for &(entity, id) in keys {
        items.push(match entity {
            EntityKind::Order => orders
                .get(&id)
                .filter(|o| actor.is_staff() || o.customer_id == Some(actor.user_id))
                .map(|o| SyncItem::Order(o.clone())),
            EntityKind::Conversation => conversations
                .get(&id)
                .filter(|c| actor.can_see_customer(c.customer_id))
                .map(|c| SyncItem::Conversation(c.clone())),
            EntityKind::Message => messages
                .get(&id)
                .filter(|m| actor.is_staff() || m.kind == mostrador_core::chat::MessageKind::Text)
                .map(|m| SyncItem::Message(m.clone())),
            EntityKind::Callback => match callbacks::load_callback(conn, id).await? {
                Some(c) if actor.can_see_customer(c.customer_id) => {
                    Some(SyncItem::Callback(callbacks::for_viewer(c, actor)))
                }
                _ => None,
            },
            EntityKind::Profile => match profile::load_profile(conn, id).await? {
                Some(p) if actor.can_see_customer(p.user_id) => Some(SyncItem::Profile(p)),
                _ => None,
            },
        });
    }
    Ok(items)
}

/// Changes since a cursor: the current state of each changed entity the
/// caller may see (or a removal), the next cursor and `has_more`. A cursor
/// older than the feed gets 410 `resync_required`.
#[utoipa::path(get, path = "/api/v1/sync", tag = "sync", security(("bearer" = [])), params(SyncQuery),
    responses((status = 200, body = SyncPage), (status = 410, body = mostrador_core::ApiError)))]
pub async fn pull(
    State(state): State<AppState>,
    actor: Actor,
    Query(q): Query<SyncQuery>,
) -> AppResult<Json<SyncPage>> {
    if q.since < 0 {
        return Err(invalid("since", "negative"));
    }
    let limit = q.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    Ok(Json(page(&state, &actor, q.since, limit).await?))
}

/// Applies a batch of client mutations in order, each idempotent by its
/// `client_id`; each gets its own result, and a refused item does not stop
/// the ones after it. Only a transient failure (503) aborts the batch (none
/// of it is kept): the client resends it, and nothing is applied twice.
/// Items after an account deletion are refused (`unauthorized`).
#[utoipa::path(post, path = "/api/v1/sync/push", tag = "sync", security(("bearer" = [])), request_body = PushRequest,
    responses((status = 200, body = PushResponse), (status = 401, body = mostrador_core::ApiError),
              (status = 413, body = mostrador_core::ApiError), (status = 503, body = mostrador_core::ApiError)))]
#[tracing::instrument(skip_all, fields(user.id = %actor.user_id, n = req.mutations.len()))]
pub async fn push(
    State(state): State<AppState>,
    actor: Actor,
    Json(req): Json<PushRequest>,
) -> AppResult<Json<PushResponse>> {
    if req.mutations.len() > MAX_PUSH {
        return Err(AppError::new(
            mostrador_core::ErrorCode::PayloadTooLarge,
            format!("at most {MAX_PUSH} mutations per push"),
        ));
    }
    // One write for the whole push (sharing its transaction with other
    // writers' when they come together): the items in order, each kept or
    // refused on its own. A transient failure undoes the whole push (503):
    // the client resends it and nothing is applied twice.
    let deletes = req
        .mutations
        .iter()
        .any(|m| matches!(m.op, MutationOp::DeleteAccount));
    let renames = req
        .mutations
        .iter()
        .any(|m| matches!(m.op, MutationOp::UpdateProfile(_)));
    let user_id = actor.user_id;
    // A push of sends only may be written set-wise with its neighbours.
    let send =
        chat::batch::SendWrite::push(&actor, &req.mutations).map(chat::batch::SendWrite::shared);
    let args = Arc::new((state.clone(), actor, req));
    let results = state
        .writer
        .write_send(send, move |tx| {
            let args = args.clone();
            Box::pin(async move {
                let (state, actor, req) = &*args;
                let mut run = PushRun::start(tx, actor, &req.mutations).await?;
                let mut results = Vec::with_capacity(req.mutations.len());
                for m in &req.mutations {
                    results.push(apply_one(tx, state, actor, m, &mut run).await?);
                }
                run.remember(tx, actor).await?;
                Ok(results)
            })
        })
        .await?;
    if renames {
        // The actor's display name is remembered with the session.
        state.sessions.forget_all();
    }
    if deletes {
        state.user_sessions_ended(user_id, mostrador_core::live::CLOSE_ACCOUNT_DELETED, None);
        crate::routes::attachments::sweep_orphans(&state).await;
    }
    Ok(Json(PushResponse { results }))
}

/// Whether the caller may still write: `Err` (not an item's result) when
/// the session ended, a refusal for the item when the account is gone.
async fn still_signed_in(tx: &mut Tx, actor: &Actor) -> AppResult<Option<ApiError>> {
    let row = sqlx::query(
        "SELECT u.deleted_at, u.disabled, s.revoked_at FROM users u
         LEFT JOIN sessions s ON s.id = $2 AND s.user_id = u.id WHERE u.id = $1",
    )
    .bind(actor.user_id.to_string())
    .bind(actor.session_id.to_string())
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else {
        return Ok(Some(account_gone()));
    };
    if row.try_get::<Option<i64>, _>("deleted_at")?.is_some() {
        return Ok(Some(account_gone()));
    }
    if row.try_get::<i64, _>("disabled")? != 0
        || row.try_get::<Option<i64>, _>("revoked_at")?.is_some()
    {
        return Err(AppError::new(
            ErrorCode::Unauthorized,
            "the session has ended",
        ));
    }
    Ok(None)
}

fn account_gone() -> ApiError {
    ApiError::new(
        ErrorCode::Unauthorized,
        "the account was deleted; nothing more is applied for it",
    )
}

/// What one run of a push carries from item to item, so that each item
/// costs its operation and a savepoint: the results given before (read
/// for the whole push in one statement, and those given earlier in this
/// push), whether the caller may still write (read once, again after an
/// account deletion), and the idempotency records to write, all in one
/// insert at the end of the push (in its transaction, so they commit with
/// the items or not at all).
struct PushRun {
    first: std::collections::HashMap<Uuid, MutationResult>,
    signed_in: Option<Option<ApiError>>,
    records: Vec<(Uuid, String)>,
    savepoint_open: bool,
}

impl PushRun {
    async fn start(tx: &mut Tx, actor: &Actor, mutations: &[Mutation]) -> AppResult<Self> {
        let mut first = std::collections::HashMap::new();
        if !mutations.is_empty() {
            let marks: Vec<String> = (0..mutations.len())
                .map(|i| format!("${}", i + 2))
                .collect();
            let sql = format!(
                "SELECT client_id, result_json FROM applied_mutations
                 WHERE user_id = $1 AND client_id IN ({})",
                marks.join(", ")
            );
            let mut query = sqlx::query(&sql).bind(actor.user_id.to_string());
            for m in mutations {
                query = query.bind(m.client_id.to_string());
            }
            for row in query.fetch_all(&mut **tx).await? {
                let json: String = row.try_get("result_json")?;
                first.insert(
                    uuid(&row.try_get::<String, _>("client_id")?)?,
                    serde_json::from_str(&json).map_err(anyhow::Error::from)?,
                );
            }
        }
        Ok(Self {
            first,
            signed_in: None,
            records: Vec::new(),
            savepoint_open: false,
        })
    }

    /// Writes the idempotency records of the push's remembered results.
    async fn remember(self, tx: &mut Tx, actor: &Actor) -> AppResult<()> {
        let at = now_ms();
        for chunk in self.records.chunks(200) {
            let rows: Vec<String> = (0..chunk.len())
                .map(|i| format!("($1, ${}, ${}, $2)", 2 * i + 3, 2 * i + 4))
                .collect();
            let sql = format!(
                "INSERT INTO applied_mutations (user_id, client_id, result_json, at) VALUES {}",
                rows.join(", ")
            );
            let mut query = sqlx::query(&sql).bind(actor.user_id.to_string()).bind(at);
            for (client_id, json) in chunk {
                query = query.bind(client_id.to_string()).bind(json.as_str());
            }
            query.execute(&mut **tx).await?;
        }
        Ok(())
    }
}

/// Applies one item inside the push's transaction: its first result when
/// its `client_id` was seen before, else the operation (in a savepoint, so
/// a refusal leaves nothing of it behind), its result remembered for the
/// push's idempotency records.
async fn apply_one(
    tx: &mut Tx,
    state: &AppState,
    actor: &Actor,
    m: &Mutation,
    run: &mut PushRun,
) -> AppResult<MutationResult> {
    if let Some(first) = run.first.get(&m.client_id) {
        return Ok(first.clone());
    }
    let rejected = |error| MutationResult {
        client_id: m.client_id,
        outcome: MutationOutcome::Rejected { error },
    };
    let signed_in = match run.signed_in.clone() {
        Some(known) => known,
        None => {
            let known = still_signed_in(tx, actor).await?;
            run.signed_in = Some(known.clone());
            known
        }
    };
    if let Some(error) = signed_in {
        return Ok(rejected(error));
    }
    // One savepoint per item, released as the next one opens (the last by
    // the enclosing release or the commit).
    if run.savepoint_open {
        db::release_and_reopen(tx, "mutation").await?;
    } else {
        db::savepoint(tx, "mutation").await?;
        run.savepoint_open = true;
    }
    let outcome = match apply_op(tx, state, actor, &m.op).await {
        Ok(ids) => {
            if matches!(m.op, MutationOp::DeleteAccount) {
                // Read again for the items after it.
                run.signed_in = None;
            }
            MutationOutcome::Applied { ids }
        }
        Err(err) => match refusal(err)? {
            Refusal::Lasting(error) => {
                // Undo any partial work, then remember the refusal.
                db::rollback_to_open(tx, "mutation").await?;
                MutationOutcome::Rejected { error }
            }
            Refusal::ForNow(error) => {
                // Not remembered: the same item may be tried again later.
                db::rollback_to_open(tx, "mutation").await?;
                return Ok(rejected(error));
            }
        },
    };
    let result = MutationResult {
        client_id: m.client_id,
        outcome,
    };
    run.records.push((
        m.client_id,
        serde_json::to_string(&result).map_err(anyhow::Error::from)?,
    ));
    run.first.insert(m.client_id, result.clone());
    Ok(result)
}

/// How a failed mutation is answered.
enum Refusal {
    /// Resending will not help: the item's result, remembered.
    Lasting(ApiError),
    /// A fault on our side: the item's result, not remembered.
    ForNow(ApiError),
}

/// Sorts a mutation's failure: a transient one stays an error (it stops
/// the batch with 503), everything else becomes the item's refusal.
fn refusal(err: AppError) -> AppResult<Refusal> {
    match err {
        AppError::Api(error) if !error.code.is_transient() => Ok(Refusal::Lasting(error)),
        AppError::Api(error) => Err(AppError::Api(error)),
        AppError::Database(db) => match classify_db_error(&db) {
            DbFailure::Transient => Err(AppError::Database(db)),
            DbFailure::Refused(error) => {
                tracing::info!(error = %db, "a pushed item was refused by the database");
                Ok(Refusal::Lasting(error))
            }
            DbFailure::Other => {
                tracing::error!(error = %db, "a pushed item failed");
                Ok(Refusal::ForNow(internal()))
            }
        },
        AppError::Internal(e) => {
            tracing::error!(error = %format!("{e:#}"), "a pushed item failed");
            Ok(Refusal::ForNow(internal()))
        }
    }
}

fn internal() -> ApiError {
    ApiError::new(ErrorCode::Internal, "internal error")
}

async fn apply_op(
    tx: &mut Tx,
    state: &AppState,
    actor: &Actor,
    op: &MutationOp,
) -> AppResult<Vec<Uuid>> {
    match op {
        MutationOp::OpenConversation(req) => {
            let assign = chat::Assignment::now(state.hub.as_ref(), state.config.agent_max_open);
            chat::open(tx, actor, req, &assign).await
        }
        MutationOp::SendMessage {
            conversation_id,
            message,
        } => chat::send(tx, actor, *conversation_id, message).await,
        MutationOp::MarkMessages {
            conversation_id,
            mark,
        } => chat::mark(tx, actor, *conversation_id, mark).await,
        MutationOp::RequestCallback(req) => {
            callbacks::request(tx, &state.config.hours, actor, req).await
        }
        MutationOp::CancelCallback { callback_id } => {
            callbacks::cancel(tx, actor, *callback_id).await
        }
        MutationOp::RescheduleCallback {
            callback_id,
            reschedule,
        } => callbacks::reschedule(tx, &state.config.hours, actor, *callback_id, reschedule).await,
        MutationOp::RateConversation {
            conversation_id,
            rating,
        } => chat::rate(tx, actor, *conversation_id, rating).await,
        MutationOp::UpdateProfile(update) => profile::update(tx, actor, update).await,
        MutationOp::PutAddress(address) => profile::put_address_in(tx, actor, address).await,
        MutationOp::DeleteAddress { address_id } => {
            profile::remove_address(tx, actor, *address_id).await
        }
        MutationOp::DeleteAccount => profile::delete_in(tx, actor).await,
        MutationOp::UpdateConversation {
            conversation_id,
            update,
        } => chat::update_in(tx, actor, *conversation_id, update).await,
        MutationOp::RecordOutcome {
            callback_id,
            outcome,
        } => callbacks::outcome_in(tx, actor, *callback_id, outcome).await,
    }
}
