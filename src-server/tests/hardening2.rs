//! More hardening, on SQLite and on PostgreSQL where the database matters:
//! errors hyper or axum would answer outside the router are the one JSON
//! shape, the order webhook's signed time must be near now, and names
//! refuse direction controls. (A socket ending with its expired session is
//! in `live.rs`.)

mod common;

use std::time::Duration;

use common::{Backend, TestServer, WEBHOOK_SECRET};
use mostrador_core::auth::Role;
use mostrador_core::orders::{SIGNATURE_HEADER, TIMESTAMP_HEADER};
use mostrador_core::ApiError;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

/// Status, content type and body of a raw HTTP/1.1 exchange.
async fn raw(s: &TestServer, request: &[u8]) -> (u16, String, String) {
    let addr = s.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    // The server may answer (and close) before it has read everything.
    let _ = stream.write_all(request).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut out)).await;
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    let content_type = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type:")
                .map(|v| v.trim().to_owned())
        })
        .unwrap_or_default();
    (status, content_type, body.to_owned())
}

fn assert_api_error(status: u16, want: u16, content_type: &str, body: &str) {
    assert_eq!(status, want, "{body}");
    assert_eq!(content_type, "application/json", "{status}: {body}");
    let err: ApiError =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{status} body {body:?}: {e}"));
    assert!(!err.message.is_empty());
}

/// `/api/v1/live` without an upgrade, a URI over 64 KiB and oversized
/// headers are answered in the one JSON error shape (they were text/plain
/// and empty bodies).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_outside_the_router_are_the_one_json_shape() {
    let s = TestServer::start(Backend::Sqlite).await;
    let (cust, _) = s.customer("plain@example.com").await;
    let res = s
        .http
        .get(format!("{}/api/v1/live", s.base))
        .bearer_auth(&cust)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert_api_error(status, 400, &content_type, &res.text().await.unwrap());

    let long = format!(
        "GET /api/v1/orders?q={} HTTP/1.1\r\nhost: x\r\n\r\n",
        "a".repeat(70 * 1024)
    );
    let (status, content_type, body) = raw(&s, long.as_bytes()).await;
    assert_api_error(status, 414, &content_type, &body);

    let huge = format!(
        "GET /healthz HTTP/1.1\r\nhost: x\r\nx-filler: {}\r\n\r\n",
        "a".repeat(600 * 1024)
    );
    let (status, content_type, body) = raw(&s, huge.as_bytes()).await;
    assert_api_error(status, 431, &content_type, &body);

    let (status, content_type, body) = raw(&s, b"NOT HTTP AT ALL\r\n\r\n").await;
    assert_api_error(status, 400, &content_type, &body);

    // Ordinary answers are untouched, on the same kind of connection.
    let (status, content_type, _) = raw(
        &s,
        b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert_eq!((status, content_type.as_str()), (200, "application/json"));
    s.finish().await;
}

/// Posts `event` signed at `signed_at` (Unix seconds), sending `sent_at` as
/// the timestamp header.
async fn ingest_at(
    s: &TestServer,
    event: &Value,
    signed_at: i64,
    sent_at: i64,
) -> (StatusCode, Value) {
    let body = serde_json::to_vec(event).unwrap();
    let sig = mostrador_server::routes::orders::sign(WEBHOOK_SECRET, signed_at, &body);
    let res = s
        .http
        .post(format!("{}/api/v1/integrations/orders", s.base))
        .header("content-type", "application/json")
        .header(TIMESTAMP_HEADER, sent_at.to_string())
        .header(SIGNATURE_HEADER, sig)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    assert_eq!(res.headers()["content-type"], "application/json");
    (status, res.json().await.unwrap())
}

/// The shop's webhook must be signed near now (configurable skew): stale
/// and future signing times are refused, the time cannot be changed
/// without the secret, an old `occurred_at` is fine, and event ids still
/// deduplicate.
async fn the_order_webhook_refuses_stale_and_future_signatures(backend: Backend) {
    let s = TestServer::start_with(backend, |c| c.webhook_skew = Duration::from_secs(120)).await;
    let now = jiff::Timestamp::now().as_second();
    // A year-old event: shops send old events, that is not a replay.
    let event = common::order_event("w-1", "MS-1", "w@example.com", "2025-11-20T09:00:00Z");
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM orders")
            .fetch_one(s.state.db.pool())
            .await
            .unwrap()
    };
    for (at, reason) in [
        (now - 600, "stale_timestamp"),
        (now + 600, "future_timestamp"),
    ] {
        let (st, v) = ingest_at(&s, &event, at, at).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{v}");
        assert_eq!(v["code"], "unauthorized", "{v}");
        assert_eq!(v["details"]["reason"], reason, "{v}");
    }
    assert_eq!(count().await, 0, "nothing stored");
    // A captured stale request replayed with a fresh time: the signature
    // no longer matches.
    let (st, v) = ingest_at(&s, &event, now - 600, now).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{v}");
    assert!(v["details"]["reason"].is_null(), "a bad signature: {v}");
    // No timestamp at all.
    let body = serde_json::to_vec(&event).unwrap();
    let res = s
        .http
        .post(format!("{}/api/v1/integrations/orders", s.base))
        .header(
            SIGNATURE_HEADER,
            mostrador_server::routes::orders::sign(WEBHOOK_SECRET, now, &body),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(count().await, 0);
    // Within the skew: accepted, once.
    let (st, v) = ingest_at(&s, &event, now - 60, now - 60).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["applied"], true, "{v}");
    let (st, v) = ingest_at(&s, &event, now, now).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["applied"], false, "the same event id counts once: {v}");
    assert_eq!(count().await, 1);
    s.finish().await;
}

fn id() -> String {
    Uuid::new_v4().to_string()
}

/// Direction controls (U+202E and kin) are refused in display names, staff
/// names and addresses, over REST and push; messages keep them.
async fn names_refuse_direction_controls(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (cust, _) = s.customer("bidi@example.com").await;
    let (admin, _) = s.staff("admin@shop.test", Role::Admin).await;
    let addr = id();
    let address = |field: &str, value: &str| {
        let mut a = json!({"id": addr, "kind": "shipping", "label": "Home", "name": "Ana", "line1": "Calle Mayor 1",
            "city": "Madrid", "postal_code": "28013", "country": "ES"});
        a[field] = json!(value);
        a
    };
    let spoof = "Support\u{202E}nimda";
    let cases: Vec<(Method, String, Option<&str>, Value, &str)> = vec![
        (
            Method::POST,
            "/api/v1/auth/register".into(),
            None,
            json!({"email": "new@example.com", "password": "correct horse battery", "display_name": spoof}),
            "display_name",
        ),
        (
            Method::PATCH,
            "/api/v1/me/profile".into(),
            Some(&cust),
            json!({"display_name": "Ana\u{2067}x\u{2069}"}),
            "display_name",
        ),
        (
            Method::POST,
            "/api/v1/admin/staff".into(),
            Some(&admin),
            json!({"email": "new.agent@shop.test", "password": "correct horse battery", "display_name": spoof}),
            "display_name",
        ),
        (
            Method::PUT,
            format!("/api/v1/me/addresses/{addr}"),
            Some(&cust),
            address("name", spoof),
            "name",
        ),
        (
            Method::PUT,
            format!("/api/v1/me/addresses/{addr}"),
            Some(&cust),
            address("label", "\u{202D}Home"),
            "label",
        ),
    ];
    for (method, path, token, body, field) in cases {
        let (st, v) = s.call(method.clone(), &path, token, Some(body)).await;
        assert_eq!(st.as_u16(), 422, "{method} {path} {field}: {v}");
        assert_eq!(
            v["details"]["fields"][field], "invalid_characters",
            "{method} {path}: {v}"
        );
    }
    let batch = json!({"mutations": [
        {"client_id": id(), "op": "update_profile", "args": {"display_name": spoof}},
        {"client_id": id(), "op": "put_address", "args": {"id": id(), "kind": "shipping", "label": "W\u{200F}ork", "name": "Ana",
            "line1": "Calle Mayor 1", "city": "Madrid", "postal_code": "28013", "country": "ES"}},
        {"client_id": id(), "op": "update_profile", "args": {"display_name": "محمد علي"}},
    ]});
    let (st, v) = s.post("/api/v1/sync/push", Some(&cust), batch).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    for (i, field) in [(0, "display_name"), (1, "label")] {
        let r = &v["results"][i];
        assert_eq!(r["outcome"], "rejected", "{v}");
        assert_eq!(
            r["error"]["details"]["fields"][field], "invalid_characters",
            "{v}"
        );
    }
    assert_eq!(
        v["results"][2]["outcome"], "applied",
        "right-to-left names are fine: {v}"
    );
    let (_, me) = s.get("/api/v1/me/profile", &cust).await;
    assert_eq!(me["display_name"], "محمد علي", "{me}");
    s.finish().await;
}

on_both_backends!(
    the_order_webhook_refuses_stale_and_future_signatures,
    names_refuse_direction_controls,
);
