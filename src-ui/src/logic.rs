//! The views' logic, apart from the DOM so it is tested on its own
//! (`tests/web.rs`, wasm-bindgen-test): timeline order and delays, phone
//! checks as you type, slots grouped by local day, message states.

use jiff::Timestamp;
use mostrador_core::app::Delivery;
use mostrador_core::callbacks::Slot;
use mostrador_core::orders::{Order, TrackingStatus};
use mostrador_core::phone::{PhoneError, E164};

use crate::fmt;
use crate::i18n::{self, fill, Lang, K};

/// One row of a tracking timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineRow {
    pub status: TrackingStatus,
    pub at: Timestamp,
    pub place: Option<String>,
    pub description: Option<String>,
    /// A delay, shown in warning colours.
    pub delayed: bool,
    /// The newest event (the parcel's current state).
    pub latest: bool,
}

/// The timeline, newest first; delay events are marked.
pub fn timeline(order: &Order) -> Vec<TimelineRow> {
    let mut events: Vec<_> = order.timeline.iter().collect();
    events.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| b.id.cmp(&a.id)));
    events
        .into_iter()
        .enumerate()
        .map(|(i, e)| TimelineRow {
            status: e.status,
            at: e.at,
            place: e.place.clone(),
            description: e.description.clone(),
            delayed: e.status == TrackingStatus::Delayed,
            latest: i == 0,
        })
        .collect()
}

/// An order is late when the carrier says so, or its ETA has passed
/// without delivery.
pub fn is_late(order: &Order, now: Timestamp) -> bool {
    if order.status == TrackingStatus::Delayed {
        return true;
    }
    let eta = order.shipment.as_ref().and_then(|s| s.eta);
    order.status.is_active() && eta.is_some_and(|eta| eta < now)
}

/// What the phone field says while the user types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneCheck {
    Empty,
    /// Not wrong yet, just short.
    Incomplete,
    Valid(String),
    Invalid(PhoneError),
}

impl PhoneCheck {
    pub fn of(input: &str) -> Self {
        if input.trim().is_empty() {
            return PhoneCheck::Empty;
        }
        match E164::parse(input) {
            Ok(n) => PhoneCheck::Valid(n.as_str().to_owned()),
            Err(PhoneError::TooShort) => PhoneCheck::Incomplete,
            Err(e) => PhoneCheck::Invalid(e),
        }
    }

    pub fn is_valid(&self) -> bool {
        matches!(self, PhoneCheck::Valid(_))
    }

    /// The hint under the field; `None` for an empty field.
    pub fn hint(&self, lang: Lang) -> Option<String> {
        match self {
            PhoneCheck::Empty => None,
            PhoneCheck::Incomplete => Some(K::PhoneKeepTyping.text(lang).to_owned()),
            PhoneCheck::Valid(n) => Some(fill(K::PhoneOk.text(lang), &[("number", n)])),
            PhoneCheck::Invalid(e) => Some(i18n::phone_error(*e).text(lang).to_owned()),
        }
    }
}

/// Free slots of one local day.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotDay {
    /// "Monday, 23 November"
    pub label: String,
    /// (slot, "18:30") in local time, earliest first.
    pub slots: Vec<(Slot, String)>,
}

/// Groups slots by the local day they start on, labelled in `lang`.
pub fn slot_days(slots: &[Slot], lang: Lang, tz: Option<&str>) -> Vec<SlotDay> {
    let mut sorted: Vec<&Slot> = slots.iter().filter(|s| s.free > 0).collect();
    sorted.sort_by_key(|s| s.start);
    let mut days: Vec<(String, SlotDay)> = Vec::new();
    for s in sorted {
        let key = fmt::day_key(s.start, tz);
        let entry = (s.clone(), fmt::time(lang, s.start, tz));
        match days.last_mut() {
            Some((k, day)) if *k == key => day.slots.push(entry),
            _ => days.push((
                key,
                SlotDay {
                    label: fmt::day(lang, s.start, tz),
                    slots: vec![entry],
                },
            )),
        }
    }
    days.into_iter().map(|(_, d)| d).collect()
}

/// How a message's state is drawn: a CSS state and its words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryLabel {
    /// `pending`, `failed`, `sent`, `delivered`, `read` (`data-state`).
    pub state: &'static str,
    /// ✓ marks: 0 for pending/failed, 1 sent, 2 delivered/read.
    pub ticks: u8,
    pub text: String,
    /// Retry and discard are offered.
    pub actionable: bool,
}

pub fn delivery_label(d: &Delivery, lang: Lang) -> DeliveryLabel {
    let (state, ticks, text, actionable) = match d {
        Delivery::Pending => ("pending", 0, K::StatePending.text(lang).to_owned(), false),
        Delivery::Failed { reason, .. } => (
            "failed",
            0,
            fill(
                K::StateFailed.text(lang),
                &[("reason", &i18n::error_text(lang, reason))],
            ),
            true,
        ),
        Delivery::Sent => ("sent", 1, K::StateSent.text(lang).to_owned(), false),
        Delivery::Delivered => (
            "delivered",
            2,
            K::StateDelivered.text(lang).to_owned(),
            false,
        ),
        Delivery::Read => ("read", 2, K::StateRead.text(lang).to_owned(), false),
    };
    DeliveryLabel {
        state,
        ticks,
        text,
        actionable,
    }
}

/// Orders matching a search text (number, item name or SKU) and status.
pub fn filter_orders<'a>(
    orders: &'a [Order],
    query: &str,
    status: Option<TrackingStatus>,
) -> Vec<&'a Order> {
    let q = query.trim().to_lowercase();
    orders
        .iter()
        .filter(|o| status.is_none_or(|s| o.status == s))
        .filter(|o| {
            q.is_empty()
                || o.number.to_lowercase().contains(&q)
                || o.items.iter().any(|i| {
                    i.name.to_lowercase().contains(&q) || i.sku.to_lowercase().contains(&q)
                })
        })
        .collect()
}

pub use mostrador_core::app::{filter_inbox, InboxFilter, InboxGroup};

pub use crate::fmt::TimeUnit;

/// How long since `since`, as at most two parts, largest first:
/// 45 s → [(45, Second)]; 12 min → [(12, Minute)]; 2 h 5 min →
/// [(2, Hour), (5, Minute)]; 3 d 4 h → [(3, Day), (4, Hour)]. A zero
/// second part is left out ("2 h", not "2 h 0 min").
pub fn waited(since: Timestamp, now: Timestamp) -> Vec<(i64, TimeUnit)> {
    use TimeUnit::*;
    let s = (now.as_second() - since.as_second()).max(0);
    let (a, b) = match s {
        0..60 => ((s, Second), None),
        60..3600 => ((s / 60, Minute), None),
        3600..86400 => ((s / 3600, Hour), Some(((s % 3600) / 60, Minute))),
        _ => ((s / 86400, Day), Some(((s % 86400) / 3600, Hour))),
    };
    std::iter::once(a)
        .chain(b.filter(|(n, _)| *n > 0))
        .collect()
}

/// A callback whose slot has ended while it is still to be done.
pub fn is_overdue(c: &mostrador_core::callbacks::Callback, now: Timestamp) -> bool {
    c.status.is_pending() && c.slot_end.is_some_and(|e| e < now)
}

/// Heights (0–100) of bars for `values`, scaled to the largest.
pub fn bar_heights(values: &[i64]) -> Vec<u32> {
    let max = values.iter().copied().max().unwrap_or(0).max(1);
    values
        .iter()
        .map(|v| ((v.max(&0) * 100) / max) as u32)
        .collect()
}
