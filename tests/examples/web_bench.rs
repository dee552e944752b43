//! `cargo xtask bench web`: the web app in headless Chromium at phone size
//! (390×844), opened from the widget on a sample shop page, against the
//! release server (`MOSTRADOR_BIN_DIR`) serving the `wasm-release` web build.
//! Prints Markdown table rows.
//!
//! - bytes transferred: every byte the support server sent the browser
//!   (headers and compressed bodies, the service worker's own fetches and
//!   the live socket included), counted by a TCP relay in front of it;
//!   the widget script when the shop page loads, then everything from the
//!   launcher click until the app is idle;
//! - first open: a fresh profile; from the launcher click (`Date.now()` in
//!   the shop page) to the first order row in the app's home screen
//!   (`Date.now()` in a `MutationObserver` installed in the frame before any
//!   of its scripts run: one clock, no polling delay);
//! - repeat open: the shop page reloaded, the launcher clicked again: the
//!   app's shell now comes from its service worker and its data from
//!   IndexedDB;
//! - memory: proportional set size (PSS, shared pages shared out) of the
//!   tab's renderer process (shop page and app frame: one site, one
//!   process) before the launcher is opened and with the app open after
//!   the repeat opens, and of every Chromium process.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use mostrador_e2e::browser::{self, Browser, Shopper, LAUNCHER, PHONE};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Fresh profiles for first opens, reloads for repeat opens.
const FIRST_OPENS: usize = 3;
const REPEAT_OPENS: usize = 5;
const ORDERS: usize = 8;
/// What the home screen shows once it has data.
const FIRST_DATA: &str = "[data-testid=home-orders] [data-number]";

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let shopper = Shopper::new("bench.web@example.com", "Bench Shopper");
    let (server, shop) = browser::start_with_shop(data.path(), None).await?;
    for n in 0..ORDERS {
        browser::send_order(&server, &shopper.email, &format!("WB-{}", 20_000 + n)).await?;
    }
    // The page loads the widget through the counting relay.
    let relay = Relay::start(&server.url).await?;
    shop.embed(&relay.url, Some(shopper), browser::IDENTITY_SECRET);

    let mut first = Vec::new();
    let mut repeat = Vec::new();
    let mut widget_bytes = 0;
    let mut open_bytes = Vec::new();
    let mut repeat_bytes = Vec::new();
    let mut memory = (0, 0);
    let mut memory_before = 0;
    let mut breakdown = Vec::new();
    let mut breakdown_of = 0;
    for run in 0..FIRST_OPENS {
        let b = Browser::launch(PHONE).await?;
        mark_first_data(&b).await?;
        let before = relay.sent();
        b.goto(&shop.page("en")).await?;
        b.widget(LAUNCHER).await?;
        quiet(&relay).await;
        widget_bytes = relay.sent() - before;
        if run == 0 {
            memory_before = memory_kib(b.driver_pid().unwrap_or(0)).0;
        }

        let before = relay.sent();
        b.performance_log().await?;
        first.push(open_and_time(&b).await?);
        quiet(&relay).await;
        open_bytes.push(relay.sent() - before);
        if run == 0 {
            breakdown = by_kind(&b.performance_log().await?);
            breakdown_of = open_bytes[0];
        }

        if run == 0 {
            for _ in 0..REPEAT_OPENS {
                b.reload().await?;
                b.widget(LAUNCHER).await?;
                quiet(&relay).await;
                let before = relay.sent();
                repeat.push(open_and_time(&b).await?);
                quiet(&relay).await;
                repeat_bytes.push(relay.sent() - before);
            }
            memory = memory_kib(b.driver_pid().unwrap_or(0));
        }
        b.close().await?;
    }

    let (first_ms, repeat_ms) = (median(&mut first), median(&mut repeat));
    let open_kb = median(&mut open_bytes) as f64 / 1024.0;
    row(
        "widget script, loaded with the shop page",
        "small",
        &kb(widget_bytes),
        None,
    );
    row(
        &format!("first open: bytes transferred (median of {FIRST_OPENS})"),
        "< 300 KB",
        &format!("{open_kb:.1} KB"),
        Some(open_kb < 300.0),
    );
    let page: u64 = breakdown.iter().map(|(_, n)| n).sum();
    let mut parts: Vec<String> = breakdown
        .iter()
        .map(|(kind, n)| format!("{kind} {}", kb(*n)))
        .collect();
    parts.push(format!(
        "the service worker's own fetches and the live socket {}",
        kb(breakdown_of.saturating_sub(page))
    ));
    row(
        &format!("first open (first run, {}): of which", kb(breakdown_of)),
        "",
        &parts.join(", "),
        None,
    );
    row(
        &format!("first open: launcher click to first screen with data (median of {FIRST_OPENS})"),
        "< 1 s",
        &format!("{first_ms} ms (max {})", first.iter().max().unwrap_or(&0)),
        Some(first_ms < 1000),
    );
    row(
        &format!("repeat open from the service worker (median of {REPEAT_OPENS})"),
        "< 300 ms",
        &format!("{repeat_ms} ms (max {})", repeat.iter().max().unwrap_or(&0)),
        Some(repeat_ms < 300),
    );
    row(
        "repeat open: bytes transferred",
        "",
        &kb(median(&mut repeat_bytes)),
        None,
    );
    row(
        "memory: the tab's renderer process before the launcher is opened (shop page + widget), PSS",
        "",
        &format!("{:.1} MB", memory_before as f64 / 1024.0),
        None,
    );
    row(
        "memory: the tab's renderer process with the app open (shop page + app), PSS",
        "",
        &format!("{:.1} MB", memory.0 as f64 / 1024.0),
        None,
    );
    row(
        "memory: every Chromium process, PSS",
        "",
        &format!("{:.1} MB", memory.1 as f64 / 1024.0),
        None,
    );
    Ok(())
}

/// One table row: what, goal, figure, verdict.
fn row(what: &str, goal: &str, figure: &str, met: Option<bool>) {
    let verdict = match met {
        Some(true) => "meets the goal",
        Some(false) => "**misses the goal**",
        None => "",
    };
    println!("| {what} | {goal} | {figure} | {verdict} |");
}

fn kb(bytes: u64) -> String {
    format!("{:.1} KB", bytes as f64 / 1024.0)
}

fn median(v: &mut [u64]) -> u64 {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0)
}

/// Has every new document (the app's frame included) note when the first
/// order row appears, before any of its own scripts run.
async fn mark_first_data(b: &Browser) -> anyhow::Result<()> {
    let source = format!(
        "(() => {{\
           const seen = () => {{\
             if (!window.__firstData && document.querySelector({FIRST_DATA:?})) {{\
               window.__firstData = Date.now();\
             }}\
           }};\
           new MutationObserver(seen).observe(document, {{ subtree: true, childList: true, attributes: true }});\
         }})();"
    );
    b.cdp(
        "Page.addScriptToEvaluateOnNewDocument",
        serde_json::json!({ "source": source }),
    )
    .await?;
    Ok(())
}

/// Clicks the launcher (time noted in the page) and waits for the app's
/// first screen with data; returns the milliseconds between.
async fn open_and_time(b: &Browser) -> anyhow::Result<u64> {
    b.to_page().await?;
    b.widget(LAUNCHER).await?;
    let t0 = b
        .client
        .execute(
            "const host = document.querySelector('[data-mostrador]');\
             const launcher = host && host.shadowRoot && host.shadowRoot.querySelector(arguments[0]);\
             if (!launcher) { return null; }\
             const t = Date.now(); launcher.click(); return t;",
            vec![LAUNCHER.into()],
        )
        .await?
        .as_u64()
        .context("the launcher is not in the widget's open shadow root")?;
    b.to_app().await?;
    b.wait_for_js(
        "the app's home screen shows an order",
        "return typeof window.__firstData === 'number';",
        Duration::from_secs(60),
    )
    .await?;
    let t1 = b
        .eval("return window.__firstData;")
        .await?
        .as_u64()
        .unwrap_or(0);
    b.to_page().await?;
    Ok(t1.saturating_sub(t0))
}

/// Bytes the page's own requests took on the wire (headers and compressed
/// bodies, chromedriver's network log), by kind: the app's wasm, its
/// scripts, its page and styles, the API.
fn by_kind(log: &[serde_json::Value]) -> Vec<(&'static str, u64)> {
    let mut urls = std::collections::HashMap::new();
    let mut sums: Vec<(&'static str, u64)> = vec![
        ("wasm", 0),
        ("scripts", 0),
        ("page, styles, manifest, icons", 0),
        ("API", 0),
    ];
    for e in log {
        let id = e["params"]["requestId"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        match e["method"].as_str() {
            Some("Network.requestWillBeSent") => {
                let url = e["params"]["request"]["url"].as_str().unwrap_or_default();
                urls.insert(id, url.split('?').next().unwrap_or_default().to_owned());
            }
            Some("Network.loadingFinished") => {
                let Some(url) = urls.get(&id) else { continue };
                let n = e["params"]["encodedDataLength"].as_f64().unwrap_or(0.0) as u64;
                let i = if url.ends_with(".wasm") {
                    0
                } else if url.ends_with(".js") {
                    1
                } else if url.contains("/api/") {
                    3
                } else {
                    2
                };
                sums[i].1 += n;
            }
            _ => {}
        }
    }
    sums
}

/// Waits until the relay has carried nothing for a second.
async fn quiet(relay: &Relay) {
    let mut last = relay.sent();
    loop {
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let now = relay.sent();
        if now == last {
            return;
        }
        last = now;
    }
}

/// PSS in KiB of the tab's renderer process (the largest `--type=renderer`
/// among chromedriver's descendants), and of all of them.
fn memory_kib(driver: u32) -> (u64, u64) {
    let mut family = vec![driver];
    let mut renderer = 0;
    let mut all = 0;
    let mut i = 0;
    while i < family.len() {
        let parent = family[i];
        i += 1;
        let Ok(dir) = std::fs::read_dir("/proc") else {
            break;
        };
        for e in dir.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // `pid (comm) state ppid …`: the fields after the last `)`.
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            if ppid == Some(parent) && !family.contains(&pid) {
                family.push(pid);
            }
        }
    }
    for pid in family.iter().skip(1) {
        let pss = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("Pss:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|k| k.parse::<u64>().ok())
            })
            .unwrap_or(0);
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let cmd = String::from_utf8_lossy(&cmd);
        if !cmd.contains("chromedriver") {
            all += pss;
            // The tab's renderer is the largest (Chromium keeps a small
            // spare one ready).
            if cmd.contains("--type=renderer") && !cmd.contains("--extension-process") {
                renderer = renderer.max(pss);
            }
        }
    }
    (renderer, all)
}

/// A TCP relay in front of the support server counting the bytes it sends
/// to the browser.
struct Relay {
    url: String,
    down: Arc<AtomicU64>,
}

impl Relay {
    async fn start(server_url: &str) -> anyhow::Result<Self> {
        let upstream = server_url.trim_start_matches("http://").to_owned();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let down = Arc::new(AtomicU64::new(0));
        let count = Arc::clone(&down);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else {
                    continue;
                };
                let count = Arc::clone(&count);
                tokio::spawn(async move {
                    let (mut cr, mut cw) = client.into_split();
                    let (mut sr, mut sw) = server.into_split();
                    let up = tokio::spawn(async move {
                        let _ = tokio::io::copy(&mut cr, &mut sw).await;
                        let _ = sw.shutdown().await;
                    });
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        match sr.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                count.fetch_add(n as u64, Ordering::Relaxed);
                                if cw.write_all(&buf[..n]).await.is_err() {
                                    break;
                                }
                            }
                        }
                    }
                    let _ = cw.shutdown().await;
                    up.abort();
                });
            }
        });
        Ok(Self { url, down })
    }

    fn sent(&self) -> u64 {
        self.down.load(Ordering::Relaxed)
    }
}
