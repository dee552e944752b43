//! The engine against the real server: online, then offline once it stops.

use std::net::SocketAddr;

use mostrador_client::{Client, ClientConfig};
use mostrador_core::BackendStatus;
use mostrador_server::{http, prepare, ServerConfig};

#[tokio::test]
async fn backend_status_follows_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let (listener, state) = prepare(ServerConfig::for_data_dir(dir.path()))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            http::router(state).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async {
            let _ = stop_rx.await;
        })
        .await
        .unwrap();
    });

    let client = Client::new(ClientConfig::new(format!("http://{addr}/"))).unwrap();
    match client.backend_status().await {
        BackendStatus::Online {
            version,
            database,
            server_url,
        } => {
            assert_eq!(version, mostrador_core::VERSION);
            assert_eq!(database, "sqlite");
            assert_eq!(server_url, format!("http://{addr}"));
        }
        other => panic!("expected online, got {other:?}"),
    }

    stop_tx.send(()).unwrap();
    server.await.unwrap();
    let status = client.backend_status().await;
    match status {
        BackendStatus::Offline { reason, .. } => {
            assert!(reason.contains("cannot reach"), "reason: {reason}");
            assert!(!reason.contains(&addr.to_string()), "URL leaked: {reason}");
        }
        other => panic!("expected offline, got {other:?}"),
    }
}
