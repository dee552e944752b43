//! The real server, in-process, on a chosen port over a SQLite file.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;

use mostrador_server::{http, prepare, ServerConfig};
use tokio::sync::oneshot;

/// The real server on `port` over the SQLite file in `dir`; dropping the
/// handle shuts it down gracefully.
pub struct Server {
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    pub state: mostrador_server::AppState,
}

impl Server {
    pub async fn start(dir: &Path, port: u16) -> Self {
        let mut config = ServerConfig::for_data_dir(dir);
        config.bind = SocketAddr::from(([127, 0, 0, 1], port));
        let (listener, state) = prepare(config).await.unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let router = http::router(state.clone());
        let task = tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        Server {
            stop: Some(tx),
            task,
            state,
        }
    }

    pub async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.await.unwrap();
        self.state.db.pool().close().await;
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
