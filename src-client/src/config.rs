//! Engine configuration.

use std::time::Duration;

/// Where the backend is and how patient to be with it.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Base URL of the support backend, e.g. `http://127.0.0.1:8787`.
    pub server_url: String,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// The live connection's reconnect backoff: the first step (doubling
    /// after each failure) and the cap, both with jitter (see
    /// `retry::reconnect_delay`). The cap keeps recovery after an outage to
    /// a few seconds.
    pub reconnect_base: Duration,
    pub reconnect_cap: Duration,
    /// One more root certificate (PEM) to trust for `https://` and `wss://`
    /// besides the public web roots: for tests against a local TLS server
    /// with a self-signed certificate, or a private CA. `None` normally.
    pub extra_root_pem: Option<Vec<u8>>,
}

/// The backend `cargo xtask demo` starts.
pub const DEFAULT_SERVER_URL: &str = "http://127.0.0.1:8787";

impl ClientConfig {
    pub fn new(server_url: impl Into<String>) -> Self {
        Self {
            server_url: server_url.into().trim_end_matches('/').to_owned(),
            connect_timeout: Duration::from_secs(3),
            request_timeout: Duration::from_secs(10),
            reconnect_base: Duration::from_millis(500),
            reconnect_cap: crate::retry::RECONNECT_CAP,
            extra_root_pem: None,
        }
    }
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self::new(DEFAULT_SERVER_URL)
    }
}
