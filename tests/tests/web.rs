//! The web app end to end in headless Chromium: a sample shop page on its
//! own origin embeds the widget (`<script src=…/widget.js data-identity=…>`)
//! with a shopper identity the shop signed; the real server serves the
//! widget and the app (`--web-dir`), whose engine runs in the page over
//! IndexedDB. Each step is shot at phone (390×844) and tablet (820×1180)
//! size, the panel open on the shop page.

use std::time::Duration;

use fantoccini::key::Key;

use mostrador_e2e::browser::{self, Browser, Shopper, BADGE, LAUNCHER, PHONE, SHOP_ORDER, TABLET};
use mostrador_e2e::{audit_report, DEMO_AGENT};

const WAIT: Duration = Duration::from_secs(40);
/// One browser at a time: two cores.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A shopper the shop knows, with the shop's order already sent to the
/// support server for their email (the identity exchange links it).
async fn shopper_with_order(
    data: &std::path::Path,
) -> anyhow::Result<(mostrador_e2e::ServerProcess, browser::ShopSite, Shopper)> {
    let shopper = Shopper::new(
        &format!("lena.{}@example.com", uuid::Uuid::new_v4().simple()),
        "Lena Ortiz",
    );
    let (server, shop) = browser::start_with_shop(data, Some(shopper.clone())).await?;
    browser::send_order(&server, &shopper.email, SHOP_ORDER).await?;
    Ok((server, shop, shopper))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_signs_the_shopper_in_and_shows_orders_and_a_timeline() -> anyhow::Result<()> {
    let _one = SERIAL.lock().await;
    let data = tempfile::tempdir()?;
    let (_server, shop, _shopper) = shopper_with_order(data.path()).await?;
    let b = Browser::launch(PHONE).await?;

    // The launcher speaks the page's language; nothing of the app loads
    // before it is opened.
    for (lang, text) in [
        ("es", "Hacer una pregunta"),
        ("ru", "Задать вопрос"),
        ("en", "Ask a question"),
    ] {
        b.goto(&shop.page(lang)).await?;
        let launcher = b.widget(LAUNCHER).await?;
        assert_eq!(launcher.text().await?.trim(), text, "launcher in {lang}");
    }
    assert!(
        b.try_widget("iframe").await?.is_none(),
        "the app loads only when the launcher is opened"
    );
    b.screenshots("web-shop-launcher", PHONE).await?;

    // Opened: the panel holds the app, signed in by the shop's identity,
    // showing the order the shop had sent for that email.
    b.open_widget().await?;
    b.to_app().await?;
    b.wait_for(&format!(
        "[data-testid=home-orders] [data-number={SHOP_ORDER}]"
    ))
    .await?;
    b.screenshots("web-signed-in-home", PHONE).await?;

    // Orders, then the order's tracking timeline, newest first.
    b.click("[data-testid=nav-orders]").await?;
    b.click(&format!(
        "[data-testid=order-row][data-number={SHOP_ORDER}]"
    ))
    .await?;
    b.wait_for_count("[data-testid=timeline-event]", |n| n >= 2)
        .await?;
    assert_eq!(
        b.attr("[data-testid=timeline-event]", "data-status")
            .await?
            .as_deref(),
        Some("in_transit"),
        "newest event first"
    );
    b.screenshots("web-order-timeline", PHONE).await?;

    // The app's Close gives the shop page back, launcher and all.
    b.close_widget().await?;
    b.close().await
}

/// One of my messages the server has (sent, delivered or read).
const STORED_MINE: &str =
    "[data-testid=message][data-mine=true]:not([data-state=pending]):not([data-state=failed])";

/// From the shop page, asks `question` about [`SHOP_ORDER`] through the
/// page's "Help with my order" button (`Mostrador.open({order})`), which
/// opens the app on a question form carrying the order; shoots the form as
/// `shot`; waits for the question to reach the server. Leaves the driver in
/// the app, on the new thread.
async fn ask_about_the_order(b: &Browser, question: &str, shot: &str) -> anyhow::Result<()> {
    b.to_page().await?;
    b.click("#help-order").await?;
    b.to_app().await?;
    b.wait_for_text("[data-testid=ask-order]", WAIT, |t| t.contains(SHOP_ORDER))
        .await?;
    b.type_into("[data-testid=ask-body]", question).await?;
    b.screenshots(shot, PHONE).await?;
    b.click("[data-testid=ask-send]").await?;
    b.wait_for_text("[data-testid=thread-subject]", WAIT, |t| {
        t.contains(SHOP_ORDER)
    })
    .await?;
    b.wait_for(STORED_MINE).await
}

/// The conversation about `order` as the agent sees it: its id.
async fn agents_conversation_about(
    server: &mostrador_e2e::ServerProcess,
    agent: &str,
    order: &str,
) -> anyhow::Result<String> {
    let list = server.get(agent, "/api/v1/conversations").await?;
    list.as_array()
        .into_iter()
        .flatten()
        .chain(list["items"].as_array().into_iter().flatten())
        .find(|c| c["subject"].as_str().is_some_and(|s| s.contains(order)))
        .and_then(|c| c["id"].as_str().map(str::to_owned))
        .ok_or_else(|| {
            anyhow::anyhow!("the agent does not see a conversation about {order}: {list}")
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_about_an_order_gets_a_live_reply_and_the_launcher_counts_unread(
) -> anyhow::Result<()> {
    let _one = SERIAL.lock().await;
    let data = tempfile::tempdir()?;
    let (server, shop, _shopper) = shopper_with_order(data.path()).await?;
    let b = Browser::launch(PHONE).await?;
    b.goto(&shop.page("en")).await?;
    b.widget(LAUNCHER).await?;

    // The shop page's own button opens the widget on its order
    // (`Mostrador.open({order})`): the question form comes with the order.
    ask_about_the_order(&b, "Has my mug left Zaragoza yet?", "web-ask-about-order").await?;

    // An agent answers through the API: the reply shows live as the
    // changed lines alone, carried by the change event (the open thread is
    // followed: neither read whole again nor asked for its lines).
    let reads = "const f = window.__mostradorFetches || {}; \
                 return [f.thread || 0, f.thread_delta || 0, f.carried_lines || 0];";
    let before = b.eval(reads).await?;
    let agent = server.login(DEMO_AGENT).await?;
    let id = agents_conversation_about(&server, &agent, SHOP_ORDER).await?;
    server
        .say(
            &agent,
            &id,
            "Yes: it left this morning and arrives tomorrow.",
        )
        .await?;
    b.wait_for_text(
        "[data-testid=message][data-mine=false] [data-testid=message-body]",
        WAIT,
        |t| t.contains("arrives tomorrow"),
    )
    .await?;
    let after = b.eval(reads).await?;
    assert_eq!(
        after[0], before[0],
        "no whole read of the open thread for a reply ({before} -> {after})"
    );
    assert_eq!(
        after[1], before[1],
        "no read of the reply's lines: the event carried them ({before} -> {after})"
    );
    assert!(
        after[2].as_f64() > before[2].as_f64(),
        "the reply's lines came with the change event ({before} -> {after})"
    );
    b.screenshots("web-agent-reply-live", PHONE).await?;

    // Panel closed, another reply: the launcher shows one unread, and
    // says so to a screen reader.
    b.click("[data-testid=nav-home]").await?;
    b.close_widget().await?;
    server
        .say(&agent, &id, "The courier will call you before coming.")
        .await?;
    let deadline = std::time::Instant::now() + WAIT;
    while !b.widget_shown(BADGE).await? {
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "no unread badge on the launcher; the app said {:?}",
            b.app_messages().await?
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(b.widget(BADGE).await?.text().await?.trim(), "1");
    let launcher = b.widget(LAUNCHER).await?.text().await?;
    assert!(
        launcher.contains("1 unread message"),
        "the launcher's name tells the count: {launcher:?}"
    );
    b.screenshots("web-launcher-unread", PHONE).await?;

    // Reading it clears the badge.
    b.open_widget().await?;
    b.to_app().await?;
    b.click("[data-testid=nav-chats]").await?;
    b.click("[data-testid=chat-row]").await?;
    b.wait_for_text(
        "[data-testid=message][data-mine=false]:last-of-type [data-testid=message-body]",
        WAIT,
        |t| t.contains("courier will call"),
    )
    .await?;
    b.to_page().await?;
    b.wait_for_js(
        "the app reports nothing unread",
        "const u = (window.__mostradorMessages || []).filter(m => m.type === 'mostrador:unread'); \
         return u.length > 0 && u[u.length - 1].count === 0;",
        WAIT,
    )
    .await?;
    b.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_written_offline_survive_a_reload_and_land_once_when_back() -> anyhow::Result<()> {
    let _one = SERIAL.lock().await;
    let data = tempfile::tempdir()?;
    let (mut server, shop, _shopper) = shopper_with_order(data.path()).await?;
    let b = Browser::launch(PHONE).await?;
    b.goto(&shop.page("en")).await?;
    b.widget(LAUNCHER).await?;
    ask_about_the_order(&b, "Can it come on Saturday?", "web-online-question").await?;

    // The support server goes away; two messages are written anyway.
    server.stop().await?;
    b.wait_for("[data-testid=offline-banner]").await?;
    let offline = ["First, written offline", "Second, written offline"];
    for text in offline {
        b.type_into("[data-testid=composer-input]", text).await?;
        b.click("[data-testid=composer-send]").await?;
    }
    b.wait_for_count("[data-testid=message][data-state=pending]", |n| n == 2)
        .await?;
    b.screenshots("web-offline-pending", PHONE).await?;

    // The shop page reloaded while the server is still down: the app comes
    // from its service worker, the thread from the browser's store, both
    // messages still pending.
    b.reload().await?;
    b.open_widget().await?;
    b.to_app().await?;
    b.click("[data-testid=nav-chats]").await?;
    b.click("[data-testid=chat-row]").await?;
    b.wait_for_count("[data-testid=message][data-state=pending]", |n| n == 2)
        .await?;
    let bodies = b
        .texts("[data-testid=message] [data-testid=message-body]")
        .await?;
    for text in offline {
        anyhow::ensure!(
            bodies.iter().any(|b| b.contains(text)),
            "{text:?} not in the reloaded thread: {bodies:?}"
        );
    }
    b.screenshots("web-offline-reloaded", PHONE).await?;

    // Back online: both go out, and the server has each exactly once.
    server.restart().await?;
    b.wait_for_count("[data-testid=message][data-state=pending]", |n| n == 0)
        .await?;
    b.wait_for_count(STORED_MINE, |n| n == 3).await?;
    b.screenshots("web-back-online", PHONE).await?;
    let agent = server.login(DEMO_AGENT).await?;
    let id = agents_conversation_about(&server, &agent, SHOP_ORDER).await?;
    let thread = server
        .get(&agent, &format!("/api/v1/conversations/{id}"))
        .await?;
    for text in offline {
        let copies = thread["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| m["body"] == text)
            .count();
        assert_eq!(copies, 1, "{text:?} on the server: {thread}");
    }
    b.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_and_the_apps_pages_pass_the_wcag_audit_in_light_and_dark() -> anyhow::Result<()>
{
    let _one = SERIAL.lock().await;
    let data = tempfile::tempdir()?;
    let (server, shop, shopper) = shopper_with_order(data.path()).await?;
    // An anonymous visitor first: the page embeds the widget without an
    // identity.
    shop.embed(&server.url, None, browser::IDENTITY_SECRET);
    let b = Browser::launch(PHONE).await?;
    let mut failures = Vec::new();

    // The shop page with the launcher (the widget's own markup is ours).
    b.goto(&shop.page("en")).await?;
    b.widget(LAUNCHER).await?;
    b.audit_themes("shop page with the launcher", &mut failures)
        .await?;

    // Signed out inside the panel: sign-in and sign-up.
    b.open_widget().await?;
    b.to_app().await?;
    b.wait_for("[data-testid=signin-form]").await?;
    b.audit_themes("sign-in", &mut failures).await?;
    b.click("[data-testid=signin-toggle]").await?;
    b.wait_for("[data-testid=signup-name]").await?;
    b.audit_themes("sign-up", &mut failures).await?;
    b.click("[data-testid=signin-toggle]").await?;

    // The shop identifies the shopper later (`Mostrador.identify`).
    let jwt = browser::sign_identity(
        browser::IDENTITY_SECRET,
        &shopper.claims(Duration::from_secs(3600), false),
    );
    b.to_page().await?;
    b.client
        .execute("Mostrador.identify(arguments[0]);", vec![jwt.into()])
        .await?;
    b.to_app().await?;
    b.wait_for(&format!(
        "[data-testid=home-orders] [data-number={SHOP_ORDER}]"
    ))
    .await?;
    b.audit_themes("home", &mut failures).await?;
    b.close_widget().await?;
    ask_about_the_order(&b, "Is the mug boxed?", "web-a11y-question").await?;
    b.audit_themes("chat thread", &mut failures).await?;

    // (screen, what to click to get there, what shows it is there)
    let screens: [(&str, &[&str], &str); 9] = [
        ("orders", &["nav-orders"], "order-row"),
        ("order detail", &["order-row"], "timeline-event"),
        ("conversations", &["nav-chats"], "chat-row"),
        ("new question", &["new-question"], "ask-body"),
        ("callbacks", &["nav-callbacks"], "book-callback"),
        ("booking", &["book-callback"], "slot"),
        ("profile", &["nav-profile"], "profile-form"),
        ("privacy", &["privacy-page"], "privacy-text"),
        ("home again", &["nav-home"], "home-orders"),
    ];
    for (screen, clicks, shown) in screens {
        for c in clicks {
            b.click(&format!("[data-testid={c}]")).await?;
        }
        b.wait_for(&format!("[data-testid={shown}]")).await?;
        b.audit_themes(screen, &mut failures).await?;
    }
    // At tablet size the panel is a side panel beside the shop page.
    b.set_viewport(TABLET.0, TABLET.1).await?;
    b.audit_themes("home (tablet)", &mut failures).await?;
    b.set_theme("dark").await?;
    b.screenshots("web-a11y-home-dark", PHONE).await?;
    b.set_theme("light").await?;

    // Offline: the status banner.
    let mut server = server;
    server.stop().await?;
    b.wait_for("[data-testid=offline-banner]").await?;
    b.audit_themes("status (offline)", &mut failures).await?;
    b.close().await?;
    audit_report(&failures)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_identity_is_refused_with_a_clear_sentence() -> anyhow::Result<()> {
    let _one = SERIAL.lock().await;
    let data = tempfile::tempdir()?;
    let (server, shop, shopper) = shopper_with_order(data.path()).await?;
    // The page signs with a secret that is not the shop's.
    shop.embed(&server.url, Some(shopper.clone()), "not-the-shops-secret");
    let b = Browser::launch(PHONE).await?;
    b.goto(&shop.page("en")).await?;
    b.open_widget().await?;
    b.to_app().await?;

    // Nobody is signed in; the app says why, in words, and the ordinary
    // sign-in stays available.
    b.wait_for("[data-testid=signin-form]").await?;
    let notice = b
        .wait_for_text("[data-testid=notice]", WAIT, |t| !t.trim().is_empty())
        .await?;
    for unclear in [
        "identity_invalid",
        "Something went wrong",
        "email and password don't match",
    ] {
        anyhow::ensure!(
            !notice.contains(unclear),
            "the refusal is not a clear sentence: {notice:?}"
        );
    }
    b.screenshots("web-forged-identity", PHONE).await?;
    anyhow::ensure!(
        b.texts("[data-testid=home-orders]").await?.is_empty(),
        "no data shown"
    );

    // An expired one (the page left open too long) says so, differently.
    let replayed = shopper.clone();
    shop.embed(&server.url, Some(shopper), browser::IDENTITY_SECRET);
    shop.sign_expired();
    b.reload().await?;
    b.open_widget().await?;
    b.to_app().await?;
    b.wait_for("[data-testid=signin-form]").await?;
    let expired = b
        .wait_for_text("[data-testid=notice]", WAIT, |t| !t.trim().is_empty())
        .await?;
    anyhow::ensure!(
        expired.contains("expired") && expired != notice,
        "an expired identity is named as such: {expired:?}"
    );
    b.screenshots("web-expired-identity", PHONE).await?;

    // One already exchanged (a copied page, a replay) is refused too.
    let used = browser::sign_identity(
        browser::IDENTITY_SECRET,
        &replayed.claims(Duration::from_secs(3600), false),
    );
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/identity", server.url))
        .json(&serde_json::json!({ "identity": used }))
        .send()
        .await?;
    anyhow::ensure!(
        res.status().is_success(),
        "the first exchange: {}",
        res.status()
    );
    b.to_page().await?;
    b.client
        .execute("Mostrador.identify(arguments[0]);", vec![used.into()])
        .await?;
    b.to_app().await?;
    let again = b
        .wait_for_text("[data-testid=notice]", WAIT, |t| {
            t != expired && !t.trim().is_empty()
        })
        .await?;
    anyhow::ensure!(
        again.contains("already used"),
        "a replayed identity is named as such: {again:?}"
    );
    b.wait_for("[data-testid=signin-form]").await?;
    b.close().await
}

/// Whether the focus is on the widget's `css` (inside its shadow root).
async fn widget_focused(b: &Browser, css: &str) -> anyhow::Result<bool> {
    b.to_page().await?;
    let v = b
        .client
        .execute(
            "const h = document.querySelector('[data-mostrador]');\
             const a = h && h.shadowRoot && h.shadowRoot.activeElement;\
             return !!a && document.activeElement === h && a.matches(arguments[0]);",
            vec![css.into()],
        )
        .await?;
    Ok(v == serde_json::Value::Bool(true))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_works_from_the_keyboard() -> anyhow::Result<()> {
    let _one = SERIAL.lock().await;
    let data = tempfile::tempdir()?;
    let (_server, shop, _shopper) = shopper_with_order(data.path()).await?;
    let b = Browser::launch(PHONE).await?;
    b.goto(&shop.page("en")).await?;
    b.widget(LAUNCHER).await?;

    // Tab reaches the launcher; Enter opens the panel and the focus goes
    // into the app.
    let mut presses = 0;
    while !widget_focused(&b, LAUNCHER).await? {
        anyhow::ensure!(presses < 20, "Tab never reached the launcher");
        b.press(Key::Tab).await?;
        presses += 1;
    }
    b.press(Key::Enter).await?;
    b.to_app().await?;
    b.wait_for(&format!(
        "[data-testid=home-orders] [data-number={SHOP_ORDER}]"
    ))
    .await?;
    b.to_page().await?;
    anyhow::ensure!(
        widget_focused(&b, "iframe").await?,
        "the focus moved into the panel"
    );
    // Keys now reach the app: Tab lands on one of its controls.
    b.to_app().await?;
    b.press(Key::Tab).await?;
    let on = b
        .eval(
            "const a = document.activeElement; return a && a !== document.body ? a.tagName : null;",
        )
        .await?;
    anyhow::ensure!(!on.is_null(), "Tab inside the app focused nothing");
    b.screenshots("web-keyboard-panel", PHONE).await?;

    // Escape (in the app) closes the panel and gives the focus back to the
    // launcher.
    b.press(Key::Escape).await?;
    b.to_page().await?;
    let deadline = std::time::Instant::now() + WAIT;
    while !widget_focused(&b, LAUNCHER).await? {
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "Escape did not close the panel back to the launcher"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::ensure!(
        b.widget_shown(LAUNCHER).await?,
        "the launcher is shown again"
    );
    b.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tabs_of_one_shopper_send_an_offline_message_once() -> anyhow::Result<()> {
    let _one = SERIAL.lock().await;
    let data = tempfile::tempdir()?;
    let (mut server, shop, _shopper) = shopper_with_order(data.path()).await?;
    let b = Browser::launch(PHONE).await?;
    b.goto(&shop.page("en")).await?;
    b.widget(LAUNCHER).await?;
    ask_about_the_order(&b, "Two tabs, one question", "web-two-tabs-question").await?;
    let first = b.client.window().await?;

    // A second tab of the same browser (same storage, same session) with
    // the app open on the thread: its engine runs too.
    let second = b.client.new_window(true).await?.handle;
    b.client.switch_to_window(second.clone()).await?;
    b.set_viewport(PHONE.0, PHONE.1).await?;
    b.goto(&shop.page("en")).await?;
    b.open_widget().await?;
    b.to_app().await?;
    b.click("[data-testid=nav-chats]").await?;
    b.click("[data-testid=chat-row]").await?;
    b.wait_for(STORED_MINE).await?;

    // Offline, the first tab writes two messages.
    server.stop().await?;
    b.client.switch_to_window(first).await?;
    b.to_app().await?;
    b.wait_for("[data-testid=offline-banner]").await?;
    let offline = ["Written in the first tab", "Also in the first tab"];
    for text in offline {
        b.type_into("[data-testid=composer-input]", text).await?;
        b.click("[data-testid=composer-send]").await?;
    }
    b.wait_for_count("[data-testid=message][data-state=pending]", |n| n == 2)
        .await?;

    // Back online: both tabs' engines try to send the shared outbox; the
    // server gets each message once.
    server.restart().await?;
    b.wait_for_count("[data-testid=message][data-state=pending]", |n| n == 0)
        .await?;
    // Time for the other tab's engine to have pushed too, if it were to.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let agent = server.login(DEMO_AGENT).await?;
    let id = agents_conversation_about(&server, &agent, SHOP_ORDER).await?;
    let thread = server
        .get(&agent, &format!("/api/v1/conversations/{id}"))
        .await?;
    for text in offline {
        let copies = thread["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| m["body"] == text)
            .count();
        assert_eq!(copies, 1, "{text:?} on the server: {thread}");
    }
    // The second tab, left open on the thread, shows both sent without a
    // reload: the first tab's engine told it (its BroadcastChannel).
    b.client.switch_to_window(second).await?;
    b.to_app().await?;
    b.wait_for_count(STORED_MINE, |n| n == 3).await?;
    b.screenshots("web-two-tabs-second", PHONE).await?;
    b.close().await
}
