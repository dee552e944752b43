//! Signed identity (`POST /api/v1/auth/identity`): a shop-signed JWT
//! becomes a session of that customer, created on first use with the
//! orders the shop already sent; expired, forged, foreign-algorithm,
//! replayed and too-long-lived identities are refused with their codes,
//! failures are throttled like sign-ins, and without a secret the endpoint
//! says it is not configured.

mod common;

use base64::Engine;
use common::{order_event, Backend, TestServer};
use mostrador_core::auth::Role;
use mostrador_server::routes::identity::sign;
use reqwest::StatusCode;
use serde_json::{json, Value};

const SECRET: &str = "shop-identity-secret";

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

fn identity(email: &str, jti: &str, change: impl FnOnce(&mut Value)) -> String {
    let mut claims = json!({"email": email, "exp": now() + 600, "iat": now(), "jti": jti});
    change(&mut claims);
    sign(SECRET.as_bytes(), &claims)
}

async fn start(backend: Backend) -> TestServer {
    TestServer::start_with(backend, |c| c.identity_secret = Some(SECRET.into())).await
}

async fn exchange(s: &TestServer, token: &str) -> (StatusCode, Value) {
    s.post("/api/v1/auth/identity", None, json!({"identity": token}))
        .await
}

fn numbers(orders: &Value) -> Vec<String> {
    let mut n: Vec<String> = orders
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["number"].as_str().unwrap().to_owned())
        .collect();
    n.sort();
    n
}

async fn a_signed_identity_signs_in_and_brings_the_shops_orders(backend: Backend) {
    let s = start(backend).await;
    let at = "2026-11-20T10:00:00Z";
    for (n, email) in [
        ("MS-1", "sofia@example.com"),
        ("MS-2", "Sofia@Example.com"),
        ("MS-3", "other@example.com"),
    ] {
        let (st, v) = s
            .ingest(&order_event(&format!("{n}-e"), n, email, at))
            .await;
        assert!(st.is_success(), "{v}");
    }
    // Someone else claimed the address without proving it: that account
    // must not get the orders, nor block the shopper.
    let (squatter, _) = s.unverified_customer("sofia@example.com").await;

    let (st, v) = exchange(
        &s,
        &identity(" SOFIA@example.com", "j-1", |c| {
            c["name"] = json!("Sofía Pérez")
        }),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let token = v["token"].as_str().unwrap().to_owned();
    let user = v["user"].clone();
    assert_eq!(user["email"], "sofia@example.com");
    assert_eq!(user["email_verified"], true);
    assert_eq!(user["display_name"], "Sofía Pérez");
    assert_eq!(user["role"], "customer");
    assert!(v["session_id"].is_string() && v["expires_at"].is_string());

    let (st, orders) = s.get("/api/v1/orders", &token).await;
    assert_eq!(st, StatusCode::OK, "{orders}");
    assert_eq!(numbers(&orders), ["MS-1", "MS-2"]);
    let (_, theirs) = s.get("/api/v1/orders", &squatter).await;
    assert_eq!(numbers(&theirs), Vec::<String>::new());

    // Orders the shop sends later reach the account too (ingest links by
    // the verified address).
    s.ingest(&order_event("MS-4-e", "MS-4", "sofia@example.com", at))
        .await;
    let (_, orders) = s.get("/api/v1/orders", &token).await;
    assert_eq!(numbers(&orders), ["MS-1", "MS-2", "MS-4"]);

    // A second identity (new jti) is the same account; its name stays.
    let (st, again) = exchange(
        &s,
        &identity("sofia@example.com", "j-2", |c| c["name"] = json!("S. P.")),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{again}");
    assert_eq!(again["user"]["id"], user["id"]);
    assert_eq!(again["user"]["display_name"], "Sofía Pérez");
    assert_ne!(again["token"], v["token"]);

    // Without a name, a new account is named after the address.
    let (st, plain) = exchange(&s, &identity("plain.name@example.com", "j-3", |_| {})).await;
    assert_eq!(st, StatusCode::OK, "{plain}");
    assert_eq!(plain["user"]["display_name"], "plain.name");

    // The account has no password: none signs in.
    for password in ["", "!", "correct horse battery"] {
        let (st, _) = s
            .post(
                "/api/v1/auth/login",
                None,
                json!({"email": "sofia@example.com", "password": password}),
            )
            .await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
    }
    s.finish().await;
}

fn code(v: &Value) -> &str {
    v["code"].as_str().unwrap_or_default()
}

async fn bad_identities_are_refused_with_their_codes(backend: Backend) {
    let s = start(backend).await;
    let enc = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let claims = json!({"email": "eve@example.com", "exp": now() + 600, "jti": "x-1"});

    let expired = identity("eve@example.com", "x-2", |c| c["exp"] = json!(now() - 3600));
    let forged = sign(b"not the shop's secret", &claims);
    let none = format!(
        "{}.{}.",
        enc(json!({"alg": "none", "typ": "JWT"})),
        enc(claims.clone())
    );
    // An RS256/HS256 confusion: the header says RS256, the MAC is real.
    let hs = sign(SECRET.as_bytes(), &claims);
    let (_, rest) = hs.split_once('.').unwrap();
    let rs256 = format!("{}.{rest}", enc(json!({"alg": "RS256"})));
    let too_long = identity("eve@example.com", "x-3", |c| {
        c["exp"] = json!(now() + 25 * 3600)
    });
    let no_jti = identity("eve@example.com", "x-4", |c| {
        c.as_object_mut().unwrap().remove("jti");
    });
    for (what, token, expected) in [
        ("expired", expired.as_str(), "identity_expired"),
        ("forged", &forged, "identity_invalid"),
        ("alg none", &none, "identity_invalid"),
        ("alg RS256", &rs256, "identity_invalid"),
        ("exp more than 24 h ahead", &too_long, "identity_invalid"),
        ("no jti", &no_jti, "identity_invalid"),
        ("not a JWT", "hello", "identity_invalid"),
    ] {
        let (st, v) = exchange(&s, token).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{what}: {v}");
        assert_eq!(code(&v), expected, "{what}: {v}");
        assert!(
            !v.to_string().contains(&token[..token.len().min(30)]) || token.len() < 10,
            "{what}: the token is echoed"
        );
    }

    // Replay: the same identity works once.
    let once = identity("eve@example.com", "x-5", |_| {});
    let (st, v) = exchange(&s, &once).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = exchange(&s, &once).await;
    assert_eq!(
        (st, code(&v)),
        (StatusCode::UNAUTHORIZED, "identity_replayed"),
        "{v}"
    );
    // Even re-signed with another expiry: the jti is what counts.
    let resigned = identity("eve@example.com", "x-5", |c| c["exp"] = json!(now() + 900));
    let (st, v) = exchange(&s, &resigned).await;
    assert_eq!(
        (st, code(&v)),
        (StatusCode::UNAUTHORIZED, "identity_replayed"),
        "{v}"
    );

    // Two exchanges of one fresh identity at once: exactly one session.
    let twice = identity("eve@example.com", "x-6", |_| {});
    let (a, b) = tokio::join!(exchange(&s, &twice), exchange(&s, &twice));
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::UNAUTHORIZED],
        "{a:?} {b:?}"
    );

    // A staff address cannot be entered with a shop's signature.
    s.staff("agent@shop.test", Role::Agent).await;
    let (st, v) = exchange(&s, &identity("agent@shop.test", "x-7", |_| {})).await;
    assert_eq!(
        (st, code(&v)),
        (StatusCode::UNAUTHORIZED, "identity_invalid"),
        "{v}"
    );
    // A name the name rules refuse.
    let (st, v) = exchange(
        &s,
        &identity("new@example.com", "x-8", |c| {
            c["name"] = json!("N".repeat(101))
        }),
    )
    .await;
    assert_eq!(
        (st, code(&v)),
        (StatusCode::UNAUTHORIZED, "identity_invalid"),
        "{v}"
    );

    // The request's own shape is checked first.
    let (st, v) = s.post("/api/v1/auth/identity", None, json!({})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    s.finish().await;
}

async fn refused_identities_are_throttled_like_sign_ins(backend: Backend) {
    let s = TestServer::start_with(backend, |c| {
        c.identity_secret = Some(SECRET.into());
        c.login_per_address = 3;
    })
    .await;
    let forged = sign(
        b"guess",
        &json!({"email": "a@example.com", "exp": now() + 60, "jti": "g"}),
    );
    for _ in 0..3 {
        let (st, _) = exchange(&s, &forged).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
    }
    let res = s
        .http
        .post(format!("{}/api/v1/auth/identity", s.base))
        .json(&json!({"identity": identity("a@example.com", "ok-1", |_| {})}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().get("retry-after").is_some());
    let v: Value = res.json().await.unwrap();
    assert_eq!(code(&v), "rate_limited");
    s.finish().await;
}

async fn without_a_secret_identities_are_not_configured(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (st, v) = exchange(&s, &identity("a@example.com", "n-1", |_| {})).await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert_eq!(code(&v), "identity_not_configured");
    s.finish().await;
}

on_both_backends!(
    a_signed_identity_signs_in_and_brings_the_shops_orders,
    bad_identities_are_refused_with_their_codes,
    refused_identities_are_throttled_like_sign_ins,
    without_a_secret_identities_are_not_configured,
);
