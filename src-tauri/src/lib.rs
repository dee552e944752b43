//! Mostrador's Tauri v2 shell.
//!
//! Thin on purpose: it opens a [`mostrador_client::Engine`] over the store in
//! the app's data directory ([`state`]), exposes it to the UI through the
//! typed commands in [`commands`], forwards engine events as one typed UI
//! event, and shows native notifications ([`notify`]).
//!
//! **Architecture invariant:** no business logic here; anything worth testing
//! lives in `mostrador-client`, which is tested without a window.

pub mod args;
pub mod commands;
pub mod notify;
pub mod startup;
pub mod state;

use std::path::PathBuf;

use mostrador_client::ClientConfig;
use tauri::{Manager, Runtime};

pub use state::AppState;

/// Runs the app (desktop) — also the mobile entry point.
#[cfg(not(test))]
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    startup::mark("main");
    startup::software_compositing();
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
    let config = ClientConfig::new(server_url);
    app(tauri::Builder::default(), config, None)
        .run(context())
        .unwrap_or_else(|err| {
            eprintln!("mostrador-app: could not start: {err}");
            std::process::exit(1);
        });
}

/// The app's configuration, assets and capabilities (the ACL `build.rs`
/// resolved), for any runtime: the real one in [`run`], Tauri's mock
/// runtime in the command tests, which thereby check the real capability.
///
/// Not compiled into this crate's own unit tests (`cfg(not(test))`), so
/// `generate_context!` runs in one compile per build, never two at once.
/// Tauri's codegen writes each compressed asset into the shared `OUT_DIR`
/// without a rename and reuses any file already there: with `cargo test
/// --all-targets`, the library and its unit tests compile side by side,
/// and one could embed the other's half-written wasm. The app then showed
/// "module doesn't start with \0asm" instead of starting (CI, session 8).
#[cfg(not(test))]
pub fn context<R: Runtime>() -> tauri::Context<R> {
    tauri::generate_context!()
}

/// The app on `builder`: the notification plugin, the state (the store in
/// `data_dir`, the platform's app data directory if `None`), the focus
/// hook and every command. `run` and the command tests build the same app.
pub fn app<R: Runtime>(
    builder: tauri::Builder<R>,
    config: ClientConfig,
    data_dir: Option<PathBuf>,
) -> tauri::Builder<R> {
    builder
        .plugin(tauri_plugin_notification::init())
        .setup(move |app| {
            // The config's window and its webview exist when this runs.
            startup::mark("window");
            #[cfg(target_os = "linux")]
            startup::lean_webview(app);
            let dir = match data_dir {
                Some(dir) => dir,
                None => app.path().app_data_dir()?,
            };
            // The store opens in the background: the main loop goes on
            // serving the page's assets meanwhile. Commands wait for it
            // (`AppState::engine`); the sync service starts when the page
            // says its first screen is drawn (the `ready` command).
            app.manage(AppState::new(config, dir.join("store.sqlite3")));
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                let state = handle.state::<AppState>();
                if state.opened().await.is_ok() {
                    startup::mark("shell_ready");
                }
            });
            Ok(())
        })
        // Back to the front: try the server at once instead of waiting
        // out a reconnect backoff.
        .on_window_event(|window, event| {
            if let tauri::WindowEvent::Focused(true) = event {
                let app = window.app_handle().clone();
                tauri::async_runtime::spawn(async move {
                    let state = app.state::<AppState>();
                    if state.signed_in().await {
                        if let Ok(engine) = state.engine().await {
                            if let Err(err) = engine.reconnect_now().await {
                                tracing::info!(error = %err, "could not retry on focus");
                            }
                        }
                    }
                });
            }
        })
        .invoke_handler(tauri::generate_handler![
            commands::boot,
            commands::ready,
            commands::backend_status,
            commands::session,
            commands::sign_in,
            commands::sign_up,
            commands::sign_out,
            commands::reconnect_now,
            commands::verify_email,
            commands::resend_verification,
            commands::change_password,
            commands::request_password_reset,
            commands::confirm_password_reset,
            commands::sync_state,
            commands::set_language,
            commands::home,
            commands::orders,
            commands::order,
            commands::conversations,
            commands::thread,
            commands::thread_delta,
            commands::follow_thread,
            commands::ask,
            commands::say,
            commands::mark_read,
            commands::draft,
            commands::save_draft,
            commands::typing,
            commands::retry,
            commands::discard,
            commands::rate,
            commands::attachment_url,
            commands::callbacks,
            commands::slots,
            commands::request_callback,
            commands::cancel_callback,
            commands::reschedule_callback,
            commands::profile,
            commands::update_profile,
            commands::put_address,
            commands::delete_address,
            commands::export_data,
            commands::delete_account,
            commands::inbox,
            commands::customer,
            commands::callback_queue,
            commands::reply,
            commands::update_conversation,
            commands::record_outcome,
            commands::canned,
            commands::put_canned,
            commands::delete_canned,
            commands::metrics,
            commands::agents,
            commands::set_presence,
            commands::availability,
            commands::startup_marks,
        ])
}

#[cfg(not(test))]
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
