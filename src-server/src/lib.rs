//! Mostrador's central support backend.
//!
//! The single source of truth every app syncs with. One [`state::AppState`]
//! (database pool + configuration) is shared by per-resource routers that are
//! merged in [`http::router`]; the OpenAPI 3.1 document is generated from the
//! same handlers by `utoipa`, so the spec cannot drift from the code.
//!
//! **Architecture invariant:** handlers never build error bodies by hand; they
//! return [`error::AppError`], which renders the one wire shape
//! `{code, message, details}` from `mostrador-core` and logs internals.

pub mod actor;
pub mod auth;
pub mod authz;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod extract;
pub mod feed;
pub mod hours;
pub mod http;
pub mod live;
pub mod mail;
pub mod openapi;
pub mod password;
pub mod routes;
pub mod serve;
pub mod session_cache;
pub mod state;
pub mod telemetry;
pub mod throttle;
pub mod web;
pub mod writer;

use anyhow::Context;
use tokio::net::TcpListener;

pub use config::ServerConfig;
pub use state::AppState;

/// Connects the database, runs migrations, binds and serves until Ctrl-C or
/// SIGTERM, then finishes in-flight requests.
///
/// Prints exactly one line to stdout once listening:
/// `mostrador-server listening on http://ADDR` (tools and tests read it).
pub async fn serve(config: ServerConfig) -> anyhow::Result<()> {
    let url = config.database_url.clone();
    let _one_server = tokio::task::spawn_blocking(move || db::claim_sqlite_file(&url)).await??;
    let (listener, state) = prepare(config).await?;
    let addr = listener.local_addr()?;
    println!("mostrador-server listening on http://{addr}");
    tracing::info!(%addr, database = state.db.backend().name(), "serving");
    let limits = state.config.conn_limits;
    serve::serve(listener, http::router(state), limits, shutdown_signal())
        .await
        .context("server error")?;
    tracing::info!("shut down cleanly");
    Ok(())
}

/// Opens the database and binds the listener (split out so tests can serve
/// in-process on an ephemeral port).
pub async fn prepare(config: ServerConfig) -> anyhow::Result<(TcpListener, AppState)> {
    let db = db::Db::connect(&config.database_url)
        .await
        .with_context(|| format!("opening database {}", config.redacted_database_url()))?;
    let listener = TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("binding {}", config.bind))?;
    db::create_private_dir(&config.upload_dir)
        .with_context(|| format!("creating {}", config.upload_dir.display()))?;
    let state = AppState::new(db, config);
    let head: i64 = sqlx::query_scalar("SELECT seq FROM feed_counter WHERE id = 1")
        .fetch_one(state.db.pool())
        .await?;
    state.feed_head.send_replace(head);
    live::spawn_dispatcher(state.clone());
    feed::spawn_pruner(
        state.clone(),
        state.config.feed_prune_every,
        state.config.feed_retention,
    );
    routes::attachments::spawn_unattached_cleaner(state.clone());
    Ok((listener, state))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}
