//! Mostrador's user interface: Leptos 0.8, client-side rendered, hosted by
//! the Tauri shell.
//!
//! **Architecture invariant:** the UI never touches SQLite, the keychain or
//! the network. Everything goes through the typed commands in [`ipc`], the
//! one module that talks to the shell; components never call a raw `invoke`.

pub mod app;
pub mod ipc;
pub mod pages;

use wasm_bindgen::prelude::wasm_bindgen;

/// Entry point, run once the wasm module is instantiated by `boot.js`.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
