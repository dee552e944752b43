//! Home: what is on its way, what is open, what is booked.

use leptos::prelude::*;
use mostrador_core::app::HomeView;
use mostrador_core::sync::EntityKind;

use super::callbacks::CallbackRow;
use super::chat::ChatRow;
use super::orders::OrderRow;
use crate::app::{ctx, Route};
use crate::i18n::{fill, K};
use crate::ipc;

#[component]
pub fn HomePage(name: String) -> impl IntoView {
    let ctx = ctx();
    // Orders on their way, open conversations (last line, unread) and
    // booked calls: the profile is not shown here.
    // The first draw after start-up has them from the `boot` answer.
    let data = LocalResource::new(move || {
        ctx.watch(&[
            EntityKind::Order,
            EntityKind::Conversation,
            EntityKind::Message,
            EntityKind::Callback,
        ]);
        let booted = ctx.take_boot_home();
        async move {
            match booted {
                Some(home) => Ok(home),
                None => ipc::home().await,
            }
        }
    });
    // For `cargo xtask bench app`: when the home screen had its data, and
    // the first frame drawn with it (a task after the next frame's
    // callbacks).
    let marked = StoredValue::new(false);
    Effect::new(move |_| {
        if let Some(Ok(_)) = data.get() {
            if !marked.get_value() {
                marked.set_value(true);
                crate::probe::mark("home_data");
                request_animation_frame(|| {
                    set_timeout(
                        || crate::probe::mark("home_painted"),
                        std::time::Duration::ZERO,
                    )
                });
            }
        }
    });
    let first = name.split_whitespace().next().unwrap_or(&name).to_owned();
    view! {
        <div class="page home">
            <div class="page-head">
                <h1>{fill(ctx.t(K::Hello), &[("name", &first)])}</h1>
                <button type="button" class="primary" data-testid="ask-question"
                    on:click=move |_| ctx.go(Route::Ask(None))>
                    {ctx.t(K::AskQuestion)}
                </button>
            </div>
            <super::account::VerifyBanner/>
            {move || match data.get() {
                None => view! { <p class="muted">{ctx.t(K::Loading)}</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert">{ctx.error(&e)}</p> }.into_any(),
                Some(Ok(home)) => view! { <HomeCards home=home/> }.into_any(),
            }}
        </div>
    }
}

#[component]
fn HomeCards(home: HomeView) -> impl IntoView {
    let ctx = ctx();
    let orders = if home.active_orders.is_empty() {
        view! { <p class="muted">{ctx.t(K::NoActiveOrders)}</p> }.into_any()
    } else {
        home.active_orders
            .into_iter()
            .take(5)
            .map(|o| view! { <OrderRow order=o/> })
            .collect_view()
            .into_any()
    };
    let chats = if home.open_conversations.is_empty() {
        view! { <p class="muted">{ctx.t(K::NoOpenChats)}</p> }.into_any()
    } else {
        home.open_conversations
            .into_iter()
            .take(5)
            .map(|c| view! { <ChatRow summary=c/> })
            .collect_view()
            .into_any()
    };
    let calls = if home.upcoming_callbacks.is_empty() {
        view! { <p class="muted">{ctx.t(K::NoUpcomingCalls)}</p> }.into_any()
    } else {
        home.upcoming_callbacks
            .into_iter()
            .map(|c| view! { <CallbackRow line=c/> })
            .collect_view()
            .into_any()
    };
    view! {
        <div class="cards">
            <section class="card" data-testid="home-orders">
                <div class="card-head">
                    <h2>{ctx.t(K::ActiveOrders)}</h2>
                    <button type="button" class="link" on:click=move |_| ctx.go(Route::Orders)>{ctx.t(K::SeeAll)}</button>
                </div>
                <div class="rows">{orders}</div>
            </section>
            <section class="card" data-testid="home-chats">
                <div class="card-head">
                    <h2>{ctx.t(K::OpenChats)}</h2>
                    <button type="button" class="link" on:click=move |_| ctx.go(Route::Chats)>{ctx.t(K::SeeAll)}</button>
                </div>
                <div class="rows">{chats}</div>
            </section>
            <section class="card" data-testid="home-callbacks">
                <div class="card-head">
                    <h2>{ctx.t(K::UpcomingCalls)}</h2>
                    <button type="button" class="link" on:click=move |_| ctx.go(Route::BookCall { order: None, reschedule: None })>{ctx.t(K::BookCall)}</button>
                </div>
                <div class="rows">{calls}</div>
            </section>
        </div>
    }
}
