//! Command-line interface (`--help` documents every option).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::ServerConfig;

/// Shortest `--identity-secret` accepted, in bytes (256 bits for HS256).
pub const MIN_IDENTITY_SECRET_BYTES: usize = 32;

#[derive(Debug, Parser)]
#[command(
    name = "mostrador-server",
    version,
    about = "Mostrador's central support backend"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once
pub enum Command {
    /// Run the HTTP and WebSocket server.
    Serve(ServeArgs),
    /// Fill the database with the demo data set (does nothing if present).
    SeedDemo(DbArgs),
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
    /// Lifetime of a session token, in hours.
    #[arg(long, env = "MOSTRADOR_TOKEN_TTL_HOURS", default_value_t = 24 * 30)]
    pub token_ttl_hours: u64,
    /// Shared secret the shop signs ingest webhooks with (HMAC-SHA256 over
    /// `<timestamp>.<raw body>`, headers `X-Mostrador-Timestamp: <Unix
    /// seconds>` and `X-Mostrador-Signature: sha256=<hex>`). Without it,
    /// `POST /api/v1/integrations/orders` answers 503.
    #[arg(long, env = "MOSTRADOR_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<String>,
    /// Seconds a webhook's signed timestamp may be away from the server's
    /// clock, either way; events signed earlier (replays) or later are
    /// refused with 401.
    #[arg(long, env = "MOSTRADOR_WEBHOOK_SKEW_SECONDS", default_value_t = crate::config::DEFAULT_WEBHOOK_SKEW.as_secs())]
    pub webhook_skew_seconds: u64,
    /// IANA time zone of the business hours.
    #[arg(long, env = "MOSTRADOR_BUSINESS_TZ", default_value = "Europe/Madrid")]
    pub business_tz: String,
    /// Opening hours for callbacks, local to --business-tz.
    #[arg(long, env = "MOSTRADOR_BUSINESS_HOURS", default_value = "09:00-18:00")]
    pub business_hours: String,
    /// Business days, e.g. `mon-fri` or `mon,tue,thu`.
    #[arg(long, env = "MOSTRADOR_BUSINESS_DAYS", default_value = "mon-fri")]
    pub business_days: String,
    /// Length of one callback slot, in minutes.
    #[arg(long, env = "MOSTRADOR_SLOT_MINUTES", default_value_t = 30)]
    pub slot_minutes: u32,
    /// Callbacks that can share one slot (agents on the phones).
    #[arg(long, env = "MOSTRADOR_SLOT_CAPACITY", default_value_t = 2)]
    pub slot_capacity: u32,
    /// How far ahead a callback can be booked, in days: a requested window
    /// ending later is refused (422 `too_far_ahead`).
    #[arg(long, env = "MOSTRADOR_CALLBACK_HORIZON_DAYS", default_value_t = crate::hours::DEFAULT_HORIZON_DAYS)]
    pub callback_horizon_days: u32,
    /// Upcoming callbacks one customer may hold at once (then 409
    /// `too_many_upcoming`).
    #[arg(long, env = "MOSTRADOR_CALLBACKS_PER_CUSTOMER", default_value_t = crate::hours::DEFAULT_UPCOMING_PER_CUSTOMER)]
    pub callbacks_per_customer: i64,
    /// Upcoming callbacks to one phone number, across customers (then 409
    /// `phone_limit`).
    #[arg(long, env = "MOSTRADOR_CALLBACKS_PER_PHONE", default_value_t = crate::hours::DEFAULT_UPCOMING_PER_PHONE)]
    pub callbacks_per_phone: i64,
    /// Where attachments are stored (default: <data dir>/uploads).
    #[arg(long, env = "MOSTRADOR_UPLOAD_DIR")]
    pub upload_dir: Option<PathBuf>,
    /// Most open conversations auto-assigned to one available agent.
    #[arg(long, env = "MOSTRADOR_AGENT_MAX_OPEN", default_value_t = crate::config::DEFAULT_AGENT_MAX_OPEN)]
    pub agent_max_open: i64,
    /// Password hashes that may run at once (each Argon2id hash holds about
    /// 19 MiB); more sign-ins and registrations wait for a turn.
    #[arg(long, env = "MOSTRADOR_HASH_CONCURRENCY", default_value_t = crate::auth::DEFAULT_HASH_CONCURRENCY)]
    pub hash_concurrency: usize,
    /// Seconds a sign-in or registration waits for a hashing turn before it
    /// is answered 503 with Retry-After.
    #[arg(long, env = "MOSTRADOR_HASH_WAIT_SECONDS", default_value_t = crate::auth::DEFAULT_HASH_WAIT.as_secs())]
    pub hash_wait_seconds: u64,
    /// Registrations accepted from one client address per hour (then 429).
    #[arg(long, env = "MOSTRADOR_REGISTER_PER_ADDRESS", default_value_t = crate::config::DEFAULT_REGISTER_PER_ADDRESS)]
    pub register_per_address: usize,
    /// Password-reset and verification-code emails asked for from one
    /// client address per hour (then 429), whatever the accounts.
    #[arg(long, env = "MOSTRADOR_MAIL_PER_ADDRESS", default_value_t = crate::config::DEFAULT_MAIL_PER_ADDRESS)]
    pub mail_per_address: usize,
    /// Hours an upload may stay unattached to any message before it is
    /// deleted (row and file).
    #[arg(long, env = "MOSTRADOR_UNATTACHED_UPLOAD_HOURS", default_value_t = crate::config::DEFAULT_UNATTACHED_UPLOAD_RETENTION.as_secs() / 3600)]
    pub unattached_upload_hours: u64,
    /// Failed sign-ins from one client address per 15 minutes (then 429).
    #[arg(long, env = "MOSTRADOR_LOGIN_PER_ADDRESS", default_value_t = crate::config::DEFAULT_LOGIN_PER_ADDRESS)]
    pub login_per_address: usize,
    /// Header a trusted reverse proxy sets to the client's address, e.g.
    /// `x-forwarded-for` (its last entry is used). Only set this when every
    /// request comes through that proxy; otherwise clients could choose
    /// their own address. Default: the TCP peer's address.
    #[arg(long, env = "MOSTRADOR_CLIENT_IP_HEADER")]
    pub client_ip_header: Option<String>,
    /// Seconds a client has to send a complete request head; also how long
    /// an idle connection stays open.
    #[arg(long, env = "MOSTRADOR_HEADER_TIMEOUT_SECONDS", default_value_t = 10)]
    pub header_timeout_seconds: u64,
    /// Seconds a request may take before it is answered 503.
    #[arg(long, env = "MOSTRADOR_REQUEST_TIMEOUT_SECONDS", default_value_t = 60)]
    pub request_timeout_seconds: u64,
    /// Open connections allowed from one client address.
    #[arg(long, env = "MOSTRADOR_CONNECTIONS_PER_ADDRESS", default_value_t = 64)]
    pub connections_per_address: usize,
    /// Days of change history kept for devices that sync incrementally;
    /// older superseded changes are compacted hourly (a device offline
    /// longer resyncs from scratch).
    #[arg(long, env = "MOSTRADOR_FEED_RETENTION_DAYS", default_value_t = 30)]
    pub feed_retention_days: u64,
    /// SMTP server for verification and password-reset mail, e.g.
    /// `smtps://user:password@mail.example.com` or `smtp://127.0.0.1:2525`
    /// (plain, for a local relay). Without it each message is written as an
    /// .eml file into <data dir>/mailbox/ (the demo's setting).
    #[arg(long, env = "MOSTRADOR_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// Sender address of outgoing mail.
    #[arg(long, env = "MOSTRADOR_MAIL_FROM", default_value = crate::config::DEFAULT_MAIL_FROM)]
    pub mail_from: String,
    /// Secret the shop signs shopper identities with: a JWT (HS256) with
    /// the claims `email`, `exp` (at most 24 h ahead) and `jti` (each used
    /// once), optionally `name`, `sub`, `iat`. The web app exchanges it at
    /// `POST /api/v1/auth/identity`; without this option that answers 503.
    #[arg(long, env = "MOSTRADOR_IDENTITY_SECRET", hide_env_values = true)]
    pub identity_secret: Option<String>,
    /// Directory of the built web app (`src-ui/dist-web`), served at
    /// `/app/` with a strict Content-Security-Policy; `/widget.js` is
    /// served either way.
    #[arg(long, env = "MOSTRADOR_WEB_DIR")]
    pub web_dir: Option<PathBuf>,
    /// A shop site allowed to show the web app in a frame (the widget), e.g.
    /// `https://shop.example.com`. Repeat for several sites; `*.` in the
    /// host allows subdomains.
    #[arg(
        long = "shop-origin",
        env = "MOSTRADOR_SHOP_ORIGINS",
        value_delimiter = ','
    )]
    pub shop_origins: Vec<String>,
    /// Serve a sample shop page with the widget at `/demo/shop`, signed in
    /// as the demo shopper (needs --identity-secret and the demo data).
    #[arg(long, env = "MOSTRADOR_DEMO_SHOP")]
    pub demo_shop: bool,
}

#[derive(Debug, Args)]
pub struct DbArgs {
    /// `sqlite://PATH` or `postgres://…` (default: the embedded SQLite file).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Directory of the embedded database (see `serve --help`).
    #[arg(long, env = "MOSTRADOR_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
}

impl DbArgs {
    pub fn database_url(self) -> anyhow::Result<String> {
        match self.database_url {
            Some(u) => Ok(u),
            None => {
                let dir = match self.data_dir {
                    Some(d) => d,
                    None => crate::config::default_data_dir()?,
                };
                Ok(ServerConfig::sqlite_url(&dir.join("mostrador.sqlite3")))
            }
        }
    }
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
        let upload_dir = self.upload_dir.unwrap_or_else(|| data_dir.join("uploads"));
        anyhow::ensure!(
            self.agent_max_open >= 1,
            "--agent-max-open must be at least 1"
        );
        anyhow::ensure!(
            self.hash_concurrency >= 1,
            "--hash-concurrency must be at least 1"
        );
        let shop_origins = self
            .shop_origins
            .iter()
            .filter(|o| !o.trim().is_empty())
            .map(|o| crate::web::parse_origin(o))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let identity_secret = self.identity_secret.filter(|s| !s.is_empty());
        // RFC 7518 §3.2: an HS256 key of at least 256 bits. Every shopper
        // holds an identity signed with it, so a short, guessable secret
        // can be found offline and used to sign in as any customer.
        anyhow::ensure!(
            identity_secret
                .as_ref()
                .is_none_or(|s| s.len() >= MIN_IDENTITY_SECRET_BYTES),
            "--identity-secret must be at least {MIN_IDENTITY_SECRET_BYTES} bytes: every shopper sees an identity signed with it, and a shorter secret can be guessed from one (make one with `openssl rand -hex 32`)"
        );
        anyhow::ensure!(
            !self.demo_shop || identity_secret.is_some(),
            "--demo-shop signs the demo shopper's identity: give --identity-secret too"
        );
        Ok(ServerConfig {
            identity_secret,
            web_dir: self.web_dir,
            shop_origins,
            demo_shop: self.demo_shop,
            hash_concurrency: self.hash_concurrency,
            feed_prune_every: std::time::Duration::from_secs(3600),
            feed_retention: std::time::Duration::from_secs(self.feed_retention_days * 24 * 3600),
            conn_limits: crate::serve::ConnLimits {
                header_read: std::time::Duration::from_secs(self.header_timeout_seconds.max(1)),
                request: std::time::Duration::from_secs(self.request_timeout_seconds.max(1)),
                per_address: self.connections_per_address.max(1),
            },
            hash_wait: std::time::Duration::from_secs(self.hash_wait_seconds),
            register_per_address: self.register_per_address.max(1),
            mail_per_address: self.mail_per_address.max(1),
            unattached_upload_retention: std::time::Duration::from_secs(
                self.unattached_upload_hours.max(1) * 3600,
            ),
            login_per_address: self.login_per_address.max(1),
            client_ip_header: self
                .client_ip_header
                .map(|h| h.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty()),
            smtp_url: self.smtp_url.filter(|u| !u.is_empty()),
            mail_from: self.mail_from,
            upload_dir,
            agent_max_open: self.agent_max_open,
            bind: self.bind,
            database_url,
            data_dir,
            token_ttl: std::time::Duration::from_secs(self.token_ttl_hours.max(1) * 3600),
            webhook_secret: self.webhook_secret.filter(|s| !s.is_empty()),
            webhook_skew: std::time::Duration::from_secs(self.webhook_skew_seconds.max(1)),
            hours: crate::hours::BusinessHours {
                horizon: jiff::SignedDuration::from_hours(
                    24 * i64::from(self.callback_horizon_days.max(1)),
                ),
                max_upcoming_per_customer: self.callbacks_per_customer.max(1),
                max_upcoming_per_phone: self.callbacks_per_phone.max(1),
                ..crate::hours::BusinessHours::new(
                    &self.business_tz,
                    &self.business_hours,
                    &self.business_days,
                    self.slot_minutes,
                    self.slot_capacity,
                )?
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve(extra: &[&str]) -> anyhow::Result<ServerConfig> {
        let dir = std::env::temp_dir().join("mostrador-cli-test");
        let mut args = vec![
            "mostrador-server",
            "serve",
            "--data-dir",
            dir.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let Command::Serve(serve) = Cli::try_parse_from(args)?.command else {
            unreachable!()
        };
        serve.into_config()
    }

    #[test]
    fn an_identity_secret_is_long_enough_to_resist_guessing() {
        let err = serve(&["--identity-secret", "shop-secret-2024"]).unwrap_err();
        assert!(err.to_string().contains("at least 32 bytes"), "{err}");
        let strong = "0123456789abcdef0123456789abcdef";
        let config = serve(&["--identity-secret", strong]).unwrap();
        assert_eq!(config.identity_secret.as_deref(), Some(strong));
    }
}
