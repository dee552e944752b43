//! Mostrador's app engine, independent of Tauri.
//!
//! The Tauri shell (`mostrador-app`) only forwards this crate's commands and
//! events to the UI; everything the app *does* — talking to the backend,
//! caching, queueing writes — lives here, so it is tested without a window.
//!
//! **Architecture invariant:** this crate knows nothing of Tauri or the DOM.

pub mod account;
pub mod agent;
pub mod api;
pub mod config;
mod drafts;
pub mod echo;
pub mod engine;
pub mod error;
pub mod events;
pub mod files;
pub mod live;
mod outbox;
pub mod retry;
pub mod session;
pub mod store;
pub mod sync;
pub mod views;
mod writes;

pub use api::ApiClient;
pub use config::ClientConfig;
pub use engine::{Engine, PushReport};
pub use error::ClientError;
pub use events::{EngineEvent, SyncStatus};

use mostrador_core::BackendStatus;

/// The engine the shell holds one of.
#[derive(Debug, Clone)]
pub struct Client {
    api: ApiClient,
}

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
