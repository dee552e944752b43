//! Harness for the web app's end-to-end tests and benchmark: headless
//! Chromium (Debian's `chromium` + `chromium-driver`, installed by `cargo
//! xtask setup`) driven through chromedriver, and a sample shop site served
//! from its own loopback port (another origin than the support server) whose
//! page embeds the widget the way a shop does, with a shopper identity signed
//! as a shop's backend signs it (HS256 JWT with the shop's identity secret).
//!
//! A [`Browser`] is an [`AppSession`] (every helper of the desktop tests:
//! find, click, type, wait, screenshot, eval, axe audit) over Chromium, plus
//! what only a browser has: frames, Chrome DevTools commands, the network
//! log. Going offline is real: stop the support server
//! ([`ServerProcess::stop`]) and start it again ([`ServerProcess::restart`]).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use fantoccini::elements::Element;
use fantoccini::ClientBuilder;
use hmac::Mac;
use tokio::process::Command;

use crate::{free_port, wait_until_ready, workspace_root, AppSession, ServerProcess};

/// Phone viewport (CSS pixels).
pub const PHONE: (u32, u32) = (390, 844);
/// Tablet viewport (CSS pixels).
pub const TABLET: (u32, u32) = (820, 1180);
/// Both sizes every step is shot at, with the name each screenshot carries.
pub const SIZES: [(&str, (u32, u32)); 2] = [("phone", PHONE), ("tablet", TABLET)];
/// The order the shop page's "Help with my order" button opens the widget
/// on (`Mostrador.open({order})`).
pub const SHOP_ORDER: &str = "LB-30001";
/// The shop's identity secret the support server is started with.
pub const IDENTITY_SECRET: &str = "e2e-shop-identity-secret-of-32-bytes";

/// Where the web build lives (`cargo xtask ui` writes it).
pub fn web_dir() -> PathBuf {
    std::env::var_os("MOSTRADOR_WEB_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("src-ui/dist-web"))
}

/// Headless Chromium under chromedriver, with a private profile.
#[derive(Debug)]
pub struct Browser {
    app: AppSession,
    webdriver: String,
    session: String,
}

impl std::ops::Deref for Browser {
    type Target = AppSession;
    fn deref(&self) -> &AppSession {
        &self.app
    }
}

impl Browser {
    /// Starts chromedriver on a free port and opens headless Chromium with
    /// a fresh profile, its viewport `width`×`height` CSS pixels.
    pub async fn launch((width, height): (u32, u32)) -> anyhow::Result<Self> {
        let profile = tempfile::tempdir()?;
        let port = free_port();
        let driver_bin = std::env::var_os("CHROMEDRIVER").unwrap_or_else(|| "chromedriver".into());
        let driver = Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // chromedriver, Chromium and its helpers: one group, killed together.
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| {
                format!("spawning {driver_bin:?} (Debian's chromium-driver, installed by `cargo xtask setup`)")
            })?;
        let webdriver = format!("http://127.0.0.1:{port}");
        wait_until_ready(&format!("{webdriver}/status"), Duration::from_secs(20)).await?;

        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "chrome".into());
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": chromium,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-dev-shm-usage",
                    "--no-first-run",
                    "--no-default-browser-check",
                    "--lang=en-US",
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        // The network log (`performance`) is what the benchmark counts bytes in.
        caps.insert(
            "goog:loggingPrefs".into(),
            serde_json::json!({ "performance": "ALL" }),
        );
        let client = ClientBuilder::native()
            .capabilities(caps)
            .connect(&webdriver)
            .await
            .context("opening a WebDriver session in Chromium")?;
        let session = client
            .session_id()
            .await?
            .context("chromedriver gave no session id")?;
        let browser = Self {
            app: AppSession {
                client,
                driver,
                _home: Some(profile),
            },
            webdriver,
            session,
        };
        browser.set_viewport(width, height).await?;
        Ok(browser)
    }

    /// Makes the page's viewport `width`×`height` CSS pixels at a device
    /// pixel ratio of 1. Headless Chromium's window has no fixed relation
    /// to its viewport (a 500 px minimum width, room for a pretend
    /// toolbar), so the viewport is set, not the window.
    pub async fn set_viewport(&self, width: u32, height: u32) -> anyhow::Result<()> {
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            serde_json::json!({
                "width": width, "height": height, "deviceScaleFactor": 1, "mobile": false,
            }),
        )
        .await?;
        // Measured in the top-level page (the driver may be in the panel).
        let inner = self
            .cdp(
                "Runtime.evaluate",
                serde_json::json!({
                    "expression": "[window.innerWidth, window.innerHeight]",
                    "returnByValue": true,
                }),
            )
            .await?["result"]["value"]
            .clone();
        anyhow::ensure!(
            inner == serde_json::json!([width, height]),
            "viewport {width}x{height} asked, {inner} got"
        );
        // Let the layout settle.
        tokio::time::sleep(Duration::from_millis(300)).await;
        Ok(())
    }

    /// Closes Chromium and stops chromedriver.
    pub async fn close(self) -> anyhow::Result<()> {
        self.app.close().await
    }

    /// The process id of chromedriver (Chromium's processes are its
    /// descendants).
    pub fn driver_pid(&self) -> Option<u32> {
        self.app.driver.id()
    }

    /// Runs a Chrome DevTools Protocol command on the page.
    pub async fn cdp(
        &self,
        cmd: &str,
        params: serde_json::Value,
    ) -> anyhow::Result<serde_json::Value> {
        self.chromedriver(
            "goog/cdp/execute",
            serde_json::json!({ "cmd": cmd, "params": params }),
        )
        .await
        .with_context(|| format!("CDP {cmd}"))
    }

    /// The DevTools events logged since the last call (network, page): each
    /// entry's `message` is the event as JSON text.
    pub async fn performance_log(&self) -> anyhow::Result<Vec<serde_json::Value>> {
        let v = self
            .chromedriver("se/log", serde_json::json!({ "type": "performance" }))
            .await?;
        Ok(v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["message"].as_str())
            .filter_map(|m| serde_json::from_str::<serde_json::Value>(m).ok())
            .map(|m| m["message"].clone())
            .collect())
    }

    async fn chromedriver(
        &self,
        path: &str,
        body: serde_json::Value,
    ) -> anyhow::Result<serde_json::Value> {
        let res = reqwest::Client::new()
            .post(format!(
                "{}/session/{}/{path}",
                self.webdriver, self.session
            ))
            .json(&body)
            .send()
            .await?;
        let status = res.status();
        let v: serde_json::Value = res.json().await?;
        anyhow::ensure!(status.is_success(), "chromedriver {path}: {status} {v}");
        Ok(v["value"].clone())
    }

    /// Goes to `url` in the top-level page.
    pub async fn goto(&self, url: &str) -> anyhow::Result<()> {
        self.client.goto(url).await?;
        Ok(())
    }

    /// Reloads the top-level page (and so the widget and its panel).
    pub async fn reload(&self) -> anyhow::Result<()> {
        self.to_page().await?;
        self.client.refresh().await?;
        Ok(())
    }

    /// Moves the driver into the widget's panel (the app's iframe), once
    /// the app in it has said it is ready. (Entering a frame whose app is
    /// still starting stalls chromedriver for seconds to a minute.)
    pub async fn to_app(&self) -> anyhow::Result<()> {
        self.to_page().await?;
        self.wait_for_js(
            "the app in the panel says it is ready",
            "return (window.__mostradorMessages || []).some(m => m.type === 'mostrador:ready');",
            Duration::from_secs(60),
        )
        .await?;
        self.widget(APP_FRAME).await?.enter_frame().await?;
        Ok(())
    }

    /// The messages the app posted to the shop page so far (`mostrador:*`).
    pub async fn app_messages(&self) -> anyhow::Result<Vec<serde_json::Value>> {
        self.to_page().await?;
        let v = self
            .eval("return window.__mostradorMessages || [];")
            .await?;
        Ok(v.as_array().cloned().unwrap_or_default())
    }

    /// The element matching `css` inside the widget's shadow root, waiting
    /// for it (30 s). The widget keeps its launcher and panel in a shadow
    /// root, which WebDriver's selectors do not cross (and which a closed
    /// root would hide from page scripts too); the DevTools protocol sees
    /// through it (`pierce`), and the node it finds is handed to WebDriver
    /// as an ordinary element (so a click is a real pointer click,
    /// hit-tested).
    pub async fn widget(&self, css: &str) -> anyhow::Result<Element> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(el) = self.try_widget(css).await? {
                return Ok(el);
            }
            if Instant::now() >= deadline {
                let shot = self.screenshot(&crate::failure_name()).await.ok();
                bail!("widget {css}: not there after 30 s; screenshot {shot:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The element matching `css` inside the widget's shadow root, if any
    /// (from the shop page's frame).
    pub async fn try_widget(&self, css: &str) -> anyhow::Result<Option<Element>> {
        let doc = self
            .cdp(
                "DOM.getDocument",
                serde_json::json!({ "depth": 5, "pierce": true }),
            )
            .await?;
        let Some(root) = shadow_root_of_host(&doc["root"]) else {
            return Ok(None);
        };
        let found = self
            .cdp(
                "DOM.querySelector",
                serde_json::json!({ "nodeId": root, "selector": css }),
            )
            .await?;
        let node = found["nodeId"].as_i64().unwrap_or(0);
        if node == 0 {
            return Ok(None);
        }
        let object = self
            .cdp("DOM.resolveNode", serde_json::json!({ "nodeId": node }))
            .await?;
        let object = object["object"]["objectId"]
            .as_str()
            .context("DOM.resolveNode gave no object")?;
        self.cdp(
            "Runtime.callFunctionOn",
            serde_json::json!({
                "objectId": object,
                "functionDeclaration": "function () { window.__mostradorE2e = this; }",
            }),
        )
        .await?;
        let el = self
            .eval("const e = window.__mostradorE2e; delete window.__mostradorE2e; return e;")
            .await?;
        let id = el
            .get(ELEMENT_KEY)
            .and_then(|v| v.as_str())
            .with_context(|| format!("no element reference for widget {css}: {el}"))?;
        Ok(Some(Element::from_element_id(
            self.client.clone(),
            id.to_owned().into(),
        )))
    }

    /// Closes the panel from inside the app (its Close button) and waits
    /// for the launcher to be back; leaves the driver on the shop page.
    pub async fn close_widget(&self) -> anyhow::Result<()> {
        self.to_app().await?;
        self.click(APP_CLOSE).await?;
        self.to_page().await?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.widget_shown(LAUNCHER).await? {
            if Instant::now() >= deadline {
                bail!("the launcher is not back 30 s after the app's Close");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }

    /// Clicks the widget's launcher.
    pub async fn open_widget(&self) -> anyhow::Result<()> {
        self.to_page().await?;
        self.widget(LAUNCHER).await?.click().await?;
        Ok(())
    }

    /// Whether the widget's `css` is shown (exists, not `hidden`).
    pub async fn widget_shown(&self, css: &str) -> anyhow::Result<bool> {
        Ok(match self.try_widget(css).await? {
            Some(el) => el.is_displayed().await?,
            None => false,
        })
    }

    /// Moves the driver back to the shop page (from the app's iframe).
    pub async fn to_page(&self) -> anyhow::Result<()> {
        self.client.enter_parent_frame().await?;
        Ok(())
    }

    /// Saves a screenshot of the page (with the panel) at each size of
    /// [`SIZES`], named `<name>-phone` and `<name>-tablet`, then goes back
    /// to `back_to` (the size the test runs at). Stays in the frame it
    /// was in.
    pub async fn screenshots(&self, name: &str, back_to: (u32, u32)) -> anyhow::Result<()> {
        for (size, (w, h)) in SIZES {
            self.set_viewport(w, h).await?;
            self.screenshot(&format!("{name}-{size}")).await?;
        }
        self.set_viewport(back_to.0, back_to.1).await
    }
}

/// The widget's panel: the app's iframe from the support server (in the
/// widget's shadow root).
pub const APP_FRAME: &str = "iframe[src*='/app/']";
/// The widget's launcher button on the shop page (in its shadow root).
pub const LAUNCHER: &str = "button.launcher";
/// The launcher's unread badge.
pub const BADGE: &str = ".badge";
/// The app's own Close button in embed mode (in the panel's frame): the
/// app asks the widget to close the panel.
pub const APP_CLOSE: &str = "[data-testid=embed-close]";
/// WebDriver's key for an element reference in JSON.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The node id of the widget's shadow root (its host carries
/// `data-mostrador`), in a `DOM.getDocument` answer.
fn shadow_root_of_host(node: &serde_json::Value) -> Option<i64> {
    let attrs = node["attributes"].as_array();
    // Attributes come as a flat [name, value, name, value, …] list.
    let is_host = attrs.is_some_and(|a| a.iter().step_by(2).any(|n| n == "data-mostrador"));
    if is_host {
        return node["shadowRoots"][0]["nodeId"].as_i64();
    }
    node["children"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(shadow_root_of_host)
}

/// A shopper as the shop knows them (what the shop signs).
#[derive(Debug, Clone)]
pub struct Shopper {
    pub email: String,
    pub name: Option<String>,
    /// The shop's own customer id.
    pub sub: Option<String>,
}

impl Shopper {
    pub fn new(email: &str, name: &str) -> Self {
        Self {
            email: email.into(),
            name: Some(name.into()),
            sub: Some(format!("shop-customer-{}", uuid::Uuid::new_v4().simple())),
        }
    }

    /// The claims a shop signs: `exp` is `valid_for` from now (negative:
    /// already expired), a fresh `jti` each time.
    pub fn claims(&self, valid_for: Duration, expired: bool) -> serde_json::Value {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let exp = if expired {
            now.saturating_sub(valid_for.as_secs())
        } else {
            now + valid_for.as_secs()
        };
        let mut claims = serde_json::json!({
            "email": self.email,
            "iat": now,
            "exp": exp,
            "jti": uuid::Uuid::new_v4().to_string(),
        });
        if let Some(name) = &self.name {
            claims["name"] = name.as_str().into();
        }
        if let Some(sub) = &self.sub {
            claims["sub"] = sub.as_str().into();
        }
        claims
    }
}

/// An HS256 JWT of `claims` signed with `secret`, as the shop's backend
/// makes one (header `{"alg":"HS256","typ":"JWT"}`, base64url without
/// padding, HMAC-SHA256 over `header.payload`).
pub fn sign_identity(secret: &str, claims: &serde_json::Value) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = b64.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = b64.encode(claims.to_string());
    let signing_input = format!("{header}.{payload}");
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes any key length");
    mac.update(signing_input.as_bytes());
    let sig = b64.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{sig}")
}

/// What the shop page embeds: the support server, and whose identity it
/// signs with which secret (each page load signs a fresh one, as a shop's
/// server-rendered page does).
#[derive(Debug, Clone, Default)]
struct ShopConfig {
    support: String,
    shopper: Option<Shopper>,
    secret: String,
    expired: bool,
}

/// A sample shop site on its own loopback port: `/` (a product page in the
/// language of `?lang=`, default en) with the widget tag.
#[derive(Debug)]
pub struct ShopSite {
    /// `http://127.0.0.1:PORT`
    pub origin: String,
    config: Arc<Mutex<ShopConfig>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ShopSite {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ShopSite {
    /// Binds a free port and serves the page (the widget's address is set
    /// by [`ShopSite::embed`] once the support server is up).
    pub async fn start() -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let origin = format!("http://{}", listener.local_addr()?);
        let config = Arc::new(Mutex::new(ShopConfig::default()));
        let state = Arc::clone(&config);
        let app = axum::Router::new()
            .route("/", axum::routing::get(shop_page))
            .with_state(state);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            origin,
            config,
            task,
        })
    }

    /// The page embeds the widget of `support`, signing `shopper` (none:
    /// an anonymous visitor) with `secret`.
    pub fn embed(&self, support: &str, shopper: Option<Shopper>, secret: &str) {
        let mut c = self.config.lock().expect("shop config");
        c.support = support.to_owned();
        c.shopper = shopper;
        c.secret = secret.to_owned();
        c.expired = false;
    }

    /// From now on the page signs identities that expired an hour ago.
    pub fn sign_expired(&self) {
        self.config.lock().expect("shop config").expired = true;
    }

    /// The page's address in `lang` (`en`, `es`, `ru`).
    pub fn page(&self, lang: &str) -> String {
        format!("{}/?lang={lang}", self.origin)
    }
}

async fn shop_page(
    axum::extract::State(config): axum::extract::State<Arc<Mutex<ShopConfig>>>,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> axum::response::Html<String> {
    let c = config.lock().expect("shop config").clone();
    let lang = match query.get("lang").map(String::as_str) {
        Some(l @ ("es" | "ru")) => l,
        _ => "en",
    };
    let identity = c
        .shopper
        .as_ref()
        .map(|s| sign_identity(&c.secret, &s.claims(Duration::from_secs(3600), c.expired)));
    axum::response::Html(shop_html(lang, &c.support, identity.as_deref()))
}

/// The sample shop page: a header, products, a "help with my order" button
/// using the widget's public API, and the widget tag.
fn shop_html(lang: &str, support: &str, identity: Option<&str>) -> String {
    let (title, products, help) = match lang {
        "es" => ("Lumbre — Tienda", "Novedades", "Ayuda con mi pedido"),
        "ru" => ("Lumbre — Магазин", "Новинки", "Помощь с заказом"),
        _ => ("Lumbre — Shop", "New this week", "Help with my order"),
    };
    let identity = identity
        .map(|jwt| format!(" data-identity=\"{jwt}\""))
        .unwrap_or_default();
    format!(
        r#"<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
  body {{ margin: 0; font-family: sans-serif; color: #1d1d1f; background: #faf7f2; }}
  header {{ background: #7a2e0e; color: #fff; padding: 16px 20px; }}
  header h1 {{ margin: 0; font-size: 1.4rem; }}
  main {{ padding: 20px; }}
  ul {{ list-style: none; padding: 0; display: grid; gap: 12px;
        grid-template-columns: repeat(auto-fill, minmax(160px, 1fr)); }}
  li {{ background: #fff; border: 1px solid #ddd; border-radius: 8px; padding: 12px; }}
  .price {{ color: #7a2e0e; font-weight: bold; }}
  #help-order {{ margin-top: 16px; padding: 10px 14px; }}
</style>
</head>
<body>
<header><h1>Lumbre Home Goods</h1></header>
<main>
<h2>{products}</h2>
<ul>
  <li>Stoneware mug <div class="price">€34.50</div></li>
  <li>Linen napkins (4) <div class="price">€22.00</div></li>
  <li>Olive-wood board <div class="price">€41.90</div></li>
  <li>Copper kettle <div class="price">€89.00</div></li>
</ul>
<button id="help-order" type="button" onclick="Mostrador.open({{order: '{SHOP_ORDER}'}})">{help} {SHOP_ORDER}</button>
</main>
<script>
  // What the app tells the widget, as the page sees it (the tests read it).
  window.__mostradorMessages = [];
  window.addEventListener("message", (e) => {{
    if (e.origin === "{support}" && e.data && String(e.data.type).startsWith("mostrador:")) {{
      window.__mostradorMessages.push(e.data);
    }}
  }});
</script>
<script src="{support}/widget.js"{identity} async></script>
</body>
</html>
"#
    )
}

/// The shop sends order `number` for `email` through its signed webhook,
/// then two tracking events (the newest: in transit).
pub async fn send_order(server: &ServerProcess, email: &str, number: &str) -> anyhow::Result<()> {
    let now = jiff::Timestamp::now();
    let earlier = now - jiff::SignedDuration::from_hours(20);
    server
        .ingest(serde_json::json!({
            "event_id": format!("{number}-placed"), "occurred_at": earlier.to_string(),
            "order_number": number, "type": "order_upserted", "customer_email": email,
            "placed_at": earlier.to_string(), "total_minor": 3450, "currency": "EUR",
            "items": [{"sku": "MUG-1", "name": "Stoneware mug", "quantity": 1, "unit_price_minor": 3450}],
        }))
        .await?;
    for (i, (status, place, at)) in [
        (
            "shipped",
            "Valencia",
            earlier + jiff::SignedDuration::from_hours(2),
        ),
        ("in_transit", "Zaragoza", now),
    ]
    .into_iter()
    .enumerate()
    {
        server
            .ingest(serde_json::json!({
                "event_id": format!("{number}-tracking-{i}"), "occurred_at": at.to_string(),
                "order_number": number, "type": "tracking", "status": status, "place": place,
                "description": format!("Parcel scanned in {place}"),
            }))
            .await?;
    }
    Ok(())
}

/// Starts the support server with the demo data, serving the web build and
/// letting `shop` frame it, and points the shop page's widget at it,
/// signing `shopper`'s identity with [`IDENTITY_SECRET`].
pub async fn start_with_shop(
    data_dir: &Path,
    shopper: Option<Shopper>,
) -> anyhow::Result<(ServerProcess, ShopSite)> {
    let web = web_dir();
    anyhow::ensure!(
        web.join("index.html").exists(),
        "{} has no web build: run the tests through `cargo xtask test` (it builds the web app)",
        web.display()
    );
    let shop = ShopSite::start().await?;
    let web = web.to_string_lossy().into_owned();
    let server = ServerProcess::start_demo_with(
        data_dir,
        &[
            "--web-dir",
            &web,
            "--identity-secret",
            IDENTITY_SECRET,
            "--shop-origin",
            &shop.origin,
        ],
    )
    .await?;
    shop.embed(&server.url, shopper, IDENTITY_SECRET);
    Ok((server, shop))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_identity_is_a_standard_hs256_jwt() {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let claims = serde_json::json!({ "email": "a@b.c", "exp": 2_000_000_000u64, "jti": "1" });
        let jwt = sign_identity("secret", &claims);
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value =
            serde_json::from_slice(&b64.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["alg"], "HS256");
        let payload: serde_json::Value =
            serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(payload, claims);
        // The same token as `openssl dgst -sha256 -hmac secret` signs.
        assert_eq!(
            jwt,
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.\
             eyJlbWFpbCI6ImFAYi5jIiwiZXhwIjoyMDAwMDAwMDAwLCJqdGkiOiIxIn0.\
             mnXR_m4Pbia358SKIWf6vptkqet8KKqz3W9j1Sb8lkE"
        );
        assert_ne!(sign_identity("other", &claims), jwt);
    }

    #[test]
    fn the_shop_page_has_its_language_and_the_widget_tag() {
        let html = shop_html("es", "http://127.0.0.1:9", Some("a.b.c"));
        assert!(html.contains(r#"<html lang="es">"#));
        assert!(html.contains(
            r#"<script src="http://127.0.0.1:9/widget.js" data-identity="a.b.c" async></script>"#
        ));
    }
}
