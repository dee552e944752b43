//! `cargo xtask bench app`: the real app (debug build, as the tests run it)
//! under Xvfb against the real server. Prints Markdown table rows.
//!
//! - cold start to the cached home screen: a signed-in user with 10,000
//!   cached messages relaunches the app; from the app process's start time
//!   (`/proc/<pid>/stat`) to the moment the home screen had its data;
//! - memory: resident set (and proportional set) of the app and its WebKit
//!   processes, idle, with those 10,000 messages cached;
//! - agent reply → shown in the open thread, N replies, p50 / p99.

use std::path::Path;
use std::time::Duration;

use mostrador_e2e::{AppSession, ServerProcess, DEMO_AGENT};
use serde_json::json;
use uuid::Uuid;

const MESSAGES: usize = 10_000;
const CONVERSATIONS: usize = 20;
const REPLIES: usize = 30;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let server = ServerProcess::start_demo(data.path()).await?;

    // A shopper with 10,000 messages in 20 conversations.
    let http = reqwest::Client::new();
    let email = format!("bench-{}@example.com", Uuid::new_v4());
    let reg: serde_json::Value = http
        .post(format!("{}/api/v1/auth/register", server.url))
        .json(&json!({"email": email, "password": "bench password 1", "display_name": "Bench"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let token = reg["token"].as_str().unwrap_or_default().to_owned();
    let mut conversations = Vec::new();
    let mut batch = Vec::new();
    for c in 0..CONVERSATIONS {
        let id = Uuid::new_v4();
        conversations.push(id);
        batch.push(json!({"client_id": Uuid::new_v4(), "op": "open_conversation",
            "args": {"id": id, "subject": format!("Question {c}"), "message_id": Uuid::new_v4(), "body": "Hello"}}));
    }
    for i in CONVERSATIONS..MESSAGES {
        let conversation = conversations[i % CONVERSATIONS];
        batch.push(json!({"client_id": Uuid::new_v4(), "op": "send_message",
            "args": {"conversation_id": conversation, "id": Uuid::new_v4(), "body": format!("Message number {i}, about my parcel")}}));
    }
    for chunk in batch.chunks(100) {
        server
            .post(&token, "/api/v1/sync/push", json!({ "mutations": chunk }))
            .await?;
    }

    // First launch: sign in and let the cache fill.
    let home = tempfile::tempdir()?;
    let app = AppSession::launch_in(&server.url, home.path()).await?;
    app.sign_in((&email, "bench password 1")).await?;
    app.click("[data-testid=nav-chats]").await?;
    app.wait_for_count("[data-testid=chat-row]", |n| n == CONVERSATIONS)
        .await?;
    app.wait_for_text(
        "[data-testid=sync-indicator]",
        Duration::from_secs(120),
        |t| t.contains("Up to date"),
    )
    .await?;
    app.close().await?;
    tokio::time::sleep(Duration::from_secs(1)).await;

    // Second launch: the session comes from the keychain, the home screen
    // from the cache.
    let app = AppSession::launch_in(&server.url, home.path()).await?;
    app.wait_for("[data-testid=home-chats]").await?;
    let home_at = app
        .client
        .execute("return window.__mostradorHomeAt;", vec![])
        .await?
        .as_f64()
        .unwrap_or(f64::NAN);
    let pid = newest_app_pid()?;
    let started = process_start_ms(pid)?;
    let cold = home_at - started;
    println!("| cold start to the cached home screen ({MESSAGES} messages cached) | {cold:.0} ms (goal < 500 ms) |");

    // Idle memory.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (rss, pss, n) = memory_of_tree(pid);
    println!(
        "| memory, idle, {MESSAGES} messages cached: app + {} WebKit processes | RSS {:.0} MB, PSS {:.0} MB (goal < 150 MB) |",
        n - 1,
        rss as f64 / 1024.0,
        pss as f64 / 1024.0
    );

    // Agent reply → display in the open thread.
    let agent = server.login(DEMO_AGENT).await?;
    app.click("[data-testid=nav-chats]").await?;
    app.click("[data-testid=chat-row]").await?;
    app.wait_for("[data-testid=thread]").await?;
    let subject = app
        .wait_for_text(
            "[data-testid=thread-subject]",
            Duration::from_secs(10),
            |t| !t.is_empty(),
        )
        .await?;
    let list = server.get(&token, "/api/v1/conversations").await?;
    let conversation = list
        .as_array()
        .into_iter()
        .flatten()
        .chain(list["items"].as_array().into_iter().flatten())
        .find(|c| c["subject"].as_str() == Some(subject.trim()))
        .and_then(|c| c["id"].as_str())
        .unwrap_or_default()
        .to_owned();
    let mut latencies = Vec::new();
    for i in 0..REPLIES {
        let text = format!("Agent reply {i} {}", Uuid::new_v4());
        let wait = app.client.execute_async(
            "const [text, done] = arguments;\
             const seen = () => [...document.querySelectorAll('[data-testid=message-body]')].some(e => e.textContent === text);\
             if (seen()) { done(Date.now()); return; }\
             const o = new MutationObserver(() => { if (seen()) { o.disconnect(); done(Date.now()); } });\
             o.observe(document.body, { childList: true, subtree: true, characterData: true });",
            vec![json!(text)],
        );
        let send = async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let t0 = now_ms();
            server
                .post(
                    &agent,
                    &format!("/api/v1/conversations/{conversation}/messages"),
                    json!({"id": Uuid::new_v4(), "body": text}),
                )
                .await
                .map(|_| t0)
        };
        let (seen, sent) = tokio::join!(wait, send);
        let seen = seen?.as_f64().unwrap_or(f64::NAN);
        latencies.push(seen - sent?);
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "| agent reply (API) → shown in the open thread, {REPLIES} replies | p50 {:.0} ms, p99 {:.0} ms |",
        pct(0.5),
        pct(0.99)
    );
    app.close().await
}

fn now_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// The most recently started `mostrador-app` process.
fn newest_app_pid() -> anyhow::Result<u32> {
    let mut best: Option<(u64, u32)> = None;
    for entry in std::fs::read_dir("/proc")? {
        let Ok(pid) = entry?.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim() == "mostrador-app" {
            let start = stat_field(pid, 21).unwrap_or(0);
            if best.is_none_or(|(s, _)| start > s) {
                best = Some((start, pid));
            }
        }
    }
    best.map(|(_, p)| p)
        .ok_or_else(|| anyhow::anyhow!("no mostrador-app process"))
}

/// Field `n` (0-based, after the command name) of `/proc/<pid>/stat`.
fn stat_field(pid: u32, n: usize) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    // rest starts with " state ..." = field 2 (0-based index 2 in man proc).
    rest.split_whitespace().nth(n - 2)?.parse().ok()
}

/// When the process started, in Unix milliseconds (10 ms resolution).
fn process_start_ms(pid: u32) -> anyhow::Result<f64> {
    let ticks = stat_field(pid, 21).ok_or_else(|| anyhow::anyhow!("no stat for {pid}"))?;
    let btime: f64 = std::fs::read_to_string("/proc/stat")?
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no btime"))?;
    let hz = 100.0; // USER_HZ on Linux
    Ok((btime + ticks as f64 / hz) * 1000.0)
}

/// RSS and PSS (KiB) of `pid` and all its descendants, and their number.
fn memory_of_tree(pid: u32) -> (u64, u64, usize) {
    let mut pids = vec![pid];
    let mut i = 0;
    while i < pids.len() {
        let parent = pids[i];
        if let Ok(dir) = std::fs::read_dir("/proc") {
            for e in dir.flatten() {
                if let Ok(p) = e.file_name().to_string_lossy().parse::<u32>() {
                    if stat_field(p, 3) == Some(u64::from(parent)) && !pids.contains(&p) {
                        pids.push(p);
                    }
                }
            }
        }
        i += 1;
    }
    let field = |path: &Path, name: &str| -> u64 {
        std::fs::read_to_string(path)
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with(name))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse().ok())
            })
            .unwrap_or(0)
    };
    let mut rss = 0;
    let mut pss = 0;
    for p in &pids {
        rss += field(Path::new(&format!("/proc/{p}/status")), "VmRSS:");
        pss += field(Path::new(&format!("/proc/{p}/smaps_rollup")), "Pss:");
    }
    (rss, pss, pids.len())
}
