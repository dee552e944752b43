//! The state every handler shares.

use std::sync::Arc;
use std::time::Duration;

use crate::auth::LoginThrottle;
use crate::config::ServerConfig;
use crate::db::Db;

#[derive(Debug, Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<ServerConfig>,
    pub throttle: Arc<LoginThrottle>,
    /// Fires after every committed write with the feed's new head; live
    /// connections wake on it.
    pub feed_head: Arc<tokio::sync::watch::Sender<i64>>,
    /// Live WebSocket connections and their routing (see `live`).
    pub hub: Arc<crate::live::Hub>,
}

impl AppState {
    pub fn new(db: Db, config: ServerConfig) -> Self {
        Self {
            db,
            config: Arc::new(config),
            // 5 failures per account, 20 per address, per 15 minutes.
            throttle: Arc::new(LoginThrottle::new(Duration::from_secs(15 * 60), 5, 20)),
            feed_head: Arc::new(tokio::sync::watch::channel(0).0),
            hub: Arc::new(crate::live::Hub::default()),
        }
    }

    /// Tells live listeners the feed moved (call after commit).
    pub fn notify_feed(&self, head: i64) {
        self.feed_head.send_if_modified(|h| {
            if head > *h {
                *h = head;
                true
            } else {
                false
            }
        });
    }
}
