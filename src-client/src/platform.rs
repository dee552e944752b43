//! What the engine needs from the platform it runs on, as small
//! interfaces the engine owns, and the few pieces that differ per platform
//! (selected by `cfg`; the engine's rules are one copy). The native
//! implementations are behind the `native` feature, the browser's behind
//! `browser` (wasm32; `web/` and `store_web/`).
//!
//! | Need | Interface | Native | Browser |
//! |---|---|---|---|
//! | Local store | `crate::store::Store`'s typed methods (compile-time, one per target) | sqlx SQLite (`store/`) | IndexedDB (`store_web/`) |
//! | HTTP | `ApiClient` over reqwest | reqwest + rustls | reqwest's `fetch` backend (per-request timeout, upload as one body) |
//! | Live connection | [`LiveSocket`] | tokio-tungstenite, bearer header | `WebSocket` with a single-use ticket (`POST /api/v1/live/ticket`) |
//! | Secret store | [`SecretStore`] | OS keychain (`session.rs`) | `localStorage` key `mostrador.session` (`web/session.rs`) |
//! | Other tabs' changes | [`Tabs`] | nothing to do (one app per store) | `BroadcastChannel` `mostrador-changes:<db>` (`web/tabs.rs`) |
//! | One sender at a time | [`exclusive`] | nothing to do (one process per store) | Web Locks `mostrador-outbox`, `mostrador-uploads` (`web/locks.rs`) |
//! | Time | [`now_ms`], [`today`], [`crate::retry::jitter`] | jiff (system time zone) | jiff (`js` feature); the local date from JavaScript's `Date` (no time-zone database in the wasm) |
//! | Tasks, timers | [`spawn`], [`spawn_guarded`], [`sleep`], [`interval`], [`MaybeSend`] bounds | tokio | `spawn_local`, `setTimeout` |
//!
//! Futures are `Send` on native (tokio's multi-threaded runtime moves
//! tasks between threads) and need not be in the browser (one thread, and
//! JavaScript values are not `Send`): [`MaybeSend`] and [`BoxFuture`] say
//! that once, as matrix-rust-sdk's `SendOutsideWasm` does, so one trait
//! definition serves both. tokio's channels, locks and `select!` (its
//! `sync` and `macros` features) are used on both.

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use mostrador_core::auth::Token;
use mostrador_core::live::{LiveClientMessage, LiveServerMessage};

use crate::ClientError;

/// `Send` outside wasm32; nothing in the browser.
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSend: Send {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Send + ?Sized> MaybeSend for T {}

/// `Send` outside wasm32; nothing in the browser.
#[cfg(target_arch = "wasm32")]
pub trait MaybeSend {}
#[cfg(target_arch = "wasm32")]
impl<T: ?Sized> MaybeSend for T {}

/// `Sync` outside wasm32; nothing in the browser.
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSync: Sync {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Sync + ?Sized> MaybeSync for T {}

/// `Sync` outside wasm32; nothing in the browser.
#[cfg(target_arch = "wasm32")]
pub trait MaybeSync {}
#[cfg(target_arch = "wasm32")]
impl<T: ?Sized> MaybeSync for T {}

/// A boxed future, `Send` where the platform needs it: what the
/// interfaces' methods return, so they stay object-safe.
#[cfg(not(target_arch = "wasm32"))]
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
/// A boxed future, `Send` where the platform needs it: what the
/// interfaces' methods return, so they stay object-safe.
#[cfg(target_arch = "wasm32")]
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Where the session token is kept between runs: the OS keychain on
/// native (never the store file). Held as `Arc<dyn SecretStore>`.
pub trait SecretStore: Debug + MaybeSend + MaybeSync {
    /// The token an earlier run saved, if any.
    fn load(&self) -> BoxFuture<'_, Result<Option<Token>, ClientError>>;
    fn save<'a>(&'a self, token: &'a Token) -> BoxFuture<'a, Result<(), ClientError>>;
    /// Forgets the token (sign-out, a session the server ended).
    fn clear(&self) -> BoxFuture<'_, Result<(), ClientError>>;
}

/// What arrives on the live connection.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveFrame {
    Message(LiveServerMessage),
    /// The server closed the connection, with its close code if it gave
    /// one ([`crate::sync::on_close`] says what the code asks for).
    Closed(Option<u16>),
}

/// The text frame that carries `msg`, on either platform's socket.
pub fn live_text(msg: &LiveClientMessage) -> Result<String, ClientError> {
    serde_json::to_string(msg).map_err(|e| ClientError::Decode(e.to_string()))
}

/// The message a text frame carries; `None` for one this build cannot
/// read (a newer server's), which the sockets skip: the sync service's
/// safety tick catches up.
pub fn live_message(text: &str) -> Option<LiveServerMessage> {
    serde_json::from_str(text).ok()
}

/// An open live connection (the server's pokes, typing and presence), as
/// the sync service uses it: typed messages both ways, the transport's
/// framing, pings and unreadable frames hidden.
pub trait LiveSocket: MaybeSend {
    fn send<'a>(&'a mut self, msg: &'a LiveClientMessage)
        -> BoxFuture<'a, Result<(), ClientError>>;
    /// The next frame; `None` once the connection is gone without a close
    /// frame (a network failure). Cancel-safe: nothing is lost when the
    /// future is dropped before it completes.
    fn recv(&mut self) -> BoxFuture<'_, Option<LiveFrame>>;
    /// Closes the connection politely (the service stops).
    fn close(&mut self) -> BoxFuture<'_, ()>;
}

/// Milliseconds since the epoch: the outbox's and the uploads' clock.
/// jiff reads the browser's clock on wasm32 (its `js` feature), where
/// `std::time::SystemTime::now` panics.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// Runs `task` in the background on the platform's executor: tokio's
/// runtime on native, the browser's event loop (`spawn_local`) on wasm32.
/// For tasks the engine detaches; a task it must stop keeps its own handle.
#[cfg(all(feature = "native", not(target_arch = "wasm32")))]
pub fn spawn(task: impl Future<Output = ()> + Send + 'static) {
    drop(tokio::spawn(task));
}

/// Runs `task` in the background on the platform's executor: tokio's
/// runtime on native, the browser's event loop (`spawn_local`) on wasm32.
/// For tasks the engine detaches; a task it must stop keeps its own handle.
#[cfg(target_arch = "wasm32")]
pub fn spawn(task: impl Future<Output = ()> + 'static) {
    wasm_bindgen_futures::spawn_local(task);
}

/// Waits `duration` on the platform's timer: tokio's on native, the
/// browser's `setTimeout` on wasm32. Cancel by dropping the future.
#[cfg(all(feature = "native", not(target_arch = "wasm32")))]
pub async fn sleep(duration: Duration) {
    tokio::time::sleep(duration).await;
}

/// Waits `duration` on the platform's timer: tokio's on native, the
/// browser's `setTimeout` on wasm32. Cancel by dropping the future.
#[cfg(target_arch = "wasm32")]
pub async fn sleep(duration: Duration) {
    gloo_timers::future::sleep(duration).await;
}

/// A background task that stops when its guard is dropped (the sync
/// service's upload task ends with the service).
#[must_use = "the task stops when the guard is dropped"]
#[derive(Debug)]
pub struct TaskGuard {
    #[cfg(all(feature = "native", not(target_arch = "wasm32")))]
    task: tokio::task::JoinHandle<()>,
    /// Dropping it wakes the task's stop branch.
    #[cfg(all(feature = "browser", target_arch = "wasm32"))]
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        #[cfg(all(feature = "native", not(target_arch = "wasm32")))]
        self.task.abort();
    }
}

/// Runs `task` in the background until it ends or the guard is dropped.
#[cfg(all(feature = "native", not(target_arch = "wasm32")))]
pub fn spawn_guarded(task: impl Future<Output = ()> + Send + 'static) -> TaskGuard {
    TaskGuard {
        task: tokio::spawn(task),
    }
}

/// Runs `task` in the background until it ends or the guard is dropped.
#[cfg(all(feature = "browser", target_arch = "wasm32"))]
pub fn spawn_guarded(task: impl Future<Output = ()> + 'static) -> TaskGuard {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    spawn(async move {
        tokio::select! {
            () = task => {}
            _ = stopped => {}
        }
    });
    TaskGuard { _stop: stop }
}

/// Ticks every `period`, the first tick at once, on the platform's timer;
/// `tick` is cancel-safe (a tick not awaited to the end is not lost), so it
/// can sit in a `select!` beside other wake-ups.
#[derive(Debug)]
pub struct Interval {
    #[cfg(all(feature = "native", not(target_arch = "wasm32")))]
    inner: tokio::time::Interval,
    #[cfg(target_arch = "wasm32")]
    period: Duration,
    /// When the next tick is due (unix ms).
    #[cfg(target_arch = "wasm32")]
    next_ms: i64,
}

/// See [`Interval`].
#[cfg(all(feature = "native", not(target_arch = "wasm32")))]
pub fn interval(period: Duration) -> Interval {
    Interval {
        inner: tokio::time::interval(period),
    }
}

/// See [`Interval`].
#[cfg(target_arch = "wasm32")]
pub fn interval(period: Duration) -> Interval {
    Interval {
        period,
        next_ms: now_ms(),
    }
}

impl Interval {
    #[cfg(all(feature = "native", not(target_arch = "wasm32")))]
    pub async fn tick(&mut self) {
        self.inner.tick().await;
    }

    #[cfg(target_arch = "wasm32")]
    pub async fn tick(&mut self) {
        let wait = self.next_ms - now_ms();
        if wait > 0 {
            sleep(Duration::from_millis(wait.unsigned_abs())).await;
        }
        // Ticks missed while the page slept are not made up in a burst.
        let period = i64::try_from(self.period.as_millis()).unwrap_or(i64::MAX);
        let now = now_ms();
        self.next_ms = self.next_ms.saturating_add(period);
        if self.next_ms <= now {
            self.next_ms = now.saturating_add(period);
        }
    }
}

/// Runs `work` holding the exclusive lock `name`, which every context
/// running the engine over the same local data shares: in the browser the
/// Web Locks API (`navigator.locks`, shared by the origin's tabs and
/// workers, released when the tab closes); on native `work` just runs (one
/// process holds the store file). Not reentrant: `work` must not take the
/// same lock again.
#[cfg(feature = "native")]
pub async fn exclusive<T>(name: &str, work: impl Future<Output = T>) -> T {
    let _ = name;
    work.await
}

/// Runs `work` holding the exclusive lock `name`, which every context
/// running the engine over the same local data shares: in the browser the
/// Web Locks API (`navigator.locks`, shared by the origin's tabs and
/// workers, released when the tab closes); on native `work` just runs (one
/// process holds the store file). Not reentrant: `work` must not take the
/// same lock again.
#[cfg(all(feature = "browser", not(feature = "native")))]
pub async fn exclusive<T>(name: &str, work: impl Future<Output = T>) -> T {
    crate::web::locks::exclusive(name, work).await
}

/// The other contexts running the engine over the same local data, told
/// of this one's changes (`post`) and telling it theirs (`open`'s
/// `on_event`): in the browser the origin's tabs over one IndexedDB
/// database; on native nothing (one process holds the store file).
#[cfg(feature = "native")]
#[derive(Debug, Clone)]
pub(crate) struct Tabs;

#[cfg(feature = "native")]
impl Tabs {
    pub(crate) fn open(_store: &str, _on_event: impl Fn(crate::EngineEvent) + 'static) -> Self {
        Tabs
    }

    pub(crate) fn post(&self, _event: &crate::EngineEvent) {}
}

#[cfg(all(feature = "browser", not(feature = "native")))]
pub(crate) use crate::web::tabs::Tabs;

/// Today's date where the user is (for file names). Native: jiff with the
/// system's time zone. Browser: JavaScript's `Date`, which knows the local
/// zone, so the page needs no time-zone database of its own (jiff would
/// bundle one into the wasm).
#[cfg(not(target_arch = "wasm32"))]
pub fn today() -> jiff::civil::Date {
    jiff::Zoned::now().date()
}

/// Today's date where the user is (for file names). Native: jiff with the
/// system's time zone. Browser: JavaScript's `Date`, which knows the local
/// zone, so the page needs no time-zone database of its own (jiff would
/// bundle one into the wasm).
#[cfg(all(feature = "browser", target_arch = "wasm32"))]
pub fn today() -> jiff::civil::Date {
    let now = js_sys::Date::new_0();
    let utc = || {
        jiff::Timestamp::now()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date()
    };
    match (
        i16::try_from(now.get_full_year()),
        i8::try_from(now.get_month() + 1),
        i8::try_from(now.get_date()),
    ) {
        (Ok(y), Ok(m), Ok(d)) => jiff::civil::Date::new(y, m, d).unwrap_or_else(|_| utc()),
        _ => utc(),
    }
}
