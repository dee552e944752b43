//! The live WebSocket: pokes when the feed moves, typing indicators,
//! heartbeats.
//!
//! One dispatcher task reads newly committed `changes` rows once per commit
//! batch and broadcasts who they concern; each connection filters what its
//! user may see. Broadcasting never blocks the sender: a slow or stalled
//! connection only lags its own receiver, and when it has lagged it is told
//! to resync. Socket writes have a deadline, so a dead peer is dropped.

use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use mostrador_core::live::{LiveClientMessage, LiveServerMessage};
use sqlx::Row;
use tokio::sync::broadcast;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Actor;
use crate::db::opt_uuid;
use crate::error::AppResult;
use crate::routes::chat::visible_conversation;
use crate::state::AppState;

/// How many events a connection may fall behind before it must resync.
pub const QUEUE: usize = 1024;
const HEARTBEAT: Duration = Duration::from_secs(20);
const WRITE_DEADLINE: Duration = Duration::from_secs(10);

/// What the hub broadcasts to every connection (each filters for itself).
#[derive(Debug, Clone)]
pub enum HubEvent {
    Changed {
        seq: i64,
        customer_id: Option<Uuid>,
        staff_only: bool,
    },
    Typing {
        conversation_id: Uuid,
        customer_id: Uuid,
        user_id: Uuid,
        name: String,
        role: mostrador_core::auth::Role,
    },
}

pub fn hub() -> broadcast::Sender<HubEvent> {
    broadcast::channel(QUEUE).0
}

/// Turns committed feed rows into hub events (one query per wake-up).
pub fn spawn_dispatcher(state: AppState) {
    let mut head = state.feed_head.subscribe();
    tokio::spawn(async move {
        let mut last: i64 = sqlx::query_scalar("SELECT seq FROM feed_counter WHERE id = 1")
            .fetch_one(state.db.pool())
            .await
            .unwrap_or(0);
        while head.changed().await.is_ok() {
            let rows = match sqlx::query(
                "SELECT seq, customer_id, staff_only FROM changes WHERE seq > $1 ORDER BY seq",
            )
            .bind(last)
            .fetch_all(state.db.pool())
            .await
            {
                Ok(rows) => rows,
                Err(err) => {
                    tracing::warn!(error = %err, "live dispatcher: reading the feed failed");
                    continue;
                }
            };
            for r in rows {
                let (Ok(seq), Ok(customer), Ok(staff_only)) = (
                    r.try_get::<i64, _>("seq"),
                    r.try_get::<Option<String>, _>("customer_id"),
                    r.try_get::<i64, _>("staff_only"),
                ) else {
                    continue;
                };
                last = last.max(seq);
                let _ = state.hub.send(HubEvent::Changed {
                    seq,
                    customer_id: opt_uuid(customer).ok().flatten(),
                    staff_only: staff_only != 0,
                });
            }
        }
    });
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(live))
}

/// Upgrades to the live WebSocket (bearer token in `Authorization`). Server
/// messages are `LiveServerMessage`, client messages `LiveClientMessage`,
/// both JSON text frames; the server pings every 20 s.
#[utoipa::path(get, path = "/api/v1/live", tag = "sync", security(("bearer" = [])),
    responses((status = 101, description = "Switching to the live WebSocket", body = LiveServerMessage),
              (status = 401, body = mostrador_core::ApiError)))]
pub async fn live(
    State(state): State<AppState>,
    actor: Actor,
    ws: WebSocketUpgrade,
) -> AppResult<Response> {
    Ok(ws.on_upgrade(move |socket| connection(state, actor, socket)))
}

fn visible(actor: &Actor, event: &HubEvent) -> Option<LiveServerMessage> {
    match event {
        HubEvent::Changed {
            seq,
            customer_id,
            staff_only,
        } => {
            let mine = actor.is_staff() || (!staff_only && *customer_id == Some(actor.user_id));
            mine.then_some(LiveServerMessage::Changed { cursor: *seq })
        }
        HubEvent::Typing {
            conversation_id,
            customer_id,
            user_id,
            name,
            role,
        } => {
            let concerns = *user_id != actor.user_id && actor.can_see_customer(*customer_id);
            concerns.then(|| LiveServerMessage::Typing {
                conversation_id: *conversation_id,
                user_id: *user_id,
                name: name.clone(),
                role: *role,
            })
        }
    }
}

async fn connection(state: AppState, actor: Actor, socket: WebSocket) {
    let mut events = state.hub.subscribe();
    let (mut tx, mut rx) = socket.split();
    let send = |msg: LiveServerMessage| {
        Message::Text(serde_json::to_string(&msg).unwrap_or_default().into())
    };
    let head = *state.feed_head.borrow();
    if tx
        .send(send(LiveServerMessage::Hello { cursor: head }))
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
            ev = events.recv() => match ev {
                Ok(ev) => match visible(&actor, &ev) {
                    Some(m) => send(m),
                    None => continue,
                },
                Err(broadcast::error::RecvError::Lagged(_)) => send(LiveServerMessage::ResyncRequired),
                Err(broadcast::error::RecvError::Closed) => break,
            },
            incoming = rx.next() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    last_heard = tokio::time::Instant::now();
                    on_client_message(&state, &actor, &text).await;
                    continue;
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {
                    last_heard = tokio::time::Instant::now();
                    continue;
                }
            },
            _ = heartbeat.tick() => {
                if last_heard.elapsed() > HEARTBEAT * 3 {
                    tracing::debug!("live: peer silent, closing");
                    break;
                }
                Message::Ping(Vec::new().into())
            }
        };
        match tokio::time::timeout(WRITE_DEADLINE, tx.send(out)).await {
            Ok(Ok(())) => {}
            _ => break,
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
                let _ = state.hub.send(HubEvent::Typing {
                    conversation_id,
                    customer_id: conv.customer_id,
                    user_id: actor.user_id,
                    name: actor.display_name.clone(),
                    role: actor.role,
                });
            }
        }
    }
}
