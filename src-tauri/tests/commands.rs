//! The commands in-process, as Tauri's own examples test them: the app that
//! `mostrador_app_lib::app` builds (the same state set-up, command list and
//! capability as the real app, through `context()`) on Tauri's mock
//! runtime, its store in a temporary folder, against the real server run
//! in-process over a temporary SQLite file. No window system is needed.

use std::net::SocketAddr;
use std::path::Path;

use mostrador_client::ClientConfig;
use mostrador_core::app::{Boot, ConversationSummary, OutboxCount, SessionInfo, SyncState};
use mostrador_core::auth::Me;
use mostrador_core::{ApiError, ErrorCode};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{mock_builder, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{App, Manager, WebviewWindow};
use uuid::Uuid;

/// The app over the store in `data`, talking to `server_url`, and its
/// main window (the window the capability names).
struct TestApp {
    _app: App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
}

impl TestApp {
    fn open(server_url: &str, data: &Path) -> Self {
        let mut app = mostrador_app_lib::app(
            mock_builder(),
            ClientConfig::new(server_url.to_owned()),
            Some(data.to_owned()),
        )
        .build(mostrador_app_lib::context())
        .expect("the app builds on the mock runtime");
        // One turn of the (mock) event loop runs what the real app runs
        // when it is ready: the windows of tauri.conf.json, then `setup`.
        #[allow(deprecated)]
        app.run_iteration(|_, _| {});
        let window = app.get_webview_window("main").expect("the main window");
        TestApp { _app: app, window }
    }

    /// Invokes `cmd` as the UI does (from the app's own origin); the
    /// answer as JSON, or the rejection.
    fn invoke(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        tauri::test::get_ipc_response(
            &self.window,
            InvokeRequest {
                cmd: cmd.into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url: "tauri://localhost".parse().unwrap(),
                body: InvokeBody::Json(args),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .map(|body| body.deserialize::<Value>().unwrap())
    }

    /// A command the UI calls: its typed answer, or its typed error.
    fn call<T: DeserializeOwned>(&self, cmd: &str, args: Value) -> Result<T, ApiError> {
        self.invoke(cmd, args)
            .map(|v| serde_json::from_value(v).unwrap())
            .map_err(|e| {
                serde_json::from_value(e.clone())
                    .unwrap_or_else(|_| panic!("{cmd} answered an untyped error: {e}"))
            })
    }
}

/// The real server in-process on an ephemeral port over a SQLite file in
/// `dir`; `stop` shuts it down (the app is then offline).
struct Server {
    url: String,
    stop: tokio::sync::oneshot::Sender<()>,
}

impl Server {
    fn start(dir: &Path) -> Self {
        let mut config = mostrador_server::ServerConfig::for_data_dir(dir);
        config.bind = SocketAddr::from(([127, 0, 0, 1], 0));
        let (listener, state) =
            tauri::async_runtime::block_on(mostrador_server::prepare(config)).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let limits = state.config.conn_limits;
        let router = mostrador_server::http::router(state);
        tauri::async_runtime::spawn(mostrador_server::serve::serve(
            listener,
            router,
            limits,
            async {
                let _ = stopped.await;
            },
        ));
        Server { url, stop }
    }
}

/// An address nothing listens on: the app is offline from the start.
const NOWHERE: &str = "http://127.0.0.1:9";

#[test]
fn the_window_may_call_the_apps_commands_and_nothing_else() {
    let data = tempfile::tempdir().unwrap();
    let app = TestApp::open(NOWHERE, data.path());

    // A granted command runs (offline, from the local store).
    let session: SessionInfo = app.call("session", json!({})).unwrap();
    assert_eq!(session.me, None);
    assert_eq!(session.server_url, NOWHERE);

    // What `core:default` used to grant, and plugin commands the UI never
    // calls, are refused before they run.
    for cmd in [
        "plugin:window|title",
        "plugin:window|close",
        "plugin:webview|webview_position",
        "plugin:app|version",
        "plugin:path|resolve_directory",
        "plugin:notification|notify",
        "plugin:notification|request_permission",
    ] {
        let refused = app
            .invoke(cmd, json!({}))
            .expect_err(&format!("{cmd} must be refused"));
        let text = refused.to_string();
        assert!(text.contains("not allowed"), "{cmd}: {text}");
    }
}

#[test]
fn commands_read_offline_queue_writes_and_refuse_bad_input_with_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server"));
    let app = TestApp::open(&server.url, &dir.path().join("app"));

    let me = sign_up_ana(&app);
    assert_eq!(me.display_name, "Ana");

    // The server goes away: the write waits in the outbox.
    server.stop.send(()).unwrap();
    let id: Uuid = app
        .call(
            "ask",
            json!({ "orderId": null, "body": "¿Dónde está mi pedido?" }),
        )
        .unwrap();
    let pending = eventually(|| {
        let (_, count): (SyncState, OutboxCount) = app.call("sync_state", json!({})).unwrap();
        (count.pending == 1).then_some(count)
    });
    assert_eq!(pending.wedged, 0);

    // Reads come from the local store, offline: the question is there.
    let list: Vec<ConversationSummary> = app.call("conversations", json!({})).unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0].id, id);
    let thread: Value = app.call("thread", json!({ "id": id })).unwrap();
    assert!(
        thread.to_string().contains("¿Dónde está mi pedido?"),
        "{thread}"
    );

    // A message over the limit is refused before it is queued, as the one
    // error shape naming the field.
    let long = "x".repeat(mostrador_core::chat::MAX_MESSAGE_CHARS + 1);
    let refused = app
        .call::<Uuid>("ask", json!({ "orderId": null, "body": long }))
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::ValidationFailed);
    assert_eq!(refused.field_problem(), Some(("body", "too_long")));
    let (_, count): (SyncState, OutboxCount) = app.call("sync_state", json!({})).unwrap();
    assert_eq!(count.pending, 1, "nothing more was queued");
}

/// The commands that used to check, choose ids and build writes in the
/// shell now call one engine method each: the engine refuses bad input
/// with the one error shape naming the field, and queues the rest.
#[test]
fn moved_commands_are_checked_and_queued_by_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server"));
    let app = TestApp::open(&server.url, &dir.path().join("app"));
    sign_up_ana(&app);
    server.stop.send(()).unwrap();
    let conversation: Uuid = app
        .call("ask", json!({ "orderId": null, "body": "Hola" }))
        .unwrap();

    let refused = app
        .call::<()>(
            "rate",
            json!({ "conversationId": conversation, "score": 9, "comment": null }),
        )
        .unwrap_err();
    assert_eq!(refused.field_problem(), Some(("score", "out_of_range")));
    let refused = app
        .call::<Uuid>(
            "request_callback",
            json!({ "request": {
                "id": Uuid::nil(),
                "channel": "voice",
                "phone": "call me maybe",
                "topic": "refund",
                "time_zone": "Europe/Madrid",
                "windows": [],
            }}),
        )
        .unwrap_err();
    assert_eq!(refused.field_problem(), Some(("phone", "not_e164")));

    let () = app
        .call(
            "rate",
            json!({ "conversationId": conversation, "score": 5, "comment": " " }),
        )
        .unwrap();
    let count = eventually(|| {
        let (_, count): (SyncState, OutboxCount) = app.call("sync_state", json!({})).unwrap();
        (count.pending == 2).then_some(count)
    });
    assert_eq!(count.wedged, 0, "the question and the rating wait");
}

/// The page's first command answers everything its first screen needs:
/// nobody signed in at first; after sign-up, Ana, her outbox and her home
/// screen, from the local store (offline).
#[test]
fn boot_answers_the_session_the_sync_state_and_the_home_screen() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server"));
    let app = TestApp::open(&server.url, &dir.path().join("app"));

    let boot: Boot = app.call("boot", json!({})).unwrap();
    assert_eq!(boot.session.me, None);
    assert_eq!(boot.session.server_url, server.url);
    assert_eq!(boot.home, None, "no home screen before sign-in");
    assert_eq!(boot.outbox, OutboxCount::default());

    sign_up_ana(&app);
    server.stop.send(()).unwrap();
    let id: Uuid = app
        .call("ask", json!({ "orderId": null, "body": "Hola" }))
        .unwrap();
    let boot: Boot = eventually(|| {
        let boot: Boot = app.call("boot", json!({})).unwrap();
        (boot.outbox.pending == 1).then_some(boot)
    });
    assert_eq!(boot.session.me.map(|m| m.display_name), Some("Ana".into()));
    let home = boot.home.expect("a shopper's home screen");
    assert_eq!(home.open_conversations.len(), 1, "{home:?}");
    assert_eq!(home.open_conversations[0].id, id);
    // Starting the service again (the page's `ready`) changes nothing.
    let () = app.call("ready", json!({})).unwrap();
}

/// The store opens in the background; one that cannot open (its folder
/// is a file) does not stop the app from starting, and the page's first
/// command answers with the store's error, as does every command that
/// needs the engine.
#[test]
fn a_store_that_cannot_open_answers_its_error_to_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_folder = dir.path().join("file");
    std::fs::write(&not_a_folder, b"not a folder").unwrap();
    let app = TestApp::open(NOWHERE, &not_a_folder);

    let refused = app.call::<Boot>("boot", json!({})).unwrap_err();
    assert_ne!(refused.message, "", "{refused:?}");
    let again = app.call::<SessionInfo>("session", json!({})).unwrap_err();
    assert_eq!(again, refused, "the one opening's error, every time");
    let () = app.call("ready", json!({})).unwrap();
}

/// Ana signs up through the command, as the sign-up page does.
fn sign_up_ana(app: &TestApp) -> Me {
    app.call(
        "sign_up",
        json!({
            "email": "ana@example.test",
            "password": "correct horse battery",
            "displayName": "Ana",
            "language": "es",
        }),
    )
    .unwrap()
}

/// Polls `check` for up to 10 s (the outbox count is forwarded by the
/// shell's event task).
fn eventually<T>(mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(std::time::Instant::now() < deadline, "timed out");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// `build.rs` lists exactly the commands `lib.rs` registers, and the
/// capability's `app-commands` set grants each: a command added to one
/// list and not the others fails here instead of being refused (or
/// allowed) silently in the app.
#[test]
fn every_command_is_listed_and_granted() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
    let lib = read("src/lib.rs");
    let handler = between(&lib, "generate_handler![", "]");
    let mut registered: Vec<String> = handler
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_start_matches("commands::").to_owned())
        .collect();
    registered.sort();
    let build = read("build.rs");
    let mut listed = quoted(between(&build, "const COMMANDS: &[&str] = &[", "];"));
    listed.sort();
    assert_eq!(listed, registered, "build.rs COMMANDS vs lib.rs");
    let set = read("permissions/app.toml");
    let mut granted = quoted(between(&set, "permissions = [", "]"));
    granted.sort();
    let mut wanted: Vec<String> = registered
        .iter()
        .map(|c| format!("allow-{}", c.replace('_', "-")))
        .collect();
    wanted.sort();
    assert_eq!(granted, wanted, "permissions/app.toml vs lib.rs");
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text.find(start).unwrap_or_else(|| panic!("no {start}")) + start.len();
    let len = text[from..].find(end).unwrap_or_else(|| panic!("no {end}"));
    &text[from..from + len]
}

fn quoted(list: &str) -> Vec<String> {
    list.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// The CSP the app is built with (through `context()`, so the config the
/// build really uses): no inline style or script, no plugins, no `<base>`,
/// no form targets, no framing.
#[test]
fn the_csp_allows_no_inline_style_base_forms_plugins_or_framing() {
    let context = mostrador_app_lib::context::<MockRuntime>();
    let csp = context
        .config()
        .app
        .security
        .csp
        .as_ref()
        .expect("a CSP")
        .to_string();
    for wanted in [
        "style-src 'self';",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(wanted), "{wanted} missing from {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
}
