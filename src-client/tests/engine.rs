//! The engine against the real server on an ephemeral port and real SQLite
//! files: offline writes, resend after a crash, permanent rejections,
//! resync, two devices.

use mostrador_client::notices::Notice;
use mostrador_client::EngineEvent;
use mostrador_core::auth::LoginRequest;
use mostrador_core::chat::{
    ConversationThread, Message, MessageKind, OpenConversation, SendMessage,
};
use mostrador_core::sync::MutationOp;
use mostrador_core::ErrorCode;
use uuid::Uuid;

mod support;
use support::app::{engine, register};
use support::eventually;
use support::server::{free_port, Server};

fn text(id: Uuid, body: &str) -> SendMessage {
    SendMessage {
        id,
        body: body.into(),
        kind: MessageKind::Text,
        attachment_ids: vec![],
    }
}

async fn thread(server: &Server, conv: Uuid) -> ConversationThread {
    let mut conn = server.state.db.pool().acquire().await.unwrap();
    let agent = mostrador_server::auth::Actor {
        user_id: Uuid::nil(),
        role: mostrador_core::auth::Role::Agent,
        session_id: Uuid::nil(),
        display_name: "Test".into(),
    };
    let c = mostrador_server::authz::visible_conversation(&mut conn, &agent, conv)
        .await
        .unwrap();
    let messages: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM messages WHERE conversation_id = $1 ORDER BY created_at",
    )
    .bind(conv.to_string())
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let mut out = vec![];
    for m in messages {
        out.push(
            mostrador_server::routes::chat::load_message(&mut conn, m.parse().unwrap())
                .await
                .unwrap()
                .unwrap(),
        );
    }
    ConversationThread {
        conversation: c,
        messages: out,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_made_offline_go_out_once_and_in_order_when_the_server_is_back() {
    let server_dir = tempfile::tempdir().unwrap();
    let app_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start(server_dir.path(), port).await;
    let app = engine(port, &app_dir.path().join("store.sqlite3")).await;
    app.register(&register("ana@example.com")).await.unwrap();
    let mut events = app.subscribe();
    server.stop().await;

    // On the train: no server.
    let conv = Uuid::new_v4();
    let bodies = ["it's late", "order MS-10001", "any news?"];
    let ids: Vec<Uuid> = (0..3).map(|_| Uuid::new_v4()).collect();
    app.enqueue(MutationOp::OpenConversation(OpenConversation {
        id: conv,
        order_id: None,
        subject: "Late parcel".into(),
        message_id: ids[0],
        body: bodies[0].into(),
    }))
    .await
    .unwrap();
    for i in 1..3 {
        app.enqueue(MutationOp::SendMessage {
            conversation_id: conv,
            message: text(ids[i], bodies[i]),
        })
        .await
        .unwrap();
    }
    let err = app.push_pending().await.unwrap_err();
    assert!(
        matches!(err, mostrador_client::ClientError::Network(_)),
        "{err:?}"
    );
    let outbox = app.outbox().await.unwrap();
    assert_eq!(outbox.len(), 3, "nothing is dropped while offline");
    assert!(outbox
        .iter()
        .all(|i| i.attempts == 1 && i.last_error.is_some() && i.wedged.is_none()));
    assert!(matches!(
        events.recv().await.unwrap(),
        EngineEvent::Outbox {
            pending: 1,
            wedged: 0
        }
    ));

    // Out of the tunnel.
    let server = Server::start(server_dir.path(), port).await;
    app.retry_now().await.unwrap();
    let report = app.push_pending().await.unwrap();
    assert_eq!(report.applied, 3);
    assert!(app.outbox().await.unwrap().is_empty());
    let t = thread(&server, conv).await;
    let got: Vec<&str> = t.messages.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(got, bodies, "exactly once, in order");

    // The pull brings the server's view into the cache.
    app.pull().await.unwrap();
    let cached: Vec<Message> = app.store().list(Some(conv)).await.unwrap();
    assert_eq!(cached.iter().map(|m| m.id).collect::<Vec<_>>(), ids);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_resent_after_a_crash_lands_once() {
    let server_dir = tempfile::tempdir().unwrap();
    let app_dir = tempfile::tempdir().unwrap();
    let store_path = app_dir.path().join("store.sqlite3");
    let port = free_port();
    let server = Server::start(server_dir.path(), port).await;
    let app = engine(port, &store_path).await;
    app.register(&register("bo@example.com")).await.unwrap();
    let token = app.api().token();
    let conv = Uuid::new_v4();
    app.enqueue(MutationOp::OpenConversation(OpenConversation {
        id: conv,
        order_id: None,
        subject: "Refund".into(),
        message_id: Uuid::new_v4(),
        body: "hello".into(),
    }))
    .await
    .unwrap();
    // The push reaches the server, but the app dies before storing the
    // answer: the row is still in the outbox.
    let pending: Vec<_> = app
        .outbox()
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.mutation)
        .collect();
    app.api().push(pending).await.unwrap();
    drop(app);

    let app = engine(port, &store_path).await;
    app.api().set_token(token);
    assert_eq!(
        app.outbox().await.unwrap().len(),
        1,
        "the outbox survived the restart"
    );
    let report = app.push_pending().await.unwrap();
    assert_eq!(report.applied, 1);
    assert!(app.outbox().await.unwrap().is_empty());
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages")
        .fetch_one(server.state.db.pool())
        .await
        .unwrap();
    assert_eq!(n, 1, "one copy on the server");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_write_is_kept_with_its_reason_until_the_user_decides() {
    let server_dir = tempfile::tempdir().unwrap();
    let app_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start(server_dir.path(), port).await;
    let app = engine(port, &app_dir.path().join("store.sqlite3")).await;
    app.register(&register("cy@example.com")).await.unwrap();
    let bad = app
        .enqueue(MutationOp::SendMessage {
            conversation_id: Uuid::new_v4(),
            message: text(Uuid::new_v4(), "to nowhere"),
        })
        .await
        .unwrap();
    let report = app.push_pending().await.unwrap();
    assert_eq!(report.rejected, 1);
    let outbox = app.outbox().await.unwrap();
    assert_eq!(outbox.len(), 1, "a refusal is never dropped silently");
    assert_eq!(
        outbox[0].wedged.as_ref().map(|e| e.code),
        Some(ErrorCode::NotFound)
    );
    // Wedged items are not resent by themselves.
    assert_eq!(app.push_pending().await.unwrap(), Default::default());
    assert!(app.retry(bad).await.unwrap());
    assert_eq!(
        app.push_pending().await.unwrap().rejected,
        1,
        "the server's first answer stands"
    );
    app.discard(bad).await.unwrap();
    assert!(app.outbox().await.unwrap().is_empty());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_devices_converge_and_an_old_cursor_resyncs() {
    let server_dir = tempfile::tempdir().unwrap();
    let app_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start(server_dir.path(), port).await;
    let phone = engine(port, &app_dir.path().join("phone.sqlite3")).await;
    let tablet = engine(port, &app_dir.path().join("tablet.sqlite3")).await;
    phone.register(&register("dee@example.com")).await.unwrap();
    tablet
        .login(&LoginRequest {
            email: "dee@example.com".into(),
            password: "correct horse battery".into(),
            device_name: None,
        })
        .await
        .unwrap();
    let conv = Uuid::new_v4();
    phone
        .enqueue(MutationOp::OpenConversation(OpenConversation {
            id: conv,
            order_id: None,
            subject: "Size".into(),
            message_id: Uuid::new_v4(),
            body: "from the phone".into(),
        }))
        .await
        .unwrap();
    phone.push_pending().await.unwrap();
    tablet
        .enqueue(MutationOp::SendMessage {
            conversation_id: conv,
            message: text(Uuid::new_v4(), "from the tablet"),
        })
        .await
        .unwrap();
    tablet.push_pending().await.unwrap();
    // An agent replies (through the server's own code path).
    server.agent_reply(conv, "agent reply").await;
    phone.pull().await.unwrap();
    tablet.pull().await.unwrap();
    let on = |m: Vec<Message>| m.into_iter().map(|m| m.body).collect::<Vec<_>>();
    let want = vec![
        "from the phone".to_owned(),
        "from the tablet".into(),
        "agent reply".into(),
    ];
    assert_eq!(on(phone.store().list(Some(conv)).await.unwrap()), want);
    assert_eq!(on(tablet.store().list(Some(conv)).await.unwrap()), want);

    // The server drops old feed entries; the tablet's cursor is now too old.
    let before = tablet.store().cursor().await.unwrap();
    phone
        .enqueue(MutationOp::SendMessage {
            conversation_id: conv,
            message: text(Uuid::new_v4(), "later"),
        })
        .await
        .unwrap();
    phone.push_pending().await.unwrap();
    let head: i64 = sqlx::query_scalar("SELECT seq FROM feed_counter")
        .fetch_one(server.state.db.pool())
        .await
        .unwrap();
    mostrador_server::feed::prune(&server.state, head)
        .await
        .unwrap();
    let mut events = tablet.subscribe();
    tablet.pull().await.unwrap();
    assert!(tablet.store().cursor().await.unwrap() > before);
    let mut resynced = false;
    while let Ok(e) = events.try_recv() {
        resynced |= e == EngineEvent::Resynced;
    }
    assert!(resynced, "the tablet rebuilt its cache");
    let mut want = want;
    want.push("later".into());
    assert_eq!(on(tablet.store().list(Some(conv)).await.unwrap()), want);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_wipes_the_local_store() {
    let server_dir = tempfile::tempdir().unwrap();
    let app_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start(server_dir.path(), port).await;
    let path = app_dir.path().join("store.sqlite3");
    let app = engine(port, &path).await;
    app.register(&register("eve@example.com")).await.unwrap();
    let token = app.api().token().unwrap();
    app.pull().await.unwrap();
    assert!(path.exists());
    app.sign_out().await.unwrap();
    assert!(!path.exists(), "the store file is gone");
    // And the session is revoked on the server.
    let res = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/api/v1/me"))
        .bearer_auth(token.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sync_service_sends_by_itself_when_the_server_comes_back_and_gets_replies_live() {
    let server_dir = tempfile::tempdir().unwrap();
    let app_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start(server_dir.path(), port).await;
    let app = engine(port, &app_dir.path().join("store.sqlite3")).await;
    app.register(&register("fay@example.com")).await.unwrap();
    server.stop().await;

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let service = {
        let app = app.clone();
        tokio::spawn(async move { app.run(stop_rx).await })
    };
    let mut events = app.subscribe();
    let conv = Uuid::new_v4();
    app.enqueue(MutationOp::OpenConversation(OpenConversation {
        id: conv,
        order_id: None,
        subject: "Late".into(),
        message_id: Uuid::new_v4(),
        body: "it's late".into(),
    }))
    .await
    .unwrap();
    // The service reports that it is offline, and keeps the write.
    loop {
        if let EngineEvent::Status(mostrador_client::SyncStatus::Offline { .. }) =
            events.recv().await.unwrap()
        {
            break;
        }
    }
    assert_eq!(app.outbox().await.unwrap().len(), 1);

    let server = Server::start(server_dir.path(), port).await;
    eventually("the queued message reached the server", || async {
        app.outbox().await.unwrap().is_empty()
    })
    .await;
    assert_eq!(thread(&server, conv).await.messages.len(), 1);

    // An agent reply arrives without the app asking.
    server.agent_reply(conv, "on its way").await;
    eventually("the reply is in the local store", || async {
        let msgs: Vec<Message> = app.store().list(Some(conv)).await.unwrap();
        msgs.iter().any(|m| m.body == "on its way")
    })
    .await;

    stop_tx.send(true).unwrap();
    service.await.unwrap();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_cut_by_a_server_restart_resumes_where_it_stopped() {
    let server_dir = tempfile::tempdir().unwrap();
    let app_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start(server_dir.path(), port).await;
    let app = engine(port, &app_dir.path().join("store.sqlite3")).await;
    app.register(&register("gus@example.com")).await.unwrap();
    let conv = Uuid::new_v4();
    app.enqueue(MutationOp::OpenConversation(OpenConversation {
        id: conv,
        order_id: None,
        subject: "Many".into(),
        message_id: Uuid::new_v4(),
        body: "0".into(),
    }))
    .await
    .unwrap();
    for i in 1..60 {
        app.enqueue(MutationOp::SendMessage {
            conversation_id: conv,
            message: text(Uuid::new_v4(), &i.to_string()),
        })
        .await
        .unwrap();
    }
    assert_eq!(app.push_pending().await.unwrap().applied, 60);

    // First page only, then the server goes away mid-sync.
    let first = app.api().sync(0, 25).await.unwrap();
    assert!(first.has_more);
    app.store().apply_page(&first).await.unwrap();
    server.stop().await;
    assert!(app.pull().await.is_err());
    assert_eq!(
        app.store().cursor().await.unwrap(),
        first.cursor,
        "what was applied stays, nothing half-written"
    );

    let server = Server::start(server_dir.path(), port).await;
    app.pull().await.unwrap();
    let cached: Vec<Message> = app.store().list(Some(conv)).await.unwrap();
    let bodies: Vec<String> = cached.into_iter().map(|m| m.body).collect();
    let want: Vec<String> = (0..60).map(|i| i.to_string()).collect();
    assert_eq!(bodies, want);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_progress_and_changes_are_reported_as_typed_events() {
    use mostrador_core::orders::{IngestEvent, IngestKind, TrackingStatus};
    let server_dir = tempfile::tempdir().unwrap();
    let app_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start(server_dir.path(), port).await;
    let app = engine(port, &app_dir.path().join("store.sqlite3")).await;
    app.register(&register("hal@example.com")).await.unwrap();
    server.verify_email(&app, "hal@example.com").await;
    let ingest = |event: IngestEvent| {
        let state = server.state.clone();
        async move {
            let mut tx = state.db.begin_write().await.unwrap();
            mostrador_server::routes::orders::apply_ingest(&mut tx, &event)
                .await
                .unwrap();
            mostrador_server::feed::commit(&state, tx).await.unwrap();
        }
    };
    let at: jiff::Timestamp = "2026-11-20T10:00:00Z".parse().unwrap();
    ingest(IngestEvent {
        event_id: "o1".into(),
        occurred_at: at,
        order_number: "MS-7".into(),
        kind: IngestKind::OrderUpserted {
            customer_email: "hal@example.com".into(),
            placed_at: at,
            total_minor: 1000,
            currency: "EUR".into(),
            items: vec![],
            shipping_address: None,
        },
    })
    .await;
    app.pull().await.unwrap();
    let mut events = app.subscribe();
    ingest(IngestEvent {
        event_id: "t1".into(),
        occurred_at: "2026-11-21T10:00:00Z".parse().unwrap(),
        order_number: "MS-7".into(),
        kind: IngestKind::Tracking {
            status: TrackingStatus::Delayed,
            place: Some("Zaragoza".into()),
            description: None,
            shipment: None,
        },
    })
    .await;
    app.pull().await.unwrap();
    let order_id = app
        .orders()
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.number == "MS-7")
        .unwrap()
        .id;
    let (mut changed_order, mut progress) = (false, None);
    while let Ok(e) = events.try_recv() {
        match e {
            EngineEvent::Changed(changes) => changed_order |= changes.touches_order(order_id),
            EngineEvent::Notice(Notice::OrderProgress {
                number,
                status,
                new_events,
                ..
            }) => progress = Some((number, status, new_events)),
            _ => {}
        }
    }
    assert!(changed_order);
    let (number, status, new_events) = progress.expect("an order-progress notice");
    assert_eq!(
        (number.as_str(), status),
        ("MS-7", Some(TrackingStatus::Delayed))
    );
    assert_eq!(new_events[0].place.as_deref(), Some("Zaragoza"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_echo_shows_unsent_writes_as_pending_then_failed_or_stored() {
    use mostrador_client::echo::Delivery;
    let server_dir = tempfile::tempdir().unwrap();
    let app_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start(server_dir.path(), port).await;
    let app = engine(port, &app_dir.path().join("store.sqlite3")).await;
    app.register(&register("ivy@example.com")).await.unwrap();
    server.stop().await;

    let conv = Uuid::new_v4();
    let (first, second) = (Uuid::new_v4(), Uuid::new_v4());
    app.enqueue(MutationOp::OpenConversation(OpenConversation {
        id: conv,
        order_id: None,
        subject: "Late".into(),
        message_id: first,
        body: "it's late".into(),
    }))
    .await
    .unwrap();
    app.enqueue(MutationOp::SendMessage {
        conversation_id: conv,
        message: text(second, "still waiting"),
    })
    .await
    .unwrap();
    let convs = app.conversations().await.unwrap();
    assert_eq!((convs.len(), &convs[0].delivery), (1, &Delivery::Pending));
    let lines = app.thread(conv).await.unwrap();
    assert_eq!(
        lines
            .iter()
            .map(|l| (l.body.as_str(), &l.delivery))
            .collect::<Vec<_>>(),
        [
            ("it's late", &Delivery::Pending),
            ("still waiting", &Delivery::Pending)
        ]
    );

    // Back online: both land; one more is refused (too long) and shows so.
    let server = Server::start(server_dir.path(), port).await;
    let too_long = Uuid::new_v4();
    app.enqueue(MutationOp::SendMessage {
        conversation_id: conv,
        message: text(too_long, &"x".repeat(10_001)),
    })
    .await
    .unwrap();
    app.retry_now().await.unwrap();
    app.push_pending().await.unwrap();
    app.pull().await.unwrap();
    let lines = app.thread(conv).await.unwrap();
    assert_eq!(lines.len(), 3);
    assert_eq!(
        lines[0].delivery,
        Delivery::Stored(mostrador_core::chat::MessageState::Sent)
    );
    assert_eq!(
        lines[1].delivery,
        Delivery::Stored(mostrador_core::chat::MessageState::Sent)
    );
    match &lines[2].delivery {
        Delivery::Failed { reason, .. } => assert_eq!(reason.code, ErrorCode::ValidationFailed),
        other => panic!("expected failed, got {other:?}"),
    }
    assert!(app.conversations().await.unwrap()[0].conversation.is_some());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_the_account_goes_through_the_outbox_and_ends_the_session() {
    let server_dir = tempfile::tempdir().unwrap();
    let app_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start(server_dir.path(), port).await;
    let path = app_dir.path().join("store.sqlite3");
    let app = engine(port, &path).await;
    app.register(&register("jay@example.com")).await.unwrap();
    let mut events = app.subscribe();
    app.enqueue(MutationOp::DeleteAccount).await.unwrap();
    assert_eq!(app.push_pending().await.unwrap().applied, 1);
    let mut deleted = false;
    while let Ok(e) = events.try_recv() {
        deleted |= e == EngineEvent::AccountDeleted;
    }
    assert!(deleted);
    assert!(
        app.pull().await.is_err(),
        "the session ended with the account"
    );
    app.sign_out().await.unwrap();
    assert!(!path.exists());
    let again = engine(port, &app_dir.path().join("other.sqlite3")).await;
    let login = again
        .login(&LoginRequest {
            email: "jay@example.com".into(),
            password: "correct horse battery".into(),
            device_name: None,
        })
        .await;
    assert!(login.is_err());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_attached_offline_goes_up_before_its_message_and_is_cached() {
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR a photo of the broken mug";
    let server_dir = tempfile::tempdir().unwrap();
    let app_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start(server_dir.path(), port).await;
    let app = engine(port, &app_dir.path().join("store.sqlite3")).await;
    app.register(&register("kit@example.com")).await.unwrap();
    let conv = Uuid::new_v4();
    app.enqueue(MutationOp::OpenConversation(OpenConversation {
        id: conv,
        order_id: None,
        subject: "Broken".into(),
        message_id: Uuid::new_v4(),
        body: "it arrived broken".into(),
    }))
    .await
    .unwrap();
    app.push_pending().await.unwrap();
    server.stop().await;

    // Offline: an .exe is refused at once; the photo is kept.
    assert!(app
        .attach(conv, "setup.exe", b"MZ\x90\0".to_vec())
        .await
        .is_err());
    let photo = app.attach(conv, "mug.png", PNG.to_vec()).await.unwrap();
    let mut msg = text(Uuid::new_v4(), "see photo");
    msg.attachment_ids = vec![photo];
    app.enqueue(MutationOp::SendMessage {
        conversation_id: conv,
        message: msg,
    })
    .await
    .unwrap();
    assert_eq!(
        app.attachment_bytes(photo).await.unwrap(),
        PNG,
        "previewable before upload"
    );
    assert!(app.push_pending().await.is_err());

    let server = Server::start(server_dir.path(), port).await;
    app.retry_now().await.unwrap();
    assert_eq!(
        app.push_pending().await.unwrap().applied,
        1,
        "the message went, with its file"
    );
    let t = thread(&server, conv).await;
    assert_eq!(t.messages[1].attachments[0].id, photo);
    // From the server now, then from the cache with the server gone.
    assert_eq!(app.attachment_bytes(photo).await.unwrap(), PNG);
    server.stop().await;
    assert_eq!(
        app.attachment_bytes(photo).await.unwrap(),
        PNG,
        "served from the cache offline"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_pull_reports_progress() {
    let server_dir = tempfile::tempdir().unwrap();
    let app_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start(server_dir.path(), port).await;
    let writer = engine(port, &app_dir.path().join("writer.sqlite3")).await;
    writer.register(&register("liz@example.com")).await.unwrap();
    let conv = Uuid::new_v4();
    writer
        .enqueue(MutationOp::OpenConversation(OpenConversation {
            id: conv,
            order_id: None,
            subject: "Long".into(),
            message_id: Uuid::new_v4(),
            body: "0".into(),
        }))
        .await
        .unwrap();
    // More than a page of the engine's, so the pull reports part-way.
    let n = mostrador_client::engine::PAGE as usize + 400;
    for i in 1..n {
        writer
            .enqueue(MutationOp::SendMessage {
                conversation_id: conv,
                message: text(Uuid::new_v4(), &i.to_string()),
            })
            .await
            .unwrap();
    }
    assert_eq!(writer.push_pending().await.unwrap().applied, n);

    let reader = engine(port, &app_dir.path().join("reader.sqlite3")).await;
    reader
        .login(&LoginRequest {
            email: "liz@example.com".into(),
            password: "correct horse battery".into(),
            device_name: None,
        })
        .await
        .unwrap();
    let mut events = reader.subscribe();
    reader.pull().await.unwrap();
    let mut progress = Vec::new();
    while let Ok(e) = events.try_recv() {
        if let EngineEvent::Status(mostrador_client::SyncStatus::Syncing { done, total }) = e {
            progress.push((done, total));
        }
    }
    // A snapshot of more than one page: a progress report part-way.
    assert!(!progress.is_empty(), "no progress reported");
    let (done, total) = progress[0];
    assert!(done > 0 && done < total && total >= n as i64, "{progress:?}");
    assert_eq!(
        reader
            .store()
            .list::<Message>(Some(conv))
            .await
            .unwrap()
            .len(),
        n
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_device_sees_the_inbox_with_waiting_times_and_answers_through_its_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start(dir.path(), port).await;
    let shopper = engine(port, &dir.path().join("shopper.sqlite3")).await;
    shopper
        .register(&register("ana@example.com"))
        .await
        .unwrap();
    let conv = shopper.ask(None, "it's late\nOrder MS-1").await.unwrap();
    shopper.push_pending().await.unwrap();

    let agent = support::app::agent(&server, port, &dir.path().join("agent.sqlite3")).await;
    agent.pull().await.unwrap();
    let all = mostrador_core::app::InboxFilter {
        group: mostrador_core::app::InboxGroup::All,
        status: None,
        has_order: false,
        waiting_long: false,
        matches: None,
    };
    let inbox = agent.inbox(&all, None, 100).await.unwrap().rows;
    let row = inbox
        .iter()
        .find(|r| r.summary.id == conv)
        .expect("in the inbox");
    assert_eq!(row.customer_name, "Ana");
    assert_eq!(row.summary.subject, "it's late");
    assert!(
        row.waiting_since.is_some(),
        "the customer waits for an answer"
    );
    assert_eq!(
        agent.search_messages("ORDER ms-1").await.unwrap(),
        vec![conv]
    );
    assert!(agent.search_messages("100%").await.unwrap().is_empty());

    // A note and a reply, queued then pushed.
    agent
        .reply(conv, "check the carrier", true, vec![])
        .await
        .unwrap();
    agent
        .reply(conv, "Hi Ana, on its way", false, vec![])
        .await
        .unwrap();
    agent
        .update_conversation(
            conv,
            mostrador_core::chat::UpdateConversation {
                status: Some(mostrador_core::chat::ConversationStatus::Pending),
                assigned_agent_id: None,
            },
        )
        .await
        .unwrap();
    let report = agent.push_pending().await.unwrap();
    assert_eq!((report.applied, report.rejected), (3, 0));
    agent.pull().await.unwrap();
    let found = agent.inbox(&all, Some("ORDER ms-1"), 100).await.unwrap();
    assert_eq!(found.total, 1, "search narrows the inbox");
    let row = found
        .rows
        .into_iter()
        .find(|r| r.summary.id == conv)
        .unwrap();
    assert_eq!(row.waiting_since, None, "answered");
    let glance = agent.customer(row.customer_id).await.unwrap();
    assert_eq!(glance.name, "Ana");
    assert_eq!(glance.conversations.len(), 1);

    // The shopper sees the reply, never the note; the engine acknowledged
    // it while applying the page.
    let mut events = shopper.subscribe();
    shopper.pull().await.unwrap();
    let lines = shopper.thread(conv).await.unwrap();
    let bodies: Vec<&str> = lines.iter().map(|l| l.body.as_str()).collect();
    assert_eq!(bodies, ["it's late\nOrder MS-1", "Hi Ana, on its way"]);
    let mut items = Vec::new();
    while let Ok(e) = events.try_recv() {
        if let EngineEvent::Changed(changes) = e {
            items.push(changes);
        }
    }
    assert!(items.iter().any(|c| c.touches_conversation(conv)));
    shopper.push_pending().await.unwrap();
    let reply = thread(&server, conv)
        .await
        .messages
        .into_iter()
        .find(|m| m.body == "Hi Ana, on its way")
        .unwrap();
    assert_eq!(reply.state, mostrador_core::chat::MessageState::Delivered);
    // The receipt coming back (the reply now `delivered`) is not
    // acknowledged again.
    shopper.pull().await.unwrap();
    assert!(shopper.outbox().await.unwrap().is_empty());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staff_accounts_shopper_views_show_only_its_own_data() {
    use mostrador_core::callbacks::{CallbackChannel, RequestCallback, Slot, TimeWindow};
    use mostrador_core::orders::{IngestEvent, IngestKind};
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start(dir.path(), port).await;
    let agent_id = server.agent_account().await;
    let ingest = |number: &str, email: &str| {
        let state = server.state.clone();
        let event = IngestEvent {
            event_id: format!("e-{number}"),
            occurred_at: jiff::Timestamp::now(),
            order_number: number.into(),
            kind: IngestKind::OrderUpserted {
                customer_email: email.into(),
                placed_at: jiff::Timestamp::now(),
                total_minor: 1000,
                currency: "EUR".into(),
                items: vec![],
                shipping_address: None,
            },
        };
        async move {
            let mut tx = state.db.begin_write().await.unwrap();
            mostrador_server::routes::orders::apply_ingest(&mut tx, &event)
                .await
                .unwrap();
            mostrador_server::feed::commit(&state, tx).await.unwrap();
        }
    };

    // Nora, a customer: an order, a conversation and a callback.
    let nora = engine(port, &dir.path().join("nora.sqlite3")).await;
    nora.register(&register("nora@example.com")).await.unwrap();
    server.verify_email(&nora, "nora@example.com").await;
    ingest("MS-NORA", "nora@example.com").await;
    ingest("MS-STAFF", "agent@shop.test").await;
    nora.ask(None, "where is my parcel?").await.unwrap();
    let slots: Vec<Slot> = nora.api().get("/api/v1/callbacks/slots").await.unwrap();
    let slot = slots.iter().find(|s| s.free > 0).expect("a free slot");
    nora.enqueue(MutationOp::RequestCallback(RequestCallback {
        id: Uuid::new_v4(),
        channel: CallbackChannel::Voice,
        phone: Some("+34911234567".into()),
        topic: "my parcel".into(),
        order_id: None,
        time_zone: "Europe/Madrid".into(),
        windows: vec![TimeWindow {
            start: slot.start,
            end: slot.end,
        }],
    }))
    .await
    .unwrap();
    let report = nora.push_pending().await.unwrap();
    assert_eq!((report.applied, report.rejected), (2, 0));

    // The agent's device caches every customer's support data.
    let agent = support::app::agent(&server, port, &dir.path().join("agent.sqlite3")).await;
    agent.pull().await.unwrap();
    assert_eq!(
        agent.callback_queue().await.unwrap().len(),
        1,
        "agent mode still sees Nora's callback"
    );

    // Its shopper view shows only what is the agent's own.
    let orders: Vec<String> = agent
        .orders()
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.number)
        .collect();
    assert!(!orders.contains(&"MS-NORA".to_string()), "{orders:?}");
    assert!(
        agent
            .orders()
            .await
            .unwrap()
            .iter()
            .all(|o| o.customer_id == Some(agent_id)),
        "{orders:?}"
    );
    assert!(agent.conversation_summaries().await.unwrap().is_empty());
    assert!(agent.callback_lines().await.unwrap().is_empty());
    let home = agent.home().await.unwrap();
    assert!(home.active_orders.iter().all(|o| o.number != "MS-NORA"));
    assert!(home.open_conversations.is_empty() && home.upcoming_callbacks.is_empty());

    // Nora's own views are unchanged.
    nora.pull().await.unwrap();
    assert_eq!(nora.orders().await.unwrap().len(), 1);
    assert_eq!(nora.conversation_summaries().await.unwrap().len(), 1);
    assert_eq!(nora.callback_lines().await.unwrap().len(), 1);
    server.stop().await;
}

/// A message with files is checked whole before any file is kept: a bad
/// file or body leaves nothing waiting (a kept file would count against
/// the server's quota of unsent uploads with no message to carry it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_message_with_files_keeps_none_of_them() {
    use mostrador_core::app::PickedFile;
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR a photo of the label";
    let app_dir = tempfile::tempdir().unwrap();
    let app = engine(free_port(), &app_dir.path().join("store.sqlite3")).await;
    let conv = Uuid::new_v4();
    let file = |name: &str, bytes: &[u8]| PickedFile {
        name: name.into(),
        bytes: bytes.to_vec(),
    };

    let bad_file = app
        .attach_for(
            conv,
            "two files",
            vec![file("a.png", PNG), file("setup.exe", b"MZ\x90\0")],
        )
        .await;
    assert!(bad_file.is_err());
    let bad_body = app
        .attach_for(conv, "bell \u{0007}", vec![file("a.png", PNG)])
        .await;
    assert!(bad_body.is_err());
    assert!(app.store().pending_uploads().await.unwrap().is_empty());

    let ids = app
        .attach_for(conv, "the label", vec![file("a.png", PNG)])
        .await
        .unwrap();
    assert_eq!(ids.len(), 1);
    assert_eq!(app.store().pending_uploads().await.unwrap().len(), 1);
}
