//! The web build's shell, living in the page: what `src-tauri` is for the
//! desktop app. It holds the one [`Engine`] (IndexedDB store, `fetch`,
//! the browser's WebSocket, the session in this origin's `localStorage`),
//! runs its sync service and callback reminders while someone is signed
//! in, answers the command set of `src-tauri/src/commands.rs` by name
//! ([`commands`]) and turns the engine's events into the same
//! [`AppEvent`]s the desktop shell emits ([`events`]).
//!
//! **Architecture invariant:** shells translate, the engine decides. No
//! ids, validation, `MutationOp`s or API paths here; what differs from the
//! desktop is the platform's part only ([`browser`]: a download instead of
//! a file in the Downloads folder, `blob:` URLs for attachments, the
//! Notification API when the user allowed it).
//!
//! `ipc.rs` reaches it through [`call`] and [`on_event`] only, so the
//! components never know where they run. The page is one thread: state is
//! in `Cell`/`RefCell`s never borrowed across an `await`; the engine sits
//! behind an async `RwLock` because sign-out swaps it for a fresh one.

mod browser;
mod commands;
mod events;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use mostrador_client::web::LocalSecretStore;
use mostrador_client::{ClientConfig, ClientError, Engine};
use mostrador_core::app::{AppEvent, OutboxCount, SyncState};
use mostrador_core::lang::Lang;
use mostrador_core::{ApiError, ErrorCode};
use tokio::sync::{watch, OnceCell, RwLock};
use uuid::Uuid;

/// The IndexedDB database the engine keeps its store in (one per origin,
/// so one per support server).
const DB_NAME: &str = "mostrador";

/// A UI event handler.
type Listener = Rc<dyn Fn(AppEvent)>;

/// What every command can reach.
pub(crate) struct Shell {
    config: ClientConfig,
    engine: RwLock<Engine>,
    /// Stops the sync service and the reminders; `Some` while they run.
    service: RefCell<Option<watch::Sender<bool>>>,
    /// The latest sync state and outbox count, for a UI that mounts late.
    last: RefCell<(SyncState, OutboxCount)>,
    /// The UI's language, for notifications.
    lang: Cell<Lang>,
    /// The UI's event handlers (`on_event`).
    listeners: RefCell<Vec<Listener>>,
    /// Attachments already turned into `blob:` URLs, for the page's life.
    urls: RefCell<HashMap<Uuid, String>>,
}

impl std::fmt::Debug for Shell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shell")
            .field("server_url", &self.config.server_url)
            .finish_non_exhaustive()
    }
}

thread_local! {
    static SHELL: Rc<OnceCell<Rc<Shell>>> = Rc::new(OnceCell::new());
}

fn api(e: ClientError) -> ApiError {
    e.to_api_error()
}

/// The shell, opened on first use: the engine over this origin's store,
/// with the session the browser kept.
async fn shell() -> Result<Rc<Shell>, ApiError> {
    let cell = SHELL.with(Rc::clone);
    cell.get_or_try_init(|| async {
        let config = ClientConfig::new(mostrador_client::web::page_origin().map_err(api)?);
        let engine = open_engine(&config).await?;
        Ok::<_, ApiError>(Rc::new(Shell {
            config,
            engine: RwLock::new(engine),
            service: RefCell::new(None),
            last: RefCell::new((SyncState::Connecting, OutboxCount::default())),
            lang: Cell::new(Lang::En),
            listeners: RefCell::new(Vec::new()),
            urls: RefCell::new(HashMap::new()),
        }))
    })
    .await
    .cloned()
}

/// The engine over the browser's store, with the session kept in this
/// origin's storage.
async fn open_engine(config: &ClientConfig) -> Result<Engine, ApiError> {
    let mut engine = Engine::open_browser(config, DB_NAME).await.map_err(api)?;
    engine
        .use_secret_store(Arc::new(LocalSecretStore))
        .await
        .map_err(api)?;
    Ok(engine)
}

/// Runs command `cmd` with its arguments as JSON (the names and shapes of
/// the Tauri command set); its result as JSON.
pub(crate) async fn call(cmd: &str, args: &str) -> Result<Box<dyn std::any::Any>, ApiError> {
    let shell = shell().await?;
    commands::dispatch(&shell, cmd, args).await
}

/// Calls `handler` with every [`AppEvent`] for the life of the page. The
/// sync service of a kept session starts when the page says its first
/// screen is drawn (the `ready` command), as in the desktop shell.
pub(crate) async fn on_event(handler: impl Fn(AppEvent) + 'static) -> Result<(), ApiError> {
    let shell = shell().await?;
    shell.listeners.borrow_mut().push(Rc::new(handler));
    Ok(())
}

impl Shell {
    /// The engine (a cheap handle).
    async fn engine(&self) -> Engine {
        self.engine.read().await.clone()
    }

    async fn signed_in(&self) -> bool {
        self.engine.read().await.api().token().is_some()
    }

    fn emit(&self, event: AppEvent) {
        // Handlers may register others: call a copy of the list.
        let listeners: Vec<_> = self.listeners.borrow().clone();
        for l in listeners {
            l(event.clone());
        }
    }

    /// Starts the sync service, the reminders and the event forwarding
    /// (once).
    fn start_service(self: &Rc<Self>) {
        let (stop_tx, stop) = watch::channel(false);
        {
            let mut slot = self.service.borrow_mut();
            if slot.is_some() {
                return;
            }
            *slot = Some(stop_tx);
        }
        let shell = Rc::clone(self);
        wasm_bindgen_futures::spawn_local(async move {
            let engine = shell.engine().await;
            let events = engine.subscribe();
            wasm_bindgen_futures::spawn_local(events::forward(
                Rc::clone(&shell),
                engine.clone(),
                events,
                stop.clone(),
            ));
            let reminders = engine.clone();
            let stop_reminders = stop.clone();
            wasm_bindgen_futures::spawn_local(
                async move { reminders.remind(stop_reminders).await },
            );
            engine.run(stop).await;
        });
    }

    fn stop_service(&self) {
        if let Some(stop) = self.service.borrow_mut().take() {
            let _ = stop.send(true);
        }
    }

    /// The server ended the session (the engine kept unsent writes): the
    /// service stops, so the next sign-in starts it again.
    async fn session_ended(&self) {
        self.stop_service();
        let pending = self.engine().await.outbox_count().await.unwrap_or_default();
        *self.last.borrow_mut() = (SyncState::Connecting, pending);
    }

    /// Stops syncing, revokes the session, wipes this browser's copy and
    /// opens a fresh, empty store.
    async fn sign_out(&self) -> Result<(), ApiError> {
        self.stop_service();
        let mut guard = self.engine.write().await;
        let old = guard.clone();
        old.sign_out().await.map_err(api)?;
        *guard = open_engine(&self.config).await?;
        drop(guard);
        for (_, url) in self.urls.borrow_mut().drain() {
            browser::revoke_url(&url);
        }
        *self.last.borrow_mut() = (SyncState::Connecting, OutboxCount::default());
        Ok(())
    }
}

/// A command this build does not have.
fn unknown(cmd: &str) -> ApiError {
    ApiError::new(
        ErrorCode::Internal,
        format!("the web app has no command {cmd}"),
    )
}
