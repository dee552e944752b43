//! `mostrador-server seed-demo`: a realistic, deterministic demo data set.
//!
//! A shop with 50 customers, 500 orders with items, shipments and carrier
//! timelines in every state (delayed and returned included), open and
//! resolved conversations with ratings, 3 agents and 1 admin. Orders go
//! through the same ingest code as the shop's webhook. Seeding a database
//! that already has the demo admin does nothing.

use jiff::{Timestamp, ToSpan};
use mostrador_core::auth::Role;
use mostrador_core::callbacks::{CallbackChannel, RequestCallback, TimeWindow};
use mostrador_core::chat::{MessageKind, OpenConversation, SendMessage};
use mostrador_core::orders::{
    IngestEvent, IngestKind, OrderItem, PostalAddress, Shipment, TrackingStatus,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

use crate::auth::{hash_password, Actor};
use crate::db::Db;
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
        let lang = match CITIES[i % CITIES.len()].2 {
            "ES" => "es",
            "RU" => "ru",
            _ => "en",
        };
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
                at = at + rng.gen_range(2..20).hours();
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

    // Conversations: every third customer asked about an order.
    let questions = [
        (
            "Where is my parcel?",
            "My order hasn't moved for days, it's late.",
            "¿Dónde está mi pedido?",
        ),
        (
            "Wrong size",
            "I received the wrong size, can I exchange it?",
            "Talla equivocada",
        ),
        (
            "Return label",
            "How do I get a return label?",
            "Etiqueta de devolución",
        ),
    ];
    for (idx, (customer, _, _, i)) in customers.iter().enumerate().filter(|(idx, _)| idx % 3 == 0) {
        let (order_id, status) = order_ids[idx][rng.gen_range(0..10)];
        let (subject, body, subject_es) = questions[i % questions.len()];
        let conv = Uuid::new_v4();
        let subject = if matches!(status, TrackingStatus::Delayed) {
            "Order delayed"
        } else if i % 2 == 0 {
            subject_es
        } else {
            subject
        };
        chat::open(
            &mut tx,
            customer,
            &OpenConversation {
                id: conv,
                order_id: Some(order_id),
                subject: subject.into(),
                message_id: Uuid::new_v4(),
                body: body.into(),
            },
            &chat::Assignment::default(),
        )
        .await?;
        if i % 2 == 1 || idx == 0 {
            continue; // left open, waiting for an agent
        }
        let agent = &agents[idx % agents.len()];
        let reply = format!(
            "Hi {}, thanks for writing. I've checked your order and I'm on it.",
            customer.display_name.split(' ').next().unwrap_or("")
        );
        chat::send(
            &mut tx,
            agent,
            conv,
            &SendMessage {
                id: Uuid::new_v4(),
                body: reply,
                kind: MessageKind::Text,
                attachment_ids: Vec::new(),
            },
        )
        .await?;
        chat::send(
            &mut tx,
            agent,
            conv,
            &SendMessage {
                id: Uuid::new_v4(),
                body: "Carrier confirmed the new delivery date.".into(),
                kind: MessageKind::Note,
                attachment_ids: Vec::new(),
            },
        )
        .await?;
        if idx % 4 == 0 {
            sqlx::query("UPDATE conversations SET status = 'resolved', rating_score = $1, rating_comment = $2 WHERE id = $3")
                .bind(rng.gen_range(3..6i64))
                .bind("Quick and friendly")
                .bind(conv.to_string())
                .execute(&mut *tx)
                .await?;
        }
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
    tx.commit().await?;
    Ok(true)
}
