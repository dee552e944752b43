//! `cargo xtask bench client`: the engine against the real server (both
//! in this process, release build), on real SQLite files, over one
//! customer's 1,000 orders and 50,000 messages in 50 conversations.
//!
//! Measures (printed as Markdown table rows with the goal and a verdict):
//! the initial sync (the snapshot, then the feed from its cursor) and the
//! items it carried, against inserting the same rows into every table the
//! sync writes in one transaction, and, for comparison, the same sync
//! through the feed alone (the engine before the snapshot); a no-op
//! incremental sync; the cold open of the home screen (open the engine on
//! its store, then what the home screen asks for on start: the signed-in
//! user and `Engine::home`, the Tauri `session` and `home` commands);
//! draining 1,000 queued messages.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use jiff::{Timestamp, ToSpan};
use mostrador_client::store::Store;
use mostrador_client::{ClientConfig, Engine};
use mostrador_core::auth::{LoginRequest, Role};
use mostrador_core::chat::{MessageKind, OpenConversation, SendMessage};
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

/// The 1-minute load average (the figures are noisy when it is high).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
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

    let load_before = load_average();
    let config = ClientConfig::new(format!("http://{addr}"));
    let store_path = dir.path().join("app.sqlite3");
    let app = Engine::open(&config, &store_path).await?;
    app.login(&LoginRequest {
        email: "bench@example.com".into(),
        password: "bench password 1".into(),
        device_name: None,
    })
    .await?;

    // The engine's initial sync: the snapshot, then the feed from its cursor.
    let t = Instant::now();
    let items = app.pull().await?;
    let initial = t.elapsed();
    let pool = raw(&store_path).await?;
    let entities: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM entities")
        .fetch_one(&pool)
        .await?;

    // For comparison, in the same sitting: the feed alone from 0, pages of
    // 500, each applied as the engine did before the snapshot.
    let feed_store = Store::open(&dir.path().join("feed.sqlite3")).await?;
    let t = Instant::now();
    let (mut cursor, mut feed_items) = (0, 0);
    loop {
        let page = app.api().sync(cursor, 500).await?;
        feed_store.apply_page(&page).await?;
        feed_items += page.items.len();
        cursor = page.cursor;
        if !page.has_more {
            break;
        }
    }
    let feed_alone = t.elapsed();
    feed_store.close().await;

    // Baseline: the same rows into a fresh store in one transaction, into
    // every table the sync writes (entities, conversation activity, the
    // cursor), with plain SQL on the files (the engine's store exposes no
    // SQL; this is what SQLite through sqlx alone costs).
    let rows = sqlx::query("SELECT kind, id, parent_id, sort_key, json FROM entities")
        .fetch_all(&pool)
        .await?;
    let activity = sqlx::query(
        "SELECT conversation_id, customer_at, staff_at, customer_name FROM conversation_activity",
    )
    .fetch_all(&pool)
    .await?;
    pool.close().await;
    let baseline_path = dir.path().join("baseline.sqlite3");
    Store::open(&baseline_path).await?.close().await;
    let baseline_pool = raw(&baseline_path).await?;
    let t = Instant::now();
    let mut btx = baseline_pool.begin().await?;
    // Multi-row statements of 100 rows, as fast as this connection inserts
    // (one call per row would measure sqlx's per-call hand-off instead).
    for chunk in rows.chunks(100) {
        let sql = format!(
            "INSERT INTO entities (kind, id, parent_id, sort_key, json) VALUES {}",
            vec!["(?, ?, ?, ?, ?)"; chunk.len()].join(", ")
        );
        let mut q = sqlx::query(&sql);
        for r in chunk {
            q = q
                .bind(r.get::<String, _>("kind"))
                .bind(r.get::<String, _>("id"))
                .bind(r.get::<Option<String>, _>("parent_id"))
                .bind(r.get::<i64, _>("sort_key"))
                .bind(r.get::<String, _>("json"));
        }
        q.execute(&mut *btx).await?;
    }
    for chunk in activity.chunks(100) {
        let sql = format!(
            "INSERT INTO conversation_activity (conversation_id, customer_at, staff_at, customer_name) VALUES {}",
            vec!["(?, ?, ?, ?)"; chunk.len()].join(", ")
        );
        let mut q = sqlx::query(&sql);
        for r in chunk {
            q = q
                .bind(r.get::<String, _>("conversation_id"))
                .bind(r.get::<Option<i64>, _>("customer_at"))
                .bind(r.get::<Option<i64>, _>("staff_at"))
                .bind(r.get::<Option<String>, _>("customer_name"));
        }
        q.execute(&mut *btx).await?;
    }
    sqlx::query("INSERT INTO kv (key, value) VALUES ('cursor', ?)")
        .bind(app.store().cursor().await?.to_string())
        .execute(&mut *btx)
        .await?;
    btx.commit().await?;
    let baseline = t.elapsed();
    baseline_pool.close().await;

    let mut noop = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        app.pull().await?;
        noop.push(ms(t.elapsed()));
    }

    // Cold open of the home screen: the engine opened on its store, then
    // what the home screen asks for on start (the signed-in user, as the
    // `session` command reads it, and `Engine::home`).
    drop(app);
    let mut cold = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        let app = Engine::open(&config, &store_path).await?;
        let me = app.me().await?;
        let home = app.home().await?;
        cold.push(ms(t.elapsed()));
        assert!(me.is_some());
        assert_eq!(home.open_conversations.len(), CONVERSATIONS);
        assert_eq!(home.active_orders.len(), ORDERS);
        app.store().clone().close().await;
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

    let load_after = load_average();
    let ratio = initial.as_secs_f64() / baseline.as_secs_f64();
    let verdict = |met: bool| if met { "met" } else { "missed" };
    println!(
        "| initial sync: {ORDERS} orders + {MESSAGES} messages, the snapshot then the feed ({items} items carried for {entities} entities, pages of {}) | {:.2} s = {ratio:.1}× a one-transaction insert of the same rows into the same tables ({:.2} s) | ≤ 3× | {} |",
        mostrador_client::engine::PAGE,
        initial.as_secs_f64(),
        baseline.as_secs_f64(),
        verdict(ratio <= 3.0)
    );
    println!(
        "| the same sync through the feed alone (the engine before the snapshot; same sitting) | {:.2} s, {feed_items} items carried ({:.1}× the insert) | (comparison) | |",
        feed_alone.as_secs_f64(),
        feed_alone.as_secs_f64() / baseline.as_secs_f64()
    );
    let noop = median(noop);
    println!(
        "| no-op incremental sync (median of 20) | {noop:.2} ms | < 5 ms | {} |",
        verdict(noop < 5.0)
    );
    let cold = median(cold);
    println!(
        "| cold open of the home screen: open the engine on its store, the signed-in user, `Engine::home` ({ORDERS} active orders, {CONVERSATIONS} open conversations with unread counts and last lines; median of 10) | {cold:.1} ms | < 50 ms | {} |",
        verdict(cold < 50.0)
    );
    println!(
        "| outbox drain: 1,000 queued messages after reconnect | {:.2} s ({:.0} msg/s) | | |",
        drain.as_secs_f64(),
        1000.0 / drain.as_secs_f64()
    );
    println!("| load average (1 min) at the start and end of the measurements | {load_before} → {load_after} | | |");
    Ok(())
}
