//! What browsers get from the server: live tickets for the WebSocket
//! (single use, short-lived, bound to the session), the web app under
//! `/app/` (strict CSP naming the shop origins, content types, the index
//! for the app's own routes, compression, caching), `/widget.js`, and the
//! demo shop page whose identity signs the demo shopper in.

mod common;

use std::io::Read;
use std::time::Duration;

use common::{Backend, TestServer};
use futures_util::StreamExt;
use mostrador_core::live::{LiveServerMessage, CLOSE_SESSION_ENDED};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens the live socket as a browser does: no headers, a ticket in the URL.
async fn connect(s: &TestServer, query: &str) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let url = format!("{}/api/v1/live{query}", s.base.replace("http://", "ws://"));
    let (ws, _) = tokio_tungstenite::connect_async(url.into_client_request()?).await?;
    Ok(ws)
}

fn refused_with(err: tokio_tungstenite::tungstenite::Error) -> u16 {
    match err {
        tokio_tungstenite::tungstenite::Error::Http(res) => res.status().as_u16(),
        other => panic!("not an HTTP refusal: {other}"),
    }
}

async fn ticket(s: &TestServer, token: &str) -> String {
    let (st, v) = s.post("/api/v1/live/ticket", Some(token), json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["expires_in"], 30);
    v["ticket"].as_str().unwrap().to_owned()
}

async fn first_message(ws: &mut Ws) -> Option<LiveServerMessage> {
    tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(Ok(msg)) = ws.next().await {
            if let Message::Text(t) = msg {
                return serde_json::from_str(&t).ok();
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
}

async fn closed_with(ws: &mut Ws) -> Option<u16> {
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    })
    .await
    .expect("the socket stayed open")
}

async fn a_live_ticket_opens_the_socket_once(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (token, _) = s.customer("browser@example.com").await;

    // No ticket and no bearer; an unknown ticket; asking without a session.
    assert_eq!(refused_with(connect(&s, "").await.unwrap_err()), 401);
    assert_eq!(
        refused_with(connect(&s, "?ticket=made-up").await.unwrap_err()),
        401
    );
    let (st, v) = s.post("/api/v1/live/ticket", None, json!({})).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{v}");

    // A plain GET (not an upgrade) does not use the ticket up.
    let t = ticket(&s, &token).await;
    let res = s
        .http
        .get(format!("{}/api/v1/live?ticket={t}", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    let mut ws = connect(&s, &format!("?ticket={t}"))
        .await
        .expect("the ticket opens the socket");
    assert!(matches!(
        first_message(&mut ws).await,
        Some(LiveServerMessage::Hello { .. })
    ));
    // Single use.
    assert_eq!(
        refused_with(connect(&s, &format!("?ticket={t}")).await.unwrap_err()),
        401
    );

    // The socket is the session's: it gets pokes and ends with it.
    let conv = uuid::Uuid::new_v4();
    let (st, v) = s
        .post(
            "/api/v1/conversations",
            Some(&token),
            json!({"id": conv, "subject": "Hi", "message_id": uuid::Uuid::new_v4(), "body": "from the browser"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert!(matches!(
        first_message(&mut ws).await,
        Some(LiveServerMessage::Changed { .. })
    ));
    let (st, _) = s.post("/api/v1/auth/logout", Some(&token), json!({})).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(closed_with(&mut ws).await, Some(CLOSE_SESSION_ENDED));
    s.finish().await;
}

async fn an_expired_or_orphaned_ticket_is_refused(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (token, _) = s.customer("late@example.com").await;
    let t = ticket(&s, &token).await;
    // 30 seconds later, as far as the ticket knows.
    sqlx::query("UPDATE live_tickets SET expires_at = expires_at - 31000")
        .execute(s.state.db.pool())
        .await
        .unwrap();
    assert_eq!(
        refused_with(connect(&s, &format!("?ticket={t}")).await.unwrap_err()),
        401
    );

    // A ticket whose session signed out before it was used.
    let t = ticket(&s, &token).await;
    let (st, _) = s.post("/api/v1/auth/logout", Some(&token), json!({})).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(
        refused_with(connect(&s, &format!("?ticket={t}")).await.unwrap_err()),
        401
    );
    // Expired tickets are swept when new ones are issued.
    let (other, _) = s.customer("other@example.com").await;
    ticket(&s, &other).await;
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM live_tickets WHERE expires_at <= $1")
        .bind(mostrador_server::db::now_ms())
        .fetch_one(s.state.db.pool())
        .await
        .unwrap();
    assert_eq!(left, 0);
    s.finish().await;
}

/// Eight upgrades with one ticket at once: one socket opens, seven are
/// refused.
async fn a_ticket_raced_opens_one_socket(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (token, _) = s.customer("racer@example.com").await;
    let t = ticket(&s, &token).await;
    let query = format!("?ticket={t}");
    let tries = futures_util::future::join_all((0..8).map(|_| connect(&s, &query))).await;
    let opened = tries.iter().filter(|r| r.is_ok()).count();
    assert_eq!(opened, 1, "{} of 8 upgrades opened", opened);
    for refused in tries.into_iter().filter_map(Result::err) {
        assert_eq!(refused_with(refused), 401);
    }
    s.finish().await;
}

/// A session holds at most `MAX_OPEN_TICKETS` unused tickets; used or
/// expired ones free their place.
async fn unused_tickets_are_bounded_per_session(backend: Backend) {
    use mostrador_server::live::ticket::MAX_OPEN_TICKETS;
    let s = TestServer::start(backend).await;
    let (token, _) = s.customer("hoarder@example.com").await;
    let (other, _) = s.customer("neighbour@example.com").await;
    let mut first = String::new();
    for i in 0..MAX_OPEN_TICKETS {
        let t = ticket(&s, &token).await;
        if i == 0 {
            first = t;
        }
    }
    let (st, v) = s.post("/api/v1/live/ticket", Some(&token), json!({})).await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS, "{v}");
    assert_eq!(v["code"], "rate_limited");
    // Another session is not held back.
    ticket(&s, &other).await;
    // Using one frees a place.
    let ws = connect(&s, &format!("?ticket={first}")).await.unwrap();
    drop(ws);
    ticket(&s, &token).await;
    // So does expiring.
    sqlx::query("UPDATE live_tickets SET expires_at = expires_at - 31000")
        .execute(s.state.db.pool())
        .await
        .unwrap();
    ticket(&s, &token).await;
    s.finish().await;
}

on_both_backends!(
    unused_tickets_are_bounded_per_session,
    a_live_ticket_opens_the_socket_once,
    an_expired_or_orphaned_ticket_is_refused,
    a_ticket_raced_opens_one_socket,
);

/// A built web app: what `cargo xtask` puts in `src-ui/dist-web`.
fn web_dir() -> (tempfile::TempDir, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    // Compressible like real wasm: repeated, varied bytes.
    let wasm: Vec<u8> = (0..300_000u32)
        .map(|i| (i % 251) as u8 ^ (i / 4096) as u8)
        .collect();
    std::fs::write(
        p.join("index.html"),
        "<!doctype html><title>Mostrador</title><script src=\"boot.js\" type=\"module\"></script>",
    )
    .unwrap();
    std::fs::write(
        p.join("boot.js"),
        "import init from './mostrador_ui.js'; init();",
    )
    .unwrap();
    std::fs::write(p.join("sw.js"), "self.addEventListener('fetch', () => {});").unwrap();
    std::fs::write(
        p.join("manifest.webmanifest"),
        r#"{"name":"Mostrador","start_url":"/app/"}"#,
    )
    .unwrap();
    std::fs::write(p.join("style-0123456789abcdef.css"), "body{margin:0}").unwrap();
    std::fs::write(p.join("mostrador_ui_bg.wasm"), &wasm).unwrap();
    std::fs::create_dir(p.join("icons")).unwrap();
    std::fs::write(p.join("icons/icon.png"), [0x89, b'P', b'N', b'G']).unwrap();
    (dir, wasm)
}

async fn get(s: &TestServer, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = s.http.get(format!("{}{path}", s.base));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

fn header<'a>(res: &'a reqwest::Response, name: &str) -> &'a str {
    res.headers().get(name).map_or("", |v| v.to_str().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_app_is_served_with_a_strict_policy_compressed() {
    let (dir, wasm) = web_dir();
    let path = dir.path().to_path_buf();
    let s = TestServer::start_with(Backend::Sqlite, move |c| {
        c.web_dir = Some(path);
        c.shop_origins = vec![
            "https://shop.example".into(),
            "http://127.0.0.1:9999".into(),
        ];
    })
    .await;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let res = get(&s, "/app/", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&res, "cache-control"), "no-cache");
    let csp = header(&res, "content-security-policy").to_owned();
    for part in [
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "frame-ancestors 'self' https://shop.example http://127.0.0.1:9999",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ] {
        assert!(csp.contains(part), "{part} missing from {csp}");
    }
    let host = s.base.trim_start_matches("http://");
    assert!(
        csp.contains(&format!("connect-src 'self' ws://{host} wss://{host}")),
        "{csp}"
    );
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"),
        "{csp}"
    );
    let index = res.text().await.unwrap();
    assert!(index.contains("<title>Mostrador</title>"));

    // The app's own routes answer the index; a missing file does not.
    for route in [
        "/app/orders/MS-10001",
        "/app/conversations",
        "/app/?embed=1&lang=es",
    ] {
        let res = get(&s, route, &[]).await;
        assert_eq!(res.status(), StatusCode::OK, "{route}");
        assert_eq!(res.text().await.unwrap(), index, "{route}");
    }
    let res = get(&s, "/app/missing.js", &[]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["code"], "not_found");
    for escape in [
        "/app/%2e%2e/%2e%2e/Cargo.toml",
        "/app/..%2fCargo.toml",
        "/app/.hidden",
    ] {
        let res = get(&s, escape, &[]).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{escape}");
    }
    let res = no_redirects
        .get(format!("{}/app?embed=1", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(header(&res, "location"), "/app/?embed=1");

    // Content types and caching.
    for (path, mime, cache) in [
        ("/app/boot.js", "text/javascript; charset=utf-8", "no-cache"),
        ("/app/sw.js", "text/javascript; charset=utf-8", "no-cache"),
        (
            "/app/manifest.webmanifest",
            "application/manifest+json",
            "no-cache",
        ),
        ("/app/mostrador_ui_bg.wasm", "application/wasm", "no-cache"),
        (
            "/app/style-0123456789abcdef.css",
            "text/css; charset=utf-8",
            "public, max-age=31536000, immutable",
        ),
        ("/app/icons/icon.png", "image/png", "no-cache"),
    ] {
        let res = get(&s, path, &[]).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&res, "content-type"), mime, "{path}");
        assert_eq!(header(&res, "cache-control"), cache, "{path}");
        assert_eq!(header(&res, "x-content-type-options"), "nosniff", "{path}");
    }

    // The wasm goes compressed, brotli first, and decompresses to itself.
    let wasm_at = "/app/mostrador_ui_bg.wasm";
    let res = get(&s, wasm_at, &[("accept-encoding", "gzip, deflate, br")]).await;
    assert_eq!(header(&res, "content-encoding"), "br");
    assert!(header(&res, "vary").contains("accept-encoding"));
    let br = res.bytes().await.unwrap();
    assert!(
        br.len() < wasm.len() / 4,
        "brotli: {} of {}",
        br.len(),
        wasm.len()
    );
    let mut out = Vec::new();
    brotli::Decompressor::new(&br[..], 4096)
        .read_to_end(&mut out)
        .unwrap();
    assert_eq!(out, wasm);
    let res = get(&s, wasm_at, &[("accept-encoding", "gzip")]).await;
    assert_eq!(header(&res, "content-encoding"), "gzip");
    let gz = res.bytes().await.unwrap();
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut out)
        .unwrap();
    assert_eq!(out, wasm);
    let res = get(&s, wasm_at, &[]).await;
    assert_eq!(header(&res, "content-encoding"), "");
    assert_eq!(res.bytes().await.unwrap(), wasm);
    // Images are not compressed again.
    let res = get(&s, "/app/icons/icon.png", &[("accept-encoding", "br")]).await;
    assert_eq!(header(&res, "content-encoding"), "");

    // A precompressed file built beside it wins; an edited file is
    // compressed afresh.
    std::fs::write(dir.path().join("boot.js.gz"), b"precompressed").unwrap();
    let res = get(&s, "/app/boot.js", &[("accept-encoding", "gzip")]).await;
    assert_eq!(res.bytes().await.unwrap(), &b"precompressed"[..]);
    std::fs::remove_file(dir.path().join("boot.js.gz")).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(
        dir.path().join("sw.js"),
        "// version 2, longer than before\n",
    )
    .unwrap();
    let res = get(&s, "/app/sw.js", &[("accept-encoding", "gzip")]).await;
    let mut out = String::new();
    flate2::read::GzDecoder::new(&res.bytes().await.unwrap()[..])
        .read_to_string(&mut out)
        .unwrap();
    assert_eq!(out, "// version 2, longer than before\n");

    // Revalidation: the ETag answers 304.
    let res = get(&s, "/app/boot.js", &[]).await;
    let etag = header(&res, "etag").to_owned();
    assert!(!etag.is_empty());
    let res = get(&s, "/app/boot.js", &[("if-none-match", &etag)]).await;
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);

    // The API and its JSON 404 are unchanged beside it.
    let res = get(&s, "/healthz", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = get(&s, "/nothing-here", &[]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "not_found");
    s.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_out_of_the_web_dir_are_not_followed_and_each_coding_has_its_etag() {
    let (dir, _) = web_dir();
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.txt");
    std::fs::write(&secret, "not for the web").unwrap();
    std::os::unix::fs::symlink(&secret, dir.path().join("leak.txt")).unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("out")).unwrap();
    // A precompressed "copy" that is a link to a file outside.
    std::os::unix::fs::symlink(&secret, dir.path().join("boot.js.gz")).unwrap();
    // A link that stays inside is followed.
    std::os::unix::fs::symlink(dir.path().join("boot.js"), dir.path().join("alias.js")).unwrap();
    let path = dir.path().to_path_buf();
    let s = TestServer::start_with(Backend::Sqlite, move |c| c.web_dir = Some(path)).await;

    for escape in ["/app/leak.txt", "/app/out/secret.txt"] {
        let res = get(&s, escape, &[]).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{escape}");
    }
    let res = get(&s, "/app/alias.js", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = get(&s, "/app/boot.js", &[("accept-encoding", "gzip")]).await;
    assert_eq!(header(&res, "content-encoding"), "gzip");
    let mut out = String::new();
    flate2::read::GzDecoder::new(&res.bytes().await.unwrap()[..])
        .read_to_string(&mut out)
        .unwrap();
    assert_eq!(out, "import init from './mostrador_ui.js'; init();");

    // Brotli, gzip and plain bodies differ: so do their tags, and a tag
    // revalidates only its own representation.
    let mut tags = Vec::new();
    for accept in ["br", "gzip", "identity"] {
        let res = get(&s, "/app/boot.js", &[("accept-encoding", accept)]).await;
        tags.push(header(&res, "etag").to_owned());
    }
    assert!(
        tags[0] != tags[1] && tags[1] != tags[2] && tags[0] != tags[2],
        "{tags:?}"
    );
    let res = get(
        &s,
        "/app/boot.js",
        &[("accept-encoding", "br"), ("if-none-match", &tags[0])],
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    let res = get(
        &s,
        "/app/boot.js",
        &[("accept-encoding", "identity"), ("if-none-match", &tags[0])],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "content-encoding"), "");
    s.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_built_app_the_answer_says_so_and_the_widget_is_served() {
    let empty = tempfile::tempdir().unwrap();
    for web_dir in [None, Some(empty.path().to_path_buf())] {
        let s = TestServer::start_with(Backend::Sqlite, |c| c.web_dir = web_dir.clone()).await;
        let res = get(&s, "/app/", &[]).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let err: Value = res.json().await.unwrap();
        assert_eq!(err["code"], "not_found");
        let message = err["message"].as_str().unwrap();
        assert!(message.contains("--web-dir"), "{message}");
        assert!(
            !message.contains(&empty.path().display().to_string()),
            "no server paths: {message}"
        );

        let res = get(&s, "/widget.js", &[]).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            header(&res, "content-type"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(header(&res, "cache-control"), "public, max-age=300");
        let js = res.text().await.unwrap();
        assert_eq!(js, mostrador_server::web::WIDGET_JS);
        for part in [
            "mostrador:ready",
            "mostrador:identity",
            "mostrador:unread",
            "/app/?embed=1",
            "Задать вопрос",
            "Hacer una pregunta",
        ] {
            assert!(js.contains(part), "{part}");
        }
        let res = get(&s, "/widget.js", &[("accept-encoding", "br")]).await;
        assert_eq!(header(&res, "content-encoding"), "br");
        let br = res.bytes().await.unwrap();
        assert!(
            br.len() < 4 * 1024,
            "the widget travels in {} bytes",
            br.len()
        );
        // No demo shop unless asked for.
        assert_eq!(
            get(&s, "/demo/shop", &[]).await.status(),
            StatusCode::NOT_FOUND
        );
        s.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_shop_signs_the_demo_shopper_in() {
    let s = TestServer::start_with(Backend::Sqlite, |c| {
        c.identity_secret = Some("demo-identity-secret".into());
        c.demo_shop = true;
    })
    .await;
    assert!(
        mostrador_server::demo::seed(&s.state.db, &s.state.config.hours)
            .await
            .unwrap()
    );
    let res = get(&s, "/demo/shop", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "cache-control"), "no-store");
    assert!(header(&res, "content-security-policy").contains("script-src 'self'"));
    let html = res.text().await.unwrap();
    assert!(html.contains(r#"data-mostrador-order="MS-10001""#));
    assert!(html.contains(r#"<script src="/widget.js""#));
    let at = html.find("data-identity=\"").unwrap() + "data-identity=\"".len();
    let identity = &html[at..at + html[at..].find('"').unwrap()];
    let res = get(&s, "/demo/shop.js", &[]).await;
    assert_eq!(
        header(&res, "content-type"),
        "text/javascript; charset=utf-8"
    );
    assert!(res.text().await.unwrap().contains("open(order)"));

    let (st, v) = s
        .post("/api/v1/auth/identity", None, json!({"identity": identity}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        v["user"]["email"],
        mostrador_server::web::DEMO_SHOPPER_EMAIL
    );
    let (_, orders) = s.get("/api/v1/orders", v["token"].as_str().unwrap()).await;
    assert!(
        orders
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["number"] == "MS-10001"),
        "{orders}"
    );
    // Each view signs a new identity.
    let again = get(&s, "/demo/shop", &[]).await.text().await.unwrap();
    assert!(!again.contains(identity));
    s.finish().await;
}
