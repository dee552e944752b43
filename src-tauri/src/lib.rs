//! Mostrador's Tauri v2 shell.
//!
//! Thin on purpose: it builds a [`mostrador_client::Client`], exposes it to
//! the UI through the typed commands in [`commands`], and does nothing else.
//!
//! **Architecture invariant:** no business logic here; anything worth testing
//! lives in `mostrador-client`, which is tested without a window.

pub mod args;
pub mod commands;

use mostrador_client::{Client, ClientConfig};

/// What every command can reach.
#[derive(Debug)]
pub struct AppState {
    pub client: Client,
}

/// Runs the app (desktop) — also the mobile entry point.
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    let invocation = args::parse(
        std::env::args().skip(1),
        std::env::var("MOSTRADOR_SERVER_URL").ok(),
    );
    let server_url = match invocation {
        args::Invocation::Help => {
            println!("{}", args::USAGE);
            return;
        }
        args::Invocation::Version => {
            println!("mostrador-app {}", env!("CARGO_PKG_VERSION"));
            return;
        }
        args::Invocation::Run { server_url } => server_url,
    };
    init_tracing();
    tracing::info!(%server_url, "starting Mostrador");

    let client = match Client::new(ClientConfig::new(server_url)) {
        Ok(c) => c,
        Err(err) => {
            eprintln!("mostrador-app: {err}");
            std::process::exit(2);
        }
    };

    tauri::Builder::default()
        .manage(AppState { client })
        .invoke_handler(tauri::generate_handler![commands::backend_status])
        .run(tauri::generate_context!())
        .unwrap_or_else(|err| {
            eprintln!("mostrador-app: could not start: {err}");
            std::process::exit(1);
        });
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
