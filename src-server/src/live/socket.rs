//! The WebSocket handler: upgrades `GET /api/v1/live`, registers the
//! connection with the [`Hub`](super::Hub), and pumps its queue to the
//! socket (with heartbeats, write deadlines and the session's expiry) while
//! reading typing and presence from the app.
//!
//! A socket lives no longer than its session: it is registered before the
//! session is read back (so one revoked in between cannot keep it), it
//! closes when the hub says so (sign-out, password change, deletion) and
//! when the session's `expires_at` passes, with `CLOSE_SESSION_ENDED`.

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use mostrador_core::live::{
    LiveClientMessage, LiveServerMessage, CLOSE_ACCOUNT_DELETED, CLOSE_SESSION_ENDED,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::Peer;
use crate::auth::Actor;
use crate::authz::visible_conversation;
use crate::error::AppResult;
use crate::extract::Query;
use crate::state::AppState;

const HEARTBEAT: Duration = Duration::from_secs(20);
const WRITE_DEADLINE: Duration = Duration::from_secs(10);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(live))
        .routes(routes!(super::ticket::issue))
}

/// How the live socket's caller is named in the URL.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LiveParams {
    /// A single-use ticket from `POST /api/v1/live/ticket`, for browsers
    /// (which cannot send `Authorization` on a WebSocket); without it, the
    /// bearer token authenticates.
    ticket: Option<String>,
}

/// Upgrades to the live WebSocket, authenticated by the bearer token in
/// `Authorization` or, from a browser, by a single-use `ticket` (see `POST
/// /api/v1/live/ticket`). Server messages are `LiveServerMessage`, client
/// messages `LiveClientMessage`, both JSON text frames; the server pings
/// every 20 s.
#[utoipa::path(get, path = "/api/v1/live", tag = "sync", security(("bearer" = [])),
    params(LiveParams),
    responses((status = 101, description = "Switching to the live WebSocket", body = LiveServerMessage),
              (status = 400, description = "Not a WebSocket upgrade request", body = mostrador_core::ApiError),
              (status = 401, body = mostrador_core::ApiError),
              (status = 429, description = "Too many live connections for this session", body = mostrador_core::ApiError)))]
pub async fn live(
    State(state): State<AppState>,
    Query(params): Query<LiveParams>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    headers: HeaderMap,
) -> AppResult<Response> {
    // axum's own rejection is text/plain; every error is the one JSON shape.
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => {
            let mut res = crate::error::api_error_response(mostrador_core::ApiError::new(
                mostrador_core::ErrorCode::BadRequest,
                format!(
                    "this endpoint is a WebSocket: connect with an upgrade request ({})",
                    rejection.body_text()
                ),
            ));
            *res.status_mut() = rejection.status();
            return Ok(res);
        }
    };
    // Only a real upgrade uses up a ticket.
    let actor = match params.ticket.as_deref() {
        Some(ticket) => super::ticket::redeem(&state, ticket).await?,
        None => crate::auth::bearer_actor(&state, &headers).await?,
    };
    if state.hub.session_full(actor.session_id) {
        return Err(crate::error::AppError::new(
            mostrador_core::ErrorCode::RateLimited,
            "too many live connections for this session",
        ));
    }
    // Small buffers: most connections idle, and tungstenite's defaults
    // (128 KiB read buffer) would dominate the memory per connection.
    Ok(ws
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .max_message_size(64 * 1024)
        .on_upgrade(move |socket| connection(state, actor, socket)))
}

/// A live session's state, read once the connection is registered (so a
/// session that ended between the upgrade and the registration cannot keep
/// a socket).
enum SessionState {
    /// Revoked or expired, or its user disabled or deleted.
    Ended,
    /// Live until `expires_at` (Unix ms); `None` when the database could
    /// not be asked (a hiccup is not a revocation).
    Live { expires_at: Option<i64> },
}

async fn session_state(state: &AppState, session: Uuid) -> SessionState {
    let row: Result<Option<i64>, _> = sqlx::query_scalar(
        "SELECT s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.id = $1 AND s.revoked_at IS NULL AND s.expires_at > $2
           AND u.disabled = 0 AND u.deleted_at IS NULL",
    )
    .bind(session.to_string())
    .bind(crate::db::now_ms())
    .fetch_optional(state.db.pool())
    .await;
    match row {
        Ok(None) => SessionState::Ended,
        Ok(Some(at)) => SessionState::Live {
            expires_at: Some(at),
        },
        Err(err) => {
            tracing::warn!(error = %err, "live: could not read the session's expiry");
            SessionState::Live { expires_at: None }
        }
    }
}

/// When (on tokio's clock) a session expiring at `expires_at` (Unix ms)
/// ends; far in the future when unknown.
fn expiry_instant(expires_at: Option<i64>) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    match expires_at {
        Some(at) => {
            now + Duration::from_millis(u64::try_from(at - crate::db::now_ms()).unwrap_or(0))
        }
        None => now + Duration::from_secs(365 * 24 * 3600),
    }
}

/// The close frame for `code` (`CLOSE_*`), with its reason in words.
fn close_frame(code: u16) -> Message {
    let reason = if code == CLOSE_ACCOUNT_DELETED {
        "account_deleted"
    } else {
        "session_ended"
    };
    Message::Close(Some(axum::extract::ws::CloseFrame {
        code,
        reason: reason.into(),
    }))
}

async fn connection(state: AppState, actor: Actor, socket: WebSocket) {
    let mut reg = state.hub.register(&Peer::from(&actor));
    let (mut tx, mut rx) = socket.split();
    let expires_at = match session_state(&state, actor.session_id).await {
        SessionState::Live { expires_at } => expires_at,
        SessionState::Ended => {
            let frame = close_frame(CLOSE_SESSION_ENDED);
            let _ = tokio::time::timeout(WRITE_DEADLINE, tx.send(frame)).await;
            return;
        }
    };
    // The session's natural end closes the socket like a sign-out.
    let expired = tokio::time::sleep_until(expiry_instant(expires_at));
    tokio::pin!(expired);
    let text = |msg: &LiveServerMessage| {
        Message::Text(serde_json::to_string(msg).unwrap_or_default().into())
    };
    let head = *state.feed_head.borrow();
    if tx
        .send(text(&LiveServerMessage::Hello { cursor: head }))
        .await
        .is_err()
    {
        return;
    }
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.tick().await;
    let mut last_heard = tokio::time::Instant::now();
    loop {
        let out = tokio::select! {
            ev = reg.rx.recv() => match ev {
                Some(m) => text(&m),
                None => break,
            },
            incoming = rx.next() => match incoming {
                Some(Ok(Message::Text(t))) => {
                    last_heard = tokio::time::Instant::now();
                    on_client_message(&state, &actor, &t).await;
                    continue;
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {
                    last_heard = tokio::time::Instant::now();
                    continue;
                }
            },
            changed = reg.close.changed() => {
                let code = if changed.is_ok() { *reg.close.borrow() } else { None };
                let Some(code) = code else { continue };
                let _ = tokio::time::timeout(WRITE_DEADLINE, tx.send(close_frame(code))).await;
                break;
            }
            () = expired.as_mut() => {
                tracing::debug!("live: session expired, closing");
                let frame = close_frame(CLOSE_SESSION_ENDED);
                let _ = tokio::time::timeout(WRITE_DEADLINE, tx.send(frame)).await;
                break;
            }
            _ = heartbeat.tick() => {
                if last_heard.elapsed() > HEARTBEAT * 3 {
                    tracing::debug!("live: peer silent, closing");
                    break;
                }
                Message::Ping(Vec::new().into())
            }
        };
        if tokio::time::timeout(WRITE_DEADLINE, tx.send(out))
            .await
            .map_or(true, |r| r.is_err())
        {
            break;
        }
        // Events were dropped while this connection was behind: say so once
        // its queue has room again.
        if reg.lagged.swap(false, Ordering::Relaxed) {
            let msg = text(&LiveServerMessage::ResyncRequired);
            if tokio::time::timeout(WRITE_DEADLINE, tx.send(msg))
                .await
                .map_or(true, |r| r.is_err())
            {
                break;
            }
        }
    }
}

async fn on_client_message(state: &AppState, actor: &Actor, text: &str) {
    let Ok(msg) = serde_json::from_str::<LiveClientMessage>(text) else {
        tracing::debug!("live: ignoring an unreadable client message");
        return;
    };
    match msg {
        LiveClientMessage::Typing { conversation_id } => {
            let Ok(mut conn) = state.db.pool().acquire().await else {
                return;
            };
            if let Ok(conv) = visible_conversation(&mut conn, actor, conversation_id).await {
                state
                    .hub
                    .publish_typing(conversation_id, conv.customer_id, &Peer::from(actor));
            }
        }
        LiveClientMessage::Presence { status } if actor.is_staff() => {
            state.hub.set_presence(actor, status)
        }
        LiveClientMessage::Presence { .. } => {
            tracing::debug!("live: presence from a customer ignored")
        }
    }
}
