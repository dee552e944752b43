//! The write path's economies keep their meaning: a send's answer, built
//! from the values in hand, is the message as stored; a `client_id` given
//! twice in one push gets its first result twice and is applied once; a
//! send's feed rows are numbered in order, right after the head before it;
//! the floor read with a pull's rows still refuses an old cursor.

mod common;

use common::{Backend, TestServer};
use mostrador_core::auth::Role;
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

async fn conversation(s: &TestServer, token: &str) -> Uuid {
    let conv = Uuid::new_v4();
    let (st, v) = s
        .post(
            "/api/v1/conversations",
            Some(token),
            json!({"id": conv, "subject": "Parcel", "message_id": Uuid::new_v4(), "body": "where is it?"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    conv
}

/// The answer to a send (built without reading the message back) equals
/// the message as a later read returns it, for a customer and for staff,
/// and a resend answers the stored message again.
async fn a_send_answers_the_message_as_stored(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (cust, _) = s.customer("a@example.com").await;
    let (agent, _) = s.staff("agent@shop.test", Role::Agent).await;
    let conv = conversation(&s, &cust).await;
    let path = format!("/api/v1/conversations/{conv}/messages");
    let mut answers = Vec::new();
    for (token, body) in [(&cust, "  second, with spaces  "), (&agent, "On its way")] {
        let id = Uuid::new_v4();
        let (st, sent) = s
            .post(&path, Some(token), json!({"id": id, "body": body}))
            .await;
        assert_eq!(st, StatusCode::CREATED, "{sent}");
        let (st, again) = s
            .post(&path, Some(token), json!({"id": id, "body": body}))
            .await;
        assert_eq!(st, StatusCode::CREATED, "{again}");
        assert_eq!(sent, again, "a resend answers the same message");
        answers.push(sent);
    }
    let (st, thread) = s
        .get(&format!("/api/v1/conversations/{conv}"), &agent)
        .await;
    assert_eq!(st, StatusCode::OK, "{thread}");
    let stored = thread["messages"].as_array().unwrap();
    assert_eq!(stored.len(), 3, "{thread}");
    assert_eq!(&stored[1..], &answers[..]);
    s.finish().await;
}

/// One push naming a `client_id` twice (the second time with other
/// arguments): both answers are the first result, one message is stored;
/// a refused item given twice is refused twice with the same error.
async fn a_client_id_twice_in_one_push_is_applied_once(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (cust, _) = s.customer("a@example.com").await;
    let conv = conversation(&s, &cust).await;
    let (once, refused) = (Uuid::new_v4(), Uuid::new_v4());
    let (first, second) = (Uuid::new_v4(), Uuid::new_v4());
    let send = |client_id: Uuid, conv: Uuid, id: Uuid| {
        json!({"client_id": client_id, "op": "send_message",
            "args": {"conversation_id": conv, "id": id, "body": "hello"}})
    };
    let (st, v) = s
        .post(
            "/api/v1/sync/push",
            Some(&cust),
            json!({"mutations": [
                send(once, conv, first),
                send(refused, Uuid::new_v4(), Uuid::new_v4()),
                send(once, conv, second),
                send(refused, conv, Uuid::new_v4()),
            ]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let results = v["results"].as_array().unwrap();
    assert_eq!(results[0]["outcome"], "applied", "{v}");
    assert_eq!(results[0], results[2], "{v}");
    assert_eq!(results[1]["outcome"], "rejected", "{v}");
    assert_eq!(results[1], results[3], "{v}");
    let (_, thread) = s.get(&format!("/api/v1/conversations/{conv}"), &cust).await;
    let ids: Vec<&str> = thread["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "{thread}");
    assert_eq!(ids[1], first.to_string());
    s.finish().await;
}

/// A text message records two changes, conversation then message, with
/// the numbers right after the head before it.
async fn a_send_numbers_its_feed_rows_in_order(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (cust, _) = s.customer("a@example.com").await;
    let conv = conversation(&s, &cust).await;
    let pool = s.state.db.pool();
    let head: i64 = sqlx::query_scalar("SELECT seq FROM feed_counter WHERE id = 1")
        .fetch_one(pool)
        .await
        .unwrap();
    let id = Uuid::new_v4();
    let (st, v) = s
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            Some(&cust),
            json!({"id": id, "body": "again"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let rows: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT seq, entity, entity_id FROM changes WHERE seq > $1 ORDER BY seq")
            .bind(head)
            .fetch_all(pool)
            .await
            .unwrap();
    assert_eq!(
        rows,
        [
            (head + 1, "conversation".to_owned(), conv.to_string()),
            (head + 2, "message".to_owned(), id.to_string()),
        ]
    );
    let now: i64 = sqlx::query_scalar("SELECT seq FROM feed_counter WHERE id = 1")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(now, head + 2);
    s.finish().await;
}

/// The feed's floor is read with a pull's rows; a cursor under the floor
/// is refused also when nothing of the caller's came after it.
async fn a_cursor_under_the_floor_is_refused_with_nothing_after_it(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (b, _) = s.customer("b@example.com").await;
    let (a, _) = s.customer("a@example.com").await;
    conversation(&s, &a).await;
    let head: i64 = sqlx::query_scalar("SELECT seq FROM feed_counter WHERE id = 1")
        .fetch_one(s.state.db.pool())
        .await
        .unwrap();
    let (st, page) = s.get(&format!("/api/v1/sync?since={}", head - 1), &b).await;
    assert_eq!(st, StatusCode::OK, "{page}");
    assert!(page["items"].as_array().unwrap().is_empty(), "{page}");
    mostrador_server::feed::prune(&s.state, head).await.unwrap();
    let (st, v) = s.get(&format!("/api/v1/sync?since={}", head - 1), &b).await;
    assert_eq!(st, StatusCode::GONE, "{v}");
    assert_eq!(v["code"], "resync_required", "{v}");
    let (st, _) = s.get(&format!("/api/v1/sync?since={head}"), &b).await;
    assert_eq!(st, StatusCode::OK, "a cursor at the floor is served");
    s.finish().await;
}

on_both_backends!(
    a_cursor_under_the_floor_is_refused_with_nothing_after_it,
    a_send_answers_the_message_as_stored,
    a_client_id_twice_in_one_push_is_applied_once,
    a_send_numbers_its_feed_rows_in_order,
);
