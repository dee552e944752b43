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
    other.db.close().await;
    s.finish().await;
}

/// What a scripted run of sends left behind, with every server-made id
/// and time replaced by a name or a rank, so two servers' runs compare.
#[derive(Debug, PartialEq)]
struct SendsOutcome {
    answers: Vec<serde_json::Value>,
    messages: Vec<(String, String, String, String, String, String, String)>,
    conversations: Vec<(String, String, String, Option<String>, bool)>,
    feed: Vec<(i64, String, String, Option<String>, i64, i64)>,
    records: Vec<(String, String, String)>,
}

/// The same writes in the same queue order, with the set-wise path on or
/// off: REST sends and pushes by two customers and two agents into two
/// conversations (an agent's reply claims an unassigned conversation, a
/// customer's message reopens a resolved one, a note stays staff-only,
/// several sends land in one conversation in one transaction).
async fn scripted_sends(backend: Backend, merging: bool) -> SendsOutcome {
    let s = TestServer::start(backend).await;
    s.state.writer.set_merging(merging);
    let (a, a_id) = s.customer("a@example.com").await;
    let (b, b_id) = s.customer("b@example.com").await;
    let (g, g_id) = s.staff("g@shop.test", Role::Agent).await;
    let (h, h_id) = s.staff("h@shop.test", Role::Agent).await;
    let id = |n: u128| Uuid::from_u128(0x5e4d_0000_0000_0000_0000_0000_0000_0000 + n);
    let (conv_a, conv_b) = (id(1), id(2));
    for (token, conv) in [(&a, conv_a), (&b, conv_b)] {
        let (st, v) = s
            .post(
                "/api/v1/conversations",
                Some(token),
                json!({"id": conv, "subject": "Parcel", "message_id": id(conv.as_u128() + 100), "body": "where is it?"}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
    }
    let (st, v) = s
        .call(
            reqwest::Method::PATCH,
            &format!("/api/v1/conversations/{conv_b}"),
            Some(&g),
            Some(json!({"status": "resolved", "assigned_agent_id": null})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, page) = s.get("/api/v1/sync?since=0", &g).await;
    let cursor = page["cursor"].as_i64().unwrap();

    let rest = |token: &str, conv: Uuid, n: u128, kind: &str| {
        (
            "rest",
            token.to_owned(),
            format!("/api/v1/conversations/{conv}/messages"),
            json!({"id": id(n), "body": format!("message {n}"), "kind": kind}),
        )
    };
    let push = |token: &str, items: &[(u128, Uuid, u128)]| {
        let mutations: Vec<_> = items
            .iter()
            .map(|(c, conv, m)| push_send(id(*c), *conv, id(*m), &format!("pushed {m}")))
            .collect();
        (
            "push",
            token.to_owned(),
            "/api/v1/sync/push".to_owned(),
            json!({ "mutations": mutations }),
        )
    };
    let script = vec![
        rest(&a, conv_a, 10, "text"),
        rest(&g, conv_a, 11, "text"),
        push(&a, &[(500, conv_a, 12), (501, conv_a, 13)]),
        rest(&h, conv_a, 14, "note"),
        rest(&h, conv_b, 15, "text"),
        push(&b, &[(502, conv_b, 16)]),
        rest(&g, conv_b, 17, "text"),
        rest(&a, conv_a, 18, "text"),
    ];
    let before = (s.state.writer.merged(), s.state.writer.stats());
    let gate = Arc::new(Notify::new());
    let held = hold_writer(&s, gate.clone()).await;
    // Queued one after another, in the script's order.
    let mut calls = Vec::new();
    for (_, token, path, body) in script {
        let queued = s.state.writer.queued();
        let (http, base) = (s.http.clone(), s.base.clone());
        calls.push(tokio::spawn(async move {
            let res = http
                .post(format!("{base}{path}"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            (res.status(), res.json::<serde_json::Value>().await.unwrap())
        }));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while s.state.writer.queued() == queued {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the write was never queued"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    gate.notify_one();
    held.await.unwrap().unwrap();
    let mut answers = Vec::new();
    for call in calls {
        let (st, mut v) = call.await.unwrap();
        assert!(st.is_success(), "{st} {v}");
        if let Some(m) = v.as_object_mut() {
            m.remove("created_at");
        }
        answers.push(v);
    }
    let merged = s.state.writer.merged() - before.0;
    let after = s.state.writer.stats();
    assert_eq!(
        after.1 - before.1 .1,
        9,
        "the held write and the script's eight"
    );
    if merging {
        assert_eq!(merged, 8, "the script's writes went set-wise");
        assert_eq!(
            after.0 - before.1 .0,
            2,
            "the held write, then one transaction"
        );
    } else {
        assert_eq!(merged, 0);
    }

    let names: std::collections::HashMap<String, &str> =
        [(a_id, "a"), (b_id, "b"), (g_id, "g"), (h_id, "h")]
            .into_iter()
            .collect();
    let name = |id: &str| names.get(id).copied().unwrap_or("?").to_owned();
    for v in &mut answers {
        if let Some(author) = v
            .get("author_id")
            .and_then(|a| a.as_str())
            .map(str::to_owned)
        {
            v["author_id"] = json!(name(&author));
        }
    }
    let pool = s.state.db.pool();
    let messages: Vec<(String, String, String, String, String, String, String)> = sqlx::query_as(
        "SELECT id, conversation_id, author_id, author_role, kind, body, state FROM messages
         ORDER BY conversation_id, created_at",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let messages = messages
        .into_iter()
        .map(|(i, c, au, r, k, bo, st)| (i, c, name(&au), r, k, bo, st))
        .collect();
    // Times: a conversation's last message time is its update time and its
    // newest text message's; messages' times strictly increase.
    let times: Vec<(String, i64)> = sqlx::query_as(
        "SELECT conversation_id, created_at FROM messages ORDER BY conversation_id, created_at",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for w in times.windows(2) {
        if w[0].0 == w[1].0 {
            assert!(w[0].1 < w[1].1, "{times:?}");
        }
    }
    type ConvRow = (String, String, String, Option<String>, i64, i64, i64);
    let convs: Vec<ConvRow> = sqlx::query_as(
        "SELECT c.id, c.customer_id, c.status, c.assigned_agent_id, c.updated_at, c.last_message_at,
                (SELECT MAX(m.created_at) FROM messages m WHERE m.conversation_id = c.id AND m.kind = 'text')
         FROM conversations c ORDER BY c.id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let conversations = convs
        .into_iter()
        .map(|(i, cu, st, asg, upd, last, newest)| {
            (
                i,
                name(&cu),
                st,
                asg.map(|x| name(&x)),
                upd == last && last == newest,
            )
        })
        .collect();
    let feed_rows: Vec<(i64, String, String, Option<String>, i64, i64)> = sqlx::query_as(
        "SELECT seq, entity, entity_id, customer_id, staff_only, removed FROM changes
         WHERE seq > $1 ORDER BY seq",
    )
    .bind(cursor)
    .fetch_all(pool)
    .await
    .unwrap();
    let feed = feed_rows
        .into_iter()
        .map(|(seq, e, i, c, so, r)| (seq - cursor, e, i, c.map(|c| name(&c)), so, r))
        .collect();
    let records: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT user_id, client_id, result_json FROM applied_mutations ORDER BY client_id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let records = records
        .into_iter()
        .map(|(u, c, r)| (name(&u), c, r))
        .collect();
    s.finish().await;
    SendsOutcome {
        answers,
        messages,
        conversations,
        feed,
        records,
    }
}

async fn sends_set_wise_leave_what_the_ordinary_path_leaves(backend: Backend) {
    let set_wise = scripted_sends(backend, true).await;
    let ordinary = scripted_sends(backend, false).await;
    assert_eq!(set_wise.messages.len(), 2 + 9, "{:?}", set_wise.messages);
    assert_eq!(set_wise.records.len(), 3);
    let b = set_wise.conversations.iter().find(|c| c.1 == "b").unwrap();
    assert_eq!(
        (b.2.as_str(), b.3.as_deref(), b.4),
        ("open", Some("h"), true),
        "b reopened it; h's reply claimed it first"
    );
    assert_eq!(set_wise, ordinary);
}

/// A run of sends with one that is not the common case (a resend, another
/// customer's conversation): the set-wise path declines and each write
/// gets the answer the ordinary path gives.
async fn a_send_out_of_the_common_case_sends_the_run_the_ordinary_way(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (a, _, conv) = customer_with_conversation(&s, "a@example.com").await;
    let (_, _, conv_b) = customer_with_conversation(&s, "b@example.com").await;
    let path = format!("/api/v1/conversations/{conv}/messages");
    let first = Uuid::new_v4();
    let (st, _) = s
        .post(&path, Some(&a), json!({"id": first, "body": "hi"}))
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let merged = s.state.writer.merged();
    let gate = Arc::new(Notify::new());
    let held = hold_writer(&s, gate.clone()).await;
    let fresh = Uuid::new_v4();
    let path_b = format!("/api/v1/conversations/{conv_b}/messages");
    let sends = async {
        tokio::join!(
            s.post(&path, Some(&a), json!({"id": fresh, "body": "new"})),
            s.post(&path, Some(&a), json!({"id": first, "body": "hi"})),
            s.post(&path, Some(&a), json!({"id": first, "body": "other text"})),
            s.post(
                &path_b,
                Some(&a),
                json!({"id": Uuid::new_v4(), "body": "not mine"})
            ),
        )
    };
    let opener = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        gate.notify_one();
    };
    let ((new, again, clash, foreign), ()) = tokio::join!(sends, opener);
    held.await.unwrap().unwrap();
    assert_eq!(new.0, StatusCode::CREATED, "{}", new.1);
    assert_eq!(
        again.0,
        StatusCode::CREATED,
        "a resend is answered: {}",
        again.1
    );
    assert_eq!(again.1["body"], "hi");
    assert_eq!(clash.0, StatusCode::CONFLICT, "{}", clash.1);
    assert_eq!(foreign.0, StatusCode::NOT_FOUND, "{}", foreign.1);
    assert_eq!(s.state.writer.merged(), merged, "nothing went set-wise");
    let ids = thread_ids(&s, &a, conv).await;
    assert_eq!(ids.len(), 3, "{ids:?}");
    s.finish().await;
}

/// Full pushes from many customers at once (1,200 sends: more than one
/// set-wise run holds), each answered, each message stored once, the feed
/// holding a conversation row and a message row per send, in order.
async fn full_pushes_from_many_customers_go_set_wise(backend: Backend) {
    let s = TestServer::start(backend).await;
    let mut customers = Vec::new();
    for i in 0..12 {
        customers.push(customer_with_conversation(&s, &format!("c{i}@example.com")).await);
    }
    let cursor = s.state.db.feed_head().await.unwrap();
    let merged = s.state.writer.merged();
    let gate = Arc::new(Notify::new());
    let held = hold_writer(&s, gate.clone()).await;
    let pushes: Vec<Vec<(Uuid, Uuid)>> = (0..12)
        .map(|_| (0..100).map(|_| (Uuid::new_v4(), Uuid::new_v4())).collect())
        .collect();
    let calls = join_all(
        pushes
            .iter()
            .zip(&customers)
            .map(|(items, (token, _, conv))| {
                let mutations: Vec<_> = items
                    .iter()
                    .enumerate()
                    .map(|(i, (c, m))| {
                        push_send(*c, *conv, *m, &format!("line {i} «ünïcödé» שלום"))
                    })
                    .collect();
                s.post(
                    "/api/v1/sync/push",
                    Some(token),
                    json!({ "mutations": mutations }),
                )
            }),
    );
    let opener = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        gate.notify_one();
    };
    let (answers, ()) = tokio::join!(calls, opener);
    held.await.unwrap().unwrap();
    for ((st, v), items) in answers.iter().zip(&pushes) {
        assert_eq!(*st, StatusCode::OK, "{v}");
        let results = v["results"].as_array().unwrap();
        assert_eq!(results.len(), 100);
        for (r, (c, m)) in results.iter().zip(items) {
            assert_eq!(
                (&r["client_id"], &r["outcome"], &r["ids"]),
                (&json!(c), &json!("applied"), &json!([m]))
            );
        }
    }
    assert_eq!(
        s.state.writer.merged() - merged,
        12,
        "every push went set-wise"
    );
    for ((token, _, conv), items) in customers.iter().zip(&pushes) {
        let ids = thread_ids(&s, token, *conv).await;
        let sent: Vec<String> = items.iter().map(|(_, m)| m.to_string()).collect();
        assert_eq!(ids[1..], sent[..], "stored once each, in push order");
        let (st, v) = s.get(&format!("/api/v1/conversations/{conv}"), token).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(v["messages"][100]["body"], "line 99 «ünïcödé» שלום");
    }
    let rows: Vec<(i64, String)> =
        sqlx::query_as("SELECT seq, entity FROM changes WHERE seq > $1 ORDER BY seq")
            .bind(cursor)
            .fetch_all(s.state.db.pool())
            .await
            .unwrap();
    assert_eq!(rows.len(), 2 * 1_200);
    assert!(
        rows.windows(2).all(|w| w[1].0 == w[0].0 + 1),
        "no gap in the feed"
    );
    assert!(rows
        .chunks(2)
        .all(|p| p[0].1 == "conversation" && p[1].1 == "message"));
    let records: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM applied_mutations")
        .fetch_one(s.state.db.pool())
        .await
        .unwrap();
    assert_eq!(records, 1_200);
    s.finish().await;
}

on_both_backends!(
    full_pushes_from_many_customers_go_set_wise,
    sends_set_wise_leave_what_the_ordinary_path_leaves,
    a_send_out_of_the_common_case_sends_the_run_the_ordinary_way,
    concurrent_sends_are_each_answered_and_idempotent,
    a_failing_write_does_not_fail_its_neighbours,
    the_feed_order_is_the_commit_order_and_a_commit_pokes_once,
);
