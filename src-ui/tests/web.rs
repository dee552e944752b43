//! Component logic tests, compiled to wasm and run by
//! `wasm-bindgen-test-runner` under Node.js (its `Intl` is the same API the
//! app's WebKit provides). `cargo xtask test` runs them.

use jiff::Timestamp;
use mostrador_core::app::Delivery;
use mostrador_core::callbacks::Slot;
use mostrador_core::orders::{Order, OrderItem, Shipment, TrackingEvent, TrackingStatus};
use mostrador_core::phone::PhoneError;
use mostrador_core::{ApiError, ErrorCode};
use mostrador_ui::fmt;
use mostrador_ui::i18n::{error_text, Lang, K};
use mostrador_ui::logic::{self, delivery_label, slot_days, PhoneCheck};
use uuid::Uuid;
use wasm_bindgen_test::wasm_bindgen_test;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn event(id: &str, status: TrackingStatus, at: &str) -> TrackingEvent {
    TrackingEvent {
        id: id.into(),
        status,
        at: ts(at),
        place: Some("Zaragoza".into()),
        description: None,
    }
}

fn order(status: TrackingStatus, timeline: Vec<TrackingEvent>, eta: Option<&str>) -> Order {
    Order {
        id: Uuid::nil(),
        number: "MS-1".into(),
        customer_id: None,
        status,
        placed_at: ts("2026-11-01T10:00:00Z"),
        total_minor: 4999,
        currency: "EUR".into(),
        items: vec![OrderItem {
            sku: "TEE-1".into(),
            name: "Organic cotton T-shirt".into(),
            quantity: 1,
            unit_price_minor: 4999,
        }],
        shipping_address: None,
        shipment: Some(Shipment {
            carrier: "Correos".into(),
            tracking_number: "PK1".into(),
            eta: eta.map(ts),
        }),
        timeline,
        updated_at: ts("2026-11-05T10:00:00Z"),
    }
}

#[wasm_bindgen_test]
fn timeline_is_newest_first_and_marks_delays() {
    // Arrives out of order, as carrier events do.
    let o = order(
        TrackingStatus::Delayed,
        vec![
            event("2", TrackingStatus::Shipped, "2026-11-02T09:00:00Z"),
            event("4", TrackingStatus::Delayed, "2026-11-04T09:00:00Z"),
            event("1", TrackingStatus::Placed, "2026-11-01T09:00:00Z"),
            event("3", TrackingStatus::InTransit, "2026-11-03T09:00:00Z"),
        ],
        None,
    );
    let rows = logic::timeline(&o);
    let order_seen: Vec<TrackingStatus> = rows.iter().map(|r| r.status).collect();
    assert_eq!(
        order_seen,
        [
            TrackingStatus::Delayed,
            TrackingStatus::InTransit,
            TrackingStatus::Shipped,
            TrackingStatus::Placed
        ]
    );
    assert_eq!(
        rows.iter().map(|r| r.delayed).collect::<Vec<_>>(),
        [true, false, false, false]
    );
    assert_eq!(rows.iter().filter(|r| r.latest).count(), 1);
    assert!(rows[0].latest);
}

#[wasm_bindgen_test]
fn an_order_is_late_when_delayed_or_past_its_eta() {
    let now = ts("2026-11-10T00:00:00Z");
    assert!(logic::is_late(
        &order(TrackingStatus::Delayed, vec![], None),
        now
    ));
    assert!(logic::is_late(
        &order(
            TrackingStatus::InTransit,
            vec![],
            Some("2026-11-09T00:00:00Z")
        ),
        now
    ));
    assert!(!logic::is_late(
        &order(
            TrackingStatus::InTransit,
            vec![],
            Some("2026-11-11T00:00:00Z")
        ),
        now
    ));
    // Delivered late is not late any more.
    assert!(!logic::is_late(
        &order(
            TrackingStatus::Delivered,
            vec![],
            Some("2026-11-09T00:00:00Z")
        ),
        now
    ));
}

#[wasm_bindgen_test]
fn phone_numbers_are_checked_as_they_are_typed() {
    assert_eq!(PhoneCheck::of(""), PhoneCheck::Empty);
    assert_eq!(PhoneCheck::of("+34 9"), PhoneCheck::Incomplete);
    assert_eq!(
        PhoneCheck::of("911 23 45 67"),
        PhoneCheck::Invalid(PhoneError::MissingPlus)
    );
    assert_eq!(
        PhoneCheck::of("+34 911 23 45 67"),
        PhoneCheck::Valid("+34911234567".into())
    );
    assert_eq!(
        PhoneCheck::of("+1 (415) 555.0100 1234 5678"),
        PhoneCheck::Invalid(PhoneError::TooLong)
    );
    // Hints are sentences in the user's language, never codes.
    assert_eq!(
        PhoneCheck::of("+34 9").hint(Lang::Es).as_deref(),
        Some("Sigue escribiendo…")
    );
    assert!(PhoneCheck::of("+34 911 23 45 67")
        .hint(Lang::Ru)
        .unwrap()
        .contains("+34911234567"));
    assert_eq!(PhoneCheck::of("").hint(Lang::En), None);
}

fn slot(start: &str, end: &str) -> Slot {
    Slot {
        start: ts(start),
        end: ts(end),
        free: 1,
    }
}

#[wasm_bindgen_test]
fn slots_are_shown_in_local_time_grouped_by_local_day() {
    let slots = [
        // Given out of order; one full slot is not offered.
        slot("2026-11-23T23:30:00Z", "2026-11-24T00:00:00Z"),
        slot("2026-11-23T17:30:00Z", "2026-11-23T18:00:00Z"),
        Slot {
            free: 0,
            ..slot("2026-11-23T18:00:00Z", "2026-11-23T18:30:00Z")
        },
    ];
    let days = slot_days(&slots, Lang::Es, Some("Europe/Madrid"));
    assert_eq!(days.len(), 2, "23:30 UTC is already the 24th in Madrid");
    assert_eq!(days[0].slots.len(), 1);
    assert_eq!(days[0].slots[0].1, "18:30");
    assert!(days[0].label.contains("23"), "{}", days[0].label);
    assert!(days[0].label.contains("lunes"), "{}", days[0].label);
    assert_eq!(days[1].slots[0].1, "0:30");
    assert!(days[1].label.contains("24"), "{}", days[1].label);
    // The same slots in New York are one evening.
    let ny = slot_days(&slots, Lang::En, Some("America/New_York"));
    assert_eq!(ny.len(), 1);
    assert_eq!(
        ny[0].slots.iter().map(|s| s.1.as_str()).collect::<Vec<_>>(),
        ["12:30 PM", "6:30 PM"]
    );
}

#[wasm_bindgen_test]
fn message_states_render_as_words_and_ticks() {
    let pending = delivery_label(&Delivery::Pending, Lang::En);
    assert_eq!((pending.state, pending.ticks), ("pending", 0));
    assert_eq!(pending.text, "Waiting to send");
    assert!(!pending.actionable);

    let failed = delivery_label(
        &Delivery::Failed {
            client_id: Uuid::nil(),
            reason: ApiError::new(ErrorCode::Forbidden, "forbidden"),
        },
        Lang::Es,
    );
    assert_eq!(failed.state, "failed");
    assert!(failed.actionable, "retry and discard are offered");
    assert!(failed.text.starts_with("No enviado"), "{}", failed.text);
    assert!(
        !failed.text.contains("forbidden"),
        "no raw codes: {}",
        failed.text
    );

    let read = delivery_label(&Delivery::Read, Lang::Ru);
    assert_eq!(
        (read.state, read.ticks, read.text.as_str()),
        ("read", 2, "Прочитано")
    );
    assert_eq!(delivery_label(&Delivery::Sent, Lang::En).ticks, 1);
}

#[wasm_bindgen_test]
fn every_text_exists_in_every_language_with_the_same_placeholders() {
    fn placeholders(s: &str) -> Vec<String> {
        let mut out: Vec<String> = s
            .split('{')
            .skip(1)
            .filter_map(|p| p.split_once('}').map(|(name, _)| name.to_owned()))
            .collect();
        out.sort();
        out
    }
    for k in K::ALL {
        let en = k.text(Lang::En);
        for lang in Lang::ALL {
            let t = k.text(lang);
            assert!(!t.trim().is_empty(), "{k:?} is empty in {lang:?}");
            assert_eq!(placeholders(t), placeholders(en), "{k:?} in {lang:?}");
        }
    }
    // Spanish and Russian are really translated (not English copies).
    let copies = K::ALL
        .iter()
        .filter(|k| k.text(Lang::Ru) == k.text(Lang::En))
        .count();
    assert!(copies < 8, "{copies} Russian texts are English");
}

#[wasm_bindgen_test]
fn errors_are_sentences_in_the_users_language() {
    let offline = ApiError::new(ErrorCode::Unavailable, "connection refused");
    assert!(error_text(Lang::Ru, &offline).starts_with("Не удаётся"));
    let slot_taken = ApiError::new(ErrorCode::Conflict, "slot full")
        .with_details(serde_json::json!({"nearest_slots": []}));
    assert_eq!(
        error_text(Lang::En, &slot_taken),
        "That time was just taken. Please pick another."
    );
}

/// Every refusal the server gives today, as `(field, problem)`.
const SERVER_REFUSALS: &[(&str, &str)] = &[
    ("display_name", "required"),
    ("display_name", "too_long"),
    ("phone", "not_e164"),
    ("phone", "required"),
    ("language", "unsupported"),
    ("time_zone", "unknown"),
    ("country", "not_iso_3166"),
    ("name", "required"),
    ("line1", "required"),
    ("line1", "too_long"),
    ("city", "required"),
    ("postal_code", "too_long"),
    ("title", "required"),
    ("title", "too_long"),
    ("body", "required"),
    ("body", "too_long"),
    ("body", "invalid_characters"),
    ("subject", "required"),
    ("subject", "too_long"),
    ("attachment_ids", "unknown_or_already_sent"),
    ("filename", "required"),
    ("file", "not_an_image_or_pdf"),
    ("assigned_agent_id", "not_an_active_agent"),
    ("score", "out_of_range"),
    ("comment", "too_long"),
    ("windows", "required"),
    ("windows", "too_many"),
    ("windows", "end_before_start"),
    ("windows", "in_the_past"),
    ("windows", "too_far_ahead"),
    ("topic", "required"),
    ("topic", "too_long"),
    ("note", "too_long"),
    ("password", "too_short"),
    ("password", "too_long"),
    ("email", "invalid"),
    ("email", "taken"),
    // Proving the address and managing the password (server and engine).
    ("code", "required"),
    ("code", "format"),
    ("code", "invalid"),
    ("current_password", "required"),
    ("current_password", "wrong"),
    ("new_password", "required"),
    ("new_password", "too_short"),
    ("new_password", "too_long"),
    ("confirm_password", "mismatch"),
];

const CODES: &[ErrorCode] = &[
    ErrorCode::BadRequest,
    ErrorCode::ValidationFailed,
    ErrorCode::Unauthorized,
    ErrorCode::Forbidden,
    ErrorCode::NotFound,
    ErrorCode::Conflict,
    ErrorCode::PayloadTooLarge,
    ErrorCode::RateLimited,
    ErrorCode::ResyncRequired,
    ErrorCode::Unavailable,
    ErrorCode::Internal,
    ErrorCode::Unknown,
];

/// A raw code (`too_short`, `password: too_short`) a user must never read.
fn looks_raw(text: &str, field: &str) -> bool {
    text.contains('_') || text.contains(&format!("{field}: "))
}

#[wasm_bindgen_test]
fn every_error_code_is_a_sentence_in_every_language() {
    for &code in CODES {
        let spelled = serde_json::to_value(code).unwrap();
        let spelled = spelled.as_str().unwrap_or("unknown");
        for lang in Lang::ALL {
            let err = ApiError::new(code, "password: too_short");
            let text = error_text(lang, &err);
            assert!(!text.trim().is_empty(), "{code:?} {lang:?}");
            assert!(
                !looks_raw(&text, "password") && !text.to_lowercase().contains(spelled),
                "{code:?} {lang:?}: {text}"
            );
        }
    }
}

#[wasm_bindgen_test]
fn every_server_refusal_names_its_field_in_the_users_language() {
    for &(field, problem) in SERVER_REFUSALS {
        for lang in Lang::ALL {
            let err = ApiError::invalid_field(field, problem);
            let text = error_text(lang, &err);
            assert!(
                !looks_raw(&text, field),
                "{field}/{problem} {lang:?}: {text}"
            );
            assert!(text.ends_with('.'), "a sentence: {text}");
            let label = mostrador_ui::i18n::field_label(field).expect("every field has a label");
            let named = text.to_lowercase().contains(&label.text(lang).to_lowercase())
                // These name the field in their own words.
                || matches!(field, "phone" | "email" | "country" | "windows" | "file" | "attachment_ids" | "assigned_agent_id");
            assert!(named, "{field}/{problem} {lang:?} names the field: {text}");
        }
    }
    // Limits come from the one place they live.
    let es = error_text(Lang::Es, &ApiError::invalid_field("password", "too_short"));
    assert_eq!(
        es,
        "El campo «Contraseña» es demasiado corto: usa al menos 10 caracteres."
    );
    let ru = error_text(Lang::Ru, &ApiError::invalid_field("body", "too_long"));
    assert!(ru.contains("Сообщение") && ru.contains("10"), "{ru}");
    // A field no form shows still gets a sentence, not a code.
    let odd = error_text(Lang::En, &ApiError::invalid_field("since", "negative"));
    assert!(
        !looks_raw(&odd, "since") && !odd.contains("negative"),
        "{odd}"
    );
}

#[wasm_bindgen_test]
fn lists_read_as_sentences() {
    use mostrador_ui::i18n::and_list;
    assert_eq!(
        and_list(Lang::En, &["email", "SMS", "app notifications"]),
        "email, SMS and app notifications"
    );
    assert_eq!(and_list(Lang::Es, &["correo", "SMS"]), "correo y SMS");
    assert_eq!(and_list(Lang::Ru, &["СМС"]), "СМС");
}

#[wasm_bindgen_test]
fn money_dates_and_languages_follow_the_locale() {
    assert_eq!(fmt::money(Lang::En, 123450, "EUR"), "€1,234.50");
    let es = fmt::money(Lang::Es, 123450, "EUR");
    assert!(es.contains("1234,50") || es.contains("1.234,50"), "{es}");
    assert!(es.contains('€'));
    assert_eq!(
        fmt::time(Lang::Ru, ts("2026-11-23T17:30:00Z"), Some("Europe/Moscow")),
        "20:30"
    );
    assert_eq!(Lang::from_tag("es-MX"), Lang::Es);
    assert_eq!(Lang::from_tag("ru_RU.UTF-8"), Lang::Ru);
    assert_eq!(Lang::from_tag("de-DE"), Lang::En);
}

#[wasm_bindgen_test]
fn orders_filter_by_text_and_status() {
    let a = order(TrackingStatus::Delayed, vec![], None);
    let b = Order {
        number: "MS-2".into(),
        status: TrackingStatus::Delivered,
        ..order(TrackingStatus::Delivered, vec![], None)
    };
    let all = [a, b];
    assert_eq!(logic::filter_orders(&all, "", None).len(), 2);
    assert_eq!(logic::filter_orders(&all, "ms-2", None).len(), 1);
    assert_eq!(logic::filter_orders(&all, "t-shirt", None).len(), 2);
    assert_eq!(
        logic::filter_orders(&all, "", Some(TrackingStatus::Delayed))[0].number,
        "MS-1"
    );
    assert!(logic::filter_orders(&all, "lamp", None).is_empty());
}

#[wasm_bindgen_test]
fn the_inbox_puts_the_longest_waiting_first_and_filters_by_group() {
    use mostrador_core::app::{ConversationSummary, InboxRow};
    use mostrador_core::chat::{Conversation, ConversationStatus};
    let me = Uuid::from_u128(1);
    let row =
        |n: u128, assigned: Option<Uuid>, status, waiting: Option<&str>, order: bool| InboxRow {
            summary: ConversationSummary {
                id: Uuid::from_u128(100 + n),
                subject: format!("c{n}"),
                order_id: order.then(|| Uuid::from_u128(7)),
                conversation: Some(Conversation {
                    id: Uuid::from_u128(100 + n),
                    customer_id: Uuid::from_u128(50),
                    order_id: None,
                    subject: format!("c{n}"),
                    status,
                    assigned_agent_id: assigned,
                    rating: None,
                    created_at: ts("2026-11-23T08:00:00Z"),
                    updated_at: ts("2026-11-23T08:00:00Z"),
                    last_message_at: None,
                }),
                unread: 0,
                last_body: None,
                last_at: Some(ts(&format!("2026-11-23T09:0{n}:00Z"))),
                delivery: Delivery::Sent,
            },
            customer_id: Uuid::from_u128(50),
            customer_name: "Ana".into(),
            waiting_since: waiting.map(ts),
            order_number: None,
        };
    let rows = vec![
        row(
            1,
            None,
            ConversationStatus::Open,
            Some("2026-11-23T11:30:00Z"),
            false,
        ),
        row(
            2,
            None,
            ConversationStatus::Open,
            Some("2026-11-23T09:00:00Z"),
            true,
        ),
        row(3, Some(me), ConversationStatus::Open, None, false),
        row(4, None, ConversationStatus::Resolved, None, false),
        row(
            5,
            Some(Uuid::from_u128(2)),
            ConversationStatus::Pending,
            None,
            true,
        ),
    ];
    let now = ts("2026-11-23T12:00:00Z");
    let f = |group| logic::InboxFilter {
        group,
        status: None,
        has_order: false,
        waiting_long: false,
        matches: None,
    };
    let subjects = |v: Vec<&InboxRow>| {
        v.iter()
            .map(|r| r.summary.subject.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        subjects(logic::filter_inbox(
            &rows,
            me,
            &f(logic::InboxGroup::Unassigned),
            now
        )),
        ["c2", "c1"],
        "longest waiting first; resolved ones left out"
    );
    assert_eq!(
        subjects(logic::filter_inbox(
            &rows,
            me,
            &f(logic::InboxGroup::Mine),
            now
        )),
        ["c3"]
    );
    assert_eq!(
        logic::filter_inbox(&rows, me, &f(logic::InboxGroup::All), now).len(),
        5
    );
    let long = logic::InboxFilter {
        waiting_long: true,
        ..f(logic::InboxGroup::All)
    };
    assert_eq!(subjects(logic::filter_inbox(&rows, me, &long, now)), ["c2"]);
    let ordered = logic::InboxFilter {
        has_order: true,
        ..f(logic::InboxGroup::All)
    };
    assert_eq!(
        subjects(logic::filter_inbox(&rows, me, &ordered, now)),
        ["c2", "c5"]
    );
    let found = logic::InboxFilter {
        matches: Some(vec![Uuid::from_u128(104)]),
        ..f(logic::InboxGroup::All)
    };
    assert_eq!(
        subjects(logic::filter_inbox(&rows, me, &found, now)),
        ["c4"]
    );
    use logic::TimeUnit::*;
    assert_eq!(
        logic::waited(ts("2026-11-23T09:55:00Z"), now),
        [(2, Hour), (5, Minute)]
    );
    assert_eq!(logic::waited(ts("2026-11-23T10:00:00Z"), now), [(2, Hour)]);
    assert_eq!(
        logic::waited(ts("2026-11-23T11:59:30Z"), now),
        [(30, Second)]
    );
    assert_eq!(
        logic::waited(ts("2026-11-20T08:00:00Z"), now),
        [(3, Day), (4, Hour)]
    );
    // Units in the user's language, not English everywhere.
    let parts = logic::waited(ts("2026-11-23T09:55:00Z"), now);
    let en = fmt::duration(Lang::En, &parts);
    let ru = fmt::duration(Lang::Ru, &parts);
    assert!(
        en.contains('2') && en.contains('5') && en.contains("hr"),
        "{en}"
    );
    assert!(ru.contains("ч") && ru.contains("мин"), "{ru}");
    assert_eq!(logic::bar_heights(&[0, 5, 10]), vec![0, 50, 100]);
    assert_eq!(logic::bar_heights(&[0, 0]), vec![0, 0]);
}

#[wasm_bindgen_test]
fn plural_categories_follow_each_language() {
    use mostrador_ui::fmt::plural;
    assert_eq!(plural(Lang::En, 1), "one");
    assert_eq!(plural(Lang::En, 0), "other");
    assert_eq!(plural(Lang::En, 2), "other");
    assert_eq!(plural(Lang::Es, 1), "one");
    assert_eq!(plural(Lang::Es, 5), "other");
    for (n, cat) in [
        (1, "one"),
        (21, "one"),
        (2, "few"),
        (4, "few"),
        (22, "few"),
        (5, "many"),
        (11, "many"),
        (12, "many"),
        (0, "many"),
        (100, "many"),
    ] {
        assert_eq!(plural(Lang::Ru, n), cat, "{n} in Russian");
    }
}

#[wasm_bindgen_test]
fn counting_texts_agree_with_their_number() {
    use mostrador_ui::i18n::{count, N};
    assert_eq!(
        count(Lang::En, N::UnsentChanges, 1),
        "1 unsent change will be lost if you sign out now. Sign out anyway?"
    );
    assert!(count(Lang::En, N::UnsentChanges, 3).starts_with("3 unsent changes will"));
    assert!(count(Lang::Es, N::UnsentChanges, 1).contains("se perderá 1 cambio sin enviar"));
    assert!(count(Lang::Es, N::UnsentChanges, 2).contains("se perderán 2 cambios sin enviar"));
    for (n, text) in [
        (1, "1 изменение ждёт отправки"),
        (3, "3 изменения ждут отправки"),
        (5, "5 изменений ждут отправки"),
        (21, "21 изменение ждёт отправки"),
    ] {
        assert_eq!(count(Lang::Ru, N::WaitingToSend, n), text);
    }
    assert_eq!(
        count(Lang::En, N::WaitingToSend, 1),
        "1 change waiting to send"
    );
    assert_eq!(count(Lang::Es, N::NewMessages, 1), "1 nuevo");
    assert_eq!(count(Lang::Es, N::NewMessages, 2), "2 nuevos");
    // Big counts are formatted for the language.
    assert_eq!(
        count(Lang::En, N::MoreLeft, 1200),
        "Show more (1,200 conversations left)"
    );
    // Every form of every counting text shows the number.
    for key in N::ALL {
        for lang in Lang::ALL {
            for cat in ["one", "few", "many", "other"] {
                assert!(
                    key.form(lang, cat).contains("{n}"),
                    "{key:?} {lang:?} {cat}"
                );
            }
        }
    }
}

#[wasm_bindgen_test]
fn countries_are_named_in_the_ui_language() {
    assert_eq!(fmt::country(Lang::En, "ES"), "Spain");
    assert_eq!(fmt::country(Lang::Es, "ES"), "España");
    assert_eq!(fmt::country(Lang::Ru, "ES"), "Испания");
    assert_eq!(fmt::country(Lang::En, "gb"), "United Kingdom");
    // Not a code: shown as typed, never a panic.
    assert_eq!(fmt::country(Lang::En, "E1"), "E1");
    assert_eq!(fmt::country(Lang::En, ""), "");
    assert_eq!(fmt::country(Lang::En, "Spain"), "Spain");
}

#[wasm_bindgen_test]
fn booking_limits_say_what_to_do_not_that_something_is_taken() {
    for reason in [
        "too_many_upcoming",
        "phone_limit",
        "too_many_unsent_uploads",
        "unsent_uploads_too_large",
    ] {
        for lang in Lang::ALL {
            let err = ApiError::new(ErrorCode::Conflict, "limit")
                .with_details(serde_json::json!({ "reason": reason, "limit": 3 }));
            let text = error_text(lang, &err);
            let generic = error_text(lang, &ApiError::new(ErrorCode::Conflict, "x"));
            assert_ne!(text, generic, "{reason} {lang:?}");
            assert!(!text.contains(reason), "{reason} {lang:?}: {text}");
        }
    }
}

#[wasm_bindgen_test]
fn the_address_cap_is_named_with_its_number() {
    let limit = mostrador_core::profile::MAX_ADDRESSES.to_string();
    for lang in Lang::ALL {
        let err = ApiError::invalid_field("addresses", "too_many");
        let text = error_text(lang, &err);
        assert!(text.contains(&limit), "{lang:?}: {text}");
        assert!(!text.contains("too_many"), "{lang:?}: {text}");
    }
}

mod refresh {
    use mostrador_core::app::{Changes, Delivery, ThreadLine};
    use mostrador_core::chat::MessageKind;
    use mostrador_core::sync::EntityKind;
    use mostrador_ui::app::{bumps, Scope, Watched};
    use mostrador_ui::pages::chat::line_key;
    use uuid::Uuid;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    /// Thread A, thread B, an order and a customer on screen.
    fn on_screen() -> Vec<Watched> {
        vec![
            Watched {
                scope: Scope::Conversation,
                id: id(0xA),
            },
            Watched {
                scope: Scope::Conversation,
                id: id(0xB),
            },
            Watched {
                scope: Scope::Order,
                id: id(0x0),
            },
            Watched {
                scope: Scope::Customer,
                id: id(0xC),
            },
        ]
    }

    #[wasm_bindgen_test]
    fn a_message_reloads_its_thread_and_the_conversation_lists_only() {
        let mut changes = Changes::default();
        changes.message(id(0xA), id(0x1A), None);
        let b = bumps(&changes, &on_screen());
        assert_eq!(
            b.kinds,
            vec![EntityKind::Conversation, EntityKind::Message],
            "lists of conversations reload, orders, profiles and calls do not"
        );
        assert_eq!(b.watched, vec![0], "thread A only: not B, not the order");
    }

    #[wasm_bindgen_test]
    fn a_conversation_change_reaches_its_customers_panel() {
        let mut changes = Changes::default();
        changes.conversation(id(0xB), Some(id(0xC)));
        assert_eq!(bumps(&changes, &on_screen()).watched, vec![1, 3]);
    }

    #[wasm_bindgen_test]
    fn an_order_change_reloads_that_order_and_no_thread() {
        let changes = Changes {
            kinds: vec![EntityKind::Order],
            orders: vec![id(0x0)],
            customers: vec![id(0xD)],
            ..Changes::default()
        };
        let b = bumps(&changes, &on_screen());
        assert_eq!(b.kinds, vec![EntityKind::Order]);
        assert_eq!(b.watched, vec![2]);
        let other = Changes {
            orders: vec![id(0x1)],
            ..changes
        };
        assert!(
            bumps(&other, &on_screen()).watched.is_empty(),
            "another order"
        );
    }

    #[wasm_bindgen_test]
    fn changes_without_owners_reload_every_screen_of_their_kinds() {
        // What the shell sends for an outbox transition today.
        let kinds = vec![
            EntityKind::Conversation,
            EntityKind::Message,
            EntityKind::Callback,
        ];
        let outbox = Changes {
            unscoped: kinds.clone(),
            kinds,
            ..Changes::default()
        };
        let b = bumps(&outbox, &on_screen());
        assert!(!b.kinds.contains(&EntityKind::Order));
        assert!(!b.kinds.contains(&EntityKind::Profile));
        // Both threads, and the customer panel (it lists conversations and
        // calls); never the order.
        assert_eq!(b.watched, vec![0, 1, 3]);
        let all = bumps(&Changes::everything(), &on_screen());
        assert_eq!(all.kinds, EntityKind::ALL.to_vec());
        assert_eq!(all.watched, vec![0, 1, 2, 3]);
        assert_eq!(bumps(&Changes::default(), &on_screen()), Default::default());
    }

    fn line(n: u128, delivery: Delivery) -> ThreadLine {
        ThreadLine {
            id: id(n),
            body: "Where is my parcel?".into(),
            kind: MessageKind::Text,
            mine: true,
            author_name: None,
            created_at: jiff::Timestamp::UNIX_EPOCH,
            delivery,
            attachments: Vec::new(),
        }
    }

    #[wasm_bindgen_test]
    fn a_thread_line_keeps_its_key_until_what_it_shows_changes() {
        let sent = line(1, Delivery::Sent);
        assert_eq!(line_key(&sent), line_key(&sent.clone()));
        let read = line_key(&line(1, Delivery::Read));
        assert_eq!(read.0, sent.id);
        assert_ne!(read, line_key(&sent), "a state change redraws that line");
        assert_ne!(line_key(&line(2, Delivery::Sent)), line_key(&sent));
    }
}

#[wasm_bindgen_test]
fn the_composer_runs_cores_body_check_in_the_users_language() {
    use mostrador_core::chat::MAX_MESSAGE_CHARS;
    use mostrador_ui::pages::chat::composer_problem;
    assert_eq!(composer_problem(Lang::En, "hello", false, false), None);
    assert_eq!(
        composer_problem(Lang::Es, "  ", false, false).as_deref(),
        Some(K::ComposerEmpty.text(Lang::Es))
    );
    assert_eq!(composer_problem(Lang::En, " ", true, false), None);
    assert_eq!(
        composer_problem(Lang::Ru, " ", true, true).as_deref(),
        Some(K::NoteEmpty.text(Lang::Ru))
    );
    let long = "a".repeat(MAX_MESSAGE_CHARS + 1);
    let too_long = composer_problem(Lang::En, &long, false, false).unwrap();
    assert!(
        too_long.contains("10,000") || too_long.contains("10000"),
        "{too_long}"
    );
    // A refused character is named before sending, not after the server
    // refuses the queued message.
    let bell = composer_problem(Lang::Es, "hola \u{7}", false, false).unwrap();
    assert!(bell.contains("caracteres"), "{bell}");
}
