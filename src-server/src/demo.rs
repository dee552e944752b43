//! `mostrador-server seed-demo`: a realistic, deterministic demo data set.
//!
//! A shop with 50 customers, 500 orders with items, shipments and carrier
//! timelines in every state (delayed and returned included), 3 agents and
//! 1 admin, and two weeks of support history: 40 conversations spread over
//! the last 14 days (more of them recent), answered minutes to hours after
//! they were opened, most older ones resolved hours to a day later and
//! rated, some pending or still open, a few waiting for a first answer;
//! callbacks booked for the coming week and some completed (one missed) in
//! the past one. So the metrics show real medians, a satisfaction spread
//! and conversations per day. Orders go through the same ingest code as the
//! shop's webhook, conversations through the chat code, then their times
//! are moved to when they happened. The random choices come from a fixed
//! seed, and times are relative to the moment of seeding. Seeding a
//! database that already has the demo admin does nothing.

use jiff::{Timestamp, ToSpan};
use mostrador_core::auth::Role;
use mostrador_core::callbacks::{
    CallbackChannel, CallbackOutcome, CallbackStatus, RequestCallback, TimeWindow,
};
use mostrador_core::chat::{
    ConversationStatus, MarkMessages, MessageKind, MessageState, OpenConversation, Rating,
    SendMessage, UpdateConversation,
};
use mostrador_core::orders::{
    IngestEvent, IngestKind, OrderItem, PostalAddress, Shipment, TrackingStatus,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

use crate::auth::{hash_password, Actor};
use crate::db::{Db, Tx};
use crate::hours::BusinessHours;
use crate::routes::{accounts, callbacks, chat, orders};

pub const ADMIN_EMAIL: &str = "admin@mostrador.demo";
pub const ADMIN_PASSWORD: &str = "demo-admin-pass";
pub const AGENT_PASSWORD: &str = "demo-agent-pass";
pub const CUSTOMER_PASSWORD: &str = "demo-customer-pass";
pub const AGENTS: [(&str, &str); 3] = [
    ("lucia@mostrador.demo", "Lucía Fernández"),
    ("marco@mostrador.demo", "Marco Rossi"),
    ("olga@mostrador.demo", "Olga Smirnova"),
];

const FIRST: [&str; 25] = [
    "Ana",
    "Javier",
    "Carmen",
    "Pablo",
    "Lucía",
    "Diego",
    "Elena",
    "Sergio",
    "Marta",
    "Hugo",
    "Irina",
    "Dmitri",
    "Natalia",
    "Alexei",
    "Svetlana",
    "Emma",
    "Oliver",
    "Grace",
    "Liam",
    "Chloe",
    "Mateo",
    "Valentina",
    "Nikolai",
    "Sofía",
    "Tomás",
];
const LAST: [&str; 10] = [
    "García",
    "Martínez",
    "López",
    "Ivanova",
    "Petrov",
    "Smith",
    "Brown",
    "Sánchez",
    "Volkova",
    "Moreno",
];
const CITIES: [(&str, &str, &str); 8] = [
    ("Madrid", "28013", "ES"),
    ("Barcelona", "08001", "ES"),
    ("Sevilla", "41001", "ES"),
    ("Valencia", "46001", "ES"),
    ("Moscow", "101000", "RU"),
    ("Saint Petersburg", "190000", "RU"),
    ("London", "SW1A 1AA", "GB"),
    ("Lisbon", "1100-148", "PT"),
];
const CATALOG: [(&str, &str, i64); 12] = [
    ("TEE-ORG", "Organic cotton T-shirt", 1999),
    ("HOOD-GRY", "Grey hoodie", 4599),
    ("SNK-RUN", "Running sneakers", 8999),
    ("BAG-CNV", "Canvas tote bag", 1499),
    ("MUG-CER", "Ceramic mug", 1299),
    ("LAMP-DSK", "Desk lamp", 3499),
    ("BOOK-CK", "Cookbook: Tapas", 2499),
    ("HDP-BT", "Bluetooth headphones", 6999),
    ("SCF-WL", "Wool scarf", 2999),
    ("CASE-PH", "Phone case", 1599),
    ("BTL-STL", "Steel water bottle", 2199),
    ("PLN-MON", "Monstera plant", 3299),
];
const PLACES: [&str; 8] = [
    "Madrid hub",
    "Zaragoza sorting centre",
    "Barcelona depot",
    "Moscow sorting centre",
    "Vnukovo customs",
    "London Heathrow hub",
    "Lisbon depot",
    "Local delivery office",
];
const CARRIERS: [&str; 4] = ["Correos", "SEUR", "Russian Post", "DHL"];

const MINUTE: i64 = 60_000;
const DAY: i64 = 24 * 60 * MINUTE;

/// The app language of demo customer `i`, by their city.
fn customer_lang(i: usize) -> &'static str {
    match CITIES[i % CITIES.len()].2 {
        "ES" => "es",
        "RU" => "ru",
        _ => "en",
    }
}

/// What a customer asks and how the conversation goes on.
struct Ask {
    subject: &'static str,
    subject_es: &'static str,
    body: &'static str,
    /// The agent's first answer; `{name}` is the customer's first name.
    reply: &'static str,
    note: &'static str,
    follow_up: &'static str,
    answer: &'static str,
}

const ASKS: [Ask; 5] = [
    Ask {
        subject: "Where is my parcel?",
        subject_es: "¿Dónde está mi pedido?",
        body: "My order hasn't moved for days, it's late.",
        reply: "Hi {name}, thanks for writing. I've checked with the carrier: your parcel is on its way and should arrive within two days.",
        note: "Carrier confirmed the new delivery date.",
        follow_up: "Thanks! Will I get a new tracking link?",
        answer: "The tracking link stays the same; it shows the new date already.",
    },
    Ask {
        subject: "Wrong size",
        subject_es: "Talla equivocada",
        body: "I received the wrong size, can I exchange it?",
        reply: "Hi {name}, sorry about that. Yes: I've sent you a free return label by email, and the right size goes out as soon as we scan the return.",
        note: "Exchange approved, label sent.",
        follow_up: "Do I need the original box?",
        answer: "Any sturdy box will do.",
    },
    Ask {
        subject: "Return label",
        subject_es: "Etiqueta de devolución",
        body: "How do I get a return label?",
        reply: "Hi {name}, you'll find it under Orders, then Return. I've also attached one to your order so you can print it now.",
        note: "Return within 30 days, no questions.",
        follow_up: "Printed it, thank you. When do I get my money back?",
        answer: "Within 5 working days of the return reaching us.",
    },
    Ask {
        subject: "Damaged item",
        subject_es: "Artículo dañado",
        body: "The mug arrived broken. Could you send a new one?",
        reply: "Hi {name}, I'm sorry it arrived like that. A replacement is on its way today; no need to send the broken one back.",
        note: "Replacement shipped, carrier damage claim opened.",
        follow_up: "Great, can I have the tracking number?",
        answer: "It's in your order now, under the new shipment.",
    },
    Ask {
        subject: "Change delivery address",
        subject_es: "Cambiar la dirección de entrega",
        body: "I moved last week. Can you deliver to my new address?",
        reply: "Hi {name}, if it hasn't left the warehouse yet I can change it. Please add the new address in your profile and tell me when it's there.",
        note: "Address change requested before dispatch.",
        follow_up: "Done, it's the one marked as default.",
        answer: "Changed. The parcel will go to the new address.",
    },
];

/// The agents' first replies, minutes after a conversation was opened.
const FIRST_REPLY_MINUTES: [i64; 12] = [3, 6, 9, 14, 20, 27, 38, 52, 75, 110, 170, 260];

/// Scores and comments of the ratings, drawn at random.
const RATINGS: [(i64, &str); 12] = [
    (5, "Quick and friendly"),
    (5, "Solved in minutes, thank you"),
    (4, "Good help, a bit slow"),
    (4, "Friendly, the parcel came a day late"),
    (5, "Great service"),
    (3, "OK in the end"),
    (4, "Helpful"),
    (2, "Took too long to get an answer"),
    (5, "Perfect"),
    (4, "Fine"),
    (1, "Still waiting for my refund"),
    (3, "Had to ask twice"),
];

/// How a demo conversation ends up (times in unix ms).
enum End {
    Open,
    Pending(i64),
    /// When, and the customer's rating if they gave one.
    Resolved(i64, Option<(i64, &'static str)>),
}

/// One demo conversation: whose, about which of their orders, handled by
/// which agent, and when each step happened (unix ms).
struct Plan {
    customer: usize,
    order: usize,
    agent: usize,
    created: i64,
    first_reply: Option<i64>,
    note: bool,
    /// The customer writes again, and when (if) the agent answers.
    follow_up: Option<(i64, Option<i64>)>,
    /// Assigned before anyone answered.
    assigned: bool,
    end: End,
}

/// The support history of the last 14 days, newest first. Lucía (agent 0)
/// keeps at most two conversations that are not resolved, and in each she
/// spoke last, so she can always take a new one and a new one leads her
/// inbox.
fn history(rng: &mut StdRng, now: i64) -> Vec<Plan> {
    // Ana's open question: 40 minutes old, nobody has answered yet.
    let mut out = vec![Plan {
        customer: 0,
        order: 3,
        agent: 0,
        created: now - 40 * MINUTE,
        first_reply: None,
        note: false,
        follow_up: None,
        assigned: false,
        end: End::Open,
    }];
    let askers: Vec<usize> = (1..50).filter(|c| c % 5 != 4).collect();
    let n = askers.len() as i64 + 1;
    let mut lucia_open = 0;
    for (k, &customer) in askers.iter().enumerate() {
        // Denser towards now: the k-th newest is (k+1)²/n² of 14 days old.
        let k = k as i64;
        let age = 14 * DAY * (k + 1) * (k + 1) / (n * n) + rng.gen_range(0..90) * MINUTE;
        let created = now - age;
        let order = rng.gen_range(0..10);
        let mut agent = rng.gen_range(0..3);
        let first =
            created + FIRST_REPLY_MINUTES[rng.gen_range(0..FIRST_REPLY_MINUTES.len())] * MINUTE;
        let note = rng.gen_range(0..10) < 3;
        let asks_again = rng.gen_range(0..10) < 4;
        let asked = first + rng.gen_range(10..240) * MINUTE;
        let answered = asked + rng.gen_range(5..90) * MINUTE;
        let closes = rng.gen_range(0..4);
        let after = rng.gen_range(20..1440) * MINUTE;
        let rating = (rng.gen_range(0..2) == 0).then(|| RATINGS[rng.gen_range(0..RATINGS.len())]);
        if k < 2 || first > now - 5 * MINUTE {
            // Not answered yet; the second newest already has an agent.
            out.push(Plan {
                customer,
                order,
                agent: 1,
                created,
                first_reply: None,
                note: false,
                follow_up: None,
                assigned: k == 1,
                end: End::Open,
            });
            continue;
        }
        let follow_up = (asks_again && asked < now - 2 * MINUTE)
            .then(|| (asked, (answered < now - MINUTE).then_some(answered)));
        let last = match follow_up {
            Some((asked, answered)) => answered.unwrap_or(asked),
            None => first,
        };
        let done = last + after;
        let end = if done >= now {
            End::Open
        } else if age > 3 * DAY || (age > DAY && closes < 2) {
            End::Resolved(done, rating)
        } else if closes == 3 {
            End::Pending(last + after.min(60 * MINUTE))
        } else {
            End::Open
        };
        let customer_last = matches!(follow_up, Some((_, None)));
        if agent == 0 && !matches!(end, End::Resolved(..)) {
            if lucia_open >= 2 || customer_last {
                agent = 1 + (k as usize) % 2;
            } else {
                lucia_open += 1;
            }
        }
        out.push(Plan {
            customer,
            order,
            agent,
            created,
            first_reply: Some(first),
            note,
            follow_up,
            assigned: false,
            end,
        });
    }
    out
}

/// Adds a message or note as `actor`; its id.
async fn say(
    tx: &mut Tx,
    actor: &Actor,
    conversation: Uuid,
    body: &str,
    kind: MessageKind,
) -> anyhow::Result<Uuid> {
    let id = Uuid::new_v4();
    let message = SendMessage {
        id,
        body: body.into(),
        kind,
        attachment_ids: Vec::new(),
    };
    chat::send(tx, actor, conversation, &message).await?;
    Ok(id)
}

/// The final state of each demo order, by share.
fn final_status(rng: &mut StdRng) -> TrackingStatus {
    match rng.gen_range(0..100) {
        0..=44 => TrackingStatus::Delivered,
        45..=59 => TrackingStatus::InTransit,
        60..=64 => TrackingStatus::OutForDelivery,
        65..=69 => TrackingStatus::Shipped,
        70..=74 => TrackingStatus::Packed,
        75..=77 => TrackingStatus::Paid,
        78..=79 => TrackingStatus::Placed,
        80..=91 => TrackingStatus::Delayed,
        _ => TrackingStatus::Returned,
    }
}

/// The timeline that leads to `last`: the happy path up to it; a delay
/// strikes in transit; a return follows delivery.
fn path_to(last: TrackingStatus) -> Vec<TrackingStatus> {
    use TrackingStatus::*;
    let happy = [
        Placed,
        Paid,
        Packed,
        Shipped,
        InTransit,
        OutForDelivery,
        Delivered,
    ];
    let (upto, extra) = match last {
        Delayed => (InTransit, Some(Delayed)),
        Returned => (Delivered, Some(Returned)),
        other => (other, None),
    };
    let end = happy.iter().position(|s| *s == upto).unwrap_or(0);
    happy[..=end].iter().copied().chain(extra).collect()
}

/// Seeds the demo data; returns `false` when it was already there.
pub async fn seed(db: &Db, hours: &BusinessHours) -> anyhow::Result<bool> {
    let exists: Option<String> = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(ADMIN_EMAIL)
        .fetch_optional(db.pool())
        .await?;
    if exists.is_some() {
        return Ok(false);
    }
    let mut rng = StdRng::seed_from_u64(20261123);
    let admin_hash = hash_password(ADMIN_PASSWORD.into()).await?;
    let agent_hash = hash_password(AGENT_PASSWORD.into()).await?;
    let customer_hash = hash_password(CUSTOMER_PASSWORD.into()).await?;
    let now = Timestamp::now();

    let mut tx = db.begin_write().await?;
    accounts::insert_user(
        &mut tx,
        ADMIN_EMAIL,
        &admin_hash,
        "Admin",
        Role::Admin,
        "en",
    )
    .await?;
    let mut agents = Vec::new();
    for (email, name) in AGENTS {
        let id =
            accounts::insert_user(&mut tx, email, &agent_hash, name, Role::Agent, "es").await?;
        agents.push(Actor {
            user_id: id,
            role: Role::Agent,
            session_id: Uuid::nil(),
            display_name: name.into(),
        });
    }
    let mut customers = Vec::new();
    for i in 0..50 {
        let first = FIRST[i % FIRST.len()];
        let last = LAST[(i * 7) % LAST.len()];
        let email = if i == 0 {
            "ana@mostrador.demo".to_owned()
        } else {
            format!("customer{i:02}@mostrador.demo")
        };
        let lang = customer_lang(i);
        let name = format!("{first} {last}");
        let id =
            accounts::insert_user(&mut tx, &email, &customer_hash, &name, Role::Customer, lang)
                .await?;
        // As at registration: the profile is in the feed, so staff devices
        // know every customer by name (the call queue, the customer panel).
        crate::feed::record(
            &mut tx,
            crate::feed::Change::upsert(crate::feed::Entity::Profile, id, Some(id)),
        )
        .await?;
        customers.push((
            Actor {
                user_id: id,
                role: Role::Customer,
                session_id: Uuid::nil(),
                display_name: name.clone(),
            },
            email,
            name,
            i,
        ));
    }

    let mut order_ids = Vec::new();
    let mut n = 10_000;
    for (_, email, name, i) in &customers {
        let (city, postal, country) = CITIES[i % CITIES.len()];
        let address = PostalAddress {
            name: name.clone(),
            line1: format!(
                "{} {}",
                [
                    "Calle Mayor",
                    "Avenida del Puerto",
                    "Tverskaya ulitsa",
                    "High Street"
                ][i % 4],
                1 + i
            ),
            line2: None,
            city: city.into(),
            region: None,
            postal_code: postal.into(),
            country: country.into(),
        };
        let mut mine = Vec::new();
        for k in 0..10 {
            n += 1;
            let number = format!("MS-{n}");
            let last = if *i == 0 && k == 0 {
                TrackingStatus::Delayed
            } else {
                final_status(&mut rng)
            };
            let steps = path_to(last);
            let start = now
                - (rng.gen_range(1..60) * 24 + rng.gen_range(0..24)).hours()
                - (steps.len() as i64 * 20).hours();
            let items: Vec<OrderItem> = (0..rng.gen_range(1..4))
                .map(|_| {
                    let (sku, item, price) = CATALOG[rng.gen_range(0..CATALOG.len())];
                    OrderItem {
                        sku: sku.into(),
                        name: item.into(),
                        quantity: rng.gen_range(1..3),
                        unit_price_minor: price,
                    }
                })
                .collect();
            let total = items
                .iter()
                .map(|it| it.quantity * it.unit_price_minor)
                .sum::<i64>()
                + 495;
            let currency = if country == "RU" {
                "RUB"
            } else if country == "GB" {
                "GBP"
            } else {
                "EUR"
            };
            let snapshot = IngestEvent {
                event_id: format!("{number}-order"),
                occurred_at: start,
                order_number: number.clone(),
                kind: IngestKind::OrderUpserted {
                    customer_email: email.clone(),
                    placed_at: start,
                    total_minor: if currency == "RUB" { total * 90 } else { total },
                    currency: currency.into(),
                    items,
                    shipping_address: Some(address.clone()),
                },
            };
            let order_id = orders::apply_ingest(&mut tx, &snapshot).await?.order_id;
            let carrier = CARRIERS[rng.gen_range(0..CARRIERS.len())];
            let tracking_number = format!(
                "{}{:09}",
                &carrier[..2].to_uppercase(),
                rng.gen_range(0..1_000_000_000u32)
            );
            let mut at = start;
            for (s, status) in steps.iter().enumerate() {
                at += rng.gen_range(2..20).hours();
                let shipped = matches!(status, TrackingStatus::Shipped);
                let eta = start + ((steps.len() as i64 + 2) * 20).hours();
                let event = IngestEvent {
                    event_id: format!("{number}-{s}"),
                    occurred_at: at,
                    order_number: number.clone(),
                    kind: IngestKind::Tracking {
                        status: *status,
                        place: (s >= 3).then(|| PLACES[rng.gen_range(0..PLACES.len())].to_owned()),
                        description: match status {
                            TrackingStatus::Delayed => {
                                Some("Held at the sorting centre: weather delay".into())
                            }
                            TrackingStatus::Returned => Some("Returned to sender".into()),
                            _ => None,
                        },
                        shipment: shipped.then(|| Shipment {
                            carrier: carrier.into(),
                            tracking_number: tracking_number.clone(),
                            eta: Some(eta),
                        }),
                    },
                };
                orders::apply_ingest(&mut tx, &event).await?;
            }
            mine.push((order_id, last));
        }
        order_ids.push(mine);
    }

    // The support history: conversations over the last two weeks.
    let history = history(&mut rng, now.as_millisecond());
    for plan in &history {
        let (customer, _, _, i) = &customers[plan.customer];
        let ask = &ASKS[(plan.customer + i) % ASKS.len()];
        let (order_id, status) = order_ids[plan.customer][plan.order];
        let subject = if matches!(status, TrackingStatus::Delayed) {
            "Order delayed"
        } else if customer_lang(*i) == "es" {
            ask.subject_es
        } else {
            ask.subject
        };
        let agent = &agents[plan.agent];
        let conv = Uuid::new_v4();
        let mut times = Vec::new();
        let question = Uuid::new_v4();
        chat::open(
            &mut tx,
            customer,
            &OpenConversation {
                id: conv,
                order_id: Some(order_id),
                subject: subject.into(),
                message_id: question,
                body: ask.body.into(),
            },
            &chat::Assignment::default(),
        )
        .await?;
        times.push((question, plan.created));
        let mut last_customer = question;
        let mut last_agent = None;
        if let Some(at) = plan.first_reply {
            let first_name = customer.display_name.split(' ').next().unwrap_or("");
            let reply = say(
                &mut tx,
                agent,
                conv,
                &ask.reply.replace("{name}", first_name),
                MessageKind::Text,
            )
            .await?;
            times.push((reply, at));
            last_agent = Some(reply);
            if plan.note {
                let note = say(&mut tx, agent, conv, ask.note, MessageKind::Note).await?;
                times.push((note, at + MINUTE));
            }
        }
        if let Some((asked, answered)) = plan.follow_up {
            let m = say(&mut tx, customer, conv, ask.follow_up, MessageKind::Text).await?;
            times.push((m, asked));
            last_customer = m;
            if let Some(at) = answered {
                let m = say(&mut tx, agent, conv, ask.answer, MessageKind::Text).await?;
                times.push((m, at));
                last_agent = Some(m);
            }
        }
        if plan.assigned && plan.first_reply.is_none() {
            chat::update_in(
                &mut tx,
                agent,
                conv,
                &UpdateConversation {
                    status: None,
                    assigned_agent_id: Some(Some(agent.user_id)),
                },
            )
            .await?;
        }
        if last_agent.is_some() {
            let read = MarkMessages {
                up_to: last_customer,
                state: MessageState::Read,
            };
            chat::mark(&mut tx, agent, conv, &read).await?;
        }
        let end = match plan.end {
            End::Open => None,
            End::Pending(at) => Some((ConversationStatus::Pending, at)),
            End::Resolved(at, _) => Some((ConversationStatus::Resolved, at)),
        };
        if let Some((status, _)) = end {
            chat::update_in(
                &mut tx,
                agent,
                conv,
                &UpdateConversation {
                    status: Some(status),
                    assigned_agent_id: None,
                },
            )
            .await?;
        }
        if let (End::Resolved(_, Some((score, comment))), Some(up_to)) = (&plan.end, last_agent) {
            let read = MarkMessages {
                up_to,
                state: MessageState::Read,
            };
            chat::mark(&mut tx, customer, conv, &read).await?;
            let rating = Rating {
                score: *score,
                comment: Some((*comment).into()),
            };
            chat::rate(&mut tx, customer, conv, &rating).await?;
        }
        // Written just now; moved to when they happened.
        for (id, at) in &times {
            sqlx::query("UPDATE messages SET created_at = $1 WHERE id = $2")
                .bind(at)
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
        }
        let last_message = times
            .iter()
            .map(|(_, at)| *at)
            .max()
            .unwrap_or(plan.created);
        let updated = end.map_or(last_message, |(_, at)| at.max(last_message));
        sqlx::query(
            "UPDATE conversations SET created_at = $1, last_message_at = $2, updated_at = $3,
                resolved_at = CASE WHEN resolved_at IS NULL THEN NULL ELSE $3 END
             WHERE id = $4",
        )
        .bind(plan.created)
        .bind(last_message)
        .bind(updated)
        .bind(conv.to_string())
        .execute(&mut *tx)
        .await?;
    }
    // A few callbacks booked in the coming week.
    for (idx, (customer, _, _, i)) in customers
        .iter()
        .enumerate()
        .filter(|(idx, _)| idx % 10 == 1)
    {
        let start = now + (24 * (1 + (idx as i64 % 3))).hours();
        let req = RequestCallback {
            id: Uuid::new_v4(),
            channel: if i % 2 == 0 {
                CallbackChannel::Video
            } else {
                CallbackChannel::Voice
            },
            phone: Some(format!("+3491{:07}", 1_000_000 + idx)),
            topic: "Question about my order".into(),
            order_id: Some(order_ids[idx][0].0),
            time_zone: "Europe/Madrid".into(),
            windows: vec![TimeWindow {
                start,
                end: start + (7 * 24).hours(),
            }],
        };
        callbacks::request(&mut tx, hours, customer, &req).await?;
    }
    // Calls of the past week: booked, then completed (one missed).
    for (n, (idx, (customer, _, _, _))) in customers
        .iter()
        .enumerate()
        .filter(|(idx, _)| idx % 10 == 6)
        .enumerate()
    {
        let start = now + 24.hours();
        let req = RequestCallback {
            id: Uuid::new_v4(),
            channel: CallbackChannel::Voice,
            phone: Some(format!("+3493{:07}", 2_000_000 + idx)),
            topic: ["Delivery address change", "Refund status", "Damaged item"][n % 3].into(),
            order_id: Some(order_ids[idx][1].0),
            time_zone: "Europe/Madrid".into(),
            windows: vec![TimeWindow {
                start,
                end: start + (7 * 24).hours(),
            }],
        };
        callbacks::request(&mut tx, hours, customer, &req).await?;
        let missed = n == 2;
        let outcome = CallbackOutcome {
            status: if missed {
                CallbackStatus::Missed
            } else {
                CallbackStatus::Completed
            },
            note: Some(
                if missed {
                    "No answer, voicemail left"
                } else {
                    "Sorted out on the phone"
                }
                .into(),
            ),
        };
        callbacks::outcome_in(&mut tx, &agents[n % agents.len()], req.id, &outcome).await?;
        // Moved back to a slot 2 to 6 days ago, at the same time of day.
        let slot: i64 = sqlx::query_scalar("SELECT slot_start FROM callbacks WHERE id = $1")
            .bind(req.id.to_string())
            .fetch_one(&mut *tx)
            .await?;
        let days_back = (slot - now.as_millisecond()).div_euclid(DAY) + 2 + n as i64;
        let shift = days_back * DAY;
        sqlx::query(
            "UPDATE callbacks SET slot_start = slot_start - $1, slot_end = slot_end - $1,
                created_at = slot_start - $1 - $2, updated_at = slot_end - $1 + $3 WHERE id = $4",
        )
        .bind(shift)
        .bind(2 * DAY)
        .bind(10 * MINUTE)
        .bind(req.id.to_string())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(true)
}
