//! The engine under faults: a client process killed between the server's
//! apply and the client's acknowledgement, and a soak of 10,000 random
//! operations from several devices through a fault-injecting proxy.

use std::collections::{BTreeSet, HashMap};

use mostrador_client::{ClientConfig, Engine};
use mostrador_core::auth::{LoginRequest, RegisterRequest, Token};
use mostrador_core::chat::{Message, MessageKind, OpenConversation, SendMessage};
use mostrador_core::sync::MutationOp;
use tokio::io::{AsyncBufReadExt, BufReader};
use uuid::Uuid;

mod support;
use support::proxy::{Mode, Proxy};
use support::server::{free_port, Server};

async fn register(url: &str, email: &str) -> Token {
    let api = mostrador_client::ApiClient::new(&ClientConfig::new(url)).unwrap();
    api.register(&RegisterRequest {
        email: email.into(),
        password: "correct horse battery".into(),
        display_name: email.split('@').next().unwrap().into(),
        language: None,
        device_name: None,
    })
    .await
    .unwrap()
    .token
}

/// The ids of the messages in the conversations of the customer who
/// registered `customer_email` (verified or not: a new registration only
/// claims its address until it is verified).
async fn server_messages(server: &Server, customer_email: &str) -> BTreeSet<String> {
    sqlx::query_scalar::<_, String>(
        "SELECT m.id FROM messages m JOIN conversations c ON c.id = m.conversation_id
         JOIN users u ON u.id = c.customer_id
         WHERE u.email = $1 OR u.pending_email = $1",
    )
    .bind(customer_email)
    .fetch_all(server.state.db.pool())
    .await
    .unwrap()
    .into_iter()
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_killed_after_the_server_applied_resends_and_lands_once() {
    let probe = support::example("outbox_probe");
    assert!(
        probe.exists(),
        "{} is built by `cargo test`",
        probe.display()
    );
    let server_dir = tempfile::tempdir().unwrap();
    let app_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start(server_dir.path(), port).await;
    let proxy = Proxy::start(port).await;
    let token = register(&format!("http://127.0.0.1:{port}"), "kim@example.com").await;
    proxy.set(Mode::Swallow);

    let store = app_dir.path().join("store.sqlite3");
    let conv = Uuid::new_v4();
    let mut child = tokio::process::Command::new(&probe)
        .arg(format!("http://127.0.0.1:{}", proxy.port))
        .arg(&store)
        .arg(conv.to_string())
        .env("MOSTRADOR_TOKEN", token.expose())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("queued"));
    // The server applies the push; its answer never reaches the client.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while server_messages(&server, "kim@example.com").await.is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the push never reached the server"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    child.kill().await.unwrap(); // SIGKILL, before the acknowledgement is stored
    child.wait().await.unwrap();

    // Restart: the outbox still holds the write; resending it is harmless.
    proxy.set(Mode::Pass);
    let app = Engine::open(
        &ClientConfig::new(format!("http://127.0.0.1:{}", proxy.port)),
        &store,
    )
    .await
    .unwrap();
    app.api().set_token(Some(token));
    assert_eq!(
        app.outbox().await.unwrap().len(),
        1,
        "the write survived the kill"
    );
    app.retry_now().await.unwrap();
    assert_eq!(app.push_pending().await.unwrap().applied, 1);
    assert!(app.outbox().await.unwrap().is_empty());
    assert_eq!(
        server_messages(&server, "kim@example.com").await.len(),
        1,
        "exactly one copy on the server"
    );
    server.stop().await;
}

/// A tiny deterministic generator (the soak is reproducible).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_ten_thousand_operations_through_faults_lose_and_duplicate_nothing() {
    const OPS: usize = 10_000;
    let server_dir = tempfile::tempdir().unwrap();
    let app_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start(server_dir.path(), port).await;
    let proxy = Proxy::start(port).await;
    let url = format!("http://127.0.0.1:{}", proxy.port);
    let customers = ["ann@example.com", "ben@example.com", "cat@example.com"];
    for c in customers {
        register(&format!("http://127.0.0.1:{port}"), c).await;
    }
    // Two devices per customer.
    let mut devices = Vec::new();
    for (i, c) in customers.iter().enumerate() {
        for d in 0..2 {
            let app = Engine::open(
                &ClientConfig::new(&url),
                &app_dir.path().join(format!("{i}-{d}.sqlite3")),
            )
            .await
            .unwrap();
            app.login(&LoginRequest {
                email: (*c).into(),
                password: "correct horse battery".into(),
                device_name: None,
            })
            .await
            .unwrap();
            devices.push((i, app, Vec::<Uuid>::new()));
        }
    }
    proxy.set(Mode::Chaos);
    let mut sent: HashMap<usize, BTreeSet<String>> = HashMap::new();
    let mut rng = Rng(0x5eed_cafe_f00d_d00d);
    let (mut pushes, mut pulls, mut failures) = (0, 0, 0);
    for _ in 0..OPS {
        let d = rng.below(devices.len() as u64) as usize;
        let (customer, app, convs) = &mut devices[d];
        match rng.below(100) {
            0..=9 => {
                let conv = Uuid::new_v4();
                let msg = Uuid::new_v4();
                app.enqueue(MutationOp::OpenConversation(OpenConversation {
                    id: conv,
                    order_id: None,
                    subject: "Soak".into(),
                    message_id: msg,
                    body: "first".into(),
                }))
                .await
                .unwrap();
                convs.push(conv);
                sent.entry(*customer).or_default().insert(msg.to_string());
            }
            10..=79 if !convs.is_empty() => {
                let conv = convs[rng.below(convs.len() as u64) as usize];
                let msg = Uuid::new_v4();
                app.enqueue(MutationOp::SendMessage {
                    conversation_id: conv,
                    message: SendMessage {
                        id: msg,
                        body: "soak".into(),
                        kind: MessageKind::Text,
                        attachment_ids: vec![],
                    },
                })
                .await
                .unwrap();
                sent.entry(*customer).or_default().insert(msg.to_string());
            }
            80..=91 => {
                pushes += 1;
                app.retry_now().await.unwrap();
                failures += usize::from(app.push_pending().await.is_err());
            }
            _ => {
                pulls += 1;
                failures += usize::from(app.pull().await.is_err());
            }
        }
    }
    assert!(
        proxy.faults.load(std::sync::atomic::Ordering::Relaxed) > 0 && failures > 0,
        "faults were injected and felt"
    );

    // The network heals; every device drains its outbox and catches up.
    proxy.set(Mode::Pass);
    for (_, app, _) in &devices {
        for _ in 0..20 {
            app.retry_now().await.unwrap();
            if app.push_pending().await.is_ok() && app.outbox().await.unwrap().is_empty() {
                break;
            }
        }
        let left = app.outbox().await.unwrap();
        assert!(
            left.is_empty(),
            "undelivered or refused writes: {:?}",
            left.iter().map(|i| &i.wedged).collect::<Vec<_>>()
        );
    }
    for (_, app, _) in &devices {
        app.pull().await.unwrap();
    }
    for (i, c) in customers.iter().enumerate() {
        let on_server = server_messages(&server, c).await;
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id JOIN users u ON u.id = c.customer_id WHERE u.email = $1 OR u.pending_email = $1",
        )
        .bind(*c)
        .fetch_one(server.state.db.pool())
        .await
        .unwrap();
        assert_eq!(count as usize, on_server.len(), "no duplicates");
        assert_eq!(
            on_server, sent[&i],
            "{c}: every write landed, none invented"
        );
        for (owner, app, _) in &devices {
            if *owner != i {
                continue;
            }
            let cached: BTreeSet<String> = app
                .store()
                .list::<Message>(None)
                .await
                .unwrap()
                .into_iter()
                .map(|m| m.id.to_string())
                .collect();
            assert_eq!(
                cached, on_server,
                "{c}: the device's store equals the server's view"
            );
        }
    }
    eprintln!("soak: {OPS} ops, {pushes} pushes, {pulls} pulls, {failures} failed calls, {} injected faults", proxy.faults.load(std::sync::atomic::Ordering::Relaxed));
    server.stop().await;
}
