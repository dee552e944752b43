//! The live WebSocket: token-authenticated, pokes within milliseconds of a
//! commit to those who may see the change, typing relayed to the other side
//! only, and a stalled consumer slows no one.

mod common;

use std::time::Duration;

use common::{Backend, TestServer};
use futures_util::{SinkExt, StreamExt};
use mostrador_core::auth::Role;
use mostrador_core::live::LiveServerMessage;
use serde_json::json;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(s: &TestServer, token: &str) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let mut req =
        format!("{}/api/v1/live", s.base.replace("http://", "ws://")).into_client_request()?;
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (ws, _) = tokio_tungstenite::connect_async(req).await?;
    Ok(ws)
}

/// The next server message that is not a ping nor presence, within `within`.
async fn next(ws: &mut Ws, within: Duration) -> Option<LiveServerMessage> {
    tokio::time::timeout(within, async {
        while let Some(Ok(msg)) = ws.next().await {
            if let Message::Text(t) = msg {
                match serde_json::from_str(&t).ok() {
                    Some(LiveServerMessage::Presence { .. }) => continue,
                    other => return other,
                }
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
}

async fn live_pokes_reach_who_may_see_and_typing_crosses_sides(backend: Backend) {
    let s = TestServer::start(backend).await;
    assert!(
        connect(&s, "not-a-token").await.is_err(),
        "anonymous upgrade refused"
    );
    let (a, _) = s.customer("a@example.com").await;
    let (b, _) = s.customer("b@example.com").await;
    let (agent, _) = s.staff("agent@shop.test", Role::Agent).await;
    let mut ws_a = connect(&s, &a).await.unwrap();
    let mut ws_b = connect(&s, &b).await.unwrap();
    let mut ws_agent = connect(&s, &agent).await.unwrap();
    for ws in [&mut ws_a, &mut ws_b, &mut ws_agent] {
        assert!(matches!(
            next(ws, Duration::from_secs(5)).await,
            Some(LiveServerMessage::Hello { .. })
        ));
    }

    let conv = Uuid::new_v4();
    s.post(
        "/api/v1/conversations",
        Some(&a),
        json!({"id": conv, "subject": "Late", "message_id": Uuid::new_v4(), "body": "it's late"}),
    )
    .await;
    let Some(LiveServerMessage::Changed { cursor }) =
        next(&mut ws_agent, Duration::from_secs(5)).await
    else {
        panic!("agent was not poked");
    };
    assert!(matches!(
        next(&mut ws_a, Duration::from_secs(5)).await,
        Some(LiveServerMessage::Changed { .. })
    ));
    // The poke's cursor covers the new message: pulling up to it finds it.
    let (_, page) = s.get("/api/v1/sync?since=0", &agent).await;
    assert!(page["cursor"].as_i64().unwrap() >= cursor);
    assert!(page.to_string().contains("it's late"));
    assert_eq!(
        next(&mut ws_b, Duration::from_millis(300)).await,
        None,
        "B sees nothing of A's conversation"
    );

    // Typing: the agent sees the customer type; the other customer does not.
    ws_a.send(Message::Text(
        json!({"type": "typing", "conversation_id": conv})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    loop {
        match next(&mut ws_agent, Duration::from_secs(5)).await {
            Some(LiveServerMessage::Typing {
                conversation_id,
                role,
                ..
            }) => {
                assert_eq!((conversation_id, role), (conv, Role::Customer));
                break;
            }
            Some(LiveServerMessage::Changed { .. }) => continue,
            other => panic!("expected typing, got {other:?}"),
        }
    }
    assert_eq!(next(&mut ws_b, Duration::from_millis(300)).await, None);
    // B cannot type into A's conversation: A hears no typing at all.
    ws_b.send(Message::Text(
        json!({"type": "typing", "conversation_id": conv})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    while let Some(m) = next(&mut ws_a, Duration::from_millis(300)).await {
        assert!(
            matches!(m, LiveServerMessage::Changed { .. }),
            "A got {m:?}"
        );
    }
    s.finish().await;
}

async fn a_stalled_consumer_does_not_slow_the_others(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (agent, _) = s.staff("agent@shop.test", Role::Agent).await;
    let (cust, _) = s.customer("c@example.com").await;
    let mut stalled = connect(&s, &agent).await.unwrap(); // never read until the end
    let mut live = connect(&s, &agent).await.unwrap();
    assert!(next(&mut live, Duration::from_secs(5)).await.is_some());
    let conv = Uuid::new_v4();
    s.post(
        "/api/v1/conversations",
        Some(&cust),
        json!({"id": conv, "subject": "S", "message_id": Uuid::new_v4(), "body": "0"}),
    )
    .await;
    let path = format!("/api/v1/conversations/{conv}/messages");
    for i in 0..30 {
        s.post(
            &path,
            Some(&cust),
            json!({"id": Uuid::new_v4(), "body": format!("{i}")}),
        )
        .await;
        // The reading connection keeps up with every write.
        let mut got = false;
        while let Some(m) = next(&mut live, Duration::from_secs(5)).await {
            if let LiveServerMessage::Changed { .. } = m {
                got = true;
                break;
            }
        }
        assert!(got, "live connection missed write {i}");
    }
    // The stalled one still gets its pokes (or a resync) once it reads.
    let first = next(&mut stalled, Duration::from_secs(5)).await;
    assert!(matches!(first, Some(LiveServerMessage::Hello { .. })));
    assert!(matches!(
        next(&mut stalled, Duration::from_secs(5)).await,
        Some(LiveServerMessage::Changed { .. } | LiveServerMessage::ResyncRequired)
    ));
    s.finish().await;
}

async fn staff_presence_reaches_staff(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (ana, _) = s.staff("ana@shop.test", Role::Agent).await;
    let (luis, _) = s.staff("luis@shop.test", Role::Agent).await;
    let (cust, _) = s.customer("c@example.com").await;
    let mut ws_ana = connect(&s, &ana).await.unwrap();
    let mut ws_cust = connect(&s, &cust).await.unwrap();
    let mut ws_luis = connect(&s, &luis).await.unwrap();
    ws_ana
        .send(Message::Text(
            json!({"type": "presence", "status": "away"})
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    let mut saw_away = false;
    while let Ok(Some(Ok(Message::Text(t)))) =
        tokio::time::timeout(Duration::from_secs(5), ws_luis.next()).await
    {
        if let Ok(LiveServerMessage::Presence { status, name, .. }) = serde_json::from_str(&t) {
            if status == mostrador_core::live::Presence::Away {
                assert_eq!(name, "Staff");
                saw_away = true;
                break;
            }
        }
    }
    assert!(saw_away, "luis learns that ana is away");
    // Customers hear nothing of staff presence.
    while let Ok(Some(Ok(msg))) =
        tokio::time::timeout(Duration::from_millis(300), ws_cust.next()).await
    {
        if let Message::Text(t) = msg {
            assert!(!t.contains("presence"), "customer got {t}");
        }
    }
    s.finish().await;
}

on_both_backends!(
    staff_presence_reaches_staff,
    live_pokes_reach_who_may_see_and_typing_crosses_sides,
    a_stalled_consumer_does_not_slow_the_others,
    a_socket_ends_with_its_session_and_sessions_hold_few_sockets,
    a_socket_closes_when_its_session_expires,
);

/// Waits for the server to close `ws`; its close code, if any.
async fn closed(ws: &mut Ws, within: Duration) -> Option<u16> {
    tokio::time::timeout(within, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the socket was still open after {within:?}"))
}

/// Still open: nothing but pings and pokes for a short while.
async fn still_open(ws: &mut Ws) -> bool {
    match tokio::time::timeout(Duration::from_millis(300), ws.next()).await {
        Err(_) => true,
        Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => false,
        Ok(Some(Ok(_))) => true,
    }
}

async fn a_socket_ends_with_its_session_and_sessions_hold_few_sockets(backend: Backend) {
    use mostrador_core::live::{
        CLOSE_ACCOUNT_DELETED, CLOSE_SESSION_ENDED, MAX_SOCKETS_PER_SESSION,
    };
    let s = TestServer::start(backend).await;
    let within = Duration::from_secs(1);
    let (first, _) = s.customer("a@example.com").await;
    let login = || async {
        let (st, v) = s
            .post(
                "/api/v1/auth/login",
                None,
                json!({"email": "a@example.com", "password": "correct horse battery"}),
            )
            .await;
        assert_eq!(st, reqwest::StatusCode::OK, "{v}");
        (
            v["token"].as_str().unwrap().to_owned(),
            v["session_id"].as_str().unwrap().to_owned(),
        )
    };
    let (second, second_id) = login().await;
    let (third, _) = login().await;
    let mut ws1 = connect(&s, &first).await.unwrap();
    let mut ws1b = connect(&s, &first).await.unwrap();
    let mut ws2 = connect(&s, &second).await.unwrap();
    let mut ws3 = connect(&s, &third).await.unwrap();

    // Sign-out closes that session's sockets only.
    let (st, _) = s
        .call(
            reqwest::Method::POST,
            "/api/v1/auth/logout",
            Some(&first),
            None,
        )
        .await;
    assert_eq!(st, reqwest::StatusCode::NO_CONTENT);
    assert_eq!(closed(&mut ws1, within).await, Some(CLOSE_SESSION_ENDED));
    assert_eq!(closed(&mut ws1b, within).await, Some(CLOSE_SESSION_ENDED));
    assert!(still_open(&mut ws2).await, "another session's socket stays");

    // Revoking a session from another device closes its socket.
    let (st, _) = s
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v1/me/sessions/{second_id}"),
            Some(&third),
            None,
        )
        .await;
    assert_eq!(st, reqwest::StatusCode::NO_CONTENT);
    assert_eq!(closed(&mut ws2, within).await, Some(CLOSE_SESSION_ENDED));
    assert!(still_open(&mut ws3).await);

    // A password change closes the other sessions' sockets, not this one's.
    let (fourth, _) = login().await;
    let mut ws4 = connect(&s, &fourth).await.unwrap();
    let (st, v) = s
        .call(
            reqwest::Method::PUT,
            "/api/v1/me/password",
            Some(&third),
            Some(json!({"current_password": "correct horse battery", "new_password": "correct horse battery 2"})),
        )
        .await;
    assert_eq!(st, reqwest::StatusCode::NO_CONTENT, "{v}");
    assert_eq!(closed(&mut ws4, within).await, Some(CLOSE_SESSION_ENDED));
    assert!(
        still_open(&mut ws3).await,
        "the changing session keeps its socket"
    );

    // A session holds a few sockets, not any number.
    let mut extra = Vec::new();
    for _ in 1..MAX_SOCKETS_PER_SESSION {
        extra.push(connect(&s, &third).await.expect("within the cap"));
    }
    assert!(
        connect(&s, &third).await.is_err(),
        "one socket over the cap is refused"
    );

    // Deleting the account closes every socket of it, saying why.
    let (st, _) = s
        .call(reqwest::Method::DELETE, "/api/v1/me", Some(&third), None)
        .await;
    assert_eq!(st, reqwest::StatusCode::NO_CONTENT);
    assert_eq!(closed(&mut ws3, within).await, Some(CLOSE_ACCOUNT_DELETED));
    for ws in &mut extra {
        assert_eq!(closed(ws, within).await, Some(CLOSE_ACCOUNT_DELETED));
    }

    // A disabled agent's sockets close, it stops being available (no more
    // auto-assignment) and the other staff see it go offline.
    let (admin, _) = s.staff("admin@shop.test", Role::Admin).await;
    let (agent, agent_id) = s.staff("agent@shop.test", Role::Agent).await;
    let mut ws_admin = connect(&s, &admin).await.unwrap();
    let mut ws_agent = connect(&s, &agent).await.unwrap();
    let agent_uuid: Uuid = agent_id.parse().unwrap();
    // The handshake answers before the server registers the socket: wait
    // (briefly) until the agent counts as available.
    let deadline = std::time::Instant::now() + within;
    while !s.state.hub.available_staff().contains(&agent_uuid) {
        assert!(
            std::time::Instant::now() < deadline,
            "a connected agent becomes available"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (st, v) = s
        .post(
            &format!("/api/v1/admin/staff/{agent_id}/disable"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(st, reqwest::StatusCode::OK, "{v}");
    assert_eq!(
        closed(&mut ws_agent, within).await,
        Some(CLOSE_SESSION_ENDED)
    );
    assert!(!s.state.hub.available_staff().contains(&agent_uuid));
    assert!(
        sees_offline(&mut ws_admin, agent_uuid).await,
        "staff see the disabled agent go offline"
    );
    s.finish().await;
}

/// Does the staff socket `ws` hear, within a second, that `user` went
/// offline?
async fn sees_offline(ws: &mut Ws, user: Uuid) -> bool {
    while let Ok(Some(Ok(Message::Text(t)))) =
        tokio::time::timeout(Duration::from_secs(1), ws.next()).await
    {
        if let Ok(LiveServerMessage::Presence {
            user_id, status, ..
        }) = serde_json::from_str(&t)
        {
            if user_id == user && status == mostrador_core::live::Presence::Offline {
                return true;
            }
        }
    }
    false
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// A session that simply runs out closes its sockets with 4001 within
/// about a second, and the other staff see the agent go offline.
async fn a_socket_closes_when_its_session_expires(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (admin, _) = s.staff("admin@shop.test", Role::Admin).await;
    let (agent, agent_id) = s.staff("agent@shop.test", Role::Agent).await;
    let agent_uuid: Uuid = agent_id.parse().unwrap();
    // The agent's session ends in 3 s (as with a short `--token-ttl-hours`,
    // for this session only, so the admin's stays).
    let expires_at = now_ms() + 3000;
    sqlx::query("UPDATE sessions SET expires_at = $1 WHERE user_id = $2")
        .bind(expires_at)
        .bind(&agent_id)
        .execute(s.state.db.pool())
        .await
        .unwrap();
    // Written behind the server's back: it forgets what it remembered.
    s.state.sessions.forget_all();
    let mut ws_admin = connect(&s, &admin).await.unwrap();
    let mut ws_agent = connect(&s, &agent).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while !s.state.hub.available_staff().contains(&agent_uuid) {
        assert!(
            std::time::Instant::now() < deadline,
            "a connected agent becomes available"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let left = Duration::from_millis(u64::try_from(expires_at - now_ms()).unwrap_or(0));
    assert_eq!(
        closed(&mut ws_agent, left + Duration::from_secs(1)).await,
        Some(mostrador_core::live::CLOSE_SESSION_ENDED)
    );
    assert!(
        now_ms() >= expires_at - 50,
        "closed {} ms before the session's end",
        expires_at - now_ms()
    );
    assert!(!s.state.hub.available_staff().contains(&agent_uuid));
    assert!(
        sees_offline(&mut ws_admin, agent_uuid).await,
        "staff see the expired agent go offline"
    );
    s.finish().await;
}
