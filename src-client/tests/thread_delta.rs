//! An open thread follows the engine's changes by the changed lines alone
//! (merged by `ThreadView::apply`), as the UI does, and always reads as a
//! whole new read would: a reply, state changes (pending, sent, delivered,
//! read), a refusal, a retry, a discard, and a resync (which reads the
//! whole thread again). Both ways the UI gets the lines: carried by the
//! change events for the thread the engine follows (`Engine::follow_thread`,
//! `Engine::ui_event`, as both shells forward events), and asked for
//! (`Engine::thread_delta`). Real server, real SQLite files.

use mostrador_client::{Engine, EngineEvent};
use mostrador_core::app::{AppEvent, Changes, Delivery, ThreadView};
use mostrador_core::chat::{MessageKind, SendMessage};
use mostrador_core::sync::MutationOp;
use mostrador_core::ErrorCode;
use tokio::sync::broadcast;
use uuid::Uuid;

mod support;
use support::app::{agent, engine, register};
use support::server::{free_port, Server};

/// How the screen caught up.
#[derive(Debug, PartialEq)]
enum Read {
    /// Nothing it shows changed.
    Nothing,
    /// The changed lines alone.
    Delta,
    /// The whole thread.
    Whole,
}

/// An open thread as the UI keeps it.
struct Screen {
    conversation: Uuid,
    view: ThreadView,
    events: broadcast::Receiver<EngineEvent>,
    /// The engine follows this thread: the events must carry its lines.
    carried: bool,
    me: Option<Uuid>,
}

impl Screen {
    async fn open(app: &Engine, conversation: Uuid, carried: bool) -> Self {
        let events = app.subscribe();
        if carried {
            app.follow_thread(conversation, true);
        }
        let view = app.thread_view(conversation).await.unwrap().unwrap();
        Self {
            conversation,
            view,
            events,
            carried,
            me: app.me().await.unwrap().map(|m| m.id),
        }
    }

    /// The events so far as the UI gets them, merged.
    async fn changes(&mut self, app: &Engine) -> Changes {
        let mut changes = Changes::default();
        while let Ok(e) = self.events.try_recv() {
            if self.carried {
                // What the shells hand the UI.
                if let Some(AppEvent::Changed(c)) = app.ui_event(&e, self.me).await {
                    changes.merge(&c);
                }
                continue;
            }
            match e {
                EngineEvent::Changed(c) => changes.merge(&c),
                EngineEvent::Resynced => changes.merge(&Changes::everything()),
                _ => {}
            }
        }
        changes
    }

    /// Takes the events so far and catches up as the UI does; then the
    /// screen must show what a whole new read shows.
    async fn follow(&mut self, app: &Engine) -> Read {
        let changes = self.changes(app).await;
        let read = if !changes.touches_conversation(self.conversation) {
            Read::Nothing
        } else if changes.lines_known() && self.carried {
            let carried = changes
                .thread
                .filter(|t| t.conversation_id == self.conversation)
                .expect("a change to the followed thread carries its lines");
            assert!(!carried.deltas.is_empty());
            for delta in carried.deltas {
                self.view.apply(delta);
            }
            Read::Delta
        } else if changes.lines_known() {
            assert_eq!(changes.thread, None, "not followed: nothing carried");
            let delta = app
                .thread_delta(self.conversation, &changes.messages)
                .await
                .unwrap()
                .expect("the conversation is still there");
            self.view.apply(delta);
            Read::Delta
        } else {
            self.view = app.thread_view(self.conversation).await.unwrap().unwrap();
            Read::Whole
        };
        let whole = app.thread_view(self.conversation).await.unwrap().unwrap();
        assert_eq!(self.view, whole, "after {read:?}");
        read
    }

    fn states(&self) -> Vec<(String, Delivery)> {
        self.view
            .lines
            .iter()
            .map(|l| (l.body.clone(), l.delivery.clone()))
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_thread_asks_for_changed_lines_and_reads_as_a_whole_read_would() {
    follow_a_thread(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_followed_thread_gets_its_changed_lines_with_each_event() {
    follow_a_thread(true).await;
}

async fn follow_a_thread(carried: bool) {
    let server_dir = tempfile::tempdir().unwrap();
    let app_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start(server_dir.path(), port).await;
    let app = engine(port, &app_dir.path().join("shopper.sqlite3")).await;
    app.register(&register("tess@example.com")).await.unwrap();
    let staff = agent(&server, port, &app_dir.path().join("agent.sqlite3")).await;

    let conv = app.ask(None, "where is my parcel").await.unwrap();
    let mut screen = Screen::open(&app, conv, carried).await;
    assert_eq!(
        screen.states(),
        [("where is my parcel".to_owned(), Delivery::Pending)]
    );

    // Queued, then sent, then stored: each a delta.
    app.say(conv, "any news?", vec![]).await.unwrap();
    assert_eq!(screen.follow(&app).await, Read::Delta);
    assert_eq!(screen.view.lines[1].delivery, Delivery::Pending);
    // (Between the push's answer and the pull, a conversation opened here
    // is on neither side of the device: both reads answer `None`.)
    app.push_pending().await.unwrap();
    app.pull().await.unwrap();
    assert_eq!(screen.follow(&app).await, Read::Delta);
    assert!(screen.states().iter().all(|(_, d)| *d == Delivery::Sent));

    // The agent answers: a new line from the other side, unread.
    staff.pull().await.unwrap();
    staff
        .reply(conv, "it ships today", false, vec![])
        .await
        .unwrap();
    staff.push_pending().await.unwrap();
    app.pull().await.unwrap();
    assert_eq!(screen.follow(&app).await, Read::Delta);
    let reply = screen.view.lines.last().unwrap().clone();
    assert_eq!((reply.body.as_str(), reply.mine), ("it ships today", false));
    assert_eq!(screen.view.summary.unread, 1);

    // The shopper reads it: the reply turns read, nothing unread.
    app.mark_read(conv).await.unwrap();
    app.push_pending().await.unwrap();
    app.pull().await.unwrap();
    assert_eq!(screen.follow(&app).await, Read::Delta);
    assert_eq!(screen.view.lines[2].delivery, Delivery::Read);
    assert_eq!(screen.view.summary.unread, 0);

    // The agent's device reads the shopper's lines: they turn read here.
    staff.pull().await.unwrap();
    staff.mark_read(conv).await.unwrap();
    staff.push_pending().await.unwrap();
    app.pull().await.unwrap();
    assert_eq!(screen.follow(&app).await, Read::Delta);
    assert_eq!(screen.view.lines[0].delivery, Delivery::Read);
    assert_eq!(screen.view.lines[1].delivery, Delivery::Read);

    // Refused (too long for the server), retried, discarded.
    let refused = Uuid::new_v4();
    let client_id = app
        .enqueue(MutationOp::SendMessage {
            conversation_id: conv,
            message: SendMessage {
                id: refused,
                body: "x".repeat(10_001),
                kind: MessageKind::Text,
                attachment_ids: vec![],
            },
        })
        .await
        .unwrap();
    app.push_pending().await.unwrap();
    assert_eq!(screen.follow(&app).await, Read::Delta);
    match &screen.view.lines.last().unwrap().delivery {
        Delivery::Failed { reason, .. } => assert_eq!(reason.code, ErrorCode::ValidationFailed),
        other => panic!("expected failed, got {other:?}"),
    }
    assert!(app.retry(client_id).await.unwrap());
    assert_eq!(screen.follow(&app).await, Read::Delta);
    assert_eq!(
        screen.view.lines.last().unwrap().delivery,
        Delivery::Pending
    );
    app.discard(client_id).await.unwrap();
    assert_eq!(screen.follow(&app).await, Read::Delta);
    assert!(screen.view.lines.iter().all(|l| l.id != refused));
    assert_eq!(screen.view.lines.len(), 3);

    // A reply in another conversation is not this screen's.
    let other = app.ask(None, "and my refund").await.unwrap();
    app.push_pending().await.unwrap();
    app.pull().await.unwrap();
    assert_eq!(screen.follow(&app).await, Read::Nothing);
    assert_ne!(other, conv);

    // The cursor is too old: the cache is rebuilt and the whole thread
    // read again.
    staff
        .reply(conv, "here is the tracking", false, vec![])
        .await
        .unwrap();
    staff.push_pending().await.unwrap();
    server.prune_feed().await;
    app.pull().await.unwrap();
    assert_eq!(screen.follow(&app).await, Read::Whole);
    assert_eq!(
        screen.view.lines.last().unwrap().body,
        "here is the tracking"
    );

    if carried {
        // Closing another thread (its close may come after this one's
        // open) leaves this one followed.
        app.follow_thread(other, false);
        app.say(conv, "thanks", vec![]).await.unwrap();
        assert_eq!(screen.follow(&app).await, Read::Delta);
        // Closed: the events carry nothing any more.
        app.follow_thread(conv, false);
        app.say(conv, "bye", vec![]).await.unwrap();
        let changes = screen.changes(&app).await;
        assert!(changes.touches_conversation(conv));
        assert_eq!(changes.thread, None);
    }
    server.stop().await;
}
