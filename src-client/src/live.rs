//! The background sync service: keeps a live WebSocket to the server, pulls
//! when poked, pushes when the outbox changes, uploads files in a task of
//! its own (so a slow upload never holds back text), and reconnects with
//! jittered exponential backoff capped at a few seconds
//! ([`crate::retry::reconnect_delay`]); [`Engine::reconnect_now`] cuts a
//! pending wait short. A session the server refuses ends here
//! ([`Engine::end_session`], keeping unsent writes), also when the server
//! closes the socket because the session ended elsewhere (close code
//! `CLOSE_SESSION_ENDED`: signed out; `CLOSE_ACCOUNT_DELETED`: the
//! account was deleted, `EngineEvent::AccountDeleted`). It reports its state
//! as [`SyncStatus`] events.

use std::time::Duration;

use mostrador_core::live::LiveClientMessage;
use tokio::sync::watch;
use uuid::Uuid;

use crate::engine::Engine;
use crate::events::EngineEvent;
pub use crate::events::SyncStatus;
#[cfg(feature = "native")]
use crate::live_socket::NativeLiveSocket;
use crate::platform::{self, LiveFrame, LiveSocket};
use crate::retry::{jitter, reconnect_delay};
use crate::sync::{on_close, on_live, OnClose, OnLive};
use crate::ClientError;

/// How often the service checks in even without a poke (missed pokes,
/// due retries of deferred writes).
const SAFETY_TICK: Duration = Duration::from_secs(15);

impl Engine {
    fn live_url(&self) -> String {
        let base = self.api().base_url();
        let ws = base
            .replacen("https://", "wss://", 1)
            .replacen("http://", "ws://", 1);
        format!("{ws}/api/v1/live")
    }

    /// Native: the session token in the `Authorization` header.
    #[cfg(feature = "native")]
    async fn connect_live(&self) -> Result<impl LiveSocket, ClientError> {
        let token = self.api().token().ok_or(ClientError::SignedOut)?;
        NativeLiveSocket::connect(&self.live_url(), &token, self.api().ws_connector()).await
    }

    /// Browser (no headers on a `WebSocket`): a single-use ticket asked for
    /// with the token, in the query (`POST /api/v1/live/ticket`).
    #[cfg(all(feature = "browser", not(feature = "native")))]
    async fn connect_live(&self) -> Result<impl LiveSocket, ClientError> {
        let ticket = self.api().live_ticket().await?;
        let mut url = reqwest::Url::parse(&self.live_url())
            .map_err(|e| ClientError::Config(format!("live URL: {e}")))?;
        url.query_pairs_mut().append_pair("ticket", &ticket.ticket);
        crate::web::socket::BrowserLiveSocket::connect(url.as_str()).await
    }

    /// Tells the other side of a conversation that the user is typing
    /// (best effort: dropped when offline).
    pub fn typing(&self, conversation_id: Uuid) {
        let _ = self.typing_tx().send(Some(conversation_id));
    }

    /// Staff: announce availability (kept, and announced again after a
    /// reconnect; the server counts a fresh connection as available).
    pub fn set_presence(&self, status: mostrador_core::live::Presence) {
        let _ = self.presence_tx().send(Some(status));
    }

    /// The availability last chosen on this device.
    pub fn presence(&self) -> Option<mostrador_core::live::Presence> {
        *self.presence_tx().borrow()
    }

    /// Runs until `stop` turns true or the session is refused (then it emits
    /// `EngineEvent::SignedOut` and returns).
    pub async fn run(&self, mut stop: watch::Receiver<bool>) {
        // Files go up on their own, stopped with the service.
        let uploads = platform::spawn_guarded({
            let engine = self.clone();
            let stop = stop.clone();
            async move { engine.run_uploads(stop).await }
        });
        self.run_live(&mut stop).await;
        drop(uploads);
    }

    /// Uploads due files whenever there may be work, until `stop`.
    async fn run_uploads(&self, mut stop: watch::Receiver<bool>) {
        loop {
            let next_due = match self.upload_pending().await {
                Ok(report) => {
                    if report.uploaded > 0 || report.refused > 0 {
                        // The messages that waited for them can go.
                        self.outbox_changed().notify_one();
                    }
                    report.next_due
                }
                Err(err) => {
                    tracing::info!(error = %err, "uploads stopped for now");
                    None
                }
            };
            let wait = next_due.map_or(SAFETY_TICK, |at| {
                Duration::from_millis(u64::try_from(at - platform::now_ms()).unwrap_or(0))
            });
            tokio::select! {
                _ = platform::sleep(wait) => {}
                _ = self.uploads_changed().notified() => {}
                _ = stop.changed() => return,
            }
            if *stop.borrow() {
                return;
            }
        }
    }

    /// Forgets the session the server refused (keeping unsent writes) and
    /// says so.
    async fn session_refused(&self) {
        match self.end_session().await {
            Ok(kept) => tracing::info!(kept, "the server ended the session"),
            Err(err) => tracing::warn!(error = %err, "could not end the session cleanly"),
        }
        self.emit(EngineEvent::SignedOut);
    }

    async fn run_live(&self, stop: &mut watch::Receiver<bool>) {
        let mut attempt: u32 = 0;
        let mut typing = self.typing_tx().subscribe();
        let mut presence = self.presence_tx().subscribe();
        loop {
            if *stop.borrow() {
                return;
            }
            self.emit(EngineEvent::Status(SyncStatus::Connecting));
            let mut ws = match self.connect_live().await {
                Ok(ws) => ws,
                Err(ClientError::Api(e)) if e.code == mostrador_core::ErrorCode::Unauthorized => {
                    self.session_refused().await;
                    return;
                }
                Err(err) => {
                    let (base, cap) = self.reconnect_backoff();
                    let wait = reconnect_delay(attempt, jitter(), base, cap);
                    attempt = attempt.saturating_add(1);
                    self.emit(EngineEvent::Status(SyncStatus::Offline {
                        retry_in: wait,
                        last_error: Some(err.to_string()),
                    }));
                    tokio::select! {
                        _ = platform::sleep(wait) => continue,
                        _ = self.reconnect_requested().notified() => continue,
                        _ = stop.changed() => return,
                    }
                }
            };
            attempt = 0;
            // Say again how available we are (a new connection counts as available).
            let chosen = *presence.borrow_and_update();
            if let Some(status) = chosen {
                if ws
                    .send(&LiveClientMessage::Presence { status })
                    .await
                    .is_err()
                {
                    continue;
                }
            }
            // Back online: whatever waited goes now.
            if let Err(err) = self.retry_now().await {
                tracing::warn!(error = %err, "could not reschedule the outbox; items wait for their backoff");
            }
            if self.sync_round().await == Round::SignedOut {
                return;
            }
            let mut tick = platform::interval(SAFETY_TICK);
            tick.tick().await;
            loop {
                tokio::select! {
                    frame = ws.recv() => match frame {
                        Some(LiveFrame::Message(msg)) => {
                            tracing::debug!(target: "hop", "live message");
                            let cursor = self.store().cursor().await.unwrap_or(0);
                            let round = match on_live(cursor, &msg) {
                                OnLive::Pull => self.poked_round().await,
                                OnLive::Forward => { self.emit(EngineEvent::Live(msg)); Round::Done }
                                OnLive::Nothing => Round::Done,
                            };
                            if round == Round::SignedOut { return; }
                        }
                        Some(LiveFrame::Closed(code)) => match on_close(code) {
                            OnClose::SessionEnded => {
                                self.session_refused().await;
                                return;
                            }
                            OnClose::AccountDeleted => {
                                // Deleted from another device: the shell signs out (wiping the store).
                                self.emit(EngineEvent::AccountDeleted);
                                return;
                            }
                            OnClose::Reconnect => break,
                        },
                        None => break,
                    },
                    _ = self.outbox_changed().notified() => {
                        if self.sync_round().await == Round::SignedOut { return; }
                    }
                    _ = self.reconnect_requested().notified() => {
                        if self.sync_round().await == Round::SignedOut { return; }
                    }
                    _ = tick.tick() => {
                        if self.sync_round().await == Round::SignedOut { return; }
                    }
                    changed = typing.changed() => {
                        if changed.is_err() { break; }
                        let conv = *typing.borrow_and_update();
                        if let Some(conversation_id) = conv {
                            if ws.send(&LiveClientMessage::Typing { conversation_id }).await.is_err() { break; }
                        }
                    }
                    changed = presence.changed() => {
                        if changed.is_err() { break; }
                        let chosen = *presence.borrow_and_update();
                        if let Some(status) = chosen {
                            if ws.send(&LiveClientMessage::Presence { status }).await.is_err() { break; }
                        }
                    }
                    _ = stop.changed() => {
                        ws.close().await;
                        return;
                    }
                }
            }
        }
    }

    /// Push, then pull; report the result as a status. Files go up in
    /// their own task (`run_uploads`), so text never waits for them.
    async fn sync_round(&self) -> Round {
        let pushed = self.push_ready().await;
        let pulled = self.pull().await;
        self.round_ended(pushed, pulled).await
    }

    /// A poke: the server has something this device has not, which a screen
    /// may be waiting for, so the pull goes first and what waits in the
    /// outbox (often a receipt queued for the last page) after it.
    async fn poked_round(&self) -> Round {
        let pulled = self.pull().await;
        let pushed = self.push_ready().await;
        self.round_ended(pushed, pulled).await
    }

    async fn round_ended(
        &self,
        pushed: Result<crate::engine::PushReport, ClientError>,
        pulled: Result<usize, ClientError>,
    ) -> Round {
        match (pushed, pulled) {
            (Ok(_), Ok(_)) => {
                self.emit(EngineEvent::Status(SyncStatus::UpToDate));
                Round::Done
            }
            (Err(e), _) | (_, Err(e)) => {
                tracing::info!(error = %e, "sync round failed");
                if matches!(&e, ClientError::Api(a) if a.code == mostrador_core::ErrorCode::Unauthorized)
                {
                    self.session_refused().await;
                    return Round::SignedOut;
                }
                Round::Done
            }
        }
    }
}

/// How a sync round ended.
#[derive(Debug, PartialEq)]
enum Round {
    Done,
    /// The server refused the session: the service stops.
    SignedOut,
}
