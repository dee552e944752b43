//! How the app starts, and when each stage of the start happened.
//!
//! The first screen needs the window, the page and the cached data; the
//! shell does nothing else before it (see ARCHITECTURE.md, "Start-up").
//! [`mark`] records when a stage ended, in Unix milliseconds (the clock
//! the page's `Date.now()` and `performance.timeOrigin` use), so
//! `cargo xtask bench app` can lay the shell's stages and the page's on one
//! line (the `startup_marks` command). A few pushes onto a vector: kept in
//! release builds, which are the ones measured.

use std::sync::Mutex;

static MARKS: Mutex<Vec<(&'static str, f64)>> = Mutex::new(Vec::new());

/// Records that `stage` ended now (the first time only).
pub fn mark(stage: &'static str) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    let mut marks = MARKS.lock().unwrap_or_else(|e| e.into_inner());
    if !marks.iter().any(|(s, _)| *s == stage) {
        marks.push((stage, now));
    }
}

/// Every stage recorded so far, in order: (stage, Unix ms).
pub fn marks() -> Vec<(String, f64)> {
    MARKS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .map(|(s, t)| ((*s).to_owned(), *t))
        .collect()
}

/// Draws the page without WebKitGTK's accelerated compositing (Linux),
/// by setting `WEBKIT_DISABLE_COMPOSITING_MODE=1` for this process before
/// any window or thread exists; a value already in the environment wins
/// (`WEBKIT_DISABLE_COMPOSITING_MODE=0` brings compositing back, to
/// measure it). Measured on 2026-11-30 (debug app, 3 starts each): the web
/// process 220.6 -> 130.0 MB PSS and the cold start 1,060 -> 954 ms, the
/// home screen drawn no later: the app's pages are flat documents that
/// never need a GPU layer tree, and its anonymous memory is what the
/// compositor's layers held. Set through the environment, not
/// `HardwareAccelerationPolicy::Never` on the webview: the policy, set
/// once the webview exists, made WebKit start over and hung the first
/// screen under tauri-driver.
pub fn software_compositing() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none() {
        // First thing in `main`: no other thread reads the environment yet.
        std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    }
}

/// WebKitGTK settings that cost memory and that the app does not use, set
/// on the main window's webview as soon as it exists:
/// - the cache model "document viewer": no memory cache of pages and
///   resources for later visits (every asset is in the binary, and there
///   is one page);
/// - no back/forward page cache (the app never navigates away from its
///   page).
///
/// `MOSTRADOR_WEBKIT_DEFAULTS=1` leaves WebKit's defaults, so the
/// benchmark can show what this saves.
#[cfg(target_os = "linux")]
pub fn lean_webview<R: tauri::Runtime>(app: &tauri::App<R>) {
    use tauri::Manager;
    use webkit2gtk::{CacheModel, SettingsExt, WebContextExt, WebViewExt};
    if std::env::var_os("MOSTRADOR_WEBKIT_DEFAULTS").is_some() {
        return;
    }
    let Some(window) = app.get_webview_window("main") else {
        return;
    };
    let set = window.with_webview(|webview| {
        let view = webview.inner();
        if let Some(context) = view.context() {
            context.set_cache_model(CacheModel::DocumentViewer);
        }
        if let Some(settings) = WebViewExt::settings(&view) {
            settings.set_enable_page_cache(false);
        }
    });
    if let Err(err) = set {
        tracing::warn!(error = %err, "could not adjust the webview's settings");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_stage_is_marked_once_in_the_order_it_ended() {
        super::mark("test_first");
        super::mark("test_second");
        super::mark("test_first");
        let marks = super::marks();
        let ours: Vec<&(String, f64)> = marks
            .iter()
            .filter(|(s, _)| s.starts_with("test_"))
            .collect();
        assert_eq!(ours.len(), 2, "{ours:?}");
        assert_eq!(ours[0].0, "test_first");
        assert_eq!(ours[1].0, "test_second");
        assert!(ours[0].1 <= ours[1].1 && ours[0].1 > 1.7e12, "{ours:?}");
    }
}
