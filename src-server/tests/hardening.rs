//! Bounded work per request, on SQLite and on PostgreSQL: throttled
//! registration and sign-in, the callback booking horizon and per-customer
//! limits, and the other hardening refusals.

mod common;

use common::{Backend, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn registration_is_throttled_per_address(backend: Backend) {
    let s = TestServer::start_with(backend, |c| c.register_per_address = 3).await;
    for i in 0..3 {
        s.customer(&format!("r{i}@example.com")).await;
    }
    let res = s
        .http
        .post(format!("{}/api/v1/auth/register", s.base))
        .json(&json!({"email": "r4@example.com", "password": "correct horse battery", "display_name": "R"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= 3600);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["code"], "rate_limited", "{v}");
    s.finish().await;
}

/// A window ending far in the future, or too many windows, is refused at
/// once with 422 (before any slot grid is built), by REST booking,
/// reschedule and push alike; the horizon is configurable.
async fn callback_windows_beyond_the_horizon_are_refused_at_once(backend: Backend) {
    let s = TestServer::start_with(backend, |c| c.hours.horizon = jiff::SignedDuration::from_hours(24 * 60)).await;
    let (cust, _) = s.customer("far@example.com").await;
    let soon = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(2);
    let far = "9999-12-30T00:00:00Z";
    let book = |windows: Value| {
        json!({"id": uuid::Uuid::new_v4(), "channel": "video", "topic": "Parcel",
               "time_zone": "UTC", "windows": windows})
    };
    // 61 days ahead is past a 60-day horizon; 59 days is not.
    let end61 = soon + jiff::SignedDuration::from_hours(24 * 61);
    let (st, v) = s
        .post("/api/v1/callbacks", Some(&cust), book(json!([{"start": soon, "end": end61}])))
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (st, v) = s
        .post("/api/v1/callbacks", Some(&cust), book(json!([{"start": soon, "end": far}])))
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["details"]["fields"]["windows"], "too_far_ahead", "{v}");
    let windows: Vec<Value> = (0..11)
        .map(|i| {
            let a = soon + jiff::SignedDuration::from_hours(i);
            json!({"start": a, "end": a + jiff::SignedDuration::from_mins(30)})
        })
        .collect();
    let (st, v) = s
        .post("/api/v1/callbacks", Some(&cust), book(json!(windows)))
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["details"]["fields"]["windows"], "too_many", "{v}");
    // A real booking, then a reschedule and a push with the far end.
    let end = soon + jiff::SignedDuration::from_hours(24 * 59);
    let (st, v) = s
        .post("/api/v1/callbacks", Some(&cust), book(json!([{"start": soon, "end": end}])))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    let (st, v) = s
        .post(
            &format!("/api/v1/callbacks/{id}/reschedule"),
            Some(&cust),
            json!({"windows": [{"start": soon, "end": far}]}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (st, v) = s
        .post(
            "/api/v1/sync/push",
            Some(&cust),
            json!({"mutations": [
                {"client_id": uuid::Uuid::new_v4(), "op": "request_callback",
                 "args": book(json!([{"start": soon, "end": far}]))},
                {"client_id": uuid::Uuid::new_v4(), "op": "reschedule_callback",
                 "args": {"callback_id": id, "windows": [{"start": soon, "end": far}]}},
            ]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    for r in v["results"].as_array().unwrap() {
        assert_eq!(r["outcome"], "rejected", "{v}");
        assert_eq!(r["error"]["details"]["fields"]["windows"], "too_far_ahead", "{v}");
    }
    s.finish().await;
}

on_both_backends!(
    registration_is_throttled_per_address,
    callback_windows_beyond_the_horizon_are_refused_at_once,
);
