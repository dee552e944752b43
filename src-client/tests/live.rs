//! The live socket from the app's side: a session ended elsewhere (signed
//! out, revoked, account deleted) ends here at once, told by the socket's
//! close code rather than found out at the next sync round; and the socket
//! works over TLS (`wss://`) against a server with a certificate the
//! client was told to trust.

use std::time::Duration;

use mostrador_client::{Engine, EngineEvent};

mod support;
use support::app::{engine, register};
use support::server::{free_port, Server};

/// Runs the sync service until it reports being up to date.
async fn running(app: &Engine) -> tokio::sync::watch::Sender<bool> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut events = app.subscribe();
    let service = app.clone();
    tokio::spawn(async move { service.run(stop_rx).await });
    loop {
        if let EngineEvent::Status(mostrador_client::SyncStatus::UpToDate) =
            events.recv().await.unwrap()
        {
            break;
        }
    }
    stop_tx
}

/// The first session-ending event within `within` (well under the
/// service's 15-second safety tick, so only the socket can have said it).
async fn ended(
    events: &mut tokio::sync::broadcast::Receiver<EngineEvent>,
    within: Duration,
) -> EngineEvent {
    tokio::time::timeout(within, async {
        loop {
            match events.recv().await.unwrap() {
                e @ (EngineEvent::SignedOut | EngineEvent::AccountDeleted) => return e,
                _ => continue,
            }
        }
    })
    .await
    .expect("the app did not learn that its session ended")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ended_elsewhere_ends_the_app_session_through_the_socket() {
    let server_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start(server_dir.path(), port).await;
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();

    // Signed out from elsewhere (the token used by another party).
    let dir = tempfile::tempdir().unwrap();
    let app = engine(port, &dir.path().join("store.sqlite3")).await;
    app.register(&register("ana@example.com")).await.unwrap();
    let stop = running(&app).await;
    let mut events = app.subscribe();
    let token = app.api().token().unwrap();
    let res = http
        .post(format!("{base}/api/v1/auth/logout"))
        .bearer_auth(token.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert!(matches!(
        ended(&mut events, Duration::from_secs(5)).await,
        EngineEvent::SignedOut
    ));
    let _ = stop.send(true);

    // The account deleted from another device.
    let dir = tempfile::tempdir().unwrap();
    let app = engine(port, &dir.path().join("store.sqlite3")).await;
    app.register(&register("bea@example.com")).await.unwrap();
    let stop = running(&app).await;
    let mut events = app.subscribe();
    let other = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": "bea@example.com", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    let res = http
        .delete(format!("{base}/api/v1/me"))
        .bearer_auth(other["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert!(matches!(
        ended(&mut events, Duration::from_secs(5)).await,
        EngineEvent::AccountDeleted
    ));
    let _ = stop.send(true);
    server.stop().await;
}

/// A TLS front for the plain server on `backend`: a self-signed certificate
/// for `localhost` (rcgen), each connection relayed to the server. Returns
/// its port and the certificate (PEM) for the client to trust.
async fn tls_front(backend: u16) -> (u16, Vec<u8>) {
    use std::sync::Arc;
    let issued = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let key = rustls::pki_types::PrivatePkcs8KeyDer::from(issued.signing_key.serialize_der());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![issued.cert.der().clone()], key.into())
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                if let Ok(mut plain) = tokio::net::TcpStream::connect(("127.0.0.1", backend)).await
                {
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                }
            });
        }
    });
    (port, issued.cert.pem().into_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_socket_works_over_tls() {
    let server_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start(server_dir.path(), port).await;
    let (tls_port, root) = tls_front(port).await;
    let mut config = mostrador_client::ClientConfig::new(format!("https://localhost:{tls_port}"));
    config.extra_root_pem = Some(root);
    let dir = tempfile::tempdir().unwrap();
    let app = Engine::open(&config, &dir.path().join("store.sqlite3"))
        .await
        .unwrap();
    app.register(&register("tls@example.com")).await.unwrap();
    // Up to date only once the live socket is open (wss://, through the
    // TLS front): a socket that cannot connect reports offline instead.
    let stop = tokio::time::timeout(Duration::from_secs(20), running(&app))
        .await
        .expect("the live socket never opened over wss://");
    assert_eq!(
        server.state.hub.connections(),
        1,
        "one live socket, over TLS"
    );
    let _ = stop.send(true);
    server.stop().await;
}
