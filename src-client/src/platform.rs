//! What the engine needs from the platform it runs on, as small
//! interfaces the engine owns. The native implementations are in the
//! modules behind the `native` feature; the browser's come with the web
//! build (issue 13).
//!
//! | Need | Interface | Native | Browser |
//! |---|---|---|---|
//! | Local store | [`Store`](crate::store)'s typed methods (compile-time, one per target) | sqlx SQLite | sqlite-wasm or IndexedDB |
//! | HTTP | `ApiClient` over reqwest | reqwest + rustls | reqwest's fetch backend |
//! | Live connection | [`LiveSocket`] | tokio-tungstenite | `WebSocket` |
//! | Secret store | [`SecretStore`] | OS keychain (`session.rs`) | none: an HttpOnly cookie or the frame's storage |
//! | Time | [`now_ms`], [`crate::retry::jitter`] | jiff | jiff (`js` feature) |
//! | Tasks, timers | [`spawn`], [`sleep`], [`MaybeSend`] bounds | tokio | `spawn_local`, `setTimeout` |
//!
//! Futures are `Send` on native (tokio's multi-threaded runtime moves
//! tasks between threads) and need not be in the browser (one thread, and
//! JavaScript values are not `Send`): [`MaybeSend`] and [`BoxFuture`] say
//! that once, as matrix-rust-sdk's `SendOutsideWasm` does, so one trait
//! definition serves both.

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
