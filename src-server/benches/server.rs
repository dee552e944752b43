//! `cargo xtask bench server`: the backend under load, as a separate
//! process on this machine, with real WebSocket clients.
//!
//! Measures (printed as Markdown table rows):
//! - message send → live delivery latency, p50/p99, with N connected
//!   WebSocket clients while messages are sent at a fixed rate;
//! - the highest sustained send rate (closed loop, 32 senders);
//! - a full sync pull of one customer with 50,000 messages;
//! - resident memory per idle WebSocket connection.
//!
//! Usage: `server [--backend sqlite|postgres] [--clients N] [--rate R] [--seconds S]`
//! (PostgreSQL: `MOSTRADOR_TEST_POSTGRES_URL` names an admin URL).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use mostrador_core::auth::Role;
use mostrador_core::chat::{MessageKind, OpenConversation, SendMessage};
use mostrador_core::live::LiveServerMessage;
use mostrador_server::auth::Actor;
use mostrador_server::routes::{accounts, chat};
use mostrador_server::{AppState, ServerConfig};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use uuid::Uuid;

struct Args {
    backend: String,
    clients: usize,
    rate: u64,
    seconds: u64,
}

fn args() -> Args {
    let mut a = Args {
        backend: "sqlite".into(),
        clients: 1000,
        rate: 1000,
        seconds: 10,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let v = argv.get(i + 1).cloned().unwrap_or_default();
        match argv[i].as_str() {
            "--backend" => a.backend = v,
            "--clients" => a.clients = v.parse().expect("--clients N"),
            "--rate" => a.rate = v.parse().expect("--rate R"),
            "--seconds" => a.seconds = v.parse().expect("--seconds S"),
            _ => {
                i += 1;
                continue; // cargo bench adds --bench
            }
        }
        i += 2;
    }
    a
}

fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

struct Seeded {
    agent_token: String,
    customers: Vec<(String, Uuid)>,
    big_token: String,
}

async fn seed(state: &AppState, clients: usize) -> anyhow::Result<Seeded> {
    let hash = mostrador_server::auth::hash_password("bench password 1".into()).await?;
    let mut tx = state.db.begin_write().await?;
    let agent_id = accounts::insert_user(
        &mut tx,
        "agent@bench.test",
        &hash,
        "Agent",
        Role::Agent,
        "en",
    )
    .await?;
    let (agent_token, ..) = accounts::create_session(&mut tx, state, agent_id, None).await?;
    let mut customers = Vec::with_capacity(clients);
    for i in 0..clients {
        let id = accounts::insert_user(
            &mut tx,
            &format!("c{i}@bench.test"),
            &hash,
            "Customer",
            Role::Customer,
            "en",
        )
        .await?;
        let (token, ..) = accounts::create_session(&mut tx, state, id, None).await?;
        let actor = Actor {
            user_id: id,
            role: Role::Customer,
            session_id: Uuid::nil(),
            display_name: "Customer".into(),
        };
        let conv = Uuid::new_v4();
        chat::open(
            &mut tx,
            &actor,
            &OpenConversation {
                id: conv,
                order_id: None,
                subject: "Bench".into(),
                message_id: Uuid::new_v4(),
                body: "hello".into(),
            },
            &chat::Assignment::default(),
        )
        .await?;
        customers.push((token.expose().to_owned(), conv));
    }
    let big_id = accounts::insert_user(
        &mut tx,
        "big@bench.test",
        &hash,
        "Big",
        Role::Customer,
        "en",
    )
    .await?;
    let (big_token, ..) = accounts::create_session(&mut tx, state, big_id, None).await?;
    tx.commit().await?;
    let big = Actor {
        user_id: big_id,
        role: Role::Customer,
        session_id: Uuid::nil(),
        display_name: "Big".into(),
    };
    let conv = Uuid::new_v4();
    let mut tx = state.db.begin_write().await?;
    chat::open(
        &mut tx,
        &big,
        &OpenConversation {
            id: conv,
            order_id: None,
            subject: "History".into(),
            message_id: Uuid::new_v4(),
            body: "0".into(),
        },
        &chat::Assignment::default(),
    )
    .await?;
    for i in 1..50_000 {
        chat::send(
            &mut tx,
            &big,
            conv,
            &SendMessage {
                id: Uuid::new_v4(),
                body: format!("message {i} with some ordinary text in it"),
                kind: MessageKind::Text,
                attachment_ids: vec![],
            },
        )
        .await?;
        if i % 5000 == 0 {
            tx.commit().await?;
            tx = state.db.begin_write().await?;
        }
    }
    tx.commit().await?;
    Ok(Seeded {
        agent_token: agent_token.expose().to_owned(),
        customers,
        big_token: big_token.expose().to_owned(),
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = args();
    let dir = tempfile::tempdir()?;
    let mut config = ServerConfig::for_data_dir(dir.path());
    let mut pg = None;
    if a.backend == "postgres" {
        let admin = std::env::var("MOSTRADOR_TEST_POSTGRES_URL")?;
        let name = format!("mostrador_bench_{}", Uuid::new_v4().simple());
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin).await?;
        sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str()).await?;
        config.database_url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
        pg = Some((admin, name));
    }
    let t = Instant::now();
    let db = mostrador_server::db::Db::connect(&config.database_url).await?;
    let state = AppState::new(db, config.clone());
    let seeded = seed(&state, a.clients).await?;
    state.db.pool().close().await;
    eprintln!(
        "bench: seeded {} customers and 50,000 messages in {:.1?}",
        a.clients,
        t.elapsed()
    );

    let mut server = tokio::process::Command::new(env!("CARGO_BIN_EXE_mostrador-server"))
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            &config.database_url,
            // Every bench client comes from this one address.
            "--connections-per-address",
            "100000",
        ])
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let base = loop {
        let line = lines.next_line().await?.expect("server listening line");
        if let Some(u) = line.strip_prefix("mostrador-server listening on ") {
            break u.to_owned();
        }
    };
    let pid = server.id().unwrap();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    http.get(format!("{base}/healthz")).send().await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rss_before = rss_kb(pid);

    // N idle WebSocket clients, each waiting for pokes about its own conversation.
    let pending: Arc<Vec<Mutex<VecDeque<Instant>>>> = Arc::new(
        (0..a.clients)
            .map(|_| Mutex::new(VecDeque::new()))
            .collect(),
    );
    let samples: Arc<Mutex<Vec<f64>>> = Arc::new(Mutex::new(Vec::new()));
    let ws_base = base.replace("http://", "ws://");
    let mut readers = Vec::new();
    for (i, (token, _)) in seeded.customers.iter().enumerate() {
        let mut req = format!("{ws_base}/api/v1/live").into_client_request()?;
        req.headers_mut()
            .insert("authorization", format!("Bearer {token}").parse()?);
        let (mut ws, _) = tokio_tungstenite::connect_async(req).await?;
        let _hello = ws.next().await;
        let (pending, samples) = (pending.clone(), samples.clone());
        readers.push(tokio::spawn(async move {
            while let Some(Ok(msg)) = ws.next().await {
                if let tokio_tungstenite::tungstenite::Message::Text(t) = msg {
                    if let Ok(LiveServerMessage::Changed { .. }) = serde_json::from_str(&t) {
                        // A send makes two pokes (message and conversation); count the first.
                        if let Some(sent) = pending[i].lock().unwrap().pop_front() {
                            samples
                                .lock()
                                .unwrap()
                                .push(sent.elapsed().as_secs_f64() * 1000.0);
                        }
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_idle = rss_kb(pid);
    let per_conn_kb = (rss_idle.saturating_sub(rss_before)) as f64 / a.clients as f64;

    // Open loop: one message every 1/rate s, round-robin over the customers.
    let send = |i: usize| {
        let (http, base, token, conv, pending) = (
            http.clone(),
            base.clone(),
            seeded.agent_token.clone(),
            seeded.customers[i].1,
            pending.clone(),
        );
        async move {
            let start = Instant::now();
            pending[i].lock().unwrap().push_back(start);
            let res = http
                .post(format!("{base}/api/v1/conversations/{conv}/messages"))
                .bearer_auth(&token)
                .json(&serde_json::json!({"id": Uuid::new_v4(), "body": "On its way"}))
                .send()
                .await;
            res.map(|r| r.status().is_success()).unwrap_or(false)
        }
    };
    let total = (a.rate * a.seconds) as usize;
    let mut tick = tokio::time::interval(Duration::from_nanos(1_000_000_000 / a.rate));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for k in 0..total {
        tick.tick().await;
        tasks.push(tokio::spawn(send(k % a.clients)));
    }
    let mut failed = 0;
    for t in tasks {
        if !t.await.unwrap_or(false) {
            failed += 1;
        }
    }
    let open_loop_secs = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut lat = samples.lock().unwrap().clone();
    lat.sort_by(|x, y| x.partial_cmp(y).unwrap());
    let delivered = lat.len();

    // Closed loop: 32 senders as fast as the server answers.
    let stop = Instant::now() + Duration::from_secs(a.seconds.min(10));
    let mut senders = Vec::new();
    for w in 0..32 {
        let (http, base, token, customers) = (
            http.clone(),
            base.clone(),
            seeded.agent_token.clone(),
            seeded.customers.clone(),
        );
        senders.push(tokio::spawn(async move {
            let mut n = 0u64;
            let mut k = w;
            while Instant::now() < stop {
                let conv = customers[k % customers.len()].1;
                let ok = http
                    .post(format!("{base}/api/v1/conversations/{conv}/messages"))
                    .bearer_auth(&token)
                    .json(&serde_json::json!({"id": Uuid::new_v4(), "body": "x"}))
                    .send()
                    .await
                    .map(|r| r.status().is_success())
                    .unwrap_or(false);
                n += u64::from(ok);
                k += 32;
            }
            n
        }));
    }
    let closed_started = Instant::now();
    let mut sent = 0;
    for s in senders {
        sent += s.await.unwrap_or(0);
    }
    let max_rate = sent as f64 / closed_started.elapsed().as_secs_f64();

    // Full sync pull of a customer with 50,000 messages.
    let t = Instant::now();
    let (mut since, mut items, mut pages) = (0i64, 0usize, 0);
    loop {
        let page: serde_json::Value = http
            .get(format!("{base}/api/v1/sync?since={since}&limit=1000"))
            .bearer_auth(&seeded.big_token)
            .send()
            .await?
            .json()
            .await?;
        items += page["items"].as_array().map_or(0, |v| v.len());
        since = page["cursor"].as_i64().unwrap_or(since);
        pages += 1;
        if page["has_more"] != true {
            break;
        }
    }
    let pull = t.elapsed();

    for r in readers {
        r.abort();
    }
    let _ = server.kill().await;
    if let Some((admin, name)) = pg {
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin).await?;
        let _ = sqlx::Executor::execute(
            &mut conn,
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str(),
        )
        .await;
    }

    let b = &a.backend;
    println!(
        "| {b} | send → live delivery, {} WebSocket clients, {} msg/s offered for {} s | p50 {:.1} ms, p99 {:.1} ms ({} of {} delivered, {} failed, {:.0} msg/s achieved) |",
        a.clients, a.rate, a.seconds, pct(&lat, 0.5), pct(&lat, 0.99), delivered, total, failed, total as f64 / open_loop_secs
    );
    println!("| {b} | sustained sends, 32 concurrent senders, closed loop | {max_rate:.0} msg/s |");
    println!("| {b} | full sync pull, customer with 50,000 messages (pages of 1,000) | {:.2} s for {items} items in {pages} pages |", pull.as_secs_f64());
    println!("| {b} | resident memory per idle WebSocket connection | {per_conn_kb:.1} KB ({} KB → {} KB for {} clients) |", rss_before, rss_idle, a.clients);
    Ok(())
}
