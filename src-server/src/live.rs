//! The live WebSocket: pokes when the feed moves, typing indicators,
//! heartbeats.
//!
//! One dispatcher task reads newly committed `changes` rows once per commit
//! batch and hands each to the [`Hub`], which routes it only to the
//! connections that may see it (the customer's own devices and staff), so a
//! change wakes a handful of connections, not all of them. Each connection
//! has a bounded queue: publishing never waits, and a connection whose
//! queue is full loses the event and is told `resync_required` once it
//! drains. Socket writes have a deadline, so a dead peer is dropped.
//!
//! A socket lives no longer than its session: signing out, revoking the
//! session, changing or resetting the password, disabling a staff account
//! or deleting the account closes every socket concerned at once
//! ([`Hub::close_session`], [`Hub::close_user`]) with a close code the app
//! understands (`mostrador_core::live::CLOSE_*`), and a closed staff member
//! leaves presence (so is no longer auto-assigned). A session that merely
//! expires ends its sockets too: each connection arms a timer for its
//! session's `expires_at` and closes with `CLOSE_SESSION_ENDED` when it
//! fires. One session holds at most `MAX_SOCKETS_PER_SESSION` sockets.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use mostrador_core::live::{
    LiveClientMessage, LiveServerMessage, Presence, CLOSE_ACCOUNT_DELETED, CLOSE_SESSION_ENDED,
    MAX_SOCKETS_PER_SESSION,
};
use sqlx::Row;
use tokio::sync::mpsc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Actor;
use crate::db::opt_uuid;
use crate::error::AppResult;
use crate::routes::chat::visible_conversation;
use crate::state::AppState;

/// Events a connection may have queued before it must resync.
pub const QUEUE: usize = 256;
const HEARTBEAT: Duration = Duration::from_secs(20);
const WRITE_DEADLINE: Duration = Duration::from_secs(10);

struct Conn {
    user: Uuid,
    session: Uuid,
    /// Set to a close code to end the connection.
    close: tokio::sync::watch::Sender<Option<u16>>,
    tx: mpsc::Sender<LiveServerMessage>,
    lagged: Arc<AtomicBool>,
}

#[derive(Default)]
struct Routes {
    next: u64,
    conns: HashMap<u64, Conn>,
    by_user: HashMap<Uuid, HashSet<u64>>,
    staff: HashSet<u64>,
    /// Connected staff: name and chosen availability.
    presence: HashMap<Uuid, (String, Presence)>,
}

impl Routes {
    fn to_staff(&self, msg: &LiveServerMessage) {
        for id in &self.staff {
            if let Some(c) = self.conns.get(id) {
                if c.tx.try_send(msg.clone()).is_err() {
                    c.lagged.store(true, Ordering::Relaxed);
                }
            }
        }
    }
}

/// Who is connected, and where each event goes.
#[derive(Default)]
pub struct Hub {
    routes: Mutex<Routes>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.routes.lock().map(|r| r.conns.len()).unwrap_or(0);
        write!(f, "Hub({n} connections)")
    }
}

/// A registered connection; unregisters itself when dropped.
struct Registration {
    hub: Arc<Hub>,
    id: u64,
    rx: mpsc::Receiver<LiveServerMessage>,
    lagged: Arc<AtomicBool>,
    close: tokio::sync::watch::Receiver<Option<u16>>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut r = self.hub.routes.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = r.conns.remove(&self.id) {
            if let Some(set) = r.by_user.get_mut(&c.user) {
                set.remove(&self.id);
                if set.is_empty() {
                    r.by_user.remove(&c.user);
                }
            }
            r.staff.remove(&self.id);
            // The last connection of a staff member closed: offline.
            if !r.by_user.contains_key(&c.user) {
                if let Some((name, _)) = r.presence.remove(&c.user) {
                    r.to_staff(&LiveServerMessage::Presence {
                        user_id: c.user,
                        name,
                        status: Presence::Offline,
                    });
                }
            }
        }
    }
}

impl Hub {
    fn register(self: &Arc<Self>, actor: &Actor) -> Registration {
        let (tx, rx) = mpsc::channel(QUEUE);
        let (close_tx, close) = tokio::sync::watch::channel(None);
        let lagged = Arc::new(AtomicBool::new(false));
        let mut r = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        r.next += 1;
        let id = r.next;
        r.conns.insert(
            id,
            Conn {
                user: actor.user_id,
                session: actor.session_id,
                close: close_tx,
                tx,
                lagged: lagged.clone(),
            },
        );
        r.by_user.entry(actor.user_id).or_default().insert(id);
        if actor.is_staff() {
            r.staff.insert(id);
            // Tell the newcomer who is around, then every staff member
            // (the newcomer too) about the newcomer.
            if let Some(c) = r.conns.get(&id) {
                for (user_id, (name, status)) in &r.presence {
                    let _ = c.tx.try_send(LiveServerMessage::Presence {
                        user_id: *user_id,
                        name: name.clone(),
                        status: *status,
                    });
                }
            }
            if !r.presence.contains_key(&actor.user_id) {
                r.presence.insert(
                    actor.user_id,
                    (actor.display_name.clone(), Presence::Available),
                );
                r.to_staff(&LiveServerMessage::Presence {
                    user_id: actor.user_id,
                    name: actor.display_name.clone(),
                    status: Presence::Available,
                });
            }
        }
        Registration {
            hub: self.clone(),
            id,
            rx,
            lagged,
            close,
        }
    }

    /// Sockets open for this session.
    pub fn session_sockets(&self, session: Uuid) -> usize {
        let r = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        r.conns.values().filter(|c| c.session == session).count()
    }

    /// Closes every socket of one session with `code`.
    pub fn close_session(&self, session: Uuid, code: u16) {
        let r = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        for c in r.conns.values().filter(|c| c.session == session) {
            c.close.send_replace(Some(code));
        }
    }

    /// Closes every socket of one user with `code`, all but those of
    /// `keep` (the session that changed the password). When none is kept
    /// the user leaves presence at once (no more auto-assignment).
    pub fn close_user(&self, user: Uuid, code: u16, keep: Option<Uuid>) {
        let mut r = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        for c in r.conns.values().filter(|c| c.user == user) {
            if Some(c.session) != keep {
                c.close.send_replace(Some(code));
            }
        }
        if keep.is_none() {
            if let Some((name, _)) = r.presence.remove(&user) {
                r.to_staff(&LiveServerMessage::Presence {
                    user_id: user,
                    name,
                    status: Presence::Offline,
                });
            }
        }
    }

    /// Connections open now.
    pub fn connections(&self) -> usize {
        self.routes.lock().map(|r| r.conns.len()).unwrap_or(0)
    }

    /// Sends to staff, and (unless `staff_only`) to the customer's devices,
    /// except those of `skip_user`. Never waits.
    fn route(
        &self,
        customer: Option<Uuid>,
        staff_only: bool,
        skip_user: Option<Uuid>,
        msg: &LiveServerMessage,
    ) {
        let r = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        let customer_conns = customer
            .filter(|_| !staff_only)
            .and_then(|c| r.by_user.get(&c));
        for id in r.staff.iter().chain(customer_conns.into_iter().flatten()) {
            let Some(c) = r.conns.get(id) else { continue };
            // A customer's connections are never staff, so no one is sent twice.
            if Some(c.user) == skip_user {
                continue;
            }
            if c.tx.try_send(msg.clone()).is_err() {
                c.lagged.store(true, Ordering::Relaxed);
            }
        }
    }

    pub fn publish_change(&self, seq: i64, customer: Option<Uuid>, staff_only: bool) {
        self.route(
            customer,
            staff_only,
            None,
            &LiveServerMessage::Changed { cursor: seq },
        );
    }

    /// A staff member chose `available` or `away`.
    pub fn set_presence(&self, who: &Actor, status: Presence) {
        let mut r = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        let status = if status == Presence::Offline {
            Presence::Away
        } else {
            status
        };
        r.presence
            .insert(who.user_id, (who.display_name.clone(), status));
        r.to_staff(&LiveServerMessage::Presence {
            user_id: who.user_id,
            name: who.display_name.clone(),
            status,
        });
    }

    /// Staff members connected and available.
    pub fn available_staff(&self) -> Vec<Uuid> {
        let r = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        r.presence
            .iter()
            .filter(|(_, (_, s))| *s == Presence::Available)
            .map(|(u, _)| *u)
            .collect()
    }

    pub fn publish_typing(&self, conversation_id: Uuid, customer: Uuid, who: &Actor) {
        let msg = LiveServerMessage::Typing {
            conversation_id,
            user_id: who.user_id,
            name: who.display_name.clone(),
            role: who.role,
        };
        self.route(Some(customer), false, Some(who.user_id), &msg);
    }
}

/// Turns committed feed rows into routed pokes (one query per wake-up).
pub fn spawn_dispatcher(state: AppState) {
    let mut head = state.feed_head.subscribe();
    tokio::spawn(async move {
        let mut last: i64 = *head.borrow();
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
                state
                    .hub
                    .publish_change(seq, opt_uuid(customer).ok().flatten(), staff_only != 0);
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
              (status = 400, description = "Not a WebSocket upgrade request", body = mostrador_core::ApiError),
              (status = 401, body = mostrador_core::ApiError),
              (status = 429, description = "Too many live connections for this session", body = mostrador_core::ApiError)))]
pub async fn live(
    State(state): State<AppState>,
    actor: Actor,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
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
    if state.hub.session_sockets(actor.session_id) >= MAX_SOCKETS_PER_SESSION {
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
    let mut reg = state.hub.register(&actor);
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
                    .publish_typing(conversation_id, conv.customer_id, actor);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: mostrador_core::auth::Role) -> Actor {
        Actor {
            user_id: Uuid::new_v4(),
            role,
            session_id: Uuid::nil(),
            display_name: "X".into(),
        }
    }

    #[test]
    fn events_reach_only_who_may_see_them_and_overflow_marks_lag() {
        use mostrador_core::auth::Role;
        let hub = Arc::new(Hub::default());
        let (a, b, agent) = (
            actor(Role::Customer),
            actor(Role::Customer),
            actor(Role::Agent),
        );
        let mut ra = hub.register(&a);
        let mut rb = hub.register(&b);
        let mut rs = hub.register(&agent);
        assert!(
            matches!(rs.rx.try_recv(), Ok(LiveServerMessage::Presence { .. })),
            "staff see their own presence"
        );
        assert!(
            ra.rx.try_recv().is_err() && rb.rx.try_recv().is_err(),
            "customers get no presence"
        );
        hub.publish_change(1, Some(a.user_id), false);
        hub.publish_change(2, Some(a.user_id), true);
        assert_eq!(
            ra.rx.try_recv().ok(),
            Some(LiveServerMessage::Changed { cursor: 1 })
        );
        assert!(
            ra.rx.try_recv().is_err(),
            "staff-only change not sent to the customer"
        );
        assert!(rb.rx.try_recv().is_err(), "nothing for another customer");
        assert_eq!(
            rs.rx.try_recv().ok(),
            Some(LiveServerMessage::Changed { cursor: 1 })
        );
        assert_eq!(
            rs.rx.try_recv().ok(),
            Some(LiveServerMessage::Changed { cursor: 2 })
        );

        hub.publish_typing(Uuid::nil(), a.user_id, &a);
        assert!(ra.rx.try_recv().is_err(), "no echo of one's own typing");
        assert!(matches!(
            rs.rx.try_recv(),
            Ok(LiveServerMessage::Typing { .. })
        ));

        for seq in 0..(QUEUE as i64 + 10) {
            hub.publish_change(seq, Some(b.user_id), false);
        }
        assert!(
            rb.lagged.load(Ordering::Relaxed),
            "a full queue marks the connection lagged"
        );
        assert!(!ra.lagged.load(Ordering::Relaxed));
        assert_eq!(hub.connections(), 3);
        drop(rb);
        assert_eq!(hub.connections(), 2);
        drop(ra);
    }

    #[test]
    fn staff_presence_is_shared_among_staff_and_goes_offline_with_the_last_connection() {
        use mostrador_core::auth::Role;
        let hub = Arc::new(Hub::default());
        let (ana, luis) = (actor(Role::Agent), actor(Role::Admin));
        let mut ra = hub.register(&ana);
        let mut rl = hub.register(&luis);
        let presence = |m: Option<LiveServerMessage>| match m {
            Some(LiveServerMessage::Presence {
                user_id, status, ..
            }) => Some((user_id, status)),
            _ => None,
        };
        assert_eq!(
            presence(ra.rx.try_recv().ok()),
            Some((ana.user_id, Presence::Available))
        );
        assert_eq!(
            presence(ra.rx.try_recv().ok()),
            Some((luis.user_id, Presence::Available))
        );
        assert_eq!(
            presence(rl.rx.try_recv().ok()),
            Some((ana.user_id, Presence::Available)),
            "the newcomer learns who is there"
        );
        assert_eq!(
            presence(rl.rx.try_recv().ok()),
            Some((luis.user_id, Presence::Available))
        );
        hub.set_presence(&ana, Presence::Away);
        assert_eq!(
            presence(rl.rx.try_recv().ok()),
            Some((ana.user_id, Presence::Away))
        );
        assert_eq!(hub.available_staff(), vec![luis.user_id]);
        let second = hub.register(&luis);
        drop(second);
        assert!(
            presence(ra.rx.try_recv().ok()).is_some_and(|p| p.1 == Presence::Away),
            "own away echoed"
        );
        assert!(
            ra.rx.try_recv().is_err(),
            "luis still has a connection: no offline"
        );
        drop(rl);
        assert_eq!(
            presence(ra.rx.try_recv().ok()),
            Some((luis.user_id, Presence::Offline))
        );
    }
}
