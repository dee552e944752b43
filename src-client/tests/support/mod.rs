//! Shared pieces of the engine tests (each test binary uses a subset).

#![allow(dead_code)]

pub mod app;
pub mod proxy;
pub mod server;

/// A helper program from `src-client/examples/`, built by `cargo test`
/// next to the test binaries (target/debug/examples/).
pub fn example(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join(name)
}

/// Waits until `check` holds, polling (the engine works in the background).
pub async fn eventually<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    eventually_within(what, std::time::Duration::from_secs(20), check).await
}

/// [`eventually`] with its own limit.
pub async fn eventually_within<F, Fut>(what: &str, limit: std::time::Duration, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
