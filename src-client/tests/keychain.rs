//! The session token in the real OS keychain (the Secret Service here;
//! `cargo xtask test` runs the tests inside a D-Bus session with an unlocked
//! GNOME Keyring): saved at sign-in, never written to the store file,
//! restored by the next run, removed at sign-out.

use std::net::SocketAddr;

use mostrador_client::session::KeychainSession;
use mostrador_client::{ClientConfig, Engine};
use mostrador_core::auth::{RegisterRequest, Token};
use mostrador_server::{http, prepare, ServerConfig};

mod support;
use support::example;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keychain_round_trip() {
    let k = KeychainSession::for_server(&format!("http://test-{}.invalid", uuid::Uuid::new_v4()));
    assert_eq!(k.load().await.unwrap(), None);
    k.save(&Token("t0ken-value".into())).await.unwrap();
    assert_eq!(k.load().await.unwrap(), Some(Token("t0ken-value".into())));
    k.clear().await.unwrap();
    assert_eq!(k.load().await.unwrap(), None);
    k.clear().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_lives_in_the_keychain_and_leaves_with_sign_out() {
    let server_dir = tempfile::tempdir().unwrap();
    let (listener, state) = prepare(ServerConfig::for_data_dir(server_dir.path()))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            http::router(state).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    let url = format!("http://{addr}");
    let app_dir = tempfile::tempdir().unwrap();
    let store = app_dir.path().join("store.sqlite3");

    let mut app = Engine::open(&ClientConfig::new(&url), &store)
        .await
        .unwrap();
    assert!(!app.use_keychain().await.unwrap(), "nothing saved yet");
    app.register(&RegisterRequest {
        email: "kai@example.com".into(),
        password: "correct horse battery".into(),
        display_name: "Kai".into(),
        language: None,
        device_name: None,
    })
    .await
    .unwrap();
    let token = app.api().token().unwrap();
    app.pull().await.unwrap();
    drop(app);
    for file in ["store.sqlite3", "store.sqlite3-wal"] {
        if let Ok(bytes) = std::fs::read(app_dir.path().join(file)) {
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains(token.expose()), "token found in {file}");
        }
    }

    // The next run finds the session in the keychain.
    let mut app = Engine::open(&ClientConfig::new(&url), &store)
        .await
        .unwrap();
    assert!(app.use_keychain().await.unwrap());
    assert_eq!(app.api().token(), Some(token));
    app.pull().await.unwrap();

    app.sign_out().await.unwrap();
    assert_eq!(
        KeychainSession::for_device(&url, &store)
            .load()
            .await
            .unwrap(),
        None
    );
}

#[test]
fn without_a_secret_service_the_kernel_keyring_is_used() {
    // A process with no session bus, in a fresh kernel session keyring.
    let out = std::process::Command::new("keyctl")
        .args(["session", "-"])
        .arg(example("keychain_probe"))
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .output()
        .expect("keyctl (Debian: keyutils) is installed by `cargo xtask test`");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.trim(),
        "ok kernel keyring",
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn with_a_secret_service_it_is_preferred() {
    let out = std::process::Command::new(example("keychain_probe"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "ok Secret Service"
    );
}
