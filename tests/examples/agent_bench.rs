//! `cargo xtask bench agent`: two real apps (the build `MOSTRADOR_BIN_DIR`
//! names, else the debug build) under Xvfb against the real server with
//! the demo data. Prints Markdown table rows: `| what | goal | figure |
//! verdict |`.
//!
//! - inbox open time with 5,000 more conversations cached: from the click on
//!   "Inbox" (coming from another page) to its first rows in the DOM, split
//!   into asking the engine (IPC + query) and drawing;
//! - agent reply → shopper display: the agent's app sends (composer, Send),
//!   the shopper's app shows it in the open thread; N replies, p50 / p99,
//!   and where the time goes, hop by hop. The hops come from the server's
//!   and both apps' logs (`tracing` lines with the target `hop`, UTC
//!   microseconds) and from the marks the UI keeps in
//!   `window.__mostradorTrace` (`Date.now()`): one clock, this machine's.

use std::path::Path;
use std::time::Duration;

use mostrador_e2e::{AppSession, LogTo, ServerProcess, DEMO_AGENT, DEMO_CUSTOMER};
use serde_json::json;
use uuid::Uuid;

const CONVERSATIONS: usize = 5_000;
const OPENS: usize = 15;
const REPLIES: usize = 30;
/// What the apps log: only the hops (and warnings).
const APP_LOG: &str = "warn,hop=debug";
/// The server also logs each request's start and end (tower-http).
/// (with the request's span, which names its path).
const SERVER_LOG: &str = "warn,hop=debug,tower_http=debug,mostrador_server::http=info";

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    // Kept after the run, to read again.
    let logs = mostrador_e2e::target_dir().join("agent-bench-logs");
    let _ = std::fs::remove_dir_all(&logs);
    std::fs::create_dir_all(&logs)?;
    eprintln!("agent_bench: logs in {}", logs.display());
    let log = |name: &str, filter: &str| LogTo {
        path: logs.join(name),
        filter: filter.into(),
    };
    // 50 shoppers register from this one address: above the default
    // per-address registration limit, which the bench is not measuring.
    let server = ServerProcess::start_demo_logging(
        data.path(),
        &["--register-per-address", "100"],
        Some(log("server.log", SERVER_LOG)),
    )
    .await?;

    // 5,000 conversations from 50 new shoppers.
    let http = reqwest::Client::new();
    let mut batch = Vec::new();
    let mut tokens = Vec::new();
    for i in 0..50 {
        let reg: serde_json::Value = http
            .post(format!("{}/api/v1/auth/register", server.url))
            .json(
                &json!({"email": format!("bench{i}-{}@example.com", Uuid::new_v4()),
                "password": "bench password 1", "display_name": format!("Shopper {i}")}),
            )
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        tokens.push(reg["token"].as_str().unwrap_or_default().to_owned());
    }
    for (i, token) in tokens.iter().enumerate() {
        batch.clear();
        for c in 0..CONVERSATIONS / tokens.len() {
            batch.push(json!({"client_id": Uuid::new_v4(), "op": "open_conversation",
                "args": {"id": Uuid::new_v4(), "subject": format!("Question {i}-{c}"),
                         "message_id": Uuid::new_v4(), "body": format!("Where is parcel {i}-{c}?")}}));
        }
        for chunk in batch.chunks(100) {
            server
                .post(token, "/api/v1/sync/push", json!({ "mutations": chunk }))
                .await?;
        }
    }

    let agent_home = tempfile::tempdir()?;
    let agent = AppSession::launch_logging(
        &server.url,
        agent_home.path(),
        Some(log("agent.log", APP_LOG)),
    )
    .await?;
    agent.sign_in(DEMO_AGENT).await?;
    agent.wait_for("[data-testid=inbox-row]").await?;
    agent
        .wait_for_text(
            "[data-testid=sync-indicator]",
            Duration::from_secs(300),
            |t| t.contains("Up to date"),
        )
        .await?;
    let total = agent
        .attr("[data-testid=inbox-list]", "data-total")
        .await?
        .unwrap_or_default();
    let mut opens = Vec::new();
    for _ in 0..OPENS {
        agent.click("[data-testid=nav-queue]").await?;
        agent
            .wait_for_count("[data-testid=inbox-row]", |n| n == 0)
            .await?;
        let open = agent
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];\
                 const t0 = performance.now();\
                 const at = Date.now();\
                 const seen = () => document.querySelectorAll('[data-testid=inbox-row]').length;\
                 const o = new MutationObserver(() => { const n = seen(); if (n) { o.disconnect();\
                   const ms = performance.now() - t0;\
                   const trace = window.__mostradorTrace || [];\
                   const ask = trace.find(([w, t]) => w === 'inbox' && t >= at);\
                   const answer = ask && trace.find(([w, t]) => w === 'inbox:answered' && t >= ask[1]);\
                   done({ ms, rows: n, asked: ask ? ask[1] - at : null, answered: answer ? answer[1] - at : null,\
                          drawn: Date.now() - at }); } });\
                 o.observe(document.body, { childList: true, subtree: true });\
                 document.querySelector('[data-testid=nav-inbox]').click();",
                vec![],
            )
            .await?;
        opens.push(open);
    }
    let ms = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    let open_ms: Vec<f64> = opens.iter().map(|o| ms(o, "ms")).collect();
    let rows_drawn = opens.first().map_or(0, |o| o["rows"].as_u64().unwrap_or(0));
    let open = Stats::of(open_ms);
    println!(
        "| inbox open to first rows, {CONVERSATIONS} extra conversations cached ({total} unassigned, {rows_drawn} rows drawn), {OPENS} opens | < 100 ms | median {:.0} ms, max {:.0} ms | {} |",
        open.p50,
        open.max,
        verdict(open.p50 < 100.0)
    );
    let asked = Stats::of(opens.iter().map(|o| ms(o, "asked")).collect());
    let query = Stats::of(
        opens
            .iter()
            .map(|o| ms(o, "answered") - ms(o, "asked"))
            .collect(),
    );
    let drawn = Stats::of(
        opens
            .iter()
            .map(|o| ms(o, "drawn") - ms(o, "answered"))
            .collect(),
    );
    let engine = Stats::of(
        hops(&logs.join("agent.log"))?
            .iter()
            .filter(|h| h.what.starts_with("inbox read"))
            .filter_map(|h| field(&h.what, "ms"))
            .rev()
            .take(OPENS)
            .collect(),
    );
    println!(
        "| of which: click → the page asks for rows | | median {:.0} ms | |",
        asked.p50
    );
    println!(
        "| of which: the ask (IPC both ways + the engine's query, {:.0} ms of it in the engine) | | median {:.0} ms | |",
        engine.p50, query.p50
    );
    println!(
        "| of which: answer → rows in the DOM (decode + draw) | | median {:.0} ms | |",
        drawn.p50
    );

    // The shopper asks; the agent opens it and answers, again and again.
    let shopper_home = tempfile::tempdir()?;
    let shopper = AppSession::launch_logging(
        &server.url,
        shopper_home.path(),
        Some(log("shopper.log", APP_LOG)),
    )
    .await?;
    shopper.sign_in(DEMO_CUSTOMER).await?;
    shopper.click("[data-testid=ask-question]").await?;
    let marker = format!("bench {}", Uuid::new_v4());
    shopper.type_into("[data-testid=ask-body]", &marker).await?;
    shopper.click("[data-testid=ask-send]").await?;
    // Sent (or already delivered: the agent's device may acknowledge first).
    shopper
        .wait_for(
            "[data-testid=message][data-mine=true]:not([data-state=pending]):not([data-state=failed])",
        )
        .await?;
    agent.click("[data-testid=inbox-tab-all]").await?;
    agent
        .type_into("[data-testid=inbox-search]", &marker)
        .await?;
    agent
        .wait_for_count("[data-testid=inbox-row]", |n| n == 1)
        .await?;
    agent.click("[data-testid=inbox-row]").await?;
    agent.wait_for("[data-testid=composer-input]").await?;

    let mut replies = Vec::new();
    for i in 0..REPLIES {
        let text = format!("Reply {i} {}", Uuid::new_v4());
        let wait = shopper.client.execute_async(
            "const [text, done] = arguments;\
             const seen = () => [...document.querySelectorAll('[data-testid=message-body]')].some(e => e.textContent === text);\
             if (seen()) { done(Date.now()); return; }\
             const o = new MutationObserver(() => { if (seen()) { o.disconnect(); done(Date.now()); } });\
             o.observe(document.body, { childList: true, subtree: true, characterData: true });",
            vec![json!(text)],
        );
        let send = async {
            tokio::time::sleep(Duration::from_millis(150)).await;
            agent
                .client
                .execute(
                    "const t = document.querySelector('[data-testid=composer-input]');\
                     t.value = arguments[0];\
                     t.dispatchEvent(new Event('input', { bubbles: true }));\
                     const at = Date.now();\
                     document.querySelector('[data-testid=composer-send]').click();\
                     return at;",
                    vec![json!(text)],
                )
                .await
        };
        let (seen, sent) = tokio::join!(wait, send);
        let seen = seen?.as_f64().unwrap_or(f64::NAN);
        let sent = sent?.as_f64().unwrap_or(f64::NAN);
        replies.push((sent, seen));
    }
    std::fs::write(logs.join("replies.json"), serde_json::to_string(&replies)?)?;
    let latency = Stats::of(replies.iter().map(|(a, b)| b - a).collect());
    println!(
        "| agent reply (Send in the agent's app) → shown in the shopper's app, {REPLIES} replies | p99 < 100 ms | p50 {:.0} ms, p99 {:.0} ms | {} |",
        latency.p50,
        latency.p99,
        verdict(latency.p99 < 100.0)
    );

    // Where the time went, reply by reply, from the logs and the pages.
    let page_trace = |v: serde_json::Value| -> Vec<Hop> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| {
                Some(Hop {
                    at: m[1].as_f64()?,
                    what: m[0].as_str()?.to_owned(),
                })
            })
            .collect()
    };
    let trace_js = "return window.__mostradorTrace || [];";
    let shopper_page = page_trace(shopper.client.execute(trace_js, vec![]).await?);
    shopper.close().await?;
    agent.close().await?;
    drop(server);
    let agent_log = hops(&logs.join("agent.log"))?;
    let shopper_log = hops(&logs.join("shopper.log"))?;
    let server_log = hops(&logs.join("server.log"))?;
    let mut legs: Vec<Vec<f64>> = vec![Vec::new(); LEGS.len()];
    let mut traced = 0;
    // The shopper's UI work as one leg (whatever marks its build keeps).
    let mut ui = Vec::new();
    for (sent, seen) in &replies {
        let found = timeline(
            *sent,
            *seen,
            &[&agent_log, &server_log, &shopper_log, &shopper_page],
        );
        if let Err(missing) = &found {
            eprintln!("agent_bench: reply sent at {sent}: no {missing} after the hop before");
        }
        if let Ok(times) = found {
            traced += 1;
            for (i, leg) in legs.iter_mut().enumerate() {
                leg.push(times[i + 1] - times[i]);
            }
            ui.push(times[LEGS.len()] - times[LEGS.len() - 3]);
        }
    }
    println!("| where a reply's time goes ({traced} of {REPLIES} replies traced through every hop), per hop: | | p50 / p99 | |");
    for (name, leg) in LEGS.iter().zip(&legs) {
        let s = Stats::of(leg.clone());
        println!("| {name} | | {:.1} / {:.1} ms | |", s.p50, s.p99);
    }
    let ui = Stats::of(ui);
    println!(
        "| shopper: the last three together (event sent → text in the DOM) | | {:.1} / {:.1} ms | |",
        ui.p50, ui.p99
    );
    Ok(())
}

fn verdict(met: bool) -> &'static str {
    if met {
        "meets the goal"
    } else {
        "**misses the goal**"
    }
}

/// What each leg of a reply's way measures (between two consecutive
/// points of [`timeline`]).
const LEGS: [&str; 12] = [
    "agent: Send click → reply queued in the outbox (UI, IPC, engine's write)",
    "agent: queued → push sent (outbox wake-up)",
    "agent → server: push request received (HTTP)",
    "server: push applied and committed → shopper's socket poked",
    "server → shopper: poke received (WebSocket)",
    "shopper: poke → pull sent",
    "shopper: pull answered (HTTP + the server's feed query)",
    "shopper: page written to the store",
    "shopper: page written → change event sent to the webview (with the open thread's lines read)",
    "shopper: Tauri event delivered to the UI",
    "shopper: UI change → thread's changed lines in hand (carried by the event; else an IPC read, the last before display)",
    "shopper: thread answered → text in the DOM (decode + draw)",
];

/// One timestamped line: a `hop` log line or a page mark.
#[derive(Debug, Clone)]
struct Hop {
    /// Milliseconds since the epoch.
    at: f64,
    what: String,
}

/// The `hop` lines of a `tracing` log (and the server's request lines).
fn hops(path: &Path) -> anyhow::Result<Vec<Hop>> {
    let text = std::fs::read_to_string(path)?;
    Ok(text
        .lines()
        .filter_map(|line| {
            let (stamp, rest) = line.split_once(' ')?;
            let at: jiff::Timestamp = stamp.parse().ok()?;
            let what = if let Some((_, m)) = rest.split_once(" hop: ") {
                m.to_owned()
            } else if rest.contains("path=/api/v1/sync/push") {
                if rest.contains("started processing request") {
                    "push received".to_owned()
                } else if rest.contains("finished processing request") {
                    "push answered by server".to_owned()
                } else {
                    return None;
                }
            } else {
                return None;
            };
            Some(Hop {
                at: at.as_microsecond() as f64 / 1000.0,
                what,
            })
        })
        .collect())
}

/// A `name=value` number in a log line.
fn field(what: &str, name: &str) -> Option<f64> {
    what.split_whitespace()
        .find_map(|w| w.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
}

/// The first line of `log` starting with `what` at or after `from`.
fn first(log: &[Hop], what: &str, from: f64) -> Option<f64> {
    log.iter()
        .find(|h| h.at >= from && h.what.starts_with(what))
        .map(|h| h.at)
}

/// The points a reply passed, in order (see [`LEGS`]), each the first of
/// its kind after the one before: click, queued, push sent, push received,
/// poked, poke received, pull sent, page received, page applied, UI event
/// sent, UI change, thread answered (the last before display), shown.
fn timeline(sent: f64, seen: f64, logs: &[&[Hop]; 4]) -> Result<Vec<f64>, &'static str> {
    let [agent, server, shopper, page] = *logs;
    // Log lines have microseconds, page marks milliseconds.
    let slack = 1.0;
    let find = |log: &[Hop], what: &'static str, from: f64| first(log, what, from).ok_or(what);
    let queued = find(agent, "queued", sent - slack)?;
    let pushed = find(agent, "push sent", queued)?;
    let received = find(server, "push received", pushed - slack)?;
    let poked = find(server, "poked", received)?;
    let poke_in = find(shopper, "live message", poked - slack)?;
    let pull = find(shopper, "pull sent", poke_in)?;
    let page_in = find(shopper, "page received", pull)?;
    let applied = find(shopper, "page applied", page_in)?;
    let event = find(shopper, "ui event sent", applied)?;
    // The page's marks (NaN where a build has none).
    let changed = first(page, "changed", event - slack).unwrap_or(f64::NAN);
    let answered = page
        .iter()
        .filter(|h| {
            // A whole read, or (once the thread is open) its changed lines,
            // carried by the event or asked for.
            (h.what == "thread:answered"
                || h.what == "thread_delta:answered"
                || h.what == "thread_lines:carried")
                && h.at >= changed
                && h.at <= seen
        })
        .map(|h| h.at)
        .next_back()
        .unwrap_or(f64::NAN);
    Ok(vec![
        sent, queued, pushed, received, poked, poke_in, pull, page_in, applied, event, changed,
        answered, seen,
    ])
}

/// Median, 99th percentile and maximum of some milliseconds (NaN left out).
struct Stats {
    p50: f64,
    p99: f64,
    max: f64,
}

impl Stats {
    fn of(mut v: Vec<f64>) -> Self {
        v.retain(|x| x.is_finite());
        v.sort_by(f64::total_cmp);
        if v.is_empty() {
            return Self {
                p50: f64::NAN,
                p99: f64::NAN,
                max: f64::NAN,
            };
        }
        let pct = |p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize];
        Self {
            p50: pct(0.5),
            p99: pct(0.99),
            max: v[v.len() - 1],
        }
    }
}
