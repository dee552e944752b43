//! Proving an email address before the shop's orders for it are shown, and
//! the password flows that mail makes possible (change, reset), on both
//! engines. Mail goes to an SMTP sink started by the test, or (default, as
//! in the demo) into the mailbox folder.

mod common;

use std::sync::{Arc, Mutex};

use common::{mail_code, order_event, Backend, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// A tiny SMTP server that accepts everything and keeps each message's
/// recipients and text.
#[derive(Clone, Default)]
struct Sink {
    mails: Arc<Mutex<Vec<(String, String)>>>,
}

impl Sink {
    /// Starts on a free loopback port; returns its `smtp://` URL.
    async fn start(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mails = self.mails.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let mails = mails.clone();
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut lines = BufReader::new(read).lines();
                    write.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                    let mut to = String::new();
                    while let Ok(Some(line)) = lines.next_line().await {
                        let upper = line.to_ascii_uppercase();
                        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO")
                        {
                            b"250 sink\r\n"
                        } else if upper.starts_with("RCPT TO:") {
                            to = line[8..].trim().trim_matches(['<', '>']).to_owned();
                            b"250 OK\r\n"
                        } else if upper.starts_with("DATA") {
                            write.write_all(b"354 go on\r\n").await.unwrap();
                            let mut text = String::new();
                            while let Ok(Some(l)) = lines.next_line().await {
                                if l == "." {
                                    break;
                                }
                                text.push_str(&l);
                                text.push('\n');
                            }
                            mails.lock().unwrap().push((to.clone(), text));
                            b"250 queued\r\n"
                        } else if upper.starts_with("QUIT") {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            return;
                        } else {
                            b"250 OK\r\n"
                        };
                        if write.write_all(reply).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        format!("smtp://127.0.0.1:{port}")
    }

    fn to(&self, email: &str) -> Vec<String> {
        self.mails
            .lock()
            .unwrap()
            .iter()
            .filter(|(to, _)| to == email)
            .map(|(_, text)| text.clone())
            .collect()
    }
}

async fn register(s: &TestServer, email: &str, password: &str) -> (StatusCode, serde_json::Value) {
    s.post(
        "/api/v1/auth/register",
        None,
        json!({"email": email, "password": password, "display_name": "Someone"}),
    )
    .await
}

async fn order_count(s: &TestServer, token: &str) -> usize {
    let (st, orders) = s.get("/api/v1/orders", token).await;
    assert_eq!(st, StatusCode::OK, "{orders}");
    orders.as_array().map_or(0, Vec::len)
}

async fn orders_wait_for_a_verified_address_and_the_owner_is_never_blocked(backend: Backend) {
    let sink = Sink::default();
    let url = sink.start().await;
    let s = TestServer::start_with(backend, |c| c.smtp_url = Some(url)).await;
    let owner = "owner@example.com";
    s.ingest(&order_event("e1", "MS-1", owner, "2026-11-01T10:00:00Z"))
        .await;

    // Someone else registers the owner's address: an account that may chat,
    // but sees none of the owner's orders, now or later.
    let (st, squatter) = register(&s, owner, "squatter password 1").await;
    assert_eq!(st, StatusCode::CREATED, "{squatter}");
    assert_eq!(squatter["user"]["email_verified"], json!(false));
    let squatter_token = squatter["token"].as_str().unwrap().to_owned();
    assert_eq!(order_count(&s, &squatter_token).await, 0);
    s.ingest(&order_event("e2", "MS-2", owner, "2026-11-02T10:00:00Z"))
        .await;
    assert_eq!(order_count(&s, &squatter_token).await, 0);
    let (st, v) = s
        .post(
            "/api/v1/auth/verify-email",
            Some(&squatter_token),
            json!({"code": "AAAAAAAAAA"}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "a guess fails: {v}");
    assert_eq!(v["details"]["fields"]["code"], "invalid");

    // The real owner registers too, and is answered exactly the same way.
    let (st, mine) = register(&s, owner, "owner password 12").await;
    assert_eq!(st, StatusCode::CREATED, "the owner is not blocked: {mine}");
    let keys = |v: &serde_json::Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&mine), keys(&squatter));
    let mine_token = mine["token"].as_str().unwrap().to_owned();
    let mails = sink.to(owner);
    assert_eq!(mails.len(), 2, "one code per registration, to the address");
    let squatter_code = mail_code(&mails[0]).expect("a code in the first mail");
    let my_code = mail_code(&mails[1]).expect("a code in the second mail");
    // Codes are kept only hashed.
    let stored: Vec<String> = sqlx::query_scalar("SELECT code_hash FROM email_codes")
        .fetch_all(s.state.db.pool())
        .await
        .unwrap();
    assert!(stored
        .iter()
        .all(|h| !h.contains(&my_code) && !h.contains(&squatter_code)));

    let (st, me) = s
        .post(
            "/api/v1/auth/verify-email",
            Some(&mine_token),
            json!({"code": my_code}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{me}");
    assert_eq!(me["email_verified"], json!(true));
    assert_eq!(me["email"], owner);
    assert_eq!(
        order_count(&s, &mine_token).await,
        2,
        "both orders, after proof"
    );
    s.ingest(&order_event("e3", "MS-3", owner, "2026-11-03T10:00:00Z"))
        .await;
    assert_eq!(order_count(&s, &mine_token).await, 3, "later ones too");
    assert_eq!(order_count(&s, &squatter_token).await, 0);

    // The other claim can never take the address, even with its own code.
    let (st, v) = s
        .post(
            "/api/v1/auth/verify-email",
            Some(&squatter_token),
            json!({"code": squatter_code}),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert_eq!(order_count(&s, &squatter_token).await, 0);

    // A code works once.
    let (st, _) = s
        .post(
            "/api/v1/auth/verify-email",
            Some(&mine_token),
            json!({"code": my_code}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "already verified: nothing to do");

    // Registering a verified address again: the same answer, and the owner
    // is told by mail (no code, the new account gets nothing).
    let (st, again) = register(&s, owner, "another password 1").await;
    assert_eq!(st, StatusCode::CREATED, "{again}");
    assert_eq!(keys(&again), keys(&squatter));
    let mails = sink.to(owner);
    assert_eq!(mails.len(), 3);
    assert!(mail_code(&mails[2]).is_none());
    assert!(mails[2].contains("already have an account"), "{}", mails[2]);
    assert_eq!(order_count(&s, again["token"].as_str().unwrap()).await, 0);

    // Signing in with the address reaches the verified account.
    let (st, v) = s
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": owner, "password": "owner password 12"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(order_count(&s, v["token"].as_str().unwrap()).await, 3);
    s.finish().await;
}

async fn login(s: &TestServer, email: &str, password: &str) -> Option<String> {
    let (st, v) = s
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": email, "password": password}),
        )
        .await;
    (st == StatusCode::OK).then(|| v["token"].as_str().unwrap().to_owned())
}

async fn signed_in(s: &TestServer, token: &str) -> bool {
    s.get("/api/v1/me", token).await.0 == StatusCode::OK
}

async fn password_change_and_reset_end_other_sessions(backend: Backend) {
    // No SMTP configured: mail lands in <data dir>/mailbox/.
    let s = TestServer::start(backend).await;
    let email = "rosa@example.com";
    let (here, _) = s.customer(email).await;
    let there = login(&s, email, "correct horse battery").await.unwrap();
    assert!(signed_in(&s, &there).await, "signed in on the other device");

    // Change: the current password is required; other devices are signed out.
    let (st, v) = s
        .call(
            Method::PUT,
            "/api/v1/me/password",
            Some(&here),
            Some(
                json!({"current_password": "wrong password 1", "new_password": "a new password 1"}),
            ),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["details"]["fields"]["current_password"], "wrong");
    let (st, v) = s
        .call(
            Method::PUT,
            "/api/v1/me/password",
            Some(&here),
            Some(json!({"current_password": "correct horse battery", "new_password": "a new password 1"})),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{v}");
    assert!(signed_in(&s, &here).await, "this device stays signed in");
    assert!(
        !signed_in(&s, &there).await,
        "the other device is signed out"
    );
    assert!(login(&s, email, "correct horse battery").await.is_none());
    let there = login(&s, email, "a new password 1").await.unwrap();
    assert!(signed_in(&s, &there).await);

    // Reset by email: the same answer for unknown addresses; the code is
    // single use; using it signs out everywhere.
    let before = s.mailbox().len();
    let (st, _) = s
        .post(
            "/api/v1/auth/password-reset",
            None,
            json!({"email": "nobody@example.com"}),
        )
        .await;
    assert_eq!(st, StatusCode::ACCEPTED);
    assert_eq!(s.mailbox().len(), before, "no mail for an unknown address");
    let (st, _) = s
        .post("/api/v1/auth/password-reset", None, json!({"email": email}))
        .await;
    assert_eq!(st, StatusCode::ACCEPTED);
    assert_eq!(s.mailbox().len(), before + 1);
    let code = s.mailed_code(email).unwrap();
    #[cfg(unix)]
    {
        // Mail holds codes: only the server's user may read it.
        use std::os::unix::fs::PermissionsExt;
        let dir = mostrador_server::mail::mailbox_dir(&s.state.config);
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "mailbox folder mode {mode:o}");
        for f in std::fs::read_dir(&dir).unwrap() {
            let mode = f.unwrap().metadata().unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "mail file mode {mode:o}");
        }
    }
    let confirm = |code: String, password: &'static str| {
        s.post(
            "/api/v1/auth/password-reset/confirm",
            None,
            json!({"email": email, "code": code, "new_password": password}),
        )
    };
    let (st, v) = confirm("AAAAAAAAAA".into(), "reset password 1").await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(login(&s, email, "reset password 1").await.is_none());
    let (st, v) = confirm(code.clone(), "reset password 1").await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{v}");
    assert!(!signed_in(&s, &here).await, "every session ends");
    assert!(!signed_in(&s, &there).await);
    let (st, _) = confirm(code, "reset password 2").await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "a code works once");
    assert!(login(&s, email, "reset password 1").await.is_some());
    assert!(login(&s, email, "a new password 1").await.is_none());
    s.finish().await;
}

async fn a_reset_code_dies_after_a_few_wrong_guesses(backend: Backend) {
    let s = TestServer::start(backend).await;
    let email = "teo@example.com";
    s.customer(email).await;
    s.post("/api/v1/auth/password-reset", None, json!({"email": email}))
        .await;
    let code = s.mailed_code(email).unwrap();
    for _ in 0..mostrador_server::routes::credentials::MAX_ATTEMPTS {
        let (st, _) = s
            .post(
                "/api/v1/auth/password-reset/confirm",
                None,
                json!({"email": email, "code": "BBBBBBBBBB", "new_password": "reset password 1"}),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let (st, _) = s
        .post(
            "/api/v1/auth/password-reset/confirm",
            None,
            json!({"email": email, "code": code, "new_password": "reset password 1"}),
        )
        .await;
    assert_eq!(
        st,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the right code came too late"
    );
    s.finish().await;
}

on_both_backends!(
    orders_wait_for_a_verified_address_and_the_owner_is_never_blocked,
    password_change_and_reset_end_other_sessions,
    a_reset_code_dies_after_a_few_wrong_guesses,
);
