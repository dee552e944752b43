//! The demo data set: the shape README promises, through the real ingest
//! code, and seeding twice changes nothing; its support history spans
//! days with real response times, so the metrics mean something.

mod common;

use common::{Backend, TestServer};
use mostrador_core::orders::TrackingStatus;
use mostrador_server::db::now_ms;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_demo_builds_the_promised_data_set_once() {
    let s = TestServer::start(Backend::Sqlite).await;
    assert!(
        mostrador_server::demo::seed(&s.state.db, &s.state.config.hours)
            .await
            .unwrap()
    );
    assert!(
        !mostrador_server::demo::seed(&s.state.db, &s.state.config.hours)
            .await
            .unwrap(),
        "second run is a no-op"
    );
    let pool = s.state.db.pool();
    let count = |sql: &'static str| async move {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(pool)
            .await
            .unwrap()
    };
    assert_eq!(
        count("SELECT COUNT(*) FROM users WHERE role = 'customer'").await,
        50
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM users WHERE role = 'agent'").await,
        3
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM users WHERE role = 'admin'").await,
        1
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM orders WHERE customer_id IS NOT NULL").await,
        500
    );
    assert!(count("SELECT COUNT(*) FROM conversations WHERE status = 'resolved' AND rating_score IS NOT NULL").await > 0);
    assert!(count("SELECT COUNT(*) FROM conversations WHERE status = 'open'").await > 0);
    assert_eq!(
        count("SELECT COUNT(*) FROM callbacks WHERE status = 'scheduled'").await,
        5
    );
    let statuses: Vec<String> = sqlx::query_scalar("SELECT DISTINCT status FROM orders")
        .fetch_all(pool)
        .await
        .unwrap();
    for s in TrackingStatus::ALL {
        assert!(
            statuses.iter().any(|x| x == s.as_str()),
            "no demo order is {s:?}"
        );
    }

    // The README's accounts work.
    let (st, v) = s
        .post("/api/v1/auth/login", None, json!({"email": "ana@mostrador.demo", "password": mostrador_server::demo::CUSTOMER_PASSWORD}))
        .await;
    assert_eq!(st, StatusCode::OK);
    let (_, orders) = s.get("/api/v1/orders", v["token"].as_str().unwrap()).await;
    assert_eq!(orders.as_array().unwrap().len(), 10);
    assert!(orders
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["status"] == "delayed"));
    for (email, _) in mostrador_server::demo::AGENTS {
        let (st, _) = s
            .post(
                "/api/v1/auth/login",
                None,
                json!({"email": email, "password": mostrador_server::demo::AGENT_PASSWORD}),
            )
            .await;
        assert_eq!(st, StatusCode::OK);
    }
    s.finish().await;
}

/// The metrics of a freshly seeded demo: minutes-to-hours first responses,
/// longer resolutions, ratings of several scores, conversations on most of
/// the last days. And what the end-to-end tests rely on still holds: Ana
/// has an open question, Lucía can take a new conversation, and one more
/// 5-star rating moves the average shown to one decimal.
async fn demo_metrics_span_days_with_real_response_times(backend: Backend) {
    let s = TestServer::start(backend).await;
    mostrador_server::demo::seed(&s.state.db, &s.state.config.hours)
        .await
        .unwrap();
    let m = mostrador_server::routes::agent::compute(&s.state, now_ms())
        .await
        .unwrap();
    const MIN: i64 = 60_000;
    let first = m.last_7_days.first_response_ms.unwrap_or(0);
    assert!(
        (5 * MIN..=6 * 60 * MIN).contains(&first),
        "median first response {first} ms: {m:?}"
    );
    let resolution = m.last_7_days.resolution_ms.unwrap_or(0);
    assert!(
        resolution > first && resolution >= 60 * MIN,
        "median resolution {resolution} ms: {m:?}"
    );
    let days = m.opened_per_day.iter().filter(|n| **n > 0).count();
    assert!(
        days >= 5,
        "conversations on {days} of the last 7 days: {m:?}"
    );
    let scores = m.satisfaction.iter().filter(|n| **n > 0).count();
    assert!(scores >= 3, "ratings of {scores} different scores: {m:?}");
    assert!(m.callbacks_completed > 0 && m.callbacks_missed > 0, "{m:?}");
    assert!(m.open > 0 && m.waiting > 0 && m.unassigned > 0, "{m:?}");

    let pool = s.state.db.pool();
    let created: Vec<i64> = sqlx::query_scalar("SELECT created_at FROM conversations")
        .fetch_all(pool)
        .await
        .unwrap();
    let distinct_days: std::collections::HashSet<i64> =
        created.iter().map(|c| c / 86_400_000).collect();
    assert!(distinct_days.len() >= 10, "{} days", distinct_days.len());

    // Ana's open question, waiting for an agent.
    let ana_open: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM conversations c JOIN users u ON u.id = c.customer_id
         WHERE u.email = 'ana@mostrador.demo' AND c.status = 'open'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert!(ana_open > 0);
    // Lucía has room for a new conversation.
    let lucia_open: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM conversations c JOIN users u ON u.id = c.assigned_agent_id
         WHERE u.email = 'lucia@mostrador.demo' AND c.status <> 'resolved'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert!(
        lucia_open < s.state.config.agent_max_open,
        "{lucia_open} open"
    );
    // One more 5-star rating changes the average as shown.
    let n: i64 = m.satisfaction.iter().sum();
    let sum: i64 = m
        .satisfaction
        .iter()
        .enumerate()
        .map(|(i, k)| (i as i64 + 1) * k)
        .sum();
    let shown = |avg: f64| format!("{avg:.1}");
    assert_ne!(
        shown(sum as f64 / n as f64),
        shown((sum + 5) as f64 / (n + 1) as f64),
        "{m:?}"
    );
    s.finish().await;
}

on_both_backends!(demo_metrics_span_days_with_real_response_times);
