//! The state every handler shares.

use std::sync::Arc;

use crate::config::ServerConfig;
use crate::db::Db;

#[derive(Debug, Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<ServerConfig>,
}

impl AppState {
    pub fn new(db: Db, config: ServerConfig) -> Self {
        Self {
            db,
            config: Arc::new(config),
        }
    }
}
