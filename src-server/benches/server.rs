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
//! - resident memory per idle WebSocket connection;
//! - SQL statements per send and per pull (counted in-process);
//! - the floor this machine allows: the same closed loop against a server
//!   answering a constant, the same delivery run against a server that
//!   keeps messages in memory (the same sockets, pokes and pulls, no
//!   database), one INSERT per call through sqlx, and the set-wise write
//!   path alone (in-process, runs of 1,000 sends, on the bench's database
//!   once the server has stopped).
//!
//! Usage: `server [--backend sqlite|postgres] [--clients N] [--rate R] [--seconds S] [--counts]`
//! (`--counts`: only the statement counts)
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
    /// Only the statement counts (a quick before/after check).
    counts: bool,
    /// Only the delivery run, its legs and the lone sends (a quick
    /// before/after check of the delivery goal).
    delivery_only: bool,
}

fn args() -> Args {
    let mut a = Args {
        backend: "sqlite".into(),
        clients: 1000,
        rate: 1000,
        seconds: 10,
        counts: false,
        delivery_only: false,
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
            "--counts" => {
                a.counts = true;
                i += 1;
                continue;
            }
            "--delivery-only" => {
                a.delivery_only = true;
                i += 1;
                continue;
            }
            _ => {
                i += 1;
                continue; // cargo bench adds --bench
            }
        }
        i += 2;
    }
    a
}

/// CPU time the process has used (user + system, every thread), in ms.
fn cpu_ms(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces): utime and
    // stime are the 12th and 13th, in clock ticks (100 per second here).
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse().ok())
        .collect();
    f.iter().sum::<u64>() as f64 * 10.0
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
    /// Each customer's user id, in `customers`' order.
    customer_ids: Vec<Uuid>,
    big_token: String,
}

async fn seed(state: &AppState, clients: usize, history: usize) -> anyhow::Result<Seeded> {
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
    let mut customer_ids = Vec::with_capacity(clients);
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
        customer_ids.push(id);
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
    for i in 1..history {
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
        customer_ids,
        big_token: big_token.expose().to_owned(),
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::args().any(|a| a == "--floor-server") {
        return floor_server().await;
    }
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
    let seeded = seed(&state, a.clients, if a.counts { 1 } else { 50_000 }).await?;
    let counts = count_statements(&state, &seeded).await?;
    if a.counts {
        println!(
            "| {} | SQL statements per write and per pull | {counts} | — | — |",
            a.backend
        );
        return Ok(());
    }
    state.db.close().await;
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

    let customer_tokens: Vec<String> = seeded.customers.iter().map(|(t, _)| t.clone()).collect();
    let convs: Vec<Uuid> = seeded.customers.iter().map(|(_, c)| *c).collect();
    let live = Live::connect(&http, &base, &customer_tokens, &seeded.staff_tokens).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_idle = rss_kb(pid);
    let conns = a.clients + STAFF;
    let per_conn_kb = (rss_idle.saturating_sub(rss_before)) as f64 / conns as f64;

    // A lone send: one at a time, nothing else queued.
    let mut lone = Vec::with_capacity(200);
    for k in 0..200 {
        let t = Instant::now();
        let i = k % a.clients;
        if live
            .send(&http, &base, &seeded.agent_token, i, convs[i])
            .await
        {
            lone.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    lone.sort_by(|x, y| x.partial_cmp(y).unwrap());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let cpu_before = cpu_ms(pid);
    let delivery = live
        .open_loop(&http, &base, &seeded.agent_token, &convs, a.rate, a.seconds)
        .await;
    let delivery_cpu = (cpu_ms(pid) - cpu_before) / delivery.delivered().max(1) as f64;
    live.pulling.store(false, Ordering::Relaxed);
    if a.delivery_only {
        let d = &delivery;
        println!(
            "| {} | delivery at {} msg/s, {} customer + {STAFF} staff sockets | {} | legs {} | server CPU {delivery_cpu:.3} ms per message | lone send p50 {:.2} / p99 {:.2} ms |",
            a.backend,
            a.rate,
            a.clients,
            d.summary(),
            d.legs(),
            pct(&lone, 0.5),
            pct(&lone, 0.99)
        );
        return Ok(());
    }

    // Closed loops: 32 senders as fast as the server answers, one message
    // per request, then 50 per push.
    let closed = |per_request: usize, base: &str| {
        let stop = Instant::now() + Duration::from_secs(a.seconds.min(10));
        let mut senders = Vec::new();
        for w in 0..32 {
            let (http, base, token, customers) = (
                http.clone(),
                base.to_owned(),
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
    let rate_single = closed(1, &base).await;
    let rate_batched = closed(PER_PUSH, &base).await;

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

    drop(live);
    let _ = server.kill().await;

    // The floor on this machine: the same closed loop of sends against a
    // server process that answers every request with a constant (HTTP,
    // JSON and the client alone), and one statement per call through sqlx
    // on one connection (what a database call costs here).
    let mut floor = tokio::process::Command::new(std::env::current_exe()?)
        .arg("--floor-server")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let mut floor_lines = BufReader::new(floor.stdout.take().unwrap()).lines();
    let floor_base = floor_lines
        .next_line()
        .await?
        .and_then(|l| l.strip_prefix("floor listening on ").map(str::to_owned))
        .expect("floor server listening line");
    let floor_http = closed(1, &floor_base).await;
    // The delivery run against it: the same sockets, pulls and sends, each
    // customer's conversation named by its token, the server keeping each
    // conversation's messages in memory.
    let floor_names: Vec<String> = convs.iter().map(Uuid::to_string).collect();
    let floor_staff: Vec<String> = (0..STAFF).map(|k| format!("staff-{k}")).collect();
    let floor_live = Live::connect(&http, &floor_base, &floor_names, &floor_staff).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let floor_delivery = floor_live
        .open_loop(&http, &floor_base, "agent", &convs, a.rate, a.seconds)
        .await;
    drop(floor_live);
    let _ = floor.kill().await;
    let floor_db = if a.backend == "sqlite" {
        calls_per_second(&format!(
            "sqlite://{}/floor.db?mode=rwc",
            dir.path().display()
        ))
        .await?
    } else {
        calls_per_second(&config.database_url).await?
    };
    let write_path = write_path_alone(&config.database_url, &seeded).await?;
    if let Some((admin, name)) = pg {
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin).await?;
        let _ = sqlx::Executor::execute(
            &mut conn,
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str(),
        )
        .await;
    }

    let b = &a.backend;
    println!("| {b} | database calls per write and per pull (sqlx's query log, in-process, same requests as below; a call is one statement, or a write's statements joined by db::Together; BEGIN, COMMIT and pool pings are not logged) | {counts} | — | (before/after) |");
    let lone_p50 = pct(&lone, 0.5);
    let verdict = |met: bool| if met { "met" } else { "**missed**" };
    let (goal_rate, goal_rate_n) = if b == "sqlite" {
        ("≥ 10,000 msg/s", 10_000.0)
    } else {
        ("≥ 5,000 msg/s", 5_000.0)
    };
    let delivery_goal = if b == "sqlite" { "p99 < 10 ms" } else { "—" };
    let d = &delivery;
    let delivery_verdict = if b == "sqlite" {
        verdict(d.p99() < 10.0 && d.delivered() == d.total && d.failed == 0)
    } else {
        "(no goal)"
    };
    println!(
        "| {b} | delivery (send start → the receiver's pull holding it completed), {} customer + {STAFF} staff sockets, {} msg/s offered for {} s | {} | {delivery_goal} | {delivery_verdict} |",
        a.clients, a.rate, a.seconds, d.summary()
    );
    println!(
        "| {b} | delivery's legs in the same run, p50 / p99: the send's REST round trip; send start → the poke that started the receiver's pull arrived; that pull's round trip | {} | — | where the time goes |",
        d.legs()
    );
    let f = &floor_delivery;
    println!(
        "| {b} | floor: the same delivery run against a server process keeping each conversation's messages in memory (axum, the same WebSocket pokes and pull answers, no database, no authentication) | {}; legs {} | — | what HTTP, WebSocket and this client allow here |",
        f.summary(),
        f.legs()
    );
    println!(
        "| {b} | a lone send's round trip (REST, nothing else queued), 200 sends | p50 {lone_p50:.2} ms, p99 {:.2} ms | — | (before/after) |",
        pct(&lone, 0.99)
    );
    println!("| {b} | sustained sends, 32 concurrent senders, one message per request (clients do not batch), closed loop, receivers poked but not pulling | {rate_single:.0} msg/s | {goal_rate} | {} |", verdict(rate_single >= goal_rate_n));
    println!("| {b} | sustained sends, 32 concurrent senders, {PER_PUSH} messages per push (clients batch), closed loop, receivers poked but not pulling | {rate_batched:.0} msg/s | {goal_rate} | {} |", verdict(rate_batched >= goal_rate_n));
    println!("| {b} | floor: the same 32-sender loop against a server process answering every request with a constant (axum, no database) | {floor_http:.0} req/s | — | what HTTP alone allows here |");
    println!("| {b} | floor: one INSERT per call through sqlx on one connection, 64 per transaction | {floor_db:.0} calls/s | — | what a database call costs here |");
    println!("| {b} | floor: the set-wise write path alone (`routes::chat::batch::run`, in-process after the run, on the bench's database): runs of {WRITE_PATH_RUN} sends into {WRITE_PATH_RUN} conversations, each run one write transaction as the writer runs it, no HTTP, no authentication, no pokes | {write_path:.0} msg/s | — | what the database work of a send allows here |");
    println!("| {b} | full sync pull, customer with 50,000 messages (pages of 1,000) | {:.2} s for {items} items in {pages} pages | — | — |", full_pull.as_secs_f64());
    println!("| {b} | resident memory per idle WebSocket connection | {per_conn_kb:.1} KB ({rss_before} KB → {rss_idle} KB for {conns} sockets) | < 20 KB | {} |", verdict(per_conn_kb < 20.0));
    Ok(())
}

/// Sends a set-wise run of the writer holds at most.
const WRITE_PATH_RUN: usize = mostrador_server::routes::chat::batch::MAX_SENDS;

/// The set-wise write path alone, in-process on `url` (the server
/// stopped): 10 runs of [`WRITE_PATH_RUN`] REST sends from as many
/// customers, each run through `batch::run` inside its own write
/// transaction (begin, the run, the feed head, commit: what the writer
/// does), in msg/s.
async fn write_path_alone(url: &str, seeded: &Seeded) -> anyhow::Result<f64> {
    use mostrador_server::routes::chat::batch::{self, SendWrite};
    let db = mostrador_server::db::Db::connect(url).await?;
    let runs = 10;
    let n = seeded.customers.len();
    let mut took = Duration::ZERO;
    for r in 0..runs {
        let writes: Vec<SendWrite> = (0..WRITE_PATH_RUN)
            .map(|k| {
                let i = (r * WRITE_PATH_RUN + k) % n;
                let actor = Actor {
                    user_id: seeded.customer_ids[i],
                    role: Role::Customer,
                    session_id: Uuid::nil(),
                    display_name: "Customer".into(),
                };
                let req = SendMessage {
                    id: Uuid::new_v4(),
                    body: format!("run {r} send {k}"),
                    kind: MessageKind::Text,
                    attachment_ids: vec![],
                };
                SendWrite::rest(&actor, seeded.customers[i].1, &req).expect("a plain send")
            })
            .collect();
        let refs: Vec<&SendWrite> = writes.iter().collect();
        let t = Instant::now();
        let mut tx = db.begin_write().await?;
        let answers = batch::run(&mut tx, &refs)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        anyhow::ensure!(
            answers.is_some_and(|a| a.len() == WRITE_PATH_RUN),
            "the run went set-wise"
        );
        let _head = sqlx::query_scalar::<_, i64>("SELECT seq FROM feed_counter WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        took += t.elapsed();
    }
    db.close().await;
    Ok((runs * WRITE_PATH_RUN) as f64 / took.as_secs_f64())
}

/// Connected live sockets and what they saw. Poked, a customer pulls from
/// its cursor (one pull at a time: pokes at or below the cursor it reached
/// are skipped), and each message it was waiting for that the pull brings
/// is delivered; staff sockets receive every poke (the fan-out) without
/// pulling.
struct Live {
    readers: Vec<tokio::task::JoinHandle<()>>,
    /// Per customer: the messages sent to it and not yet pulled, with
    /// when their send started.
    pending: Arc<Vec<Mutex<HashMap<Uuid, Instant>>>>,
    /// Per delivered message: (send start → pull done, send start → the
    /// poke that started its pull arrived, the pull's own round trip), ms.
    samples: Arc<Mutex<Vec<(f64, f64, f64)>>>,
    send_rtt: Arc<Mutex<Vec<f64>>>,
    customer_pokes: Arc<AtomicU64>,
    staff_pokes: Arc<AtomicU64>,
    pulls: Arc<AtomicU64>,
    /// Off during the closed loops: they measure the write path alone.
    pulling: Arc<AtomicBool>,
}

impl Drop for Live {
    fn drop(&mut self) {
        for r in &self.readers {
            r.abort();
        }
    }
}

/// One delivery run's figures ([`Live::open_loop`]), sorted.
struct Delivery {
    lat: Vec<f64>,
    to_poke: Vec<f64>,
    pull_rtt: Vec<f64>,
    send_rtt: Vec<f64>,
    total: usize,
    failed: usize,
    achieved: f64,
    customer_pokes: u64,
    staff_pokes: u64,
    pulls: u64,
}

impl Delivery {
    fn p99(&self) -> f64 {
        pct(&self.lat, 0.99)
    }

    fn delivered(&self) -> usize {
        self.lat.len()
    }

    fn summary(&self) -> String {
        format!(
            "p50 {:.1} ms, p99 {:.1} ms ({} of {} delivered, {} failed, {:.0} msg/s achieved; customers poked {} times and pulled {} times, staff sockets poked {} times)",
            pct(&self.lat, 0.5),
            self.p99(),
            self.delivered(),
            self.total,
            self.failed,
            self.achieved,
            self.customer_pokes,
            self.pulls,
            self.staff_pokes
        )
    }

    /// p50 / p99 of the send's round trip; send start → poke; the pull.
    fn legs(&self) -> String {
        let l = |v: &[f64]| format!("{:.1} / {:.1} ms", pct(v, 0.5), pct(v, 0.99));
        format!(
            "{}; {}; {}",
            l(&self.send_rtt),
            l(&self.to_poke),
            l(&self.pull_rtt)
        )
    }
}

impl Live {
    /// Opens one socket per customer token (in order) and per staff token.
    async fn connect(
        http: &reqwest::Client,
        base: &str,
        customers: &[String],
        staff: &[String],
    ) -> anyhow::Result<Live> {
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
        let mut live = Live {
            readers: Vec::new(),
            pending: Arc::new(
                (0..customers.len())
                    .map(|_| Mutex::new(HashMap::new()))
                    .collect(),
            ),
            samples: Arc::default(),
            send_rtt: Arc::default(),
            customer_pokes: Arc::default(),
            staff_pokes: Arc::default(),
            pulls: Arc::default(),
            pulling: Arc::new(AtomicBool::new(true)),
        };
        for token in staff {
            let mut ws = connect(token.clone()).await?;
            let pokes = live.staff_pokes.clone();
            live.readers.push(tokio::spawn(async move {
                while let Some(Ok(msg)) = ws.next().await {
                    if let tokio_tungstenite::tungstenite::Message::Text(t) = msg {
                        if let Ok(LiveServerMessage::Changed { .. }) = serde_json::from_str(&t) {
                            pokes.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }));
        }
        for (i, token) in customers.iter().enumerate() {
            let mut ws = connect(token.clone()).await?;
            let (pending, samples, http, base, token) = (
                live.pending.clone(),
                live.samples.clone(),
                http.clone(),
                base.to_owned(),
                token.clone(),
            );
            let (pokes, pulls, pulling) = (
                live.customer_pokes.clone(),
                live.pulls.clone(),
                live.pulling.clone(),
            );
            live.readers.push(tokio::spawn(async move {
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
                    let poked_at = Instant::now();
                    if poked <= cursor || !pulling.load(Ordering::Relaxed) {
                        continue;
                    }
                    loop {
                        let pull_start = Instant::now();
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
                                let ms = |d: Duration| d.as_secs_f64() * 1000.0;
                                samples.lock().unwrap().push((
                                    ms(done - sent),
                                    ms(poked_at.saturating_duration_since(sent)),
                                    ms(done - pull_start),
                                ));
                            }
                        }
                        if page["has_more"] != true {
                            break;
                        }
                    }
                }
            }));
        }
        Ok(live)
    }

    /// The agent (`token`) sends a message to customer `i` in conversation
    /// `conv` (REST), recorded as pending; whether it was accepted.
    fn send(
        &self,
        http: &reqwest::Client,
        base: &str,
        token: &str,
        i: usize,
        conv: Uuid,
    ) -> impl std::future::Future<Output = bool> + Send + 'static {
        let (http, base, token, pending, send_rtt) = (
            http.clone(),
            base.to_owned(),
            token.to_owned(),
            self.pending.clone(),
            self.send_rtt.clone(),
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
            send_rtt
                .lock()
                .unwrap()
                .push(start.elapsed().as_secs_f64() * 1000.0);
            res.map(|r| r.status().is_success()).unwrap_or(false)
        }
    }

    /// Open loop: one message every 1/`rate` s for `seconds`, round-robin
    /// over the customers (conversation `convs[i]` is customer `i`'s).
    async fn open_loop(
        &self,
        http: &reqwest::Client,
        base: &str,
        token: &str,
        convs: &[Uuid],
        rate: u64,
        seconds: u64,
    ) -> Delivery {
        self.samples.lock().unwrap().clear();
        self.send_rtt.lock().unwrap().clear();
        let before = (
            self.customer_pokes.load(Ordering::Relaxed),
            self.staff_pokes.load(Ordering::Relaxed),
            self.pulls.load(Ordering::Relaxed),
        );
        let total = (rate * seconds) as usize;
        let mut tick = tokio::time::interval(Duration::from_nanos(1_000_000_000 / rate));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let started = Instant::now();
        let mut tasks = Vec::with_capacity(total);
        for k in 0..total {
            tick.tick().await;
            let i = k % convs.len();
            tasks.push(tokio::spawn(self.send(http, base, token, i, convs[i])));
        }
        let mut failed = 0;
        for t in tasks {
            if !t.await.unwrap_or(false) {
                failed += 1;
            }
        }
        let secs = started.elapsed().as_secs_f64();
        tokio::time::sleep(Duration::from_secs(2)).await;
        let legs = self.samples.lock().unwrap().clone();
        let sorted = |mut v: Vec<f64>| {
            v.sort_by(|x, y| x.partial_cmp(y).unwrap());
            v
        };
        Delivery {
            lat: sorted(legs.iter().map(|l| l.0).collect()),
            to_poke: sorted(legs.iter().map(|l| l.1).collect()),
            pull_rtt: sorted(legs.iter().map(|l| l.2).collect()),
            send_rtt: sorted(self.send_rtt.lock().unwrap().clone()),
            total,
            failed,
            achieved: total as f64 / secs,
            customer_pokes: self.customer_pokes.load(Ordering::Relaxed) - before.0,
            staff_pokes: self.staff_pokes.load(Ordering::Relaxed) - before.1,
            pulls: self.pulls.load(Ordering::Relaxed) - before.2,
        }
    }
}

/// The floor server's memory: sockets by token, and each conversation's
/// messages (by sequence) once its customer's socket is connected.
#[derive(Default)]
struct Floor {
    sockets: Mutex<HashMap<String, tokio::sync::mpsc::UnboundedSender<String>>>,
    staff: Mutex<Vec<tokio::sync::mpsc::UnboundedSender<String>>>,
    feed: Mutex<HashMap<String, Vec<(i64, Uuid)>>>,
    seq: std::sync::atomic::AtomicI64,
}

/// The floor server (printing `floor listening on http://ADDR`): every
/// request answered with a constant (the HTTP floor), except what the
/// delivery run uses once sockets are connected. `GET /api/v1/live`, whose
/// bearer token names a conversation (or `staff-…`), says hello and relays
/// pokes; a send into a conversation whose socket is connected is kept in
/// memory and pokes that socket and every staff one; `GET /api/v1/sync`
/// answers the caller's conversation's messages past `since`. No database,
/// no authentication: what HTTP, WebSocket and JSON cost on this machine.
async fn floor_server() -> anyhow::Result<()> {
    use axum::extract::{Path, Query, State, WebSocketUpgrade};
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::{get, post};
    use axum::Json;

    fn bearer(headers: &HeaderMap) -> String {
        headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default()
            .to_owned()
    }
    fn constant() -> (StatusCode, Json<serde_json::Value>) {
        (
            StatusCode::CREATED,
            Json(serde_json::json!({"id": Uuid::nil(), "body": "On its way"})),
        )
    }
    async fn live(
        State(floor): State<Arc<Floor>>,
        headers: HeaderMap,
        upgrade: WebSocketUpgrade,
    ) -> axum::response::Response {
        let token = bearer(&headers);
        upgrade.on_upgrade(move |mut socket| async move {
            use axum::extract::ws::Message;
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
            let hello = serde_json::to_string(&LiveServerMessage::Hello { cursor: 0 }).unwrap();
            if socket.send(Message::Text(hello.into())).await.is_err() {
                return;
            }
            if token.starts_with("staff-") {
                floor.staff.lock().unwrap().push(tx);
            } else {
                floor.feed.lock().unwrap().entry(token.clone()).or_default();
                floor.sockets.lock().unwrap().insert(token, tx);
            }
            while let Some(text) = rx.recv().await {
                if socket.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
            }
        })
    }
    async fn send(
        State(floor): State<Arc<Floor>>,
        Path(conv): Path<String>,
        Json(body): Json<serde_json::Value>,
    ) -> (StatusCode, Json<serde_json::Value>) {
        let Some(id) = body["id"].as_str().and_then(|s| s.parse::<Uuid>().ok()) else {
            return constant();
        };
        let seq = {
            let mut feed = floor.feed.lock().unwrap();
            let Some(messages) = feed.get_mut(&conv) else {
                return constant();
            };
            let seq = floor.seq.fetch_add(1, Ordering::SeqCst) + 1;
            messages.push((seq, id));
            seq
        };
        let poke = serde_json::to_string(&LiveServerMessage::Changed { cursor: seq }).unwrap();
        if let Some(socket) = floor.sockets.lock().unwrap().get(&conv) {
            let _ = socket.send(poke.clone());
        }
        for socket in floor.staff.lock().unwrap().iter() {
            let _ = socket.send(poke.clone());
        }
        (
            StatusCode::CREATED,
            Json(serde_json::json!({"id": id, "body": body["body"]})),
        )
    }
    async fn sync(
        State(floor): State<Arc<Floor>>,
        headers: HeaderMap,
        Query(q): Query<HashMap<String, String>>,
    ) -> Json<serde_json::Value> {
        let since: i64 = q.get("since").and_then(|s| s.parse().ok()).unwrap_or(0);
        let feed = floor.feed.lock().unwrap();
        let mine = feed
            .get(&bearer(&headers))
            .map(Vec::as_slice)
            .unwrap_or_default();
        let items: Vec<_> = mine
            .iter()
            .filter(|(seq, _)| *seq > since)
            .map(|(_, id)| serde_json::json!({"entity": "message", "data": {"id": id, "body": "On its way"}}))
            .collect();
        let cursor = mine.last().map_or(since, |(seq, _)| since.max(*seq));
        Json(serde_json::json!({"items": items, "cursor": cursor, "has_more": false}))
    }
    let app = axum::Router::new()
        .route("/api/v1/live", get(live))
        .route("/api/v1/conversations/{conv}/messages", post(send))
        .route("/api/v1/sync", get(sync))
        .fallback(|| async { constant() })
        .with_state(Arc::new(Floor::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("floor listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

/// Statements per second through sqlx on one connection: an INSERT of a
/// message-sized row per call, 64 per transaction, for 3 s.
async fn calls_per_second(url: &str) -> anyhow::Result<f64> {
    use sqlx::{Connection, Executor};
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await?;
    if url.starts_with("sqlite:") {
        conn.execute("PRAGMA journal_mode = WAL").await?;
        conn.execute("PRAGMA synchronous = NORMAL").await?;
    }
    conn.execute("CREATE TABLE floor_rows (id TEXT PRIMARY KEY, conversation_id TEXT NOT NULL, body TEXT NOT NULL, created_at BIGINT NOT NULL)")
        .await?;
    let (t, mut n) = (Instant::now(), 0u64);
    while t.elapsed() < Duration::from_secs(3) {
        let mut tx = conn.begin().await?;
        for _ in 0..64 {
            sqlx::query("INSERT INTO floor_rows (id, conversation_id, body, created_at) VALUES ($1, $2, $3, $4)")
                .bind(Uuid::new_v4().to_string())
                .bind(Uuid::nil().to_string())
                .bind("message with some ordinary text in it")
                .bind(n as i64)
                .execute(&mut *tx)
                .await?;
            n += 1;
        }
        tx.commit().await?;
    }
    Ok(n as f64 / t.elapsed().as_secs_f64())
}

/// Counts the events sqlx logs for each statement it runs (target
/// `sqlx::query`), for the statement counts.
struct StatementCounter(Arc<AtomicU64>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for StatementCounter {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target() == "sqlx::query" {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// SQL statements per request, counted in-process through the router (the
/// same handlers the server process runs): a lone send, a send among 32
/// concurrent ones (group commit), a mutation of a 50-mutation push, and
/// a customer's pull that brings one new message.
async fn count_statements(state: &AppState, seeded: &Seeded) -> anyhow::Result<String> {
    use tower::ServiceExt;
    use tracing_subscriber::layer::SubscriberExt;
    let counter = Arc::new(AtomicU64::new(0));
    let subscriber = tracing_subscriber::registry()
        .with(StatementCounter(counter.clone()))
        .with(tracing_subscriber::EnvFilter::new("sqlx::query=debug"));
    tracing::subscriber::set_global_default(subscriber)?;
    let app = mostrador_server::http::router(state.clone());
    let call = |method: &str, uri: String, token: &str, body: Option<serde_json::Value>| {
        let req = axum::http::Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(axum::body::Body::from(
                body.map(|b| b.to_string()).unwrap_or_default(),
            ))
            .expect("request");
        let app = app.clone();
        async move {
            let res = app.oneshot(req).await.expect("infallible");
            let status = res.status();
            let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await?;
            anyhow::ensure!(
                status.is_success(),
                "{status}: {}",
                String::from_utf8_lossy(&bytes)
            );
            anyhow::Ok(serde_json::from_slice::<serde_json::Value>(&bytes).unwrap_or_default())
        }
    };
    let agent = seeded.agent_token.as_str();
    let send = |i: usize| {
        call(
            "POST",
            format!("/api/v1/conversations/{}/messages", seeded.customers[i].1),
            agent,
            Some(serde_json::json!({"id": Uuid::new_v4(), "body": "On its way"})),
        )
    };
    let counted = || counter.load(Ordering::Relaxed);
    // A customer's pull up to now, then one message to them, then the pull.
    let (token, _) = &seeded.customers[0];
    let pull = |since: i64| {
        call(
            "GET",
            format!("/api/v1/sync?since={since}&limit=1000"),
            token,
            None,
        )
    };
    let mut since = 0;
    loop {
        let page = pull(since).await?;
        since = page["cursor"].as_i64().unwrap_or(since);
        if page["has_more"] != true {
            break;
        }
    }
    let before = counted();
    send(0).await?;
    let lone = counted() - before;
    let before = counted();
    let page = pull(since).await?;
    let pulled = counted() - before;
    anyhow::ensure!(
        page["items"].as_array().map_or(0, Vec::len) > 0,
        "the pull brought nothing"
    );
    let before = counted();
    let sends: Vec<_> = (0..32).map(|i| send(i % seeded.customers.len())).collect();
    for r in futures_util::future::join_all(sends).await {
        r?;
    }
    let grouped = (counted() - before) as f64 / 32.0;
    let mutations: Vec<_> = (0..PER_PUSH)
        .map(|i| {
            serde_json::json!({"client_id": Uuid::new_v4(), "op": "send_message",
                "args": {"conversation_id": seeded.customers[i % seeded.customers.len()].1, "id": Uuid::new_v4(), "body": "x"}})
        })
        .collect();
    let before = counted();
    call(
        "POST",
        "/api/v1/sync/push".into(),
        agent,
        Some(serde_json::json!({ "mutations": mutations })),
    )
    .await?;
    let pushed = (counted() - before) as f64 / PER_PUSH as f64;
    Ok(format!(
        "a lone send {lone}; a send among 32 concurrent ones {grouped:.1}; a mutation of a {PER_PUSH}-mutation push {pushed:.1}; a customer's pull bringing one new message {pulled}"
    ))
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
