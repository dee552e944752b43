//! What the web build does as a page: inside the shop's widget
//! (`crate::embed` is the protocol) it signs in with the identity the
//! widget passes, opens the order it names, reports the unread count and
//! asks the widget to close on Escape; embedded or not, the unread count
//! shows in the page title and, for the installed app, on its icon (the
//! browser's in-app notice when notifications are not allowed). Nothing
//! here runs in the desktop app.

use leptos::prelude::*;
use leptos::task::spawn_local;
use mostrador_core::app::UnsentWrites;
use mostrador_core::sync::EntityKind;

use crate::app::{landing, Ctx, Route};
use crate::embed::{self, FromWidget};
use crate::i18n::{fill, K};
use crate::ipc;

/// Starts the web build's page behaviour: the unread count in the title
/// and on the app's icon, and, when embedded, listens to the widget, then
/// says it is ready.
pub fn start(ctx: Ctx) {
    if !cfg!(feature = "web") {
        return;
    }
    let embedded = embed::embedded();
    let unread = unread_count(ctx);
    Effect::new(move |last: Option<i64>| {
        let n = unread.get();
        if last != Some(n) {
            set_title(ctx, n);
            set_app_badge(n);
            if embedded {
                embed::post_unread(n);
            }
        }
        n
    });
    if !embedded {
        return;
    }
    // The order the widget asked to open, until the user's orders show it.
    let pending_open = RwSignal::new(None::<String>);
    embed::listen(move |message| match message {
        FromWidget::Identity(identity) => sign_in(ctx, identity),
        FromWidget::Open(order) => pending_open.set(order),
    });
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
    // Escape closes the panel (the widget's own listener never sees keys
    // pressed in the frame, where focus is while the panel is open).
    let _ = window_event_listener(leptos::ev::keydown, |ev| {
        if ev.key() == "Escape" && !ev.default_prevented() {
            embed::post_close();
        }
    });
    embed::post_ready();
}

/// Signs in with the shop's identity. A refusal while someone is signed
/// in keeps that session quietly (the widget sends its token again on
/// every shop page, and a used or expired one is refused), except when
/// another account's unsent writes are here: the shop vouches for someone
/// else, so nobody's data shows, and the sign-in page asks as it does for
/// a password sign-in.
fn sign_in(ctx: Ctx, identity: String) {
    spawn_local(async move {
        match ipc::sign_in_with_identity(identity).await {
            Ok(me) => {
                landing(&ctx, &me);
                ctx.session.set(Some(Some(me)));
            }
            Err(e) if UnsentWrites::from_error(&e).is_some() => {
                let name = UnsentWrites::from_error(&e)
                    .map(|u| u.name)
                    .unwrap_or_default();
                ctx.notice.set(Some(fill(
                    ctx.t(K::IdentityOtherUnsent),
                    &[("name", &name)],
                )));
                ctx.session.set(Some(None));
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

/// The installed app's icon badge (the Badging API, where the browser
/// has it): the count, or none at 0.
fn set_app_badge(unread: i64) {
    use wasm_bindgen::{JsCast, JsValue};
    let Some(window) = web_sys::window() else {
        return;
    };
    let Ok(navigator) = js_sys::Reflect::get(&window, &JsValue::from_str("navigator")) else {
        return;
    };
    let name = if unread > 0 {
        "setAppBadge"
    } else {
        "clearAppBadge"
    };
    let Ok(f) = js_sys::Reflect::get(&navigator, &JsValue::from_str(name)) else {
        return;
    };
    let Some(f) = f.dyn_ref::<js_sys::Function>() else {
        return;
    };
    if let Ok(Ok(promise)) = f
        .call1(&navigator, &JsValue::from_f64(unread as f64))
        .map(JsCast::dyn_into::<js_sys::Promise>)
    {
        // Refused outside an installed app, which is fine.
        spawn_local(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
        });
    }
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
