//! The user-facing tasks: ui, test, demo, bundle.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{bail, Context};

use crate::setup;
use crate::util::{self, cargo, root, run, target_dir, which};

/// `@tauri-apps/cli` from npm (prebuilt binaries), used only for bundling.
const TAURI_CLI_NPM: &str = "@tauri-apps/cli@2.12.5";
/// The demo's ingest secret (README shows how to post a signed event).
const DEMO_WEBHOOK_SECRET: &str = "demo-webhook-secret";
/// Where `cargo xtask demo` serves the backend.
const DEMO_BIND: &str = "127.0.0.1:8787";

/// Builds the wasm UI twice: for the Tauri app into `src-ui/dist`, and
/// the web build (feature `web`: the engine in the page) into
/// `src-ui/dist-web`, which `mostrador-server --web-dir` serves at `/app/`.
pub fn build_ui() -> anyhow::Result<()> {
    build_tauri_ui()?;
    build_web_ui()
}

/// `cargo build` of the UI for wasm32 (with `features`), then
/// `wasm-bindgen --target web` into a fresh `staging` folder; the path of
/// the `_bg.wasm` written there.
fn build_ui_wasm(features: &[&str], staging: &Path) -> anyhow::Result<PathBuf> {
    run(cargo()
        .args([
            "build",
            "--package",
            "mostrador-ui",
            "--target",
            "wasm32-unknown-unknown",
            "--profile",
            "wasm-release",
        ])
        .args(features))?;
    let wasm = target_dir().join("wasm32-unknown-unknown/wasm-release/mostrador_ui.wasm");
    if staging.exists() {
        std::fs::remove_dir_all(staging)?;
    }
    run(Command::new("wasm-bindgen")
        .arg(&wasm)
        .args([
            "--target",
            "web",
            "--no-typescript",
            "--remove-name-section",
            "--remove-producers-section",
            "--out-dir",
        ])
        .arg(staging))?;
    Ok(staging.join("mostrador_ui_bg.wasm"))
}

/// npm binaryen's `wasm-opt -Oz` on `wasm`, in place (Debian's breaks
/// wasm-bindgen's output, TOOLCHAIN.md). It takes a minute or more on two
/// cores, so its output is kept in `<target>/wasm-opt-cache`, named by a
/// hash of its input: an unchanged module is not optimised again.
fn shrink_wasm(wasm: &Path) -> anyhow::Result<()> {
    use std::hash::{Hash, Hasher};
    let input = std::fs::read(wasm)?;
    // SipHash with fixed keys: the same bytes give the same name.
    let mut h = std::hash::DefaultHasher::new();
    input.hash(&mut h);
    let cache = target_dir().join("wasm-opt-cache");
    let cached = cache.join(format!("{:016x}.wasm", h.finish()));
    if cached.exists() {
        std::fs::copy(&cached, wasm)?;
        return Ok(());
    }
    let wasm_opt = setup::wasm_opt()?;
    run(Command::new(&wasm_opt)
        .arg(wasm)
        .args(["-Oz", "--strip-debug", "--strip-producers"])
        // What rustc's wasm32 target emits by default.
        .args([
            "--enable-bulk-memory",
            "--enable-nontrapping-float-to-int",
            "--enable-sign-ext",
            "--enable-mutable-globals",
            "--enable-reference-types",
            "--enable-multivalue",
            "-o",
        ])
        .arg(wasm))?;
    std::fs::create_dir_all(&cache)?;
    // Written aside, then renamed: an interrupted copy is never taken.
    let part = cached.with_extension("part");
    std::fs::copy(wasm, &part)?;
    std::fs::rename(&part, &cached)?;
    Ok(())
}

/// Builds the wasm UI into `src-ui/dist`: `cargo build` for wasm32, then
/// `wasm-bindgen --target web`, then [`shrink_wasm`] (less for WebKit to
/// compile at start: 1,732 KB → 1,469 KB), then the static files. Files are
/// only rewritten when their bytes change, so the Tauri app (which embeds
/// `dist`) is not rebuilt needlessly.
fn build_tauri_ui() -> anyhow::Result<()> {
    let staging = target_dir().join("ui-staging");
    let wasm = build_ui_wasm(&[], &staging)?;
    shrink_wasm(&wasm)?;
    let ui = root().join("src-ui");
    for file in ["index.html", "boot.js", "style.css"] {
        std::fs::copy(ui.join(file), staging.join(file))?;
    }
    util::copy_dir(&root().join("assets"), &staging.join("assets"))?;
    if sync_dir(&staging, &ui.join("dist"))? {
        forget_embedded_assets()?;
    }
    let size = std::fs::metadata(ui.join("dist/mostrador_ui_bg.wasm"))?.len();
    eprintln!("xtask: UI built into src-ui/dist (wasm {} KB)", size / 1024);
    Ok(())
}

/// Builds the web app into `src-ui/dist-web`: the UI with the engine
/// (`--features web`), shrunk by npm binaryen's `wasm-opt -Oz` (Debian's
/// breaks the module, TOOLCHAIN.md), with `src-ui/web`'s page, boot
/// script, manifest and service worker, the shared `style.css` and
/// `assets/`. `__VERSION__` in the page, the boot script and the service
/// worker becomes a hash of the build's content, so each build has its own
/// asset URLs and offline cache. Prints the wasm's sizes.
fn build_web_ui() -> anyhow::Result<()> {
    let staging = target_dir().join("ui-web-staging");
    let wasm = build_ui_wasm(&["--features", "web"], &staging)?;
    let raw = std::fs::metadata(&wasm)?.len();
    shrink_wasm(&wasm)?;
    let ui = root().join("src-ui");
    let web = ui.join("web");
    std::fs::copy(ui.join("style.css"), staging.join("style.css"))?;
    std::fs::copy(
        web.join("manifest.webmanifest"),
        staging.join("manifest.webmanifest"),
    )?;
    util::copy_dir(&root().join("assets"), &staging.join("assets"))?;
    let version = content_version(&staging)?;
    for file in ["index.html", "boot.js", "sw.js"] {
        let text = std::fs::read_to_string(web.join(file))?;
        std::fs::write(staging.join(file), text.replace("__VERSION__", &version))?;
    }
    let compressible: Vec<PathBuf> = [
        "mostrador_ui_bg.wasm",
        "mostrador_ui.js",
        "boot.js",
        "index.html",
        "sw.js",
        "style.css",
        "manifest.webmanifest",
    ]
    .iter()
    .map(|f| staging.join(f))
    .collect();
    precompress(&compressible)?;
    sync_dir(&staging, &ui.join("dist-web"))?;
    let size = |name: &str| -> anyhow::Result<f64> {
        Ok(std::fs::metadata(staging.join(name))?.len() as f64 / 1024.0)
    };
    eprintln!(
        "xtask: web app built into src-ui/dist-web (version {version}): wasm {:.0} KB raw, \
         {:.0} KB after wasm-opt -Oz, {:.0} KB gzip, {:.0} KB brotli; JS glue {:.0} KB brotli",
        raw as f64 / 1024.0,
        size("mostrador_ui_bg.wasm")?,
        size("mostrador_ui_bg.wasm.gz")?,
        size("mostrador_ui_bg.wasm.br")?,
        size("mostrador_ui.js.br")?,
    );
    Ok(())
}

/// A short hash of every file in `dir` (names and bytes, in name order):
/// the web build's version.
fn content_version(dir: &Path) -> anyhow::Result<String> {
    use std::hash::{Hash, Hasher};
    fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> anyhow::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                walk(&path, files)?;
            } else {
                files.push(path);
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(dir, &mut files)?;
    files.sort();
    // SipHash with fixed keys: the same bytes give the same version.
    let mut h = std::hash::DefaultHasher::new();
    for f in files {
        f.strip_prefix(dir)?.hash(&mut h);
        std::fs::read(&f)?.hash(&mut h);
    }
    Ok(format!("{:016x}", h.finish()))
}

/// Writes `<file>.br` (brotli 11) and `<file>.gz` (gzip 9) beside each
/// file, with Node's zlib, so the server sends them as they are instead
/// of compressing at run time.
fn precompress(files: &[PathBuf]) -> anyhow::Result<()> {
    const SCRIPT: &str = "const z = require('zlib'), fs = require('fs');\
        for (const f of process.argv.slice(1)) {\
          const b = fs.readFileSync(f);\
          fs.writeFileSync(f + '.br', z.brotliCompressSync(b, { params: {\
            [z.constants.BROTLI_PARAM_QUALITY]: 11, [z.constants.BROTLI_PARAM_SIZE_HINT]: b.length } }));\
          fs.writeFileSync(f + '.gz', z.gzipSync(b, { level: 9 }));\
        }";
    run(Command::new("node").args(["-e", SCRIPT]).args(files))
}

/// `cargo test <args> --target wasm32-unknown-unknown` through
/// wasm-bindgen's runner (Node.js, or headless Chromium for tests that ask
/// for a browser), its result lines counted in `tally`; whether it passed.
fn wasm_tests(args: &[&str], tally: &mut Tally) -> anyhow::Result<bool> {
    let mut cmd = cargo();
    cmd.arg("test")
        .args(args)
        .args(["--target", "wasm32-unknown-unknown"])
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            "wasm-bindgen-test-runner",
        )
        .env("CHROMEDRIVER", "/usr/bin/chromedriver")
        .stdout(Stdio::piped());
    eprintln!("xtask: $ {}", util::display(&cmd));
    let mut child = cmd.spawn().context("starting the wasm tests")?;
    for line in BufReader::new(child.stdout.take().expect("piped")).lines() {
        let line = line?;
        println!("{line}");
        tally.read(&line);
    }
    Ok(child.wait()?.success())
}

/// Makes `to` hold exactly the files of `from`, touching only changed ones.
/// Makes `to` equal to `from`; returns whether anything changed.
fn sync_dir(from: &Path, to: &Path) -> anyhow::Result<bool> {
    let mut changed = false;
    std::fs::create_dir_all(to)?;
    let mut keep = std::collections::HashSet::new();
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        let dest = to.join(&name);
        keep.insert(name);
        if entry.file_type()?.is_dir() {
            changed |= sync_dir(&entry.path(), &dest)?;
            continue;
        }
        let bytes = std::fs::read(entry.path())?;
        if std::fs::read(&dest).ok().as_deref() != Some(&bytes[..]) {
            std::fs::write(&dest, bytes)?;
            changed = true;
        }
    }
    for entry in std::fs::read_dir(to)? {
        let entry = entry?;
        if !keep.contains(&entry.file_name()) {
            let p = entry.path();
            if entry.file_type()?.is_dir() {
                std::fs::remove_dir_all(p)?;
            } else {
                std::fs::remove_file(p)?;
            }
            changed = true;
        }
    }
    Ok(changed)
}

/// Tauri's codegen keeps each embedded asset compressed in the app's
/// `OUT_DIR`, named by content hash, and reuses a file that exists even if
/// an interrupted build left it half-written: the app then cannot load its
/// wasm. After the UI changed, drop those caches (recompressing takes
/// seconds).
fn forget_embedded_assets() -> anyhow::Result<()> {
    for profile in ["debug", "release"] {
        let build = target_dir().join(profile).join("build");
        let Ok(entries) = std::fs::read_dir(&build) else {
            continue;
        };
        for e in entries.flatten() {
            if e.file_name()
                .to_string_lossy()
                .starts_with("mostrador-app-")
            {
                let cache = e.path().join("out/tauri-codegen-assets");
                if cache.exists() {
                    std::fs::remove_dir_all(&cache)?;
                }
            }
        }
    }
    Ok(())
}

/// Builds the app (debug): the binary the end-to-end harness starts.
pub fn build_app() -> anyhow::Result<()> {
    run(cargo().args(["build", "--package", "mostrador-app"]))
}

/// Every test of the workspace, the end-to-end ones under Xvfb. Extra
/// arguments go to `cargo test` (e.g. a test name filter).
pub fn test(extra: &[String]) -> anyhow::Result<()> {
    crate::modules::check(&root(), &crate::modules::CRATES)?;
    setup::all()?;
    build_ui()?;
    // Build first (outside Xvfb) so compile errors are plain to see; every
    // target, so benches and examples that stop compiling fail here.
    run(cargo().args([
        "test",
        "--workspace",
        "--exclude",
        "mostrador-ui",
        "--all-targets",
        "--no-run",
    ]))?;
    // The whole engine must keep building for the browser (its browser
    // platform: IndexedDB, fetch, WebSocket, localStorage, Web Locks).
    run(cargo().args([
        "check",
        "-p",
        "mostrador-client",
        "--no-default-features",
        "--features",
        "browser",
        "--target",
        "wasm32-unknown-unknown",
    ]))?;

    let pg = crate::postgres::start()?;
    // A private D-Bus session with an unlocked GNOME Keyring (the Secret
    // Service the keychain tests use), then Xvfb for the app, then the tests.
    // One keyring per run, so two test runs at once never share (or delete)
    // each other's.
    let keyring_dir = target_dir().join(format!("test-keyring-{}", std::process::id()));
    if keyring_dir.exists() {
        std::fs::remove_dir_all(&keyring_dir)?;
    }
    std::fs::create_dir_all(&keyring_dir)?;
    let mut cmd = under_display(
        &keyring_dir,
        std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()),
    );
    if let Some(pg) = &pg {
        cmd.env(crate::postgres::URL_VAR, &pg.url);
    }
    cmd.args([
        "test",
        "--workspace",
        "--exclude",
        "mostrador-ui",
        "--no-fail-fast",
    ])
    .args(extra)
    .env(
        "MOSTRADOR_SCREENSHOT_DIR",
        target_dir().join("e2e-screenshots"),
    )
    .stdout(Stdio::piped());
    eprintln!("xtask: $ {}", util::display(&cmd));
    let mut child = cmd.spawn().context("starting xvfb-run")?;
    let mut tally = Tally::default();
    for line in BufReader::new(child.stdout.take().expect("piped")).lines() {
        let line = line?;
        println!("{line}");
        tally.read(&line);
    }
    let status = child.wait()?;
    drop(pg);
    let _ = std::fs::remove_dir_all(&keyring_dir);
    // The UI's component logic, compiled to wasm and run under Node.js;
    // the engine's browser platform and its IndexedDB store (the store
    // contract's scenarios, the same ones the native store passes above)
    // in headless Chromium.
    let wasm_ok = if extra.is_empty() {
        let ui = wasm_tests(&["-p", "mostrador-ui"], &mut tally)?;
        let engine = wasm_tests(
            &[
                "-p",
                "mostrador-client",
                "--no-default-features",
                "--features",
                "browser",
                "--test",
                "store_contract",
                "--test",
                "web_platform",
            ],
            &mut tally,
        )?;
        ui && engine
    } else {
        true
    };

    let shots = target_dir().join("e2e-screenshots");
    if let Ok(entries) = std::fs::read_dir(&shots) {
        let mut names: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        names.sort();
        for p in names {
            println!("xtask: screenshot {}", p.display());
        }
    }
    println!(
        "{} passed, {} failed, {} skipped",
        tally.passed, tally.failed, tally.ignored
    );
    if !status.success() || !wasm_ok || tally.failed > 0 {
        bail!("tests failed");
    }
    if tally.passed == 0 {
        bail!("no test ran");
    }
    Ok(())
}

/// `program` inside a private D-Bus session with an unlocked throwaway
/// GNOME Keyring in `keyring_dir` (the real Secret Service), under Xvfb.
pub fn under_display(keyring_dir: &Path, program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = Command::new("dbus-run-session");
    cmd.current_dir(root())
        .env("MOSTRADOR_KEYRING_DIR", keyring_dir)
        .args(["--", "sh", "-c", KEYRING_THEN_RUN, "sh", "xvfb-run"])
        .args(["-a", "-s", "-screen 0 1280x1024x24"])
        .arg(program);
    cmd
}

/// Run inside `dbus-run-session`: unlock a throwaway keyring, then exec
/// the rest of the command line.
const KEYRING_THEN_RUN: &str = r#"printf 'mostrador-test' | XDG_DATA_HOME="$MOSTRADOR_KEYRING_DIR" gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1 || echo "xtask: warning: gnome-keyring-daemon did not start" >&2
exec "$@""#;

/// Sums cargo test's `test result:` lines.
#[derive(Debug, Default)]
struct Tally {
    passed: u64,
    failed: u64,
    ignored: u64,
}

impl Tally {
    fn read(&mut self, line: &str) {
        let Some(rest) = line.strip_prefix("test result: ") else {
            return;
        };
        for part in rest.split([';', '.']) {
            let mut words = part.split_whitespace();
            if let (Some(n), Some(what)) = (words.next(), words.next()) {
                if let Ok(n) = n.parse::<u64>() {
                    match what {
                        "passed" => self.passed += n,
                        "failed" => self.failed += n,
                        "ignored" => self.ignored += n,
                        _ => {}
                    }
                }
            }
        }
    }
}

/// Builds everything, starts the backend on its embedded SQLite database and
/// opens the app. Without a display, says so and keeps the server running.
pub fn demo() -> anyhow::Result<()> {
    setup::all()?;
    build_ui()?;
    run(cargo().args([
        "build",
        "--package",
        "mostrador-server",
        "--package",
        "mostrador-app",
    ]))?;
    let bin = target_dir().join("debug");
    let data_dir = target_dir().join("demo");
    run(Command::new(bin.join("mostrador-server"))
        .args(["seed-demo", "--data-dir"])
        .arg(&data_dir)
        .env_remove("DATABASE_URL"))?;

    // The demo shop page signs the demo shopper's identity with this.
    const DEMO_IDENTITY_SECRET: &str = "demo-identity-secret-of-at-least-32-bytes";
    let mut server = Command::new(bin.join("mostrador-server"))
        .args(["serve", "--bind", DEMO_BIND, "--data-dir"])
        .arg(&data_dir)
        .arg("--web-dir")
        .arg(root().join("src-ui/dist-web"))
        .arg("--demo-shop")
        .env_remove("DATABASE_URL")
        .env("MOSTRADOR_WEBHOOK_SECRET", DEMO_WEBHOOK_SECRET)
        .env("MOSTRADOR_IDENTITY_SECRET", DEMO_IDENTITY_SECRET)
        .stdout(Stdio::piped())
        .spawn()
        .context("starting mostrador-server")?;
    let url = match wait_for_listening(&mut server) {
        Ok(url) => url,
        Err(err) => {
            let _ = server.kill();
            return Err(err.context(format!("is something else listening on {DEMO_BIND}?")));
        }
    };
    println!(
        "xtask: support backend running at {url} (data in {})",
        data_dir.display()
    );
    println!("xtask: web app at {url}/app/ (sign in as ana@mostrador.demo / demo-customer-pass)");
    println!("xtask: demo shop with the widget at {url}/demo/shop (signed in as Ana by the shop)");

    let has_display =
        std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some();
    if !has_display {
        println!(
            "xtask: no display (DISPLAY and WAYLAND_DISPLAY are unset), so the app window cannot open; the server keeps running at {url} — press Ctrl-C to stop."
        );
        let status = server.wait()?;
        bail!("server exited ({status})");
    }
    println!("xtask: opening the app; close its window to stop the demo.");
    let app_status = Command::new(bin.join("mostrador-app"))
        .env("MOSTRADOR_SERVER_URL", &url)
        .status();
    let _ = server.kill();
    let _ = server.wait();
    let app_status = app_status.context("starting mostrador-app")?;
    if !app_status.success() {
        bail!("the app exited with {app_status}");
    }
    Ok(())
}

fn wait_for_listening(server: &mut Child) -> anyhow::Result<String> {
    let stdout = server.stdout.take().context("server stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        let line = line?;
        if let Some(url) = line.strip_prefix("mostrador-server listening on ") {
            let url = url.trim().to_owned();
            // Keep draining stdout so the server never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines {});
            return Ok(url);
        }
    }
    bail!("the server exited before listening")
}

/// An installable `.deb`, built offline with Tauri's CLI from npm.
pub fn bundle() -> anyhow::Result<()> {
    setup::all()?;
    // The app embeds `src-ui/dist` only: the web build is not needed.
    build_tauri_ui()?;
    let tools = target_dir().join("tools/tauri-cli");
    let cli = tools.join("node_modules/.bin/tauri");
    if !cli.exists() {
        if which("npm").is_none() {
            setup::debian_packages(&["npm"])?;
        }
        eprintln!("xtask: installing {TAURI_CLI_NPM} from npm");
        std::fs::create_dir_all(&tools)?;
        run(Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&tools)
            .arg(TAURI_CLI_NPM))?;
    }
    run(Command::new(&cli)
        .current_dir(root().join("src-tauri"))
        .args(["build", "--bundles", "deb"])
        .env("CI", "true"))?;
    let deb_dir = target_dir().join("release/bundle/deb");
    let debs: Vec<PathBuf> = std::fs::read_dir(&deb_dir)
        .with_context(|| format!("reading {}", deb_dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "deb"))
        .collect();
    if debs.is_empty() {
        bail!("no .deb in {}", deb_dir.display());
    }
    for d in debs {
        println!("xtask: built {}", d.display());
    }
    Ok(())
}

/// The release app the `.deb` ships, built by [`bundle`]:
/// `target/release/mostrador-app` (benchmarks point `MOSTRADOR_BIN_DIR`
/// at its folder).
pub fn release_app() -> anyhow::Result<PathBuf> {
    bundle()?;
    let app = target_dir().join("release/mostrador-app");
    if !app.exists() {
        bail!("{} is missing after the bundle", app.display());
    }
    Ok(app)
}

#[cfg(test)]
mod tests {
    use super::Tally;

    #[test]
    fn tally_sums_cargo_test_result_lines() {
        let mut t = Tally::default();
        t.read("test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s");
        t.read("test result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 1.00s");
        t.read("running 3 tests");
        assert_eq!((t.passed, t.failed, t.ignored), (5, 1, 1));
    }
}
