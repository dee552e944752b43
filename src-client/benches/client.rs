//! `cargo xtask bench client`: the engine against the real server (both
//! in this process, release build), on real SQLite files.
//!
//! Measures (printed as Markdown table rows): initial sync of 1,000 orders
//! and 50,000 messages, and its ratio to inserting the same rows into SQLite
//! in one transaction; a no-op incremental sync; cold open of the store and
//! the first page of conversations; draining 1,000 queued messages.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use jiff::{Timestamp, ToSpan};
use mostrador_client::store::Store;
use mostrador_client::{ClientConfig, Engine};
use mostrador_core::auth::Role;
use mostrador_core::chat::{Conversation, MessageKind, OpenConversation, SendMessage};
use mostrador_core::orders::{IngestEvent, IngestKind, OrderItem};
use mostrador_core::sync::MutationOp;
use mostrador_server::auth::Actor;
use mostrador_server::routes::{accounts, chat, orders};
use mostrador_server::{http, prepare, ServerConfig};
use sqlx::Row;
use uuid::Uuid;

const ORDERS: usize = 1_000;
const CONVERSATIONS: usize = 50;
const MESSAGES: usize = 50_000;

/// A plain SQLite connection to a store file, for the baseline.
async fn raw(path: &std::path::Path) -> Result<sqlx::SqlitePool, sqlx::Error> {
    sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display())).await
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (listener, state) = prepare(ServerConfig::for_data_dir(&dir.path().join("server"))).await?;
    let addr = listener.local_addr()?;
    let router = http::router(state.clone());
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });

    // One customer with 1,000 orders and 50,000 messages in 50 conversations.
    let t = Instant::now();
    let hash = mostrador_server::auth::hash_password("bench password 1".into()).await?;
    let mut tx = state.db.begin_write().await?;
    let id = accounts::insert_user(
        &mut tx,
        "bench@example.com",
        &hash,
        "Bench",
        Role::Customer,
        "en",
    )
    .await?;
    let (token, ..) = accounts::create_session(&mut tx, &state, id, None).await?;
    let now = Timestamp::now();
    for i in 0..ORDERS {
        let at = now - (i as i64).hours();
        orders::apply_ingest(
            &mut tx,
            &IngestEvent {
                event_id: format!("o{i}"),
                occurred_at: at,
                order_number: format!("B-{i}"),
                kind: IngestKind::OrderUpserted {
                    customer_email: "bench@example.com".into(),
                    placed_at: at,
                    total_minor: 1999,
                    currency: "EUR".into(),
                    items: vec![OrderItem {
                        sku: "S".into(),
                        name: "Thing".into(),
                        quantity: 1,
                        unit_price_minor: 1999,
                    }],
                    shipping_address: None,
                },
            },
        )
        .await?;
    }
    tx.commit().await?;
    let me = Actor {
        user_id: id,
        role: Role::Customer,
        session_id: Uuid::nil(),
        display_name: "Bench".into(),
    };
    let mut convs = Vec::new();
    // Nobody is on duty: the bench's conversations stay unassigned.
    let nobody = chat::Assignment {
        available: Vec::new(),
        max_open: 0,
    };
    let mut tx = state.db.begin_write().await?;
    for c in 0..CONVERSATIONS {
        let conv = Uuid::new_v4();
        chat::open(
            &mut tx,
            &me,
            &OpenConversation {
                id: conv,
                order_id: None,
                subject: format!("Question {c}"),
                message_id: Uuid::new_v4(),
                body: "hi".into(),
            },
            &nobody,
        )
        .await?;
        convs.push(conv);
    }
    for m in CONVERSATIONS..MESSAGES {
        let msg = SendMessage {
            id: Uuid::new_v4(),
            body: format!("message {m} with some ordinary text"),
            kind: MessageKind::Text,
            attachment_ids: vec![],
        };
        chat::send(&mut tx, &me, convs[m % CONVERSATIONS], &msg).await?;
        if m % 5000 == 0 {
            tx.commit().await?;
            tx = state.db.begin_write().await?;
        }
    }
    tx.commit().await?;
    eprintln!("bench: seeded in {:.1?}", t.elapsed());

    let config = ClientConfig::new(format!("http://{addr}"));
    let store_path = dir.path().join("app.sqlite3");
    let app = Engine::open(&config, &store_path).await?;
    app.api().set_token(Some(token.clone()));

    let t = Instant::now();
    let items = app.pull().await?;
    let initial = t.elapsed();

    // Baseline: the same rows into a fresh store in one transaction, with
    // plain SQL on the files (the engine's store exposes no SQL; this is
    // what SQLite alone costs).
    let rows = sqlx::query("SELECT kind, id, parent_id, sort_key, json FROM entities")
        .fetch_all(&raw(&store_path).await?)
        .await?;
    let baseline_path = dir.path().join("baseline.sqlite3");
    Store::open(&baseline_path).await?.close().await;
    let baseline_pool = raw(&baseline_path).await?;
    let t = Instant::now();
    let mut btx = baseline_pool.begin().await?;
    for r in &rows {
        sqlx::query(
            "INSERT INTO entities (kind, id, parent_id, sort_key, json) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(r.get::<String, _>("kind"))
        .bind(r.get::<String, _>("id"))
        .bind(r.get::<Option<String>, _>("parent_id"))
        .bind(r.get::<i64, _>("sort_key"))
        .bind(r.get::<String, _>("json"))
        .execute(&mut *btx)
        .await?;
    }
    btx.commit().await?;
    let baseline = t.elapsed();

    let mut noop = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        app.pull().await?;
        noop.push(ms(t.elapsed()));
    }

    drop(app);
    let mut cold = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        let store = Store::open(&store_path).await?;
        let first: Vec<Conversation> = store.list(None).await?;
        assert_eq!(first.len(), CONVERSATIONS);
        cold.push(ms(t.elapsed()));
        store.close().await;
    }

    let app = Engine::open(&config, &store_path).await?;
    app.api().set_token(Some(token));
    for i in 0..1000 {
        app.enqueue(MutationOp::SendMessage {
            conversation_id: convs[i % CONVERSATIONS],
            message: SendMessage {
                id: Uuid::new_v4(),
                body: format!("queued {i}"),
                kind: MessageKind::Text,
                attachment_ids: vec![],
            },
        })
        .await?;
    }
    let t = Instant::now();
    let report = app.push_pending().await?;
    let drain = t.elapsed();
    assert_eq!(report.applied, 1000);

    println!("| initial sync: {ORDERS} orders + {MESSAGES} messages ({items} items, pages of 500) | {:.2} s; {:.1}× a one-transaction insert of the same rows ({:.2} s) |", initial.as_secs_f64(), initial.as_secs_f64() / baseline.as_secs_f64(), baseline.as_secs_f64());
    println!(
        "| no-op incremental sync (median of 20) | {:.2} ms |",
        median(noop)
    );
    println!(
        "| cold open of the store + first page of conversations (median of 10) | {:.2} ms |",
        median(cold)
    );
    println!(
        "| outbox drain: 1,000 queued messages after reconnect | {:.2} s ({:.0} msg/s) |",
        drain.as_secs_f64(),
        1000.0 / drain.as_secs_f64()
    );
    Ok(())
}
