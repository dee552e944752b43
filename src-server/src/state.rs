//! The state every handler shares.

use std::sync::Arc;
use std::time::Duration;

use crate::throttle::{LoginThrottle, RateWindow};
use crate::config::ServerConfig;
use crate::db::Db;

#[derive(Debug, Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<ServerConfig>,
    pub throttle: Arc<LoginThrottle>,
    /// Registrations per client address per hour.
    pub register_limit: Arc<RateWindow>,
    /// Password-reset and verification-code mails asked for per client
    /// address per hour.
    pub mail_limit: Arc<RateWindow>,
    /// Fires after every committed write with the feed's new head; live
    /// connections wake on it.
    pub feed_head: Arc<tokio::sync::watch::Sender<i64>>,
    /// Live WebSocket connections and their routing (see `live`).
    pub hub: Arc<crate::live::hub::Hub>,
    /// Group commit: chat writes and pushes share transactions (see
    /// `writer`).
    pub writer: Arc<crate::writer::Writer>,
    /// Live sessions remembered between requests (SQLite only; see
    /// `session_cache`). Writes that end a session or change a user call
    /// `forget_all` after their commit.
    pub sessions: Arc<crate::session_cache::SessionCache>,
}

impl AppState {
    pub fn new(db: Db, config: ServerConfig) -> Self {
        crate::password::configure_hashing(config.hash_concurrency, config.hash_wait);
        let feed_head = Arc::new(tokio::sync::watch::channel(0).0);
        Self {
            writer: Arc::new(crate::writer::Writer::new(db.clone(), feed_head.clone())),
            sessions: Arc::new(crate::session_cache::SessionCache::new(
                db.backend() == crate::db::Backend::Sqlite,
            )),
            db,
            // 5 failures per account, 20 per address, per 15 minutes.
            throttle: Arc::new(LoginThrottle::new(
                Duration::from_secs(15 * 60),
                5,
                config.login_per_address,
            )),
            register_limit: Arc::new(RateWindow::new(
                Duration::from_secs(3600),
                config.register_per_address,
            )),
            mail_limit: Arc::new(RateWindow::new(
                Duration::from_secs(3600),
                config.mail_per_address,
            )),
            feed_head,
            hub: Arc::new(crate::live::hub::Hub::default()),
            config: Arc::new(config),
        }
    }

    /// A session ended (call after the commit that revoked it): no request
    /// is let in on it any longer and its live sockets close with `code`.
    pub fn session_ended(&self, session: uuid::Uuid, code: u16) {
        self.sessions.forget_all();
        self.hub.close_session(session, code);
    }

    /// A user's sessions ended, all but `keep` (call after the commit that
    /// revoked them): as [`AppState::session_ended`] for each.
    pub fn user_sessions_ended(&self, user: uuid::Uuid, code: u16, keep: Option<uuid::Uuid>) {
        self.sessions.forget_all();
        self.hub.close_user(user, code, keep);
    }

    /// Tells live listeners the feed moved (call after commit).
    pub fn notify_feed(&self, head: i64) {
        crate::writer::advance(&self.feed_head, head);
    }
}
