//! The floor of `cargo xtask bench app`: a minimal Tauri app of the same
//! versions as Mostrador's (tauri, wry, WebKitGTK), one window with a
//! static page (`floor/index.html`), no commands, no plugins, no state, no
//! wasm. The bench launches it exactly like the app and measures its cold
//! start to first paint and its memory: what WebKitGTK costs here before
//! any of our code runs, so a goal below it is out of reach on this
//! platform.

fn main() {
    // The same WebKit setting as the app (`startup::software_compositing`),
    // so the floor is the platform's cost for the app's configuration.
    #[cfg(target_os = "linux")]
    if std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none() {
        std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    }
    tauri::Builder::default()
        .run(tauri::generate_context!("examples/floor/tauri.conf.json"))
        .unwrap_or_else(|err| {
            eprintln!("floor: could not start: {err}");
            std::process::exit(1);
        });
}
