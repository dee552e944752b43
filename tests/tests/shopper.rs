//! The shopper's app end to end: the real app in WebKitGTK against the real
//! server with the demo data. Each main screen is saved as a screenshot.

use std::time::Duration;

use mostrador_e2e::{AppSession, ServerProcess, DEMO_AGENT, DEMO_CUSTOMER};

/// The demo shopper's delayed order.
const DELAYED_ORDER: &str = "MS-10001";

/// One app at a time: two WebKit processes on two cores make each other
/// time out.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// One of my messages the server has (sent, delivered or read: the other
/// side may read it before we look).
const STORED_MINE: &str =
    "[data-testid=message][data-mine=true]:not([data-state=pending]):not([data-state=failed])";
const WAIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shopper_tracks_an_order_chats_with_an_agent_and_books_a_call() -> anyhow::Result<()> {
    let _one = SERIAL.lock().await;
    let data = tempfile::tempdir()?;
    let server = ServerProcess::start_demo(data.path()).await?;
    let app = AppSession::launch(&server.url).await?;

    // Sign in.
    app.wait_for("[data-testid=signin-form]").await?;
    app.screenshot("shopper-sign-in").await?;
    app.sign_in(DEMO_CUSTOMER).await?;

    // Home: the delayed order is on its way, with a warning.
    app.wait_for(&format!(
        "[data-testid=home-orders] [data-number={DELAYED_ORDER}]"
    ))
    .await?;
    app.wait_for_text("[data-testid=sync-indicator]", WAIT, |t| {
        t.contains("Up to date")
    })
    .await?;
    app.screenshot("shopper-home").await?;

    // Orders: search narrows the list to one order.
    app.click("[data-testid=nav-orders]").await?;
    app.wait_for_count("[data-testid=order-row]", |n| n == 10)
        .await?;
    app.type_into("[data-testid=order-search]", DELAYED_ORDER)
        .await?;
    app.wait_for_count("[data-testid=order-row]", |n| n == 1)
        .await?;
    app.screenshot("shopper-orders").await?;

    // Order detail: the tracking timeline, newest first, the delay marked.
    app.click(&format!(
        "[data-testid=order-row][data-number={DELAYED_ORDER}]"
    ))
    .await?;
    app.wait_for("[data-testid=timeline]").await?;
    let first = app
        .attr("[data-testid=timeline-event]", "data-status")
        .await?;
    assert_eq!(first.as_deref(), Some("delayed"), "newest event first");
    assert_eq!(
        app.attr("[data-testid=timeline-event]", "data-delayed")
            .await?
            .as_deref(),
        Some("true")
    );
    let events = app.texts("[data-testid=timeline-event]").await?.len();
    app.wait_for("[data-testid=order-late]").await?;
    app.screenshot("shopper-order-timeline").await?;

    // The shop posts a carrier event: it appears without a reload.
    let now = jiff::Timestamp::now();
    server
        .ingest(serde_json::json!({
            "event_id": "e2e-out-for-delivery",
            "occurred_at": now.to_string(),
            "order_number": DELAYED_ORDER,
            "type": "tracking",
            "status": "out_for_delivery",
            "place": "Madrid",
            "description": "With the courier since 07:40",
        }))
        .await?;
    app.wait_for_count("[data-testid=timeline-event]", |n| n == events + 1)
        .await?;
    assert_eq!(
        app.attr("[data-testid=timeline-event]", "data-status")
            .await?
            .as_deref(),
        Some("out_for_delivery")
    );
    app.wait_for_text(
        "[data-testid=order-detail] [data-testid=order-status]",
        WAIT,
        |t| t.contains("Out for delivery"),
    )
    .await?;

    // Get help with this order: the order travels with the question.
    app.click("[data-testid=order-help]").await?;
    app.wait_for_text("[data-testid=ask-order]", WAIT, |t| {
        t.contains(DELAYED_ORDER)
    })
    .await?;
    app.type_into("[data-testid=ask-body]", "it's late").await?;
    app.click("[data-testid=ask-send]").await?;
    app.wait_for_text("[data-testid=thread-subject]", WAIT, |t| {
        t.contains(DELAYED_ORDER)
    })
    .await?;
    app.wait_for(STORED_MINE).await?;

    // An agent answers through the API; the reply shows up live as the
    // changed lines alone, carried by the change event (the open thread is
    // followed: neither read whole again nor asked for its lines).
    let reads = "const f = window.__mostradorFetches || {}; \
                 return [f.thread || 0, f.thread_delta || 0, f.carried_lines || 0];";
    let before_reply = app.eval(reads).await?;
    let agent = server.login(DEMO_AGENT).await?;
    let conversations = server.get(&agent, "/api/v1/conversations").await?;
    let conversation = conversations
        .as_array()
        .into_iter()
        .flatten()
        .chain(conversations["items"].as_array().into_iter().flatten())
        .find(|c| c["subject"].as_str() == Some(&format!("Order {DELAYED_ORDER}")))
        .ok_or_else(|| anyhow::anyhow!("the agent does not see the conversation: {conversations}"))?
        .clone();
    let id = conversation["id"].as_str().unwrap_or_default().to_owned();
    server
        .post(
            &agent,
            &format!("/api/v1/conversations/{id}/messages"),
            serde_json::json!({
                "id": uuid_v4(),
                "body": "Sorry about that! It is out for delivery today.",
            }),
        )
        .await?;
    let reply = app
        .wait_for_text(
            "[data-testid=message][data-mine=false] [data-testid=message-body]",
            WAIT,
            |t| t.contains("out for delivery today"),
        )
        .await?;
    assert!(reply.contains("Sorry"));
    let after_reply = app.eval(reads).await?;
    assert_eq!(
        after_reply[0], before_reply[0],
        "no whole read of the open thread for a reply ({before_reply} -> {after_reply})"
    );
    assert_eq!(
        after_reply[1], before_reply[1],
        "no read of the reply's lines: the event carried them ({before_reply} -> {after_reply})"
    );
    assert!(
        after_reply[2].as_f64() > before_reply[2].as_f64(),
        "the reply's lines came with the change event ({before_reply} -> {after_reply})"
    );
    // Reading the thread marks the reply read on the server.
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let thread = server
            .get(&agent, &format!("/api/v1/conversations/{id}"))
            .await?;
        let read = thread["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|m| {
                m["body"].as_str().is_some_and(|b| b.contains("today")) && m["state"] == "read"
            });
        if read {
            break;
        }
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "the reply never became read: {thread}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.screenshot("shopper-chat").await?;

    // Refresh is targeted: with an order open, a reply in the conversation
    // reaches the app (a change event) but does not reload the order.
    app.click("[data-testid=nav-orders]").await?;
    app.click(&format!(
        "[data-testid=order-row][data-number={DELAYED_ORDER}]"
    ))
    .await?;
    app.wait_for("[data-testid=timeline]").await?;
    // Let the page's first load and any change in flight settle.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let counts = "return [(window.__mostradorFetches || {}).order || 0, \
                  (window.__mostradorChanges || {}).changed || 0];";
    let before = app.eval(counts).await?;
    server
        .post(
            &agent,
            &format!("/api/v1/conversations/{id}/messages"),
            serde_json::json!({ "id": uuid_v4(), "body": "The courier is two stops away." }),
        )
        .await?;
    app.wait_for_js(
        "the reply's change reaches the app",
        &format!(
            "return ((window.__mostradorChanges || {{}}).changed || 0) > {};",
            before[1]
        ),
        WAIT,
    )
    .await?;
    // Time for a (wrong) reload to happen.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = app.eval(counts).await?;
    assert_eq!(
        after[0], before[0],
        "the open order was not reloaded for a message ({before} -> {after})"
    );
    // The reply is in its thread (the most recent conversation).
    app.click("[data-testid=nav-chats]").await?;
    app.click("[data-testid=chat-row]").await?;
    app.wait_for_js(
        "the second reply shows in the thread",
        "return [...document.querySelectorAll('[data-testid=message-body]')] \
         .some(e => e.textContent.includes('two stops away'));",
        WAIT,
    )
    .await?;

    // Book a voice callback: the phone is checked as it is typed.
    app.click("[data-testid=nav-callbacks]").await?;
    app.click("[data-testid=book-callback]").await?;
    app.type_into("[data-testid=callback-phone]", "+34 911")
        .await?;
    app.wait_for_text("[data-testid=phone-hint]", WAIT, |t| {
        t.contains("Keep typing")
    })
    .await?;
    app.type_into("[data-testid=callback-phone]", "911 23 45 67")
        .await?;
    app.wait_for_text("[data-testid=phone-hint]", WAIT, |t| {
        t.contains("Start with +")
    })
    .await?;
    app.type_into("[data-testid=callback-phone]", "+34 911 23 45 67")
        .await?;
    app.wait_for_text("[data-testid=phone-hint]", WAIT, |t| {
        t.contains("+34911234567")
    })
    .await?;
    app.type_into("[data-testid=callback-topic]", "Where is my parcel?")
        .await?;
    app.wait_for("[data-testid=slot]").await?;
    let slot_start = app.attr("[data-testid=slot]", "data-start").await?;
    app.click("[data-testid=slot]").await?;
    app.screenshot("shopper-book-callback").await?;
    app.click("[data-testid=callback-submit]").await?;
    app.wait_for("[data-testid=callback-row][data-status=scheduled]")
        .await?;
    let me = server.login(DEMO_CUSTOMER).await?;
    let booked = server.get(&me, "/api/v1/callbacks").await?;
    let booked_row = booked
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["topic"] == "Where is my parcel?")
        .ok_or_else(|| anyhow::anyhow!("the server has no such callback: {booked}"))?;
    assert_eq!(booked_row["phone"], "+34911234567");
    assert_eq!(booked_row["slot_start"].as_str(), slot_start.as_deref());
    app.screenshot("shopper-callbacks").await?;

    // Cancel it.
    app.click("[data-testid=callback-row][data-status=scheduled] [data-testid=callback-cancel]")
        .await?;
    app.wait_for("[data-testid=callback-row][data-status=cancelled]")
        .await?;

    // Spanish, then Russian, all over the frame.
    app.click("[data-testid=nav-home]").await?;
    app.set_language("es").await?;
    app.wait_for_text("[data-testid=nav-orders]", WAIT, |t| t.contains("Pedidos"))
        .await?;
    app.wait_for_text("[data-testid=ask-question]", WAIT, |t| {
        t.contains("Hacer una pregunta")
    })
    .await?;
    app.screenshot("shopper-home-es").await?;
    app.set_language("ru").await?;
    app.wait_for_text("[data-testid=nav-orders]", WAIT, |t| t.contains("Заказы"))
        .await?;
    app.click("[data-testid=nav-orders]").await?;
    app.click(&format!(
        "[data-testid=order-row][data-number={DELAYED_ORDER}]"
    ))
    .await?;
    app.wait_for_text("[data-testid=order-help]", WAIT, |t| {
        t.contains("Помощь с этим заказом")
    })
    .await?;
    app.screenshot("shopper-order-ru").await?;
    app.set_language("en").await?;

    // Phone width: the navigation moves to a bottom tab bar.
    app.client.set_window_size(390, 844).await?;
    app.click("[data-testid=nav-home]").await?;
    let nav_top: f64 = app
        .client
        .execute(
            "return document.querySelector('.nav').getBoundingClientRect().top \
             / window.innerHeight;",
            vec![],
        )
        .await?
        .as_f64()
        .unwrap_or(0.0);
    assert!(
        nav_top > 0.8,
        "on a phone the navigation sits at the bottom (top at {nav_top:.2} of the height)"
    );
    app.screenshot("shopper-home-phone").await?;

    app.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_written_offline_goes_out_once_when_the_server_is_back() -> anyhow::Result<()> {
    let _one = SERIAL.lock().await;
    let data = tempfile::tempdir()?;
    let mut server = ServerProcess::start_demo(data.path()).await?;
    let app = AppSession::launch(&server.url).await?;
    app.sign_in(DEMO_CUSTOMER).await?;
    app.wait_for_text("[data-testid=sync-indicator]", WAIT, |t| {
        t.contains("Up to date")
    })
    .await?;

    server.stop().await?;
    app.wait_for("[data-testid=offline-banner]").await?;
    app.click("[data-testid=ask-question]").await?;
    let body = "it's late (written in a tunnel)";
    app.type_into("[data-testid=ask-body]", body).await?;
    app.click("[data-testid=ask-send]").await?;
    app.wait_for("[data-testid=message][data-state=pending]")
        .await?;
    app.wait_for_text("[data-testid=pending-count]", WAIT, |t| t.contains('1'))
        .await?;
    app.screenshot("shopper-offline-pending").await?;

    // "Try now" is a real button; trying while the server is still down
    // keeps the banner and says nothing went wrong with the app itself.
    app.click("[data-testid=offline-banner] button[data-testid=try-now]")
        .await?;
    app.wait_for("[data-testid=sync-indicator][data-state=offline]")
        .await?;
    app.wait_for("[data-testid=offline-banner]").await?;
    assert!(
        app.texts("[data-testid=notice]").await?.is_empty(),
        "trying again is not an error"
    );

    server.restart().await?;
    app.wait_for("[data-testid=message][data-state=sent]")
        .await?;
    app.wait_for_count("[data-testid=offline-banner]", |n| n == 0)
        .await?;
    app.wait_for_count("[data-testid=pending-count]", |n| n == 0)
        .await?;

    // Exactly one copy reached the server.
    let me = server.login(DEMO_CUSTOMER).await?;
    let list = server.get(&me, "/api/v1/conversations").await?;
    let mine: Vec<_> = list
        .as_array()
        .into_iter()
        .flatten()
        .chain(list["items"].as_array().into_iter().flatten())
        .filter(|c| c["subject"].as_str() == Some(body))
        .collect();
    assert_eq!(mine.len(), 1, "one conversation: {list}");
    let id = mine[0]["id"].as_str().unwrap_or_default();
    let thread = server
        .get(&me, &format!("/api/v1/conversations/{id}"))
        .await?;
    let copies = thread["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["body"] == body)
        .count();
    assert_eq!(copies, 1, "{thread}");
    app.close().await
}

fn uuid_v4() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_edits_export_and_account_deletion() -> anyhow::Result<()> {
    let _one = SERIAL.lock().await;
    let data = tempfile::tempdir()?;
    let server = ServerProcess::start_demo(data.path()).await?;
    let app = AppSession::launch(&server.url).await?;
    app.sign_in(DEMO_CUSTOMER).await?;

    // Edit the profile and add an address; both reach the server.
    app.click("[data-testid=nav-profile]").await?;
    app.type_into("[data-testid=profile-name]", "Ana María Pérez")
        .await?;
    app.type_into("[data-testid=profile-phone]", "+34 600 11 22 33")
        .await?;
    app.click("[data-testid=profile-save]").await?;
    app.wait_for("[data-testid=profile-saved]").await?;
    let addresses = app.texts("[data-testid=address]").await?.len();
    app.type_into("[data-testid=address-line1]", "Calle Alcalá 42")
        .await?;
    app.type_into("[data-testid=address-postal]", "28014")
        .await?;
    app.type_into("[data-testid=address-city]", "Madrid")
        .await?;
    app.type_into("[data-testid=address-country]", "es").await?;
    app.click("[data-testid=address-add]").await?;
    app.wait_for_count("[data-testid=address]", |n| n == addresses + 1)
        .await?;
    app.screenshot("shopper-profile").await?;
    let me = server.login(DEMO_CUSTOMER).await?;
    let profile = server.get(&me, "/api/v1/me/profile").await?;
    assert_eq!(profile["display_name"], "Ana María Pérez");
    assert_eq!(profile["phone"], "+34600112233");
    assert!(
        profile["addresses"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|a| a["line1"] == "Calle Alcalá 42" && a["country"] == "ES"),
        "{profile}"
    );

    // Export: a JSON file with the account's data.
    app.click("[data-testid=privacy-page]").await?;
    app.wait_for("[data-testid=privacy-text]").await?;
    app.click("[data-testid=export-data]").await?;
    let saved = app
        .wait_for_text("[data-testid=export-result]", WAIT, |t| t.contains(".json"))
        .await?;
    let path = saved
        .split_once("Saved to ")
        .map(|(_, p)| p.trim().to_owned())
        .ok_or_else(|| anyhow::anyhow!("no path in {saved:?}"))?;
    let export: serde_json::Value = serde_json::from_slice(&std::fs::read(&path)?)?;
    assert!(
        export.to_string().contains("ana@mostrador.demo"),
        "the export holds the account"
    );
    app.screenshot("shopper-privacy").await?;

    // Delete the account: confirmed by typing, then signed out and wiped.
    app.click("[data-testid=delete-account]").await?;
    app.type_into("[data-testid=delete-confirm]", "DELETE")
        .await?;
    app.click("[data-testid=delete-confirm-button]").await?;
    app.wait_for("[data-testid=signin-form]").await?;
    app.wait_for_text("[data-testid=notice]", WAIT, |t| t.contains("deleted"))
        .await?;
    assert!(
        server.login(DEMO_CUSTOMER).await.is_err(),
        "the account is gone on the server"
    );
    app.close().await
}
