//! Agent mode on the server: every agent action refused to customers,
//! auto-assignment by availability and limit, canned responses, and the
//! metrics on a fixture with known answers, on SQLite and PostgreSQL.

mod common;

use common::{Backend, TestServer};
use mostrador_core::auth::Role;
use mostrador_core::live::Presence;
use mostrador_server::auth::Actor;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

fn actor(id: &str, role: Role) -> Actor {
    Actor {
        user_id: id.parse().unwrap(),
        role,
        session_id: Uuid::nil(),
        display_name: "Agent".into(),
    }
}

async fn open(s: &TestServer, token: &str) -> (String, Value) {
    let id = Uuid::new_v4();
    let (st, v) = s
        .post(
            "/api/v1/conversations",
            Some(token),
            json!({"id": id, "subject": "Where is my parcel?", "message_id": Uuid::new_v4(), "body": "It's late"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    (id.to_string(), v)
}

async fn every_agent_action_is_refused_to_customers(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (customer, _) = s.customer("ana@example.com").await;
    let (agent, _) = s.staff("agent@shop.test", Role::Agent).await;
    let (admin, _) = s.staff("admin@shop.test", Role::Admin).await;
    let (conv, _) = open(&s, &customer).await;
    let canned = Uuid::new_v4();

    // (method, path, body, who may: agent, admin)
    let actions: Vec<(Method, String, Option<Value>, bool, bool)> = vec![
        (
            Method::PATCH,
            format!("/api/v1/conversations/{conv}"),
            Some(json!({"status": "pending"})),
            true,
            true,
        ),
        (
            Method::POST,
            format!("/api/v1/conversations/{conv}/messages"),
            Some(json!({"id": Uuid::new_v4(), "body": "internal", "kind": "note"})),
            true,
            true,
        ),
        (Method::GET, "/api/v1/canned".into(), None, true, true),
        (
            Method::PUT,
            format!("/api/v1/canned/{canned}"),
            Some(json!({"title": "Hi", "body": "Hi {first_name}"})),
            false,
            true,
        ),
        (
            Method::DELETE,
            format!("/api/v1/canned/{canned}"),
            None,
            false,
            true,
        ),
        (Method::GET, "/api/v1/metrics".into(), None, true, true),
        (Method::GET, "/api/v1/admin/staff".into(), None, false, true),
        (Method::GET, "/api/v1/agents".into(), None, true, true),
    ];
    for (method, path, body, agent_may, admin_may) in actions {
        let (st, v) = s
            .call(method.clone(), &path, Some(&customer), body.clone())
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN, "customer {method} {path}: {v}");
        assert_eq!(v["code"], "forbidden", "{v}");
        for (token, may, who) in [(&agent, agent_may, "agent"), (&admin, admin_may, "admin")] {
            // A fresh message id each time (ids are idempotency keys).
            let body = body.clone().map(|mut b| {
                if b.get("id").is_some() {
                    b["id"] = json!(Uuid::new_v4());
                }
                b
            });
            let (st, v) = s.call(method.clone(), &path, Some(token), body).await;
            if may {
                assert!(st.is_success(), "{who} {method} {path}: {st} {v}");
            } else {
                assert_eq!(st, StatusCode::FORBIDDEN, "{who} {method} {path}: {v}");
            }
        }
    }

    // The same actions queued offline and pushed are refused too, with the
    // reason kept.
    let (st, v) = s
        .post(
            "/api/v1/sync/push",
            Some(&customer),
            json!({"mutations": [
                {"client_id": Uuid::new_v4(), "op": "update_conversation",
                 "args": {"conversation_id": conv, "status": "resolved"}},
                {"client_id": Uuid::new_v4(), "op": "record_outcome",
                 "args": {"callback_id": Uuid::new_v4(), "status": "completed"}},
            ]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    for r in v["results"].as_array().unwrap() {
        assert_eq!(r["outcome"], "rejected", "{v}");
        assert_eq!(r["error"]["code"], "forbidden", "{v}");
    }
    // An agent's pushed update applies.
    let (_, v) = s
        .post(
            "/api/v1/sync/push",
            Some(&agent),
            json!({"mutations": [{"client_id": Uuid::new_v4(), "op": "update_conversation",
                "args": {"conversation_id": conv, "status": "resolved"}}]}),
        )
        .await;
    assert_eq!(v["results"][0]["outcome"], "applied", "{v}");
    let (_, c) = s
        .get(&format!("/api/v1/conversations/{conv}"), &agent)
        .await;
    assert_eq!(c["conversation"]["status"], "resolved", "{c}");
    s.finish().await;
}

async fn new_conversations_go_to_the_least_busy_available_agent(backend: Backend) {
    let s = TestServer::start_with(backend, |c| c.agent_max_open = 2).await;
    let (customer, _) = s.customer("ana@example.com").await;
    let (_, lucia) = s.staff("lucia@shop.test", Role::Agent).await;
    let (_, marco) = s.staff("marco@shop.test", Role::Agent).await;
    let (_, olga) = s.staff("olga@shop.test", Role::Agent).await;

    // Nobody available: the conversation waits unassigned, and the shopper
    // can see that no agent is free.
    let (first, v) = open(&s, &customer).await;
    assert_eq!(v["conversation"]["assigned_agent_id"], Value::Null, "{v}");
    let (_, a) = s.get("/api/v1/support/availability", &customer).await;
    assert_eq!(a["agents_available"], 0);

    // Lucía and Marco available, Olga away.
    s.state
        .hub
        .set_presence(&actor(&lucia, Role::Agent), Presence::Available);
    s.state
        .hub
        .set_presence(&actor(&marco, Role::Agent), Presence::Available);
    s.state
        .hub
        .set_presence(&actor(&olga, Role::Agent), Presence::Away);
    let (_, a) = s.get("/api/v1/support/availability", &customer).await;
    assert_eq!(a["agents_available"], 2);

    let mut assigned = Vec::new();
    for _ in 0..4 {
        let (_, v) = open(&s, &customer).await;
        assigned.push(
            v["conversation"]["assigned_agent_id"]
                .as_str()
                .map(str::to_owned),
        );
    }
    let count = |who: &str| {
        assigned
            .iter()
            .filter(|a| a.as_deref() == Some(who))
            .count()
    };
    assert_eq!((count(&lucia), count(&marco)), (2, 2), "{assigned:?}");
    assert_eq!(count(&olga), 0, "away agents get nothing");

    // Both at their limit of 2: the next one waits, and availability says so.
    let (_, v) = open(&s, &customer).await;
    assert_eq!(v["conversation"]["assigned_agent_id"], Value::Null, "{v}");
    let (_, a) = s.get("/api/v1/support/availability", &customer).await;
    assert_eq!(a["agents_available"], 0);

    // Olga comes back: she takes the next one. Resolving one of Lucía's
    // frees her again.
    s.state
        .hub
        .set_presence(&actor(&olga, Role::Agent), Presence::Available);
    let (_, v) = open(&s, &customer).await;
    assert_eq!(
        v["conversation"]["assigned_agent_id"].as_str(),
        Some(olga.as_str())
    );
    let _ = first;
    s.finish().await;
}

async fn canned_responses_are_managed_by_admins(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (agent, _) = s.staff("agent@shop.test", Role::Agent).await;
    let (admin, _) = s.staff("admin@shop.test", Role::Admin).await;
    let id = Uuid::new_v4();
    let (st, v) = s
        .call(
            Method::PUT,
            &format!("/api/v1/canned/{id}"),
            Some(&admin),
            Some(json!({"title": "  ", "body": "x"})),
        )
        .await;
    assert_eq!(
        (st.as_u16(), v["details"]["fields"]["title"].as_str()),
        (422, Some("required"))
    );
    let (st, _) = s
        .call(Method::PUT, &format!("/api/v1/canned/{id}"), Some(&admin),
            Some(json!({"title": "Delay", "body": "Hi {first_name}, order {order_number} is on its way."})))
        .await;
    assert_eq!(st, StatusCode::OK);
    let (_, list) = s.get("/api/v1/canned", &agent).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["title"], "Delay");
    let (st, _) = s
        .call(
            Method::DELETE,
            &format!("/api/v1/canned/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, list) = s.get("/api/v1/canned", &agent).await;
    assert!(list.as_array().unwrap().is_empty());
    s.finish().await;
}

/// 2026-11-23 12:00:00 UTC.
const NOW: i64 = 1_795_435_200_000;
const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;

async fn metrics_match_a_fixture_with_known_answers(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (_, customer) = s.customer("ana@example.com").await;
    let (_, agent) = s.staff("agent@shop.test", Role::Agent).await;
    let pool = s.state.db.pool();
    // (created, first reply after, resolved after, rating, assigned, customer spoke last)
    let fixture: [(i64, Option<i64>, Option<i64>, Option<i64>, bool, bool); 4] = [
        (
            NOW - 2 * HOUR,
            Some(10 * MIN),
            Some(60 * MIN),
            Some(5),
            true,
            false,
        ),
        (NOW - HOUR, Some(20 * MIN), None, None, true, true),
        (
            NOW - 3 * DAY,
            Some(30 * MIN),
            Some(120 * MIN),
            Some(3),
            true,
            false,
        ),
        (NOW - 30 * MIN, None, None, None, false, true),
    ];
    for (created, reply, resolved, rating, assigned, customer_last) in fixture {
        let id = Uuid::new_v4().to_string();
        sqlx::query(
            "INSERT INTO conversations (id, customer_id, order_id, subject, status, assigned_agent_id,
                rating_score, rating_comment, created_at, updated_at, last_message_at, resolved_at)
             VALUES ($1, $2, NULL, 'Fixture', $3, $4, $5, NULL, $6, $6, $6, $7)",
        )
        .bind(&id)
        .bind(&customer)
        .bind(if resolved.is_some() { "resolved" } else { "open" })
        .bind(assigned.then(|| agent.clone()))
        .bind(rating)
        .bind(created)
        .bind(resolved.map(|r| created + r))
        .execute(pool)
        .await
        .unwrap();
        let mut messages = vec![(created, &customer, "customer")];
        if let Some(r) = reply {
            messages.push((created + r, &agent, "agent"));
        }
        if customer_last && reply.is_some() {
            messages.push((created + reply.unwrap() + MIN, &customer, "customer"));
        }
        for (at, author, role) in messages {
            sqlx::query(
                "INSERT INTO messages (id, conversation_id, author_id, author_role, kind, body, state, created_at)
                 VALUES ($1, $2, $3, $4, 'text', 'x', 'sent', $5)",
            )
            .bind(Uuid::new_v4().to_string())
            .bind(&id)
            .bind(author)
            .bind(role)
            .bind(at)
            .execute(pool)
            .await
            .unwrap();
        }
    }
    for status in ["completed", "completed", "missed", "cancelled"] {
        sqlx::query(
            "INSERT INTO callbacks (id, customer_id, channel, phone, topic, order_id, time_zone,
                slot_start, slot_end, status, outcome_note, created_at, updated_at)
             VALUES ($1, $2, 'video', NULL, 't', NULL, 'UTC', $3, $3, $4, NULL, $3, $3)",
        )
        .bind(Uuid::new_v4().to_string())
        .bind(&customer)
        .bind(NOW - DAY)
        .bind(status)
        .execute(pool)
        .await
        .unwrap();
    }

    let m = mostrador_server::routes::agent::compute(&s.state, NOW)
        .await
        .unwrap();
    assert_eq!((m.open, m.waiting, m.unassigned), (2, 2, 1), "{m:?}");
    assert_eq!(m.today.conversations, 3);
    assert_eq!(
        m.today.first_response_ms,
        Some(15 * MIN),
        "median of 10 and 20 min"
    );
    assert_eq!(m.today.resolution_ms, Some(60 * MIN));
    assert_eq!(m.last_7_days.conversations, 4);
    assert_eq!(
        m.last_7_days.first_response_ms,
        Some(20 * MIN),
        "median of 10, 20, 30 min"
    );
    assert_eq!(
        m.last_7_days.resolution_ms,
        Some(90 * MIN),
        "median of 60 and 120 min"
    );
    assert_eq!(m.satisfaction, [0, 0, 1, 0, 1]);
    assert_eq!(m.satisfaction_avg, Some(4.0));
    assert_eq!((m.callbacks_completed, m.callbacks_missed), (2, 1));
    assert_eq!(m.opened_per_day, vec![0, 0, 0, 1, 0, 0, 3]);
    s.finish().await;
}

on_both_backends!(
    every_agent_action_is_refused_to_customers,
    new_conversations_go_to_the_least_busy_available_agent,
    canned_responses_are_managed_by_admins,
    metrics_match_a_fixture_with_known_answers,
);
