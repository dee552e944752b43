//! The first end-to-end slice: UI → Tauri command → client engine → HTTP →
//! server, through the real app in WebKitGTK.

use std::time::Duration;

use mostrador_e2e::{AppSession, ServerProcess};

const STATUS: &str = "[data-testid=backend-status]";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_screen_shows_the_backend_online_then_offline() -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let mut server = ServerProcess::start(data.path()).await?;
    let app = AppSession::launch(&server.url).await?;

    let online = app
        .wait_for_text(STATUS, Duration::from_secs(30), |t| t.contains("Online"))
        .await?;
    assert!(
        online.contains(mostrador_core::VERSION),
        "status should name the server version: {online:?}"
    );
    assert_eq!(
        app.attr(STATUS, "data-state").await?.as_deref(),
        Some("online")
    );
    app.screenshot("first-screen-online").await?;

    server.stop().await?;
    let offline = app
        .wait_for_text(STATUS, Duration::from_secs(20), |t| t.contains("Offline"))
        .await?;
    assert!(!offline.contains("Online"));
    assert_eq!(
        app.attr(STATUS, "data-state").await?.as_deref(),
        Some("offline")
    );
    app.screenshot("first-screen-offline").await?;

    app.close().await
}
