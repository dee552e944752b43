//! Command-line interface (`--help` documents every option).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::ServerConfig;

#[derive(Debug, Parser)]
#[command(name = "mostrador-server", version, about = "Mostrador's central support backend")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP and WebSocket server.
    Serve(ServeArgs),
    /// Print the OpenAPI 3.1 document and exit.
    Openapi,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (printed on stdout).
    #[arg(long, env = "MOSTRADOR_BIND", default_value = "127.0.0.1:8787")]
    pub bind: SocketAddr,
    /// `sqlite://PATH` or `postgres://…`. Default: an embedded SQLite file in
    /// the user's data directory (see --data-dir).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Directory for the embedded database and uploads. Default: the
    /// platform's data directory (e.g. ~/.local/share/mostrador-server).
    #[arg(long, env = "MOSTRADOR_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
}

impl ServeArgs {
    pub fn into_config(self) -> anyhow::Result<ServerConfig> {
        let data_dir = match self.data_dir {
            Some(d) => d,
            None => crate::config::default_data_dir()?,
        };
        let database_url = self
            .database_url
            .unwrap_or_else(|| ServerConfig::sqlite_url(&data_dir.join("mostrador.sqlite3")));
        Ok(ServerConfig {
            bind: self.bind,
            database_url,
            data_dir,
        })
    }
}
