//! Mostrador's user interface: Leptos 0.8, client-side rendered, hosted by
//! the Tauri shell.
//!
//! **Architecture invariant:** the UI never touches SQLite, the keychain or
//! the network. Everything goes through the typed commands in [`ipc`], the
//! one module that talks to the shell; components never call a raw `invoke`.

pub mod app;
pub mod drafts;
pub mod embed;
pub mod fmt;
pub mod i18n;
pub mod icons;
pub mod ipc;
pub mod logic;
pub mod pages;
#[cfg(feature = "web")]
mod web_shell;
pub mod probe;

use wasm_bindgen::prelude::wasm_bindgen;

/// Entry point, run once the wasm module is instantiated by `boot.js`.
#[wasm_bindgen(start)]
pub fn start() {
    // For `cargo xtask bench app`: the module is compiled and instantiated.
    probe::mark("wasm_started");
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        // Say so on screen rather than freeze silently.
        if let Some(body) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.body())
        {
            let _ = body.set_attribute("data-panic", &info.to_string());
        }
    }));
    leptos::mount::mount_to_body(app::App);
    // For `cargo xtask bench app`: the page's first frame, whatever it
    // shows (a task after the next frame's callbacks).
    leptos::prelude::request_animation_frame(|| {
        leptos::prelude::set_timeout(|| probe::mark("first_frame"), std::time::Duration::ZERO)
    });
}
