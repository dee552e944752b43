//! `cargo xtask bench server`: the backend under load, as a separate
//! process on this machine, with real WebSocket clients (release build:
//! `cargo bench` uses the bench profile, which is `release`).
//!
//! Measures (printed as Markdown table rows: database, what, figure, goal,
//! verdict):
//! - delivery: from the start of an agent's send (REST) to the moment the
//!   receiving customer's pull that contains the message has completed,
//!   with N customer sockets and 20 staff sockets connected, messages sent
//!   at a fixed rate; each customer pulls from its cursor when poked (one
//!   pull at a time), staff sockets receive every poke (they do not pull);
//! - a lone send's round trip (nothing else queued);
//! - the highest sustained send rate, closed loop: 32 senders of one
//!   message per request (REST), and 32 senders of 50 messages per push
//!   (`POST /api/v1/sync/push`, clients batching);
//! - a full sync pull of one customer with 50,000 messages;
//! - resident memory per idle WebSocket connection.
//!
//! Usage: `server [--backend sqlite|postgres] [--clients N] [--rate R] [--seconds S]`
//! (PostgreSQL: `MOSTRADOR_TEST_POSTGRES_URL` names an admin URL;
//! `MOSTRADOR_BENCH_SERVER` another server binary to measure).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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

/// Staff sockets connected during the delivery measurement.
const STAFF: usize = 20;
/// Messages per push in the batching closed loop.
const PER_PUSH: usize = 50;

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
    staff_tokens: Vec<String>,
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
    let mut staff_tokens = Vec::with_capacity(STAFF);
    for i in 0..STAFF {
        let id = accounts::insert_user(
            &mut tx,
            &format!("staff{i}@bench.test"),
            &hash,
            "Staff",
            Role::Agent,
            "en",
        )
        .await?;
        let (token, ..) = accounts::create_session(&mut tx, state, id, None).await?;
        staff_tokens.push(token.expose().to_owned());
    }
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
        staff_tokens,
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

    // `MOSTRADOR_BENCH_SERVER` runs another build of the server (a before/after comparison).
    let bin = std::env::var("MOSTRADOR_BENCH_SERVER")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_mostrador-server").to_owned());
    let mut server = tokio::process::Command::new(bin)
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

    // Staff sockets: each receives every poke (fan-out), without pulling.
    let ws_base = base.replace("http://", "ws://");
    let connect = |token: String| {
        let url = format!("{ws_base}/api/v1/live");
        async move {
            let mut req = url.into_client_request()?;
            req.headers_mut()
                .insert("authorization", format!("Bearer {token}").parse()?);
            let (mut ws, _) = tokio_tungstenite::connect_async(req).await?;
            let _hello = ws.next().await;
            anyhow::Ok(ws)
        }
    };
    let staff_pokes = Arc::new(AtomicU64::new(0));
    let mut readers = Vec::new();
    for token in &seeded.staff_tokens {
        let mut ws = connect(token.clone()).await?;
        let pokes = staff_pokes.clone();
        readers.push(tokio::spawn(async move {
            while let Some(Ok(msg)) = ws.next().await {
                if let tokio_tungstenite::tungstenite::Message::Text(t) = msg {
                    if let Ok(LiveServerMessage::Changed { .. }) = serde_json::from_str(&t) {
                        pokes.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }

    // N customer sockets. Poked, a customer pulls from its cursor (one pull
    // at a time: pokes at or below the cursor it reached are skipped), and
    // each message it was waiting for that the pull brings is delivered.
    let pending: Arc<Vec<Mutex<HashMap<Uuid, Instant>>>> =
        Arc::new((0..a.clients).map(|_| Mutex::new(HashMap::new())).collect());
    let samples: Arc<Mutex<Vec<f64>>> = Arc::new(Mutex::new(Vec::new()));
    let customer_pokes = Arc::new(AtomicU64::new(0));
    let pulls = Arc::new(AtomicU64::new(0));
    // Off during the closed loops: they measure the write path alone.
    let pulling = Arc::new(AtomicBool::new(true));
    for (i, (token, _)) in seeded.customers.iter().enumerate() {
        let mut ws = connect(token.clone()).await?;
        let (pending, samples, http, base, token) = (
            pending.clone(),
            samples.clone(),
            http.clone(),
            base.clone(),
            token.clone(),
        );
        let (pokes, pulls, pulling) = (customer_pokes.clone(), pulls.clone(), pulling.clone());
        readers.push(tokio::spawn(async move {
            let mut cursor = 0i64;
            while let Some(Ok(msg)) = ws.next().await {
                let tokio_tungstenite::tungstenite::Message::Text(t) = msg else {
                    continue;
                };
                let Ok(LiveServerMessage::Changed { cursor: poked }) = serde_json::from_str(&t)
                else {
                    continue;
                };
                pokes.fetch_add(1, Ordering::Relaxed);
                if poked <= cursor || !pulling.load(Ordering::Relaxed) {
                    continue;
                }
                loop {
                    let Ok(page) = pull(&http, &base, &token, cursor).await else {
                        break;
                    };
                    pulls.fetch_add(1, Ordering::Relaxed);
                    let done = Instant::now();
                    cursor = page["cursor"].as_i64().unwrap_or(cursor);
                    let mut waiting = pending[i].lock().unwrap();
                    for item in page["items"].as_array().into_iter().flatten() {
                        if item["entity"] != "message" {
                            continue;
                        }
                        let id = item["data"]["id"].as_str().and_then(|s| s.parse().ok());
                        if let Some(sent) = id.and_then(|id: Uuid| waiting.remove(&id)) {
                            samples
                                .lock()
                                .unwrap()
                                .push((done - sent).as_secs_f64() * 1000.0);
                        }
                    }
                    if page["has_more"] != true {
                        break;
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_idle = rss_kb(pid);
    let conns = a.clients + STAFF;
    let per_conn_kb = (rss_idle.saturating_sub(rss_before)) as f64 / conns as f64;

    // The agent sends a message to customer i (REST), recorded as pending.
    let send = |i: usize| {
        let (http, base, token, conv, pending) = (
            http.clone(),
            base.clone(),
            seeded.agent_token.clone(),
            seeded.customers[i].1,
            pending.clone(),
        );
        async move {
            let id = Uuid::new_v4();
            let start = Instant::now();
            pending[i].lock().unwrap().insert(id, start);
            let res = http
                .post(format!("{base}/api/v1/conversations/{conv}/messages"))
                .bearer_auth(&token)
                .json(&serde_json::json!({"id": id, "body": "On its way"}))
                .send()
                .await;
            res.map(|r| r.status().is_success()).unwrap_or(false)
        }
    };

    // A lone send: one at a time, nothing else queued.
    let mut lone = Vec::with_capacity(200);
    for k in 0..200 {
        let t = Instant::now();
        if send(k % a.clients).await {
            lone.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    lone.sort_by(|x, y| x.partial_cmp(y).unwrap());
    tokio::time::sleep(Duration::from_millis(500)).await;
    samples.lock().unwrap().clear();
    let pokes_before = (
        customer_pokes.load(Ordering::Relaxed),
        staff_pokes.load(Ordering::Relaxed),
        pulls.load(Ordering::Relaxed),
    );

    // Open loop: one message every 1/rate s, round-robin over the customers.
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
    let customer_pokes_run = customer_pokes.load(Ordering::Relaxed) - pokes_before.0;
    let staff_pokes_run = staff_pokes.load(Ordering::Relaxed) - pokes_before.1;
    let pulls_run = pulls.load(Ordering::Relaxed) - pokes_before.2;
    pulling.store(false, Ordering::Relaxed);

    // Closed loops: 32 senders as fast as the server answers, one message
    // per request, then 50 per push.
    let closed = |per_request: usize| {
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
                    let mut conv = || {
                        k += 32;
                        customers[k % customers.len()].1
                    };
                    if per_request == 1 {
                        let url = format!("{base}/api/v1/conversations/{}/messages", conv());
                        let ok = http
                            .post(url)
                            .bearer_auth(&token)
                            .json(&serde_json::json!({"id": Uuid::new_v4(), "body": "x"}))
                            .send()
                            .await
                            .map(|r| r.status().is_success())
                            .unwrap_or(false);
                        n += u64::from(ok);
                        continue;
                    }
                    let mutations: Vec<_> = (0..per_request)
                        .map(|_| {
                            serde_json::json!({"client_id": Uuid::new_v4(), "op": "send_message",
                                "args": {"conversation_id": conv(), "id": Uuid::new_v4(), "body": "x"}})
                        })
                        .collect();
                    let Ok(res) = http
                        .post(format!("{base}/api/v1/sync/push"))
                        .bearer_auth(&token)
                        .json(&serde_json::json!({ "mutations": mutations }))
                        .send()
                        .await
                    else {
                        continue;
                    };
                    let Ok(body) = res.json::<serde_json::Value>().await else {
                        continue;
                    };
                    n += body["results"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter(|r| r["outcome"] == "applied")
                        .count() as u64;
                }
                n
            }));
        }
        async move {
            let t = Instant::now();
            let mut sent = 0;
            for s in senders {
                sent += s.await.unwrap_or(0);
            }
            sent as f64 / t.elapsed().as_secs_f64()
        }
    };
    let rate_single = closed(1).await;
    let rate_batched = closed(PER_PUSH).await;

    // Full sync pull of a customer with 50,000 messages.
    let t = Instant::now();
    let (mut since, mut items, mut pages) = (0i64, 0usize, 0);
    loop {
        let page = pull(&http, &base, &seeded.big_token, since).await?;
        items += page["items"].as_array().map_or(0, |v| v.len());
        since = page["cursor"].as_i64().unwrap_or(since);
        pages += 1;
        if page["has_more"] != true {
            break;
        }
    }
    let full_pull = t.elapsed();

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
    let (p50, p99) = (pct(&lat, 0.5), pct(&lat, 0.99));
    let lone_p50 = pct(&lone, 0.5);
    let achieved = total as f64 / open_loop_secs;
    let verdict = |met: bool| if met { "met" } else { "**missed**" };
    let (goal_rate, goal_rate_n) = if b == "sqlite" {
        ("≥ 10,000 msg/s", 10_000.0)
    } else {
        ("≥ 5,000 msg/s", 5_000.0)
    };
    let delivery_goal = if b == "sqlite" { "p99 < 10 ms" } else { "—" };
    let delivery_verdict = if b == "sqlite" {
        verdict(p99 < 10.0 && delivered == total && failed == 0)
    } else {
        "(no goal)"
    };
    println!(
        "| {b} | delivery (send start → the receiver's pull holding it completed), {} customer + {STAFF} staff sockets, {} msg/s offered for {} s | p50 {p50:.1} ms, p99 {p99:.1} ms ({delivered} of {total} delivered, {failed} failed, {achieved:.0} msg/s achieved; customers poked {customer_pokes_run} times and pulled {pulls_run} times, staff sockets poked {staff_pokes_run} times) | {delivery_goal} | {delivery_verdict} |",
        a.clients, a.rate, a.seconds
    );
    println!(
        "| {b} | a lone send's round trip (REST, nothing else queued), 200 sends | p50 {lone_p50:.2} ms, p99 {:.2} ms | — | (before/after) |",
        pct(&lone, 0.99)
    );
    println!("| {b} | sustained sends, 32 concurrent senders, one message per request (clients do not batch), closed loop, receivers poked but not pulling | {rate_single:.0} msg/s | {goal_rate} | {} |", verdict(rate_single >= goal_rate_n));
    println!("| {b} | sustained sends, 32 concurrent senders, {PER_PUSH} messages per push (clients batch), closed loop, receivers poked but not pulling | {rate_batched:.0} msg/s | {goal_rate} | {} |", verdict(rate_batched >= goal_rate_n));
    println!("| {b} | full sync pull, customer with 50,000 messages (pages of 1,000) | {:.2} s for {items} items in {pages} pages | — | — |", full_pull.as_secs_f64());
    println!("| {b} | resident memory per idle WebSocket connection | {per_conn_kb:.1} KB ({rss_before} KB → {rss_idle} KB for {conns} sockets) | < 20 KB | {} |", verdict(per_conn_kb < 20.0));
    Ok(())
}

/// One page of the feed from `since` (pages of 1,000).
async fn pull(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    since: i64,
) -> anyhow::Result<serde_json::Value> {
    Ok(http
        .get(format!("{base}/api/v1/sync?since={since}&limit=1000"))
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}
