//! The store contract: what every store answers, written once. Each
//! scenario takes a fresh store and a second handle on the same data (a
//! second connection: another tab in the browser), and panics on any
//! difference from the contract.

use std::collections::HashMap;
use std::time::Duration;

use jiff::Timestamp;
use mostrador_client::platform::sleep;
use mostrador_client::rules::page::SnapshotProgress;
use mostrador_core::agent::{CannedResponse, Metrics};
use mostrador_core::auth::{Me, Role};
use mostrador_core::chat::{Conversation, ConversationStatus, Message, MessageKind, MessageState};
use mostrador_core::orders::{Order, TrackingEvent, TrackingStatus};
use mostrador_core::sync::{
    EntityKind, Mutation, MutationOp, SnapshotKey, SnapshotPage, SyncItem, SyncPage,
};
use mostrador_core::{ApiError, ErrorCode};
use uuid::Uuid;

use super::Store;

fn page(cursor: i64, items: Vec<SyncItem>) -> SyncPage {
    SyncPage {
        changes: 0,
        remaining: 0,
        items,
        cursor,
        has_more: false,
    }
}

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(second).unwrap()
}

fn conversation(id: Uuid, customer_id: Uuid, updated: i64) -> SyncItem {
    SyncItem::Conversation(Conversation {
        id,
        customer_id,
        order_id: None,
        subject: "Late".into(),
        status: ConversationStatus::Open,
        assigned_agent_id: None,
        rating: None,
        created_at: Timestamp::UNIX_EPOCH,
        updated_at: at(updated),
        last_message_at: None,
    })
}

/// A text message `second` seconds in, from the customer or from staff.
fn message(conversation_id: Uuid, author: (Uuid, Role), second: i64, body: &str) -> Message {
    Message {
        id: Uuid::new_v4(),
        conversation_id,
        author_id: author.0,
        author_role: author.1,
        author_name: if author.1 == Role::Customer {
            "Ana"
        } else {
            "Luis"
        }
        .into(),
        kind: MessageKind::Text,
        body: body.into(),
        state: MessageState::Sent,
        created_at: at(second),
        attachments: vec![],
    }
}

fn order(id: Uuid, status: TrackingStatus, events: &[&str]) -> Order {
    Order {
        id,
        number: "MS-10001".into(),
        customer_id: None,
        status,
        placed_at: Timestamp::UNIX_EPOCH,
        total_minor: 1250,
        currency: "EUR".into(),
        items: vec![],
        shipping_address: None,
        shipment: None,
        timeline: events
            .iter()
            .map(|e| TrackingEvent {
                id: (*e).into(),
                status,
                at: Timestamp::UNIX_EPOCH,
                place: None,
                description: None,
            })
            .collect(),
        updated_at: Timestamp::UNIX_EPOCH,
    }
}

fn write() -> Mutation {
    Mutation {
        client_id: Uuid::new_v4(),
        op: MutationOp::CancelCallback {
            callback_id: Uuid::new_v4(),
        },
    }
}

fn me(name: &str) -> Me {
    Me {
        id: Uuid::new_v4(),
        email: format!("{name}@example.com"),
        display_name: name.into(),
        role: Role::Customer,
        language: "es".into(),
        created_at: Timestamp::UNIX_EPOCH,
        email_verified: true,
    }
}

/// A page applies once and only past the cursor, removals apply, lists
/// are ordered by their sort key and filtered by parent, an order that
/// moved on is reported.
pub async fn pages_apply_once_in_order(s: &Store, _: &Store) {
    let (c, id) = (Uuid::new_v4(), Uuid::new_v4());
    let mut v2 = message(c, (Uuid::new_v4(), Role::Agent), 20, "v2");
    v2.id = id;
    let mut v1 = v2.clone();
    v1.body = "v1".into();
    let earlier = message(c, (Uuid::new_v4(), Role::Customer), 10, "earlier");
    let elsewhere = message(
        Uuid::new_v4(),
        (Uuid::new_v4(), Role::Customer),
        5,
        "elsewhere",
    );
    let o = Uuid::new_v4();
    let newer = page(
        10,
        vec![
            SyncItem::Message(v2.clone()),
            SyncItem::Message(earlier.clone()),
            SyncItem::Message(elsewhere.clone()),
            SyncItem::Order(order(o, TrackingStatus::Shipped, &["a"])),
        ],
    );
    assert_eq!(s.cursor().await.unwrap(), 0);
    assert_eq!(
        s.apply_page(&newer).await.unwrap(),
        Some(vec![]),
        "first sight of an order is not news"
    );
    assert_eq!(
        s.apply_page(&newer).await.unwrap(),
        None,
        "the same page twice"
    );
    let older = page(5, vec![SyncItem::Message(v1)]);
    assert_eq!(
        s.apply_page(&older).await.unwrap(),
        None,
        "an older page after a newer one"
    );
    assert_eq!(s.get::<Message>(id).await.unwrap().unwrap().body, "v2");
    assert_eq!(s.cursor().await.unwrap(), 10);

    assert_eq!(
        s.list::<Message>(Some(c)).await.unwrap(),
        [earlier.clone(), v2.clone()]
    );
    assert_eq!(
        s.list::<Message>(None).await.unwrap(),
        [elsewhere, earlier, v2]
    );
    assert!(s.list::<Conversation>(None).await.unwrap().is_empty());
    assert!(
        s.get::<Conversation>(c).await.unwrap().is_none(),
        "kinds do not mix"
    );

    // Removals apply; a tombstone of a kind this build does not know is
    // skipped; an order that moved on is reported once.
    let progress = s
        .apply_page(&page(
            11,
            vec![
                SyncItem::removed(EntityKind::Message, id),
                SyncItem::Removed {
                    kind: "widget".into(),
                    id: Uuid::new_v4(),
                },
                SyncItem::Order(order(o, TrackingStatus::Delayed, &["a", "b"])),
            ],
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(progress.len(), 1);
    assert_eq!(
        (progress[0].order_id, progress[0].status),
        (o, Some(TrackingStatus::Delayed))
    );
    assert_eq!(
        progress[0]
            .new_events
            .iter()
            .map(|e| e.id.as_str())
            .collect::<Vec<_>>(),
        ["b"]
    );
    assert!(s.get::<Message>(id).await.unwrap().is_none());
    assert_eq!(
        s.get::<Order>(o).await.unwrap().unwrap().status,
        TrackingStatus::Delayed
    );
    assert_eq!(s.cursor().await.unwrap(), 11);
}

/// What the screens' aggregate reads answer over the applied cache.
pub async fn views_answer_from_the_cache(s: &Store, _: &Store) {
    let (ana, luis) = (
        (Uuid::new_v4(), Role::Customer),
        (Uuid::new_v4(), Role::Agent),
    );
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let mut read = message(a, ana, 1, "where is 50% of my order");
    read.state = MessageState::Read;
    let newest_a = message(a, ana, 3, "hello?");
    let mut note = message(a, luis, 4, "internal");
    note.kind = MessageKind::Note;
    // A colleague's reply: unread for Ana, never for Luis.
    let colleague = (Uuid::new_v4(), Role::Agent);
    let messages = [
        read,
        message(a, luis, 2, "on its way"),
        message(a, colleague, 2, "I've asked the carrier"),
        newest_a.clone(),
        note,
    ];
    let mut items = vec![conversation(a, ana.0, 0), conversation(b, ana.0, 0)];
    items.extend(messages.iter().cloned().map(SyncItem::Message));
    s.apply_page(&page(1, items)).await.unwrap();

    let unread = s.unread_counts(luis.0, None).await.unwrap();
    assert_eq!(unread, HashMap::from([(a, 1)]));
    assert_eq!(
        s.unread_counts(ana.0, Some(b)).await.unwrap(),
        HashMap::new()
    );
    assert_eq!(s.unread_counts(ana.0, Some(a)).await.unwrap()[&a], 2);
    assert_eq!(
        s.unread_counts(ana.0, None).await.unwrap(),
        HashMap::from([(a, 2)])
    );

    let last = s.last_text_messages(None).await.unwrap();
    assert_eq!(
        last,
        HashMap::from([(a, newest_a.clone())]),
        "the newest text, not the later note"
    );
    assert_eq!(s.last_text_messages(Some(b)).await.unwrap(), HashMap::new());
    assert_eq!(
        s.last_text_message(a).await.unwrap(),
        Some(newest_a.clone())
    );
    assert_eq!(s.last_text_message(b).await.unwrap(), None);

    let activity = s.conversation_activity().await.unwrap();
    assert_eq!(activity.len(), 1);
    assert_eq!(
        (
            activity[&a].customer_at,
            activity[&a].staff_at,
            activity[&a].customer_name.as_deref()
        ),
        (Some(3000), Some(2000), Some("Ana"))
    );
    assert_eq!(
        s.customer_names_from_messages().await.unwrap(),
        HashMap::from([(ana.0, "Ana".to_owned())])
    );

    assert_eq!(s.conversations_mentioning("50%").await.unwrap(), [a]);
    assert_eq!(s.conversations_mentioning("HELLO").await.unwrap(), [a]);
    assert!(s.conversations_mentioning("5_%").await.unwrap().is_empty());

    // A message read later stops counting; the newest text removed, the one
    // before it is the last; an older reply does not move staff's time back.
    let mut seen = newest_a.clone();
    seen.state = MessageState::Read;
    s.apply_page(&page(2, vec![SyncItem::Message(seen)]))
        .await
        .unwrap();
    assert_eq!(s.unread_counts(luis.0, None).await.unwrap(), HashMap::new());
    assert_eq!(
        s.last_text_messages(None).await.unwrap()[&a].state,
        MessageState::Read,
        "the last message as it is now"
    );
    s.apply_page(&page(
        3,
        vec![
            SyncItem::removed(EntityKind::Message, newest_a.id),
            SyncItem::Message(message(a, luis, 1, "late copy")),
        ],
    ))
    .await
    .unwrap();
    // Two replies at 2 s: either is the last (as in SQL, ties are open).
    assert_eq!(
        s.last_text_message(a).await.unwrap().unwrap().created_at,
        at(2)
    );
    assert_eq!(
        s.conversation_activity().await.unwrap()[&a].staff_at,
        Some(2000)
    );

    // A message placed and removed in one page; the newest turned into a
    // note; every text message gone: the last message follows.
    let fleeting = message(a, ana, 9, "typo");
    let gone = SyncItem::removed(EntityKind::Message, fleeting.id);
    s.apply_page(&page(4, vec![SyncItem::Message(fleeting), gone]))
        .await
        .unwrap();
    let newest = s.last_text_message(a).await.unwrap().unwrap();
    assert_eq!(newest.created_at, at(2));
    let mut noted = newest.clone();
    noted.kind = MessageKind::Note;
    s.apply_page(&page(5, vec![SyncItem::Message(noted)]))
        .await
        .unwrap();
    let next = s.last_text_message(a).await.unwrap().unwrap();
    assert!(next.id != newest.id && next.created_at == at(2));
    let texts = s.list::<Message>(Some(a)).await.unwrap();
    let texts = texts
        .into_iter()
        .filter(|m| m.kind == MessageKind::Text)
        .map(|m| SyncItem::removed(EntityKind::Message, m.id));
    s.apply_page(&page(6, texts.collect())).await.unwrap();
    assert_eq!(s.last_text_message(a).await.unwrap(), None);
    assert_eq!(s.last_text_messages(None).await.unwrap(), HashMap::new());
}

/// The last text message of each of many conversations, and unread counts
/// across them: the agent inbox's reads.
/// `get_many`: the asked-for entities that are cached, in `list`'s order
/// (time, then id), answering for a state change and a removal as `list`
/// does (an open thread reads its changed lines this way).
pub async fn several_by_id_in_list_order(s: &Store, _: &Store) {
    let (ana, luis) = (
        (Uuid::new_v4(), Role::Customer),
        (Uuid::new_v4(), Role::Agent),
    );
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let first = message(a, ana, 1, "where is it");
    let mut reply = message(a, luis, 2, "on its way");
    let mut same_second = message(a, luis, 2, "tomorrow");
    // Two in one millisecond: the id orders them, as in `list`.
    if same_second.id < reply.id {
        std::mem::swap(&mut reply.id, &mut same_second.id);
    }
    let elsewhere = message(b, ana, 0, "another thread");
    let mut items = vec![conversation(a, ana.0, 0), conversation(b, ana.0, 0)];
    for m in [&first, &reply, &same_second, &elsewhere] {
        items.push(SyncItem::Message(m.clone()));
    }
    s.apply_page(&page(1, items)).await.unwrap();

    let none: Vec<Message> = s.get_many(&[]).await.unwrap();
    assert!(none.is_empty());
    let never = Uuid::new_v4();
    let got: Vec<Message> = s
        .get_many(&[same_second.id, never, elsewhere.id, reply.id, reply.id])
        .await
        .unwrap();
    assert_eq!(
        got,
        [elsewhere.clone(), reply.clone(), same_second.clone()],
        "cached ones once each, by time then id; unknown ids left out"
    );
    let listed: Vec<Message> = s.list(Some(a)).await.unwrap();
    let asked: Vec<Message> = s
        .get_many(&[same_second.id, first.id, reply.id])
        .await
        .unwrap();
    assert_eq!(asked, listed, "the same order as the thread");

    // Read, then removed: the answer follows the store.
    reply.state = MessageState::Read;
    s.apply_page(&page(
        2,
        vec![
            SyncItem::Message(reply.clone()),
            SyncItem::removed(EntityKind::Message, same_second.id),
        ],
    ))
    .await
    .unwrap();
    let got: Vec<Message> = s.get_many(&[reply.id, same_second.id]).await.unwrap();
    assert_eq!(got, [reply.clone()]);
    // Another kind under the same id is not a message.
    let as_orders: Vec<Order> = s.get_many(&[reply.id]).await.unwrap();
    assert!(as_orders.is_empty());
}

pub async fn views_span_many_conversations(s: &Store, _: &Store) {
    let agent = Uuid::new_v4();
    let mut items = Vec::new();
    let mut newest = HashMap::new();
    for i in 0..60 {
        let (c, customer) = (Uuid::new_v4(), (Uuid::new_v4(), Role::Customer));
        items.push(conversation(c, customer.0, i));
        // Newest first in the page: the store orders by time, not arrival.
        let last = message(c, customer, 100 + i, &format!("question {i}"));
        items.push(SyncItem::Message(last.clone()));
        for k in 0..i % 4 {
            items.push(SyncItem::Message(message(c, customer, k, "earlier")));
        }
        newest.insert(c, last);
    }
    s.apply_page(&page(1, items)).await.unwrap();
    assert_eq!(s.last_text_messages(None).await.unwrap(), newest);
    let unread = s.unread_counts(agent, None).await.unwrap();
    assert_eq!(unread.len(), 60);
    assert_eq!(
        unread.values().sum::<i64>(),
        60 + (0..60).map(|i| i % 4).sum::<i64>()
    );
    let listed = s.list::<Conversation>(None).await.unwrap();
    let times: Vec<_> = listed.iter().map(|c| c.updated_at).collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "conversations by sort key"
    );
}

/// Unread counts for a staff member who is also a customer: in a
/// customer's conversation the customer's unread texts count; in their own,
/// and in one not cached, staff's (a colleague's) do; never their own
/// messages, notes, read ones or the same side's.
pub async fn unread_depends_on_the_side_in_each_conversation(s: &Store, _: &Store) {
    let sam = (Uuid::new_v4(), Role::Agent);
    let as_customer = (sam.0, Role::Customer);
    let ana = (Uuid::new_v4(), Role::Customer);
    let colleague = (Uuid::new_v4(), Role::Admin);
    let (theirs, own, uncached) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let mut read = message(theirs, ana, 1, "seen");
    read.state = MessageState::Read;
    let mut note = message(theirs, colleague, 5, "internal");
    note.kind = MessageKind::Note;
    let mut staff_note = message(own, colleague, 5, "internal");
    staff_note.kind = MessageKind::Note;
    let newest_theirs = message(theirs, ana, 3, "hello?");
    let messages = [
        read,
        newest_theirs.clone(),
        message(theirs, colleague, 4, "on it"),
        message(theirs, sam, 4, "me too"),
        note,
        message(own, as_customer, 1, "my parcel?"),
        message(own, colleague, 2, "tomorrow"),
        staff_note,
        message(uncached, ana, 1, "someone else's"),
        message(uncached, colleague, 2, "reply"),
    ];
    let mut items = vec![conversation(theirs, ana.0, 0), conversation(own, sam.0, 0)];
    items.extend(messages.iter().cloned().map(SyncItem::Message));
    s.apply_page(&page(1, items)).await.unwrap();

    assert_eq!(
        s.unread_counts(sam.0, None).await.unwrap(),
        HashMap::from([(theirs, 1), (own, 1), (uncached, 1)])
    );
    assert_eq!(
        s.unread_counts(sam.0, Some(own)).await.unwrap(),
        HashMap::from([(own, 1)])
    );
    // For Ana, the staff's texts in her conversation (not the note).
    assert_eq!(
        s.unread_counts(ana.0, Some(theirs)).await.unwrap(),
        HashMap::from([(theirs, 2)])
    );
    let last = s.last_text_messages(None).await.unwrap();
    assert_eq!(last.len(), 3);
    assert!(
        last[&theirs].created_at == at(4) && last[&own].body == "tomorrow",
        "the newest text, not the later notes"
    );
    assert_eq!(
        s.last_text_messages(Some(uncached)).await.unwrap()[&uncached].body,
        "reply"
    );
}

/// A full resync forgets the cache and the cursor, never the outbox.
pub async fn reset_keeps_unsent_writes(s: &Store, _: &Store) {
    let c = Uuid::new_v4();
    s.apply_page(&page(
        4,
        vec![SyncItem::Message(message(
            c,
            (Uuid::new_v4(), Role::Customer),
            1,
            "hi",
        ))],
    ))
    .await
    .unwrap();
    let w = write();
    s.enqueue(&w).await.unwrap();
    s.reset_cache().await.unwrap();
    assert_eq!(s.cursor().await.unwrap(), 0);
    assert!(s.list::<Message>(None).await.unwrap().is_empty());
    assert!(s.conversation_activity().await.unwrap().is_empty());
    assert_eq!(s.outbox().await.unwrap()[0].mutation, w);
}

/// The outbox keeps writes in order, once each, with their retry state.
pub async fn outbox_keeps_order_and_state(s: &Store, _: &Store) {
    let (w1, w2, w3) = (write(), write(), write());
    let seq1 = s.enqueue(&w1).await.unwrap();
    let seq2 = s.enqueue(&w2).await.unwrap();
    assert!(seq2 > seq1);
    let mut again = w1.clone();
    again.op = MutationOp::CancelCallback {
        callback_id: Uuid::nil(),
    };
    assert_eq!(
        s.enqueue(&again).await.unwrap(),
        seq1,
        "a client id is queued once"
    );
    s.enqueue(&w3).await.unwrap();
    let items = s.outbox().await.unwrap();
    assert_eq!(
        items.iter().map(|i| &i.mutation).collect::<Vec<_>>(),
        [&w1, &w2, &w3]
    );
    assert!(items
        .iter()
        .all(|i| i.attempts == 0 && i.next_attempt_at == 0 && i.wedged.is_none()));
    assert!(items[0].created_at > 0);

    s.defer(w1.client_id, "timed out", 5_000).await.unwrap();
    let refusal = ApiError::new(ErrorCode::ValidationFailed, "body too long");
    s.wedge(w2.client_id, &refusal).await.unwrap();
    s.defer(Uuid::new_v4(), "nobody", 1).await.unwrap();
    let items = s.outbox().await.unwrap();
    assert_eq!(
        (
            items[0].attempts,
            items[0].next_attempt_at,
            items[0].last_error.as_deref()
        ),
        (1, 5_000, Some("timed out"))
    );
    assert_eq!(
        (items[1].attempts, items[1].wedged.as_ref()),
        (1, Some(&refusal))
    );

    s.make_due_now().await.unwrap();
    let items = s.outbox().await.unwrap();
    assert_eq!(items[0].next_attempt_at, 0);
    assert!(items[1].wedged.is_some(), "a wedged write stays wedged");
    assert!(s.unwedge(w2.client_id).await.unwrap());
    assert!(
        !s.unwedge(w2.client_id).await.unwrap(),
        "not wedged any more"
    );
    assert!(!s.unwedge(w3.client_id).await.unwrap());
    assert!(s.outbox().await.unwrap()[1].wedged.is_none());

    s.remove_outbox(w2.client_id).await.unwrap();
    s.remove_outbox(Uuid::new_v4()).await.unwrap();
    let left: Vec<_> = s
        .outbox()
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.mutation)
        .collect();
    assert_eq!(left, [w1, w3.clone()]);
    let seq3 = s.outbox().await.unwrap()[1].seq;
    s.remove_outbox(w3.client_id).await.unwrap();
    assert!(
        s.enqueue(&write()).await.unwrap() > seq3,
        "sequence numbers are never reused"
    );
}

/// Files waiting to go up: listed without their bytes, oldest first, each
/// with its own retry state.
pub async fn uploads_keep_bytes_and_state(s: &Store, _: &Store) {
    let (f1, f2, c, opening) = (
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
    );
    s.add_pending_upload(f1, c, "label.pdf", b"%PDF-1.7".to_vec(), Some(opening))
        .await
        .unwrap();
    sleep(Duration::from_millis(3)).await;
    s.add_pending_upload(f2, c, "photo.png", vec![7; 300], None)
        .await
        .unwrap();
    assert!(
        s.add_pending_upload(f1, c, "again.pdf", vec![1], None)
            .await
            .is_err(),
        "one file per id"
    );
    assert_eq!(
        s.pending_upload_bytes(f1).await.unwrap().as_deref(),
        Some(&b"%PDF-1.7"[..]),
        "a refused file changes nothing"
    );
    let ups = s.pending_uploads().await.unwrap();
    assert_eq!(
        ups.iter().map(|u| u.attachment_id).collect::<Vec<_>>(),
        [f1, f2]
    );
    assert_eq!(
        (
            ups[0].conversation_id,
            ups[0].filename.as_str(),
            ups[0].size,
            ups[0].waits_for
        ),
        (c, "label.pdf", 8, Some(opening))
    );
    assert_eq!(
        (ups[1].size, ups[1].waits_for, ups[1].attempts),
        (300, None, 0)
    );
    assert_eq!(
        s.pending_upload_bytes(f1).await.unwrap().as_deref(),
        Some(&b"%PDF-1.7"[..])
    );
    assert_eq!(s.pending_upload_bytes(Uuid::new_v4()).await.unwrap(), None);

    s.defer_upload(f1, "offline", 9_000).await.unwrap();
    let refusal = ApiError::new(ErrorCode::PayloadTooLarge, "too big");
    s.fail_upload(f2, &refusal).await.unwrap();
    let ups = s.pending_uploads().await.unwrap();
    assert_eq!(
        (
            ups[0].attempts,
            ups[0].next_attempt_at,
            ups[0].last_error.as_deref()
        ),
        (1, 9_000, Some("offline"))
    );
    assert_eq!(
        (ups[1].attempts, ups[1].failed.as_ref()),
        (1, Some(&refusal))
    );
    s.make_due_now().await.unwrap();
    let ups = s.pending_uploads().await.unwrap();
    assert_eq!(ups[0].next_attempt_at, 0);
    assert!(ups[1].failed.is_some(), "a refused file waits for the user");
    s.retry_uploads(&[f2]).await.unwrap();
    assert!(s.pending_uploads().await.unwrap()[1].failed.is_none());

    s.remove_pending_upload(f1).await.unwrap();
    assert_eq!(s.pending_uploads().await.unwrap().len(), 1);
    assert_eq!(s.pending_upload_bytes(f1).await.unwrap(), None);
}

/// The attachment cache keeps at most its limit, dropping the least
/// recently used first.
pub async fn attachment_cache_evicts_least_recently_used(s: &Store, _: &Store) {
    let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    assert_eq!(s.cached_attachment(a).await.unwrap(), None);
    s.cache_attachment(a, b"aaaa", 10).await.unwrap();
    sleep(Duration::from_millis(3)).await;
    s.cache_attachment(b, b"bbbb", 10).await.unwrap();
    sleep(Duration::from_millis(3)).await;
    assert_eq!(
        s.cached_attachment(a).await.unwrap().as_deref(),
        Some(&b"aaaa"[..])
    );
    sleep(Duration::from_millis(3)).await;
    s.cache_attachment(c, b"cccc", 10).await.unwrap();
    assert_eq!(
        s.cached_attachment(b).await.unwrap(),
        None,
        "least recently used"
    );
    assert!(s.cached_attachment(a).await.unwrap().is_some());
    assert!(s.cached_attachment(c).await.unwrap().is_some());
    s.cache_attachment(b, &[0; 11], 10).await.unwrap();
    assert_eq!(
        s.cached_attachment(b).await.unwrap(),
        None,
        "bigger than the whole cache"
    );
}

/// Drafts and kept answers: replaced whole, read back typed.
pub async fn drafts_and_kept_answers(s: &Store, _: &Store) {
    let c = Uuid::new_v4();
    assert_eq!(s.draft(c).await.unwrap(), None);
    s.put_draft(c, "Hola, mi pedido").await.unwrap();
    s.put_draft(c, "Hola, mi pedido MS-10001").await.unwrap();
    assert_eq!(
        s.draft(c).await.unwrap().as_deref(),
        Some("Hola, mi pedido MS-10001")
    );
    s.delete_draft(c).await.unwrap();
    assert_eq!(s.draft(c).await.unwrap(), None);

    assert_eq!(s.kept::<Vec<CannedResponse>>().await.unwrap(), None);
    let canned = vec![CannedResponse {
        id: Uuid::new_v4(),
        title: "Hi".into(),
        body: "Hello!".into(),
    }];
    s.keep(&canned).await.unwrap();
    let got = s.kept::<Vec<CannedResponse>>().await.unwrap().unwrap();
    assert_eq!((got[0].id, got[0].body.as_str()), (canned[0].id, "Hello!"));
    assert!(
        s.kept::<Metrics>().await.unwrap().is_none(),
        "each answer under its own key"
    );
}

/// An ended session keeps unsent writes with their owner; sign-in as
/// another account forgets everything.
pub async fn sessions_forget_all_but_unsent_writes(s: &Store, _: &Store) {
    let ana = me("ana");
    assert_eq!(s.me().await.unwrap(), None);
    s.set_me(&ana).await.unwrap();
    assert_eq!(s.me().await.unwrap().unwrap().id, ana.id);

    let c = Uuid::new_v4();
    s.apply_page(&page(3, vec![conversation(c, ana.id, 1)]))
        .await
        .unwrap();
    s.put_draft(c, "typed").await.unwrap();
    s.cache_attachment(c, b"seen", 100).await.unwrap();
    let w = write();
    s.enqueue(&w).await.unwrap();
    s.add_pending_upload(Uuid::new_v4(), c, "a.txt", b"a".to_vec(), None)
        .await
        .unwrap();

    assert!(
        s.forget_session(Some(&ana)).await.unwrap(),
        "unsent writes kept"
    );
    assert_eq!(s.me().await.unwrap(), None);
    assert_eq!(s.cursor().await.unwrap(), 0);
    assert!(s.list::<Conversation>(None).await.unwrap().is_empty());
    assert_eq!(s.draft(c).await.unwrap(), None);
    assert_eq!(s.cached_attachment(c).await.unwrap(), None);
    assert_eq!(s.outbox().await.unwrap()[0].mutation, w);
    assert_eq!(s.pending_uploads().await.unwrap().len(), 1);
    assert_eq!(s.unsent_owner().await.unwrap().unwrap().id, ana.id);
    s.clear_unsent_owner().await.unwrap();
    assert_eq!(s.unsent_owner().await.unwrap(), None);

    assert!(
        !s.forget_session(None).await.unwrap(),
        "no owner: nothing kept"
    );
    assert!(s.outbox().await.unwrap().is_empty());
    assert!(s.pending_uploads().await.unwrap().is_empty());

    s.enqueue(&write()).await.unwrap();
    s.set_me(&ana).await.unwrap();
    s.forget_everything().await.unwrap();
    assert!(s.outbox().await.unwrap().is_empty());
    assert_eq!(s.me().await.unwrap(), None);
    assert!(
        !s.forget_session(Some(&ana)).await.unwrap(),
        "nothing unsent: nothing kept"
    );
}

/// Two handles on one store (two tabs) see each other's writes at once.
pub async fn two_handles_share_one_state(s: &Store, other: &Store) {
    let w = write();
    s.enqueue(&w).await.unwrap();
    assert_eq!(other.outbox().await.unwrap()[0].mutation, w);
    let c = Uuid::new_v4();
    other
        .apply_page(&page(
            7,
            vec![SyncItem::Message(message(
                c,
                (Uuid::new_v4(), Role::Agent),
                1,
                "hi",
            ))],
        ))
        .await
        .unwrap();
    assert_eq!(s.cursor().await.unwrap(), 7);
    assert_eq!(s.list::<Message>(Some(c)).await.unwrap()[0].body, "hi");
    assert_eq!(
        other.apply_page(&page(7, vec![])).await.unwrap(),
        None,
        "one cursor for both"
    );
    other.remove_outbox(w.client_id).await.unwrap();
    assert!(s.outbox().await.unwrap().is_empty());
}

/// What a store keeps survives closing it; a wiped store starts empty.
pub async fn kept_until_wiped<F, Fut>(reopen: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<Store, mostrador_client::ClientError>>,
{
    let s = reopen().await.unwrap();
    let w = write();
    s.enqueue(&w).await.unwrap();
    s.apply_page(&page(9, vec![])).await.unwrap();
    s.close().await;
    let s = reopen().await.unwrap();
    assert_eq!(s.outbox().await.unwrap()[0].mutation, w);
    assert_eq!(s.cursor().await.unwrap(), 9);
    s.wipe().await.unwrap();
    let s = reopen().await.unwrap();
    assert!(s.outbox().await.unwrap().is_empty());
    assert_eq!(s.cursor().await.unwrap(), 0);
    s.wipe().await.unwrap();
}

/// An agent's device: 1,000 conversations, 5,000 messages. The inbox's
/// reads answer whole, and their times are reported (not asserted: the
/// machine's load is not the store's).
pub async fn an_agent_inbox_of_a_thousand_conversations(s: &Store, _: &Store) {
    let agent = Uuid::new_v4();
    let mut items = Vec::new();
    for i in 0..1_000 {
        let (c, customer) = (Uuid::new_v4(), (Uuid::new_v4(), Role::Customer));
        items.push(conversation(c, customer.0, i));
        for k in 0..5 {
            let author = if k % 2 == 0 {
                customer
            } else {
                (agent, Role::Agent)
            };
            items.push(SyncItem::Message(message(
                c,
                author,
                i * 10 + k,
                &format!("message {i}-{k}"),
            )));
        }
    }
    let clock = mostrador_client::platform::now_ms;
    let t = clock();
    // Pages of 500 items, as the server sends them.
    for (n, chunk) in items.chunks(500).enumerate() {
        s.apply_page(&page(n as i64 + 1, chunk.to_vec()))
            .await
            .unwrap();
    }
    let applied = clock() - t;
    let t = clock();
    let last = s.last_text_messages(None).await.unwrap();
    let last_ms = clock() - t;
    let t = clock();
    let unread = s.unread_counts(agent, None).await.unwrap();
    let unread_ms = clock() - t;
    let t = clock();
    let activity = s.conversation_activity().await.unwrap();
    let activity_ms = clock() - t;
    let t = clock();
    let found = s.conversations_mentioning("message 512-3").await.unwrap();
    let search_ms = clock() - t;
    let t = clock();
    let inbox = s
        .inbox(&mostrador_client::rules::inbox::InboxQuery {
            me: agent,
            filter: mostrador_core::app::InboxFilter {
                group: mostrador_core::app::InboxGroup::All,
                status: None,
                has_order: false,
                waiting_long: false,
                matches: None,
            },
            hour_ago_ms: 0,
            limit: 25,
        })
        .await
        .unwrap();
    let inbox_ms = clock() - t;
    assert_eq!((inbox.entries.len(), inbox.total), (25, 1_000));
    assert_eq!(
        (last.len(), unread.len(), activity.len(), found.len()),
        (1_000, 1_000, 1_000, 1)
    );
    assert!(last.values().all(|m| m.body.ends_with("-4")));
    assert!(
        unread.values().all(|n| *n == 3),
        "the customer's three messages each"
    );
    super::report(&format!(
        "agent inbox, 1000 conversations / 5000 messages: apply {applied} ms, last messages {last_ms} ms, \
         unread {unread_ms} ms, activity {activity_ms} ms, search {search_ms} ms, \
         a page of the inbox {inbox_ms} ms"
    ));
}

/// A snapshot fills a cache with no cursor page by page, each page with
/// its progress; only the last page marks the cache complete, at the
/// first page's cursor (0 for an empty feed). A page out of order, or
/// after the cache is complete, changes nothing; a reset forgets the
/// progress too.
pub async fn snapshot_pages_complete_the_cache_only_at_the_end(s: &Store, other: &Store) {
    let c = Uuid::new_v4();
    let ana = (Uuid::new_v4(), Role::Customer);
    let (m1, m2) = (message(c, ana, 10, "one"), message(c, ana, 20, "two"));
    let key = |id| SnapshotKey {
        kind: "message".into(),
        id,
    };
    let snap = |items, cursor, next| SnapshotPage {
        items,
        cursor,
        next,
        total: Some(3),
    };
    let first = snap(
        vec![conversation(c, ana.0, 1), SyncItem::Message(m1.clone())],
        7,
        Some(key(m1.id)),
    );
    assert!(s.apply_snapshot_page(None, &first).await.unwrap());
    assert_eq!(s.cursor().await.unwrap(), 0, "not complete yet");
    assert_eq!(
        other.snapshot_progress().await.unwrap(),
        Some(SnapshotProgress {
            cursor: 7,
            after: key(m1.id)
        })
    );
    assert_eq!(s.list::<Message>(Some(c)).await.unwrap(), vec![m1.clone()]);
    let last = snap(vec![SyncItem::Message(m2.clone())], 9, None);
    assert!(
        !s.apply_snapshot_page(Some(&key(m2.id)), &last)
            .await
            .unwrap(),
        "a page that does not follow the progress"
    );
    assert!(
        !s.apply_snapshot_page(None, &first).await.unwrap(),
        "the first page again"
    );
    assert!(s
        .apply_snapshot_page(Some(&key(m1.id)), &last)
        .await
        .unwrap());
    assert_eq!(other.cursor().await.unwrap(), 7, "the first page's cursor");
    assert_eq!(s.snapshot_progress().await.unwrap(), None);
    assert_eq!(
        s.list::<Message>(Some(c)).await.unwrap(),
        vec![m1.clone(), m2.clone()]
    );
    assert_eq!(
        s.conversation_activity().await.unwrap()[&c].customer_at,
        Some(20_000),
        "activity kept as a page keeps it"
    );
    assert_eq!(
        s.last_text_message(c).await.unwrap().map(|m| m.id),
        Some(m2.id)
    );
    assert!(
        !s.apply_snapshot_page(None, &first).await.unwrap(),
        "a complete cache takes no snapshot page"
    );
    // A reset (the cursor was too old) forgets progress and cache alike;
    // a snapshot then starts over from an empty cache.
    s.reset_cache().await.unwrap();
    assert_eq!(s.snapshot_progress().await.unwrap(), None);
    assert!(s.apply_snapshot_page(None, &first).await.unwrap());
    s.reset_cache().await.unwrap();
    assert_eq!(
        (
            s.cursor().await.unwrap(),
            s.snapshot_progress().await.unwrap()
        ),
        (0, None)
    );
    assert!(s.list::<Message>(None).await.unwrap().is_empty());
    assert!(
        !s.has_cursor().await.unwrap(),
        "a reset cache has no cursor"
    );
    // An empty feed (head 0): the snapshot completes the cache at 0, and a
    // complete cache at 0 is complete all the same: no second snapshot
    // starts over (the engine pulls the feed when the store has a cursor).
    assert!(s
        .apply_snapshot_page(None, &snap(vec![], 0, None))
        .await
        .unwrap());
    assert!(other.has_cursor().await.unwrap(), "complete at 0");
    assert_eq!(
        (
            other.cursor().await.unwrap(),
            other.snapshot_progress().await.unwrap()
        ),
        (0, None)
    );
    assert!(
        !s.apply_snapshot_page(None, &first).await.unwrap(),
        "a cache complete at 0 takes no snapshot page"
    );
    assert!(s.list::<Message>(None).await.unwrap().is_empty());
}

/// The agent's inbox, a page at a time (`Store::inbox`): for every filter
/// (group, status, with an order, waiting over an hour, a search's ids)
/// and page size, the page and the total are what
/// `mostrador_core::app::filter_inbox` answers over every cached
/// conversation with its activity (how the engine chose them before). The
/// world has ties in waiting times and in activity, resolved conversations
/// whose customer spoke last, messages arriving before their conversation,
/// and later pages that reassign, resolve, answer and remove.
pub async fn the_inbox_pages_as_filter_inbox_does(s: &Store, other: &Store) {
    use mostrador_client::rules::inbox::{InboxEntry, InboxQuery};
    use mostrador_core::app::{filter_inbox, InboxFilter, InboxGroup, InboxRow};
    let me = Uuid::new_v4();
    let colleague = (Uuid::new_v4(), Role::Agent);
    let staff = (me, Role::Agent);
    let conv = |i: i64| {
        let id = Uuid::new_v4();
        let customer = Uuid::new_v4();
        let SyncItem::Conversation(mut c) = conversation(id, customer, 100 + i % 7) else {
            unreachable!()
        };
        c.order_id = (i % 3 == 0).then(Uuid::new_v4);
        c.status = [
            ConversationStatus::Open,
            ConversationStatus::Pending,
            ConversationStatus::Resolved,
        ][(i % 5 % 3) as usize];
        c.assigned_agent_id = [None, Some(me), Some(colleague.0)][(i % 7 % 3) as usize];
        c.last_message_at = (i % 4 != 0).then(|| at(200 + i % 5));
        c
    };
    let mut convs: Vec<Conversation> = (0..60).map(conv).collect();
    let mut items = Vec::new();
    for (i, c) in convs.iter().enumerate() {
        let i = i as i64;
        let customer = (c.customer_id, Role::Customer);
        let mut said = Vec::new();
        // Some customers spoke last (equal times across conversations),
        // some were answered, some never spoke; an hour is 3,600 s.
        if i % 6 != 0 {
            said.push(message(
                c.id,
                customer,
                1_000 + i % 4 * 2_000,
                "where is it?",
            ));
        }
        if i % 2 == 0 {
            said.push(message(c.id, staff, 2_000 + i % 3 * 2_000, "on its way"));
        }
        if i % 9 == 4 {
            let mut note = message(c.id, colleague, 9_000, "a note");
            note.kind = MessageKind::Note;
            said.push(note);
        }
        // A third of the conversations arrive after their messages.
        if i % 3 == 1 {
            items.extend(said.into_iter().map(SyncItem::Message));
            items.push(SyncItem::Conversation(c.clone()));
        } else {
            items.push(SyncItem::Conversation(c.clone()));
            items.extend(said.into_iter().map(SyncItem::Message));
        }
    }
    for (n, chunk) in items.chunks(40).enumerate() {
        s.apply_page(&page(n as i64 + 1, chunk.to_vec()))
            .await
            .unwrap();
    }
    let filter = |group| InboxFilter {
        group,
        status: None,
        has_order: false,
        waiting_long: false,
        matches: None,
    };
    let now = at(1_000 + 3_600 + 2_000);
    let hour_ago_ms = (now - jiff::SignedDuration::from_hours(1)).as_millisecond();
    // A page and its total against `filter_inbox` over the same rows.
    let compare = |label: &str,
                   rows: Vec<InboxRow>,
                   got: Vec<(Uuid, Option<i64>)>,
                   total: usize,
                   f: &InboxFilter,
                   limit: usize| {
        let want: Vec<(Uuid, Option<i64>)> = filter_inbox(&rows, me, f, now)
            .iter()
            .map(|r| (r.summary.id, r.waiting_since.map(|w| w.as_millisecond())))
            .collect();
        assert_eq!(total, want.len(), "{label}: total for {f:?}");
        assert_eq!(
            got,
            want[..limit.min(want.len())],
            "{label}: page of {limit} for {f:?}"
        );
    };
    let mut filters = Vec::new();
    for group in [InboxGroup::Unassigned, InboxGroup::Mine, InboxGroup::All] {
        for status in [
            None,
            Some(ConversationStatus::Open),
            Some(ConversationStatus::Pending),
            Some(ConversationStatus::Resolved),
        ] {
            for (has_order, waiting_long) in
                [(false, false), (true, false), (false, true), (true, true)]
            {
                filters.push(InboxFilter {
                    group,
                    status,
                    has_order,
                    waiting_long,
                    matches: None,
                });
            }
        }
    }
    for round in ["as first synced", "after later pages"] {
        // What the engine used to decide on: every conversation, with its
        // activity, in list order.
        let activity = other.conversation_activity().await.unwrap();
        let rows: Vec<InboxRow> = other
            .list::<Conversation>(None)
            .await
            .unwrap()
            .into_iter()
            .map(|c| {
                let a = activity.get(&c.id).cloned().unwrap_or_default();
                InboxEntry::of(c, &a).into_row()
            })
            .collect();
        let some: Vec<Uuid> = rows.iter().step_by(4).map(|r| r.summary.id).collect();
        let mut all_filters = filters.clone();
        all_filters.push(InboxFilter {
            matches: Some(some.clone()),
            ..filter(InboxGroup::All)
        });
        all_filters.push(InboxFilter {
            matches: Some(vec![]),
            ..filter(InboxGroup::All)
        });
        for f in &all_filters {
            for limit in [0, 1, 7, 25, 1_000] {
                let got = s
                    .inbox(&InboxQuery {
                        me,
                        filter: f.clone(),
                        hour_ago_ms,
                        limit,
                    })
                    .await
                    .unwrap();
                let ids = got
                    .entries
                    .iter()
                    .map(|e| (e.conversation.id, e.waiting_ms))
                    .collect();
                compare(round, rows.clone(), ids, got.total, f, limit);
            }
        }
        // The whole inbox once more, in detail: each row is its cached
        // conversation, with the name its customer's last message carried.
        let everything = s
            .inbox(&InboxQuery {
                me,
                filter: filter(InboxGroup::All),
                hour_ago_ms,
                limit: 1_000,
            })
            .await
            .unwrap();
        assert_eq!(everything.total, convs.len(), "{round}");
        for e in &everything.entries {
            let cached: Conversation = s.get(e.conversation.id).await.unwrap().unwrap();
            assert_eq!(e.conversation, cached);
            let spoke = activity
                .get(&cached.id)
                .and_then(|a| a.customer_at)
                .is_some();
            assert_eq!(e.customer_name.is_some(), spoke, "{round}");
        }
        assert!(
            everything.entries.iter().any(|e| e.waiting_ms.is_some())
                && everything.entries.iter().any(|e| e.waiting_ms.is_none()),
            "{round}: some wait, some do not"
        );
        if round == "after later pages" {
            break;
        }
        // Later pages: one conversation reassigned to me and resolved,
        // another answered, a third removed, a waiting one's customer
        // writes again, a new one arrives.
        let waiting = everything
            .entries
            .iter()
            .find(|e| e.waiting_ms.is_some())
            .unwrap();
        let answered = waiting.conversation.id;
        let mut moved = convs[1].clone();
        moved.assigned_agent_id = Some(me);
        moved.status = ConversationStatus::Resolved;
        moved.last_message_at = Some(at(300));
        let gone = convs[2].id;
        let again = everything
            .entries
            .iter()
            .rev()
            .find(|e| e.waiting_ms.is_some())
            .unwrap();
        let new = conv(61);
        let later = vec![
            SyncItem::Conversation(moved.clone()),
            SyncItem::Message(message(answered, staff, 50_000, "done")),
            SyncItem::removed(EntityKind::Conversation, gone),
            SyncItem::Message(message(
                again.conversation.id,
                (again.conversation.customer_id, Role::Customer),
                40_000,
                "again",
            )),
            SyncItem::Conversation(new.clone()),
            SyncItem::Message(message(new.id, (new.customer_id, Role::Customer), 10, "hi")),
        ];
        s.apply_page(&page(1_000, later)).await.unwrap();
        convs.retain(|c| c.id != gone);
        convs.push(new);
        let mine_resolved = s
            .inbox(&InboxQuery {
                me,
                filter: InboxFilter {
                    status: Some(ConversationStatus::Resolved),
                    ..filter(InboxGroup::All)
                },
                hour_ago_ms,
                limit: 1_000,
            })
            .await
            .unwrap();
        assert!(mine_resolved
            .entries
            .iter()
            .any(|e| e.conversation.id == moved.id && e.waiting_ms.is_none()));
    }
    // A reset empties the inbox with the cache.
    s.reset_cache().await.unwrap();
    let empty = other
        .inbox(&InboxQuery {
            me,
            filter: filter(InboxGroup::All),
            hour_ago_ms,
            limit: 25,
        })
        .await
        .unwrap();
    assert_eq!((empty.entries.len(), empty.total), (0, 0));
}
