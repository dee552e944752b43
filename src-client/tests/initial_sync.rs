//! The initial sync against the real server: the snapshot (each entity
//! once), then the feed from the snapshot's first cursor. An interrupted
//! snapshot resumes where its progress stands, entities changed, added
//! and removed while it paged arrive through the feed, and the store ends
//! as the feed alone leaves it.

use std::collections::HashMap;

use mostrador_client::store::Store;
use mostrador_core::callbacks::Callback;
use mostrador_core::chat::{Conversation, Message, MessageKind, OpenConversation, SendMessage};
use mostrador_core::orders::Order;
use mostrador_core::profile::Profile;
use mostrador_core::sync::MutationOp;
use uuid::Uuid;

mod support;
use support::app::{agent, engine, register};
use support::server::{free_port, Server};

/// Everything a store caches, for comparing two stores.
#[derive(Debug, PartialEq)]
struct Cached {
    orders: Vec<Order>,
    conversations: Vec<Conversation>,
    messages: Vec<Message>,
    profiles: Vec<Profile>,
    callbacks: Vec<Callback>,
    activity: HashMap<Uuid, mostrador_client::store::ConversationActivity>,
}

async fn cached(store: &Store) -> Cached {
    Cached {
        orders: store.list(None).await.unwrap(),
        conversations: store.list(None).await.unwrap(),
        messages: store.list(None).await.unwrap(),
        profiles: store.list(None).await.unwrap(),
        callbacks: store.list(None).await.unwrap(),
        activity: store.conversation_activity().await.unwrap(),
    }
}

/// A shopper opens a conversation and writes `n` messages in it.
async fn talk(app: &mostrador_client::Engine, n: usize) -> Uuid {
    let conv = Uuid::new_v4();
    app.enqueue(MutationOp::OpenConversation(OpenConversation {
        id: conv,
        order_id: None,
        subject: "Sizes".into(),
        message_id: Uuid::new_v4(),
        body: "0".into(),
    }))
    .await
    .unwrap();
    for i in 1..n {
        app.enqueue(MutationOp::SendMessage {
            conversation_id: conv,
            message: SendMessage {
                id: Uuid::new_v4(),
                body: i.to_string(),
                kind: MessageKind::Text,
                attachment_ids: vec![],
            },
        })
        .await
        .unwrap();
    }
    assert_eq!(app.push_pending().await.unwrap().applied, n);
    conv
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_snapshot_resumes_and_ends_as_the_feed_alone_would() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start(dir.path(), port).await;
    let ana = engine(port, &dir.path().join("ana.sqlite3")).await;
    ana.register(&register("ana@example.com")).await.unwrap();
    let conv = talk(&ana, 30).await;
    server.agent_reply(conv, "agent reply").await;
    let bea = engine(port, &dir.path().join("bea.sqlite3")).await;
    bea.register(&register("bea@example.com")).await.unwrap();
    talk(&bea, 3).await;

    // The agent's device reads the first page of its snapshot, then stops
    // (the app was closed). Its store does not claim to be complete.
    let device = agent(&server, port, &dir.path().join("agent.sqlite3")).await;
    let first = device.api().snapshot(None, 4).await.unwrap();
    assert!(first.next.is_some());
    assert!(device
        .store()
        .apply_snapshot_page(None, &first)
        .await
        .unwrap());
    assert_eq!(device.store().cursor().await.unwrap(), 0);
    let progress = device.store().snapshot_progress().await.unwrap().unwrap();
    assert_eq!(progress.cursor, first.cursor);

    // Meanwhile: a reply (a new message, a changed conversation) and a
    // deleted account.
    server.agent_reply(conv, "while the app was closed").await;
    bea.enqueue(MutationOp::DeleteAccount).await.unwrap();
    bea.push_pending().await.unwrap();

    // The next pull goes on from the progress, then reads the feed from the
    // first page's cursor.
    let carried = device.pull().await.unwrap() + first.items.len();
    assert_eq!(device.store().snapshot_progress().await.unwrap(), None);
    assert!(device.store().cursor().await.unwrap() > first.cursor);

    // The same account's store filled from the feed alone, in small pages.
    let alone = agent(&server, port, &dir.path().join("alone.sqlite3")).await;
    let (mut cursor, mut fed) = (0, 0);
    loop {
        let page = alone.api().sync(cursor, 7).await.unwrap();
        alone.store().apply_page(&page).await.unwrap();
        fed += page.items.len();
        cursor = page.cursor;
        if !page.has_more {
            break;
        }
    }
    let (got, want) = (cached(device.store()).await, cached(alone.store()).await);
    assert_eq!(got, want, "snapshot + feed = the feed alone");
    let bodies: Vec<&str> = got.messages.iter().map(|m| m.body.as_str()).collect();
    assert!(bodies.contains(&"while the app was closed"));
    assert!(
        !got.profiles.iter().any(|p| p.email == "bea@example.com"),
        "the deleted account's profile is gone"
    );
    let entities = got.orders.len()
        + got.conversations.len()
        + got.messages.len()
        + got.profiles.len()
        + got.callbacks.len();
    // Each entity once, plus what changed after the snapshot's cursor: a
    // message and its conversation, and the deletion's three messages,
    // conversation and profile.
    assert!(
        carried < fed && carried <= entities + 7,
        "carried {carried} items for {entities} entities (the feed alone: {fed})"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_of_an_empty_feed_completes_and_the_next_pull_reads_the_feed() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start(dir.path(), port).await;
    // The agent's account is made without a feed row: the head stays 0.
    let device = agent(&server, port, &dir.path().join("agent.sqlite3")).await;
    assert!(!device.store().has_cursor().await.unwrap());
    assert_eq!(device.pull().await.unwrap(), 0);
    assert!(
        device.store().has_cursor().await.unwrap(),
        "complete at the empty feed's head, so the next pull does not snapshot again"
    );
    assert_eq!(device.store().cursor().await.unwrap(), 0);
    assert_eq!(device.store().snapshot_progress().await.unwrap(), None);

    // The first change reaches it through the feed.
    let ana = engine(port, &dir.path().join("ana.sqlite3")).await;
    ana.register(&register("ana@example.com")).await.unwrap();
    talk(&ana, 2).await;
    assert!(device.pull().await.unwrap() > 0);
    assert!(device.store().cursor().await.unwrap() > 0);
    let messages: Vec<Message> = device.store().list(None).await.unwrap();
    assert_eq!(messages.len(), 2);
    server.stop().await;
}
