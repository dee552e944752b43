//! The Web Locks API (`navigator.locks`) through `js_sys::Reflect` (web-sys
//! has it only behind its unstable-API flag): what `platform::exclusive`
//! holds in the browser, so the origin's tabs take turns at the outbox.

use std::future::Future;

use js_sys::{Function, Promise, Reflect};
use tokio::sync::oneshot;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::js_error;

/// `navigator.locks`, where the browser has it (a secure context: https,
/// or http on localhost).
fn lock_manager() -> Option<JsValue> {
    let navigator = Reflect::get(&js_sys::global(), &JsValue::from_str("navigator")).ok()?;
    let locks = Reflect::get(&navigator, &JsValue::from_str("locks")).ok()?;
    (!locks.is_undefined() && !locks.is_null()).then_some(locks)
}

/// Calls the resolver that releases a held lock, also when the work is
/// dropped half-way (its future cancelled).
struct Release(Function);

impl Drop for Release {
    fn drop(&mut self) {
        let _ = self.0.call0(&JsValue::UNDEFINED);
    }
}

/// Runs `work` holding the Web Lock `name` (exclusive): the origin's tabs
/// and workers take turns. The lock is held from the moment the browser
/// grants it until `work` ends (or is dropped), and the browser releases it
/// if the tab closes. Where the browser has no Web Locks (an insecure
/// context) or refuses the request, `work` runs without it, with a warning:
/// the server still applies a resent write once (its `client_id`), so the
/// worst case is a wasted request, not a double write.
pub async fn exclusive<T>(name: &str, work: impl Future<Output = T>) -> T {
    let Some(locks) = lock_manager() else {
        tracing::warn!(lock = name, "no Web Locks here; running unlocked");
        return work.await;
    };
    let (granted_tx, granted) = oneshot::channel::<()>();
    // The promise the lock callback returns: the lock is held until it
    // settles, which `Release` does.
    let mut resolve = None;
    let held = Promise::new(&mut |res, _rej| resolve = Some(res));
    let Some(resolve) = resolve else {
        return work.await; // the executor runs at once; not reached
    };
    let release = Release(resolve);
    let callback = Closure::once_into_js(move |_lock: JsValue| -> JsValue {
        let _ = granted_tx.send(());
        held.into()
    });
    let requested = Reflect::get(&locks, &JsValue::from_str("request"))
        .and_then(|f| f.dyn_into::<Function>())
        .and_then(|request| request.call2(&locks, &JsValue::from_str(name), &callback))
        .and_then(|p| p.dyn_into::<Promise>());
    let requested = match requested {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(lock = name, error = %js_error(&e), "Web Lock request failed; running unlocked");
            return work.await;
        }
    };
    tokio::select! {
        biased;
        got = granted => if got.is_err() {
            tracing::warn!(lock = name, "Web Lock callback dropped; running unlocked");
        },
        settled = JsFuture::from(requested) => if let Err(e) = settled {
            tracing::warn!(lock = name, error = %js_error(&e), "Web Lock refused; running unlocked");
        },
    }
    let out = work.await;
    drop(release);
    out
}
