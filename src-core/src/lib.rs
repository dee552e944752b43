//! Mostrador's domain and wire types.
//!
//! **Architecture invariant:** this crate does no I/O and knows nothing of
//! HTTP, SQL, Tauri or the DOM. It builds for `wasm32-unknown-unknown` (the UI
//! uses it) and for native targets (the server and the client engine use it).
//! Everything here that crosses a process boundary is **API boundary**: field
//! names and enum spellings are a wire promise; change them only additively.

pub mod agent;
pub mod app;
pub mod auth;
pub mod callbacks;
pub mod chat;
pub mod error;
pub mod health;
pub mod lang;
pub mod live;
pub mod notification;
pub mod orders;
pub mod phone;
pub mod profile;
pub mod sync;
pub mod text;

pub use error::{ApiError, ErrorCode};
pub use health::{BackendStatus, Health};

/// The version of the Mostrador release this crate belongs to.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
