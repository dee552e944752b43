//! The two shells answer one command set: every command the Tauri app
//! registers (`generate_handler!` in `src-tauri/src/lib.rs`) has an arm in
//! the web shell's dispatch (`src/web_shell/commands.rs`), and every
//! command `ipc.rs` calls is answered by the web shell and, except the web
//! build's own `sign_in_with_identity`, by the Tauri app. A command added
//! to one shell and forgotten in the other fails here, before any browser
//! test. The sources are read at compile time (`include_str!`), so this
//! runs with the UI's other wasm tests under Node.js.

use std::collections::BTreeSet;

use wasm_bindgen_test::wasm_bindgen_test;

const TAURI_APP: &str = include_str!("../../src-tauri/src/lib.rs");
const WEB_SHELL: &str = include_str!("../src/web_shell/commands.rs");
const IPC: &str = include_str!("../src/ipc.rs");

/// The only command the web shell has and the Tauri app does not.
/// Commands no screen calls: the app benchmark reads them through WebDriver.
const BENCH_ONLY: &[&str] = &["startup_marks"];

const WEB_ONLY: &[&str] = &["sign_in_with_identity"];

fn tauri_commands() -> BTreeSet<String> {
    let start = TAURI_APP
        .find("generate_handler![")
        .expect("src-tauri/src/lib.rs registers its commands with generate_handler!");
    let list = &TAURI_APP[start + "generate_handler![".len()..];
    let list = &list[..list.find(']').expect("generate_handler! is closed")];
    list.split(',')
        .map(|c| c.trim().trim_start_matches("commands::").to_owned())
        .filter(|c| !c.is_empty())
        .collect()
}

/// The names of the dispatch's match arms: `"name" =>` and
/// `"a" | "b" =>`.
fn web_commands() -> BTreeSet<String> {
    let body = &WEB_SHELL[WEB_SHELL
        .find("async fn dispatch")
        .expect("web_shell/commands.rs has dispatch")..];
    body.lines()
        .map(str::trim)
        .filter(|l| l.starts_with('"'))
        .filter_map(|l| l.split_once("=>").map(|(names, _)| names))
        .flat_map(|names| names.split('|'))
        .map(|n| n.trim().trim_matches('"').to_owned())
        .collect()
}

/// The command names `ipc.rs` passes to `call(` (on one line or the
/// next).
fn ipc_calls() -> BTreeSet<String> {
    IPC.match_indices("call(")
        .filter_map(|(i, m)| {
            let rest = IPC[i + m.len()..].trim_start().strip_prefix('"')?;
            Some(rest[..rest.find('"').expect("a closed string")].to_owned())
        })
        .collect()
}

#[wasm_bindgen_test]
fn the_web_shell_answers_every_command_of_the_tauri_app() {
    let tauri = tauri_commands();
    let web = web_commands();
    // The parsing found the lists (not two empty sets agreeing).
    assert!(tauri.len() >= 50, "Tauri commands read: {tauri:?}");
    let missing: Vec<_> = tauri.difference(&web).collect();
    assert!(
        missing.is_empty(),
        "commands the web shell does not answer: {missing:?}"
    );
    let extra: Vec<_> = web
        .difference(&tauri)
        .filter(|c| !WEB_ONLY.contains(&c.as_str()))
        .collect();
    assert!(
        extra.is_empty(),
        "web shell commands the Tauri app does not have: {extra:?}"
    );
}

#[wasm_bindgen_test]
fn ipc_calls_only_commands_the_shells_answer() {
    let tauri = tauri_commands();
    let web = web_commands();
    let calls = ipc_calls();
    assert!(calls.len() >= 50, "ipc.rs calls read: {calls:?}");
    for cmd in &calls {
        assert!(web.contains(cmd), "the web shell does not answer {cmd}");
        assert!(
            tauri.contains(cmd) || WEB_ONLY.contains(&cmd.as_str()),
            "the Tauri app does not answer {cmd}"
        );
    }
    // And every command is reachable from the UI.
    let unused: Vec<_> = web
        .difference(&calls)
        .filter(|c| !BENCH_ONLY.contains(&c.as_str()))
        .collect();
    assert!(unused.is_empty(), "commands ipc.rs never calls: {unused:?}");
}
