//! The shell's state: one [`Engine`] over the store in the app's data
//! directory, its background sync service while someone is signed in, and
//! the forwarding of engine events to the UI (and to native notifications).
//!
//! The store opens in the background ([`AppState::opened`], started by the
//! `setup` hook) so the window and the page load meanwhile; every command
//! awaits it through [`AppState::engine`], and a store that could not open
//! answers each of them with its error (the page shows it).
//!
//! When the server ends the session the engine has already kept the unsent
//! writes (`Engine::end_session`); the shell only stops the service and
//! tells the UI. The user's own sign-out and a deleted account wipe the
//! device (`AppState::sign_out`).

use std::path::PathBuf;
use std::sync::Mutex;

use mostrador_client::{ClientConfig, ClientError, Engine, EngineEvent};
use mostrador_core::app::{AppEvent, Changes, OutboxCount, SyncState, EVENT};
use mostrador_core::ApiError;
use tauri::{AppHandle, Emitter, Manager, Runtime};
use tokio::sync::{watch, OnceCell, RwLock};

use crate::notify::{self, Lang};

/// What every command can reach.
#[derive(Debug)]
pub struct AppState {
    pub config: ClientConfig,
    pub store_path: PathBuf,
    /// The engine once the store is open, or why it could not open.
    engine: OnceCell<Result<RwLock<Engine>, ApiError>>,
    service: Mutex<Option<watch::Sender<bool>>>,
    /// The latest sync state and outbox count, for a UI that mounts late.
    pub last: Mutex<(SyncState, OutboxCount)>,
    /// Where the token is kept; `None` if no keychain works here (known
    /// once the store is open).
    pub keychain: Mutex<Option<String>>,
    /// The UI's language, for notifications.
    pub lang: Mutex<Lang>,
}

impl AppState {
    /// The state over the store at `store_path`, not opened yet: cheap, so
    /// the `setup` hook never waits for the disk or the keychain.
    pub fn new(config: ClientConfig, store_path: PathBuf) -> Self {
        Self {
            config,
            store_path,
            engine: OnceCell::new(),
            service: Mutex::new(None),
            last: Mutex::new((SyncState::Connecting, OutboxCount::default())),
            keychain: Mutex::new(None),
            lang: Mutex::new(Lang::En),
        }
    }

    /// Opens the store and restores a session kept in the keychain, once:
    /// later and concurrent callers wait for that one opening and get its
    /// outcome.
    pub async fn opened(&self) -> Result<&RwLock<Engine>, ApiError> {
        self.engine
            .get_or_init(|| async {
                match self.open().await {
                    Ok(engine) => Ok(RwLock::new(engine)),
                    Err(err) => {
                        tracing::error!(error = %err, path = %self.store_path.display(), "could not open the store");
                        Err(err.to_api_error())
                    }
                }
            })
            .await
            .as_ref()
            .map_err(Clone::clone)
    }

    async fn open(&self) -> Result<Engine, ClientError> {
        let mut engine = Engine::open(&self.config, &self.store_path).await?;
        let keychain = match engine.use_keychain().await {
            Ok(_) => mostrador_client::session::backend()
                .await
                .ok()
                .map(str::to_owned),
            Err(err) => {
                tracing::warn!(error = %err, "no keychain: the session lasts until the app closes");
                None
            }
        };
        *self.keychain.lock().unwrap_or_else(|e| e.into_inner()) = keychain;
        Ok(engine)
    }

    /// The engine (a cheap handle), once the store is open.
    pub async fn engine(&self) -> Result<Engine, ApiError> {
        Ok(self.opened().await?.read().await.clone())
    }

    /// Whether someone is signed in (never, on a store that did not open).
    pub async fn signed_in(&self) -> bool {
        match self.opened().await {
            Ok(engine) => engine.read().await.api().token().is_some(),
            Err(_) => false,
        }
    }

    /// Starts the sync service and the event forwarding (once).
    pub async fn start_service<R: Runtime>(&self, app: &AppHandle<R>) {
        let Ok(engine) = self.engine().await else {
            return;
        };
        let (stop_tx, stop) = watch::channel(false);
        {
            let mut slot = self.service.lock().unwrap_or_else(|e| e.into_inner());
            if slot.is_some() {
                return;
            }
            *slot = Some(stop_tx);
        }
        let events = engine.subscribe();
        tauri::async_runtime::spawn(forward(app.clone(), engine.clone(), events, stop.clone()));
        let reminders = engine.clone();
        let stop_reminders = stop.clone();
        tauri::async_runtime::spawn(async move { reminders.remind(stop_reminders).await });
        tauri::async_runtime::spawn(async move { engine.run(stop).await });
    }

    fn stop_service(&self) {
        if let Some(stop) = self
            .service
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            let _ = stop.send(true);
        }
    }

    /// The server ended the session (the engine kept unsent writes): the
    /// service stops, so the next sign-in starts it again.
    pub async fn session_ended(&self) {
        self.stop_service();
        let pending = match self.engine().await {
            Ok(engine) => engine.outbox_count().await.unwrap_or_default(),
            Err(_) => OutboxCount::default(),
        };
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = (SyncState::Connecting, pending);
    }

    /// Stops syncing, revokes the session, wipes this device's data and
    /// opens a fresh, empty store.
    pub async fn sign_out(&self) -> Result<(), ApiError> {
        self.stop_service();
        let mut guard = self.opened().await?.write().await;
        let fresh_keychain;
        {
            let old = guard.clone();
            old.sign_out().await.map_err(|e| e.to_api_error())?;
            let mut engine = Engine::open(&self.config, &self.store_path)
                .await
                .map_err(|e| e.to_api_error())?;
            fresh_keychain = engine.use_keychain().await.is_ok();
            *guard = engine;
        }
        if !fresh_keychain {
            *self.keychain.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) =
            (SyncState::Connecting, OutboxCount::default());
        Ok(())
    }
}

fn emit<R: Runtime>(app: &AppHandle<R>, event: AppEvent) {
    if let Err(err) = app.emit(EVENT, &event) {
        tracing::warn!(error = %err, "could not emit an event to the UI");
    }
}

fn window_focused<R: Runtime>(app: &AppHandle<R>) -> bool {
    app.get_webview_window("main")
        .and_then(|w| w.is_focused().ok())
        .unwrap_or(true)
}

/// Engine events → UI events (and notifications while the window is in
/// the background).
async fn forward<R: Runtime>(
    app: AppHandle<R>,
    engine: Engine,
    mut events: tokio::sync::broadcast::Receiver<EngineEvent>,
    mut stop: watch::Receiver<bool>,
) {
    let signed_in = engine.me().await.ok().flatten();
    let me = signed_in.as_ref().map(|m| m.id);
    let audience = notify::Audience::of(signed_in.map(|m| m.role));
    loop {
        let event = tokio::select! {
            e = events.recv() => e,
            _ = stop.changed() => return,
        };
        let event = match event {
            Ok(e) => e,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                // Missed some: redraw everything.
                emit(&app, AppEvent::Changed(Changes::everything()));
                continue;
            }
            Err(_) => return,
        };
        let state = app.state::<AppState>();
        let lang = *state.lang.lock().unwrap_or_else(|e| e.into_inner());
        // The shell's own side of an event; what the UI is told is the
        // engine's (`Engine::ui_event`), the same in the web shell.
        let mut ended = false;
        match &event {
            EngineEvent::Status(s) => {
                state.last.lock().unwrap_or_else(|e| e.into_inner()).0 = SyncState::from(s);
            }
            EngineEvent::Outbox { pending, wedged } => {
                state.last.lock().unwrap_or_else(|e| e.into_inner()).1 = OutboxCount {
                    pending: *pending,
                    wedged: *wedged,
                };
            }
            EngineEvent::Notice(notice) if !window_focused(&app) => {
                if let Some(note) = notice.note(lang, audience) {
                    notify::show(&app, &note);
                }
            }
            // The engine ended the session and kept unsent writes for the
            // same user's next sign-in: stop the service.
            EngineEvent::SignedOut => {
                state.session_ended().await;
                ended = true;
            }
            // The account is gone: nothing of it stays on the device.
            EngineEvent::AccountDeleted => {
                if let Err(err) = state.sign_out().await {
                    tracing::warn!(error = %err, "wiping the device after the account was deleted");
                }
                ended = true;
            }
            _ => {}
        }
        if let Some(ui) = engine.ui_event(&event, me).await {
            let changed = matches!(ui, AppEvent::Changed(_));
            emit(&app, ui);
            if changed {
                tracing::debug!(target: "hop", "ui event sent");
            }
        }
        if ended {
            return;
        }
    }
}
