//! Times `Engine::inbox` (issue 14 item 4: inbox open with 5,000
//! conversations < 100 ms) on a store filled as an agent's device is:
//! 5,000 conversations (a fifth of them about an order, some assigned to
//! this agent, some resolved) with four text messages each, the customer
//! or staff speaking last, applied as synced pages. No server: the engine
//! answers the inbox from its store alone.
//!
//! Usage: `cargo run --release -p mostrador-client --example inbox_probe`
//! (prints the median of 20 opens per filter, and the load average).

use std::time::Instant;

use jiff::{SignedDuration, Timestamp};
use mostrador_client::rules::inbox::{InboxEntry, InboxQuery};
use mostrador_client::{ClientConfig, Engine};
use mostrador_core::app::{filter_inbox, InboxFilter, InboxGroup, InboxRow};
use mostrador_core::auth::{Me, Role};
use mostrador_core::chat::{Conversation, ConversationStatus, Message, MessageKind, MessageState};
use mostrador_core::sync::{SyncItem, SyncPage};
use uuid::Uuid;

const CONVERSATIONS: u128 = 5_000;
const MESSAGES_EACH: u128 = 4;

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

/// "median x ms, min y ms" of some timings in ms.
fn spread(mut ms: Vec<f64>) -> String {
    ms.sort_by(|a, b| a.total_cmp(b));
    format!("median {:.2} ms, min {:.2} ms", ms[ms.len() / 2], ms[0])
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = Engine::open(
        &ClientConfig::new("http://127.0.0.1:9"),
        &dir.path().join("agent.sqlite3"),
    )
    .await
    .expect("store opens");
    let me = Uuid::from_u128(1);
    let t0 = Timestamp::now() - SignedDuration::from_hours(24 * 7);
    engine
        .store()
        .set_me(&Me {
            id: me,
            email: "luis@example.com".into(),
            display_name: "Luis".into(),
            role: Role::Agent,
            language: "en".into(),
            created_at: t0,
            email_verified: true,
        })
        .await
        .expect("me");
    let mut items = Vec::new();
    for i in 0..CONVERSATIONS {
        let id = Uuid::from_u128(1_000_000 + i);
        let at = |n: u128| t0 + SignedDuration::from_secs((i * 100 + n * 7) as i64);
        items.push(SyncItem::Conversation(Conversation {
            id,
            customer_id: Uuid::from_u128(2_000_000 + i % 3_000),
            order_id: (i % 5 == 0).then(|| Uuid::from_u128(3_000_000 + i)),
            subject: format!("Where is my parcel number {i}?"),
            status: match i % 10 {
                0..=5 => ConversationStatus::Open,
                6 | 7 => ConversationStatus::Pending,
                _ => ConversationStatus::Resolved,
            },
            assigned_agent_id: match i % 4 {
                0 => None,
                1 => Some(me),
                _ => Some(Uuid::from_u128(2 + i % 3)),
            },
            rating: None,
            created_at: at(0),
            updated_at: at(MESSAGES_EACH),
            last_message_at: Some(at(MESSAGES_EACH)),
        }));
        // The customer speaks last in two conversations of three.
        let last_by_customer = i % 3 != 0;
        for n in 1..=MESSAGES_EACH {
            let by_customer = (n % 2 == 1) != (last_by_customer == (MESSAGES_EACH % 2 == 0));
            items.push(SyncItem::Message(Message {
                id: Uuid::from_u128(10_000_000 + i * 10 + n),
                conversation_id: id,
                author_id: if by_customer {
                    Uuid::from_u128(2_000_000 + i % 3_000)
                } else {
                    me
                },
                author_role: if by_customer {
                    Role::Customer
                } else {
                    Role::Agent
                },
                author_name: if by_customer { "Ana" } else { "Luis" }.into(),
                kind: MessageKind::Text,
                body: format!("message {n} about parcel {i}"),
                state: MessageState::Read,
                created_at: at(n),
                attachments: vec![],
            }));
        }
    }
    let started = Instant::now();
    for (n, chunk) in items.chunks(1_000).enumerate() {
        engine
            .store()
            .apply_page(&SyncPage {
                changes: 0,
                remaining: 0,
                items: chunk.to_vec(),
                cursor: n as i64 + 1,
                has_more: false,
            })
            .await
            .expect("page applies");
    }
    eprintln!(
        "inbox_probe: {} items applied in {:.0?}",
        items.len(),
        started.elapsed()
    );
    let load_before = load_average();
    let filter = |group| InboxFilter {
        group,
        status: None,
        has_order: false,
        waiting_long: false,
        matches: None,
    };
    let cases = [
        ("all", filter(InboxGroup::All)),
        ("unassigned", filter(InboxGroup::Unassigned)),
        ("mine", filter(InboxGroup::Mine)),
        (
            "all, waiting over an hour, with an order",
            InboxFilter {
                waiting_long: true,
                has_order: true,
                ..filter(InboxGroup::All)
            },
        ),
        (
            "all, resolved",
            InboxFilter {
                status: Some(ConversationStatus::Resolved),
                ..filter(InboxGroup::All)
            },
        ),
    ];
    // What `Engine::inbox` did before the store's inbox index (issue 14):
    // every conversation and every activity row read and decoded, then
    // filtered and sorted by `filter_inbox` (the 25 rows' own reads, the
    // same in both, left out).
    let mut before = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let activity = engine
            .store()
            .conversation_activity()
            .await
            .expect("activity");
        let conversations: Vec<Conversation> = engine.store().list(None).await.expect("list");
        let rows: Vec<InboxRow> = conversations
            .into_iter()
            .map(|c| {
                let a = activity.get(&c.id).cloned().unwrap_or_default();
                InboxEntry::of(c, &a).into_row()
            })
            .collect();
        let page: Vec<&InboxRow> = filter_inbox(&rows, me, &cases[0].1, Timestamp::now())
            .into_iter()
            .take(25)
            .collect();
        assert_eq!(page.len(), 25);
        before.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "before: every conversation decoded + filter_inbox (all): {}",
        spread(before)
    );
    // The floor: one trivial statement through the same pool.
    let mut floor = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        engine.store().cursor().await.expect("cursor");
        floor.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "floor, one trivial store read (the cursor): {}",
        spread(floor)
    );
    let mut store_only = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let q = InboxQuery {
            me,
            filter: cases[0].1.clone(),
            hour_ago_ms: Timestamp::now().as_millisecond() - 3_600_000,
            limit: 25,
        };
        let page = engine.store().inbox(&q).await.expect("inbox");
        assert_eq!(page.entries.len(), 25);
        store_only.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!("of which Store::inbox (all): {}", spread(store_only));
    for (name, f) in cases {
        let mut times = Vec::new();
        let mut total = 0;
        for _ in 0..20 {
            let t = Instant::now();
            let page = engine.inbox(&f, None, 25).await.expect("inbox");
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            total = page.total;
        }
        println!(
            "inbox ({name}): {total} of {CONVERSATIONS} match, {}",
            spread(times)
        );
    }
    println!("load average (1 min): {load_before} -> {}", load_average());
}
