//! Bad input stays with the item that carries it: text with control
//! characters is refused at validation with the field named (REST and
//! push, both engines), one bad item in a push batch does not stop the
//! others, database refusals are a 4xx for their item, and nothing after
//! an account deletion in a batch is applied.

mod common;

use common::{Backend, TestServer};
use mostrador_core::auth::Role;
use mostrador_server::error::{classify_db_error, DbFailure};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

fn id() -> String {
    Uuid::new_v4().to_string()
}

fn outcomes(v: &Value) -> Vec<String> {
    v["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results: {v}"))
        .iter()
        .map(|r| r["outcome"].as_str().unwrap().to_owned())
        .collect()
}

async fn open(s: &TestServer, token: &str) -> String {
    let conv = id();
    let (st, v) = s
        .post(
            "/api/v1/conversations",
            Some(token),
            json!({"id": conv, "subject": "Parcel", "message_id": id(), "body": "where is it?"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    conv
}

async fn push_applies_the_good_items_around_a_bad_one(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (cust, _) = s.customer("nul@example.com").await;
    let conv = open(&s, &cust).await;
    let (good1, bad, good2) = (id(), id(), id());
    let batch = json!({"mutations": [
        {"client_id": id(), "op": "send_message", "args": {"conversation_id": conv, "id": good1, "body": "first"}},
        {"client_id": id(), "op": "send_message", "args": {"conversation_id": conv, "id": bad, "body": "tracking\u{0}number"}},
        {"client_id": id(), "op": "send_message", "args": {"conversation_id": conv, "id": good2, "body": "third"}},
        {"client_id": id(), "op": "open_conversation", "args": {"id": id(), "subject": "a\u{0}b", "message_id": id(), "body": "x"}},
        {"client_id": id(), "op": "put_address", "args": {"id": id(), "kind": "shipping", "name": "Ana", "line1": "Calle\u{0} Mayor 1", "city": "Madrid", "postal_code": "28013", "country": "ES"}},
        {"client_id": id(), "op": "update_profile", "args": {"display_name": "Ana\u{0}"}},
    ]});
    let (st, v) = s.post("/api/v1/sync/push", Some(&cust), batch).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        outcomes(&v),
        ["applied", "rejected", "applied", "rejected", "rejected", "rejected"],
        "{v}"
    );
    for (i, field) in [
        (1, "body"),
        (3, "subject"),
        (4, "line1"),
        (5, "display_name"),
    ] {
        let err = &v["results"][i]["error"];
        assert_eq!(err["code"], "validation_failed", "{v}");
        assert_eq!(err["details"]["fields"][field], "invalid_characters", "{v}");
    }
    let (_, t) = s.get(&format!("/api/v1/conversations/{conv}"), &cust).await;
    let bodies: Vec<&str> = t["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["where is it?", "first", "third"]);
    s.finish().await;
}

/// Every field people type refuses control characters over REST with a
/// 422 naming the field, and keeps line breaks and tabs.
async fn rest_refuses_control_characters_naming_the_field(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (cust, _) = s.customer("rest@example.com").await;
    let (agent, _) = s.staff("agent@shop.test", Role::Agent).await;
    let (admin, _) = s.staff("admin@shop.test", Role::Admin).await;
    let conv = open(&s, &cust).await;
    let (cust, agent, admin) = (cust.as_str(), agent.as_str(), admin.as_str());
    let addr = id();
    let address = |field: &str, value: &str| {
        let mut a = json!({"id": addr, "kind": "shipping", "label": "Home", "name": "Ana", "line1": "Calle Mayor 1",
            "line2": "2º", "city": "Madrid", "region": "Madrid", "postal_code": "28013", "country": "ES"});
        a[field] = json!(value);
        a
    };
    let callback = |topic: &str| {
        let start = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(2);
        json!({"id": id(), "channel": "video", "topic": topic, "time_zone": "UTC",
               "windows": [{"start": start, "end": start + jiff::SignedDuration::from_hours(3)}]})
    };
    let bad = "bad\u{0}text";
    let cases: Vec<(Method, String, Option<&str>, Value, &str)> = vec![
        (Method::POST, "/api/v1/auth/register".into(), None,
         json!({"email": "new@example.com", "password": "correct horse battery", "display_name": bad}), "display_name"),
        (Method::POST, "/api/v1/conversations".into(), Some(cust),
         json!({"id": id(), "subject": bad, "message_id": id(), "body": "x"}), "subject"),
        (Method::POST, "/api/v1/conversations".into(), Some(cust),
         json!({"id": id(), "subject": "ok", "message_id": id(), "body": bad}), "body"),
        (Method::POST, format!("/api/v1/conversations/{conv}/messages"), Some(cust),
         json!({"id": id(), "body": bad}), "body"),
        (Method::POST, format!("/api/v1/conversations/{conv}/messages"), Some(cust),
         json!({"id": id(), "body": "escape \u{1b}[31m red"}), "body"),
        (Method::POST, format!("/api/v1/conversations/{conv}/messages"), Some(agent),
         json!({"id": id(), "body": bad, "kind": "note"}), "body"),
        (Method::POST, format!("/api/v1/conversations/{conv}/rating"), Some(cust),
         json!({"score": 5, "comment": bad}), "comment"),
        (Method::PATCH, "/api/v1/me/profile".into(), Some(cust),
         json!({"display_name": bad}), "display_name"),
        (Method::POST, "/api/v1/callbacks".into(), Some(cust), callback(bad), "topic"),
        (Method::POST, format!("/api/v1/callbacks/{}/outcome", id()), Some(agent),
         json!({"status": "completed", "note": bad}), "note"),
        (Method::PUT, format!("/api/v1/canned/{}", id()), Some(admin),
         json!({"title": bad, "body": "b"}), "title"),
        (Method::PUT, format!("/api/v1/canned/{}", id()), Some(admin),
         json!({"title": "t", "body": bad}), "body"),
        (Method::POST, "/api/v1/admin/staff".into(), Some(admin),
         json!({"email": "new.agent@shop.test", "password": "correct horse battery", "display_name": bad}), "display_name"),
    ]
    .into_iter()
    .chain(
        ["label", "name", "line1", "line2", "city", "region", "postal_code"].map(|f| {
            (Method::PUT, format!("/api/v1/me/addresses/{addr}"), Some(cust), address(f, bad), f)
        }),
    )
    .collect();
    for (method, path, token, body, field) in cases {
        let (st, v) = s.call(method.clone(), &path, token, Some(body)).await;
        assert_eq!(st.as_u16(), 422, "{method} {path} {field}: {v}");
        assert_eq!(v["code"], "validation_failed", "{method} {path}: {v}");
        assert_eq!(
            v["details"]["fields"][field], "invalid_characters",
            "{method} {path}: {v}"
        );
    }
    // Nothing of it was stored.
    let (_, t) = s.get(&format!("/api/v1/conversations/{conv}"), agent).await;
    assert_eq!(t["messages"].as_array().unwrap().len(), 1, "{t}");
    let (_, list) = s.get("/api/v1/conversations", cust).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    // Line breaks and tabs are text.
    let (st, v) = s
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            Some(cust),
            json!({"id": id(), "body": "line one\r\nline two\n\tindented"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, v) = s
        .call(
            Method::PUT,
            &format!("/api/v1/me/addresses/{addr}"),
            Some(cust),
            Some(address("line2", "Piso 2")),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    s.finish().await;
}

/// The shop's events are text too: a NUL in a field stored as text is a
/// 422 naming it, on both engines (PostgreSQL cannot store it).
async fn ingest_refuses_control_characters(backend: Backend) {
    let s = TestServer::start(backend).await;
    let at = "2026-11-20T10:00:00Z";
    let (st, v) = s
        .ingest(&common::order_event(
            "ev-1",
            "MS-\u{0}1",
            "a@example.com",
            at,
        ))
        .await;
    assert_eq!(st.as_u16(), 422, "{v}");
    assert_eq!(v["details"]["fields"]["order_number"], "invalid_characters");
    let (st, v) = s
        .ingest(&common::order_event("ev-2", "MS-1", "a@example.com", at))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let mut scan = common::tracking_event("ev-3", "MS-1", "in_transit", at);
    scan["place"] = json!("Zaragoza\u{0}");
    let (st, v) = s.ingest(&scan).await;
    assert_eq!(st.as_u16(), 422, "{v}");
    assert_eq!(v["details"]["fields"]["place"], "invalid_characters");
    s.finish().await;
}

/// A JSON escape for an unpaired UTF-16 surrogate cannot become text: a
/// 422 naming the field, not a server error, over REST and push (where
/// the whole body is unreadable, so the whole batch is refused).
async fn lone_surrogates_are_a_clear_client_error(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (cust, _) = s.customer("surrogate@example.com").await;
    let conv = open(&s, &cust).await;
    let send = format!(r#"{{"id": "{}", "body": "half \ud800 a pair"}}"#, id());
    let push = format!(
        r#"{{"mutations": [{{"client_id": "{}", "op": "send_message", "args": {{"conversation_id": "{conv}", "id": "{}", "body": "x\udc00"}}}}]}}"#,
        id(),
        id()
    );
    for (path, body) in [
        (format!("/api/v1/conversations/{conv}/messages"), send),
        ("/api/v1/sync/push".to_owned(), push),
    ] {
        let res = s
            .http
            .post(format!("{}{path}", s.base))
            .bearer_auth(&cust)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let st = res.status();
        let v: Value = res.json().await.unwrap();
        assert_eq!(st.as_u16(), 422, "{path}: {v}");
        assert_eq!(v["code"], "validation_failed", "{v}");
        let fields = v["details"]["fields"].as_object().unwrap();
        let (field, problem) = fields.iter().next().unwrap();
        assert!(field.ends_with("body"), "names the field: {v}");
        assert_eq!(problem, "invalid_characters");
    }
    let (_, t) = s.get(&format!("/api/v1/conversations/{conv}"), &cust).await;
    assert_eq!(t["messages"].as_array().unwrap().len(), 1);
    s.finish().await;
}

/// `[delete_account, open_conversation]`: the conversation is not stored
/// for the erased account; the later item is refused.
async fn nothing_after_delete_account_in_a_batch_is_applied(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (cust, user) = s.customer("gone@example.com").await;
    let conv = id();
    let batch = json!({"mutations": [
        {"client_id": id(), "op": "delete_account", "args": null},
        {"client_id": id(), "op": "open_conversation", "args": {"id": conv, "subject": "Still here?", "message_id": id(), "body": "hello"}},
        {"client_id": id(), "op": "update_profile", "args": {"display_name": "Back again"}},
    ]});
    let (st, v) = s.post("/api/v1/sync/push", Some(&cust), batch).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(outcomes(&v), ["applied", "rejected", "rejected"], "{v}");
    assert_eq!(v["results"][1]["error"]["code"], "unauthorized", "{v}");
    let pool = s.state.db.pool();
    let stored: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM conversations WHERE customer_id = $1")
            .bind(&user)
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(stored, 0);
    let name: String = sqlx::query_scalar("SELECT display_name FROM users WHERE id = $1")
        .bind(&user)
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(name, "Deleted user");
    s.finish().await;
}

/// The database's own refusals are classified: a duplicate key is a
/// conflict naming the column, text PostgreSQL cannot store is a
/// validation failure; neither is "try again later".
async fn database_refusals_are_client_errors(backend: Backend) {
    let s = TestServer::start(backend).await;
    let pool = s.state.db.pool();
    let insert =
        "INSERT INTO canned_responses (id, title, body, updated_at) VALUES ($1, $2, 'b', 0)";
    let dup = id();
    sqlx::query(insert)
        .bind(&dup)
        .bind("t")
        .execute(pool)
        .await
        .unwrap();
    let err = sqlx::query(insert)
        .bind(&dup)
        .bind("t")
        .execute(pool)
        .await
        .unwrap_err();
    match classify_db_error(&err) {
        DbFailure::Refused(e) => {
            assert_eq!(e.code, mostrador_core::ErrorCode::Conflict, "{e:?}");
            assert_eq!(e.details.unwrap()["fields"]["id"], "taken");
        }
        other => panic!("{other:?} for {err}"),
    }
    if backend == Backend::Postgres {
        let err = sqlx::query(insert)
            .bind(id())
            .bind("a\0b")
            .execute(pool)
            .await
            .unwrap_err();
        match classify_db_error(&err) {
            DbFailure::Refused(e) => {
                assert_eq!(e.code, mostrador_core::ErrorCode::ValidationFailed, "{e:?}")
            }
            other => panic!("{other:?} for {err}"),
        }
    }
    assert!(matches!(
        classify_db_error(&sqlx::Error::PoolTimedOut),
        DbFailure::Transient
    ));
    s.finish().await;
}

/// A database that stays locked (SQLite's busy timeout runs out while
/// another writer holds the lock) is "try again": the batch stops with 503
/// and `Retry-After`, and once the lock is gone the same batch applies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_database_is_503_with_retry_after_and_the_batch_applies_later() {
    let s = TestServer::start(Backend::Sqlite).await;
    let (cust, _) = s.customer("busy@example.com").await;
    let conv = open(&s, &cust).await;
    let batch = json!({"mutations": [
        {"client_id": id(), "op": "send_message", "args": {"conversation_id": conv, "id": id(), "body": "hello?"}},
    ]});
    let lock = s.state.db.begin_write().await.unwrap();
    let res = s
        .http
        .post(format!("{}/api/v1/sync/push", s.base))
        .bearer_auth(&cust)
        .json(&batch)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 503);
    assert!(res.headers().contains_key("retry-after"));
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["code"], "unavailable", "{v}");
    lock.rollback().await.unwrap();
    let (st, v) = s.post("/api/v1/sync/push", Some(&cust), batch).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(outcomes(&v), ["applied"]);
    s.finish().await;
}

on_both_backends!(
    push_applies_the_good_items_around_a_bad_one,
    rest_refuses_control_characters_naming_the_field,
    lone_surrogates_are_a_clear_client_error,
    ingest_refuses_control_characters,
    nothing_after_delete_account_in_a_batch_is_applied,
    database_refusals_are_client_errors,
);
