//! Shared pieces of the engine tests (each test binary uses a subset).

#![allow(dead_code)]

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
