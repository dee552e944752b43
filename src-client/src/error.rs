//! What the engine can fail with, and its wire form for the UI.

use mostrador_core::{ApiError, ErrorCode};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The backend could not be reached (no network, refused, timed out).
    #[error("cannot reach the server: {0}")]
    Network(String),
    /// The backend answered with its error shape.
    #[error("the server refused: {}", .0.message)]
    Api(ApiError),
    /// The backend answered with something this build cannot read.
    #[error("unexpected answer from the server: {0}")]
    Decode(String),
    /// Bad local configuration (e.g. an invalid server URL).
    #[error("configuration: {0}")]
    Config(String),
    /// The local store failed (disk full, corrupt file).
    #[error("local store: {0}")]
    Store(String),
    /// The OS keychain is missing or refused.
    #[error("keychain: {0}")]
    Keychain(String),
    /// An action that needs a signed-in user.
    #[error("not signed in")]
    SignedOut,
    /// Signing in as another account would discard the previous account's
    /// unsent writes: the user must confirm first (see `Engine::login_with`).
    #[error("{} unsent changes of another account are on this device", .0.writes.len())]
    UnsentWritesOfAnotherUser(mostrador_core::app::UnsentWrites),
}

impl ClientError {
    /// The wire form handed to the UI, which renders `code` in the user's
    /// language.
    pub fn to_api_error(&self) -> ApiError {
        match self {
            ClientError::Api(e) => e.clone(),
            ClientError::Network(m) => ApiError::new(ErrorCode::Unavailable, m.clone()),
            ClientError::Decode(m)
            | ClientError::Config(m)
            | ClientError::Store(m)
            | ClientError::Keychain(m) => ApiError::new(ErrorCode::Internal, m.clone()),
            ClientError::SignedOut => ApiError::new(ErrorCode::Unauthorized, "sign in first"),
            ClientError::UnsentWritesOfAnotherUser(unsent) => unsent.to_error(),
        }
    }
}

#[cfg(any(feature = "native", feature = "browser"))]
impl From<reqwest::Error> for ClientError {
    fn from(err: reqwest::Error) -> Self {
        if err.is_decode() {
            ClientError::Decode(err.to_string())
        } else if err.is_builder() {
            ClientError::Config(err.to_string())
        } else {
            // Connection refused, DNS, TLS, timeouts: all "can't reach".
            ClientError::Network(reason_without_url(err))
        }
    }
}

/// The error chain as one line, without the URL (URLs must not leak into logs
/// or the UI: one day they may carry credentials).
#[cfg(any(feature = "native", feature = "browser"))]
fn reason_without_url(err: reqwest::Error) -> String {
    let err = err.without_url();
    let mut msg = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}
