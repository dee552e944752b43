//! Embed mode: the web app inside the shop's widget
//! (`/app/?embed=1&lang=<en|es|ru>`), talking to the widget with
//! `postMessage`.
//!
//! **API boundary** (the widget's `widget.js` is the other side):
//! parent → app `{type:"mostrador:identity", identity:"<jwt>"}` (signs in
//! with the shop's signed identity) and `{type:"mostrador:open",
//! order?:"MS-10001"}` (opens that order's conversation, or starts a
//! question about it); app → parent `{type:"mostrador:ready"}` once
//! mounted, `{type:"mostrador:unread", count}` whenever the unread count
//! changes, `{type:"mostrador:close"}` from the Close button. Only
//! messages whose `source` is `window.parent` are read; the app's own
//! messages go to the parent's origin when the browser tells it
//! (`location.ancestorOrigins`, else the referrer).
//!
//! Outside embed mode nothing here runs. In it, the unread count also
//! shows in the page title.

use leptos::prelude::*;
use leptos::task::spawn_local;
use mostrador_core::sync::EntityKind;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::app::{ctx, Ctx, Route};
use crate::i18n::{Lang, K};
use crate::ipc;

fn params() -> Option<web_sys::UrlSearchParams> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search).ok()
}

/// Whether the app runs inside the widget (`?embed=1`; the web build
/// only).
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

/// Sends `message` (an object literal's fields) to the widget.
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
    let target = parent_origin().unwrap_or_else(|| "*".to_owned());
    let _ = parent.post_message(&message, &target);
}

/// A message from the widget, read only when it comes from the parent
/// window.
#[derive(Debug, Clone, PartialEq, Eq)]
enum FromWidget {
    Identity(String),
    /// Open the panel, on an order (its number) if given.
    Open(Option<String>),
}

fn read(event: &web_sys::MessageEvent) -> Option<FromWidget> {
    let parent = web_sys::window()?.parent().ok()??;
    let source = event.source()?;
    if !js_sys::Object::is(&source, &parent) {
        return None;
    }
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

/// Starts embed mode, if the app is embedded: listens to the widget, then
/// says it is ready.
pub fn start(ctx: Ctx) {
    if !embedded() {
        return;
    }
    let unread = unread_count(ctx);
    Effect::new(move |last: Option<i64>| {
        let n = unread.get();
        if last != Some(n) {
            set_title(ctx, n);
            post(&[
                ("type", "mostrador:unread".into()),
                ("count", (n as f64).into()),
            ]);
        }
        n
    });
    // The order the widget asked to open, until the user's orders show it.
    let pending_open = RwSignal::new(None::<String>);
    let listener = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event| {
        match read(&event) {
            Some(FromWidget::Identity(identity)) => sign_in(ctx, identity),
            Some(FromWidget::Open(order)) => pending_open.set(order),
            None => {}
        }
    });
    if let Some(window) = web_sys::window() {
        let _ = window
            .add_event_listener_with_callback("message", listener.as_ref().unchecked_ref());
    }
    // Listens for the page's lifetime.
    listener.forget();
    Effect::new(move |_| {
        let Some(number) = pending_open.get() else {
            return;
        };
        if !matches!(ctx.session.get(), Some(Some(_))) {
            return;
        }
        ctx.watch(&[EntityKind::Order, EntityKind::Conversation]);
        spawn_local(async move {
            if let Some(route) = route_for_order(&number).await {
                pending_open.set(None);
                ctx.go(route);
            }
        });
    });
    post(&[("type", "mostrador:ready".into())]);
}

/// Signs in with the shop's identity. When it is refused and someone is
/// signed in already (the widget sends the identity again on each page of
/// the shop; a used one is refused), that session stays.
fn sign_in(ctx: Ctx, identity: String) {
    spawn_local(async move {
        match ipc::sign_in_with_identity(identity).await {
            Ok(me) => {
                crate::app::landing(&ctx, &me);
                ctx.session.set(Some(Some(me)));
            }
            Err(e) => {
                if !matches!(ctx.session.get_untracked(), Some(Some(_))) {
                    ctx.notice.set(Some(ctx.error(&e)));
                }
            }
        }
    });
}

/// Where "open on order `number`" leads: its conversation if there is
/// one, else a new question about it; `None` while the order is not here
/// (the first sync is still running).
async fn route_for_order(number: &str) -> Option<Route> {
    let order = ipc::orders()
        .await
        .ok()?
        .into_iter()
        .find(|o| o.number.eq_ignore_ascii_case(number))?;
    let conversation = ipc::conversations()
        .await
        .ok()?
        .into_iter()
        .find(|c| c.order_id == Some(order.id));
    Some(match conversation {
        Some(c) => Route::Chat(c.id),
        None => Route::Ask(Some(order.id)),
    })
}

/// Messages from the other side not read yet, over the user's
/// conversations (0 when nobody is signed in).
fn unread_count(ctx: Ctx) -> Signal<i64> {
    let count = RwSignal::new(0_i64);
    Effect::new(move |_| {
        let signed_in = matches!(ctx.session.get(), Some(Some(_)));
        ctx.watch(&[EntityKind::Conversation, EntityKind::Message]);
        if !signed_in {
            count.set(0);
            return;
        }
        spawn_local(async move {
            if let Ok(list) = ipc::conversations().await {
                count.set(list.iter().map(|c| c.unread.max(0)).sum());
            }
        });
    });
    count.into()
}

/// "(2) Mostrador": the tab says there is something to read.
fn set_title(ctx: Ctx, unread: i64) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let name = ctx.t(K::AppName);
    document.set_title(&if unread > 0 {
        format!("({unread}) {name}")
    } else {
        name.to_owned()
    });
}

/// The widget's Close button (only in embed mode): asks the widget to
/// close the panel.
#[component]
pub fn CloseButton() -> impl IntoView {
    let ctx = ctx();
    embedded().then(|| {
        view! {
            <button type="button" class="embed-close" data-testid="embed-close"
                aria-label=move || { ctx.lang.track(); ctx.t(K::Close) }
                on:click=move |_| post(&[("type", "mostrador:close".into())])>
                <crate::icons::Icon path=crate::icons::CLOSE/>
            </button>
        }
    })
}
