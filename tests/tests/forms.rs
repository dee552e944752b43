//! Composers and forms end to end: what the app refuses before sending is
//! said next to the field in the user's language, drafts survive a language
//! switch, navigation and an app restart, the agent's note mode is
//! unmistakable and ends after the note, and agent screens show names.

use std::time::Duration;

use mostrador_e2e::{AppSession, ServerProcess, DEMO_AGENT, DEMO_CUSTOMER};

/// One app at a time: two WebKit processes on two cores make each other
/// time out.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
const WAIT: Duration = Duration::from_secs(30);

/// The current value of a form field.
async fn value(app: &AppSession, css: &str) -> anyhow::Result<String> {
    app.wait_for(css).await?;
    Ok(app
        .client
        .execute(
            "return document.querySelector(arguments[0]).value;",
            vec![serde_json::Value::String(css.into())],
        )
        .await?
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

/// Waits until the field `css` holds `expected`.
async fn wait_for_value(app: &AppSession, css: &str, expected: &str) -> anyhow::Result<()> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let v = value(app, css).await?;
        if v == expected {
            return Ok(());
        }
        if std::time::Instant::now() >= deadline {
            let shot = app.screenshot("failure-forms-value").await.ok();
            anyhow::bail!("{css} holds {v:?}, expected {expected:?}; screenshot {shot:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Pastes `text` into a field the way a paste does (one input event).
async fn paste(app: &AppSession, css: &str, text: &str) -> anyhow::Result<()> {
    app.wait_for(css).await?;
    app.client
        .execute(
            "const el = document.querySelector(arguments[0]);\
             el.value = arguments[1];\
             el.dispatchEvent(new Event('input', { bubbles: true }));",
            vec![
                serde_json::Value::String(css.into()),
                serde_json::Value::String(text.into()),
            ],
        )
        .await?;
    Ok(())
}

async fn disabled(app: &AppSession, css: &str) -> anyhow::Result<bool> {
    Ok(app
        .client
        .execute(
            "return document.querySelector(arguments[0]).disabled;",
            vec![serde_json::Value::String(css.into())],
        )
        .await?
        .as_bool()
        .unwrap_or(false))
}

/// Clicks the first element matching `css` whose text contains `text`.
async fn click_with_text(app: &AppSession, css: &str, text: &str) -> anyhow::Result<()> {
    app.wait_for_text(css, WAIT, |_| true).await?;
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let clicked = app
            .client
            .execute(
                "for (const el of document.querySelectorAll(arguments[0])) {\
                   if (el.textContent.includes(arguments[1])) { el.click(); return true; }\
                 } return false;",
                vec![
                    serde_json::Value::String(css.into()),
                    serde_json::Value::String(text.into()),
                ],
            )
            .await?
            .as_bool()
            .unwrap_or(false);
        if clicked {
            return Ok(());
        }
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "no {css} with {text:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The visible text of the whole page.
async fn page_text(app: &AppSession) -> anyhow::Result<String> {
    Ok(app
        .client
        .execute("return document.body.innerText;", vec![])
        .await?
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

/// `#` and eight hex digits: a raw id shown instead of a name.
fn has_raw_id(text: &str) -> bool {
    text.match_indices('#').any(|(i, _)| {
        let rest = &text[i + 1..];
        rest.len() >= 8 && rest[..8].chars().all(|c| c.is_ascii_hexdigit())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_too_short_password_is_explained_next_to_the_field_in_spanish_and_russian(
) -> anyhow::Result<()> {
    let _one = SERIAL.lock().await;
    let data = tempfile::tempdir()?;
    let server = ServerProcess::start_demo(data.path()).await?;
    let app = AppSession::launch(&server.url).await?;
    app.wait_for("[data-testid=signin-form]").await?;
    for (code, field_word) in [("es", "contraseña"), ("ru", "пароль")] {
        app.set_language(code).await?;
        app.sign_up("Nora", "nora@example.com", "short").await?;
        let said = app
            .wait_for_text("[data-testid=signin-password-error]", WAIT, |t| {
                !t.is_empty()
            })
            .await?;
        assert!(
            said.to_lowercase().contains(field_word) && said.contains("10"),
            "names the field and the minimum: {said:?}"
        );
        assert_eq!(
            app.attr("[data-testid=signin-password]", "aria-invalid")
                .await?
                .as_deref(),
            Some("true")
        );
        let described = app
            .attr("[data-testid=signin-password]", "aria-describedby")
            .await?
            .unwrap_or_default();
        let error_id = app
            .attr("[data-testid=signin-password-error]", "id")
            .await?
            .unwrap_or_default();
        assert!(
            !error_id.is_empty() && described.split(' ').any(|d| d == error_id),
            "the field points at its reason: {described:?} / {error_id:?}"
        );
        let text = page_text(&app).await?;
        assert!(
            !text.contains("too_short") && !text.contains("password:"),
            "no raw code on screen: {text}"
        );
        app.screenshot(&format!("forms-field-error-{code}")).await?;
        // Back to signing in for the next language.
        app.click("[data-testid=signin-toggle]").await?;
    }
    app.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_composer_says_what_it_will_not_send_and_drafts_survive() -> anyhow::Result<()> {
    let _one = SERIAL.lock().await;
    let data = tempfile::tempdir()?;
    let server = ServerProcess::start_demo(data.path()).await?;
    let home = tempfile::tempdir()?;
    let app = AppSession::launch_in(&server.url, home.path()).await?;
    app.sign_in(DEMO_CUSTOMER).await?;
    app.wait_for_text("[data-testid=sync-indicator]", WAIT, |t| {
        t.contains("Up to date")
    })
    .await?;

    // A question half written survives a language switch and navigation.
    app.click("[data-testid=ask-question]").await?;
    app.type_into("[data-testid=ask-body]", "My parcel").await?;
    app.set_language("es").await?;
    wait_for_value(&app, "[data-testid=ask-body]", "My parcel").await?;
    app.click("[data-testid=nav-orders]").await?;
    app.click("[data-testid=nav-chats]").await?;
    app.click("[data-testid=new-question]").await?;
    wait_for_value(&app, "[data-testid=ask-body]", "My parcel").await?;
    app.set_language("en").await?;

    // So does a callback form filled in.
    app.click("[data-testid=nav-callbacks]").await?;
    app.click("[data-testid=book-callback]").await?;
    app.type_into("[data-testid=callback-topic]", "Broken lid")
        .await?;
    app.set_language("ru").await?;
    wait_for_value(&app, "[data-testid=callback-topic]", "Broken lid").await?;
    app.set_language("en").await?;

    // The first conversation.
    app.click("[data-testid=nav-chats]").await?;
    app.wait_for("[data-testid=chat-row]").await?;
    let subject = app
        .client
        .execute(
            "return document.querySelector('[data-testid=chat-row] strong').textContent;",
            vec![],
        )
        .await?
        .as_str()
        .unwrap_or_default()
        .to_owned();
    app.click("[data-testid=chat-row]").await?;
    app.wait_for("[data-testid=composer-input]").await?;

    // Whitespace only: Send stays disabled and a hint says why.
    app.type_into("[data-testid=composer-input]", "   ").await?;
    assert!(
        disabled(&app, "[data-testid=composer-send]").await?,
        "nothing to send yet"
    );
    app.wait_for_text("[data-testid=composer-hint]", WAIT, |t| !t.is_empty())
        .await?;

    // The box holds at most the server's limit, and says so near it.
    assert_eq!(
        app.attr("[data-testid=composer-input]", "maxlength")
            .await?
            .as_deref(),
        Some("10000")
    );
    paste(&app, "[data-testid=composer-input]", &"a".repeat(10_001)).await?;
    assert!(
        disabled(&app, "[data-testid=composer-send]").await?,
        "a 10,001-character message cannot be sent"
    );
    let why = app
        .wait_for_text("[data-testid=composer-hint]", WAIT, |t| t.contains("10"))
        .await?;
    assert!(!why.contains("too_long"), "{why}");
    app.wait_for("[data-testid=composer-count]").await?;
    app.screenshot("forms-message-too-long").await?;

    // A draft survives a language switch, navigation and a restart.
    app.type_into("[data-testid=composer-input]", "Half-written answer")
        .await?;
    assert!(!disabled(&app, "[data-testid=composer-send]").await?);
    app.set_language("es").await?;
    wait_for_value(&app, "[data-testid=composer-input]", "Half-written answer").await?;
    app.click("[data-testid=nav-orders]").await?;
    app.click("[data-testid=nav-chats]").await?;
    click_with_text(&app, "[data-testid=chat-row]", &subject).await?;
    wait_for_value(&app, "[data-testid=composer-input]", "Half-written answer").await?;
    app.set_language("en").await?;
    // Saving a draft is not instant: let it reach the store.
    tokio::time::sleep(Duration::from_secs(2)).await;
    app.close().await?;

    let app = AppSession::launch_in(&server.url, home.path()).await?;
    app.click("[data-testid=nav-chats]").await?;
    click_with_text(&app, "[data-testid=chat-row]", &subject).await?;
    wait_for_value(&app, "[data-testid=composer-input]", "Half-written answer").await?;

    // Sent: the draft is gone, also after navigating back.
    app.click("[data-testid=composer-send]").await?;
    wait_for_value(&app, "[data-testid=composer-input]", "").await?;
    app.click("[data-testid=nav-orders]").await?;
    app.click("[data-testid=nav-chats]").await?;
    click_with_text(&app, "[data-testid=chat-row]", &subject).await?;
    app.wait_for("[data-testid=composer-input]").await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(value(&app, "[data-testid=composer-input]").await?, "");
    app.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agents_note_mode_is_unmistakable_and_ends_after_the_note() -> anyhow::Result<()> {
    let _one = SERIAL.lock().await;
    let data = tempfile::tempdir()?;
    let server = ServerProcess::start_demo(data.path()).await?;
    let app = AppSession::launch(&server.url).await?;
    app.sign_in(DEMO_AGENT).await?;
    app.wait_for("[data-testid=nav-inbox]").await?;
    app.wait_for_text("[data-testid=sync-indicator]", WAIT, |t| {
        t.contains("Up to date")
    })
    .await?;

    // The call queue names customers, never ids.
    app.click("[data-testid=nav-queue]").await?;
    app.wait_for("[data-testid=queue-row]").await?;
    let names = app.texts("[data-testid=queue-customer]").await?;
    assert!(!names.is_empty());
    for n in &names {
        assert!(!n.trim().is_empty() && !has_raw_id(n), "a name: {n:?}");
    }
    let queue = app.texts("[data-testid=queue-row]").await?.join("\n");
    assert!(!has_raw_id(&queue), "{queue}");

    // A conversation.
    app.click("[data-testid=nav-inbox]").await?;
    app.click("[data-testid=inbox-tab-all]").await?;
    app.click("[data-testid=inbox-row]").await?;
    app.wait_for("[data-testid=composer-input]").await?;

    // The customer panel: sentences, no scaffolding, no empty headings.
    app.wait_for_text("[data-testid=panel-name]", WAIT, |t| !t.is_empty())
        .await?;
    let panel = app
        .client
        .execute(
            "return document.querySelector('[data-testid=customer-panel]').innerText;",
            vec![],
        )
        .await?
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        !panel.contains("?:"),
        "no question used as a label: {panel}"
    );
    let empty_headings: i64 = app
        .client
        .execute(
            "return [...document.querySelectorAll('[data-testid=customer-panel] h3')]\
               .filter(h => { const n = h.nextElementSibling; return !n || n.innerText.trim() === ''; }).length;",
            vec![],
        )
        .await?
        .as_i64()
        .unwrap_or(-1);
    assert_eq!(empty_headings, 0, "no heading over nothing: {panel}");

    // Note mode: labelled, styled, "Add note"; back to reply once sent.
    assert_eq!(
        app.attr("[data-testid=composer]", "data-mode")
            .await?
            .as_deref(),
        Some("reply")
    );
    app.click("[data-testid=note-toggle]").await?;
    app.wait_for("[data-testid=composer][data-mode=note]")
        .await?;
    app.wait_for_text("[data-testid=note-mode-label]", WAIT, |t| !t.is_empty())
        .await?;
    app.wait_for_text("[data-testid=composer-send]", WAIT, |t| t == "Add note")
        .await?;
    app.type_into("[data-testid=composer-input]", "Checked with the carrier")
        .await?;
    app.click("[data-testid=composer-send]").await?;
    app.wait_for("[data-testid=message][data-kind=note]")
        .await?;
    app.wait_for("[data-testid=composer][data-mode=reply]")
        .await?;
    assert_eq!(
        app.client
            .execute(
                "return document.querySelector('[data-testid=note-toggle]').checked;",
                vec![],
            )
            .await?
            .as_bool(),
        Some(false),
        "the next message is a reply again"
    );
    app.wait_for_text("[data-testid=composer-send]", WAIT, |t| t == "Send")
        .await?;
    let label: String = app
        .client
        .execute(
            "const l = document.querySelector('[data-testid=note-mode-label]');\
             return l && l.offsetParent !== null ? l.innerText : '';",
            vec![],
        )
        .await?
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(label, "", "no note label in reply mode");

    // Agents attach files like shoppers; the reply carries the file.
    let png = data.path().join("label.png");
    std::fs::write(&png, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR a return label")?;
    app.wait_for("[data-testid=composer-attach]").await?;
    app.find("[data-testid=composer-attach]")
        .await?
        .send_keys(&png.display().to_string())
        .await?;
    app.wait_for_text("[data-testid=picked-file]", WAIT, |t| {
        t.contains("label.png")
    })
    .await?;
    app.type_into("[data-testid=composer-input]", "Here is your return label")
        .await?;
    app.click("[data-testid=composer-send]").await?;
    app.wait_for_count("[data-testid=picked-file]", |n| n == 0)
        .await?;
    let token = server.login(DEMO_AGENT).await?;
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let list = server.get(&token, "/api/v1/conversations?limit=3").await?;
        let mut found = false;
        for c in list.as_array().into_iter().flatten() {
            let id = c["id"].as_str().unwrap_or_default();
            let t = server
                .get(&token, &format!("/api/v1/conversations/{id}"))
                .await?;
            found |= t["messages"].as_array().into_iter().flatten().any(|m| {
                m["body"] == "Here is your return label"
                    && m["kind"] == "text"
                    && m["attachments"][0]["filename"] == "label.png"
            });
        }
        if found {
            break;
        }
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "the agent's reply with its file never reached the server"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // The file is no picture the webview can decode: it is offered as a
    // file to open, not drawn as a broken image.
    app.wait_for_text("[data-testid=attachment-open]", WAIT, |t| {
        t.contains("label.png")
    })
    .await?;
    assert_eq!(
        app.eval("return document.querySelectorAll('[data-testid=attachment-preview]').length;")
            .await?,
        0,
        "no broken image"
    );

    // Note mode in Spanish and Russian, for the eye.
    for (code, add) in [("es", "Añadir nota"), ("ru", "Добавить заметку")] {
        app.set_language(code).await?;
        app.click("[data-testid=note-toggle]").await?;
        app.wait_for_text("[data-testid=composer-send]", WAIT, |t| t == add)
            .await?;
        app.screenshot(&format!("forms-note-mode-{code}")).await?;
        app.click("[data-testid=note-toggle]").await?;
    }
    app.set_language("en").await?;
    app.close().await
}
