//! Live tickets: how a browser opens the live socket. A browser's
//! `WebSocket` cannot send an `Authorization` header, so the app first asks
//! `POST /api/v1/live/ticket` (bearer-authenticated, like every call) for a
//! ticket, then opens `GET /api/v1/live?ticket=…`. A ticket is 256 random
//! bits, valid [`LIVE_TICKET_TTL_SECS`] seconds, bound to the session that
//! asked for it, and used at most once: redeeming deletes its row, so of
//! two upgrades with one ticket only one gets it, on any server instance
//! sharing the database. Only its SHA-256 is stored; the socket then lives
//! exactly as a bearer-authenticated one (the session's revocation and
//! expiry close it).
//!
//! **Invariant:** a ticket is never logged (request spans carry only the
//! path, never the query string).

use axum::extract::State;
use mostrador_core::live::{LiveTicket, LIVE_TICKET_TTL_SECS};
use mostrador_core::ErrorCode;
use sqlx::Row;

use crate::auth::{self, Actor};
use crate::db::{now_ms, uuid};
use crate::error::{AppError, AppResult};
use crate::extract::Json;
use crate::state::AppState;

const TTL_MS: i64 = LIVE_TICKET_TTL_SECS as i64 * 1000;

/// Most unused, unexpired tickets one session may hold: an app needs one
/// per connection attempt (a few with several tabs); without a bound a
/// session could fill the table.
pub const MAX_OPEN_TICKETS: i64 = 16;

/// A single-use ticket for opening the live WebSocket where no
/// `Authorization` header can be sent (browsers): `GET
/// /api/v1/live?ticket=…` within `expires_in` seconds upgrades as this
/// session.
#[utoipa::path(post, path = "/api/v1/live/ticket", tag = "sync", security(("bearer" = [])),
    responses((status = 200, body = LiveTicket), (status = 401, body = mostrador_core::ApiError),
              (status = 429, description = "The session holds too many unused tickets", body = mostrador_core::ApiError)))]
#[tracing::instrument(skip_all, fields(user.id = %actor.user_id))]
pub async fn issue(State(state): State<AppState>, actor: Actor) -> AppResult<Json<LiveTicket>> {
    let now = now_ms();
    sqlx::query("DELETE FROM live_tickets WHERE expires_at <= $1")
        .bind(now)
        .execute(state.db.pool())
        .await?;
    let open: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM live_tickets WHERE session_id = $1 AND expires_at > $2",
    )
    .bind(actor.session_id.to_string())
    .bind(now)
    .fetch_one(state.db.pool())
    .await?;
    if open >= MAX_OPEN_TICKETS {
        tracing::warn!("too many unused live tickets for one session");
        return Err(auth::retry_later(
            ErrorCode::RateLimited,
            "too many live tickets asked for and not used; use one, or wait for them to expire",
            u64::from(LIVE_TICKET_TTL_SECS),
        ));
    }
    let (ticket, hash) = auth::new_token();
    sqlx::query(
        "INSERT INTO live_tickets (ticket_hash, session_id, expires_at) VALUES ($1, $2, $3)",
    )
    .bind(hash)
    .bind(actor.session_id.to_string())
    .bind(now + TTL_MS)
    .execute(state.db.pool())
    .await?;
    Ok(Json(LiveTicket {
        ticket: ticket.expose().to_owned(),
        expires_in: LIVE_TICKET_TTL_SECS,
    }))
}

/// Uses up `ticket`: the caller of its session if the ticket is known,
/// unexpired and its session still live; else 401.
pub async fn redeem(state: &AppState, ticket: &str) -> AppResult<Actor> {
    let refused = || {
        AppError::new(
            ErrorCode::Unauthorized,
            "sign in first: the live ticket is unknown, used or expired; ask for a new one",
        )
    };
    let row = sqlx::query(
        "DELETE FROM live_tickets WHERE ticket_hash = $1 RETURNING session_id, expires_at",
    )
    .bind(auth::hash_token(ticket))
    .fetch_optional(state.db.pool())
    .await?;
    let Some(row) = row else {
        tracing::info!("refused an unknown or used live ticket");
        return Err(refused());
    };
    if row.try_get::<i64, _>("expires_at")? <= now_ms() {
        tracing::info!("refused an expired live ticket");
        return Err(refused());
    }
    let session = uuid(&row.try_get::<String, _>("session_id")?)?;
    auth::actor_for_session(state, session)
        .await?
        .ok_or_else(refused)
}
