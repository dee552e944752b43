//! Calls: booked callbacks (status, cancel, change time) and booking a
//! voice or video callback in a free slot shown in local time.

use leptos::prelude::*;
use leptos::task::spawn_local;
use mostrador_core::app::{CallbackLine, Delivery};
use mostrador_core::callbacks::{CallbackChannel, RequestCallback, Slot, TimeWindow};
use mostrador_core::sync::EntityKind;
use uuid::Uuid;

use crate::app::{ctx, Route};
use crate::i18n::{self, K};
use crate::logic::{self, PhoneCheck};
use crate::{drafts, fmt, ipc};
use mostrador_core::callbacks::MAX_TOPIC_CHARS;

#[component]
pub fn CallbackRow(line: CallbackLine) -> impl IntoView {
    let ctx = ctx();
    let lang = ctx.lang();
    let c = line.callback;
    let id = c.id;
    let when = c
        .slot_start
        .map(|s| fmt::date_time(lang, s, None))
        .unwrap_or_default();
    let status = if matches!(line.delivery, Delivery::Pending) {
        logic::delivery_label(&line.delivery, lang).text
    } else {
        ctx.t(i18n::callback_status(c.status)).to_owned()
    };
    let can_change = c.status.is_pending() && !matches!(line.delivery, Delivery::Pending);
    view! {
        <div class="row static" data-testid="callback-row" data-status=c.status.as_str()>
            <div class="row-main">
                <strong>{ctx.t(i18n::channel(c.channel))} {(!when.is_empty()).then(|| format!(" · {when}"))}</strong>
                <span class="muted ellipsis">{c.topic.clone()}</span>
            </div>
            <div class="row-side">
                <span class="pill" data-testid="callback-status">{status}</span>
                {can_change.then(|| view! {
                    <div class="actions">
                        <button type="button" data-testid="callback-reschedule"
                            on:click=move |_| ctx.go(Route::BookCall { order: None, reschedule: Some(id) })>
                            {ctx.t(K::Reschedule)}
                        </button>
                        <button type="button" class="danger" data-testid="callback-cancel"
                            on:click=move |_| ctx.write(ipc::cancel_callback(id))>
                            {ctx.t(K::CancelCall)}
                        </button>
                    </div>
                })}
            </div>
        </div>
    }
}

#[component]
pub fn CallbacksPage() -> impl IntoView {
    let ctx = ctx();
    let data = LocalResource::new(move || {
        ctx.watch(&[EntityKind::Callback]);
        ipc::callbacks()
    });
    view! {
        <div class="page">
            <div class="page-head">
                <h1>{ctx.t(K::CallsTitle)}</h1>
                <button type="button" class="primary" data-testid="book-callback"
                    on:click=move |_| ctx.go(Route::BookCall { order: None, reschedule: None })>
                    {ctx.t(K::BookCall)}
                </button>
            </div>
            {move || match data.get() {
                None => view! { <p class="muted">{ctx.t(K::Loading)}</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert">{ctx.error(&e)}</p> }.into_any(),
                Some(Ok(list)) if list.is_empty() => view! { <p class="muted">{ctx.t(K::NoCalls)}</p> }.into_any(),
                Some(Ok(mut list)) => {
                    list.reverse();
                    view! {
                        <div class="card rows" data-testid="callback-list">
                            {list.into_iter().map(|l| view! { <CallbackRow line=l/> }).collect_view()}
                        </div>
                    }.into_any()
                }
            }}
        </div>
    }
}

/// Where booking returns to: the agent's queue, or the shopper's calls.
fn back_to(ctx: &crate::app::Ctx) -> Route {
    if ctx.agent_mode.get_untracked() {
        Route::Queue
    } else {
        Route::Callbacks
    }
}

#[component]
pub fn BookPage(order: Option<Uuid>, reschedule: Option<Uuid>) -> impl IntoView {
    let ctx = ctx();
    let moving = reschedule;
    let channel = RwSignal::new(CallbackChannel::Voice);
    // Kept across a language switch and leaving the screen.
    let phone = drafts::field("book:phone");
    let topic = drafts::field("book:topic");
    let order_id = RwSignal::new(order);
    let picked = RwSignal::new(None::<Slot>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let slots = LocalResource::new(ipc::slots);
    let orders = LocalResource::new(ipc::orders);
    // Prefill the phone from the profile.
    spawn_local(async move {
        if let Ok(Some(p)) = ipc::profile().await {
            if let Some(n) = p.phone {
                if phone.get_untracked().is_empty() {
                    phone.set(n);
                }
            }
        }
    });
    let check = Memo::new(move |_| PhoneCheck::of(&phone.get()));

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(slot) = picked.get_untracked() else {
            error.set(Some(ctx.t(K::PickSlot).to_owned()));
            return;
        };
        let window = TimeWindow {
            start: slot.start,
            end: slot.end,
        };
        if let Some(id) = moving {
            busy.set(true);
            spawn_local(async move {
                match ipc::reschedule_callback(id, window).await {
                    Ok(()) => ctx.go(back_to(&ctx)),
                    Err(e) => error.set(Some(ctx.error(&e))),
                }
                busy.set(false);
            });
            return;
        }
        let voice = channel.get_untracked() == CallbackChannel::Voice;
        let number = match check.get_untracked() {
            PhoneCheck::Valid(n) => Some(n),
            _ if voice => {
                error.set(Some(check.get_untracked().hint(ctx.lang()).unwrap_or_else(|| {
                    i18n::field_text(ctx.lang(), "phone", "required").unwrap_or_default()
                })));
                return;
            }
            _ => None,
        };
        let topic_text = topic.get_untracked();
        if topic_text.trim().is_empty() {
            error.set(i18n::field_text(ctx.lang(), "topic", "required"));
            return;
        }
        busy.set(true);
        let request = RequestCallback {
            id: Uuid::nil(),
            channel: channel.get_untracked(),
            phone: number,
            topic: topic_text.trim().to_owned(),
            order_id: order_id.get_untracked(),
            time_zone: fmt::system_time_zone(),
            windows: vec![window],
        };
        spawn_local(async move {
            match ipc::request_callback(request).await {
                Ok(_) => {
                    topic.set(String::new());
                    ctx.go(back_to(&ctx));
                }
                Err(e) => error.set(Some(ctx.error(&e))),
            }
            busy.set(false);
        });
    };

    let slot_picker = move || match slots.get() {
        None => view! { <p class="muted">{ctx.t(K::Loading)}</p> }.into_any(),
        Some(Err(_)) => {
            view! { <p class="muted" data-testid="slots-offline">{ctx.t(K::SlotsOffline)}</p> }
                .into_any()
        }
        Some(Ok(list)) => {
            let days = logic::slot_days(&list, ctx.lang(), None);
            if days.is_empty() {
                return view! { <p class="muted">{ctx.t(K::NoSlots)}</p> }.into_any();
            }
            // One Tab stop for all the slots (the picked one, else the
            // first); the arrow keys move between them, Space or Enter picks.
            let first = days.first().and_then(|d| d.slots.first()).map(|(s, _)| s.start);
            days.into_iter()
                .take(7)
                .map(|d| view! {
                    <div class="slot-day">
                        <h2>{d.label}</h2>
                        <div class="slots">
                            {d.slots.into_iter().map(|(s, label)| {
                                let start = s.start;
                                let s2 = s.clone();
                                let tab_stop = move || {
                                    picked.get().map_or(first == Some(start), |p| p.start == start)
                                };
                                view! {
                                    <button type="button" class="slot" data-testid="slot" data-start=start.to_string()
                                        tabindex=move || if tab_stop() { "0" } else { "-1" }
                                        aria-pressed=move || picked.get().is_some_and(|p| p.start == start).to_string()
                                        on:click=move |_| picked.set(Some(s2.clone()))>
                                        {label}
                                    </button>
                                }
                            }).collect_view()}
                        </div>
                    </div>
                })
                .collect_view()
                .into_any()
        }
    };

    view! {
        <div class="page">
            <button type="button" class="link back" data-testid="back" on:click=move |_| ctx.go(back_to(&ctx))>
                "← " {ctx.t(K::Back)}
            </button>
            <form class="card book" on:submit=submit data-testid="book-form">
                <h1>{if moving.is_some() { ctx.t(K::Reschedule) } else { ctx.t(K::BookCall) }}</h1>
                <Show when=move || moving.is_none()>
                    <fieldset class="field">
                        <legend>{ctx.t(K::Channel)}</legend>
                        <div class="segmented">
                            <label>
                                <input type="radio" name="channel" data-testid="channel-voice"
                                    prop:checked=move || channel.get() == CallbackChannel::Voice
                                    on:change=move |_| channel.set(CallbackChannel::Voice)/>
                                {ctx.t(K::Voice)}
                            </label>
                            <label>
                                <input type="radio" name="channel" data-testid="channel-video"
                                    prop:checked=move || channel.get() == CallbackChannel::Video
                                    on:change=move |_| channel.set(CallbackChannel::Video)/>
                                {ctx.t(K::Video)}
                            </label>
                        </div>
                    </fieldset>
                    <Show when=move || channel.get() == CallbackChannel::Voice>
                        <label class="field">
                            <span>{ctx.t(K::Phone)}</span>
                            <input type="tel" autocomplete="tel" data-testid="callback-phone"
                                placeholder="+34 911 23 45 67"
                                aria-invalid=move || matches!(check.get(), PhoneCheck::Invalid(_)).to_string()
                                prop:value=move || phone.get()
                                on:input=move |ev| phone.set(event_target_value(&ev))/>
                            <small class="hint" data-testid="phone-hint"
                                data-valid=move || check.get().is_valid().to_string()
                                class:bad=move || matches!(check.get(), PhoneCheck::Invalid(_))>
                                {move || check.get().hint(ctx.lang()).unwrap_or_else(|| ctx.t(K::PhoneHint).to_owned())}
                            </small>
                        </label>
                    </Show>
                    <label class="field">
                        <span>{ctx.t(K::Topic)}</span>
                        <input type="text" data-testid="callback-topic"
                            maxlength=MAX_TOPIC_CHARS.to_string()
                            prop:value=move || topic.get()
                            on:input=move |ev| topic.set(event_target_value(&ev))/>
                    </label>
                    <label class="field">
                        <span>{ctx.t(K::OrderOptional)}</span>
                        <select data-testid="callback-order"
                            on:change=move |ev| order_id.set(event_target_value(&ev).parse().ok())>
                            <option value="">{ctx.t(K::NoOrder)}</option>
                            {move || orders.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|o| {
                                let selected = order_id.get_untracked() == Some(o.id);
                                view! { <option value=o.id.to_string() selected=selected>{o.number}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                </Show>
                <fieldset class="field" on:keydown=slot_arrows>
                    <legend>{ctx.t(K::PickSlot)}</legend>
                    {slot_picker}
                </fieldset>
                {move || error.get().map(|e| view! { <p class="error" role="alert" data-testid="form-error">{e}</p> })}
                <button type="submit" class="primary" data-testid="callback-submit" disabled=move || busy.get()>
                    {if moving.is_some() { ctx.t(K::Reschedule) } else { ctx.t(K::Book) }}
                </button>
            </form>
        </div>
    }
}

/// Arrow keys move the focus between the slots of a slot picker (one Tab
/// stop for the whole list; Space or Enter picks the focused slot).
fn slot_arrows(ev: leptos::ev::KeyboardEvent) {
    use wasm_bindgen::JsCast;
    let forward = match ev.key().as_str() {
        "ArrowRight" | "ArrowDown" => true,
        "ArrowLeft" | "ArrowUp" => false,
        _ => return,
    };
    let Some(at) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element())
        .filter(|a| a.get_attribute("data-testid").as_deref() == Some("slot"))
    else {
        return;
    };
    // The next (or previous) slot of the same day, else of the next (or
    // previous) day.
    let sibling = |e: &web_sys::Element| {
        if forward {
            e.next_element_sibling()
        } else {
            e.previous_element_sibling()
        }
    };
    let next = sibling(&at).or_else(|| {
        let day = at.parent_element()?.parent_element()?;
        let other = sibling(&day)?;
        let pick = if forward { ".slot:first-child" } else { ".slot:last-child" };
        other.query_selector(pick).ok().flatten()
    });
    ev.prevent_default();
    if let Some(el) = next.and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = el.focus();
    }
}
