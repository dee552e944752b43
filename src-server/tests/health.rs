//! The first slice of the wire: health, the generated spec and the JSON
//! fallbacks, against the real server on an ephemeral port and a real SQLite
//! file.

use std::net::SocketAddr;

use mostrador_core::{ApiError, ErrorCode, Health};
use mostrador_server::{http, prepare, ServerConfig};

struct TestServer {
    base: String,
    _dir: tempfile::TempDir,
}

async fn start() -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let (listener, state) = prepare(ServerConfig::for_data_dir(dir.path())).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            http::router(state).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    TestServer {
        base: format!("http://{addr}"),
        _dir: dir,
    }
}

#[tokio::test]
async fn healthz_reports_version_and_database() {
    let server = start().await;
    let res = reqwest::get(format!("{}/healthz", server.base)).await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers().contains_key("x-request-id"));
    let health: Health = res.json().await.unwrap();
    assert_eq!(health.status, "ok");
    assert_eq!(health.version, mostrador_core::VERSION);
    assert_eq!(health.database, "sqlite");
    assert!(server._dir.path().join("mostrador.sqlite3").exists());
}

#[tokio::test]
async fn openapi_is_3_1_and_generated_from_the_handlers() {
    let server = start().await;
    let spec: serde_json::Value = reqwest::get(format!("{}/api/openapi.json", server.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(spec["paths"]["/healthz"]["get"].is_object());
    assert!(spec["components"]["schemas"]["ApiError"].is_object());
    assert!(spec["components"]["schemas"]["Health"].is_object());
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_with_the_error_shape() {
    let server = start().await;
    let client = reqwest::Client::new();
    let res = client.get(format!("{}/api/v1/nope", server.base)).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let err: ApiError = res.json().await.unwrap();
    assert_eq!(err.code, ErrorCode::NotFound);

    let res = client.post(format!("{}/healthz", server.base)).send().await.unwrap();
    assert_eq!(res.status(), 405);
    let err: ApiError = res.json().await.unwrap();
    assert_eq!(err.code, ErrorCode::BadRequest);
}
