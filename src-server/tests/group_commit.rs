//! Group commit (`mostrador_server::writer`): concurrent writes share a
//! transaction, and each is still answered on its own, idempotent, and
//! undone alone when it fails; the feed's order is the order the writes
//! ran in; a commit pokes each connection once.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Backend, TestServer};
use futures_util::future::join_all;
use futures_util::StreamExt;
use mostrador_core::auth::Role;
use mostrador_core::live::LiveServerMessage;
use mostrador_server::error::{AppError, AppResult};
use mostrador_server::feed::{self, Change, Entity};
use reqwest::StatusCode;
use serde_json::json;
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use uuid::Uuid;

/// Opens a conversation for a new customer: (token, user id, conversation).
async fn customer_with_conversation(s: &TestServer, email: &str) -> (String, String, Uuid) {
    let (token, id) = s.customer(email).await;
    let conv = Uuid::new_v4();
    let (st, v) = s
        .post(
            "/api/v1/conversations",
            Some(&token),
            json!({"id": conv, "subject": "Parcel", "message_id": Uuid::new_v4(), "body": "where is it?"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    (token, id, conv)
}

fn push_send(client_id: Uuid, conv: Uuid, id: Uuid, body: &str) -> serde_json::Value {
    json!({"client_id": client_id, "op": "send_message",
        "args": {"conversation_id": conv, "id": id, "body": body}})
}

/// The ids of a conversation's messages, oldest first.
async fn thread_ids(s: &TestServer, token: &str, conv: Uuid) -> Vec<String> {
    let (st, v) = s.get(&format!("/api/v1/conversations/{conv}"), token).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Holds the writer busy with one write until the gate opens, so that the
/// writes queued meanwhile run together in the next transaction.
async fn hold_writer(s: &TestServer, gate: Arc<Notify>) -> tokio::task::JoinHandle<AppResult<()>> {
    let started = Arc::new(Notify::new());
    let (writer, running) = (s.state.writer.clone(), started.clone());
    let held = tokio::spawn(async move {
        writer
            .write(move |_tx| {
                let (gate, running) = (gate.clone(), running.clone());
                Box::pin(async move {
                    running.notify_one();
                    gate.notified().await;
                    Ok(())
                })
            })
            .await
    });
    started.notified().await;
    held
}

async fn concurrent_sends_are_each_answered_and_idempotent(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (a, _, conv) = customer_with_conversation(&s, "a@example.com").await;
    let (agent, _) = s.staff("agent@shop.test", Role::Agent).await;
    let before = s.state.writer.stats();

    // 30 REST sends (customer and agent) and 6 pushes of 5 sends, at once,
    // plus the same message resent 4 times over REST and the same push
    // item 4 times, while the writer is busy, so they share transactions.
    let gate = Arc::new(Notify::new());
    let held = hold_writer(&s, gate.clone()).await;
    let rest_ids: Vec<Uuid> = (0..30).map(|_| Uuid::new_v4()).collect();
    let pushes: Vec<Vec<(Uuid, Uuid)>> = (0..6)
        .map(|_| (0..5).map(|_| (Uuid::new_v4(), Uuid::new_v4())).collect())
        .collect();
    let resent = Uuid::new_v4();
    let (resent_item, resent_msg) = (Uuid::new_v4(), Uuid::new_v4());
    let path = format!("/api/v1/conversations/{conv}/messages");
    let rest = join_all(rest_ids.iter().enumerate().map(|(i, id)| {
        let token = if i % 2 == 0 { &a } else { &agent };
        s.post(
            &path,
            Some(token),
            json!({"id": id, "body": format!("rest {i}")}),
        )
    }));
    let pushed = join_all(pushes.iter().map(|items| {
        let mutations: Vec<_> = items
            .iter()
            .map(|(c, m)| push_send(*c, conv, *m, "pushed"))
            .collect();
        s.post(
            "/api/v1/sync/push",
            Some(&a),
            json!({ "mutations": mutations }),
        )
    }));
    let again =
        join_all((0..4).map(|_| s.post(&path, Some(&a), json!({"id": resent, "body": "twice?"}))));
    let again_push = join_all((0..4).map(|_| {
        s.post(
            "/api/v1/sync/push",
            Some(&a),
            json!({"mutations": [push_send(resent_item, conv, resent_msg, "once")]}),
        )
    }));
    let all = async { tokio::join!(rest, pushed, again, again_push) };
    let opener = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        gate.notify_one();
    };
    let ((rest, pushed, again, again_push), ()) = tokio::join!(all, opener);
    held.await.unwrap().unwrap();

    for ((st, v), id) in rest.iter().zip(&rest_ids) {
        assert_eq!(*st, StatusCode::CREATED, "{v}");
        assert_eq!(v["id"], json!(id), "each send gets its own answer");
    }
    for ((st, v), items) in pushed.iter().zip(&pushes) {
        assert_eq!(*st, StatusCode::OK, "{v}");
        let results = v["results"].as_array().unwrap();
        assert_eq!(results.len(), items.len());
        for (r, (client_id, msg)) in results.iter().zip(items) {
            assert_eq!(r["client_id"], json!(client_id));
            assert_eq!(r["outcome"], "applied", "{r}");
            assert_eq!(r["ids"], json!([msg]));
        }
    }
    for (st, v) in &again {
        assert_eq!(
            *st,
            StatusCode::CREATED,
            "a resend is answered like the send: {v}"
        );
        assert_eq!(v["id"], json!(resent));
    }
    for (st, v) in &again_push {
        assert_eq!(*st, StatusCode::OK, "{v}");
        assert_eq!(v["results"][0]["outcome"], "applied", "{v}");
        assert_eq!(v["results"][0]["ids"], json!([resent_msg]));
    }

    let ids = thread_ids(&s, &agent, conv).await;
    assert_eq!(ids.len(), 1 + 30 + 30 + 1 + 1, "every send once: {ids:?}");
    for id in rest_ids
        .iter()
        .chain(pushes.iter().flatten().map(|(_, m)| m))
    {
        assert_eq!(ids.iter().filter(|i| **i == id.to_string()).count(), 1);
    }
    for id in [resent, resent_msg] {
        assert_eq!(
            ids.iter().filter(|i| **i == id.to_string()).count(),
            1,
            "resent once"
        );
    }
    let after = s.state.writer.stats();
    let (txs, writes) = (after.0 - before.0, after.1 - before.1);
    assert_eq!(writes, 1 + 30 + 6 + 4 + 4, "every request was one write");
    assert!(
        txs < writes / 4,
        "the writes queued behind a busy writer shared transactions: {txs} for {writes}"
    );
    s.finish().await;
}

async fn a_failing_write_does_not_fail_its_neighbours(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (a, _, conv) = customer_with_conversation(&s, "a@example.com").await;
    let (b, _, conv_b) = customer_with_conversation(&s, "b@example.com").await;
    let writer = s.state.writer.clone();
    let before = writer.stats();

    let gate = Arc::new(Notify::new());
    let held = hold_writer(&s, gate.clone()).await;
    // Twelve writes at once: every third records a change and then fails
    // in the database (a statement on a missing table; on PostgreSQL that
    // poisons the transaction until rolled back to the savepoint), the
    // others record one change each.
    let writes = join_all((0..12).map(|i| {
        let writer = writer.clone();
        async move {
            writer
                .write(move |tx| {
                    Box::pin(async move {
                        let id = Uuid::new_v4();
                        let seq =
                            feed::record(tx, Change::upsert(Entity::Message, id, None)).await?;
                        if i % 3 == 0 {
                            sqlx::query("INSERT INTO no_such_table (x) VALUES (1)")
                                .execute(&mut **tx)
                                .await?;
                        }
                        AppResult::Ok((seq, id))
                    })
                })
                .await
        }
    }));
    // Over HTTP in the same batch: a send into another customer's
    // conversation (404) and a push with a refused item between two good ones.
    let path = format!("/api/v1/conversations/{conv}/messages");
    let path_b = format!("/api/v1/conversations/{conv_b}/messages");
    let good = Uuid::new_v4();
    let (p1, p2, p3) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let http = async {
        tokio::join!(
            s.post(&path, Some(&a), json!({"id": good, "body": "fine"})),
            s.post(
                &path_b,
                Some(&a),
                json!({"id": Uuid::new_v4(), "body": "not mine"})
            ),
            s.post(
                "/api/v1/sync/push",
                Some(&a),
                json!({"mutations": [
                    push_send(Uuid::new_v4(), conv, p1, "one"),
                    push_send(Uuid::new_v4(), conv_b, p2, "not mine"),
                    push_send(Uuid::new_v4(), conv, p3, "three"),
                ]})
            ),
        )
    };
    let opener = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        gate.notify_one();
    };
    let ((results, (ok, foreign, pushed)), ()) =
        tokio::join!(async { tokio::join!(writes, http) }, opener);
    held.await.unwrap().unwrap();

    let mut kept = Vec::new();
    for (i, r) in results.into_iter().enumerate() {
        if i % 3 == 0 {
            assert!(
                matches!(r, Err(AppError::Database(_))),
                "write {i} fails with its own error: {r:?}"
            );
        } else {
            kept.push(r.unwrap_or_else(|e| panic!("write {i} failed: {e:?}")));
        }
    }
    assert_eq!(ok.0, StatusCode::CREATED, "{}", ok.1);
    assert_eq!(foreign.0, StatusCode::NOT_FOUND, "{}", foreign.1);
    assert_eq!(pushed.0, StatusCode::OK, "{}", pushed.1);
    let outcomes: Vec<_> = pushed.1["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(outcomes, ["applied", "rejected", "applied"]);

    // What the failed writes recorded is gone; the others' changes stayed.
    let rows: Vec<(i64, String)> =
        sqlx::query_as("SELECT seq, entity_id FROM changes WHERE customer_id IS NULL ORDER BY seq")
            .fetch_all(s.state.db.pool())
            .await
            .unwrap();
    let mut expected: Vec<(i64, String)> = kept
        .iter()
        .map(|(seq, id)| (*seq, id.to_string()))
        .collect();
    expected.sort();
    assert_eq!(rows, expected);
    let ids = thread_ids(&s, &a, conv).await;
    for id in [good, p1, p3] {
        assert!(ids.contains(&id.to_string()), "{id} kept");
    }
    assert!(!thread_ids(&s, &b, conv_b).await.contains(&p2.to_string()));
    let after = writer.stats();
    assert!(
        after.0 - before.0 < after.1 - before.1,
        "some writes shared a transaction: {before:?} → {after:?}"
    );
    s.finish().await;
}

async fn the_feed_order_is_the_commit_order_and_a_commit_pokes_once(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (a, _, conv) = customer_with_conversation(&s, "a@example.com").await;
    let (agent, _) = s.staff("agent@shop.test", Role::Agent).await;
    let mut req = format!("{}/api/v1/live", s.base.replace("http://", "ws://"))
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {a}").parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let Some(Ok(_hello)) = ws.next().await else {
        panic!("no hello");
    };
    let (st, page) = s.get("/api/v1/sync?since=0", &a).await;
    assert_eq!(st, StatusCode::OK);
    let cursor = page["cursor"].as_i64().unwrap();

    let gate = Arc::new(Notify::new());
    let held = hold_writer(&s, gate.clone()).await;
    let path = format!("/api/v1/conversations/{conv}/messages");
    let sends = join_all((0..40).map(|i| {
        let token = if i % 2 == 0 { &a } else { &agent };
        s.post(
            &path,
            Some(token),
            json!({"id": Uuid::new_v4(), "body": format!("{i}")}),
        )
    }));
    let opener = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        gate.notify_one();
    };
    let (sent, ()) = tokio::join!(sends, opener);
    held.await.unwrap().unwrap();
    for (st, v) in &sent {
        assert_eq!(*st, StatusCode::CREATED, "{v}");
    }

    // The feed lists the messages in the order they were written (their
    // times increase in write order within a conversation).
    let (_, page) = s
        .get(&format!("/api/v1/sync?since={cursor}&limit=1000"), &a)
        .await;
    let in_feed: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["entity"] == "message")
        .map(|i| i["data"]["id"].as_str().unwrap().to_owned())
        .collect();
    let ids = thread_ids(&s, &a, conv).await;
    assert_eq!(in_feed, ids[1..].to_vec(), "feed order = write order");
    let head = page["cursor"].as_i64().unwrap();

    // 40 sends wrote 80 feed rows in a few commits: the socket hears of
    // them in a few pokes, the last one at the head.
    let mut pokes = Vec::new();
    while let Ok(Some(Ok(msg))) = tokio::time::timeout(Duration::from_millis(700), ws.next()).await
    {
        if let tokio_tungstenite::tungstenite::Message::Text(t) = msg {
            if let Ok(LiveServerMessage::Changed { cursor }) = serde_json::from_str(&t) {
                pokes.push(cursor);
            }
        }
    }
    assert_eq!(pokes.last(), Some(&head), "{pokes:?}");
    assert!(
        pokes.len() <= 5,
        "one poke per commit, not per row: {pokes:?}"
    );
    assert!(pokes.windows(2).all(|w| w[0] < w[1]), "{pokes:?}");
    s.finish().await;
}

/// Two server instances on one PostgreSQL database (behind a load
/// balancer): each has its own writer, and the feed counter's row lock
/// still puts their transactions in one order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_postgres_keep_one_feed_order() {
    let s = TestServer::start(Backend::Postgres).await;
    let (a, _, conv) = customer_with_conversation(&s, "a@example.com").await;
    let (st, page) = s.get("/api/v1/sync?since=0", &a).await;
    assert_eq!(st, StatusCode::OK);
    let cursor = page["cursor"].as_i64().unwrap();
    let (listener, other) = mostrador_server::prepare((*s.state.config).clone())
        .await
        .unwrap();
    let other_base = format!("http://{}", listener.local_addr().unwrap());
    let router = mostrador_server::http::router(other.clone());
    let limits = other.config.conn_limits;
    tokio::spawn(async move {
        mostrador_server::serve::serve(listener, router, limits, std::future::pending())
            .await
            .unwrap();
    });
    let path = format!("/api/v1/conversations/{conv}/messages");
    let sends = join_all((0..40).map(|i| {
        let base = if i % 2 == 0 { &s.base } else { &other_base };
        let id = Uuid::new_v4();
        let req = s
            .http
            .post(format!("{base}{path}"))
            .bearer_auth(&a)
            .json(&json!({"id": id, "body": format!("{i}")}));
        async move { (id, req.send().await.unwrap().status()) }
    }));
    let sent = sends.await;
    for (_, st) in &sent {
        assert_eq!(*st, StatusCode::CREATED);
    }
    let (_, page) = s
        .get(&format!("/api/v1/sync?since={cursor}&limit=1000"), &a)
        .await;
    let in_feed: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["entity"] == "message")
        .map(|i| i["data"]["id"].as_str().unwrap().to_owned())
        .collect();
    let ids = thread_ids(&s, &a, conv).await;
    assert_eq!(ids.len(), 41, "every send once");
    assert_eq!(in_feed, ids[1..].to_vec(), "feed order = write order");
    let (mine, theirs) = (s.state.writer.stats(), other.writer.stats());
    assert!(
        mine.1 >= 20 && theirs.1 >= 20,
        "both instances wrote: {mine:?} {theirs:?}"
    );
    other.db.pool().close().await;
    s.finish().await;
}

on_both_backends!(
    concurrent_sends_are_each_answered_and_idempotent,
    a_failing_write_does_not_fail_its_neighbours,
    the_feed_order_is_the_commit_order_and_a_commit_pokes_once,
);
