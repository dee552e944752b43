//! `cargo xtask bench server|client|app|agent|web`: runs a benchmark and
//! writes its figures into BENCHMARKS.md, between `<!-- bench:NAME -->`
//! markers, with the machine and the command.

use std::process::{Command, Stdio};

use anyhow::{bail, Context};

use crate::util::{cargo, root};

pub fn run(what: &[String]) -> anyhow::Result<()> {
    match what.first().map(String::as_str) {
        Some("server") => server(&what[1..]),
        Some("client") => client(),
        Some("app") => app(&what[1..]),
        Some("agent") => agent(&what[1..]),
        Some("web") => web(),
        _ => bail!("usage: cargo xtask bench server [--clients N] [--rate R] [--seconds S] | cargo xtask bench client | cargo xtask bench app [--debug] | cargo xtask bench agent [--no-build] | cargo xtask bench web"),
    }
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024 / 1024);
    format!("{cores} cores ({cpu}), {mem_gib} GiB RAM")
}

fn server(extra: &[String]) -> anyhow::Result<()> {
    let pg = crate::postgres::start()?;
    let postgres = if pg.is_some() {
        "a throwaway local cluster started by xtask (fsync off)"
    } else {
        "the server named by `MOSTRADOR_TEST_POSTGRES_URL` (its own settings)"
    };
    let mut rows = Vec::new();
    for backend in ["sqlite", "postgres"] {
        let mut cmd = cargo();
        cmd.args([
            "bench",
            "--package",
            "mostrador-server",
            "--bench",
            "server",
            "--",
            "--backend",
            backend,
        ])
        .args(extra)
        .stdout(Stdio::piped());
        if let Some(pg) = &pg {
            cmd.env(crate::postgres::URL_VAR, &pg.url);
        }
        eprintln!("xtask: $ {}", crate::util::display(&cmd));
        let out = cmd.spawn()?.wait_with_output()?;
        let text = String::from_utf8_lossy(&out.stdout);
        print!("{text}");
        if !out.status.success() {
            bail!("the {backend} benchmark failed");
        }
        rows.extend(
            text.lines()
                .filter(|l| l.starts_with("| "))
                .map(str::to_owned),
        );
    }
    drop(pg);
    let args = if extra.is_empty() {
        String::new()
    } else {
        format!(" {}", extra.join(" "))
    };
    let section = format!(
        "<!-- bench:server -->\n## Server (`cargo xtask bench server{args}`)\n\nMachine: {}. Release build (`cargo bench`: the bench profile is `release`). The server runs as its own process (debug logging off), the\nclients in the benchmark process on the same machine; PostgreSQL: {}.\nGoals (issues 3 and 14, 2 cores): SQLite ≥ 10,000 msg/s sustained and delivery p99 < 10 ms at 1,000 msg/s with 1,000 clients; PostgreSQL ≥ 5,000 msg/s; < 20 KB per idle connection.\n\n| database | what | figure | goal | verdict |\n|---|---|---|---|---|\n{}\n<!-- /bench:server -->",
        machine(),
        postgres,
        rows.join("\n")
    );
    record("server", &section)
}

fn client() -> anyhow::Result<()> {
    let mut cmd = cargo();
    cmd.args([
        "bench",
        "--package",
        "mostrador-client",
        "--bench",
        "client",
    ]);
    let rows = table_rows(&mut cmd, "client")?;
    let section = format!(
        "<!-- bench:client -->\n## Client engine (`cargo xtask bench client`)\n\nMachine: {}. Command: `cargo xtask bench client` (`cargo bench`, release profile). Engine and server in one process, each on its own SQLite file; one customer with 1,000 orders and 50,000 messages in 50 conversations.\nGoals (issue 4): initial sync at most 3× the one-transaction insert of the same rows into the same tables; no-op sync under 5 ms; cold open of the home screen (its real queries) under 50 ms.\n\n| what | figure | goal | verdict |\n|---|---|---|---|\n{}\n<!-- /bench:client -->",
        machine(),
        rows.join("\n")
    );
    record("client", &section)
}

/// Runs a `mostrador-e2e` example (built by `cargo test --no-run`) under
/// Xvfb with a throwaway keyring; returns its table rows.
fn display_example(name: &str) -> anyhow::Result<Vec<String>> {
    display_example_with(name, None)
}

/// [`display_example`] with the server and app binaries from `bin_dir`
/// (`MOSTRADOR_BIN_DIR`; the debug build when `None`).
fn display_example_with(
    name: &str,
    bin_dir: Option<&std::path::Path>,
) -> anyhow::Result<Vec<String>> {
    display_example_env(name, bin_dir, &[])
}

/// [`display_example_with`] with more environment variables.
fn display_example_env(
    name: &str,
    bin_dir: Option<&std::path::Path>,
    env: &[(&str, &std::ffi::OsStr)],
) -> anyhow::Result<Vec<String>> {
    let target = crate::util::target_dir();
    let keyring = target.join("bench-keyring");
    let _ = std::fs::remove_dir_all(&keyring);
    std::fs::create_dir_all(&keyring)?;
    let mut cmd = crate::tasks::under_display(&keyring, target.join("debug/examples").join(name));
    if let Some(dir) = bin_dir {
        cmd.env("MOSTRADOR_BIN_DIR", dir);
    }
    cmd.envs(env.iter().copied());
    table_rows(&mut cmd, name)
}

/// Runs a benchmark program, echoing its output; its Markdown table rows.
fn table_rows(cmd: &mut Command, name: &str) -> anyhow::Result<Vec<String>> {
    cmd.stdout(Stdio::piped());
    eprintln!("xtask: $ {}", crate::util::display(cmd));
    let out = cmd.spawn()?.wait_with_output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    print!("{text}");
    if !out.status.success() {
        bail!("the {name} benchmark failed");
    }
    Ok(text
        .lines()
        .filter(|l| l.starts_with("| "))
        .map(str::to_owned)
        .collect())
}

/// A wasm file's size on disk, raw and `gzip -9`, in KB.
fn wasm_sizes(wasm: &std::path::Path) -> anyhow::Result<(u64, usize)> {
    let raw = std::fs::metadata(wasm)?.len();
    let gz = Command::new("gzip")
        .args(["-9", "-c"])
        .arg(wasm)
        .output()
        .context("gzip")?
        .stdout
        .len();
    Ok((raw / 1024, gz / 1024))
}

fn build_for_display() -> anyhow::Result<()> {
    crate::setup::all()?;
    crate::tasks::build_ui()?;
    // The app's debug binary comes with the tests' build (its crate has
    // integration tests), with their feature set, as `cargo xtask test`
    // builds it: a `cargo build -p mostrador-app` first would build it a
    // second time with another.
    crate::util::run(cargo().args([
        "test",
        "--workspace",
        "--exclude",
        "mostrador-ui",
        "--no-run",
    ]))
}

/// Builds the app crate's example `name` (a floor app) in release.
fn release_example(name: &str) -> anyhow::Result<()> {
    crate::util::run(cargo().args([
        "build",
        "--release",
        "--package",
        "mostrador-app",
        "--example",
        name,
    ]))
}

/// Two apps (agent and shopper) and the server, the debug build and then
/// the release build (the `.deb`'s binary) on the same data
/// (`tests/examples/agent_bench.rs`); the release figures carry the verdict.
/// `--no-build` runs the binaries already built (while iterating).
fn agent(extra: &[String]) -> anyhow::Result<()> {
    let build = match extra {
        [] => true,
        [flag] if flag == "--no-build" => false,
        _ => bail!("usage: cargo xtask bench agent [--no-build]"),
    };
    if build {
        build_for_display()?;
        crate::tasks::bundle()?;
        crate::util::run(cargo().args(["build", "--release", "--package", "mostrador-server"]))?;
        release_example("relay_floor")?;
    }
    let target = crate::util::target_dir();
    let debug = display_example("agent_bench")?;
    let release_dir = target.join("release");
    let built = ["mostrador-app", "mostrador-server"]
        .iter()
        .all(|b| release_dir.join(b).exists());
    if !built && build {
        bail!("no release app or server in {}", release_dir.display());
    }
    // (`--no-build` before any release build: the debug figures alone.)
    // The release run also measures the floor (a minimal Tauri app pair),
    // once built (`--no-build` after a bare `cargo xtask bundle`: without).
    let floor = release_dir.join("examples/relay_floor");
    let release = if built {
        let env = [("MOSTRADOR_BENCH_RELAY_FLOOR", floor.as_os_str())];
        let env: &[_] = if floor.exists() { &env } else { &[] };
        display_example_env("agent_bench", Some(&release_dir), env)?
    } else {
        Vec::new()
    };
    let cells = |row: &str| -> Vec<String> {
        row.trim_matches('|')
            .split('|')
            .map(|c| c.trim().to_owned())
            .collect()
    };
    let mut rows = Vec::new();
    // Rows only the release run prints (the floor) follow, without a debug
    // figure.
    let dash = vec![String::new(), String::new(), "—".to_owned()];
    for i in 0..debug.len().max(release.len()) {
        let d = debug.get(i).map_or_else(|| dash.clone(), |d| cells(d));
        let r = release.get(i).map(|r| cells(r)).unwrap_or_else(|| {
            vec![
                d.first().cloned().unwrap_or_default(),
                d.get(1).cloned().unwrap_or_default(),
                "not measured".into(),
                String::new(),
            ]
        });
        let get = |v: &[String], k: usize| v.get(k).cloned().unwrap_or_default();
        rows.push(format!(
            "| {} | {} | {} | {} | {} |",
            get(&r, 0),
            get(&r, 1),
            get(&r, 2),
            get(&r, 3),
            get(&d, 2)
        ));
    }
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into());
    let section = format!(
        "<!-- bench:agent -->\n## Agent mode (`cargo xtask bench agent`)\n\nMachine: {} (load average {load} when the run ended: other work shared the cores). Builds: the debug app and server (as the end-to-end tests run them), then the same run with the release app (`target/release/mostrador-app`, the binary the `.deb` ships, built by `cargo xtask bundle`) and the release server. Two apps (agent and shopper) in WebKitGTK under Xvfb, driven through tauri-driver, and the server, all on this machine. Inbox open time is measured inside the page (`performance.now()` from the click to the first row in the DOM); reply latency from the agent's Send click to the text appearing in the shopper's thread (`Date.now()` in both pages, one clock). The hops come from the three processes' `hop` log lines (UTC microseconds) and the UI's marks (`window.__mostradorTrace`, `Date.now()`), each the first of its kind after the one before.{}\n\n| what | goal | release build | verdict | debug build |\n|---|---|---|---|---|\n{}\n<!-- /bench:agent -->",
        machine(),
        if built {
            ""
        } else {
            " **This run had no release build** (`--no-build` before `cargo xtask bundle` had built one): only the debug column was measured, and no verdict is given."
        },
        rows.join("\n")
    );
    record("agent", &section)
}

/// The release app the `.deb` ships (`target/release/mostrador-app`, built
/// by `cargo xtask bundle`) against the release server, beside the floor
/// (`src-tauri/examples/floor.rs`, release); with `--debug`, the debug
/// build as a second column (`tests/examples/app_bench.rs`).
fn app(extra: &[String]) -> anyhow::Result<()> {
    let debug = match extra {
        [] => false,
        [flag] if flag == "--debug" => true,
        _ => bail!("usage: cargo xtask bench app [--debug]"),
    };
    let release_app = crate::tasks::release_app()?;
    crate::util::run(cargo().args(["build", "--release", "--package", "mostrador-server"]))?;
    release_example("floor")?;
    if debug {
        crate::tasks::build_app()?;
    }
    crate::util::run(cargo().args([
        "build",
        "--package",
        "mostrador-e2e",
        "--example",
        "app_bench",
    ]))?;
    let target = crate::util::target_dir();
    let keyring = target.join("bench-keyring");
    let _ = std::fs::remove_dir_all(&keyring);
    std::fs::create_dir_all(&keyring)?;
    let mut cmd = crate::tasks::under_display(&keyring, target.join("debug/examples/app_bench"));
    cmd.env("MOSTRADOR_BIN_DIR", release_app.parent().unwrap_or(&target))
        .env(
            "MOSTRADOR_BENCH_FLOOR",
            target.join("release/examples/floor"),
        );
    if debug {
        cmd.env(
            "MOSTRADOR_BENCH_DEBUG_APP",
            target.join("debug/mostrador-app"),
        );
    }
    let mut rows = table_rows(&mut cmd, "app")?;
    // The first row is the header.
    let columns = rows.first().map_or(2, |h| h.matches(" | ").count() + 1);
    rows.insert(1, format!("|{}", "---|".repeat(columns)));
    let blanks = " |".repeat(columns.saturating_sub(2));
    let (raw, gz) = wasm_sizes(&root().join("src-ui/dist/mostrador_ui_bg.wasm"))?;
    rows.push(format!(
        "| UI wasm (`src-ui/dist`, after `wasm-opt -Oz`) | {raw} KB raw, {gz} KB gzip -9{blanks}"
    ));
    for e in std::fs::read_dir(target.join("release/bundle/deb"))?.flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "deb") {
            rows.push(format!(
                "| `{}` | {:.1} MB{blanks}",
                p.file_name().unwrap_or_default().to_string_lossy(),
                std::fs::metadata(&p)?.len() as f64 / 1_048_576.0
            ));
        }
    }
    let section = format!(
        "<!-- bench:app -->\n## App (`cargo xtask bench app`)\n\nMachine: {} (load average {} when the run ended). Build: the release app the `.deb` ships (`target/release/mostrador-app` from `cargo xtask bundle`) and the release server{}; the floor is `src-tauri/examples/floor.rs` (release): a Tauri app of the same versions with one static page, no commands, no wasm. Both draw without accelerated compositing (`WEBKIT_DISABLE_COMPOSITING_MODE=1`, set by the app itself: `startup::software_compositing`). WebKitGTK {} under Xvfb, each app launched through tauri-driver with a fresh HOME after a first run that signed in and cached {}. Cold start runs from the app process's start time (`/proc`, 10 ms resolution) to the first frame drawn after the home screen had its data; the stages between are marks in Unix ms from the shell (Rust, the `startup_marks` command) and the page (`performance.timeOrigin`, resource timing, `Date.now()` in the UI), one clock. Memory is the PSS (`/proc/<pid>/smaps_rollup`: shared pages shared out) of the app and each WebKit process under it, idle on the home screen, split into anonymous + file-backed + shared memory.\n\n{}\n<!-- /bench:app -->",
        machine(),
        load_average(),
        if debug { " (the debug build beside it)" } else { "" },
        webkitgtk_version(),
        "10,000 messages",
        rows.join("\n")
    );
    record("app", &section)
}

/// The 1-minute load average (`/proc/loadavg`).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

/// The installed WebKitGTK's version (`pkg-config`).
fn webkitgtk_version() -> String {
    crate::util::output(Command::new("pkg-config").args(["--modversion", "webkit2gtk-4.1"]))
        .map(|v| v.trim().to_owned())
        .unwrap_or_else(|| "4.1".into())
}

/// The web app in headless Chromium at phone size, opened from the widget
/// on a sample shop page (`tests/examples/web_bench.rs`), against the
/// release server and the `wasm-release` web build.
fn web() -> anyhow::Result<()> {
    crate::setup::all()?;
    crate::tasks::build_ui()?;
    crate::util::run(cargo().args(["build", "--release", "--package", "mostrador-server"]))?;
    crate::util::run(cargo().args([
        "build",
        "--package",
        "mostrador-e2e",
        "--example",
        "web_bench",
    ]))?;
    let target = crate::util::target_dir();
    let mut rows = table_rows(
        Command::new(target.join("debug/examples/web_bench"))
            .current_dir(root())
            .env("MOSTRADOR_BIN_DIR", target.join("release")),
        "web",
    )?;
    let web = root().join("src-ui/dist-web");
    for e in std::fs::read_dir(&web)
        .with_context(|| format!("reading {}", web.display()))?
        .flatten()
    {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "wasm") {
            let (raw, gz) = wasm_sizes(&p)?;
            rows.push(format!(
                "| `{}` on disk | | {raw} KB raw, {gz} KB gzip -9 | |",
                p.file_name().unwrap_or_default().to_string_lossy(),
            ));
        }
    }
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into());
    let chromium = crate::util::output(Command::new("chromium").arg("--version"))
        .unwrap_or_else(|| "Chromium".into());
    let section = format!(
        "<!-- bench:web -->\n## Web app (`cargo xtask bench web`)\n\nMachine: {} (load average {load} when the run ended: other work shared the cores). Build: release `mostrador-server`, the web app as `cargo xtask ui` builds it (`--profile wasm-release`) in `src-ui/dist-web`. {} headless at 390×844 with a fresh profile per first open; the sample shop page on its own loopback port embeds the widget with a signed shopper identity (8 orders). Bytes are everything the support server sent the browser (headers, compressed bodies, the service worker's fetches, the live socket), counted by a TCP relay in front of it; times run from the launcher click (`Date.now()` in the shop page) to the first order row in the app's frame (`Date.now()` in a `MutationObserver`), so they include the identity exchange and the first sync, over loopback (a phone network adds its round trips).\n\n| what | goal | figure | verdict |\n|---|---|---|---|\n{}\n<!-- /bench:web -->",
        machine(),
        chromium.trim(),
        rows.join("\n")
    );
    record("web", &section)
}

/// Replaces (or appends) the section between `<!-- bench:NAME -->` markers.
fn record(name: &str, section: &str) -> anyhow::Result<()> {
    let (open, close) = (
        format!("<!-- bench:{name} -->"),
        format!("<!-- /bench:{name} -->"),
    );
    let path = root().join("BENCHMARKS.md");
    let doc = std::fs::read_to_string(&path).context("reading BENCHMARKS.md")?;
    let doc = match (doc.find(&open), doc.find(&close)) {
        (Some(a), Some(b)) => format!("{}{}{}", &doc[..a], section, &doc[b + close.len()..]),
        _ => format!("{}\n\n{}\n", doc.trim_end(), section),
    };
    std::fs::write(&path, doc)?;
    eprintln!("xtask: wrote the figures into BENCHMARKS.md");
    Ok(())
}
