//! Logging: `tracing` to stderr, filtered by `RUST_LOG` (default `info`).
//!
//! **Invariant:** secrets (passwords, tokens, webhook secrets, credentials in
//! database URLs) are never passed to a log macro; types holding them have
//! redacting `Debug` impls.

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
