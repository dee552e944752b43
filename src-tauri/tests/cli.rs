//! The app binary's command line, run as a real process (no display needed:
//! `--help` and `--version` answer before any window exists).

use std::process::Command;

const APP: &str = env!("CARGO_BIN_EXE_mostrador-app");

#[test]
fn help_documents_the_options_and_exits_zero() {
    let out = Command::new(APP)
        .arg("--help")
        .env_remove("DISPLAY")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("--server-url"), "{text}");
    assert!(text.contains("MOSTRADOR_SERVER_URL"), "{text}");
}

#[test]
fn version_prints_the_release() {
    let out = Command::new(APP).arg("-V").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        format!("mostrador-app {}", env!("CARGO_PKG_VERSION"))
    );
}
