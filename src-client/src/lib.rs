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
//!   reqwest (`api`), tokio-tungstenite (`live`), the OS keychain
//!   (`session`) and tokio. Without the feature the crate is the rules and
//!   the interfaces only; CI checks that build for wasm32
//!   (`cargo check -p mostrador-client --no-default-features --target wasm32-unknown-unknown`).

pub mod config;
pub mod error;
pub mod events;
pub mod changes;
pub mod notices;
pub mod platform;
pub mod receipts;
pub mod rules;

pub use rules::{retry, sync};

#[cfg(feature = "native")]
pub mod account;
#[cfg(feature = "native")]
pub mod actions;
#[cfg(feature = "native")]
pub mod agent;
#[cfg(feature = "native")]
pub mod api;
#[cfg(feature = "native")]
mod drafts;
#[cfg(feature = "native")]
pub mod echo;
#[cfg(feature = "native")]
pub mod engine;
#[cfg(feature = "native")]
pub mod files;
#[cfg(feature = "native")]
pub mod live;
#[cfg(feature = "native")]
mod live_socket;
#[cfg(feature = "native")]
pub mod session;
#[cfg(feature = "native")]
pub mod store;
/// The browser's store (IndexedDB), with the native store's methods.
#[cfg(all(feature = "browser", target_arch = "wasm32"))]
pub mod store_web;
#[cfg(feature = "native")]
pub mod views;
#[cfg(feature = "native")]
mod writes;

#[cfg(feature = "native")]
pub use api::ApiClient;
pub use config::ClientConfig;
#[cfg(feature = "native")]
pub use engine::{Engine, PushReport};
pub use error::ClientError;
pub use events::{EngineEvent, SyncStatus};

#[cfg(feature = "native")]
use mostrador_core::BackendStatus;

/// The engine the shell holds one of.
#[cfg(feature = "native")]
#[derive(Debug, Clone)]
pub struct Client {
    api: ApiClient,
}

#[cfg(feature = "native")]
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
