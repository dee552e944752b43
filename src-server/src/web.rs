//! What browsers load from this server besides the API: the web app at
//! `/app/` (from `--web-dir`), the shop widget `/widget.js`, and, with
//! `--demo-shop`, a sample shop page at `/demo/shop`.
//!
//! The web app is served with a strict Content-Security-Policy (its own
//! scripts and wasm only, no inline script or eval, connections to this
//! origin and its WebSocket) whose `frame-ancestors` lists this origin and
//! each `--shop-origin`, so only those sites can show it in a frame. Any
//! path under `/app/` that is not a file and has no extension is the app's
//! own route and answers `index.html`; a missing file with an extension is
//! a 404 in the one JSON error shape, as is the whole of `/app/` when no
//! web app is there. Text, JavaScript and wasm go compressed (brotli or
//! gzip, as the browser accepts): a `<file>.br` / `<file>.gz` built beside
//! the file is used when present, else the file is compressed and kept in
//! memory until it changes on disk: at the best level in the background
//! from start-up on, and quickly for a visitor who asks before that is
//! done (replaced by the best copy once it is ready), so no one waits for
//! brotli's slowest level.
//! `index.html`, `sw.js` and the manifest are `no-cache` (revalidated with
//! their ETag on every load); file names carrying a content hash are
//! cached for a year.
//!
//! **Architecture invariant:** nothing here reads the database or a
//! session; the app authenticates with its bearer token like any client.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use mostrador_core::{ApiError, ErrorCode};

use crate::config::ServerConfig;
use crate::error::api_error_response;
use crate::state::AppState;

/// The widget script shops embed (plain JavaScript, no build step).
pub const WIDGET_JS: &str = include_str!("../assets/widget.js");
const DEMO_SHOP_HTML: &str = include_str!("../assets/demo-shop.html");
const DEMO_SHOP_JS: &str = include_str!("../assets/demo-shop.js");

/// The demo shopper the demo shop page signs in (seeded by `seed-demo`).
pub const DEMO_SHOPPER_EMAIL: &str = "ana@mostrador.demo";

/// Checks a `--shop-origin`: `http(s)://host[:port]` (a trailing `/` is
/// dropped; `*.` may start the host), nothing a CSP source could be
/// tricked with.
pub fn parse_origin(raw: &str) -> anyhow::Result<String> {
    let origin = raw.trim().trim_end_matches('/');
    let (scheme, rest) = origin
        .split_once("://")
        .ok_or_else(|| anyhow::anyhow!("--shop-origin {raw:?}: expected https://host[:port]"))?;
    anyhow::ensure!(
        matches!(scheme, "http" | "https"),
        "--shop-origin {raw:?}: the scheme must be http or https"
    );
    let host = rest.strip_prefix("*.").unwrap_or(rest);
    anyhow::ensure!(
        host_and_port(host),
        "--shop-origin {raw:?}: an origin is a scheme and a host (and port), without path, query or spaces"
    );
    Ok(format!("{scheme}://{}", rest.to_ascii_lowercase()))
}

/// Whether `s` is `name[:port]` or `[v6][:port]`: a name of letters,
/// digits, `.` and `-`, a port of at most five digits.
fn host_and_port(s: &str) -> bool {
    let (host_ok, port) = match s.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((addr, tail)) => (
                !addr.is_empty()
                    && addr
                        .chars()
                        .all(|c| c.is_ascii_hexdigit() || matches!(c, ':' | '.')),
                match tail {
                    "" => None,
                    t => Some(t.strip_prefix(':').unwrap_or("not a port")),
                },
            ),
            None => (false, None),
        },
        None => {
            let (name, port) = match s.split_once(':') {
                Some((name, port)) => (name, Some(port)),
                None => (s, None),
            };
            (
                !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-')),
                port,
            )
        }
    };
    host_ok
        && port.is_none_or(|p| (1..=5).contains(&p.len()) && p.chars().all(|c| c.is_ascii_digit()))
}

/// The web app's Content-Security-Policy for a page reached as `host`.
pub fn app_csp(host: Option<&str>, shop_origins: &[String]) -> String {
    // The browser's own `Host` is echoed only when it is a plain host[:port].
    let sockets = host
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .map(|h| format!(" ws://{h} wss://{h}"))
        .unwrap_or_default();
    let mut ancestors = String::from("'self'");
    for o in shop_origins {
        ancestors.push(' ');
        ancestors.push_str(o);
    }
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data: blob:; connect-src 'self'{sockets}; frame-ancestors {ancestors}; \
         object-src 'none'; base-uri 'none'; form-action 'self'"
    )
}

/// How a response body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Coding {
    Brotli,
    Gzip,
}

impl Coding {
    fn token(self) -> &'static str {
        match self {
            Coding::Brotli => "br",
            Coding::Gzip => "gzip",
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Coding::Brotli => "br",
            Coding::Gzip => "gz",
        }
    }

    /// `bytes` compressed: `best` is the smallest (brotli 11, slow on a
    /// large wasm), else brotli 5 (fast, a little larger). Gzip is always
    /// at its best level, which is fast anyway.
    fn compress(self, bytes: &[u8], best: bool) -> Vec<u8> {
        match self {
            Coding::Brotli => {
                let params = brotli::enc::BrotliEncoderParams {
                    quality: if best { 11 } else { 5 },
                    lgwin: 22,
                    ..Default::default()
                };
                let mut out = Vec::with_capacity(bytes.len() / 3);
                brotli::BrotliCompress(&mut &bytes[..], &mut out, &params)
                    .expect("compressing into memory");
                out
            }
            Coding::Gzip => {
                let mut gz = flate2::write::GzEncoder::new(
                    Vec::with_capacity(bytes.len() / 3),
                    flate2::Compression::best(),
                );
                gz.write_all(bytes).expect("compressing into memory");
                gz.finish().expect("compressing into memory")
            }
        }
    }

    /// Whether a quick compression is already this coding's best.
    fn fast_is_best(self) -> bool {
        self == Coding::Gzip
    }
}

/// The coding to answer with, from `Accept-Encoding` (brotli preferred;
/// `q=0` refuses a coding).
fn negotiate(headers: &HeaderMap) -> Option<Coding> {
    let accepted: Vec<&str> = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|item| {
            let mut parts = item.split(';').map(str::trim);
            let token = parts.next()?;
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (!refused).then_some(token)
        })
        .collect();
    let accepts = |t: &str| accepted.iter().any(|a| a.eq_ignore_ascii_case(t));
    if accepts("br") {
        Some(Coding::Brotli)
    } else if accepts("gzip") {
        Some(Coding::Gzip)
    } else {
        None
    }
}

/// Content type and whether it is worth compressing, by extension.
fn content_type(path: &Path) -> (&'static str, bool) {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    match ext.as_str() {
        "html" | "htm" => ("text/html; charset=utf-8", true),
        "js" | "mjs" => ("text/javascript; charset=utf-8", true),
        "wasm" => ("application/wasm", true),
        "css" => ("text/css; charset=utf-8", true),
        "json" | "map" => ("application/json", true),
        "webmanifest" => ("application/manifest+json", true),
        "svg" => ("image/svg+xml", true),
        "txt" => ("text/plain; charset=utf-8", true),
        "ico" => ("image/x-icon", true),
        "png" => ("image/png", false),
        "jpg" | "jpeg" => ("image/jpeg", false),
        "webp" => ("image/webp", false),
        "woff2" => ("font/woff2", false),
        "woff" => ("font/woff", false),
        _ => ("application/octet-stream", false),
    }
}

/// Whether a file name carries a content hash (`app-1a2b3c4d5e6f7a8b.wasm`),
/// so its content never changes under that name.
fn is_hashed(path: &Path) -> bool {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    stem.rsplit_once('-')
        .is_some_and(|(_, h)| h.len() >= 16 && h.chars().all(|c| c.is_ascii_hexdigit()))
}

fn cache_control(path: &Path) -> &'static str {
    if is_hashed(path) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    }
}

/// A compressed copy of a file, valid while the file keeps its size and
/// modification time.
struct Compressed {
    len: u64,
    modified: Option<SystemTime>,
    bytes: Bytes,
    /// At the coding's best level (else a quick one waiting to be
    /// replaced).
    best: bool,
}

type Key = (PathBuf, Coding);

/// The web app directory and what was compressed from it.
struct WebApp {
    dir: Option<PathBuf>,
    shop_origins: Vec<String>,
    cache: Mutex<HashMap<Key, Arc<Compressed>>>,
    /// One best-level compression at a time (they are CPU-heavy); a
    /// visitor never waits for one: a missing copy is compressed quickly,
    /// served, and replaced by the best one in the background.
    compressing: tokio::sync::Mutex<()>,
}

fn not_found(message: impl Into<String>) -> Response {
    api_error_response(ApiError::new(ErrorCode::NotFound, message))
}

/// The path segments of `rest` if every one is a plain name (no `..`,
/// hidden names or separators).
fn clean_segments(rest: &str) -> Option<Vec<&str>> {
    rest.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let plain = !s.starts_with('.') && !s.contains(['\\', '\0', ':']);
            plain.then_some(s)
        })
        .collect()
}

/// Whether `path` has a precompressed copy for `coding` at least as new as
/// itself (the copy is still checked to stay inside the directory when it
/// is served).
async fn fresh_sibling(path: &Path, coding: Coding, meta: &std::fs::Metadata) -> bool {
    let sibling = PathBuf::from(format!("{}.{}", path.display(), coding.suffix()));
    tokio::fs::metadata(&sibling)
        .await
        .is_ok_and(|sib| sib.is_file() && sib.modified().ok() >= meta.modified().ok())
}

impl WebApp {
    fn cached(&self, key: &Key, meta: &std::fs::Metadata) -> Option<Arc<Compressed>> {
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .get(key)
            .filter(|c| c.len == meta.len() && c.modified == meta.modified().ok())
            .cloned()
    }

    /// Compresses `key`'s file (at the best level or quickly) and keeps it.
    async fn compress(&self, key: &Key, meta: &std::fs::Metadata, best: bool) -> Option<Bytes> {
        let raw = tokio::fs::read(&key.0).await.ok()?;
        let coding = key.1;
        let bytes: Bytes = tokio::task::spawn_blocking(move || coding.compress(&raw, best))
            .await
            .ok()?
            .into();
        let entry = Arc::new(Compressed {
            len: meta.len(),
            modified: meta.modified().ok(),
            bytes: bytes.clone(),
            best: best || coding.fast_is_best(),
        });
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key.clone(), entry);
        Some(bytes)
    }

    /// Makes sure `key`'s best copy is (or gets) in the cache, one heavy
    /// compression at a time.
    async fn compress_best(&self, key: &Key, meta: &std::fs::Metadata) {
        let _turn = self.compressing.lock().await;
        if self.cached(key, meta).is_some_and(|c| c.best) {
            return;
        }
        self.compress(key, meta, true).await;
    }

    /// `path`'s bytes in `coding`: a precompressed sibling, the cache, or
    /// compressed quickly now (kept, and replaced by the best copy in the
    /// background).
    async fn encoded(
        self: &Arc<Self>,
        root: &Path,
        path: &Path,
        coding: Coding,
        meta: &std::fs::Metadata,
    ) -> Option<Bytes> {
        let sibling = PathBuf::from(format!("{}.{}", path.display(), coding.suffix()));
        if fresh_sibling(path, coding, meta).await && inside(root, &sibling).await {
            if let Ok(bytes) = tokio::fs::read(&sibling).await {
                return Some(bytes.into());
            }
        }
        let key = (path.to_path_buf(), coding);
        if let Some(c) = self.cached(&key, meta) {
            return Some(c.bytes.clone());
        }
        let bytes = self.compress(&key, meta, false).await?;
        if !coding.fast_is_best() {
            let (app, meta) = (self.clone(), meta.clone());
            tokio::spawn(async move { app.compress_best(&key, &meta).await });
        }
        Some(bytes)
    }

    /// Compresses every compressible file of the app ahead of the first
    /// visitor.
    async fn warm(self: Arc<Self>) {
        let Some(dir) = self.dir.clone() else { return };
        let mut stack = vec![dir];
        while let Some(dir) = stack.pop() {
            let Ok(mut entries) = tokio::fs::read_dir(&dir).await else {
                continue;
            };
            while let Ok(Some(entry)) = entries.next_entry().await {
                let path = entry.path();
                let Ok(meta) = entry.metadata().await else {
                    continue;
                };
                if meta.is_dir() {
                    stack.push(path);
                } else if content_type(&path).1 {
                    for coding in [Coding::Brotli, Coding::Gzip] {
                        // A build's own fresh copy (`cargo xtask ui` writes
                        // them) is served as it is: compressing the 2 MB
                        // wasm again costs seconds of CPU at every start, and
                        // a blocking compression holds up the process's exit.
                        if fresh_sibling(&path, coding, &meta).await {
                            continue;
                        }
                        self.compress_best(&(path.clone(), coding), &meta).await;
                    }
                }
            }
        }
        tracing::debug!("web app compressed");
    }

    async fn serve(self: &Arc<Self>, rest: &str, request: &HeaderMap) -> Response {
        let Some(dir) = &self.dir else {
            return not_found(
                "the web app is not served here: start mostrador-server with --web-dir <the built web app> (cargo xtask builds it into src-ui/dist-web)",
            );
        };
        let Some(segments) = clean_segments(rest) else {
            return not_found("no such file in the web app");
        };
        let mut path = dir.clone();
        path.extend(&segments);
        let is_file = tokio::fs::metadata(&path).await.is_ok_and(|m| m.is_file());
        if !is_file {
            if segments.last().is_some_and(|s| s.contains('.')) {
                return not_found("no such file in the web app");
            }
            // The app's own routes (`/app/`, `/app/orders/MS-10001`).
            path = dir.join("index.html");
        }
        let Ok(meta) = tokio::fs::metadata(&path).await else {
            tracing::warn!("the web app directory (--web-dir) has no index.html");
            return not_found(
                "the web app is not built: its directory (--web-dir) has no index.html; build it with cargo xtask",
            );
        };
        // A symbolic link inside the directory is followed only to a file
        // inside it.
        let Ok(root) = tokio::fs::canonicalize(dir).await else {
            return not_found("no such file in the web app");
        };
        if !inside(&root, &path).await {
            tracing::warn!("a file of the web app (--web-dir) links outside it; not served");
            return not_found("no such file in the web app");
        }
        let (mime, compressible) = content_type(&path);
        let coding = compressible.then(|| negotiate(request)).flatten();
        // One tag per representation: the brotli, gzip and plain bodies
        // differ, so they must not share a strong ETag.
        let etag = format!(
            "\"{:x}-{:x}{}\"",
            meta.len(),
            meta.modified()
                .ok()
                .and_then(|m| m.duration_since(SystemTime::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos()),
            coding.map_or(String::new(), |c| format!("-{}", c.suffix()))
        );
        let mut headers = HeaderMap::new();
        let host = request.get(header::HOST).and_then(|h| h.to_str().ok());
        put(
            &mut headers,
            header::CONTENT_SECURITY_POLICY,
            &app_csp(host, &self.shop_origins),
        );
        put(&mut headers, header::CONTENT_TYPE, mime);
        put(&mut headers, header::CACHE_CONTROL, cache_control(&path));
        put(&mut headers, header::ETAG, &etag);
        put(&mut headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
        put(&mut headers, header::REFERRER_POLICY, "no-referrer");
        if compressible {
            put(&mut headers, header::VARY, "accept-encoding");
        }
        let fresh = request
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
        if fresh {
            return (StatusCode::NOT_MODIFIED, headers).into_response();
        }
        let body = match coding {
            Some(c) => match self.encoded(&root, &path, c, &meta).await {
                Some(bytes) => {
                    put(&mut headers, header::CONTENT_ENCODING, c.token());
                    bytes
                }
                None => return not_found("no such file in the web app"),
            },
            None => match tokio::fs::read(&path).await {
                Ok(bytes) => bytes.into(),
                Err(_) => return not_found("no such file in the web app"),
            },
        };
        (headers, Body::from(body)).into_response()
    }
}

/// Whether `path`, its links followed, is within `root` (canonical).
async fn inside(root: &Path, path: &Path) -> bool {
    tokio::fs::canonicalize(path)
        .await
        .is_ok_and(|real| real.starts_with(root))
}

fn put(headers: &mut HeaderMap, name: header::HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(name, v);
    }
}

/// `/widget.js`: any site may load it; cached five minutes.
async fn widget(req: Request) -> Response {
    static GZIP: OnceLock<Bytes> = OnceLock::new();
    static BROTLI: OnceLock<Bytes> = OnceLock::new();
    let mut headers = HeaderMap::new();
    put(
        &mut headers,
        header::CONTENT_TYPE,
        "text/javascript; charset=utf-8",
    );
    put(&mut headers, header::CACHE_CONTROL, "public, max-age=300");
    put(&mut headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    put(&mut headers, header::VARY, "accept-encoding");
    // Shop pages that isolate themselves (COEP) may still load it.
    headers.insert(
        header::HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("cross-origin"),
    );
    let body = match negotiate(req.headers()) {
        Some(c) => {
            put(&mut headers, header::CONTENT_ENCODING, c.token());
            let cell = if c == Coding::Brotli { &BROTLI } else { &GZIP };
            cell.get_or_init(|| c.compress(WIDGET_JS.as_bytes(), true).into())
                .clone()
        }
        None => Bytes::from_static(WIDGET_JS.as_bytes()),
    };
    (headers, Body::from(body)).into_response()
}

/// `/demo/shop`: a sample shop page with the widget, carrying an identity
/// freshly signed for the demo shopper (valid one hour, used once).
fn demo_shop(secret: &str) -> Response {
    let now = crate::db::now_ms() / 1000;
    let identity = crate::routes::identity::sign(
        secret.as_bytes(),
        &serde_json::json!({
            "email": DEMO_SHOPPER_EMAIL,
            "sub": "demo-shopper-1",
            "iat": now,
            "exp": now + 3600,
            "jti": uuid::Uuid::new_v4().to_string(),
        }),
    );
    let html = DEMO_SHOP_HTML.replace("{{IDENTITY}}", &identity);
    let mut headers = HeaderMap::new();
    put(
        &mut headers,
        header::CONTENT_TYPE,
        "text/html; charset=utf-8",
    );
    // A fresh identity on every view.
    put(&mut headers, header::CACHE_CONTROL, "no-store");
    put(
        &mut headers,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-src 'self'; object-src 'none'; base-uri 'none'",
    );
    (headers, html).into_response()
}

/// The browser-facing routes (outside the API document).
pub fn router(config: &ServerConfig) -> Router<AppState> {
    if let Some(dir) = &config.web_dir {
        if !dir.join("index.html").is_file() {
            tracing::warn!(dir = %dir.display(), "--web-dir has no index.html; /app/ answers 404 until it is built");
        }
    }
    let app = Arc::new(WebApp {
        dir: config.web_dir.clone(),
        shop_origins: config.shop_origins.clone(),
        cache: Mutex::new(HashMap::new()),
        compressing: tokio::sync::Mutex::new(()),
    });
    if app.dir.is_some() {
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(app.clone().warm());
        }
    }
    let at_root = app.clone();
    let mut router = Router::new()
        .route(
            "/app",
            get(|req: Request| async move {
                let query = req
                    .uri()
                    .query()
                    .map(|q| format!("?{q}"))
                    .unwrap_or_default();
                Redirect::permanent(&format!("/app/{query}"))
            }),
        )
        .route(
            "/app/",
            get(move |headers: HeaderMap| {
                let app = at_root.clone();
                async move { app.serve("", &headers).await }
            }),
        )
        .route(
            "/app/{*path}",
            get(
                move |axum::extract::Path(path): axum::extract::Path<String>,
                      headers: HeaderMap| {
                    let app = app.clone();
                    async move { app.serve(&path, &headers).await }
                },
            ),
        )
        .route("/widget.js", get(widget));
    if config.demo_shop {
        if let Some(secret) = config.identity_secret.clone() {
            router = router
                .route("/demo/shop", get(move || async move { demo_shop(&secret) }))
                .route(
                    "/demo/shop.js",
                    get(|| async {
                        let mut headers = HeaderMap::new();
                        put(
                            &mut headers,
                            header::CONTENT_TYPE,
                            "text/javascript; charset=utf-8",
                        );
                        put(&mut headers, header::CACHE_CONTROL, "no-cache");
                        (headers, DEMO_SHOP_JS)
                    }),
                );
        }
    }
    router
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_checked() {
        assert_eq!(
            parse_origin("https://Shop.example.com/").unwrap(),
            "https://shop.example.com"
        );
        assert_eq!(
            parse_origin("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            parse_origin("https://*.example.com").unwrap(),
            "https://*.example.com"
        );
        assert_eq!(
            parse_origin("http://[::1]:8080").unwrap(),
            "http://[::1]:8080"
        );
        for bad in [
            "shop.example.com",
            "ftp://x.y",
            "https://a.b/path",
            "https://a.b; script-src *",
            "https://",
            "https://a b",
            "https://:",
            "https://a:b:c",
            "https://a.b:80:90",
            "https://a.b:",
            "https://[]",
            "https://[::1]x",
            "https://a]b",
            "https://*.",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_csp_lists_shop_origins_and_the_own_socket() {
        let csp = app_csp(
            Some("support.example:8787"),
            &["https://shop.example".into()],
        );
        assert!(
            csp.contains("frame-ancestors 'self' https://shop.example;"),
            "{csp}"
        );
        assert!(csp
            .contains("connect-src 'self' ws://support.example:8787 wss://support.example:8787;"));
        assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval';"));
        assert!(!app_csp(Some("evil; script-src *"), &[]).contains("evil"));
    }

    #[test]
    fn encodings_types_and_paths() {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip, deflate, br;q=0"),
        );
        assert_eq!(negotiate(&h), Some(Coding::Gzip));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip, br"),
        );
        assert_eq!(negotiate(&h), Some(Coding::Brotli));
        assert_eq!(negotiate(&HeaderMap::new()), None);
        assert_eq!(
            content_type(Path::new("a/app_bg.wasm")).0,
            "application/wasm"
        );
        assert_eq!(
            content_type(Path::new("manifest.webmanifest")).0,
            "application/manifest+json"
        );
        assert!(is_hashed(Path::new("app-0123456789abcdef.js")));
        assert!(!is_hashed(Path::new("sw.js")));
        assert_eq!(clean_segments("a/b.js"), Some(vec!["a", "b.js"]));
        for bad in ["../etc/passwd", "a/../../b", ".git/config", "a\\b"] {
            assert_eq!(clean_segments(bad), None, "{bad}");
        }
        for c in [Coding::Brotli, Coding::Gzip] {
            let data = "mostrador ".repeat(1000);
            for best in [false, true] {
                assert!(c.compress(data.as_bytes(), best).len() < 200);
            }
        }
    }
}
