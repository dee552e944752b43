//! The backend's API against the real server, on SQLite and on PostgreSQL:
//! accounts, authorization, orders and ingest, conversations, sync, privacy,
//! and bad input.

mod common;

use std::collections::HashSet;

use common::{order_event, tracking_event, Backend, TestServer};
use mostrador_core::auth::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

fn id() -> String {
    Uuid::new_v4().to_string()
}

async fn accounts_register_login_sessions_logout(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (token, user_id) = s.customer("ana@example.com").await;
    let (st, v) = s
        .post("/api/v1/auth/register", None, json!({"email": "ANA@example.com", "password": "another password", "display_name": "Ana 2"}))
        .await;
    // The same answer as for a new address (a 409 would tell who has an
    // account); the new account is a different one (see tests/email.rs).
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_ne!(v["user"]["id"].as_str(), Some(user_id.as_str()));

    let (st, v) = s
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": "ana@example.com", "password": "wrong password"}),
        )
        .await;
    assert_eq!(
        (st, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthorized"))
    );
    let (st, v) = s
        .post("/api/v1/auth/login", None, json!({"email": "ana@example.com", "password": "correct horse battery", "device_name": "tablet"}))
        .await;
    assert_eq!(st, StatusCode::OK);
    let token2 = v["token"].as_str().unwrap().to_owned();
    assert_eq!(v["user"]["id"], user_id.as_str());
    assert_eq!(v["user"]["role"], "customer");

    let (st, me) = s.get("/api/v1/me", &token).await;
    assert_eq!(
        (st, me["email"].as_str()),
        (StatusCode::OK, Some("ana@example.com"))
    );

    let (_, sessions) = s.get("/api/v1/me/sessions", &token).await;
    let sessions = sessions.as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|x| x["current"] == true).count(), 1);
    let tablet = sessions
        .iter()
        .find(|x| x["device_name"] == "tablet")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // In use on the tablet (the server may remember it) until revoked.
    assert_eq!(s.get("/api/v1/me", &token2).await.0, StatusCode::OK);
    let (st, _) = s
        .call(
            Method::DELETE,
            &format!("/api/v1/me/sessions/{tablet}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(
        s.get("/api/v1/me", &token2).await.0,
        StatusCode::UNAUTHORIZED
    );

    assert_eq!(
        s.call(Method::POST, "/api/v1/auth/logout", Some(&token), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        s.get("/api/v1/me", &token).await.0,
        StatusCode::UNAUTHORIZED
    );

    // Only the hash of a token is stored.
    let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM sessions")
        .fetch_all(s.state.db.pool())
        .await
        .unwrap();
    assert!(stored.iter().all(|h| h != &token && h.len() == 64));
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users")
        .fetch_one(s.state.db.pool())
        .await
        .unwrap();
    assert!(hash.starts_with("$argon2id$"));
    s.finish().await;
}

async fn login_is_throttled_with_retry_after(backend: Backend) {
    let s = TestServer::start(backend).await;
    s.customer("bo@example.com").await;
    for _ in 0..5 {
        let (st, _) = s
            .post(
                "/api/v1/auth/login",
                None,
                json!({"email": "bo@example.com", "password": "nope nope nope"}),
            )
            .await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
    }
    let res = s
        .http
        .post(format!("{}/api/v1/auth/login", s.base))
        .json(&json!({"email": "bo@example.com", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 900);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited");
    s.finish().await;
}

async fn admin_manages_staff(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (admin, _) = s.staff("root@shop.test", Role::Admin).await;
    let (customer, _) = s.customer("cy@example.com").await;
    let body =
        json!({"email": "agent@shop.test", "password": "agent password 1", "display_name": "Luis"});
    assert_eq!(
        s.post("/api/v1/admin/staff", Some(&customer), body.clone())
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (st, agent) = s.post("/api/v1/admin/staff", Some(&admin), body).await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(agent["role"], "agent");
    let (st, v) = s
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": "agent@shop.test", "password": "agent password 1"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let agent_token = v["token"].as_str().unwrap().to_owned();
    assert_eq!(s.get("/api/v1/me", &agent_token).await.0, StatusCode::OK);
    let (_, list) = s.get("/api/v1/admin/staff", &admin).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    let agent_id = agent["id"].as_str().unwrap();
    let (st, v) = s
        .call(
            Method::POST,
            &format!("/api/v1/admin/staff/{agent_id}/disable"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!((st, v["disabled"].as_bool()), (StatusCode::OK, Some(true)));
    assert_eq!(
        s.get("/api/v1/me", &agent_token).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (st, _) = s
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": "agent@shop.test", "password": "agent password 1"}),
        )
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    s.finish().await;
}

async fn ingest_is_signed_idempotent_and_order_independent(backend: Backend) {
    let s = TestServer::start(backend).await;
    // Bad signature: 401, nothing written.
    let body = serde_json::to_vec(&order_event(
        "e0",
        "MS-1",
        "dee@example.com",
        "2026-11-20T09:00:00Z",
    ))
    .unwrap();
    let res = s
        .http
        .post(format!("{}/api/v1/integrations/orders", s.base))
        .header(mostrador_core::orders::SIGNATURE_HEADER, "sha256=00")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders")
        .fetch_one(s.state.db.pool())
        .await
        .unwrap();
    assert_eq!(n, 0);

    // Tracking arrives before the order itself, and out of order.
    assert_eq!(
        s.ingest(&tracking_event(
            "t3",
            "MS-1",
            "delivered",
            "2026-11-22T12:00:00Z"
        ))
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(
        s.ingest(&order_event(
            "o1",
            "MS-1",
            "dee@example.com",
            "2026-11-20T09:00:00Z"
        ))
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(
        s.ingest(&tracking_event(
            "t2",
            "MS-1",
            "in_transit",
            "2026-11-21T08:00:00Z"
        ))
        .await
        .0,
        StatusCode::OK
    );
    let (st, again) = s
        .ingest(&tracking_event(
            "t2",
            "MS-1",
            "in_transit",
            "2026-11-21T08:00:00Z",
        ))
        .await;
    assert_eq!(
        (st, again["applied"].as_bool()),
        (StatusCode::OK, Some(false))
    );
    // An older snapshot of the order must not overwrite the newer one.
    let mut old = order_event("o0", "MS-1", "dee@example.com", "2026-11-19T09:00:00Z");
    old["total_minor"] = json!(1);
    s.ingest(&old).await;

    // The customer registers later and sees the order.
    let (token, user) = s.customer("dee@example.com").await;
    let (st, orders) = s.get("/api/v1/orders", &token).await;
    assert_eq!(st, StatusCode::OK);
    let order = &orders[0];
    assert_eq!(order["customer_id"], user.as_str());
    assert_eq!(order["status"], "delivered", "newest event by time wins");
    assert_eq!(order["total_minor"], 4999);
    let timeline: Vec<&str> = order["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(timeline, ["in_transit", "delivered"]);
    assert_eq!(order["shipment"]["carrier"], "Correos");
    s.finish().await;
}

async fn authorization_matrix(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (a, _) = s.customer("a@example.com").await;
    let (b, _) = s.customer("b@example.com").await;
    let (agent, _) = s.staff("agent@shop.test", Role::Agent).await;
    let (admin, _) = s.staff("admin@shop.test", Role::Admin).await;
    s.ingest(&order_event(
        "o1",
        "MS-A",
        "a@example.com",
        "2026-11-20T09:00:00Z",
    ))
    .await;
    let (_, orders) = s.get("/api/v1/orders", &a).await;
    let order_a = orders[0]["id"].as_str().unwrap().to_owned();
    let conv = id();
    let first_msg = id();
    let (st, _) = s
        .post("/api/v1/conversations", Some(&a), json!({"id": conv, "order_id": order_a, "subject": "Late", "message_id": first_msg, "body": "it's late"}))
        .await;
    assert_eq!(st, StatusCode::CREATED);

    let order_path = format!("/api/v1/orders/{order_a}");
    let conv_path = format!("/api/v1/conversations/{conv}");
    let msg_path = format!("{conv_path}/messages");
    // (method, path, body, [anonymous, A, B, agent, admin])
    let cases: Vec<(Method, String, Option<Value>, [u16; 5])> = vec![
        (
            Method::GET,
            "/api/v1/me/sessions".into(),
            None,
            [401, 200, 200, 200, 200],
        ),
        (
            Method::GET,
            "/api/v1/callbacks".into(),
            None,
            [401, 200, 200, 200, 200],
        ),
        (
            Method::GET,
            "/api/v1/callbacks/slots".into(),
            None,
            [401, 200, 200, 200, 200],
        ),
        (
            Method::GET,
            format!("/api/v1/callbacks/{}", id()),
            None,
            [401, 404, 404, 404, 404],
        ),
        (
            Method::GET,
            format!("/api/v1/attachments/{}", id()),
            None,
            [401, 404, 404, 404, 404],
        ),
        (
            Method::POST,
            format!("/api/v1/conversations/{conv}/marks"),
            Some(json!({"up_to": first_msg, "state": "read"})),
            [401, 204, 404, 204, 204],
        ),
        (
            Method::POST,
            format!("/api/v1/conversations/{conv}/rating"),
            Some(json!({"score": 5})),
            [401, 409, 404, 403, 403],
        ),
        (
            Method::POST,
            "/api/v1/sync/push".into(),
            Some(json!({"mutations": []})),
            [401, 200, 200, 200, 200],
        ),
        (
            Method::POST,
            "/api/v1/admin/staff".into(),
            Some(
                json!({"email": "new@shop.test", "password": "a long password", "display_name": "New"}),
            ),
            [401, 403, 403, 403, 201],
        ),
        (
            Method::GET,
            "/api/v1/me".into(),
            None,
            [401, 200, 200, 200, 200],
        ),
        (
            Method::GET,
            "/api/v1/orders".into(),
            None,
            [401, 200, 200, 200, 200],
        ),
        (
            Method::GET,
            order_path.clone(),
            None,
            [401, 200, 404, 200, 200],
        ),
        (
            Method::GET,
            "/api/v1/conversations".into(),
            None,
            [401, 200, 200, 200, 200],
        ),
        (
            Method::GET,
            conv_path.clone(),
            None,
            [401, 200, 404, 200, 200],
        ),
        (
            Method::POST,
            msg_path.clone(),
            Some(json!({"body": "hi"})),
            [401, 201, 404, 201, 201],
        ),
        (
            Method::PATCH,
            conv_path.clone(),
            Some(json!({"status": "pending"})),
            [401, 403, 403, 200, 200],
        ),
        (
            Method::GET,
            "/api/v1/sync".into(),
            None,
            [401, 200, 200, 200, 200],
        ),
        (
            Method::GET,
            "/api/v1/me/profile".into(),
            None,
            [401, 200, 200, 200, 200],
        ),
        (
            Method::GET,
            "/api/v1/me/export".into(),
            None,
            [401, 200, 200, 200, 200],
        ),
        (
            Method::GET,
            "/api/v1/admin/staff".into(),
            None,
            [401, 403, 403, 403, 200],
        ),
        (
            Method::GET,
            "/healthz".into(),
            None,
            [200, 200, 200, 200, 200],
        ),
        (
            Method::GET,
            "/api/openapi.json".into(),
            None,
            [200, 200, 200, 200, 200],
        ),
    ];
    let actors = [
        None,
        Some(a.as_str()),
        Some(b.as_str()),
        Some(agent.as_str()),
        Some(admin.as_str()),
    ];
    let names = ["anonymous", "customer A", "customer B", "agent", "admin"];
    for (method, path, body, expected) in cases {
        for (i, actor) in actors.iter().enumerate() {
            let body = body.clone().map(|mut b| {
                if path.ends_with("/messages") {
                    b["id"] = json!(id());
                }
                b
            });
            let (st, v) = s.call(method.clone(), &path, *actor, body).await;
            assert_eq!(
                st.as_u16(),
                expected[i],
                "{} {method} {path}: {v}",
                names[i]
            );
            if st.is_client_error() {
                assert!(
                    v["code"].is_string() && v["message"].is_string(),
                    "error shape for {method} {path}: {v}"
                );
            }
        }
    }
    // Internal notes: written by agents, never shown to the customer.
    let (st, _) = s
        .post(
            &msg_path,
            Some(&a),
            json!({"id": id(), "body": "sneaky", "kind": "note"}),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = s
        .post(
            &msg_path,
            Some(&agent),
            json!({"id": id(), "body": "VIP customer", "kind": "note"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (_, thread) = s.get(&conv_path, &a).await;
    assert!(!thread.to_string().contains("VIP customer"));
    let (_, thread) = s.get(&conv_path, &agent).await;
    assert!(thread.to_string().contains("VIP customer"));
    let (_, feed) = s.get("/api/v1/sync?since=0", &a).await;
    assert!(!feed.to_string().contains("VIP customer"));
    s.finish().await;
}

async fn conversation_round_trip_states_and_rating(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (cust, _) = s.customer("eva@example.com").await;
    let (agent, agent_id) = s.staff("agent@shop.test", Role::Agent).await;
    let conv = id();
    let first = id();
    let (st, t) = s.post("/api/v1/conversations", Some(&cust), json!({"id": conv, "subject": "Where is it?", "message_id": first, "body": "it's late"})).await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(t["messages"][0]["state"], "sent");
    let reply = id();
    let (st, m) = s
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            Some(&agent),
            json!({"id": reply, "body": "On its way!"}),
        )
        .await;
    assert_eq!(
        (st, m["author_role"].as_str()),
        (StatusCode::CREATED, Some("agent"))
    );
    // The agent read the customer's message; the customer read the reply.
    let (st, _) = s
        .post(
            &format!("/api/v1/conversations/{conv}/marks"),
            Some(&agent),
            json!({"up_to": first, "state": "read"}),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    s.post(
        &format!("/api/v1/conversations/{conv}/marks"),
        Some(&cust),
        json!({"up_to": reply, "state": "delivered"}),
    )
    .await;
    let (_, t) = s.get(&format!("/api/v1/conversations/{conv}"), &cust).await;
    assert_eq!(t["messages"][0]["state"], "read");
    assert_eq!(t["messages"][1]["state"], "delivered");
    assert_eq!(
        t["conversation"]["assigned_agent_id"],
        agent_id.as_str(),
        "replying claims it"
    );

    let rate = json!({"score": 5, "comment": "Great"});
    let (st, v) = s
        .post(
            &format!("/api/v1/conversations/{conv}/rating"),
            Some(&cust),
            rate.clone(),
        )
        .await;
    assert_eq!(
        (st, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict"))
    );
    let (st, _) = s
        .call(
            Method::PATCH,
            &format!("/api/v1/conversations/{conv}"),
            Some(&agent),
            Some(json!({"status": "resolved"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, v) = s
        .post(
            &format!("/api/v1/conversations/{conv}/rating"),
            Some(&cust),
            json!({"score": 6}),
        )
        .await;
    assert_eq!(
        (st, v["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"))
    );
    let (st, v) = s
        .post(
            &format!("/api/v1/conversations/{conv}/rating"),
            Some(&cust),
            rate,
        )
        .await;
    assert_eq!(
        (st, v["rating"]["score"].as_i64()),
        (StatusCode::OK, Some(5))
    );
    // Writing again reopens it.
    s.post(
        &format!("/api/v1/conversations/{conv}/messages"),
        Some(&cust),
        json!({"id": id(), "body": "one more thing"}),
    )
    .await;
    let (_, t) = s
        .get(&format!("/api/v1/conversations/{conv}"), &agent)
        .await;
    assert_eq!(t["conversation"]["status"], "open");
    s.finish().await;
}

async fn push_is_idempotent_and_remembers_rejections(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (cust, _) = s.customer("fay@example.com").await;
    let conv = id();
    let (m1, m2, m3) = (id(), id(), id());
    let batch = json!({"mutations": [
        {"client_id": m1, "op": "open_conversation", "args": {"id": conv, "subject": "Hi", "message_id": id(), "body": "first"}},
        {"client_id": m2, "op": "send_message", "args": {"conversation_id": conv, "id": id(), "body": "second"}},
        {"client_id": m3, "op": "send_message", "args": {"conversation_id": id(), "id": id(), "body": "to nowhere"}},
    ]});
    let (st, first) = s
        .post("/api/v1/sync/push", Some(&cust), batch.clone())
        .await;
    assert_eq!(st, StatusCode::OK, "{first}");
    let outcomes: Vec<&str> = first["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["applied", "applied", "rejected"]);
    assert_eq!(first["results"][2]["error"]["code"], "not_found");
    // The whole batch again: same answers, nothing new on the server.
    let (_, again) = s.post("/api/v1/sync/push", Some(&cust), batch).await;
    assert_eq!(again, first);
    let (_, t) = s.get(&format!("/api/v1/conversations/{conv}"), &cust).await;
    assert_eq!(t["messages"].as_array().unwrap().len(), 2);
    s.finish().await;
}

async fn sync_pages_filters_and_asks_old_cursors_to_resync(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (a, a_id) = s.customer("gil@example.com").await;
    let (b, _) = s.customer("hal@example.com").await;
    let conv = id();
    s.post(
        "/api/v1/conversations",
        Some(&a),
        json!({"id": conv, "subject": "S", "message_id": id(), "body": "m0"}),
    )
    .await;
    for i in 1..10 {
        s.post(
            &format!("/api/v1/conversations/{conv}/messages"),
            Some(&a),
            json!({"id": id(), "body": format!("m{i}")}),
        )
        .await;
    }
    let mut since = 0;
    let mut bodies = Vec::new();
    let mut pages = 0;
    let mut last_remaining = None;
    loop {
        let (st, page) = s
            .get(&format!("/api/v1/sync?since={since}&limit=3"), &a)
            .await;
        assert_eq!(st, StatusCode::OK);
        pages += 1;
        // Progress: each full page uses up exactly `limit` changes.
        let remaining = page["remaining"].as_i64().unwrap();
        if page["has_more"] == true {
            assert_eq!(page["changes"], 3);
        }
        assert_eq!(page["has_more"].as_bool().unwrap(), remaining > 0);
        if let (Some(before), true) = (last_remaining, remaining > 0) {
            assert_eq!(before - remaining, 3);
        }
        last_remaining = Some(remaining);
        for item in page["items"].as_array().unwrap() {
            if item["entity"] == "message" {
                bodies.push(item["data"]["body"].as_str().unwrap().to_owned());
            }
            if item["entity"] == "profile" {
                assert_eq!(item["data"]["user_id"], a_id.as_str());
            }
        }
        let next = page["cursor"].as_i64().unwrap();
        assert!(next >= since);
        since = next;
        if !page["has_more"].as_bool().unwrap() {
            break;
        }
    }
    assert!(pages >= 4);
    let expected: Vec<String> = (0..10).map(|i| format!("m{i}")).collect();
    assert_eq!(bodies, expected);
    // B sees only their own profile.
    let (_, page) = s.get("/api/v1/sync?since=0", &b).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["entity"], "profile");
    // A caught-up cursor returns nothing new.
    let (_, page) = s.get(&format!("/api/v1/sync?since={since}"), &a).await;
    assert!(page["items"].as_array().unwrap().is_empty());
    assert_eq!(page["cursor"].as_i64(), Some(since));

    mostrador_server::feed::prune(&s.state, 5).await.unwrap();
    let (st, v) = s.get("/api/v1/sync?since=2", &a).await;
    assert_eq!(
        (st, v["code"].as_str()),
        (StatusCode::GONE, Some("resync_required"))
    );
    // A full resync from 0 still brings every message back.
    let (st, page) = s.get("/api/v1/sync?since=0&limit=1000", &a).await;
    assert_eq!(st, StatusCode::OK);
    let again: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["entity"] == "message")
        .map(|i| i["data"]["body"].as_str().unwrap())
        .collect();
    assert_eq!(again, expected);
    s.finish().await;
}

async fn sync_paging_misses_nothing_under_concurrent_writers(backend: Backend) {
    let s = std::sync::Arc::new(TestServer::start(backend).await);
    let (agent, _) = s.staff("agent@shop.test", Role::Agent).await;
    let mut writers = Vec::new();
    for w in 0..4 {
        let s = s.clone();
        writers.push(tokio::spawn(async move {
            let (token, _) = s.customer(&format!("w{w}@example.com")).await;
            let conv = id();
            let mut ids = vec![];
            let first = id();
            s.post(
                "/api/v1/conversations",
                Some(&token),
                json!({"id": conv, "subject": "S", "message_id": first, "body": "0"}),
            )
            .await;
            ids.push(first);
            for i in 1..15 {
                let m = id();
                let (st, _) = s
                    .post(
                        &format!("/api/v1/conversations/{conv}/messages"),
                        Some(&token),
                        json!({"id": m, "body": format!("{i}")}),
                    )
                    .await;
                assert_eq!(st, StatusCode::CREATED);
                ids.push(m);
            }
            ids
        }));
    }
    // Page concurrently with the writers, then drain.
    let mut seen = HashSet::new();
    let mut since = 0;
    let mut done = false;
    while !done {
        done = writers.iter().all(|w| w.is_finished());
        loop {
            let (st, page) = s
                .get(&format!("/api/v1/sync?since={since}&limit=7"), &agent)
                .await;
            assert_eq!(st, StatusCode::OK, "{page}");
            for item in page["items"].as_array().unwrap() {
                if item["entity"] == "message" {
                    seen.insert(item["data"]["id"].as_str().unwrap().to_owned());
                }
            }
            since = page["cursor"].as_i64().unwrap();
            if !page["has_more"].as_bool().unwrap() {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let mut written = HashSet::new();
    for w in writers {
        written.extend(w.await.unwrap());
    }
    assert_eq!(written.len(), 60);
    assert_eq!(seen, written, "every committed message appears in the feed");
    std::sync::Arc::into_inner(s).unwrap().finish().await;
}

async fn bad_input_gets_a_typed_4xx_and_writes_nothing(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (cust, _) = s.customer("ivy@example.com").await;
    let raw = |body: Vec<u8>| {
        s.http
            .post(format!("{}/api/v1/conversations", s.base))
            .bearer_auth(&cust)
            .header("content-type", "application/json")
            .body(body)
    };
    let check = |res: reqwest::Response, status: u16, code: &'static str| async move {
        assert_eq!(res.status().as_u16(), status);
        let v: Value = res.json().await.unwrap();
        assert_eq!(v["code"], code, "{v}");
    };
    check(
        raw(b"{not json".to_vec()).send().await.unwrap(),
        400,
        "bad_request",
    )
    .await;
    check(
        raw(b"{\"id\": 5}".to_vec()).send().await.unwrap(),
        422,
        "validation_failed",
    )
    .await;
    check(
        raw(vec![b'{', 0xff, 0xfe, b'}']).send().await.unwrap(),
        400,
        "bad_request",
    )
    .await;
    let huge = format!("{{\"body\": \"{}\"}}", "x".repeat(300 * 1024));
    check(
        raw(huge.into_bytes()).send().await.unwrap(),
        413,
        "payload_too_large",
    )
    .await;
    let (st, v) = s
        .post(
            "/api/v1/conversations",
            Some(&cust),
            json!({"id": id(), "subject": "", "message_id": id(), "body": "x"}),
        )
        .await;
    assert_eq!(
        (st.as_u16(), v["details"]["fields"]["subject"].as_str()),
        (422, Some("required"))
    );
    let (st, v) = s
        .call(
            Method::PATCH,
            "/api/v1/me/profile",
            Some(&cust),
            Some(json!({"phone": "555-1234"})),
        )
        .await;
    assert_eq!(
        (st.as_u16(), v["details"]["fields"]["phone"].as_str()),
        (422, Some("not_e164"))
    );
    let (st, v) = s.get(&format!("/api/v1/orders/{}", id()), &cust).await;
    assert_eq!((st.as_u16(), v["code"].as_str()), (404, Some("not_found")));
    let (st, v) = s.get("/api/v1/orders/not-a-uuid", &cust).await;
    assert_eq!(
        (st.as_u16(), v["code"].as_str()),
        (400, Some("bad_request"))
    );
    let (st, _) = s.get("/api/v1/sync?since=-1", &cust).await;
    assert_eq!(st.as_u16(), 422);
    // Nothing was half-written.
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM conversations")
        .fetch_one(s.state.db.pool())
        .await
        .unwrap();
    let m: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages")
        .fetch_one(s.state.db.pool())
        .await
        .unwrap();
    assert_eq!((n, m), (0, 0));
    s.finish().await;
}

async fn profile_export_and_account_deletion(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (cust, cust_id) = s.customer("jo@example.com").await;
    let (agent, _) = s.staff("agent@shop.test", Role::Agent).await;
    let (st, p) = s
        .call(Method::PATCH, "/api/v1/me/profile", Some(&cust), Some(json!({"phone": "+34 911 234 567", "language": "es", "time_zone": "Europe/Madrid", "contact": {"email": true, "sms": true, "push": false}})))
        .await;
    assert_eq!(st, StatusCode::OK, "{p}");
    assert_eq!(
        (p["phone"].as_str(), p["language"].as_str()),
        (Some("+34911234567"), Some("es"))
    );
    let addr = id();
    let (st, p) = s
        .call(Method::PUT, &format!("/api/v1/me/addresses/{addr}"), Some(&cust), Some(json!({"id": addr, "kind": "shipping", "name": "Jo", "line1": "Gran Vía 1", "city": "Madrid", "postal_code": "28013", "country": "es", "is_default": true})))
        .await;
    assert_eq!(
        (st, p["addresses"][0]["country"].as_str()),
        (StatusCode::OK, Some("ES"))
    );
    s.ingest(&order_event(
        "o1",
        "MS-J",
        "jo@example.com",
        "2026-11-20T09:00:00Z",
    ))
    .await;
    let conv = id();
    s.post("/api/v1/conversations", Some(&cust), json!({"id": conv, "subject": "About my parcel", "message_id": id(), "body": "my secret address is Gran Vía 1"})).await;

    let upload = Uuid::new_v4();
    let res = s
        .http
        .put(format!(
            "{}/api/v1/conversations/{conv}/attachments/{upload}?filename=id.pdf",
            s.base
        ))
        .bearer_auth(&cust)
        .body(b"%PDF-1.4 my passport".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let stored = s.state.config.upload_dir.join(upload.to_string());
    assert!(stored.exists());
    let (st, export) = s.get("/api/v1/me/export", &cust).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(export["profile"]["phone"], "+34911234567");
    assert_eq!(export["orders"][0]["number"], "MS-J");
    assert_eq!(
        export["conversations"][0]["messages"][0]["body"],
        "my secret address is Gran Vía 1"
    );
    assert_eq!(export["sessions"].as_array().unwrap().len(), 1);

    assert_eq!(
        s.call(Method::DELETE, "/api/v1/me", Some(&cust), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(s.get("/api/v1/me", &cust).await.0, StatusCode::UNAUTHORIZED);
    let (st, _) = s
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": "jo@example.com", "password": "correct horse battery"}),
        )
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (_, t) = s
        .get(&format!("/api/v1/conversations/{conv}"), &agent)
        .await;
    assert!(
        !t.to_string().contains("Gran Vía"),
        "message text erased: {t}"
    );
    let (_, orders) = s.get("/api/v1/orders", &agent).await;
    assert!(orders[0]["customer_id"].is_null());
    assert!(!stored.exists(), "uploaded files are erased");
    let pool = s.state.db.pool();
    let emails: Vec<String> = sqlx::query_scalar("SELECT email FROM users")
        .fetch_all(pool)
        .await
        .unwrap();
    assert!(!emails.iter().any(|e| e.contains("jo@")));
    let addresses: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM addresses")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(addresses, 0);
    let audit: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'account.delete' AND subject_id = $1",
    )
    .bind(&cust_id)
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(audit, 1);
    // The email is free again.
    s.customer("jo@example.com").await;
    s.finish().await;
}

async fn push_covers_profile_addresses_and_rating(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (cust, _) = s.customer("pat@example.com").await;
    let (agent, _) = s.staff("agent@shop.test", Role::Agent).await;
    let conv = id();
    s.post(
        "/api/v1/conversations",
        Some(&cust),
        json!({"id": conv, "subject": "S", "message_id": id(), "body": "hi"}),
    )
    .await;
    s.call(
        Method::PATCH,
        &format!("/api/v1/conversations/{conv}"),
        Some(&agent),
        Some(json!({"status": "resolved"})),
    )
    .await;
    let addr = id();
    let (st, v) = s
        .post(
            "/api/v1/sync/push",
            Some(&cust),
            json!({"mutations": [
                {"client_id": id(), "op": "update_profile", "args": {"display_name": "Pat R.", "language": "ru"}},
                {"client_id": id(), "op": "put_address", "args": {"id": addr, "kind": "billing", "name": "Pat", "line1": "Nevsky 1", "city": "Saint Petersburg", "postal_code": "190000", "country": "RU"}},
                {"client_id": id(), "op": "rate_conversation", "args": {"conversation_id": conv, "score": 4, "comment": "ok"}},
                {"client_id": id(), "op": "delete_address", "args": {"address_id": id()}},
            ]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let outcomes: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["applied", "applied", "applied", "rejected"]);
    let (_, p) = s.get("/api/v1/me/profile", &cust).await;
    assert_eq!(
        (p["display_name"].as_str(), p["language"].as_str()),
        (Some("Pat R."), Some("ru"))
    );
    assert_eq!(p["addresses"][0]["city"], "Saint Petersburg");
    let (_, t) = s.get(&format!("/api/v1/conversations/{conv}"), &cust).await;
    assert_eq!(t["conversation"]["rating"]["score"], 4);
    s.finish().await;
}

/// A new display name is the one the next message carries, whether the
/// profile changed over REST or through a push (the server may remember a
/// session's user between requests).
async fn a_renamed_user_writes_under_the_new_name(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (cust, _) = s.customer("lia@example.com").await;
    let conv = id();
    let (st, _) = s.post("/api/v1/conversations", Some(&cust), json!({"id": conv, "subject": "Sizes", "message_id": id(), "body": "hello"})).await;
    assert_eq!(st, StatusCode::CREATED);
    let path = format!("/api/v1/conversations/{conv}/messages");
    let send = |body: &'static str| s.post(&path, Some(&cust), json!({"id": id(), "body": body}));
    let (st, m) = send("before").await;
    assert_eq!(st, StatusCode::CREATED);
    let (_, p) = s.get("/api/v1/me/profile", &cust).await;
    assert_eq!(m["author_name"], p["display_name"]);

    let (st, _) = s
        .call(Method::PATCH, "/api/v1/me/profile", Some(&cust), Some(json!({"display_name": "Lía Q."})))
        .await;
    assert_eq!(st, StatusCode::OK);
    let (_, m) = send("after REST").await;
    assert_eq!(m["author_name"], "Lía Q.");

    let (st, v) = s
        .post("/api/v1/sync/push", Some(&cust), json!({"mutations": [
            {"client_id": id(), "op": "update_profile", "args": {"display_name": "Лия"}}]}))
        .await;
    assert_eq!((st, v["results"][0]["outcome"].as_str()), (StatusCode::OK, Some("applied")), "{v}");
    let (_, m) = send("after push").await;
    assert_eq!(m["author_name"], "Лия");
    s.finish().await;
}

on_both_backends!(
    a_renamed_user_writes_under_the_new_name,
    push_covers_profile_addresses_and_rating,
    accounts_register_login_sessions_logout,
    login_is_throttled_with_retry_after,
    admin_manages_staff,
    ingest_is_signed_idempotent_and_order_independent,
    authorization_matrix,
    conversation_round_trip_states_and_rating,
    push_is_idempotent_and_remembers_rejections,
    sync_pages_filters_and_asks_old_cursors_to_resync,
    sync_paging_misses_nothing_under_concurrent_writers,
    bad_input_gets_a_typed_4xx_and_writes_nothing,
    profile_export_and_account_deletion,
);
