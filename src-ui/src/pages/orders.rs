//! Orders: list with search and status filter; detail with the tracking
//! timeline.

use leptos::prelude::*;
use mostrador_core::orders::{Order, TrackingStatus};
use mostrador_core::sync::EntityKind;
use uuid::Uuid;

use crate::app::{ctx, Route};
use crate::i18n::{fill, tracking_status, K};
use crate::{fmt, ipc, logic};

/// A status pill; delays in warning colours.
#[component]
pub fn StatusPill(status: TrackingStatus, late: bool) -> impl IntoView {
    let ctx = ctx();
    let class = if late || status == TrackingStatus::Delayed {
        "pill warn"
    } else if status == TrackingStatus::Delivered {
        "pill ok"
    } else {
        "pill"
    };
    view! {
        <span class=class data-testid="order-status" data-status=status.as_str()>
            {tracking_status(ctx.lang(), status)}
        </span>
    }
}

/// "Order MS-10001" in the user's language, the number kept on one line.
#[component]
pub fn OrderTitle(number: String) -> impl IntoView {
    let ctx = ctx();
    let template = ctx.t(K::OrderNumber);
    let (before, after) = template.split_once("{number}").unwrap_or((template, ""));
    view! { {before} <span class="order-number">{number}</span> {after} }
}

#[component]
pub fn OrderRow(order: Order) -> impl IntoView {
    let ctx = ctx();
    let lang = ctx.lang();
    let late = logic::is_late(&order, fmt::now());
    let id = order.id;
    let eta = order
        .shipment
        .as_ref()
        .and_then(|s| s.eta)
        .filter(|_| order.status.is_active())
        .map(|eta| fill(ctx.t(K::Eta), &[("date", &fmt::date(lang, eta, None))]));
    let items: Vec<String> = order.items.iter().map(|i| i.name.clone()).collect();
    view! {
        <button type="button" class="row" data-testid="order-row" data-number=order.number.clone()
            on:click=move |_| ctx.go(Route::Order(id))>
            <div class="row-main">
                <strong><OrderTitle number=order.number.clone()/></strong>
                <span class="muted ellipsis">{items.join(", ")}</span>
            </div>
            <div class="row-side">
                <StatusPill status=order.status late=late/>
                {eta.map(|e| view! { <small class="muted">{e}</small> })}
            </div>
        </button>
    }
}

#[component]
pub fn OrdersPage() -> impl IntoView {
    let ctx = ctx();
    let data = LocalResource::new(move || {
        ctx.watch(&[EntityKind::Order]);
        ipc::orders()
    });
    let query = RwSignal::new(String::new());
    let status = RwSignal::new(None::<TrackingStatus>);
    let options = TrackingStatus::ALL
        .into_iter()
        .map(|s| view! { <option value=s.as_str()>{tracking_status(ctx.lang(), s)}</option> })
        .collect_view();
    // An account without orders has nothing to search or filter.
    let none_at_all = Memo::new(move |_| matches!(data.get(), Some(Ok(o)) if o.is_empty()));
    view! {
        <div class="page">
            <div class="page-head"><h1>{ctx.t(K::OrdersTitle)}</h1></div>
            <super::account::VerifyBanner/>
            <div class="filters" hidden=move || none_at_all.get()>
                <input type="search" data-testid="order-search" placeholder=ctx.t(K::SearchOrders)
                    aria-label=ctx.t(K::SearchOrders)
                    prop:value=move || query.get()
                    on:input=move |ev| query.set(event_target_value(&ev))/>
                <select data-testid="order-status-filter" aria-label=ctx.t(K::AllStatuses)
                    on:change=move |ev| status.set(TrackingStatus::parse(&event_target_value(&ev)))>
                    <option value="">{ctx.t(K::AllStatuses)}</option>
                    {options}
                </select>
            </div>
            {move || match data.get() {
                None => view! { <p class="muted">{ctx.t(K::Loading)}</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert">{ctx.error(&e)}</p> }.into_any(),
                Some(Ok(orders)) => {
                    let shown: Vec<Order> = logic::filter_orders(&orders, &query.get(), status.get())
                        .into_iter()
                        .cloned()
                        .collect();
                    if shown.is_empty() {
                        // None at all is not "none match": say which.
                        let empty = if orders.is_empty() { K::NoOrdersYet } else { K::NoOrders };
                        view! { <p class="muted" data-testid="no-orders">{ctx.t(empty)}</p> }.into_any()
                    } else {
                        view! {
                            <div class="card rows">
                                {shown.into_iter().map(|o| view! { <OrderRow order=o/> }).collect_view()}
                            </div>
                        }.into_any()
                    }
                }
            }}
        </div>
    }
}

#[component]
pub fn OrderPage(id: Uuid) -> impl IntoView {
    let ctx = ctx();
    let order = ctx.watch_order(id);
    let data = LocalResource::new(move || {
        order.track();
        ipc::order(id)
    });
    view! {
        <div class="page">
            <button type="button" class="link back" data-testid="back" on:click=move |_| ctx.go(Route::Orders)>
                "← " {ctx.t(K::Back)}
            </button>
            {move || match data.get() {
                None => view! { <p class="muted">{ctx.t(K::Loading)}</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert">{ctx.error(&e)}</p> }.into_any(),
                Some(Ok(None)) => view! { <p class="muted">{ctx.t(K::NotFound)}</p> }.into_any(),
                Some(Ok(Some(order))) => view! { <OrderDetail order=order/> }.into_any(),
            }}
        </div>
    }
}

#[component]
fn OrderDetail(order: Order) -> impl IntoView {
    let ctx = ctx();
    let lang = ctx.lang();
    let late = logic::is_late(&order, fmt::now());
    let id = order.id;
    let rows = logic::timeline(&order);
    let currency = order.currency.clone();
    let items = order
        .items
        .iter()
        .map(|i| {
            view! {
                <li class="item">
                    <span>{format!("{} × {}", fmt::number(lang, i.quantity), i.name)}</span>
                    <span class="muted">{fmt::money(lang, i.unit_price_minor * i.quantity, &currency)}</span>
                </li>
            }
        })
        .collect_view();
    let eta = order
        .shipment
        .as_ref()
        .and_then(|s| s.eta)
        .filter(|_| order.status.is_active())
        .map(|eta| fill(ctx.t(K::Eta), &[("date", &fmt::date_time(lang, eta, None))]));
    let carrier = order.shipment.as_ref().map(|s| {
        fill(
            ctx.t(K::TrackingWith),
            &[("carrier", &s.carrier), ("number", &s.tracking_number)],
        )
    });
    let address = order.shipping_address.as_ref().map(|a| {
        let lines = [
            Some(a.name.clone()),
            Some(a.line1.clone()),
            a.line2.clone(),
            Some(format!("{} {}", a.postal_code, a.city)),
            a.region.clone(),
            Some(fmt::country(lang, &a.country)),
        ];
        lines
            .into_iter()
            .flatten()
            .map(|l| view! { <span>{l}</span> })
            .collect_view()
    });
    let timeline = if rows.is_empty() {
        view! { <p class="muted">{ctx.t(K::NoTracking)}</p> }.into_any()
    } else {
        view! {
            <ol class="timeline" data-testid="timeline">
                {rows.into_iter().map(|r| {
                    let class = match (r.latest, r.delayed) {
                        (_, true) => "event delayed",
                        (true, false) => "event latest",
                        _ => "event",
                    };
                    view! {
                        <li class=class data-testid="timeline-event" data-status=r.status.as_str()
                            data-delayed=if r.delayed { "true" } else { "false" }>
                            <span class="event-dot" aria-hidden="true"></span>
                            <div>
                                <strong>{tracking_status(lang, r.status)}</strong>
                                {r.description.map(|d| view! { <span class="event-desc">{d}</span> })}
                                <small class="muted">
                                    {fmt::date_time(lang, r.at, None)}
                                    {r.place.map(|p| format!(" · {p}"))}
                                </small>
                            </div>
                        </li>
                    }
                }).collect_view()}
            </ol>
        }.into_any()
    };
    view! {
        <article class="order-detail" data-testid="order-detail" data-number=order.number.clone()>
            <div class="page-head">
                <div>
                    <h1><OrderTitle number=order.number.clone()/></h1>
                    <p class="muted">{fill(ctx.t(K::PlacedOn), &[("date", &fmt::date(lang, order.placed_at, None))])}</p>
                </div>
                <button type="button" class="primary" data-testid="order-help"
                    on:click=move |_| ctx.go(Route::Ask(Some(id)))>
                    {ctx.t(K::HelpWithOrder)}
                </button>
            </div>
            <div class="cards two">
                <section class="card">
                    <div class="card-head">
                        <h2>{ctx.t(K::Tracking)}</h2>
                        <StatusPill status=order.status late=late/>
                    </div>
                    {late.then(|| view! { <p class="late" data-testid="order-late">{ctx.t(K::Late)}</p> })}
                    {eta.map(|e| view! { <p data-testid="order-eta">{e}</p> })}
                    {carrier.map(|c| view! { <p class="muted">{c}</p> })}
                    {timeline}
                </section>
                <section class="card">
                    <h2>{ctx.t(K::Items)}</h2>
                    <ul class="items">{items}</ul>
                    <p class="total">
                        <span>{ctx.t(K::Total)}</span>
                        <strong data-testid="order-total">{fmt::money(lang, order.total_minor, &order.currency)}</strong>
                    </p>
                    {address.map(|a| view! {
                        <h2>{ctx.t(K::ShipTo)}</h2>
                        <address class="address">{a}</address>
                    })}
                </section>
            </div>
        </article>
    }
}
