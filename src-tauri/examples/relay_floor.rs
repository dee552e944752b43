//! The floor of `cargo xtask bench agent`'s reply latency: two copies of a
//! minimal Tauri app of the same versions as Mostrador's (tauri, wry,
//! WebKitGTK), connected through a line relay that stands in for the
//! server (`tests/examples/agent_bench.rs` runs it). In one copy a click
//! invokes a command that writes the text to the relay; the other copy's
//! reader thread emits it as a Tauri event, and its page appends it to a
//! list. That is a reply's path with everything of ours taken out (no
//! engine, store, outbox, HTTP, database, sync pull or Leptos): what the
//! platform costs from a click in one webview to text in another's DOM
//! on the same machine, so a goal below it is out of reach here.
//!
//! Its one command is registered under the app's name `say`: an example
//! shares its package's ACL, whose capability grants the app's commands
//! and listening to events to the window `main`.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::Mutex;

use tauri::Emitter;

/// The connection to the relay (the bench's stand-in for the server).
struct Relay(Mutex<TcpStream>);

/// Hands one line to the relay, as the app's `say` hands a message to its
/// engine (async, so it runs off the main thread like the app's commands).
#[tauri::command]
async fn say(text: String, relay: tauri::State<'_, Relay>) -> Result<(), String> {
    let mut stream = relay.0.lock().map_err(|_| "the relay lock is poisoned")?;
    writeln!(stream, "{}", text.replace('\n', " ")).map_err(|e| e.to_string())
}

fn main() {
    // The same WebKit setting as the app (`startup::software_compositing`).
    #[cfg(target_os = "linux")]
    if std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none() {
        std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    }
    // The relay's address, where the app would find its server.
    let url = std::env::var("MOSTRADOR_SERVER_URL").unwrap_or_default();
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let stream = TcpStream::connect(&addr).unwrap_or_else(|err| {
        eprintln!("relay_floor: no relay at {addr:?}: {err}");
        std::process::exit(1);
    });
    let _ = stream.set_nodelay(true);
    let reader = stream.try_clone().unwrap_or_else(|err| {
        eprintln!("relay_floor: {err}");
        std::process::exit(1);
    });
    tauri::Builder::default()
        .manage(Relay(Mutex::new(stream)))
        .invoke_handler(tauri::generate_handler![say])
        .setup(move |app| {
            let handle = app.handle().clone();
            std::thread::spawn(move || {
                for line in BufReader::new(reader).lines() {
                    let Ok(line) = line else { break };
                    let _ = handle.emit("line", line);
                }
            });
            Ok(())
        })
        .run(tauri::generate_context!(
            "examples/relay_floor/tauri.conf.json"
        ))
        .unwrap_or_else(|err| {
            eprintln!("relay_floor: could not start: {err}");
            std::process::exit(1);
        });
}
