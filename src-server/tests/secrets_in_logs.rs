//! Secrets never reach the log, at any level: with every event recorded
//! (TRACE, the server's, tower-http's and sqlx's), a session's bearer token,
//! a shop-signed identity (accepted, replayed, forged), the shop's secret
//! and a live ticket (used through the WebSocket URL's query string) do not
//! appear in what was written.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use common::{Backend, TestServer};
use mostrador_server::routes::identity::sign;
use reqwest::StatusCode;
use serde_json::json;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const SECRET: &str = "secrets-in-logs-identity-secret-0123456789";

/// Everything every test of this file logged.
fn log() -> Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = buf.clone();
        tracing_subscriber::fmt()
            // All of it but this test's own WebSocket client, which logs
            // the request it sends.
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "trace,tungstenite::handshake::client=off",
            ))
            .with_ansi(false)
            .with_writer(move || Sink(sink.clone()))
            .init();
        buf
    })
    .clone()
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn nothing_secret_is_logged(backend: Backend) {
    let log = log();
    let s = TestServer::start_with(backend, |c| c.identity_secret = Some(SECRET.into())).await;
    let now = jiff::Timestamp::now().as_second();
    let email = format!("{backend:?}-logs@example.com").to_lowercase();
    let claims =
        json!({"email": email, "exp": now + 600, "iat": now, "jti": format!("{backend:?}-jti-1")});
    let identity = sign(SECRET.as_bytes(), &claims);
    let (st, v) = s
        .post("/api/v1/auth/identity", None, json!({"identity": identity}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let token = v["token"].as_str().unwrap().to_owned();
    // Replayed, and forged with another secret.
    let (st, _) = s
        .post("/api/v1/auth/identity", None, json!({"identity": identity}))
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let forged = sign(b"not-the-shop-secret-but-long-enough-0123", &claims);
    let (st, _) = s
        .post("/api/v1/auth/identity", None, json!({"identity": forged}))
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    // The token on an authorized call.
    let (st, _) = s.post("/api/v1/live/ticket", Some(&token), json!({})).await;
    assert_eq!(st, StatusCode::OK);
    // A ticket used in the WebSocket URL, and used again (refused).
    let (st, v) = s.post("/api/v1/live/ticket", Some(&token), json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let ticket = v["ticket"].as_str().unwrap().to_owned();
    let url = format!(
        "{}/api/v1/live?ticket={ticket}",
        s.base.replace("http://", "ws://")
    );
    let (ws, _) = tokio_tungstenite::connect_async(url.clone().into_client_request().unwrap())
        .await
        .expect("the ticket opens the socket");
    drop(ws);
    assert!(
        tokio_tungstenite::connect_async(url.into_client_request().unwrap())
            .await
            .is_err()
    );
    s.finish().await;

    let written = String::from_utf8_lossy(&log.lock().unwrap()).into_owned();
    assert!(
        written.contains("/api/v1/auth/identity") && written.contains("/api/v1/live"),
        "the requests were logged (the check is not vacuous)"
    );
    let (head, rest) = identity.split_once('.').unwrap();
    let signature = rest.rsplit_once('.').unwrap().1;
    for (what, secret) in [
        ("bearer token", token.as_str()),
        ("identity claims", rest.split_once('.').unwrap().0),
        ("identity signature", signature),
        ("forged identity", forged.rsplit_once('.').unwrap().1),
        ("shop secret", SECRET),
        ("live ticket", ticket.as_str()),
    ] {
        if let Some(line) = written.lines().find(|l| l.contains(secret)) {
            panic!("the {what} was logged: {line}");
        }
    }
    let _ = head;
}

on_both_backends!(nothing_secret_is_logged);
