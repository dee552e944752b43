//! Harness for the end-to-end tests: starts the real `mostrador-server`
//! binary on an ephemeral port and the real `mostrador-app` binary under
//! `tauri-driver` + WebKitWebDriver, each with its own data directories.
//!
//! The binaries are the ones `cargo test --workspace` builds into
//! `target/debug`; the UI inside the app is the one `cargo xtask ui` built.
//! Run through `cargo xtask test`, which provides the display (Xvfb).

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

/// A workspace binary built by `cargo test --workspace` / `cargo build`.
pub fn workspace_bin(name: &str) -> PathBuf {
    let path = target_dir().join("debug").join(name);
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

/// The real `mostrador-server` binary on an ephemeral loopback port.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub url: String,
}

impl ServerProcess {
    pub async fn start(data_dir: &Path) -> anyhow::Result<Self> {
        let mut child = Command::new(workspace_bin("mostrador-server"))
            .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .env_remove("DATABASE_URL")
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("spawning mostrador-server")?;
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
        Ok(Self { child, url })
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
    _home: tempfile::TempDir,
}

impl AppSession {
    /// Starts `tauri-driver` (which starts WebKitWebDriver, which starts the
    /// app) with its own HOME and XDG directories, pointed at `server_url`.
    pub async fn launch(server_url: &str) -> anyhow::Result<Self> {
        anyhow::ensure!(
            std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some(),
            "the end-to-end tests need a display: run them through `cargo xtask test`, which starts Xvfb"
        );
        let home = tempfile::tempdir()?;
        for sub in ["data", "config", "cache"] {
            std::fs::create_dir_all(home.path().join(sub))?;
        }
        let port = free_port();
        let native_port = free_port();
        let driver_bin = std::env::var_os("TAURI_DRIVER").unwrap_or_else(|| "tauri-driver".into());
        let native_driver = std::env::var_os("WEBKIT_WEBDRIVER")
            .unwrap_or_else(|| "/usr/bin/WebKitWebDriver".into());
        let driver = Command::new(&driver_bin)
            .arg("--port")
            .arg(port.to_string())
            .arg("--native-port")
            .arg(native_port.to_string())
            .arg("--native-driver")
            .arg(&native_driver)
            .env("HOME", home.path())
            .env("XDG_DATA_HOME", home.path().join("data"))
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env("XDG_CACHE_HOME", home.path().join("cache"))
            .env("MOSTRADOR_SERVER_URL", server_url)
            .stdout(Stdio::null())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| {
                format!("spawning {driver_bin:?} (installed by `cargo xtask test`)")
            })?;

        let webdriver = format!("http://127.0.0.1:{port}");
        wait_until_ready(&format!("{webdriver}/status"), Duration::from_secs(20)).await?;

        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "wry".into());
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": workspace_bin("mostrador-app") }),
        );
        let client = ClientBuilder::native()
            .capabilities(caps)
            .connect(&webdriver)
            .await
            .context("opening a WebDriver session on the app")?;
        Ok(Self {
            client,
            driver,
            _home: home,
        })
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
                let shot = self.screenshot("failure").await.ok();
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
        // Let the latest DOM change reach the screen: two animation frames.
        self.client
            .execute_async(
                "const done = arguments[arguments.length - 1];\
                 requestAnimationFrame(() => requestAnimationFrame(() => done()));",
                vec![],
            )
            .await?;
        let png = self.client.screenshot().await?;
        anyhow::ensure!(png.starts_with(b"\x89PNG"), "screenshot is not a PNG");
        let path = screenshot_dir().join(format!("{name}.png"));
        std::fs::write(&path, png)?;
        println!("screenshot: {}", path.display());
        Ok(path)
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
