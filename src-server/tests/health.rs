//! The first slice of the wire: health, the generated spec and the JSON
//! fallbacks, against the real server on an ephemeral port.

mod common;

use common::{Backend, TestServer};
use mostrador_core::{ApiError, ErrorCode, Health};

async fn healthz_reports_version_and_database(backend: Backend) {
    let server = TestServer::start(backend).await;
    let res = reqwest::get(format!("{}/healthz", server.base))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers().contains_key("x-request-id"));
    let health: Health = res.json().await.unwrap();
    assert_eq!(health.status, "ok");
    assert_eq!(health.version, mostrador_core::VERSION);
    assert_eq!(
        health.database,
        if backend == Backend::Sqlite {
            "sqlite"
        } else {
            "postgres"
        }
    );
    server.finish().await;
}

async fn openapi_is_3_1_and_generated_from_the_handlers(backend: Backend) {
    let server = TestServer::start(backend).await;
    let spec: serde_json::Value = reqwest::get(format!("{}/api/openapi.json", server.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/healthz",
        "/api/v1/auth/register",
        "/api/v1/orders/{id}",
        "/api/v1/integrations/orders",
        "/api/v1/conversations/{id}/messages",
        "/api/v1/sync",
        "/api/v1/sync/push",
        "/api/v1/me/export",
    ] {
        assert!(
            spec["paths"][path].is_object(),
            "{path} missing from the spec"
        );
    }
    for schema in ["ApiError", "Health", "Order", "SyncPage", "Mutation"] {
        assert!(
            spec["components"]["schemas"][schema].is_object(),
            "{schema} schema missing"
        );
    }
    assert!(spec["components"]["securitySchemes"]["bearer"].is_object());
    server.finish().await;
}

async fn unknown_routes_and_methods_answer_with_the_error_shape(backend: Backend) {
    let server = TestServer::start(backend).await;
    let client = reqwest::Client::new();
    let res = client
        .get(format!("{}/api/v1/nope", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let err: ApiError = res.json().await.unwrap();
    assert_eq!(err.code, ErrorCode::NotFound);

    let res = client
        .post(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    let err: ApiError = res.json().await.unwrap();
    assert_eq!(err.code, ErrorCode::BadRequest);
    server.finish().await;
}

on_both_backends!(
    healthz_reports_version_and_database,
    openapi_is_3_1_and_generated_from_the_handlers,
    unknown_routes_and_methods_answer_with_the_error_shape,
);
