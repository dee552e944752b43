//! Harness for the end-to-end tests: starts the real `mostrador-server`
//! binary on an ephemeral port and the real `mostrador-app` binary under
//! `tauri-driver` + WebKitWebDriver, each with its own data directories.
//!
//! The binaries are the ones `cargo test --workspace` builds into
//! `target/debug`; the UI inside the app is the one `cargo xtask ui` built.
//! Run through `cargo xtask test`, which provides the display (Xvfb).
//! The web app's tests drive headless Chromium instead: [`browser`].

pub mod browser;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use fantoccini::{Client, ClientBuilder, Locator};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives in the workspace")
        .to_path_buf()
}

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// A workspace binary built by `cargo test --workspace` / `cargo build`
/// (from `MOSTRADOR_BIN_DIR` instead when set: the web benchmark runs the
/// release server).
pub fn workspace_bin(name: &str) -> PathBuf {
    let dir = std::env::var_os("MOSTRADOR_BIN_DIR")
        .map_or_else(|| target_dir().join("debug"), PathBuf::from);
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: run the tests through `cargo xtask test`",
        path.display()
    );
    path
}

/// Where screenshots go (printed by the tests and by `cargo xtask test`).
pub fn screenshot_dir() -> PathBuf {
    let dir = std::env::var_os("MOSTRADOR_SCREENSHOT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("e2e-screenshots"));
    std::fs::create_dir_all(&dir).expect("create screenshot dir");
    dir
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn signal(pid_or_group: &str, sig: &str) {
    let _ = std::process::Command::new("kill")
        .args([sig, "--", pid_or_group])
        .stderr(Stdio::null())
        .status();
}

/// The demo data set's shopper (see `mostrador-server seed-demo`).
pub const DEMO_CUSTOMER: (&str, &str) = ("ana@mostrador.demo", "demo-customer-pass");
/// One of the demo agents.
pub const DEMO_AGENT: (&str, &str) = ("lucia@mostrador.demo", "demo-agent-pass");
/// The shop's webhook secret of [`ServerProcess::start_demo`].
pub const WEBHOOK_SECRET: &str = "demo-webhook-secret";

/// The real `mostrador-server` binary on a loopback port.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    data_dir: PathBuf,
    extra: Vec<String>,
    log: Option<LogTo>,
}

/// A process's log (stderr) written to a file, filtered by `RUST_LOG`:
/// the benchmarks read timestamps from it (`tracing`'s UTC times, the
/// same clock as `Date.now()` in the pages).
#[derive(Debug, Clone)]
pub struct LogTo {
    pub path: PathBuf,
    /// The `RUST_LOG` filter, e.g. `warn,hop=debug`.
    pub filter: String,
}

impl LogTo {
    /// Applies it to a command about to be spawned (plain text: no colours).
    fn apply(&self, cmd: &mut Command) -> anyhow::Result<()> {
        let file = std::fs::File::create(&self.path)
            .with_context(|| format!("creating {}", self.path.display()))?;
        cmd.env("RUST_LOG", &self.filter)
            .env("NO_COLOR", "1")
            .stderr(Stdio::from(file));
        Ok(())
    }
}

impl ServerProcess {
    /// An empty server on an ephemeral port.
    pub async fn start(data_dir: &Path) -> anyhow::Result<Self> {
        Self::spawn(data_dir, "127.0.0.1:0", Vec::new(), None).await
    }

    /// The demo data set, the webhook secret, and callback hours around the
    /// clock (UTC, every day), so slots exist whenever the tests run.
    pub async fn start_demo(data_dir: &Path) -> anyhow::Result<Self> {
        Self::start_demo_with(data_dir, &[]).await
    }

    /// [`ServerProcess::start_demo`] with more server flags (a benchmark
    /// registering many shoppers from one address raises that limit).
    pub async fn start_demo_with(data_dir: &Path, more: &[&str]) -> anyhow::Result<Self> {
        Self::start_demo_logging(data_dir, more, None).await
    }

    /// [`ServerProcess::start_demo_with`], its log written to `log`.
    pub async fn start_demo_logging(
        data_dir: &Path,
        more: &[&str],
        log: Option<LogTo>,
    ) -> anyhow::Result<Self> {
        let out = Command::new(workspace_bin("mostrador-server"))
            .arg("seed-demo")
            .arg("--data-dir")
            .arg(data_dir)
            .env_remove("DATABASE_URL")
            .output()
            .await
            .context("seeding the demo data")?;
        anyhow::ensure!(
            out.status.success(),
            "seed-demo failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let extra = [
            "--webhook-secret",
            WEBHOOK_SECRET,
            "--business-tz",
            "UTC",
            "--business-hours",
            "00:00-23:30",
            "--business-days",
            "mon-sun",
        ]
        .into_iter()
        .chain(more.iter().copied())
        .map(String::from)
        .collect();
        Self::spawn(data_dir, "127.0.0.1:0", extra, log).await
    }

    /// Starts the same server again, on the same port and data (after
    /// [`ServerProcess::stop`]).
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        let bind = self.url.trim_start_matches("http://").to_owned();
        let again =
            Self::spawn(&self.data_dir, &bind, self.extra.clone(), self.log.clone()).await?;
        *self = again;
        Ok(())
    }

    async fn spawn(
        data_dir: &Path,
        bind: &str,
        extra: Vec<String>,
        log: Option<LogTo>,
    ) -> anyhow::Result<Self> {
        let mut cmd = Command::new(workspace_bin("mostrador-server"));
        cmd.args(["serve", "--bind", bind, "--data-dir"])
            .arg(data_dir)
            .args(&extra)
            .env_remove("DATABASE_URL")
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        if let Some(log) = &log {
            log.apply(&mut cmd)?;
        }
        let mut child = cmd.spawn().context("spawning mostrador-server")?;
        let stdout = child.stdout.take().context("server stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let url = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await? {
                if let Some(url) = line.strip_prefix("mostrador-server listening on ") {
                    return Ok(url.trim().to_owned());
                }
            }
            bail!("server exited before listening")
        })
        .await
        .context("server did not start within 60 s")??;
        Ok(Self {
            child,
            url,
            data_dir: data_dir.to_path_buf(),
            extra,
            log,
        })
    }

    /// Signs in through the API; returns the bearer token.
    pub async fn login(&self, (email, password): (&str, &str)) -> anyhow::Result<String> {
        let v: serde_json::Value = reqwest::Client::new()
            .post(format!("{}/api/v1/auth/login", self.url))
            .json(&serde_json::json!({ "email": email, "password": password }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(v["token"].as_str().context("token")?.to_owned())
    }

    /// GET with a bearer token.
    pub async fn get(&self, token: &str, path: &str) -> anyhow::Result<serde_json::Value> {
        Ok(reqwest::Client::new()
            .get(format!("{}{path}", self.url))
            .bearer_auth(token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }

    /// POST JSON with a bearer token.
    pub async fn post(
        &self,
        token: &str,
        path: &str,
        body: serde_json::Value,
    ) -> anyhow::Result<serde_json::Value> {
        let res = reqwest::Client::new()
            .post(format!("{}{path}", self.url))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await?;
        let status = res.status();
        let text = res.text().await?;
        anyhow::ensure!(status.is_success(), "POST {path}: {status} {text}");
        Ok(serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
    }

    /// Posts an event to the shop's signed ingest webhook.
    pub async fn ingest(&self, event: serde_json::Value) -> anyhow::Result<()> {
        use hmac::Mac;
        let body = serde_json::to_vec(&event)?;
        // Signed as the shop does: HMAC-SHA256 of `<Unix seconds>.<body>`.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs()
            .to_string();
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(WEBHOOK_SECRET.as_bytes())?;
        mac.update(now.as_bytes());
        mac.update(b".");
        mac.update(&body);
        let sig = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        let res = reqwest::Client::new()
            .post(format!("{}/api/v1/integrations/orders", self.url))
            .header("content-type", "application/json")
            .header(mostrador_core::orders::TIMESTAMP_HEADER, now)
            .header(mostrador_core::orders::SIGNATURE_HEADER, sig)
            .body(body)
            .send()
            .await?;
        let status = res.status();
        anyhow::ensure!(
            status.is_success(),
            "ingest: {status} {}",
            res.text().await?
        );
        Ok(())
    }

    /// Opens a conversation as the user of `token` (its first message is
    /// `body`); returns its id.
    pub async fn open_conversation(
        &self,
        token: &str,
        subject: &str,
        body: &str,
    ) -> anyhow::Result<String> {
        let id = uuid::Uuid::new_v4().to_string();
        self.post(
            token,
            "/api/v1/conversations",
            serde_json::json!({
                "id": id,
                "subject": subject,
                "message_id": uuid::Uuid::new_v4(),
                "body": body,
            }),
        )
        .await?;
        Ok(id)
    }

    /// Sends a text message into a conversation as the user of `token`.
    pub async fn say(&self, token: &str, conversation: &str, body: &str) -> anyhow::Result<()> {
        self.post(
            token,
            &format!("/api/v1/conversations/{conversation}/messages"),
            serde_json::json!({ "id": uuid::Uuid::new_v4(), "body": body }),
        )
        .await
        .map(|_| ())
    }

    /// Asks the server to shut down (SIGTERM) and waits for it to exit.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(pid) = self.child.id() {
            signal(&pid.to_string(), "-TERM");
        }
        let status = tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .context("server did not stop within 20 s")??;
        anyhow::ensure!(status.success(), "server exited with {status}");
        Ok(())
    }
}

/// The real app, launched and driven through `tauri-driver`.
#[derive(Debug)]
pub struct AppSession {
    pub client: Client,
    driver: Child,
    _home: Option<tempfile::TempDir>,
}

impl AppSession {
    /// Starts `tauri-driver` (which starts WebKitWebDriver, which starts the
    /// app) with its own HOME and XDG directories, pointed at `server_url`.
    pub async fn launch(server_url: &str) -> anyhow::Result<Self> {
        let home = tempfile::tempdir()?;
        let mut app = Self::launch_in(server_url, home.path()).await?;
        app._home = Some(home);
        Ok(app)
    }

    /// Like [`AppSession::launch`], with `home` as the app's HOME (kept
    /// after the session: a second launch finds its data).
    pub async fn launch_in(server_url: &str, home: &Path) -> anyhow::Result<Self> {
        Self::launch_logging(server_url, home, None).await
    }

    /// [`AppSession::launch_in`], the app's log (and its drivers') written
    /// to `log`.
    pub async fn launch_logging(
        server_url: &str,
        home: &Path,
        log: Option<LogTo>,
    ) -> anyhow::Result<Self> {
        Self::launch_binary(&workspace_bin("mostrador-app"), server_url, home, log).await
    }

    /// [`AppSession::launch_logging`], running the app binary `app` (the
    /// app benchmark: the release build, the debug one, the floor app).
    pub async fn launch_binary(
        app: &Path,
        server_url: &str,
        home: &Path,
        log: Option<LogTo>,
    ) -> anyhow::Result<Self> {
        anyhow::ensure!(
            std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some(),
            "the end-to-end tests need a display: run them through `cargo xtask test`, which starts Xvfb"
        );
        for sub in ["data", "config", "cache"] {
            std::fs::create_dir_all(home.join(sub))?;
        }
        let port = free_port();
        let native_port = free_port();
        let driver_bin = std::env::var_os("TAURI_DRIVER").unwrap_or_else(|| "tauri-driver".into());
        let native_driver = std::env::var_os("WEBKIT_WEBDRIVER")
            .unwrap_or_else(|| "/usr/bin/WebKitWebDriver".into());
        let mut driver = Command::new(&driver_bin);
        driver
            .arg("--port")
            .arg(port.to_string())
            .arg("--native-port")
            .arg(native_port.to_string())
            .arg("--native-driver")
            .arg(&native_driver)
            .env("HOME", home)
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env("MOSTRADOR_SERVER_URL", server_url)
            .stdout(Stdio::null())
            .process_group(0)
            .kill_on_drop(true);
        if let Some(log) = &log {
            log.apply(&mut driver)?;
        }
        let driver = driver.spawn().with_context(|| {
            format!("spawning {driver_bin:?} (installed by `cargo xtask test`)")
        })?;

        let webdriver = format!("http://127.0.0.1:{port}");
        wait_until_ready(&format!("{webdriver}/status"), Duration::from_secs(20)).await?;

        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "wry".into());
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": app }),
        );
        let client = ClientBuilder::native()
            .capabilities(caps)
            .connect(&webdriver)
            .await
            .context("opening a WebDriver session on the app")?;
        Ok(Self {
            client,
            driver,
            _home: None,
        })
    }

    pub async fn find(&self, css: &str) -> anyhow::Result<fantoccini::elements::Element> {
        self.client
            .find(Locator::Css(css))
            .await
            .with_context(|| format!("finding {css}"))
    }

    /// Waits for `css` to exist, then clicks it.
    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        self.wait_for(css).await?;
        self.find(css).await?.click().await?;
        Ok(())
    }

    /// Types `text` into the field `css` (after clearing it).
    pub async fn type_into(&self, css: &str, text: &str) -> anyhow::Result<()> {
        self.wait_for(css).await?;
        let el = self.find(css).await?;
        el.clear().await?;
        el.send_keys(text).await?;
        Ok(())
    }

    /// Waits until `css` matches an element (30 s).
    pub async fn wait_for(&self, css: &str) -> anyhow::Result<()> {
        self.wait_for_count(css, |n| n > 0).await.map(|_| ())
    }

    /// Polls the number of elements matching `css` until `accept` is true.
    pub async fn wait_for_count(
        &self,
        css: &str,
        accept: impl Fn(usize) -> bool,
    ) -> anyhow::Result<usize> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let n = self
                .client
                .find_all(Locator::Css(css))
                .await
                .map(|v| v.len())
                .unwrap_or(0);
            if accept(n) {
                return Ok(n);
            }
            if Instant::now() >= deadline {
                let shot = self.screenshot(&failure_name()).await.ok();
                let source = self.client.source().await.unwrap_or_default();
                let body: String = source
                    .split_once("<body")
                    .map_or(source.as_str(), |(_, b)| b)
                    .chars()
                    .take(1500)
                    .collect();
                bail!("{css}: {n} elements after 30 s; screenshot {shot:?}; body starts: {body}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The texts of every element matching `css`.
    pub async fn texts(&self, css: &str) -> anyhow::Result<Vec<String>> {
        let mut out = Vec::new();
        for el in self.client.find_all(Locator::Css(css)).await? {
            out.push(el.text().await?);
        }
        Ok(out)
    }

    /// Signs in through the sign-in screen and waits for the home screen.
    pub async fn sign_in(&self, (email, password): (&str, &str)) -> anyhow::Result<()> {
        self.type_into("[data-testid=signin-email]", email).await?;
        self.type_into("[data-testid=signin-password]", password)
            .await?;
        self.click("[data-testid=signin-submit]").await?;
        self.wait_for("[data-testid=nav-home]").await
    }

    /// Fills in the sign-up form (from the sign-in screen) and sends it;
    /// the caller waits for what should follow (home, or a field's error).
    pub async fn sign_up(&self, name: &str, email: &str, password: &str) -> anyhow::Result<()> {
        self.click("[data-testid=signin-toggle]").await?;
        self.type_into("[data-testid=signup-name]", name).await?;
        self.type_into("[data-testid=signin-email]", email).await?;
        self.type_into("[data-testid=signin-password]", password)
            .await?;
        self.click("[data-testid=signin-submit]").await
    }

    /// Picks the UI language `code` (`en`, `es`, `ru`) in the language
    /// select and waits until the page is redrawn in it.
    pub async fn set_language(&self, code: &str) -> anyhow::Result<()> {
        self.wait_for("[data-testid=language]").await?;
        self.client
            .execute(
                "const s = document.querySelector('[data-testid=language]');\
                 s.value = arguments[0];\
                 s.dispatchEvent(new Event('change', { bubbles: true }));",
                vec![serde_json::Value::String(code.into())],
            )
            .await?;
        self.wait_for(&format!("html[lang={code}]")).await
    }

    /// Polls the text of `css` until `accept` is true; returns that text.
    pub async fn wait_for_text(
        &self,
        css: &str,
        timeout: Duration,
        accept: impl Fn(&str) -> bool,
    ) -> anyhow::Result<String> {
        let deadline = Instant::now() + timeout;
        let mut last = None;
        loop {
            if let Ok(el) = self.client.find(Locator::Css(css)).await {
                if let Ok(text) = el.text().await {
                    if accept(&text) {
                        return Ok(text);
                    }
                    last = Some(text);
                }
            }
            if Instant::now() >= deadline {
                let shot = self.screenshot(&failure_name()).await.ok();
                let source = self.client.source().await.unwrap_or_default();
                let head: String = source.chars().take(2000).collect();
                bail!(
                    "{css}: timed out after {timeout:?}; last text seen: {last:?}; screenshot {shot:?}; page source starts: {head}"
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn attr(&self, css: &str, name: &str) -> anyhow::Result<Option<String>> {
        Ok(self
            .client
            .find(Locator::Css(css))
            .await?
            .attr(name)
            .await?)
    }

    /// Saves a PNG of the window as `<screenshot_dir>/<name>.png`, prints
    /// and returns its path.
    pub async fn screenshot(&self, name: &str) -> anyhow::Result<PathBuf> {
        self.settle().await?;
        // WebKitGTK drawing without accelerated compositing (the app's
        // way, `startup::software_compositing`) answers WebDriver's
        // screenshot after its next paint, and a page at rest never paints
        // again: the command would wait forever. One pixel in a corner
        // changes its (all but transparent) colour every frame while the
        // screenshot is taken, then goes.
        self.eval(PAINT_NUDGE).await?;
        let png = self.client.screenshot().await;
        self.eval("window.__mostradorShotDone && window.__mostradorShotDone();")
            .await?;
        let png = png?;
        anyhow::ensure!(png.starts_with(b"\x89PNG"), "screenshot is not a PNG");
        let path = screenshot_dir().join(format!("{name}.png"));
        std::fs::write(&path, png)?;
        println!("screenshot: {}", path.display());
        Ok(path)
    }

    /// Resizes the window so the page's viewport is `width`×`height` CSS
    /// pixels (phone 390×844, tablet 820×1180, desktop 1280×900).
    pub async fn set_viewport(&self, width: u32, height: u32) -> anyhow::Result<()> {
        self.client.set_window_size(width, height).await?;
        // Window decorations, if any, take from the viewport: add them back.
        let inner = self
            .eval("return [window.innerWidth, window.innerHeight];")
            .await?;
        let (w, h) = (
            inner[0].as_u64().unwrap_or(u64::from(width)) as u32,
            inner[1].as_u64().unwrap_or(u64::from(height)) as u32,
        );
        if (w, h) != (width, height) {
            self.client
                .set_window_size(
                    width + width.saturating_sub(w),
                    height + height.saturating_sub(h),
                )
                .await?;
        }
        // Let the layout settle.
        tokio::time::sleep(Duration::from_millis(300)).await;
        Ok(())
    }

    /// Runs `script` (a function body; `return` a JSON value) in the page.
    pub async fn eval(&self, script: &str) -> anyhow::Result<serde_json::Value> {
        Ok(self.client.execute(script, vec![]).await?)
    }

    /// Polls `script` until it returns `true` (or fails with what it
    /// returned last, and a screenshot).
    pub async fn wait_for_js(
        &self,
        what: &str,
        script: &str,
        timeout: Duration,
    ) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let v = self.eval(script).await?;
            if v == serde_json::Value::Bool(true) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let shot = self.screenshot(&failure_name()).await.ok();
                bail!("{what}: not true after {timeout:?} (last: {v}); screenshot {shot:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Ends the WebDriver session (closing the app) and stops the driver.
    pub async fn close(mut self) -> anyhow::Result<()> {
        let closed = self.client.clone().close().await;
        self.kill_driver();
        closed.context("closing the WebDriver session")?;
        Ok(())
    }

    fn kill_driver(&mut self) {
        if let Some(pid) = self.driver.id() {
            // tauri-driver leads its own process group (driver + app).
            signal(&format!("-{pid}"), "-KILL");
        }
    }
}

impl Drop for AppSession {
    fn drop(&mut self) {
        self.kill_driver();
    }
}

/// Makes the page paint every frame until `window.__mostradorShotDone()`:
/// one pixel at the top left, its colour toggled between two all but
/// transparent greys (set through the CSSOM, which the app's CSP allows;
/// the page's own styles are untouched). See [`AppSession::screenshot`].
const PAINT_NUDGE: &str = "\
    const n = document.createElement('div');\
    n.setAttribute('aria-hidden', 'true');\
    for (const [k, v] of [['position', 'fixed'], ['left', '0'], ['top', '0'], ['width', '1px'],\
        ['height', '1px'], ['pointer-events', 'none'], ['z-index', '2147483647']]) n.style.setProperty(k, v);\
    document.documentElement.appendChild(n);\
    let on = false;\
    const t = setInterval(() => { on = !on;\
        n.style.setProperty('background-color', on ? 'rgba(0,0,0,0.02)' : 'rgba(0,0,0,0.01)'); }, 16);\
    window.__mostradorShotDone = () => { clearInterval(t); n.remove(); delete window.__mostradorShotDone; };";

/// A fresh name for a failure screenshot (several may fail in one run).
fn failure_name() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("failure-{ms}")
}

async fn wait_until_ready(url: &str, timeout: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    let http = reqwest::Client::new();
    loop {
        if let Ok(res) = http.get(url).send().await {
            if res.status().is_success() {
                return Ok(());
            }
        }
        if Instant::now() >= deadline {
            bail!("{url} not ready after {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Where `cargo xtask setup` installs axe-core (from npm) for the
/// accessibility audit.
pub fn axe_js() -> PathBuf {
    std::env::var_os("MOSTRADOR_AXE_JS")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("tools/axe-core/node_modules/axe-core/axe.min.js"))
}

/// The WCAG rule sets the audit runs: 2.0, 2.1 and 2.2, levels A and AA.
pub const AXE_RULE_SETS: &str = "['wcag2a','wcag2aa','wcag21a','wcag21aa','wcag22aa']";
/// Structure rules axe files under best practice, run too: one main
/// landmark, headings that do not skip levels.
pub const AXE_EXTRA_RULES: &str =
    "{ 'landmark-one-main': { enabled: true }, 'heading-order': { enabled: true } }";

/// Fails naming every screen with violations that
/// [`AppSession::audit_themes`] collected.
pub fn audit_report(failures: &[String]) -> anyhow::Result<()> {
    anyhow::ensure!(
        failures.is_empty(),
        "WCAG 2.2 AA violations on {} screen(s):\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    Ok(())
}

/// Accessibility and keyboard helpers.
impl AppSession {
    /// Forces the light or dark theme (`<html data-theme>`, which the
    /// style sheet honours over the system's preference).
    pub async fn set_theme(&self, theme: &str) -> anyhow::Result<()> {
        self.client
            .execute(
                "document.documentElement.dataset.theme = arguments[0];",
                vec![serde_json::Value::from(theme)],
            )
            .await?;
        Ok(())
    }

    /// Audits the screen in the light and the dark theme; adds what fails
    /// to `failures` (so one run reports every screen; see
    /// [`audit_report`]).
    pub async fn audit_themes(
        &self,
        screen: &str,
        failures: &mut Vec<String>,
    ) -> anyhow::Result<()> {
        for theme in ["light", "dark"] {
            self.set_theme(theme).await?;
            let violations = self.audit().await?;
            if !violations.is_empty() {
                failures.push(format!(
                    "{screen} ({theme} theme), {} violation(s):\n  {}",
                    violations.len(),
                    violations.join("\n  ")
                ));
            }
        }
        self.set_theme("light").await?;
        Ok(())
    }

    /// Runs axe-core (injected on first use) over the whole document with
    /// the WCAG 2.x A/AA rules; returns each violation as readable lines:
    /// rule id, impact, help, and the target selectors with axe's summary.
    pub async fn audit(&self) -> anyhow::Result<Vec<String>> {
        let present = self
            .client
            .execute("return typeof window.axe === 'object';", vec![])
            .await?;
        if present != serde_json::Value::Bool(true) {
            let js = std::fs::read_to_string(axe_js()).with_context(|| {
                format!(
                    "reading {} (installed by `cargo xtask setup`)",
                    axe_js().display()
                )
            })?;
            self.client.execute(&js, vec![]).await?;
        }
        // Let transitions and the latest DOM change settle.
        self.settle().await?;
        let script = format!(
            "const done = arguments[arguments.length - 1];\
             axe.run(document, {{ runOnly: {AXE_RULE_SETS}, rules: {AXE_EXTRA_RULES}, resultTypes: ['violations'] }})\
               .then(r => done(r.violations.map(v => ({{\
                  id: v.id, impact: v.impact, help: v.help,\
                  nodes: v.nodes.map(n => ({{ target: n.target.join(' '), summary: n.failureSummary }}))\
               }}))))\
               .catch(e => done([{{ id: 'axe-error', impact: 'error', help: String(e), nodes: [] }}]));"
        );
        let v = self.client.execute_async(&script, vec![]).await?;
        let mut out = Vec::new();
        for violation in v.as_array().cloned().unwrap_or_default() {
            let mut text = format!(
                "{} ({}): {}",
                violation["id"].as_str().unwrap_or("?"),
                violation["impact"].as_str().unwrap_or("?"),
                violation["help"].as_str().unwrap_or("")
            );
            for node in violation["nodes"].as_array().cloned().unwrap_or_default() {
                let summary = node["summary"]
                    .as_str()
                    .unwrap_or("")
                    .replace('\n', "\n        ");
                text.push_str(&format!(
                    "\n    at {}\n        {summary}",
                    node["target"].as_str().unwrap_or("?")
                ));
            }
            out.push(text);
        }
        Ok(out)
    }

    /// Waits two animation frames, so the latest DOM change is on screen.
    pub async fn settle(&self) -> anyhow::Result<()> {
        self.client
            .execute_async(
                "const done = arguments[arguments.length - 1];\
                 requestAnimationFrame(() => requestAnimationFrame(() => done()));",
                vec![],
            )
            .await?;
        Ok(())
    }

    /// Presses one key (e.g. `fantoccini::key::Key::Tab`) where the focus is,
    /// as a keyboard user would.
    pub async fn press(&self, key: impl Into<char>) -> anyhow::Result<()> {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        let value: char = key.into();
        let keys = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value })
            .then(KeyAction::Up { value });
        self.client.perform_actions(keys).await?;
        Ok(())
    }

    /// Types `text` where the focus is, key by key.
    pub async fn type_keys(&self, text: &str) -> anyhow::Result<()> {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        let mut keys = KeyActions::new("keyboard".into());
        for value in text.chars() {
            keys = keys
                .then(KeyAction::Down { value })
                .then(KeyAction::Up { value });
        }
        self.client.perform_actions(keys).await?;
        Ok(())
    }

    /// Whether the focused element matches `css`.
    pub async fn focused(&self, css: &str) -> anyhow::Result<bool> {
        let v = self
            .client
            .execute(
                "const a = document.activeElement; return !!a && a.matches(arguments[0]);",
                vec![serde_json::Value::from(css)],
            )
            .await?;
        Ok(v == serde_json::Value::Bool(true))
    }

    /// Presses Tab until the focus is on `css` (waiting for it to exist
    /// first); fails if 80 presses do not get there.
    pub async fn tab_to(&self, css: &str) -> anyhow::Result<()> {
        self.wait_for(css).await?;
        // WebKit shows focus only in the active window: make ours active.
        let window = self.client.window().await?;
        self.client.switch_to_window(window).await?;
        for _ in 0..80 {
            if self.focused(css).await? {
                return Ok(());
            }
            self.press(fantoccini::key::Key::Tab).await?;
        }
        let on = self
            .client
            .execute(
                "const a = document.activeElement; return a ? a.outerHTML.slice(0, 200) : null;",
                vec![],
            )
            .await?;
        let shot = self.screenshot(&failure_name()).await.ok();
        bail!("Tab never reached {css} (focus on {on}); screenshot {shot:?}")
    }
}
