//! Dates, times, money, numbers, country names and plural categories for
//! the user's language, through the platform's `Intl` (the system time zone
//! unless one is given).

use std::cell::RefCell;
use std::collections::HashMap;

use jiff::Timestamp;
use js_sys::{Array, Date, Function, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use mostrador_core::lang::Lang;

fn options(pairs: &[(&str, &str)]) -> Object {
    let o = Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&o, &(*k).into(), &(*v).into());
    }
    o
}

thread_local! {
    /// `Intl` formatters already built, by constructor, locale and options.
    /// Building one costs far more than using it (a list of 100 waiting
    /// times built 200 `NumberFormat`s per draw), and one never changes.
    static FORMATTERS: RefCell<HashMap<String, Object>> = RefCell::new(HashMap::new());
}

/// `new Intl.<ctor>([locale], options)`, built once per page; `None` when
/// the platform lacks it or refuses the options (a malformed country code
/// or time zone throws a `RangeError`: never a panic).
fn formatter(ctor: &str, locale: &str, opts: &[(&str, &str)]) -> Option<Object> {
    let key = format!("{ctor}|{locale}|{opts:?}");
    if let Some(f) = FORMATTERS.with(|m| m.borrow().get(&key).cloned()) {
        return Some(f);
    }
    let intl = Reflect::get(&js_sys::global(), &"Intl".into()).ok()?;
    let class: Function = Reflect::get(&intl, &ctor.into()).ok()?.dyn_into().ok()?;
    let locales = if locale.is_empty() {
        Array::new()
    } else {
        Array::of1(&locale.into())
    };
    let obj: Object = Reflect::construct(&class, &Array::of2(&locales, &options(opts)))
        .ok()?
        .dyn_into()
        .ok()?;
    FORMATTERS.with(|m| m.borrow_mut().insert(key, obj.clone()));
    Some(obj)
}

/// Calls `method(arg)` on a cached [`formatter`] and returns the string it
/// gives; `None` when the platform lacks it or refuses the argument.
fn format_with(
    ctor: &str,
    locale: &str,
    opts: &[(&str, &str)],
    method: &str,
    arg: &JsValue,
) -> Option<String> {
    let obj = formatter(ctor, locale, opts)?;
    let f: Function = Reflect::get(&obj, &method.into()).ok()?.dyn_into().ok()?;
    f.call1(&obj, arg).ok()?.as_string()
}

fn format_date_in(locale: &str, ms: f64, opts: &[(&str, &str)], tz: Option<&str>) -> String {
    let mut pairs = opts.to_vec();
    if let Some(tz) = tz {
        pairs.push(("timeZone", tz));
    }
    format_with(
        "DateTimeFormat",
        locale,
        &pairs,
        "format",
        &Date::new(&JsValue::from_f64(ms)),
    )
    .unwrap_or_default()
}

fn format_date(lang: Lang, ms: f64, opts: &[(&str, &str)], tz: Option<&str>) -> String {
    format_date_in(lang.code(), ms, opts, tz)
}

fn ms(t: Timestamp) -> f64 {
    t.as_millisecond() as f64
}

/// "23 Nov 2026, 18:30"
pub fn date_time(lang: Lang, t: Timestamp, tz: Option<&str>) -> String {
    format_date(
        lang,
        ms(t),
        &[("dateStyle", "medium"), ("timeStyle", "short")],
        tz,
    )
}

/// "23 Nov 2026"
pub fn date(lang: Lang, t: Timestamp, tz: Option<&str>) -> String {
    format_date(lang, ms(t), &[("dateStyle", "medium")], tz)
}

/// "18:30" (or "6:30 PM")
pub fn time(lang: Lang, t: Timestamp, tz: Option<&str>) -> String {
    format_date(lang, ms(t), &[("timeStyle", "short")], tz)
}

/// "Monday, 23 November"
pub fn day(lang: Lang, t: Timestamp, tz: Option<&str>) -> String {
    format_date(
        lang,
        ms(t),
        &[("weekday", "long"), ("day", "numeric"), ("month", "long")],
        tz,
    )
}

/// "23 Nov"
pub fn short_day(lang: Lang, t: Timestamp, tz: Option<&str>) -> String {
    format_date(lang, ms(t), &[("day", "numeric"), ("month", "short")], tz)
}

/// A calendar-day key ("2026-11-23") in the time zone, for grouping.
pub fn day_key(t: Timestamp, tz: Option<&str>) -> String {
    // en-CA formats dates as YYYY-MM-DD.
    format_date_in(
        "en-CA",
        ms(t),
        &[
            ("year", "numeric"),
            ("month", "2-digit"),
            ("day", "2-digit"),
        ],
        tz,
    )
}

/// "1.234,50 €" / "€1,234.50" / "1 234,50 €"
pub fn money(lang: Lang, minor: i64, currency: &str) -> String {
    format_with(
        "NumberFormat",
        lang.code(),
        &[("style", "currency"), ("currency", currency)],
        "format",
        &JsValue::from_f64(minor as f64 / 100.0),
    )
    .unwrap_or_else(|| format!("{:.2} {currency}", minor as f64 / 100.0))
}

pub fn number(lang: Lang, n: i64) -> String {
    format_with(
        "NumberFormat",
        lang.code(),
        &[],
        "format",
        &JsValue::from_f64(n as f64),
    )
    .unwrap_or_else(|| n.to_string())
}

/// A unit of a waiting time, named by `fmt::duration` in the user's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    Second,
    Minute,
    Hour,
    Day,
}

impl TimeUnit {
    /// The unit's identifier for `Intl.NumberFormat`'s `unit` option.
    pub fn intl(self) -> &'static str {
        match self {
            Self::Second => "second",
            Self::Minute => "minute",
            Self::Hour => "hour",
            Self::Day => "day",
        }
    }
}

/// A waiting time from [`crate::logic::waited`] in `lang`, each part
/// through `Intl.NumberFormat`'s short units ("2 h, 5 min", "2 ч 5 мин",
/// "2 h y 5 min" as the platform spells them); plain English units when
/// the platform lacks unit formatting.
pub fn duration(lang: Lang, parts: &[(i64, TimeUnit)]) -> String {
    parts
        .iter()
        .map(|(n, unit)| {
            intl_call(
                "NumberFormat",
                lang,
                &[
                    ("style", "unit"),
                    ("unit", unit.intl()),
                    ("unitDisplay", "short"),
                ],
                "format",
                &JsValue::from_f64(*n as f64),
            )
            .unwrap_or_else(|| {
                let short = match unit {
                    TimeUnit::Second => "s",
                    TimeUnit::Minute => "min",
                    TimeUnit::Hour => "h",
                    TimeUnit::Day => "d",
                };
                format!("{n} {short}")
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `Intl.<ctor>` in `lang` with `opts`: `method(arg)` (see [`format_with`]).
fn intl_call(
    ctor: &str,
    lang: Lang,
    opts: &[(&str, &str)],
    method: &str,
    arg: &JsValue,
) -> Option<String> {
    format_with(ctor, lang.code(), opts, method, arg)
}

/// A country's name from its ISO 3166 code ("ES" → "Spain", "España",
/// "Испания"); the code itself when the platform has no name for it.
pub fn country(lang: Lang, code: &str) -> String {
    let code = code.trim();
    let valid = code.len() == 2 && code.chars().all(|c| c.is_ascii_alphabetic());
    valid
        .then(|| {
            intl_call(
                "DisplayNames",
                lang,
                &[("type", "region")],
                "of",
                &code.to_ascii_uppercase().into(),
            )
        })
        .flatten()
        .unwrap_or_else(|| code.to_owned())
}

/// The CLDR plural category of `n` in `lang`: `one`, `few`, `many` or
/// `other` (also `zero` and `two` in languages that have them).
pub fn plural(lang: Lang, n: i64) -> &'static str {
    let got = intl_call(
        "PluralRules",
        lang,
        &[],
        "select",
        &JsValue::from_f64(n as f64),
    );
    match got.as_deref() {
        Some("zero") => "zero",
        Some("one") => "one",
        Some("two") => "two",
        Some("few") => "few",
        Some("many") => "many",
        Some(_) => "other",
        // Without Intl.PluralRules, the English rule.
        None if n == 1 => "one",
        None => "other",
    }
}

/// What the platform's default `Intl.DateTimeFormat` resolved `key` to.
fn resolved(key: &str) -> Option<String> {
    let f = formatter("DateTimeFormat", "", &[])?;
    let resolve: Function = Reflect::get(&f, &"resolvedOptions".into())
        .ok()?
        .dyn_into()
        .ok()?;
    Reflect::get(&resolve.call0(&f).ok()?, &key.into())
        .ok()?
        .as_string()
}

/// The system's IANA time zone, e.g. `Europe/Madrid`.
pub fn system_time_zone() -> String {
    resolved("timeZone").unwrap_or_else(|| "UTC".into())
}

/// The system's preferred language tag, e.g. `es-ES`.
pub fn system_language() -> String {
    resolved("locale").unwrap_or_else(|| "en".into())
}

/// Now, from the platform clock.
pub fn now() -> Timestamp {
    Timestamp::from_millisecond(Date::now() as i64).unwrap_or(Timestamp::UNIX_EPOCH)
}
