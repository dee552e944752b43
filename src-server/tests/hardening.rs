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

on_both_backends!(registration_is_throttled_per_address);
