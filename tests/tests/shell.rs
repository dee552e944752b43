//! The shell's guard rails in the real app (WebKitGTK): the capability
//! refuses what it does not grant, and the CSP refuses inline styles.

use std::time::Duration;

use mostrador_e2e::{AppSession, ServerProcess};
use serde_json::Value;

/// Invokes `cmd` from the page as the UI would; `{"ok": …}` or
/// `{"err": "…"}`.
async fn invoke(app: &AppSession, cmd: &str) -> anyhow::Result<Value> {
    app.eval(&format!(
        "window.__probe = null;\
         window.__TAURI__.core.invoke({cmd:?}, {{}}).then(\
           v => window.__probe = {{ ok: v === undefined ? null : v }},\
           e => window.__probe = {{ err: String(e) }});\
         return true;"
    ))
    .await?;
    app.wait_for_js(
        cmd,
        "return window.__probe !== null;",
        Duration::from_secs(10),
    )
    .await?;
    app.eval("return window.__probe;").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_may_call_the_apps_commands_only_and_has_no_inline_styles() -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let server = ServerProcess::start(data.path()).await?;
    let app = AppSession::launch(&server.url).await?;
    app.wait_for("[data-testid=backend-status]").await?;

    // The app's own command answers.
    let granted = invoke(&app, "session").await?;
    assert!(granted.get("ok").is_some(), "session: {granted}");

    // What the UI never calls is refused (core:default used to grant the
    // window and app reads).
    for cmd in [
        "plugin:window|title",
        "plugin:app|version",
        "plugin:webview|webview_position",
        "plugin:notification|is_permission_granted",
    ] {
        let refused = invoke(&app, cmd).await?;
        let err = refused.get("err").and_then(Value::as_str).unwrap_or("");
        assert!(err.contains("not allowed"), "{cmd}: {refused}");
    }

    // A `style` attribute is refused by the CSP; CSSOM (what Leptos
    // `style:` bindings use) still works.
    let colours = app
        .eval(
            "const a = document.createElement('p');\
             a.setAttribute('style', 'color: rgb(1, 2, 3)');\
             const b = document.createElement('p');\
             b.style.color = 'rgb(4, 5, 6)';\
             document.body.append(a, b);\
             const out = [getComputedStyle(a).color, getComputedStyle(b).color];\
             a.remove(); b.remove();\
             return out;",
        )
        .await?;
    assert_ne!(
        colours[0], "rgb(1, 2, 3)",
        "inline style applied: {colours}"
    );
    assert_eq!(colours[1], "rgb(4, 5, 6)", "CSSOM style refused: {colours}");

    app.close().await
}
