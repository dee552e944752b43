//! The snapshot (`GET /api/v1/sync/snapshot`), on SQLite and PostgreSQL:
//! followed by the feed from its first page's cursor it leaves exactly what
//! the feed alone leaves, with entities changed, created and removed while
//! it pages, each entity carried once; and a customer's snapshot holds only
//! what their feed shows them.

mod common;

use std::collections::BTreeMap;

use common::{order_event, Backend, TestServer};
use mostrador_core::auth::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

fn id() -> String {
    Uuid::new_v4().to_string()
}

/// What a client keeps, applying items in order: `kind:id` → entity.
type Cache = BTreeMap<String, Value>;

fn key(item: &Value) -> String {
    let data = &item["data"];
    match item["entity"].as_str().unwrap() {
        "removed" => format!("{}:{}", data["kind"].as_str().unwrap(), data["id"]),
        "profile" => format!("profile:{}", data["user_id"]),
        kind => format!("{kind}:{}", data["id"]),
    }
}

fn apply(cache: &mut Cache, items: &[Value]) {
    for item in items {
        if item["entity"] == "removed" {
            cache.remove(&key(item));
        } else {
            cache.insert(key(item), item["data"].clone());
        }
    }
}

/// The feed from `since` to its end, applied to `cache`; the items it carried.
async fn feed(s: &TestServer, token: &str, mut since: i64, cache: &mut Cache) -> usize {
    let mut carried = 0;
    loop {
        let (st, page) = s
            .get(&format!("/api/v1/sync?since={since}&limit=3"), token)
            .await;
        assert_eq!(st, StatusCode::OK, "{page}");
        let items = page["items"].as_array().unwrap();
        carried += items.len();
        apply(cache, items);
        since = page["cursor"].as_i64().unwrap();
        if page["has_more"] == false {
            return carried;
        }
    }
}

/// One snapshot page after `after` (the previous page's `next`).
async fn snapshot_page(s: &TestServer, token: &str, after: &Value, limit: i64) -> Value {
    let mut path = format!("/api/v1/sync/snapshot?limit={limit}");
    if !after.is_null() {
        path += &format!(
            "&after_kind={}&after_id={}",
            after["kind"].as_str().unwrap(),
            after["id"].as_str().unwrap()
        );
    }
    let (st, page) = s.get(&path, token).await;
    assert_eq!(st, StatusCode::OK, "{page}");
    page
}

/// Two customers with conversations, messages, an order and an internal
/// note; returns (customer A, A's id, customer B, the agent, A's first
/// conversation, the note's id).
async fn shop(s: &TestServer) -> (String, String, String, String, String, String) {
    let (a, a_id) = s.customer("ana@example.com").await;
    let (b, _) = s.customer("bea@example.com").await;
    let (agent, _) = s.staff("agent@shop.test", Role::Agent).await;
    let (st, v) = s
        .ingest(&order_event(
            "e1",
            "MS-1",
            "ana@example.com",
            "2026-01-01T10:00:00Z",
        ))
        .await;
    assert!(st.is_success(), "{v}");
    let mut first = None;
    for (token, n) in [(&a, 0), (&a, 1), (&b, 2)] {
        let conv = id();
        let (st, v) = s
            .post(
                "/api/v1/conversations",
                Some(token),
                json!({"id": conv, "subject": format!("S{n}"), "message_id": id(), "body": "hello"}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        for i in 0..3 {
            s.post(
                &format!("/api/v1/conversations/{conv}/messages"),
                Some(token),
                json!({"id": id(), "body": format!("m{i}")}),
            )
            .await;
        }
        first.get_or_insert(conv);
    }
    let conv = first.unwrap();
    let note = id();
    let (st, v) = s
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            Some(&agent),
            json!({"id": note, "body": "VIP customer", "kind": "note"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    (a, a_id, b, agent, conv, note)
}

async fn snapshot_then_feed_is_the_feed_alone(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (a, _, _, agent, conv, _) = shop(&s).await;
    let (gone, _) = s.customer("cy@example.com").await;
    let (st, v) = s
        .post(
            "/api/v1/conversations",
            Some(&gone),
            json!({"id": id(), "subject": "Bye", "message_id": id(), "body": "hi"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");

    for (who, token) in [("customer", &a), ("staff", &agent)] {
        // The first page, then writes while the snapshot pages: a
        // conversation it already carried changes, a message is new, an
        // account (staff see its profile) is deleted.
        let first = snapshot_page(&s, token, &Value::Null, 2).await;
        let cursor = first["cursor"].as_i64().unwrap();
        assert!(first["total"].as_i64().unwrap() >= 2, "{first}");
        let mut pages = vec![first];
        let carried_conv = pages[0]["items"][0]["data"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(pages[0]["items"][0]["entity"], "conversation", "{who}");
        s.post(
            &format!("/api/v1/conversations/{conv}/messages"),
            Some(&a),
            json!({"id": id(), "body": format!("while {who} paged")}),
        )
        .await;
        // (After the message: a customer's message reopens it.)
        let (st, v) = s
            .call(
                Method::PATCH,
                &format!("/api/v1/conversations/{carried_conv}"),
                Some(&agent),
                Some(json!({"status": "pending"})),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{who}: {v}");
        if who == "staff" {
            let (st, _) = s
                .call(Method::DELETE, "/api/v1/me", Some(&gone), None)
                .await;
            assert_eq!(st, StatusCode::NO_CONTENT);
        }
        while !pages.last().unwrap()["next"].is_null() {
            let after = pages.last().unwrap()["next"].clone();
            pages.push(snapshot_page(&s, token, &after, 2).await);
        }
        assert!(pages.len() > 3, "{who}: paged");
        let mut cache = Cache::new();
        let mut snapshot_items = 0;
        for p in &pages {
            let items = p["items"].as_array().unwrap();
            assert!(items.iter().all(|i| i["entity"] != "removed"), "{who}");
            for i in items {
                assert!(!cache.contains_key(&key(i)), "{who}: {} twice", key(i));
            }
            snapshot_items += items.len();
            apply(&mut cache, items);
            assert!(p["cursor"].as_i64().unwrap() >= cursor);
        }
        feed(&s, token, cursor, &mut cache).await;

        let mut alone = Cache::new();
        let carried = feed(&s, token, 0, &mut alone).await;
        assert_eq!(cache, alone, "{who}: snapshot + feed = feed alone");
        assert!(
            snapshot_items <= alone.len() + 1 && carried > alone.len(),
            "{who}: the snapshot carries each entity once ({snapshot_items} items, {} entities; the feed carried {carried})",
            alone.len()
        );
        let status = &alone[&format!("conversation:\"{carried_conv}\"")]["status"];
        assert_eq!(status, "pending", "{who}: the change made while paging");
        if who == "staff" {
            assert!(
                !alone
                    .keys()
                    .any(|k| k.starts_with("profile:") && alone[k]["email"] == "cy@example.com"),
                "the deleted account's profile is gone"
            );
        }
    }
    s.finish().await;
}

async fn a_customers_snapshot_holds_only_their_own(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (a, a_id, b, _, _, note) = shop(&s).await;
    let mut items = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = snapshot_page(&s, &a, &after, 1000).await;
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        after = page["next"].clone();
        if after.is_null() {
            break;
        }
    }
    let mine = |i: &Value| {
        let d = &i["data"];
        match i["entity"].as_str().unwrap() {
            "conversation" => d["customer_id"] == a_id.as_str(),
            "order" => d["customer_id"] == a_id.as_str(),
            "profile" => d["user_id"] == a_id.as_str(),
            "message" => d["kind"] == "text",
            _ => false,
        }
    };
    assert!(items.iter().all(mine), "only A's: {items:?}");
    let count = |kind: &str| items.iter().filter(|i| i["entity"] == kind).count();
    // Two conversations of four messages each, one order, one profile.
    assert_eq!(
        (
            count("conversation"),
            count("message"),
            count("order"),
            count("profile")
        ),
        (2, 8, 1, 1)
    );
    assert!(
        !items.iter().any(|i| i["data"]["id"] == note.as_str()),
        "no internal note"
    );
    let a_convs: Vec<&Value> = items
        .iter()
        .filter(|i| i["entity"] == "conversation")
        .map(|i| &i["data"]["id"])
        .collect();
    assert!(items
        .iter()
        .filter(|i| i["entity"] == "message")
        .all(|m| a_convs.contains(&&m["data"]["conversation_id"])));
    // B's snapshot is B's: none of A's.
    let page = snapshot_page(&s, &b, &Value::Null, 1000).await;
    let theirs = page["items"].as_array().unwrap();
    assert_eq!(theirs.len(), 1 + 4 + 1, "{page}");
    assert!(!theirs.iter().any(|i| a_convs.contains(&&i["data"]["id"])));
    // Half a key is refused in the one error shape.
    let (st, v) = s
        .get(&format!("/api/v1/sync/snapshot?after_id={}", id()), &a)
        .await;
    assert_eq!(
        (st, v["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed")),
        "{v}"
    );
    s.finish().await;
}

on_both_backends!(
    snapshot_then_feed_is_the_feed_alone,
    a_customers_snapshot_holds_only_their_own,
);
