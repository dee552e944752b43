//! Accessibility end to end: an axe-core audit (WCAG 2.0, 2.1 and 2.2, levels
//! A and AA; axe-core from npm, installed by `cargo xtask setup`, injected
//! through WebDriver) of every screen, shopper and agent, in the light and the
//! dark theme, requiring zero violations; keyboard-only walks (keys only, no
//! clicks) through signing in, asking a question, booking a callback and
//! answering as an agent, checking each focused control shows a focus ring of
//! at least 3:1; and the agent's thread showing a customer's photo and PDF.

use std::time::Duration;

use fantoccini::key::Key;
use mostrador_e2e::{
    audit_report, workspace_root, AppSession, ServerProcess, DEMO_AGENT, DEMO_CUSTOMER,
};

const WAIT: Duration = Duration::from_secs(40);
/// One app window at a time: WebKit shows focus (`:focus`, `:focus-visible`)
/// only in the active window, and windows started at once take it from
/// each other.
static ONE_WINDOW: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
/// One of my messages the server has.
const STORED_MINE: &str =
    "[data-testid=message][data-mine=true]:not([data-state=pending]):not([data-state=failed])";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_shopper_screen_passes_the_wcag_audit_in_light_and_dark() -> anyhow::Result<()> {
    let _one = ONE_WINDOW.lock().await;
    let data = tempfile::tempdir()?;
    let mut server = ServerProcess::start_demo(data.path()).await?;
    let app = AppSession::launch(&server.url).await?;
    let mut failures = Vec::new();

    app.wait_for("[data-testid=backend-status][data-state=online]")
        .await?;
    app.audit_themes("sign-in", &mut failures).await?;
    app.click("[data-testid=signin-toggle]").await?;
    app.wait_for("[data-testid=signup-name]").await?;
    app.audit_themes("sign-up", &mut failures).await?;
    app.click("[data-testid=signin-toggle]").await?;

    app.sign_in(DEMO_CUSTOMER).await?;
    // (screen, what to click to get there, what shows it is there, a
    // dark-theme screenshot to save)
    let screens: [(&str, &[&str], &str, Option<&str>); 11] = [
        ("home", &[], "home-orders", Some("a11y-home-dark")),
        ("orders", &["nav-orders"], "order-row", None),
        (
            "order detail",
            &["order-row"],
            "timeline-event",
            Some("a11y-order-dark"),
        ),
        ("conversations", &["nav-chats"], "chat-row", None),
        ("chat thread", &["chat-row"], "message", None),
        (
            "new question",
            &["nav-chats", "new-question"],
            "ask-body",
            None,
        ),
        ("callbacks", &["nav-callbacks"], "book-callback", None),
        ("booking", &["book-callback"], "slot", None),
        ("profile", &["nav-profile"], "profile-form", None),
        ("privacy", &["privacy-page"], "privacy-text", None),
        ("home again", &["nav-home"], "home-orders", None),
    ];
    for (screen, clicks, shown, dark_shot) in screens {
        for c in clicks {
            app.click(&format!("[data-testid={c}]")).await?;
        }
        app.wait_for(&format!("[data-testid={shown}]")).await?;
        app.audit_themes(screen, &mut failures).await?;
        if let Some(name) = dark_shot {
            app.set_theme("dark").await?;
            app.screenshot(name).await?;
            app.set_theme("light").await?;
        }
    }

    // At phone width (the bottom tab bar, the compact header).
    app.client.set_window_size(390, 844).await?;
    for (screen, click, shown) in [
        ("home (phone)", "nav-home", "home-orders"),
        ("chat thread (phone)", "nav-chats", "chat-row"),
    ] {
        app.click(&format!("[data-testid={click}]")).await?;
        app.wait_for(&format!("[data-testid={shown}]")).await?;
        if shown == "chat-row" {
            app.click("[data-testid=chat-row]").await?;
            app.wait_for("[data-testid=message]").await?;
        }
        app.audit_themes(screen, &mut failures).await?;
    }
    app.set_theme("dark").await?;
    app.screenshot("a11y-thread-phone-dark").await?;
    app.set_theme("light").await?;

    // Connection status: the server gone, the offline banner up.
    server.stop().await?;
    app.wait_for("[data-testid=offline-banner]").await?;
    app.audit_themes("status (offline)", &mut failures).await?;

    app.close().await?;
    audit_report(&failures)
}

/// Runs `script` (a function body) in the app's page.
async fn js(app: &AppSession, script: &str) -> anyhow::Result<serde_json::Value> {
    Ok(app.client.execute(script, vec![]).await?)
}

/// The demo customer opens a conversation (through the API); returns its id.
async fn customer_asks(server: &ServerProcess, subject: &str) -> anyhow::Result<String> {
    let token = server.login(DEMO_CUSTOMER).await?;
    let id = uuid::Uuid::new_v4().to_string();
    let first = serde_json::json!({
        "id": id, "subject": subject, "message_id": uuid::Uuid::new_v4(), "body": subject,
    });
    server.post(&token, "/api/v1/conversations", first).await?;
    Ok(id)
}

/// The demo customer's photo and PDF in a new conversation; returns its
/// subject and id.
async fn customer_sends_files(server: &ServerProcess) -> anyhow::Result<(&'static str, String)> {
    let subject = "Damaged box photo";
    let token = server.login(DEMO_CUSTOMER).await?;
    let conv = customer_asks(server, subject).await?;
    let http = reqwest::Client::new();
    let photo = std::fs::read(workspace_root().join("assets/icon.png"))?;
    let pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
        .to_vec();
    let mut ids = Vec::new();
    for (name, bytes) in [("box.png", photo), ("receipt.pdf", pdf)] {
        let id = uuid::Uuid::new_v4();
        let res = http
            .put(format!(
                "{}/api/v1/conversations/{conv}/attachments/{id}?filename={name}",
                server.url
            ))
            .bearer_auth(&token)
            .header("content-type", "application/octet-stream")
            .body(bytes)
            .send()
            .await?;
        anyhow::ensure!(res.status().is_success(), "upload {name}: {}", res.status());
        ids.push(id);
    }
    server
        .post(
            &token,
            &format!("/api/v1/conversations/{conv}/messages"),
            serde_json::json!({
                "id": uuid::Uuid::new_v4(),
                "body": "Here is the box and the receipt",
                "attachment_ids": ids,
            }),
        )
        .await?;
    Ok((subject, conv))
}

/// Opens the conversation `id` from the inbox (All tab), once the list
/// has settled (a live list may move a row under a pointer: the click is
/// the element's own).
async fn open_in_inbox(agent: &AppSession, id: &str) -> anyhow::Result<()> {
    agent.click("[data-testid=inbox-tab-all]").await?;
    let row = format!("[data-testid=inbox-row][data-id='{id}']");
    agent.wait_for(&row).await?;
    agent.settle().await?;
    agent
        .client
        .execute(
            "document.querySelector(arguments[0]).click();",
            vec![serde_json::Value::from(row)],
        )
        .await?;
    agent.wait_for("[data-testid=customer-panel]").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_sees_the_customers_photo_and_can_open_their_pdf() -> anyhow::Result<()> {
    let _one = ONE_WINDOW.lock().await;
    let data = tempfile::tempdir()?;
    let server = ServerProcess::start_demo(data.path()).await?;
    let (subject, conv) = customer_sends_files(&server).await?;

    let agent = AppSession::launch(&server.url).await?;
    agent.sign_in(DEMO_AGENT).await?;
    agent.wait_for("[data-testid=nav-inbox]").await?;
    open_in_inbox(&agent, &conv).await?;
    agent
        .wait_for_text("[data-testid=thread-subject]", WAIT, |t| t == subject)
        .await?;
    let with_files = "[data-testid=message][data-mine=false]";
    agent
        .wait_for(&format!(
            "{with_files} [data-testid=attachment] img[data-testid=attachment-preview][src^='data:image/png']"
        ))
        .await?;
    // The image has really been decoded (not a broken picture); a live
    // redraw may replace the element meanwhile, so ask again until then.
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let width = agent
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];\
                 const i = document.querySelector('[data-testid=attachment-preview]');\
                 if (!i) { done(0); } else { i.decode().then(() => done(i.naturalWidth), () => done(0)); }",
                vec![],
            )
            .await?;
        if width.as_u64().unwrap_or(0) > 0 {
            break;
        }
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "the photo never decoded"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let pdf = format!("{with_files} a[data-testid=attachment-open]");
    agent
        .wait_for_text(&pdf, WAIT, |t| t == "receipt.pdf")
        .await?;
    // It opens from the file's bytes.
    agent
        .wait_for(&format!("{pdf}[href^='data:application/pdf;base64,']"))
        .await?;
    agent.screenshot("agent-thread-photo").await?;
    agent.set_theme("dark").await?;
    agent.screenshot("agent-thread-photo-dark").await?;
    agent.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_agent_screen_passes_the_wcag_audit_in_light_and_dark() -> anyhow::Result<()> {
    let _one = ONE_WINDOW.lock().await;
    let data = tempfile::tempdir()?;
    let server = ServerProcess::start_demo(data.path()).await?;
    let (subject, conv) = customer_sends_files(&server).await?;
    let agent = AppSession::launch(&server.url).await?;
    let mut failures = Vec::new();
    agent.sign_in(DEMO_AGENT).await?;
    agent.wait_for("[data-testid=inbox-row]").await?;
    agent.audit_themes("inbox", &mut failures).await?;
    open_in_inbox(&agent, &conv).await?;
    agent
        .wait_for_text("[data-testid=thread-subject]", WAIT, |t| t == subject)
        .await?;
    agent.wait_for("[data-testid=attachment-preview]").await?;
    agent.wait_for("[data-testid=panel-name]").await?;
    agent
        .audit_themes("conversation with customer panel", &mut failures)
        .await?;
    agent.click("[data-testid=nav-queue]").await?;
    agent.wait_for("[data-testid=queue]").await?;
    agent.audit_themes("call queue", &mut failures).await?;
    agent.click("[data-testid=nav-metrics]").await?;
    agent.wait_for("[data-testid=metric-open]").await?;
    agent.audit_themes("metrics", &mut failures).await?;
    agent.set_theme("dark").await?;
    agent.screenshot("a11y-metrics-dark").await?;
    agent.set_theme("light").await?;
    agent.click("[data-testid=nav-canned]").await?;
    agent.wait_for("[data-testid=canned-list]").await?;
    agent.audit_themes("saved replies", &mut failures).await?;
    agent.close().await?;
    audit_report(&failures)
}

/// Whether the focused control shows a focus ring: an outline at least 2 px
/// wide whose colour has at least 3:1 contrast with what is behind it.
/// `None` when it does, else what is wrong.
async fn focus_ring_problem(app: &AppSession) -> anyhow::Result<Option<String>> {
    let v = js(&app,
            r#"
const el = document.activeElement;
if (!el || el === document.body) return 'nothing focused';
const parse = c => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null;
  const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
const lum = ([r, g, b]) => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
const behind = n => { for (let e = n; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor);
  if (c && c[3] > 0.5) return c; } return parse(getComputedStyle(document.body).backgroundColor) || [255, 255, 255, 1]; };
const s = getComputedStyle(el);
const width = parseFloat(s.outlineWidth) || 0;
const who = el.outerHTML.slice(0, 120);
if (s.outlineStyle === 'none' || width < 2) return `no focus outline (style ${s.outlineStyle}, width ${s.outlineWidth}) on ${who}`;
const ring = parse(s.outlineColor);
if (!ring) return `unreadable outline colour ${s.outlineColor} on ${who}`;
const bg = behind(el.parentElement || el);
const [a, b] = [lum(ring), lum(bg)].sort((x, y) => y - x);
const ratio = (a + 0.05) / (b + 0.05);
return ratio >= 3 ? null : `focus outline contrast ${ratio.toFixed(2)}:1 on ${who}`;
"#,
        )
        .await?;
    Ok(v.as_str().map(str::to_owned))
}

/// Tabs to `css`, checks its focus ring in both themes, then leaves the
/// light theme on.
async fn tab_to(app: &AppSession, css: &str) -> anyhow::Result<()> {
    app.tab_to(css).await?;
    for theme in ["dark", "light"] {
        app.set_theme(theme).await?;
        if let Some(problem) = focus_ring_problem(app).await? {
            anyhow::bail!("{css} ({theme} theme): {problem}");
        }
    }
    Ok(())
}

/// Signs in with the keyboard only.
async fn keyboard_sign_in(app: &AppSession, (email, password): (&str, &str)) -> anyhow::Result<()> {
    app.wait_for("[data-testid=signin-form]").await?;
    tab_to(app, "[data-testid=language]").await?;
    tab_to(app, "[data-testid=signin-email]").await?;
    app.type_keys(email).await?;
    tab_to(app, "[data-testid=signin-password]").await?;
    app.type_keys(password).await?;
    app.press(Key::Enter).await?;
    app.wait_for("[data-testid=nav-home]").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyboard_user_signs_in_asks_a_question_and_books_a_callback() -> anyhow::Result<()> {
    let _one = ONE_WINDOW.lock().await;
    let data = tempfile::tempdir()?;
    let server = ServerProcess::start_demo(data.path()).await?;
    let app = AppSession::launch(&server.url).await?;

    keyboard_sign_in(&app, DEMO_CUSTOMER).await?;

    // Ask a question.
    tab_to(&app, "[data-testid=nav-chats]").await?;
    app.press(Key::Enter).await?;
    tab_to(&app, "[data-testid=new-question]").await?;
    app.press(Key::Enter).await?;
    tab_to(&app, "[data-testid=ask-body]").await?;
    app.type_keys("Asked with the keyboard").await?;
    tab_to(&app, "[data-testid=ask-send]").await?;
    app.press(Key::Enter).await?;
    app.wait_for(STORED_MINE).await?;
    app.wait_for_text("[data-testid=thread-subject]", WAIT, |t| {
        t == "Asked with the keyboard"
    })
    .await?;

    // Book a callback: voice, phone, topic, the first slot (Space), send.
    tab_to(&app, "[data-testid=nav-callbacks]").await?;
    app.press(Key::Enter).await?;
    tab_to(&app, "[data-testid=book-callback]").await?;
    app.press(Key::Enter).await?;
    tab_to(&app, "[data-testid=channel-voice]").await?;
    tab_to(&app, "[data-testid=callback-phone]").await?;
    app.type_keys("+34 911 23 45 67").await?;
    tab_to(&app, "[data-testid=callback-topic]").await?;
    app.type_keys("Keyboard call").await?;
    // The slots are one Tab stop; the arrow keys move between them.
    tab_to(&app, "[data-testid=slot]").await?;
    let second = js(
        &app,
        "return document.querySelectorAll('[data-testid=slot]')[1].dataset.start;",
    )
    .await?;
    app.press(Key::Right).await?;
    let slot_start = js(&app, "return document.activeElement.dataset.start;").await?;
    assert_eq!(slot_start, second, "ArrowRight moves to the next slot");
    let slot_start = slot_start.as_str().map(str::to_owned);
    app.press(' ').await?;
    app.wait_for(&format!(
        "[data-testid=slot][aria-pressed=true][data-start='{}']",
        slot_start.as_deref().unwrap_or_default()
    ))
    .await?;
    tab_to(&app, "[data-testid=callback-submit]").await?;
    app.press(Key::Enter).await?;
    app.wait_for("[data-testid=callback-row][data-status=scheduled]")
        .await?;
    let me = server.login(DEMO_CUSTOMER).await?;
    let booked = server.get(&me, "/api/v1/callbacks").await?;
    let row = booked
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["topic"] == "Keyboard call")
        .ok_or_else(|| anyhow::anyhow!("the server has no such callback: {booked}"))?;
    assert_eq!(row["phone"], "+34911234567");
    assert_eq!(row["slot_start"].as_str(), slot_start.as_deref());
    app.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyboard_agent_answers_a_customer() -> anyhow::Result<()> {
    let _one = ONE_WINDOW.lock().await;
    let data = tempfile::tempdir()?;
    let server = ServerProcess::start_demo(data.path()).await?;
    let token = server.login(DEMO_CUSTOMER).await?;
    let subject = "Keyboard question";
    let conv = customer_asks(&server, subject).await?;
    let agent = AppSession::launch(&server.url).await?;
    keyboard_sign_in(&agent, DEMO_AGENT).await?;
    agent.wait_for("[data-testid=nav-inbox]").await?;
    tab_to(&agent, "[data-testid=inbox-tab-all]").await?;
    agent.press(Key::Enter).await?;
    tab_to(
        &agent,
        &format!("[data-testid=inbox-row][data-id='{conv}']"),
    )
    .await?;
    agent.press(Key::Enter).await?;
    agent
        .wait_for_text("[data-testid=thread-subject]", WAIT, |t| t == subject)
        .await?;
    tab_to(&agent, "[data-testid=composer-input]").await?;
    agent.type_keys("Yes, here to help").await?;
    tab_to(&agent, "[data-testid=composer-send]").await?;
    agent.press(Key::Enter).await?;
    agent.wait_for(STORED_MINE).await?;
    let thread = server
        .get(&token, &format!("/api/v1/conversations/{conv}"))
        .await?;
    assert!(
        thread.to_string().contains("Yes, here to help"),
        "the customer has the answer: {thread}"
    );
    agent.close().await
}
