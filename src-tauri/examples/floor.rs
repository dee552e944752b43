//! The floor of `cargo xtask bench app`: a minimal Tauri app of the same
//! versions as Mostrador's (tauri, wry, WebKitGTK), one window with a
//! static page (`floor/index.html`), no commands, no plugins, no state, no
//! wasm. The bench launches it exactly like the app and measures its cold
//! start to first paint and its memory: what WebKitGTK costs here before
//! any of our code runs, so a goal below it is out of reach on this
//! platform.

fn main() {
    tauri::Builder::default()
        .run(tauri::generate_context!("examples/floor/tauri.conf.json"))
        .unwrap_or_else(|err| {
            eprintln!("floor: could not start: {err}");
            std::process::exit(1);
        });
}
