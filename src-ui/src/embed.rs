//! Embed mode's protocol: the web app inside the shop's widget
//! (`/app/?embed=1&lang=<en|es|ru>`), talking to the widget with
//! `postMessage`. What the app does with the messages is
//! `pages::embed`'s.
//!
//! **API boundary** (the widget's `widget.js` is the other side):
//! parent → app `{type:"mostrador:identity", identity:"<jwt>"}` (sign in
//! with the shop's signed identity) and `{type:"mostrador:open",
//! order?:"MS-10001"}` (open on that order); app → parent
//! `{type:"mostrador:ready"}` once mounted, `{type:"mostrador:unread",
//! count}` whenever the unread count changes, `{type:"mostrador:close"}`
//! from the Close button. Only messages whose `source` is `window.parent`
//! are read; the app's own messages go to the parent's origin when the
//! browser tells it (`location.ancestorOrigins`, else the referrer).

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::i18n::{Lang, K};

fn params() -> Option<web_sys::UrlSearchParams> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search).ok()
}

/// Whether the app runs inside the widget (`?embed=1`; the web build
/// only: the desktop app is never embedded).
pub fn embedded() -> bool {
    cfg!(feature = "web")
        && params()
            .and_then(|p| p.get("embed"))
            .is_some_and(|v| v == "1")
}

/// The language the widget asked for (`&lang=`), in embed mode.
pub fn language() -> Option<Lang> {
    if !embedded() {
        return None;
    }
    params()?.get("lang").map(|l| Lang::from_tag(&l))
}

/// The origin of the page that frames the app, when the browser tells it.
fn parent_origin() -> Option<String> {
    let window = web_sys::window()?;
    // `location.ancestorOrigins` (Chromium, WebKit; not in web-sys).
    let first = js_sys::Reflect::get(&window.location(), &JsValue::from_str("ancestorOrigins"))
        .ok()
        .and_then(|list| list.dyn_into::<web_sys::DomStringList>().ok())
        .and_then(|list| list.item(0));
    if first.is_some() {
        return first;
    }
    let referrer = window.document()?.referrer();
    web_sys::Url::new(&referrer).ok().map(|u| u.origin())
}

/// Sends the widget a message with these fields.
///
/// Only to the parent's origin: from `ancestorOrigins` or the referrer, else
/// the origin of the widget's own messages once one came. While it is
/// unknown, only `ready` (which says nothing about the user) goes to any
/// origin; the unread count and the rest wait.
fn post(fields: &[(&str, JsValue)]) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Ok(Some(parent)) = window.parent() else {
        return;
    };
    let message = js_sys::Object::new();
    for (k, v) in fields {
        let _ = js_sys::Reflect::set(&message, &JsValue::from_str(k), v);
    }
    let is_ready = fields
        .iter()
        .any(|(k, v)| *k == "type" && v.as_string().as_deref() == Some("mostrador:ready"));
    let target = match parent_origin().or_else(|| PARENT.with(|p| p.borrow().clone())) {
        Some(origin) => origin,
        None if is_ready => "*".to_owned(),
        None => return,
    };
    let _ = parent.post_message(&message, &target);
}

thread_local! {
    /// The origin the widget's messages came from (the shop page).
    static PARENT: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// `{type:"mostrador:ready"}`: the app is mounted and listening.
pub fn post_ready() {
    post(&[("type", "mostrador:ready".into())]);
}

/// `{type:"mostrador:unread", count}`.
pub fn post_unread(count: i64) {
    post(&[
        ("type", "mostrador:unread".into()),
        ("count", (count as f64).into()),
    ]);
}

/// `{type:"mostrador:close"}`: the user closed the panel from inside.
pub fn post_close() {
    post(&[("type", "mostrador:close".into())]);
}

/// A message from the widget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FromWidget {
    /// The shop's signed identity of the shopper (a JWT).
    Identity(String),
    /// Open the panel, on an order (its number) if given.
    Open(Option<String>),
}

/// Reads a message, only when it comes from the parent window.
fn read(event: &web_sys::MessageEvent) -> Option<FromWidget> {
    let parent = web_sys::window()?.parent().ok()??;
    let source = event.source()?;
    if !js_sys::Object::is(&source, &parent) {
        return None;
    }
    PARENT.with(|p| *p.borrow_mut() = Some(event.origin()));
    let data = event.data();
    let field = |name: &str| {
        js_sys::Reflect::get(&data, &JsValue::from_str(name))
            .ok()
            .and_then(|v| v.as_string())
    };
    match field("type")?.as_str() {
        "mostrador:identity" => field("identity").map(FromWidget::Identity),
        "mostrador:open" => Some(FromWidget::Open(field("order"))),
        _ => None,
    }
}

/// Calls `handler` with each message from the widget, for the page's life.
pub fn listen(handler: impl Fn(FromWidget) + 'static) {
    let listener = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event| {
        if let Some(message) = read(&event) {
            handler(message);
        }
    });
    if let Some(window) = web_sys::window() {
        let _ =
            window.add_event_listener_with_callback("message", listener.as_ref().unchecked_ref());
    }
    listener.forget();
}

/// The Close button (only in embed mode): asks the widget to close the
/// panel.
#[component]
pub fn CloseButton(lang: RwSignal<Lang>) -> impl IntoView {
    embedded().then(|| {
        view! {
            <button type="button" class="embed-close" data-testid="embed-close"
                aria-label=move || K::Close.text(lang.get())
                on:click=move |_| post_close()>
                <crate::icons::Icon path=crate::icons::CLOSE/>
            </button>
        }
    })
}
