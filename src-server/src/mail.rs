//! Outgoing email: verification and password-reset codes, notices.
//!
//! With an SMTP server configured (`--smtp-url`, through `lettre` on tokio
//! with rustls) mail goes there; without one (the demo, tests) each message
//! is written as an `.eml` file into `<data dir>/mailbox/`, so nothing
//! leaves the machine and a developer can read it.
//!
//! **Invariant:** message bodies carry one-time codes: they are never
//! logged, and neither is the SMTP URL (it may hold a password).

use std::path::PathBuf;

use anyhow::Context;
use lettre::message::{header::ContentType, Mailbox};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::ServerConfig;

/// The mailbox folder used when no SMTP server is configured.
pub fn mailbox_dir(config: &ServerConfig) -> PathBuf {
    config.data_dir.join("mailbox")
}

/// Sends one plain-text message to `to`. Errors are for the caller to log
/// (without the body).
pub async fn send(
    config: &ServerConfig,
    to: &str,
    subject: &str,
    body: &str,
) -> anyhow::Result<()> {
    let from: Mailbox = config
        .mail_from
        .parse()
        .context("--mail-from is not an email address")?;
    let to: Mailbox = to.parse().context("recipient is not an email address")?;
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(body.to_owned())
        .context("building the message")?;
    match &config.smtp_url {
        Some(url) => {
            let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                .map_err(|e| anyhow::anyhow!("the SMTP URL is not usable: {e}"))?
                .build();
            transport
                .send(message)
                .await
                .map_err(|e| anyhow::anyhow!("the SMTP server refused the message: {e}"))?;
        }
        None => {
            let dir = mailbox_dir(config);
            let name = format!("{}.eml", uuid::Uuid::now_v7());
            let path = dir.join(&name);
            let bytes = message.formatted();
            tokio::task::spawn_blocking(move || write_private(&dir, &path, &bytes))
                .await?
                .with_context(|| format!("writing {name} into the mailbox folder"))?;
        }
    }
    Ok(())
}

/// Writes one mail readable by the server's user only (the folder 0700,
/// the file 0600 on Unix): mail holds one-time codes.
fn write_private(
    dir: &std::path::Path,
    path: &std::path::Path,
    bytes: &[u8],
) -> std::io::Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        open.mode(0o600);
    }
    open.open(path)?.write_all(bytes)
}

/// Sends, logging a failure (never the body): mail is best effort, the
/// user can ask for another code.
pub async fn send_logged(config: &ServerConfig, to: &str, subject: &str, body: &str) {
    if let Err(err) = send(config, to, subject, body).await {
        tracing::warn!(error = %format!("{err:#}"), "could not send an email");
    }
}
