//! Voice and video callbacks: free slots, booking, cancel, reschedule, the
//! staff queue and outcomes. `request`, `cancel` and `reschedule` take a
//! transaction and are shared with `POST /api/v1/sync/push`.

use axum::extract::State;
use axum::http::StatusCode;
use jiff::{SignedDuration, Timestamp};
use mostrador_core::callbacks::{
    Callback, CallbackChannel, CallbackOutcome, CallbackStatus, RequestCallback,
    RescheduleCallback, Slot, TimeWindow, MAX_WINDOWS,
};
use mostrador_core::phone::E164;
use mostrador_core::{ApiError, ErrorCode};
use serde::Deserialize;
use sqlx::Row;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Actor;
use crate::db::{now_ms, opt_uuid, ts, uuid, Tx};
use crate::error::{AppError, AppResult};
use crate::extract::{check_text, invalid, Json, Path, Query};
use crate::feed::{self, Change, Entity};
use crate::hours::BusinessHours;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(free_slots))
        .routes(routes!(list_callbacks, request_callback))
        .routes(routes!(get_callback))
        .routes(routes!(cancel_callback))
        .routes(routes!(reschedule_callback))
        .routes(routes!(record_outcome))
}

/// How many alternatives a refusal suggests.
const NEAREST: usize = 5;

const COLUMNS: &str =
    "id, customer_id, channel, phone, topic, order_id, time_zone, slot_start, slot_end, status,
    outcome_note, created_at, updated_at";

fn from_row(r: &sqlx::any::AnyRow) -> AppResult<Callback> {
    Ok(Callback {
        id: uuid(&r.try_get::<String, _>("id")?)?,
        customer_id: uuid(&r.try_get::<String, _>("customer_id")?)?,
        channel: if r.try_get::<String, _>("channel")? == "voice" {
            CallbackChannel::Voice
        } else {
            CallbackChannel::Video
        },
        phone: r.try_get("phone")?,
        topic: r.try_get("topic")?,
        order_id: opt_uuid(r.try_get("order_id")?)?,
        time_zone: r.try_get("time_zone")?,
        slot_start: r.try_get::<Option<i64>, _>("slot_start")?.map(ts),
        slot_end: r.try_get::<Option<i64>, _>("slot_end")?.map(ts),
        status: CallbackStatus::parse(&r.try_get::<String, _>("status")?)
            .unwrap_or(CallbackStatus::Requested),
        outcome_note: r.try_get("outcome_note")?,
        created_at: ts(r.try_get("created_at")?),
        updated_at: ts(r.try_get("updated_at")?),
    })
}

pub async fn load_callback(
    conn: &mut sqlx::AnyConnection,
    id: Uuid,
) -> AppResult<Option<Callback>> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM callbacks WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// What `actor` may see of a callback: the staff note (`outcome_note`)
/// only when staff.
pub fn for_viewer(mut c: Callback, actor: &Actor) -> Callback {
    if !actor.is_staff() {
        c.outcome_note = None;
    }
    c
}

async fn visible_callback(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    id: Uuid,
) -> AppResult<Callback> {
    match load_callback(conn, id).await? {
        Some(c) if actor.can_see_customer(c.customer_id) => Ok(for_viewer(c, actor)),
        _ => Err(AppError::not_found("callback")),
    }
}

/// Free places per slot between `from` and `to`.
async fn free_between(
    conn: &mut sqlx::AnyConnection,
    hours: &BusinessHours,
    from: Timestamp,
    to: Timestamp,
) -> AppResult<Vec<Slot>> {
    let grid = hours.slots(from, to);
    let Some(first) = grid.first().map(|s| s.0) else {
        return Ok(Vec::new());
    };
    let last = grid.last().map(|s| s.0).unwrap_or(first);
    let taken: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT slot_start, COUNT(*) FROM callbacks
         WHERE slot_start >= $1 AND slot_start <= $2 AND status IN ('scheduled', 'in_progress')
         GROUP BY slot_start",
    )
    .bind(first.as_millisecond())
    .bind(last.as_millisecond())
    .fetch_all(&mut *conn)
    .await?;
    Ok(grid
        .into_iter()
        .filter_map(|(start, end)| {
            let used = taken
                .iter()
                .find(|(s, _)| *s == start.as_millisecond())
                .map_or(0, |t| t.1);
            let free = hours.capacity - used;
            (free > 0).then_some(Slot { start, end, free })
        })
        .collect())
}

/// Refuses, before any slot grid is built, windows that are missing, too
/// many, inverted, past, or that end beyond the booking horizon.
fn check_windows(windows: &[TimeWindow], now: Timestamp, horizon: SignedDuration) -> AppResult<()> {
    if windows.is_empty() {
        return Err(invalid("windows", "required"));
    }
    if windows.len() > MAX_WINDOWS {
        return Err(invalid("windows", "too_many"));
    }
    for w in windows {
        if w.end <= w.start {
            return Err(invalid("windows", "end_before_start"));
        }
        if w.end <= now {
            return Err(invalid("windows", "in_the_past"));
        }
        if w.start.duration_since(now) > horizon || w.end.duration_since(now) > horizon {
            return Err(invalid("windows", "too_far_ahead"));
        }
    }
    Ok(())
}

/// The first free slot inside the first window that has one, or a 409 that
/// lists the nearest free slots.
async fn pick_slot(
    tx: &mut Tx,
    hours: &BusinessHours,
    windows: &[TimeWindow],
) -> AppResult<(Timestamp, Timestamp)> {
    let now = Timestamp::now();
    check_windows(windows, now, hours.horizon)?;
    for w in windows {
        let from = w.start.max(now);
        if let Some(slot) = free_between(tx, hours, from, w.end).await?.first() {
            return Ok((slot.start, slot.end));
        }
    }
    let earliest = windows
        .iter()
        .map(|w| w.start)
        .min()
        .unwrap_or(now)
        .max(now);
    let horizon = now.checked_add(hours.horizon).unwrap_or(now);
    let nearest: Vec<Slot> = free_between(tx, hours, earliest, horizon)
        .await?
        .into_iter()
        .take(NEAREST)
        .collect();
    Err(AppError::Api(
        ApiError::new(
            ErrorCode::Conflict,
            "no free callback slot in the times given; see nearest_slots",
        )
        .with_details(serde_json::json!({ "reason": "no_slot", "nearest_slots": nearest })),
    ))
}

/// Refuses (409, `reason` `too_many_upcoming` or `phone_limit`) a booking
/// past the upcoming callbacks one customer, or one phone number across
/// customers, may hold.
async fn check_upcoming(
    tx: &mut Tx,
    hours: &BusinessHours,
    customer: Uuid,
    phone: Option<&str>,
) -> AppResult<()> {
    let refuse = |reason: &str, message: &str, limit: i64| {
        AppError::Api(
            ApiError::new(ErrorCode::Conflict, message)
                .with_details(serde_json::json!({ "reason": reason, "limit": limit })),
        )
    };
    let mine: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM callbacks WHERE customer_id = $1 AND status IN ('scheduled', 'in_progress')",
    )
    .bind(customer.to_string())
    .fetch_one(&mut **tx)
    .await?;
    if mine >= hours.max_upcoming_per_customer {
        return Err(refuse(
            "too_many_upcoming",
            "you already have the most upcoming callbacks allowed; cancel one first",
            hours.max_upcoming_per_customer,
        ));
    }
    if let Some(phone) = phone {
        let to_phone: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM callbacks WHERE phone = $1 AND status IN ('scheduled', 'in_progress')",
        )
        .bind(phone)
        .fetch_one(&mut **tx)
        .await?;
        if to_phone >= hours.max_upcoming_per_phone {
            return Err(refuse(
                "phone_limit",
                "this phone number already has the most upcoming callbacks allowed",
                hours.max_upcoming_per_phone,
            ));
        }
    }
    Ok(())
}

/// Books a callback for the caller (customers only).
pub async fn request(
    tx: &mut Tx,
    hours: &BusinessHours,
    actor: &Actor,
    req: &RequestCallback,
) -> AppResult<Vec<Uuid>> {
    if actor.role != mostrador_core::auth::Role::Customer {
        return Err(AppError::new(
            ErrorCode::Forbidden,
            "callbacks are requested by customers",
        ));
    }
    if let Some(existing) = load_callback(tx, req.id).await? {
        if existing.customer_id == actor.user_id {
            return Ok(vec![req.id]);
        }
        return Err(AppError::new(
            ErrorCode::Conflict,
            "callback id already in use",
        ));
    }
    let topic = req.topic.trim();
    if topic.is_empty() {
        return Err(invalid("topic", "required"));
    }
    if topic.chars().count() > mostrador_core::callbacks::MAX_TOPIC_CHARS {
        return Err(invalid("topic", "too_long"));
    }
    check_text("topic", topic)?;
    let phone = match (
        req.channel,
        req.phone
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty()),
    ) {
        (CallbackChannel::Voice, None) => return Err(invalid("phone", "required")),
        (_, Some(p)) => Some(
            E164::parse(p)
                .map_err(|_| invalid("phone", "not_e164"))?
                .to_string(),
        ),
        (CallbackChannel::Video, None) => None,
    };
    jiff::tz::TimeZone::get(&req.time_zone).map_err(|_| invalid("time_zone", "unknown"))?;
    if let Some(order_id) = req.order_id {
        let owner: Option<Option<String>> =
            sqlx::query_scalar("SELECT customer_id FROM orders WHERE id = $1")
                .bind(order_id.to_string())
                .fetch_optional(&mut **tx)
                .await?;
        if owner.flatten() != Some(actor.user_id.to_string()) {
            return Err(AppError::not_found("order"));
        }
    }
    check_upcoming(tx, hours, actor.user_id, phone.as_deref()).await?;
    let (start, end) = pick_slot(tx, hours, &req.windows).await?;
    let now = now_ms();
    sqlx::query(
        "INSERT INTO callbacks (id, customer_id, channel, phone, topic, order_id, time_zone, slot_start, slot_end,
            status, outcome_note, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'scheduled', NULL, $10, $10)",
    )
    .bind(req.id.to_string())
    .bind(actor.user_id.to_string())
    .bind(if req.channel == CallbackChannel::Voice { "voice" } else { "video" })
    .bind(phone)
    .bind(topic)
    .bind(req.order_id.map(|o| o.to_string()))
    .bind(&req.time_zone)
    .bind(start.as_millisecond())
    .bind(end.as_millisecond())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    feed::record(
        tx,
        Change::upsert(Entity::Callback, req.id, Some(actor.user_id)),
    )
    .await?;
    Ok(vec![req.id])
}

async fn set_state(
    tx: &mut Tx,
    cb: &Callback,
    status: CallbackStatus,
    slot: Option<(Timestamp, Timestamp)>,
    note: Option<&str>,
) -> AppResult<()> {
    let (start, end) = match slot {
        Some((s, e)) => (Some(s.as_millisecond()), Some(e.as_millisecond())),
        None => (
            cb.slot_start.map(|t| t.as_millisecond()),
            cb.slot_end.map(|t| t.as_millisecond()),
        ),
    };
    sqlx::query(
        "UPDATE callbacks SET status = $1, slot_start = $2, slot_end = $3, outcome_note = COALESCE($4, outcome_note),
            updated_at = $5 WHERE id = $6",
    )
    .bind(status.as_str())
    .bind(start)
    .bind(end)
    .bind(note)
    .bind(now_ms())
    .bind(cb.id.to_string())
    .execute(&mut **tx)
    .await?;
    feed::record(
        tx,
        Change::upsert(Entity::Callback, cb.id, Some(cb.customer_id)),
    )
    .await?;
    Ok(())
}

fn require_pending(cb: &Callback) -> AppResult<()> {
    if cb.status.is_pending() {
        Ok(())
    } else {
        Err(AppError::new(
            ErrorCode::Conflict,
            format!("this callback is already {}", cb.status.as_str()),
        ))
    }
}

/// Cancels a pending callback (its customer, or staff).
pub async fn cancel(tx: &mut Tx, actor: &Actor, id: Uuid) -> AppResult<Vec<Uuid>> {
    let cb = visible_callback(tx, actor, id).await?;
    if cb.status == CallbackStatus::Cancelled {
        return Ok(vec![id]);
    }
    require_pending(&cb)?;
    set_state(tx, &cb, CallbackStatus::Cancelled, None, None).await?;
    Ok(vec![id])
}

/// Moves a pending callback into a new slot (its customer, or staff).
pub async fn reschedule(
    tx: &mut Tx,
    hours: &BusinessHours,
    actor: &Actor,
    id: Uuid,
    req: &RescheduleCallback,
) -> AppResult<Vec<Uuid>> {
    let cb = visible_callback(tx, actor, id).await?;
    require_pending(&cb)?;
    // Free the old place first so the same slot can be chosen again.
    sqlx::query("UPDATE callbacks SET status = 'requested' WHERE id = $1")
        .bind(id.to_string())
        .execute(&mut **tx)
        .await?;
    let slot = pick_slot(tx, hours, &req.windows).await?;
    set_state(tx, &cb, CallbackStatus::Scheduled, Some(slot), None).await?;
    Ok(vec![id])
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SlotQuery {
    /// Default: now.
    pub from: Option<Timestamp>,
    /// Default and maximum: 14 days after `from`.
    pub to: Option<Timestamp>,
}

/// Free callback slots (business hours, capacity left), oldest first.
#[utoipa::path(get, path = "/api/v1/callbacks/slots", tag = "callbacks", security(("bearer" = [])), params(SlotQuery),
    responses((status = 200, body = Vec<Slot>), (status = 401, body = ApiError)))]
pub async fn free_slots(
    State(state): State<AppState>,
    _actor: Actor,
    Query(q): Query<SlotQuery>,
) -> AppResult<Json<Vec<Slot>>> {
    let now = Timestamp::now();
    let from = q.from.unwrap_or(now).max(now);
    let max = from
        .checked_add(SignedDuration::from_hours(24 * 14))
        .unwrap_or(from);
    let to = q.to.unwrap_or(max).min(max);
    let mut conn = state.db.pool().acquire().await?;
    Ok(Json(
        free_between(&mut conn, &state.config.hours, from, to).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct CallbackQuery {
    pub status: Option<CallbackStatus>,
}

/// The caller's callbacks; for staff, the queue of everyone's, by slot.
#[utoipa::path(get, path = "/api/v1/callbacks", tag = "callbacks", security(("bearer" = [])), params(CallbackQuery),
    responses((status = 200, body = Vec<Callback>), (status = 401, body = ApiError)))]
pub async fn list_callbacks(
    State(state): State<AppState>,
    actor: Actor,
    Query(q): Query<CallbackQuery>,
) -> AppResult<Json<Vec<Callback>>> {
    let rows = super::list_scoped(
        &state,
        &actor,
        COLUMNS,
        "callbacks",
        q.status.map(CallbackStatus::as_str),
        "ORDER BY slot_start, created_at LIMIT 500",
    )
    .await?;
    Ok(Json(
        rows.iter()
            .map(|r| from_row(r).map(|c| for_viewer(c, &actor)))
            .collect::<AppResult<_>>()?,
    ))
}

/// Books a voice or video callback in the first free slot of the given
/// windows; 409 with `details.nearest_slots` when none is free.
#[utoipa::path(post, path = "/api/v1/callbacks", tag = "callbacks", security(("bearer" = [])), request_body = RequestCallback,
    responses((status = 201, body = Callback), (status = 403, description = "Only customers book callbacks", body = ApiError),
              (status = 409, description = "No free slot in the windows given (`details.nearest_slots`), a booking limit, or the id is in use", body = ApiError), (status = 422, body = ApiError)))]
#[tracing::instrument(skip_all, fields(user.id = %actor.user_id))]
pub async fn request_callback(
    State(state): State<AppState>,
    actor: Actor,
    Json(req): Json<RequestCallback>,
) -> AppResult<(StatusCode, Json<Callback>)> {
    let mut tx = state.db.begin_write().await?;
    request(&mut tx, &state.config.hours, &actor, &req).await?;
    let cb = visible_callback(&mut tx, &actor, req.id).await?;
    feed::commit(&state, tx).await?;
    Ok((StatusCode::CREATED, Json(cb)))
}

#[utoipa::path(get, path = "/api/v1/callbacks/{id}", tag = "callbacks", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = Callback), (status = 404, body = ApiError)))]
pub async fn get_callback(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> AppResult<Json<Callback>> {
    let mut conn = state.db.pool().acquire().await?;
    Ok(Json(visible_callback(&mut conn, &actor, id).await?))
}

async fn changed(
    state: &AppState,
    mut tx: Tx,
    actor: &Actor,
    id: Uuid,
) -> AppResult<Json<Callback>> {
    let cb = visible_callback(&mut tx, actor, id).await?;
    feed::commit(state, tx).await?;
    Ok(Json(cb))
}

/// Cancels a scheduled callback.
#[utoipa::path(post, path = "/api/v1/callbacks/{id}/cancel", tag = "callbacks", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = Callback), (status = 404, body = ApiError), (status = 409, body = ApiError)))]
pub async fn cancel_callback(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> AppResult<Json<Callback>> {
    let mut tx = state.db.begin_write().await?;
    cancel(&mut tx, &actor, id).await?;
    changed(&state, tx, &actor, id).await
}

/// Moves a scheduled callback to the first free slot of new windows.
#[utoipa::path(post, path = "/api/v1/callbacks/{id}/reschedule", tag = "callbacks", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = RescheduleCallback,
    responses((status = 200, body = Callback), (status = 404, body = ApiError), (status = 409, body = ApiError)))]
pub async fn reschedule_callback(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(req): Json<RescheduleCallback>,
) -> AppResult<Json<Callback>> {
    let mut tx = state.db.begin_write().await?;
    reschedule(&mut tx, &state.config.hours, &actor, id, &req).await?;
    changed(&state, tx, &actor, id).await
}

/// Staff: start the call, or record it completed or missed, with a note.
#[utoipa::path(post, path = "/api/v1/callbacks/{id}/outcome", tag = "callbacks", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = CallbackOutcome,
    responses((status = 200, body = Callback), (status = 403, body = ApiError), (status = 409, body = ApiError)))]
pub async fn record_outcome(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(req): Json<CallbackOutcome>,
) -> AppResult<Json<Callback>> {
    actor.require_staff()?;
    let mut tx = state.db.begin_write().await?;
    outcome_in(&mut tx, &actor, id, &req).await?;
    changed(&state, tx, &actor, id).await
}

/// Staff record what happened to a callback (REST and push).
pub async fn outcome_in(
    tx: &mut Tx,
    actor: &Actor,
    id: Uuid,
    req: &CallbackOutcome,
) -> AppResult<Vec<Uuid>> {
    actor.require_staff()?;
    let note = req.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > mostrador_core::callbacks::MAX_OUTCOME_NOTE_CHARS) {
        return Err(invalid("note", "too_long"));
    }
    check_text("note", note.unwrap_or_default())?;
    let cb = visible_callback(tx, actor, id).await?;
    use CallbackStatus::*;
    let allowed = matches!(
        (cb.status, req.status),
        (Scheduled, InProgress) | (Scheduled | InProgress, Completed | Missed)
    );
    if !allowed {
        return Err(AppError::new(
            ErrorCode::Conflict,
            format!(
                "a {} callback cannot become {}",
                cb.status.as_str(),
                req.status.as_str()
            ),
        ));
    }
    set_state(tx, &cb, req.status, None, note).await?;
    Ok(vec![id])
}
