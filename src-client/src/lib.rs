//! Mostrador's app engine, independent of Tauri.
//!
//! The Tauri shell (`mostrador-app`) only forwards this crate's commands and
//! events to the UI; everything the app *does* — talking to the backend,
//! caching, queueing writes — lives here, so it is tested without a window.
//!
//! **Architecture invariant:** this crate knows nothing of Tauri or the DOM.
//!
//! # Layers
//!
//! - **Rules** ([`rules`], plus the pure policy modules beside it such as
//!   `receipts`): the engine's decisions on plain data, no I/O. They build
//!   for every target, wasm32-unknown-unknown included.
//! - **Platform interfaces** ([`platform`]): what the engine needs from
//!   where it runs (secret store, live socket, clock, task bounds), as small
//!   traits.
//! - **Native platform** (feature `native`, on by default): the engine as
//!   the desktop and mobile app run it, over sqlx SQLite (`store`),
//!   reqwest (`api`), tokio-tungstenite (`live_socket`), the OS keychain
//!   (`session`) and tokio.
//! - **Browser platform** (feature `browser`, wasm32 only): the same engine
//!   in a web page, over IndexedDB (`store_web`, seen by the engine as
//!   `store`), reqwest's fetch backend (`api`), and `web`: the browser's
//!   `WebSocket` (with a single-use ticket), `localStorage` for the session
//!   and Web Locks so two tabs never send one write twice. CI checks it
//!   builds: `cargo check -p mostrador-client --no-default-features
//!   --features browser --target wasm32-unknown-unknown`.
//!
//! Everything from `engine` down (writes, views, actions, account, agent,
//! files, live, echo, drafts, api) is one copy for both platforms; only the
//! small pieces [`platform`] lists differ, selected by `cfg`. With neither
//! feature the crate is the rules and the interfaces only.

pub mod changes;
pub mod config;
pub mod error;
pub mod events;
pub mod notices;
pub mod platform;
pub mod receipts;
pub mod rules;

pub use rules::{retry, sync};

#[cfg(all(
    feature = "browser",
    not(feature = "native"),
    not(target_arch = "wasm32")
))]
compile_error!(
    "mostrador-client's `browser` platform is for wasm32-unknown-unknown; native targets use `native`"
);

/// Items that need a platform: built with either `native` or `browser`.
macro_rules! with_platform {
    ($($item:item)*) => { $(#[cfg(any(feature = "native", feature = "browser"))] $item)* };
}

with_platform! {
    pub mod account;
    pub mod actions;
    pub mod agent;
    pub mod api;
    mod drafts;
    pub mod echo;
    pub mod engine;
    pub mod files;
    pub mod live;
    pub mod views;
    mod writes;
    pub use api::ApiClient;
    pub use engine::{Engine, PushReport};
}

#[cfg(feature = "native")]
mod live_socket;
#[cfg(feature = "native")]
pub mod session;
#[cfg(feature = "native")]
pub mod store;

#[cfg(all(feature = "browser", not(feature = "native")))]
pub mod store_web;
/// The browser's store, under the name the engine uses on both platforms.
#[cfg(all(feature = "browser", not(feature = "native")))]
pub use store_web as store;
#[cfg(all(feature = "browser", not(feature = "native")))]
pub mod web;

pub use config::ClientConfig;
pub use error::ClientError;
pub use events::{EngineEvent, SyncStatus};

#[cfg(any(feature = "native", feature = "browser"))]
use mostrador_core::BackendStatus;

/// The engine the shell holds one of.
#[cfg(any(feature = "native", feature = "browser"))]
#[derive(Debug, Clone)]
pub struct Client {
    api: ApiClient,
}

#[cfg(any(feature = "native", feature = "browser"))]
impl Client {
    pub fn new(config: ClientConfig) -> Result<Self, ClientError> {
        Ok(Self {
            api: ApiClient::new(&config)?,
        })
    }

    /// Shares an existing client's connection and session.
    pub fn from_api(api: ApiClient) -> Self {
        Self { api }
    }

    pub fn api(&self) -> &ApiClient {
        &self.api
    }

    /// Asks the backend for its health; never fails, an unreachable or
    /// unhealthy backend is reported as [`BackendStatus::Offline`].
    pub async fn backend_status(&self) -> BackendStatus {
        let server_url = self.api.base_url().to_owned();
        match self.api.health().await {
            Ok(h) if h.status == "ok" => BackendStatus::Online {
                server_url,
                version: h.version,
                database: h.database,
            },
            Ok(h) => BackendStatus::Offline {
                server_url,
                reason: format!("server reports status {:?}", h.status),
            },
            Err(err) => BackendStatus::Offline {
                server_url,
                reason: err.to_string(),
            },
        }
    }
}
