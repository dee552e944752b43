//! Receipts and change events against the real server on an ephemeral port
//! and real SQLite files: the engine acknowledges delivery itself after
//! applying a page, only on the devices of the conversation's participants;
//! a "read" due with a "delivered" goes as one receipt; a local write says
//! which conversation it touched.

use mostrador_client::{Engine, EngineEvent};
use mostrador_core::auth::{LoginRequest, Role};
use mostrador_core::chat::{Message, MessageState, UpdateConversation};
use mostrador_core::sync::MutationOp;
use uuid::Uuid;

mod support;
use support::app::{engine, register};
use support::server::{free_port, Server};

/// The receipts waiting in `device`'s outbox: (conversation, state).
async fn queued_receipts(device: &Engine) -> Vec<(Uuid, MessageState)> {
    device
        .outbox()
        .await
        .unwrap()
        .into_iter()
        .filter_map(|i| match i.mutation.op {
            MutationOp::MarkMessages {
                conversation_id,
                mark,
            } => Some((conversation_id, mark.state)),
            _ => None,
        })
        .collect()
}

/// Another staff account (`email`, password `staff password 1`) signed in
/// on its own device.
async fn other_staff(server: &Server, port: u16, store: &std::path::Path, email: &str) -> Engine {
    let hash = mostrador_server::auth::hash_password("staff password 1".into())
        .await
        .unwrap();
    let mut tx = server.state.db.begin_write().await.unwrap();
    mostrador_server::routes::accounts::insert_user(
        &mut tx,
        email,
        &hash,
        "Marta",
        Role::Agent,
        "es",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let device = engine(port, store).await;
    device
        .login(&LoginRequest {
            email: email.into(),
            password: "staff password 1".into(),
            device_name: None,
        })
        .await
        .unwrap();
    device
}

/// Ana's device with a conversation she opened (sent).
async fn shopper_with_question(port: u16, store: &std::path::Path) -> (Engine, Uuid) {
    let shopper = engine(port, store).await;
    shopper
        .register(&register("ana@example.com"))
        .await
        .unwrap();
    let conv = shopper.ask(None, "Where is my parcel?").await.unwrap();
    shopper.push_pending().await.unwrap();
    (shopper, conv)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_participants_devices_acknowledge_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start(dir.path(), port).await;
    let (shopper, conv) = shopper_with_question(port, &dir.path().join("ana.sqlite3")).await;

    // The assigned agent claims the conversation; another agent only looks.
    let luis = support::app::agent(&server, port, &dir.path().join("luis.sqlite3")).await;
    let marta = other_staff(
        &server,
        port,
        &dir.path().join("marta.sqlite3"),
        "marta@shop.test",
    )
    .await;
    luis.pull().await.unwrap();
    let luis_id = luis.me().await.unwrap().unwrap().id;
    luis.update_conversation(
        conv,
        UpdateConversation {
            status: None,
            assigned_agent_id: Some(Some(luis_id)),
        },
    )
    .await
    .unwrap();
    luis.push_pending().await.unwrap();
    luis.pull().await.unwrap();

    shopper.say(conv, "Anyone there?", vec![]).await.unwrap();
    shopper.push_pending().await.unwrap();

    marta.pull().await.unwrap();
    assert_eq!(
        queued_receipts(&marta).await,
        [],
        "a staff device not assigned to the conversation acknowledges nothing"
    );
    luis.pull().await.unwrap();
    assert_eq!(
        queued_receipts(&luis).await,
        [(conv, MessageState::Delivered)]
    );

    // The customer's device acknowledges the staff reply.
    server.agent_reply(conv, "On its way").await;
    shopper.pull().await.unwrap();
    assert_eq!(
        queued_receipts(&shopper).await,
        [(conv, MessageState::Delivered)]
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivered_and_read_due_together_go_as_one_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start(dir.path(), port).await;
    let (shopper, conv) = shopper_with_question(port, &dir.path().join("ana.sqlite3")).await;
    server.agent_reply(conv, "On its way").await;
    shopper.pull().await.unwrap();
    assert_eq!(
        queued_receipts(&shopper).await,
        [(conv, MessageState::Delivered)]
    );

    // Read before the "delivered" left: only the read goes.
    assert!(shopper.mark_read(conv).await.unwrap());
    assert_eq!(
        queued_receipts(&shopper).await,
        [(conv, MessageState::Read)]
    );
    let report = shopper.push_pending().await.unwrap();
    assert_eq!((report.applied, report.rejected), (1, 0));
    shopper.pull().await.unwrap();
    let reply: Message = shopper
        .store()
        .list::<Message>(Some(conv))
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.body == "On its way")
        .unwrap();
    assert_eq!(reply.state, MessageState::Read, "the server has the read");
    assert!(shopper.outbox().await.unwrap().is_empty());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_write_says_which_conversation_it_touched() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start(dir.path(), port).await;
    let (shopper, conv) = shopper_with_question(port, &dir.path().join("ana.sqlite3")).await;
    shopper.pull().await.unwrap();
    let me = shopper.me().await.unwrap().unwrap().id;

    let mut events = shopper.subscribe();
    shopper.say(conv, "One more thing", vec![]).await.unwrap();
    let mut changed = Vec::new();
    while let Ok(e) = events.try_recv() {
        if let EngineEvent::Changed(c) = e {
            changed.push(c);
        }
    }
    assert_eq!(changed.len(), 1, "{changed:?}");
    let c = &changed[0];
    assert_eq!(c.conversations, [conv]);
    assert_eq!(c.customers, [me]);
    assert!(c.unscoped.is_empty(), "not a blanket refresh: {c:?}");

    // Its being applied names the same conversation.
    shopper.push_pending().await.unwrap();
    let mut applied = None;
    while let Ok(e) = events.try_recv() {
        if let EngineEvent::Changed(c) = e {
            applied = Some(c);
        }
    }
    assert_eq!(
        applied.expect("a change when applied").conversations,
        [conv]
    );
    server.stop().await;
}
