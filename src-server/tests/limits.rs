//! Bounded work and storage per person and per client address (issue 11,
//! "unbounded inputs"): mails asked for per address, addresses per
//! customer, uploads never attached to a message; on SQLite and PostgreSQL.

mod common;

use common::{Backend, TestServer};
use mostrador_core::profile::MAX_ADDRESSES;
use mostrador_server::routes::attachments::{
    remove_unattached, MAX_UNSENT_UPLOADS, MAX_UNSENT_UPLOAD_BYTES,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR fake but typed by its signature";

/// A password-reset request for `email` as if from `client` (the trusted
/// proxy header): (status, Retry-After, body).
async fn reset(s: &TestServer, client: &str, email: &str) -> (u16, Option<String>, Value) {
    let res = s
        .http
        .post(format!("{}/api/v1/auth/password-reset", s.base))
        .header("x-forwarded-for", client)
        .json(&json!({ "email": email }))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let retry = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, retry, res.json().await.unwrap_or(Value::Null))
}

async fn mail_requests_are_limited_per_client_address(backend: Backend) {
    let s = TestServer::start_with(backend, |c| {
        c.client_ip_header = Some("x-forwarded-for".into());
    })
    .await;
    let limit = s.state.config.mail_per_address;
    s.customer("known@example.com").await;
    let (unverified, _) = s.unverified_customer("pending@example.com").await;
    let mails_before = s.mailbox().len();

    // Different emails, one address: each counts, known or not.
    for i in 0..limit - 1 {
        let (st, _, v) = reset(&s, "203.0.113.7", &format!("nobody{i}@example.com")).await;
        assert_eq!(st, 202, "request {i}: {v}");
    }
    assert_eq!(reset(&s, "203.0.113.7", "known@example.com").await.0, 202);
    assert_eq!(
        s.mailbox().len(),
        mails_before + 1,
        "only the known one mailed"
    );

    // Over the limit: the same refusal for an unknown and a known email.
    let unknown = reset(&s, "203.0.113.7", "nobody-else@example.com").await;
    let known = reset(&s, "203.0.113.7", "known@example.com").await;
    for (st, retry, v) in [&unknown, &known] {
        assert_eq!(*st, 429, "{v}");
        assert_eq!(v["code"], "rate_limited", "{v}");
        let secs: u64 = retry.as_deref().expect("Retry-After").parse().unwrap();
        assert!((1..=3600).contains(&secs), "{secs}");
        assert_eq!(v["details"]["retry_after_seconds"], secs, "{v}");
    }
    assert_eq!(unknown.2["message"], known.2["message"]);
    assert_eq!(s.mailbox().len(), mails_before + 1, "nothing more mailed");

    // Verification resends share the address's window.
    let res = s
        .http
        .post(format!("{}/api/v1/auth/verify-email/resend", s.base))
        .bearer_auth(&unverified)
        .header("x-forwarded-for", "203.0.113.7")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().get("retry-after").is_some());

    // Another address is not held back by it.
    assert_eq!(reset(&s, "203.0.113.8", "known@example.com").await.0, 202);
    s.finish().await;
}

fn address(id: Uuid, line1: &str) -> Value {
    json!({"id": id, "kind": "shipping", "name": "Ana", "line1": line1, "city": "Madrid",
           "postal_code": "28013", "country": "ES"})
}

async fn put_address(s: &TestServer, token: &str, id: Uuid, line1: &str) -> (StatusCode, Value) {
    s.call(
        Method::PUT,
        &format!("/api/v1/me/addresses/{id}"),
        Some(token),
        Some(address(id, line1)),
    )
    .await
}

/// Pushes one mutation; its result (`outcome`, maybe `error`).
async fn push_one(s: &TestServer, token: &str, op: &str, args: Value) -> Value {
    let (st, v) = s
        .post(
            "/api/v1/sync/push",
            Some(token),
            json!({"mutations": [{"client_id": Uuid::new_v4(), "op": op, "args": args}]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["results"][0].clone()
}

async fn addresses_are_capped_per_customer(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (ana, _) = s.customer("ana@example.com").await;
    let (ben, _) = s.customer("ben@example.com").await;
    let ids: Vec<Uuid> = (0..MAX_ADDRESSES).map(|_| Uuid::new_v4()).collect();
    for (i, id) in ids.iter().enumerate() {
        let (st, v) = put_address(&s, &ana, *id, &format!("Calle {i}")).await;
        assert_eq!(st, StatusCode::OK, "address {i}: {v}");
    }

    // One more over REST: 422 naming the field, with the limit.
    let (st, v) = put_address(&s, &ana, Uuid::new_v4(), "Calle extra").await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["code"], "validation_failed");
    assert_eq!(v["details"]["fields"]["addresses"], "too_many", "{v}");
    assert_eq!(v["details"]["limit"], MAX_ADDRESSES);
    // ... and over push.
    let r = push_one(
        &s,
        &ana,
        "put_address",
        address(Uuid::new_v4(), "Calle push"),
    )
    .await;
    assert_eq!(r["outcome"], "rejected", "{r}");
    assert_eq!(
        r["error"]["details"]["fields"]["addresses"], "too_many",
        "{r}"
    );

    // Editing one at the cap still works, both ways.
    let (st, v) = put_address(&s, &ana, ids[0], "Calle nueva 1").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let r = push_one(&s, &ana, "put_address", address(ids[1], "Calle nueva 2")).await;
    assert_eq!(r["outcome"], "applied", "{r}");
    let (_, profile) = s.get("/api/v1/me/profile", &ana).await;
    let addresses = profile["addresses"].as_array().unwrap();
    assert_eq!(addresses.len(), MAX_ADDRESSES);
    assert!(addresses.iter().any(|a| a["line1"] == "Calle nueva 2"));

    // The cap is per customer, and removing one makes room.
    assert_eq!(
        put_address(&s, &ben, Uuid::new_v4(), "Otra calle").await.0,
        StatusCode::OK
    );
    let (st, _) = s
        .call(
            Method::DELETE,
            &format!("/api/v1/me/addresses/{}", ids[2]),
            Some(&ana),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let r = push_one(&s, &ana, "put_address", address(Uuid::new_v4(), "Calle 21")).await;
    assert_eq!(r["outcome"], "applied", "{r}");
    s.finish().await;
}

/// Uploads `bytes` into `conv` as `id`.
async fn upload(s: &TestServer, token: &str, conv: Uuid, id: Uuid, bytes: Vec<u8>) -> (u16, Value) {
    let res = s
        .http
        .put(format!(
            "{}/api/v1/conversations/{conv}/attachments/{id}?filename=photo.png",
            s.base
        ))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let st = res.status().as_u16();
    (st, res.json().await.unwrap_or(Value::Null))
}

/// A conversation opened by the customer behind `token`.
async fn conversation(s: &TestServer, token: &str) -> Uuid {
    let conv = Uuid::new_v4();
    let (st, v) = s
        .post(
            "/api/v1/conversations",
            Some(token),
            json!({"id": conv, "subject": "Photos", "message_id": Uuid::new_v4(), "body": "see"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    conv
}

/// Sends a message in `conv` carrying `ids`.
async fn send_with(s: &TestServer, token: &str, conv: Uuid, ids: &[Uuid]) {
    let (st, v) = s
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            Some(token),
            json!({"id": Uuid::new_v4(), "body": "", "attachment_ids": ids}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
}

async fn unsent_uploads_have_a_quota(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (ana, _) = s.customer("ana@example.com").await;
    let (ben, _) = s.customer("ben@example.com").await;
    let conv = conversation(&s, &ana).await;
    let mut ids = Vec::new();
    for i in 0..MAX_UNSENT_UPLOADS {
        let id = Uuid::new_v4();
        let (st, v) = upload(&s, &ana, conv, id, PNG.to_vec()).await;
        assert_eq!(st, 201, "upload {i}: {v}");
        ids.push(id);
    }
    let (st, v) = upload(&s, &ana, conv, Uuid::new_v4(), PNG.to_vec()).await;
    assert_eq!(st, 409, "{v}");
    assert_eq!(v["code"], "conflict");
    assert_eq!(v["details"]["reason"], "too_many_unsent_uploads", "{v}");
    assert_eq!(v["details"]["limit"], MAX_UNSENT_UPLOADS);
    // Resending one already stored is not a new upload.
    assert_eq!(upload(&s, &ana, conv, ids[0], PNG.to_vec()).await.0, 201);
    // The quota is per person.
    let ben_conv = conversation(&s, &ben).await;
    assert_eq!(
        upload(&s, &ben, ben_conv, Uuid::new_v4(), PNG.to_vec())
            .await
            .0,
        201
    );
    // Sent uploads stop counting.
    send_with(&s, &ana, conv, &ids).await;

    // Bytes: five nearly full files fit, then not even a small one.
    let max_file = mostrador_core::chat::MAX_ATTACHMENT_BYTES;
    let files = usize::try_from(MAX_UNSENT_UPLOAD_BYTES).unwrap() / max_file;
    let mut big = PNG.to_vec();
    big.resize(max_file - 1024, 0);
    for i in 0..files {
        let (st, v) = upload(&s, &ana, conv, Uuid::new_v4(), big.clone()).await;
        assert_eq!(st, 201, "big upload {i}: {v}");
    }
    let mut small = PNG.to_vec();
    small.resize(1024 * files + 1, 0);
    let (st, v) = upload(&s, &ana, conv, Uuid::new_v4(), small).await;
    assert_eq!(st, 409, "{v}");
    assert_eq!(v["details"]["reason"], "unsent_uploads_too_large", "{v}");
    assert_eq!(v["details"]["limit"], MAX_UNSENT_UPLOAD_BYTES);
    s.finish().await;
}

async fn unattached_uploads_are_deleted_after_retention(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (ana, _) = s.customer("ana@example.com").await;
    let conv = conversation(&s, &ana).await;
    let (sent, old, fresh) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    for id in [sent, old] {
        assert_eq!(upload(&s, &ana, conv, id, PNG.to_vec()).await.0, 201);
    }
    send_with(&s, &ana, conv, &[sent]).await;
    // Everything before `between` is old once the clock passes
    // `between + retention`; `fresh` is uploaded after it.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let between = mostrador_server::db::now_ms();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    assert_eq!(upload(&s, &ana, conv, fresh, PNG.to_vec()).await.0, 201);
    let retention = i64::try_from(s.state.config.unattached_upload_retention.as_millis()).unwrap();
    let dir = s.state.config.upload_dir.clone();

    // Not yet: nothing is old enough.
    assert_eq!(remove_unattached(&s.state, between).await.unwrap(), 0);
    assert!(dir.join(old.to_string()).exists());

    let removed = remove_unattached(&s.state, between + retention)
        .await
        .unwrap();
    assert_eq!(removed, 1);
    assert!(!dir.join(old.to_string()).exists(), "the old file is gone");
    let (st, _) = s.get(&format!("/api/v1/attachments/{old}"), &ana).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "and so is its row");
    for kept in [sent, fresh] {
        assert!(dir.join(kept.to_string()).exists(), "{kept} kept");
        let res = s
            .http
            .get(format!("{}/api/v1/attachments/{kept}", s.base))
            .bearer_auth(&ana)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.bytes().await.unwrap().as_ref(), PNG);
    }
    // The deleted upload can no longer be attached.
    let (st, v) = s
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            Some(&ana),
            json!({"id": Uuid::new_v4(), "body": "", "attachment_ids": [old]}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    s.finish().await;
}

on_both_backends!(
    mail_requests_are_limited_per_client_address,
    addresses_are_capped_per_customer,
    unsent_uploads_have_a_quota,
    unattached_uploads_are_deleted_after_retention,
);
