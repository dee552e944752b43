//! Agent mode end to end: two real apps (a shopper and an agent, each with
//! its own data directory) against one real server with the demo data.

use std::time::Duration;

use mostrador_e2e::{AppSession, ServerProcess, DEMO_AGENT, DEMO_CUSTOMER};

const ORDER: &str = "MS-10001";
/// One of my messages the server has (sent, delivered or read: the other
/// side may read it before we look).
const STORED_MINE: &str =
    "[data-testid=message][data-mine=true]:not([data-state=pending]):not([data-state=failed])";
const WAIT: Duration = Duration::from_secs(40);
/// The demo admin.
const ADMIN: (&str, &str) = ("admin@mostrador.demo", "demo-admin-pass");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_answers_a_shopper_live_and_completes_a_booked_call() -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let server = ServerProcess::start_demo(data.path()).await?;
    let admin = server.login(ADMIN).await?;
    let canned_id = uuid::Uuid::new_v4();
    let res = reqwest::Client::new()
        .put(format!("{}/api/v1/canned/{canned_id}", server.url))
        .bearer_auth(&admin)
        .json(&serde_json::json!({
            "title": "Late parcel",
            "body": "Hi {first_name}, I'm sorry order {order_number} is late: it is out for delivery today. {agent_name}",
        }))
        .send()
        .await?;
    anyhow::ensure!(res.status().is_success(), "canned: {}", res.status());

    // The agent signs in first: agent mode, available, inbox.
    let agent = AppSession::launch(&server.url).await?;
    agent.sign_in(DEMO_AGENT).await?;
    agent.wait_for("[data-testid=nav-inbox]").await?;
    agent
        .wait_for_text("[data-testid=sync-indicator]", WAIT, |t| {
            t.contains("Up to date")
        })
        .await?;

    // The shopper asks about the delayed order.
    let shopper = AppSession::launch(&server.url).await?;
    shopper.sign_in(DEMO_CUSTOMER).await?;
    shopper.click("[data-testid=nav-orders]").await?;
    shopper
        .click(&format!("[data-testid=order-row][data-number={ORDER}]"))
        .await?;
    shopper.click("[data-testid=order-help]").await?;
    shopper
        .type_into("[data-testid=ask-body]", "it's late")
        .await?;
    shopper.click("[data-testid=ask-send]").await?;
    shopper.wait_for(STORED_MINE).await?;

    // The agent sees it live, assigned to her, with the order beside it.
    agent.click("[data-testid=inbox-tab-mine]").await?;
    agent
        .wait_for_text("[data-testid=inbox-row]", WAIT, |t| t.contains(ORDER))
        .await?;
    assert_eq!(
        agent
            .attr("[data-testid=inbox-row]", "data-waiting")
            .await?
            .as_deref(),
        Some("true"),
        "the customer is waiting"
    );
    agent.screenshot("agent-inbox").await?;
    agent.click("[data-testid=inbox-row]").await?;
    agent
        .wait_for_text("[data-testid=message-body]", WAIT, |t| t == "it's late")
        .await?;
    agent
        .wait_for_text("[data-testid=panel-name]", WAIT, |t| t.contains("Ana"))
        .await?;
    // Delayed orders first: the one asked about leads the panel.
    let first_order = agent
        .attr("[data-testid=panel-order]", "data-number")
        .await?;
    let first_status = agent
        .attr(
            "[data-testid=panel-order] [data-testid=order-status]",
            "data-status",
        )
        .await?;
    assert_eq!(first_status.as_deref(), Some("delayed"), "{first_order:?}");
    agent
        .wait_for(&format!("[data-testid=panel-order][data-number={ORDER}]"))
        .await?;

    // A canned response, filled in, sent; an internal note; resolved.
    agent
        .wait_for("[data-testid=canned-picker] option:nth-child(2)")
        .await?;
    agent
        .client
        .execute(
            "const s = document.querySelector('[data-testid=canned-picker]');\
             s.value = s.options[1].value;\
             s.dispatchEvent(new Event('change', { bubbles: true }));",
            vec![],
        )
        .await?;
    let filled: String = agent
        .client
        .execute(
            "return document.querySelector('[data-testid=composer-input]').value;",
            vec![],
        )
        .await?
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        filled.starts_with("Hi Ana, I'm sorry order MS-10001 is late"),
        "placeholders filled: {filled:?}"
    );
    assert!(!filled.contains('{'), "{filled:?}");
    agent.click("[data-testid=composer-send]").await?;
    agent.wait_for(STORED_MINE).await?;
    agent.click("[data-testid=note-toggle]").await?;
    agent
        .type_into(
            "[data-testid=composer-input]",
            "Carrier confirmed the new date",
        )
        .await?;
    agent.click("[data-testid=composer-send]").await?;
    agent
        .wait_for("[data-testid=message][data-kind=note]")
        .await?;
    agent.screenshot("agent-conversation").await?;
    agent.click("[data-testid=resolve]").await?;
    agent
        .wait_for("[data-testid=thread-status][data-status=resolved]")
        .await?;

    // The shopper sees the reply (never the note) and rates the conversation.
    shopper
        .wait_for_text(
            "[data-testid=message][data-mine=false] [data-testid=message-body]",
            WAIT,
            |t| t.contains("out for delivery today"),
        )
        .await?;
    assert!(
        !shopper
            .texts("[data-testid=message-body]")
            .await?
            .iter()
            .any(|t| t.contains("Carrier confirmed")),
        "internal notes never reach the shopper"
    );
    shopper.wait_for("[data-testid=rate]").await?;

    // The agent watches the metrics while the rating arrives.
    agent.click("[data-testid=nav-metrics]").await?;
    let before = agent
        .wait_for_text("[data-testid=metric-satisfaction]", WAIT, |t| !t.is_empty())
        .await?;
    shopper.click("[data-testid=rate-star-5]").await?;
    shopper
        .type_into("[data-testid=rate-comment]", "Quick and kind")
        .await?;
    shopper.click("[data-testid=rate-send]").await?;
    shopper.wait_for("[data-testid=rating-done]").await?;
    let token = server.login(DEMO_AGENT).await?;
    let deadline = std::time::Instant::now() + WAIT;
    let expected = loop {
        let m = server.get(&token, "/api/v1/metrics").await?;
        let avg = m["satisfaction_avg"].as_f64().unwrap_or(0.0);
        let shown = format!("{avg:.1} / 5");
        if shown != before {
            break shown;
        }
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "the rating never counted"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    agent
        .wait_for_text("[data-testid=metric-satisfaction]", WAIT, |t| t == expected)
        .await?;
    agent
        .wait_for("[data-testid=satisfaction-chart] rect")
        .await?;
    agent.screenshot("agent-metrics").await?;

    // A booked video call shows up in the agent's queue; she completes it.
    shopper.click("[data-testid=nav-callbacks]").await?;
    shopper.click("[data-testid=book-callback]").await?;
    shopper.click("[data-testid=channel-video]").await?;
    shopper
        .type_into("[data-testid=callback-topic]", "Show me the damaged box")
        .await?;
    shopper.click("[data-testid=slot]").await?;
    shopper.click("[data-testid=callback-submit]").await?;
    shopper
        .wait_for("[data-testid=callback-row][data-status=scheduled]")
        .await?;
    agent.click("[data-testid=nav-queue]").await?;
    agent
        .wait_for_text(
            "[data-testid=queue-row][data-status=scheduled]",
            WAIT,
            |t| t.contains("Show me the damaged box"),
        )
        .await?;
    agent.screenshot("agent-queue").await?;
    let rows = agent.texts("[data-testid=queue-row]").await?;
    let index = rows
        .iter()
        .position(|t| t.contains("Show me the damaged box"))
        .unwrap_or(0);
    agent
        .click(&format!(
            "[data-testid=queue-row]:nth-child({}) [data-testid=call-complete]",
            index + 1
        ))
        .await?;
    shopper
        .wait_for("[data-testid=callback-row][data-status=completed]")
        .await?;

    shopper.close().await?;
    agent.close().await
}
