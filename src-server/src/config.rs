//! Server configuration, assembled by the CLI or by tests.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

#[derive(Clone)]
pub struct ServerConfig {
    pub bind: SocketAddr,
    /// May hold credentials: never log it, use [`Self::redacted_database_url`].
    pub database_url: String,
    pub data_dir: PathBuf,
    /// How long a session token lives.
    pub token_ttl: Duration,
    /// Shared secret for the shop's signed ingest webhook. `None` turns
    /// ingest off (it answers 503). Never logged.
    pub webhook_secret: Option<String>,
    /// How far a webhook's signed timestamp may be from now, either way:
    /// older (a replay) or newer (a wrong clock) events are refused.
    pub webhook_skew: Duration,
    /// When callbacks can be booked.
    pub hours: crate::hours::BusinessHours,
    /// Where attachment bytes are kept.
    pub upload_dir: PathBuf,
    /// Most open conversations auto-assigned to one agent.
    pub agent_max_open: i64,
    /// Password hashes (Argon2id, ~19 MiB each) that may run at once.
    pub hash_concurrency: usize,
    /// How long a sign-in or registration waits for a hashing turn before
    /// it is answered 503 with `Retry-After`.
    pub hash_wait: Duration,
    /// Registrations accepted from one client address per hour.
    pub register_per_address: usize,
    /// Password-reset and verification-code mails asked for from one client
    /// address per hour.
    pub mail_per_address: usize,
    /// Uploads never attached to a message are deleted (row and file) once
    /// they are this old.
    pub unattached_upload_retention: Duration,
    /// Failed sign-ins from one client address per 15 minutes.
    pub login_per_address: usize,
    /// Header a trusted reverse proxy puts the client's address in (e.g.
    /// `x-forwarded-for`, of which the last entry is used). `None`: the
    /// TCP peer's address. Only set it when a proxy always sets it.
    pub client_ip_header: Option<String>,
    /// Header-read, request and per-address connection limits.
    pub conn_limits: crate::serve::ConnLimits,
    /// How often the change feed is compacted.
    pub feed_prune_every: Duration,
    /// Changes younger than this are never compacted away.
    pub feed_retention: Duration,
    /// SMTP server for outgoing mail, e.g. `smtps://user:pass@host` or
    /// `smtp://host:2525` (lettre's URL form). `None`: mail is written into
    /// `<data dir>/mailbox/` instead. May hold credentials: never logged.
    pub smtp_url: Option<String>,
    /// The sender of outgoing mail.
    pub mail_from: String,
    /// Secret the shop signs shopper identities with (JWT, HS256; see
    /// `routes::identity`). `None`: `POST /api/v1/auth/identity` answers
    /// 503. Never logged.
    pub identity_secret: Option<String>,
    /// The built web app served at `/app/` (see `web`). `None`: not served.
    pub web_dir: Option<PathBuf>,
    /// Shop sites allowed to frame the web app (`frame-ancestors`), as
    /// checked origins (`web::parse_origin`).
    pub shop_origins: Vec<String>,
    /// Serve the demo shop page at `/demo/shop` (needs `identity_secret`).
    pub demo_shop: bool,
}

/// Default sender of outgoing mail.
pub const DEFAULT_MAIL_FROM: &str = "Mostrador <no-reply@mostrador.invalid>";

/// Default per-agent limit for auto-assignment.
pub const DEFAULT_AGENT_MAX_OPEN: i64 = 8;

/// Default registrations per client address per hour.
pub const DEFAULT_REGISTER_PER_ADDRESS: usize = 20;

/// Default reset and verification mails asked for per client address per hour.
pub const DEFAULT_MAIL_PER_ADDRESS: usize = 10;

/// Default age at which uploads never attached to a message are deleted:
/// long, because an app uploads a file before the message naming it is
/// pushed, and an app that went offline (or whose session ended) keeps
/// that message for later; the per-person quota bounds what waits.
pub const DEFAULT_UNATTACHED_UPLOAD_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);

/// Default failed sign-ins per client address per 15 minutes.
pub const DEFAULT_LOGIN_PER_ADDRESS: usize = 20;

/// Default allowed distance between a webhook's signed time and now.
pub const DEFAULT_WEBHOOK_SKEW: Duration = Duration::from_secs(300);

/// Default session lifetime: 30 days.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

impl ServerConfig {
    /// A config for an embedded SQLite database inside `data_dir`, listening
    /// on an ephemeral loopback port (what tests and the demo use).
    pub fn for_data_dir(data_dir: &Path) -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: Self::sqlite_url(&data_dir.join("mostrador.sqlite3")),
            data_dir: data_dir.to_path_buf(),
            token_ttl: DEFAULT_TOKEN_TTL,
            webhook_secret: None,
            webhook_skew: DEFAULT_WEBHOOK_SKEW,
            hours: crate::hours::BusinessHours::new(
                "Europe/Madrid",
                "09:00-18:00",
                "mon-fri",
                30,
                2,
            )
            .expect("valid default hours"),
            upload_dir: data_dir.join("uploads"),
            agent_max_open: DEFAULT_AGENT_MAX_OPEN,
            hash_concurrency: crate::password::DEFAULT_HASH_CONCURRENCY,
            hash_wait: crate::password::DEFAULT_HASH_WAIT,
            register_per_address: DEFAULT_REGISTER_PER_ADDRESS,
            mail_per_address: DEFAULT_MAIL_PER_ADDRESS,
            unattached_upload_retention: DEFAULT_UNATTACHED_UPLOAD_RETENTION,
            login_per_address: DEFAULT_LOGIN_PER_ADDRESS,
            client_ip_header: None,
            conn_limits: crate::serve::ConnLimits::default(),
            feed_prune_every: Duration::from_secs(3600),
            feed_retention: Duration::from_secs(30 * 24 * 3600),
            smtp_url: None,
            mail_from: DEFAULT_MAIL_FROM.to_owned(),
            identity_secret: None,
            web_dir: None,
            shop_origins: Vec::new(),
            demo_shop: false,
        }
    }

    pub fn sqlite_url(path: &Path) -> String {
        format!("sqlite://{}?mode=rwc", path.display())
    }

    /// The database URL with any password replaced by `***`.
    pub fn redacted_database_url(&self) -> String {
        redact_url(&self.database_url)
    }
}

impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerConfig")
            .field("bind", &self.bind)
            .field("database_url", &self.redacted_database_url())
            .field("data_dir", &self.data_dir)
            .field("token_ttl", &self.token_ttl)
            .field("agent_max_open", &self.agent_max_open)
            .field(
                "webhook_secret",
                &self.webhook_secret.as_ref().map(|_| "***"),
            )
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field(
                "identity_secret",
                &self.identity_secret.as_ref().map(|_| "***"),
            )
            .field("web_dir", &self.web_dir)
            .field("shop_origins", &self.shop_origins)
            .finish()
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}{path}")
        }
        None => url.to_owned(),
    }
}

pub fn default_data_dir() -> anyhow::Result<PathBuf> {
    directories::ProjectDirs::from("app", "Mostrador", "mostrador-server")
        .map(|d| d.data_dir().to_path_buf())
        .context("no home directory to keep the database in; pass --data-dir or --database-url")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_in_urls() {
        assert_eq!(
            redact_url("postgres://app:hunter2@db.internal:5432/mostrador"),
            "postgres://app:***@db.internal:5432/mostrador"
        );
        assert_eq!(redact_url("sqlite:///tmp/x.db"), "sqlite:///tmp/x.db");
        let cfg = ServerConfig {
            database_url: "postgres://a:topsecret@h/db".into(),
            identity_secret: Some("shop-signing-secret".into()),
            ..ServerConfig::for_data_dir(Path::new("/tmp"))
        };
        assert!(!format!("{cfg:?}").contains("topsecret"));
        assert!(!format!("{cfg:?}").contains("shop-signing-secret"));
    }
}
