//! `cargo xtask bench app`: the real app under Xvfb against the real
//! server, driven through tauri-driver, with the minimal Tauri app of the
//! same versions (`src-tauri/examples/floor.rs`) measured beside it.
//! Prints Markdown table rows (the first one is the header).
//!
//! - cold start to the cached home screen: a signed-in shopper with
//!   10,000 cached messages relaunches the app, [`run_count`] times; from the
//!   app process's start time (`/proc/<pid>/stat`) to the first frame
//!   drawn after the home screen had its data. The stages in between come
//!   from the shell's marks (the `startup_marks` command: Unix ms taken in
//!   Rust) and the page's (`performance.timeOrigin`, resource timing and
//!   `window.__mostradorTrace`, `Date.now()`): one wall clock on both sides;
//! - memory: the proportional set size (PSS, shared pages shared out) of
//!   the app and of each WebKit process under it, idle on that home screen;
//! - agent reply → shown in the open thread (release build only).
//!
//! Which binaries: the server and the app from `MOSTRADOR_BIN_DIR` (xtask
//! passes `target/release`: what the `.deb` ships); a second app column
//! from `MOSTRADOR_BENCH_DEBUG_APP` when set (the debug build); the floor
//! from `MOSTRADOR_BENCH_FLOOR`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use mostrador_e2e::{workspace_bin, AppSession, ServerProcess, DEMO_AGENT};
use serde_json::{json, Value};
use uuid::Uuid;

const MESSAGES: usize = 10_000;
const CONVERSATIONS: usize = 20;
const REPLIES: usize = 30;
/// Cold starts per app (the median is reported, with min–max), unless
/// `MOSTRADOR_BENCH_RUNS` asks for another number (a quick look at one
/// change: the figures xtask records use this one).
const RUNS: usize = 5;

fn run_count() -> usize {
    std::env::var("MOSTRADOR_BENCH_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(RUNS)
}
const PASSWORD: &str = "bench password 1";

/// The stages of a cold start, in order: (key, what the row says).
const STAGES: &[(&str, &str)] = &[
    ("main", "Rust `main` entered"),
    (
        "window",
        "window and webview created (Tauri's setup hook runs)",
    ),
    (
        "shell_ready",
        "store opened, session read from the keychain",
    ),
    (
        "navigation",
        "page navigation started (`performance.timeOrigin`)",
    ),
    ("scripts", "page, boot script and wasm glue loaded"),
    ("wasm_fetched", "wasm fetched"),
    (
        "wasm_started",
        "wasm compiled and instantiated (its start function runs)",
    ),
    (
        "first_frame",
        "page's first frame drawn (whatever it shows)",
    ),
    ("first_ipc", "first command answered"),
    (
        "boot",
        "first screen's data read in the shell (`boot`: session, sync state, home)",
    ),
    ("boot_answered", "`boot` answered in the page"),
    ("home_data", "home screen's data in"),
    ("home_painted", "first frame drawn with it"),
];

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let release = workspace_bin("mostrador-app");
    let debug = std::env::var_os("MOSTRADOR_BENCH_DEBUG_APP").map(PathBuf::from);
    let floor = std::env::var_os("MOSTRADOR_BENCH_FLOOR").map(PathBuf::from);

    let data = tempfile::tempdir()?;
    let server = ServerProcess::start_demo(data.path()).await?;
    let (email, token) = shopper_with_messages(&server).await?;

    let mut columns = vec![("release build".to_owned(), release.clone())];
    if let Some(d) = debug {
        columns.push(("debug build".to_owned(), d));
    }
    let mut apps = Vec::new();
    for (label, bin) in &columns {
        eprintln!("app_bench: {label}: {}", bin.display());
        let runs = measure_app(&server, bin, &email, label).await?;
        // As it comes, in case a later part fails.
        for (key, _) in STAGES {
            eprintln!("app_bench: {label}: {key}: {}", runs.summary(key));
        }
        eprintln!("app_bench: {label}: {}", runs.memory.total());
        apps.push(runs);
    }
    let floor = match floor {
        Some(bin) => Some(measure_floor(&server, &bin).await?),
        None => None,
    };

    // The table: one column per app build, then the floor.
    let mut header = vec!["what".to_owned()];
    header.extend(columns.iter().map(|(l, _)| l.clone()));
    header.push("floor: minimal Tauri app".into());
    header.push("goal".into());
    row(&header);
    let cold = |r: &Runs| r.summary("home_painted");
    let mut cells = vec![format!(
        "cold start to the cached home screen drawn with its data ({MESSAGES} messages cached), median of {}",
        run_count()
    )];
    cells.extend(apps.iter().map(cold));
    cells.push(floor.as_ref().map_or("—".into(), |f| {
        format!("{} (to its first paint)", f.summary("home_painted"))
    }));
    cells.push(format!(
        "< 500 ms: {}",
        verdict(apps[0].median("home_painted") < 500.0)
    ));
    row(&cells);
    for (key, what) in STAGES {
        let mut cells = vec![format!("… {what}, ms after the process started")];
        cells.extend(apps.iter().map(|a| a.summary(key)));
        cells.push(floor.as_ref().map_or("—".into(), |f| {
            if f.has(key) {
                f.summary(key)
            } else {
                "—".into()
            }
        }));
        cells.push(String::new());
        row(&cells);
    }
    let mut cells = vec![format!(
        "memory (PSS), idle on the home screen, {MESSAGES} messages cached: app + WebKit processes"
    )];
    cells.extend(apps.iter().map(|a| a.memory.total()));
    cells.push(floor.as_ref().map_or("—".into(), |f| f.memory.total()));
    cells.push(format!(
        "< 150 MB: {}",
        verdict(apps[0].memory.pss_kb() < 150 * 1024)
    ));
    row(&cells);
    for process in ["mostrador-app", "WebKitWebProcess", "WebKitNetworkProcess"] {
        let mut cells = vec![format!(
            "… `{process}` (the floor: its own binary), PSS: anonymous + file + shared memory"
        )];
        cells.extend(apps.iter().map(|a| a.memory.of(process)));
        cells.push(floor.as_ref().map_or("—".into(), |f| f.memory.of(process)));
        cells.push(String::new());
        row(&cells);
    }

    // `MOSTRADOR_BENCH_NO_REPLIES` (trying settings): start and memory only.
    if std::env::var_os("MOSTRADOR_BENCH_NO_REPLIES").is_some() {
        return Ok(());
    }
    let (p50, p99) = reply_latency(&server, &release, &email, &token).await?;
    let mut cells = vec![format!(
        "agent reply (API) → shown in the open thread, {REPLIES} replies"
    )];
    cells.push(format!("p50 {p50:.0} ms, p99 {p99:.0} ms"));
    cells.extend(apps.iter().skip(1).map(|_| "—".to_owned()));
    cells.push("—".into());
    cells.push(String::new());
    row(&cells);
    Ok(())
}

fn row(cells: &[String]) {
    println!("| {} |", cells.join(" | "));
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "**missed**"
    }
}

/// A shopper with 10,000 messages in 20 conversations: (email, token).
async fn shopper_with_messages(server: &ServerProcess) -> anyhow::Result<(String, String)> {
    let http = reqwest::Client::new();
    let email = format!("bench-{}@example.com", Uuid::new_v4());
    let reg: Value = http
        .post(format!("{}/api/v1/auth/register", server.url))
        .json(&json!({"email": email, "password": PASSWORD, "display_name": "Bench"}))
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
    Ok((email, token))
}

/// Stage times (ms after the process started) of each run, and the memory
/// after the last one.
#[derive(Debug, Default)]
struct Runs {
    stages: Vec<std::collections::HashMap<String, f64>>,
    memory: Memory,
}

impl Runs {
    fn has(&self, key: &str) -> bool {
        self.stages.iter().any(|s| s.contains_key(key))
    }

    fn values(&self, key: &str) -> Vec<f64> {
        let mut v: Vec<f64> = self
            .stages
            .iter()
            .filter_map(|s| s.get(key).copied())
            .collect();
        v.sort_by(f64::total_cmp);
        v
    }

    fn median(&self, key: &str) -> f64 {
        let v = self.values(key);
        if v.is_empty() {
            f64::NAN
        } else {
            v[v.len() / 2]
        }
    }

    /// "median (min–max)" in ms, or "—".
    fn summary(&self, key: &str) -> String {
        let v = self.values(key);
        match (v.first(), v.last()) {
            (Some(lo), Some(hi)) => {
                format!("{:.0} ms ({lo:.0}–{hi:.0})", v[v.len() / 2])
            }
            _ => "—".into(),
        }
    }
}

/// Signs in once (the cache fills), then [`run_count`] cold starts of `app`.
async fn measure_app(
    server: &ServerProcess,
    app: &Path,
    email: &str,
    label: &str,
) -> anyhow::Result<Runs> {
    let home = tempfile::tempdir()?;
    let session = AppSession::launch_binary(app, &server.url, home.path(), None).await?;
    session.sign_in((email, PASSWORD)).await?;
    session.click("[data-testid=nav-chats]").await?;
    session
        .wait_for_count("[data-testid=chat-row]", |n| n == CONVERSATIONS)
        .await?;
    up_to_date(&session).await?;
    session.close().await?;
    tokio::time::sleep(Duration::from_secs(1)).await;

    let mut runs = Runs::default();
    for run in 0..run_count() {
        // The session comes from the keychain, the home screen from the
        // cache.
        let session = AppSession::launch_binary(app, &server.url, home.path(), None).await?;
        session
            .wait_for_js(
                "the home screen drawn",
                // A build from before the marks: the home screen's data.
                "const t = window.__mostradorTrace || [];\
                 return t.some(m => m[0] === 'home_painted')\
                   || (!t.some(m => m[0] === 'wasm_started') && typeof window.__mostradorHomeAt === 'number');",
                Duration::from_secs(60),
            )
            .await?;
        let pid = newest_pid(&comm_of(app), home.path())?;
        let started = process_start_ms(pid)?;
        let mut stages = page_marks(&session).await?;
        stages.extend(shell_marks(&session).await);
        runs.stages.push(
            stages
                .into_iter()
                .map(|(k, at)| (k, at - started))
                .collect(),
        );
        if run == 0 {
            let name = format!("app-bench-home-{}", label.replace(' ', "-"));
            session.screenshot(&name).await?;
            // Every page mark of this start (commands asked and answered,
            // events), ms after the process started: where to look next.
            let trace = session
                .eval("return window.__mostradorTrace || [];")
                .await?;
            let line: Vec<String> = trace
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|m| {
                    Some(format!(
                        "{} {:.0}",
                        m[0].as_str()?,
                        m[1].as_f64()? - started
                    ))
                })
                .collect();
            eprintln!(
                "app_bench: {label}: page marks, ms after the process started: {}",
                line.join(", ")
            );
        }
        if run + 1 == run_count() {
            up_to_date(&session).await?;
            tokio::time::sleep(Duration::from_secs(5)).await;
            runs.memory = Memory::of_tree(pid);
        }
        session.close().await?;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    Ok(runs)
}

/// [`run_count`] cold starts of the floor app, to its first paint.
async fn measure_floor(server: &ServerProcess, floor: &Path) -> anyhow::Result<Runs> {
    let home = tempfile::tempdir()?;
    let mut runs = Runs::default();
    for run in 0..run_count() {
        // A binary that is not a Tauri app never opens a session.
        let session = tokio::time::timeout(
            Duration::from_secs(60),
            AppSession::launch_binary(floor, &server.url, home.path(), None),
        )
        .await
        .map_err(|_| anyhow::anyhow!("{} did not start within 60 s", floor.display()))??;
        session
            .wait_for_js(
                "the floor's first paint",
                "return typeof window.__floorPaintAt === 'number';",
                Duration::from_secs(60),
            )
            .await?;
        let pid = newest_pid(&comm_of(floor), home.path())?;
        let started = process_start_ms(pid)?;
        let page = session
            .eval(
                "return { navigation: performance.timeOrigin, home_painted: window.__floorPaintAt };",
            )
            .await?;
        runs.stages.push(
            ["navigation", "home_painted"]
                .iter()
                .filter_map(|k| page[k].as_f64().map(|at| ((*k).to_owned(), at - started)))
                .collect(),
        );
        if run + 1 == run_count() {
            tokio::time::sleep(Duration::from_secs(5)).await;
            runs.memory = Memory::of_tree(pid);
        }
        session.close().await?;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    Ok(runs)
}

async fn up_to_date(session: &AppSession) -> anyhow::Result<()> {
    session
        .wait_for_text(
            "[data-testid=sync-indicator]",
            Duration::from_secs(120),
            |t| t.contains("Up to date"),
        )
        .await
        .map(|_| ())
}

/// The page's marks, in Unix ms: navigation start, the scripts and the
/// wasm fetched (resource timing), then the UI's own marks
/// (`window.__mostradorTrace`, `Date.now()`): the start function, the
/// first command answered, the home screen's data, its first frame.
async fn page_marks(session: &AppSession) -> anyhow::Result<Vec<(String, f64)>> {
    let v = session
        .eval(
            "const t0 = performance.timeOrigin;\
             const res = performance.getEntriesByType('resource');\
             const end = re => Math.max(...res.filter(r => re.test(r.name)).map(r => r.responseEnd), 0);\
             const trace = window.__mostradorTrace || [];\
             const first = p => { const m = trace.find(m => p(m[0])); return m ? m[1] : null; };\
             return {\
               navigation: t0,\
               scripts: t0 + Math.max(end(/\\.js$/), end(/\\.css$/)),\
               wasm_fetched: t0 + end(/\\.wasm$/),\
               wasm_started: first(n => n === 'wasm_started'),\
               first_ipc: first(n => n.endsWith(':answered')),\
               boot_answered: first(n => n === 'boot:answered'),\
               first_frame: first(n => n === 'first_frame'),\
               home_data: first(n => n === 'home_data') ?? first(n => n === 'home:answered'),\
               home_painted: first(n => n === 'home_painted') ?? window.__mostradorHomeAt ?? null,\
             };",
        )
        .await?;
    Ok(v.as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| v.as_f64().map(|at| (k.clone(), at)))
        .collect())
}

/// The shell's marks (`startup_marks`, Unix ms); none from a build
/// without the command.
async fn shell_marks(session: &AppSession) -> Vec<(String, f64)> {
    let v = session
        .client
        .execute_async(
            "const done = arguments[0];\
             window.__TAURI__.core.invoke('startup_marks').then(done, () => done([]));",
            vec![],
        )
        .await
        .unwrap_or(Value::Null);
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| Some((m[0].as_str()?.to_owned(), m[1].as_f64()?)))
        .collect()
}

/// Agent reply → shown in the shopper's open thread, in the release app.
async fn reply_latency(
    server: &ServerProcess,
    app: &Path,
    email: &str,
    token: &str,
) -> anyhow::Result<(f64, f64)> {
    let home = tempfile::tempdir()?;
    let session = AppSession::launch_binary(app, &server.url, home.path(), None).await?;
    session.sign_in((email, PASSWORD)).await?;
    up_to_date(&session).await?;
    let agent = server.login(DEMO_AGENT).await?;
    session.click("[data-testid=nav-chats]").await?;
    session.click("[data-testid=chat-row]").await?;
    session.wait_for("[data-testid=thread]").await?;
    let subject = session
        .wait_for_text(
            "[data-testid=thread-subject]",
            Duration::from_secs(10),
            |t| !t.is_empty(),
        )
        .await?;
    let list = server.get(token, "/api/v1/conversations").await?;
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
        let wait = session.client.execute_async(
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
    session.close().await?;
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
    Ok((pct(0.5), pct(0.99)))
}

fn now_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// The kernel's name for a process running `bin` (at most 15 bytes).
fn comm_of(bin: &Path) -> String {
    let name = bin.file_name().unwrap_or_default().to_string_lossy();
    name.chars().take(15).collect()
}

/// The most recently started process named `comm` whose HOME is `home`
/// (other apps may run on the machine at the same time).
fn newest_pid(comm: &str, home: &Path) -> anyhow::Result<u32> {
    let wanted = format!("HOME={}", home.display());
    let mut best: Option<(u64, u32)> = None;
    for entry in std::fs::read_dir("/proc")? {
        let Ok(pid) = entry?.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if name.trim() != comm {
            continue;
        }
        let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        if !environ.split(|b| *b == 0).any(|v| v == wanted.as_bytes()) {
            continue;
        }
        let start = stat_field(pid, 21).unwrap_or(0);
        if best.is_none_or(|(s, _)| start > s) {
            best = Some((start, pid));
        }
    }
    best.map(|(_, p)| p)
        .ok_or_else(|| anyhow::anyhow!("no {comm} process with {wanted}"))
}

/// Field `n` (0-based, after the command name) of `/proc/<pid>/stat`.
fn stat_field(pid: u32, n: usize) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    // rest starts with " state ..." = field 2 (0-based index 2 in man proc).
    rest.split_whitespace().nth(n - 2)?.parse().ok()
}

/// When the process started, in Unix milliseconds (10 ms resolution).
/// The kernel counts it in ticks since boot; boot's wall-clock time is
/// taken as now minus `/proc/uptime` (10 ms), not `/proc/stat`'s `btime`,
/// which is whole seconds and so would shift every figure by up to 1 s.
fn process_start_ms(pid: u32) -> anyhow::Result<f64> {
    let ticks = stat_field(pid, 21).ok_or_else(|| anyhow::anyhow!("no stat for {pid}"))?;
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")?
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no uptime"))?;
    let boot_ms = now_ms() - uptime * 1000.0;
    let hz = 100.0; // USER_HZ on Linux
    Ok(boot_ms + ticks as f64 / hz * 1000.0)
}

/// One process's memory, from `/proc/<pid>/smaps_rollup` (KiB).
#[derive(Debug, Default, Clone)]
struct ProcessMemory {
    /// The executable's file name (`WebKitWebProcess`, …).
    name: String,
    pss: u64,
    pss_anon: u64,
    pss_file: u64,
    pss_shmem: u64,
    rss: u64,
}

/// A process and everything under it.
#[derive(Debug, Default)]
struct Memory(Vec<ProcessMemory>);

impl Memory {
    fn of_tree(pid: u32) -> Self {
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
        Self(pids.into_iter().map(process_memory).collect())
    }

    fn pss_kb(&self) -> u64 {
        self.0.iter().map(|p| p.pss).sum()
    }

    fn total(&self) -> String {
        let rss: u64 = self.0.iter().map(|p| p.rss).sum();
        format!(
            "PSS {} ({} processes; RSS {})",
            mb(self.pss_kb()),
            self.0.len(),
            mb(rss)
        )
    }

    /// The processes named `name`, or for `mostrador-app` the tree's root
    /// (the floor's binary has its own name).
    fn of(&self, name: &str) -> String {
        let picked: Vec<&ProcessMemory> = if name == "mostrador-app" {
            self.0.iter().take(1).collect()
        } else {
            self.0.iter().filter(|p| p.name == name).collect()
        };
        if picked.is_empty() {
            return "—".into();
        }
        let sum = |f: fn(&ProcessMemory) -> u64| picked.iter().map(|p| f(p)).sum::<u64>();
        format!(
            "{}: {} + {} + {}",
            mb(sum(|p| p.pss)),
            mb(sum(|p| p.pss_anon)),
            mb(sum(|p| p.pss_file)),
            mb(sum(|p| p.pss_shmem))
        )
    }
}

fn mb(kb: u64) -> String {
    format!("{:.1} MB", kb as f64 / 1024.0)
}

fn process_memory(pid: u32) -> ProcessMemory {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    let field = |name: &str| -> u64 {
        rollup
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let exe = std::fs::read_link(format!("/proc/{pid}/exe"))
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    ProcessMemory {
        name: exe,
        pss: field("Pss:"),
        pss_anon: field("Pss_Anon:"),
        pss_file: field("Pss_File:"),
        pss_shmem: field("Pss_Shmem:"),
        rss: field("Rss:"),
    }
}
