//! The demo data set: the shape README promises, through the real ingest
//! code, and seeding twice changes nothing.

mod common;

use common::{Backend, TestServer};
use mostrador_core::orders::TrackingStatus;
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
