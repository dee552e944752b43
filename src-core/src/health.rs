//! Backend health as reported by `GET /healthz`, and the app's view of it.

use serde::{Deserialize, Serialize};

/// Body of `GET /healthz`. **Wire promise.**
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// `"ok"` when the server and its database answer.
    pub status: String,
    /// The server's release version, e.g. `"0.1.0"`.
    pub version: String,
    /// The database backend in use: `"sqlite"` or `"postgres"`.
    pub database: String,
}

/// What the app knows about the backend right now (Tauri command result).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum BackendStatus {
    /// The backend answered its health check.
    Online {
        server_url: String,
        version: String,
        database: String,
    },
    /// The backend could not be reached or answered with an error.
    Offline {
        server_url: String,
        /// Why, in English, for logs and tooltips.
        reason: String,
    },
}

impl BackendStatus {
    pub fn is_online(&self) -> bool {
        matches!(self, BackendStatus::Online { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_status_is_tagged_by_state() {
        let s = BackendStatus::Offline {
            server_url: "http://127.0.0.1:1".into(),
            reason: "connection refused".into(),
        };
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["state"], "offline");
        assert!(!s.is_online());
        let back: BackendStatus = serde_json::from_value(v).unwrap();
        assert_eq!(back, s);
    }
}
