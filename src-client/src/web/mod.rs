//! The browser platform's pieces (feature `browser`, wasm32): the live
//! socket over the browser's `WebSocket` ([`socket`]), the session in
//! `localStorage` ([`session`]), the Web Locks the push and the uploads
//! hold ([`locks`]), the channel to the other tabs ([`tabs`]), and the
//! page's origin. The store is `store_web`
//! (IndexedDB); HTTP is reqwest's fetch backend (`api.rs`). Nothing here
//! decides anything: the engine's rules are the same on both platforms.

use wasm_bindgen::{JsCast, JsValue};

use crate::ClientError;

pub mod locks;
pub mod session;
pub mod socket;
pub(crate) mod tabs;

pub use session::LocalSecretStore;
pub use socket::BrowserLiveSocket;

/// The page's origin (`https://support.example`): the server the web app
/// talks to, since `mostrador-server` serves it (`ClientConfig::new(page_origin()?)`).
pub fn page_origin() -> Result<String, ClientError> {
    web_sys::window()
        .ok_or_else(|| ClientError::Config("no window: not running in a page".into()))?
        .location()
        .origin()
        .map_err(|e| ClientError::Config(js_error(&e)))
}

/// A JavaScript exception as one line (never a value that may hold a secret).
fn js_error(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "JavaScript error".into())
}
