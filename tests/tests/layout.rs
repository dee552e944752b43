//! Layout and reading end to end, at phone (390×844), tablet (820×1180)
//! and desktop (1280×900) size: hostile content (a 320-character tracking
//! link, a 70-character subject, a 5,000-character message, right-to-left
//! text) never makes the page wider than the window; the composer stays
//! visible above the tab bar; a thread opens at its newest message, follows
//! new ones while the reader is at the bottom, and otherwise offers a "new
//! messages" button; order numbers never break; countries have names; an
//! empty account's screens say so in a sentence.

use std::time::Duration;

use mostrador_e2e::{AppSession, ServerProcess, DEMO_AGENT, DEMO_CUSTOMER};

/// One app at a time: two WebKit processes on two cores make each other
/// time out.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const WAIT: Duration = Duration::from_secs(30);
/// Scrolling follows within a few frames; generous for a loaded machine.
const FOLLOW: Duration = Duration::from_secs(5);

const PHONE: (u32, u32) = (390, 844);
const TABLET: (u32, u32) = (820, 1180);
const DESKTOP: (u32, u32) = (1280, 900);

/// 70 characters.
const SUBJECT: &str = "Parcel MS-10001 marked undeliverable by the carrier yesterday evening!";
const ARABIC: &str = "مرحبًا، لم يصل طلبي بعد. هل يمكنكم التحقق من رقم التتبع من فضلكم؟";
const HEBREW: &str = "שלום, החבילה שלך בדרך ותגיע מחר בבוקר.";
const LAST: &str = "Anything else I can help you with today?";

/// A pasted tracking link: 320 letters and digits after `id=`.
fn long_link() -> String {
    let tail: String = (0..320)
        .map(|i| {
            let c = b"aZ09kQ7xW3mT5pR8"[(i * 7 + i / 5) % 16];
            c as char
        })
        .collect();
    format!("https://example.com/track?id={tail}")
}

/// About 5,000 characters of ordinary prose.
fn long_message() -> String {
    let sentence = "We checked with the carrier and the depot in Zaragoza: your parcel was \
                    scanned at 07:40, loaded onto the afternoon van, and the driver noted that \
                    nobody answered the door. ";
    let mut s = String::new();
    while s.chars().count() < 5000 {
        s.push_str(sentence);
    }
    s.chars().take(5000).collect()
}

/// A conversation holding every kind of hostile content; the last lines are
/// the agent's, so the shopper has unread messages. Returns its id.
async fn seed_hostile_thread(server: &ServerProcess) -> anyhow::Result<String> {
    assert_eq!(SUBJECT.chars().count(), 70);
    let me = server.login(DEMO_CUSTOMER).await?;
    let agent = server.login(DEMO_AGENT).await?;
    let id = server.open_conversation(&me, SUBJECT, &long_link()).await?;
    server.say(&agent, &id, &long_message()).await?;
    server.say(&me, &id, ARABIC).await?;
    server.say(&agent, &id, HEBREW).await?;
    server.say(&agent, &id, LAST).await?;
    Ok(id)
}

/// What sticks out of the window: the page wider than it, a box that
/// scrolls sideways or whose text overflows it, or one of `inside` reaching
/// past an edge. Empty when everything fits.
const OVERFLOWS: &str = r#"
const inside = arguments[0];
const W = window.innerWidth;
const bad = [];
const name = (el) => el.tagName.toLowerCase()
  + (el.dataset.testid ? `[data-testid=${el.dataset.testid}]` : '')
  + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : '');
const de = document.documentElement;
if (de.scrollWidth > W) bad.push(`the page is ${de.scrollWidth}px wide in a ${W}px window`);
for (const el of document.querySelectorAll('body *')) {
  if (['TEXTAREA', 'INPUT', 'SELECT', 'OPTION', 'svg'].includes(el.tagName)) continue;
  const r = el.getBoundingClientRect();
  if (r.width === 0 && r.height === 0) continue;
  const cs = getComputedStyle(el);
  const scrolls = cs.overflowX === 'auto' || cs.overflowX === 'scroll';
  const clips = cs.overflowX === 'hidden' || cs.overflowX === 'clip';
  if (scrolls && el.scrollWidth > el.clientWidth + 1) bad.push(`${name(el)} scrolls sideways (${el.scrollWidth} > ${el.clientWidth})`);
  if (!scrolls && !clips && el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0) bad.push(`text overflows ${name(el)} (${el.scrollWidth} > ${el.clientWidth})`);
}
for (const sel of inside) {
  for (const el of document.querySelectorAll(sel)) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.left < -1 || r.right > W + 1) bad.push(`${sel} spans ${Math.round(r.left)}..${Math.round(r.right)} in a ${W}px window`);
  }
}
return bad.slice(0, 12);
"#;

/// The composer and Send inside the window, on top (not under the tab bar
/// or anything else). Empty when so.
const COMPOSER_BLOCKED: &str = r#"
const W = window.innerWidth, H = window.innerHeight;
const bad = [];
const send = document.querySelector('[data-testid=composer-send]');
const box = document.querySelector('[data-testid=composer-input]');
if (!send || !box) return ['no composer'];
for (const [what, el] of [['Send', send], ['the message box', box]]) {
  const r = el.getBoundingClientRect();
  if (r.top < 0 || r.left < 0 || r.bottom > H + 0.5 || r.right > W + 0.5)
    bad.push(`${what} is not inside the ${W}x${H} window: ${Math.round(r.left)},${Math.round(r.top)} to ${Math.round(r.right)},${Math.round(r.bottom)}`);
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  if (!hit || !el.contains(hit)) bad.push(`${what} is covered by ${hit ? hit.outerHTML.slice(0, 90) : 'nothing (off screen)'}`);
}
const form = box.closest('form').getBoundingClientRect();
const nav = document.querySelector('.nav').getBoundingClientRect();
if (nav.height > 0 && nav.top > H / 2 && form.bottom > nav.top + 0.5) bad.push(`the composer (bottom ${Math.round(form.bottom)}) runs under the tab bar (top ${Math.round(nav.top)})`);
return bad;
"#;

/// The newest message's end is on screen, above the composer.
const NEWEST_IN_VIEW: &str = r#"
const ms = document.querySelectorAll('[data-testid=message]');
if (!ms.length) return false;
const r = ms[ms.length - 1].getBoundingClientRect();
const foot = document.querySelector('[data-testid=composer-input]').closest('form').getBoundingClientRect();
const head = document.querySelector('.app-header').getBoundingClientRect();
return r.bottom <= foot.top + 2 && r.bottom > head.bottom + 8 && r.bottom <= window.innerHeight;
"#;

/// Every order number's characters on one line.
const BROKEN_NUMBERS: &str = r#"
const bad = [];
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
let n;
while ((n = walker.nextNode())) {
  const re = /MS-\d+/g;
  let m;
  while ((m = re.exec(n.data))) {
    const range = document.createRange();
    range.setStart(n, m.index);
    range.setEnd(n, m.index + m[0].length);
    const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
    if (tops.size > 1) bad.push(`${m[0]} breaks over ${tops.size} lines in ${n.parentElement.outerHTML.slice(0, 120)}`);
  }
}
return bad;
"#;

async fn overflows(app: &AppSession, inside: &[&str]) -> anyhow::Result<Vec<String>> {
    let v = app
        .client
        .execute(OVERFLOWS, vec![serde_json::json!(inside)])
        .await?;
    Ok(strings(&v))
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect()
}

/// Fails with `bad` (what the page check found) and a screenshot, unless
/// it is empty.
async fn expect_none(app: &AppSession, what: &str, bad: Vec<String>) -> anyhow::Result<()> {
    if bad.is_empty() {
        return Ok(());
    }
    let shot = app
        .screenshot(&format!("failure-layout-{}", what.replace(' ', "-")))
        .await?;
    // Said at once too: a failing app session can be slow to close.
    eprintln!("{what}: {bad:#?} (screenshot {})", shot.display());
    anyhow::bail!("{what}: {bad:#?} (screenshot {})", shot.display());
}

async fn assert_fits(app: &AppSession, what: &str, inside: &[&str]) -> anyhow::Result<()> {
    let bad = overflows(app, inside).await?;
    expect_none(app, what, bad).await
}

async fn assert_composer_usable(app: &AppSession, what: &str) -> anyhow::Result<()> {
    let bad = strings(&app.eval(COMPOSER_BLOCKED).await?);
    expect_none(app, what, bad).await
}

async fn assert_numbers_whole(app: &AppSession, what: &str) -> anyhow::Result<()> {
    let bad = strings(&app.eval(BROKEN_NUMBERS).await?);
    expect_none(app, what, bad).await
}

/// Clicks the first element matching `css` whose text contains `text`.
async fn click_containing(app: &AppSession, css: &str, text: &str) -> anyhow::Result<()> {
    app.wait_for_js(
        &format!("{css} containing {text:?}"),
        &format!(
            "return [...document.querySelectorAll({css:?})].some(e => e.textContent.includes({text:?}));"
        ),
        WAIT,
    )
    .await?;
    app.client
        .execute(
            "[...document.querySelectorAll(arguments[0])].find(e => e.textContent.includes(arguments[1])).click();",
            vec![serde_json::json!(css), serde_json::json!(text)],
        )
        .await?;
    Ok(())
}

/// The thread's subject and its Resolve button are inside the content
/// area's visible box and not covered.
const ACTIONS_IN_VIEW: &str = r#"
const box = document.getElementById('content').getBoundingClientRect();
return ['[data-testid=thread-subject]', '[data-testid=resolve]'].every(css => {
  const e = document.querySelector(css);
  if (!e) return false;
  const r = e.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return r.top >= box.top && r.bottom <= box.bottom && hit && e.contains(hit);
});
"#;

const THREAD_INSIDE: &[&str] = &[
    "[data-testid=message]",
    ".bubble",
    "[data-testid=message-body]",
    "[data-testid=thread-subject]",
    "[data-testid=composer-send]",
    "[data-testid=composer-input]",
    "[data-testid=language]",
    ".nav-link",
];
const LIST_INSIDE: &[&str] = &[
    "[data-testid=chat-row]",
    "[data-testid=inbox-row]",
    "[data-testid=unread]",
    "[data-testid=inbox-waiting]",
    ".row-side",
    "[data-testid=language]",
    "[data-testid=sync-indicator]",
    ".nav-link",
];

/// Scrolls the message holding the long link into view (for a screenshot).
async fn show_link(app: &AppSession) -> anyhow::Result<()> {
    app.eval(
        "[...document.querySelectorAll('[data-testid=message-body]')]\
           .find(b => b.textContent.startsWith('https://example.com/track'))\
           .scrollIntoView({ block: 'center' }); return true;",
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    Ok(())
}

/// Scrolls back to the newest message, as a reader would.
async fn show_newest(app: &AppSession) -> anyhow::Result<()> {
    app.eval(
        "const ms = document.querySelectorAll('[data-testid=message]');\
         ms[ms.length - 1].scrollIntoView({ block: 'end' }); return true;",
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    Ok(())
}

/// Scrolls the thread up to its first message.
async fn scroll_to_oldest(app: &AppSession) -> anyhow::Result<()> {
    app.eval(
        "document.querySelector('[data-testid=message]').scrollIntoView({ block: 'start' }); return true;",
    )
    .await?;
    // Let the scroll event reach the app.
    tokio::time::sleep(Duration::from_millis(300)).await;
    anyhow::ensure!(
        app.eval(NEWEST_IN_VIEW).await? == serde_json::Value::Bool(false),
        "scrolled up, the newest message is out of view"
    );
    Ok(())
}

/// The reading checks of a thread, shopper's or agent's: opened at the
/// newest message; a live reply at the bottom stays in view; scrolled up,
/// a reply shows the "new messages" button instead of moving the reader,
/// and the button jumps down. `reply` sends one line from the other side.
async fn check_following<F, Fut>(app: &AppSession, what: &str, reply: F) -> anyhow::Result<()>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    app.wait_for_js(
        &format!("{what}: opens at its newest message"),
        NEWEST_IN_VIEW,
        FOLLOW,
    )
    .await?;
    let n = app
        .wait_for_count("[data-testid=message]", |n| n > 0)
        .await?;

    reply(format!("{what}: a live reply while you are at the bottom")).await?;
    app.wait_for_count("[data-testid=message]", |m| m == n + 1)
        .await?;
    app.wait_for_js(
        &format!("{what}: a live reply keeps the reader at the bottom"),
        NEWEST_IN_VIEW,
        FOLLOW,
    )
    .await?;

    scroll_to_oldest(app).await?;
    reply(format!("{what}: a reply while you read older messages")).await?;
    app.wait_for_count("[data-testid=message]", |m| m == n + 2)
        .await?;
    app.wait_for("[data-testid=jump-to-newest]").await?;
    anyhow::ensure!(
        app.eval(NEWEST_IN_VIEW).await? == serde_json::Value::Bool(false),
        "{what}: a reader scrolled up stays where they were"
    );
    let tag = app
        .eval("return document.querySelector('[data-testid=jump-to-newest]').tagName;")
        .await?;
    assert_eq!(
        tag, "BUTTON",
        "{what}: the new-messages control is a button"
    );
    app.click("[data-testid=jump-to-newest]").await?;
    app.wait_for_js(
        &format!("{what}: the button jumps to the newest"),
        NEWEST_IN_VIEW,
        FOLLOW,
    )
    .await?;
    app.wait_for_count("[data-testid=jump-to-newest]", |n| n == 0)
        .await?;
    Ok(())
}

/// Every message body reads in its own direction.
async fn check_directions(app: &AppSession) -> anyhow::Result<()> {
    let v = app
        .client
        .execute(
            "const bodies = [...document.querySelectorAll('[data-testid=message-body]')];\
             return [bodies.filter(b => b.getAttribute('dir') !== 'auto').length,\
                     bodies.filter(b => b.textContent.includes(arguments[0]))\
                           .map(b => getComputedStyle(b).direction)];",
            vec![serde_json::json!(ARABIC)],
        )
        .await?;
    assert_eq!(v[0], 0, "every message has dir=auto");
    assert_eq!(
        v[1],
        serde_json::json!(["rtl"]),
        "the Arabic message reads right to left"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shopper_long_content_fits_and_the_thread_follows_at_every_size() -> anyhow::Result<()> {
    let _one = SERIAL.lock().await;
    let data = tempfile::tempdir()?;
    let server = ServerProcess::start_demo(data.path()).await?;
    let conversation = seed_hostile_thread(&server).await?;
    let agent = server.login(DEMO_AGENT).await?;
    let app = AppSession::launch(&server.url).await?;
    app.set_viewport(PHONE.0, PHONE.1).await?;
    app.sign_in(DEMO_CUSTOMER).await?;
    app.wait_for_text("[data-testid=sync-indicator]", WAIT, |_| true)
        .await?;

    // The list with the long subject, in every language.
    app.click("[data-testid=nav-chats]").await?;
    app.wait_for("[data-testid=chat-row] [data-testid=unread]")
        .await?;
    for lang in ["en", "es", "ru"] {
        app.set_language(lang).await?;
        app.wait_for("[data-testid=chat-row] [data-testid=unread]")
            .await?;
        assert_fits(&app, &format!("phone inbox ({lang})"), LIST_INSIDE).await?;
        app.screenshot(&format!("layout-inbox-phone-{lang}"))
            .await?;
    }
    app.set_language("en").await?;

    // The thread: everything fits, the composer is usable, newest in view.
    click_containing(&app, "[data-testid=chat-row]", SUBJECT).await?;
    app.wait_for_count("[data-testid=message]", |n| n == 5)
        .await?;
    check_directions(&app).await?;
    let reply = |body: String| {
        let (server, agent, conversation) = (&server, &agent, &conversation);
        async move { server.say(agent, conversation, &body).await }
    };
    check_following(&app, "phone thread", reply).await?;
    assert_fits(&app, "phone thread", THREAD_INSIDE).await?;
    assert_composer_usable(&app, "phone thread").await?;
    show_link(&app).await?;
    assert_fits(&app, "phone thread at the link", THREAD_INSIDE).await?;
    app.screenshot("layout-thread-phone").await?;
    show_newest(&app).await?;

    // The shopper's own message, sent at the bottom, stays in view.
    app.type_into(
        "[data-testid=composer-input]",
        "My own reply, sent from the bottom",
    )
    .await?;
    app.click("[data-testid=composer-send]").await?;
    app.wait_for_count("[data-testid=message]", |n| n == 8)
        .await?;
    app.wait_for_js(
        "phone thread: my own message in view",
        NEWEST_IN_VIEW,
        FOLLOW,
    )
    .await?;
    assert_composer_usable(&app, "phone thread after sending").await?;
    app.screenshot("layout-thread-phone-composer").await?;

    // Tablet and desktop: still at the newest, everything fits.
    for (size, (w, h)) in [("tablet", TABLET), ("desktop", DESKTOP)] {
        app.set_viewport(w, h).await?;
        app.wait_for_js(
            &format!("{size} thread: newest in view"),
            NEWEST_IN_VIEW,
            FOLLOW,
        )
        .await?;
        assert_fits(&app, &format!("{size} thread"), THREAD_INSIDE).await?;
        assert_composer_usable(&app, &format!("{size} thread")).await?;
        show_link(&app).await?;
        app.screenshot(&format!("layout-thread-{size}")).await?;
        show_newest(&app).await?;
    }

    // Desktop: the navigation stays in place while the long thread scrolls.
    scroll_to_oldest(&app).await?;
    let nav = app
        .eval(
            "const r = document.querySelector('[data-testid=nav-chats]').getBoundingClientRect();\
             return r.top >= 0 && r.bottom <= window.innerHeight;",
        )
        .await?;
    assert_eq!(nav, true, "scrolled up, the navigation is still on screen");
    show_newest(&app).await?;
    let nav = app
        .eval(
            "const r = document.querySelector('[data-testid=nav-chats]').getBoundingClientRect();\
             return r.top >= 0 && r.bottom <= window.innerHeight;",
        )
        .await?;
    assert_eq!(
        nav, true,
        "at the newest message the navigation is still on screen"
    );
    app.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_thread_with_long_content_fits_and_follows() -> anyhow::Result<()> {
    let _one = SERIAL.lock().await;
    let data = tempfile::tempdir()?;
    let server = ServerProcess::start_demo(data.path()).await?;
    let conversation = seed_hostile_thread(&server).await?;
    let me = server.login(DEMO_CUSTOMER).await?;
    let app = AppSession::launch(&server.url).await?;
    app.set_viewport(PHONE.0, PHONE.1).await?;
    app.sign_in(DEMO_AGENT).await?;
    app.wait_for("[data-testid=inbox-tab-all]").await?;
    app.click("[data-testid=inbox-tab-all]").await?;
    app.wait_for_js(
        "the inbox row",
        &format!(
            "return [...document.querySelectorAll('[data-testid=inbox-row]')].some(e => e.textContent.includes({SUBJECT:?}));"
        ),
        WAIT,
    )
    .await?;
    assert_fits(&app, "phone agent inbox", LIST_INSIDE).await?;
    app.screenshot("layout-agent-inbox-phone").await?;

    click_containing(&app, "[data-testid=inbox-row]", SUBJECT).await?;
    app.wait_for_count("[data-testid=message]", |n| n == 5)
        .await?;
    check_directions(&app).await?;
    let reply = |body: String| {
        let (server, me, conversation) = (&server, &me, &conversation);
        async move { server.say(me, conversation, &body).await }
    };
    check_following(&app, "phone agent thread", &reply).await?;
    assert_fits(&app, "phone agent thread", THREAD_INSIDE).await?;
    assert_composer_usable(&app, "phone agent thread").await?;
    app.screenshot("layout-agent-thread-phone").await?;

    app.set_viewport(DESKTOP.0, DESKTOP.1).await?;
    app.wait_for_js(
        "desktop agent thread: newest in view",
        NEWEST_IN_VIEW,
        FOLLOW,
    )
    .await?;
    assert_fits(&app, "desktop agent thread", THREAD_INSIDE).await?;
    assert_composer_usable(&app, "desktop agent thread").await?;
    // Opened at the newest message, the subject and Resolve stay in view.
    app.wait_for_js(
        "desktop agent thread: Resolve in view",
        ACTIONS_IN_VIEW,
        WAIT,
    )
    .await?;
    check_following(&app, "desktop agent thread", &reply).await?;
    app.screenshot("layout-agent-thread-desktop").await?;
    app.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_numbers_stay_whole_and_countries_have_names() -> anyhow::Result<()> {
    let _one = SERIAL.lock().await;
    let data = tempfile::tempdir()?;
    let server = ServerProcess::start_demo(data.path()).await?;
    let app = AppSession::launch(&server.url).await?;
    app.set_viewport(PHONE.0, PHONE.1).await?;
    app.sign_in(DEMO_CUSTOMER).await?;

    for (lang, spain) in [("en", "Spain"), ("es", "España"), ("ru", "Испания")] {
        app.set_language(lang).await?;
        app.click("[data-testid=nav-home]").await?;
        app.wait_for("[data-testid=home-orders] [data-testid=order-row]")
            .await?;
        assert_numbers_whole(&app, &format!("phone home ({lang})")).await?;
        app.click("[data-testid=nav-orders]").await?;
        app.wait_for_count("[data-testid=order-row]", |n| n == 10)
            .await?;
        assert_numbers_whole(&app, &format!("phone orders ({lang})")).await?;
        assert_fits(&app, &format!("phone orders ({lang})"), LIST_INSIDE).await?;
        app.click("[data-testid=order-row][data-number=MS-10001]")
            .await?;
        app.wait_for("[data-testid=order-detail] address").await?;
        assert_numbers_whole(&app, &format!("phone order ({lang})")).await?;
        let address = app
            .texts("[data-testid=order-detail] address > span")
            .await?
            .join("\n");
        assert!(
            address.lines().any(|l| l.trim() == spain),
            "the country by name ({spain}) in {lang}: {address:?}"
        );
        assert!(
            !address.lines().any(|l| l.trim() == "ES"),
            "no country code in {lang}: {address:?}"
        );
        app.screenshot(&format!("layout-order-phone-{lang}"))
            .await?;
    }
    app.close().await
}

/// A shopper who has just registered: no orders, chats or calls yet.
/// Every screen says so in a sentence of the user's language (not "none
/// match", not a blank card), fits the window, and passes the page checks
/// in both themes, at phone, tablet and desktop size.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_account_says_so_on_every_screen_at_every_size() -> anyhow::Result<()> {
    let _one = SERIAL.lock().await;
    let data = tempfile::tempdir()?;
    let server = ServerProcess::start_demo(data.path()).await?;
    let app = AppSession::launch(&server.url).await?;
    app.set_viewport(PHONE.0, PHONE.1).await?;
    app.sign_up("Zoë", "zoe.new@example.com", "a first password 1")
        .await?;
    app.wait_for("[data-testid=home-orders]").await?;

    // (nav, what the screen shows, the sentence in en / es / ru)
    let screens: [(&str, &str, [&str; 3]); 4] = [
        (
            "nav-home",
            "[data-testid=home-chats]",
            [
                "No open conversations.",
                "No hay conversaciones abiertas.",
                "Нет открытых обращений.",
            ],
        ),
        (
            "nav-orders",
            "[data-testid=no-orders]",
            ["No orders yet.", "Aún no hay pedidos.", "Заказов пока нет."],
        ),
        (
            "nav-chats",
            "main",
            [
                "No conversations yet.",
                "Aún no hay conversaciones.",
                "Обращений пока нет.",
            ],
        ),
        (
            "nav-callbacks",
            "main",
            ["No calls yet.", "Aún no hay llamadas.", "Звонков пока нет."],
        ),
    ];
    for (size, (w, h)) in [("phone", PHONE), ("tablet", TABLET), ("desktop", DESKTOP)] {
        app.set_viewport(w, h).await?;
        for (i, lang) in ["en", "es", "ru"].into_iter().enumerate() {
            app.set_language(lang).await?;
            for (nav, shown, said) in &screens {
                app.click(&format!("[data-testid={nav}]")).await?;
                let sentence = said[i];
                app.wait_for_text(shown, WAIT, |t| t.contains(sentence))
                    .await
                    .map_err(|e| anyhow::anyhow!("{size} {nav} ({lang}): {sentence:?}: {e}"))?;
                let what = format!("{size} empty {nav} ({lang})");
                if *nav == "nav-orders" {
                    // Nothing to search or filter: no search box, no filter.
                    for control in ["order-search", "order-status-filter"] {
                        let el = app.find(&format!("[data-testid={control}]")).await?;
                        anyhow::ensure!(
                            !el.is_displayed().await?,
                            "{what}: {control} is shown with no orders to search"
                        );
                    }
                }
                assert_fits(&app, &what, LIST_INSIDE).await?;
                let shot = (size == "phone" || lang == "en")
                    .then(|| format!("layout-empty-{nav}-{size}-{lang}"));
                check_themes(&app, &what, shot.as_deref()).await?;
            }
        }
    }
    app.close().await
}

/// An unbroken link of `n` characters (the tracking link, cut).
fn link_of(n: usize) -> String {
    let link: String = long_link().chars().take(n).collect();
    assert_eq!(
        link.chars().count(),
        n,
        "the tracking link is shorter than {n}"
    );
    link
}

/// A subject in Arabic ("My order has not arrived — the tracking number
/// does not work").
const ARABIC_SUBJECT: &str = "لم يصل طلبي بعد — رقم التتبع لا يعمل";
/// A customer whose name is in Arabic, asking in English.
const ARABIC_NAME: &str = "ليلى الحسن";
const LATIN_SUBJECT: &str = "Where is my parcel?";

/// Conversations with hostile content, opened by customers (so each waits
/// for an agent, unassigned): the 70-character subject with a 300-character
/// link as its message, an Arabic subject with a Hebrew message, a
/// 200-character link as the subject (the longest a subject may be), and a
/// customer named in Arabic. Returns their ids.
async fn seed_hostile_inbox(server: &ServerProcess) -> anyhow::Result<Vec<String>> {
    let ana = server.login(DEMO_CUSTOMER).await?;
    let mut ids = vec![
        server
            .open_conversation(&ana, SUBJECT, &link_of(300))
            .await?,
        server
            .open_conversation(&ana, ARABIC_SUBJECT, HEBREW)
            .await?,
        server
            .open_conversation(&ana, &link_of(200), "The link above says nothing.")
            .await?,
    ];
    let res: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/register", server.url))
        .json(&serde_json::json!({
            "email": "layla@example.com",
            "password": "a long enough password",
            "display_name": ARABIC_NAME,
            "language": "en",
        }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let layla = res["token"].as_str().unwrap_or_default().to_owned();
    ids.push(
        server
            .open_conversation(&layla, LATIN_SUBJECT, ARABIC)
            .await?,
    );
    Ok(ids)
}

/// Every list row (`rows`) reads: its title takes at most two lines and
/// its preview one, anything longer is cut with an ellipsis (never clipped
/// bare), the text column keeps a readable width beside the side column
/// and does not run under it, and no row is taller than 160 px. Empty
/// when so.
const ROWS_READABLE: &str = r#"
const [rows, title, preview] = arguments;
const bad = [];
const all = [...document.querySelectorAll(rows)];
if (!all.length) return [`no ${rows}`];
for (const row of all) {
  const what = `${rows} "${row.textContent.trim().slice(0, 24)}…"`;
  const rr = row.getBoundingClientRect();
  if (rr.height > 160) bad.push(`${what} is ${Math.round(rr.height)}px tall`);
  const main = row.querySelector('.row-main').getBoundingClientRect();
  if (main.width < Math.min(150, rr.width * 0.45)) bad.push(`${what}: its text column is ${Math.round(main.width)}px wide`);
  const side = row.querySelector('.row-side');
  if (side) {
    const s = side.getBoundingClientRect();
    const overlap = Math.min(main.right, s.right) - Math.max(main.left, s.left) > 1
      && Math.min(main.bottom, s.bottom) - Math.max(main.top, s.top) > 1;
    if (s.width > 0 && overlap) bad.push(`${what}: the text and the side column overlap`);
    if (s.right > rr.right + 1) bad.push(`${what}: the side column sticks out`);
  }
  for (const [sel, most] of [[title, 2], [preview, 1]]) {
    const el = row.querySelector(sel);
    if (!el) { bad.push(`${what}: no ${sel}`); continue; }
    const cs = getComputedStyle(el);
    const lh = parseFloat(cs.lineHeight) || parseFloat(cs.fontSize) * 1.4;
    const lines = Math.round(el.getBoundingClientRect().height / lh);
    if (lines > most) bad.push(`${what}: ${sel} takes ${lines} lines (at most ${most})`);
    if (el.textContent.trim() && lines < 1) bad.push(`${what}: ${sel} is squeezed to nothing`);
    const cut = el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1;
    const marked = cs.textOverflow === 'ellipsis' || (cs.webkitLineClamp && cs.webkitLineClamp !== 'none');
    if (cut && (cs.overflowX !== 'hidden' || !marked)) bad.push(`${what}: ${sel} is cut without an ellipsis`);
  }
}
return bad.slice(0, 12);
"#;

async fn assert_rows_readable(
    app: &AppSession,
    what: &str,
    rows: &str,
    title: &str,
    preview: &str,
) -> anyhow::Result<()> {
    let v = app
        .client
        .execute(
            ROWS_READABLE,
            vec![
                serde_json::json!(rows),
                serde_json::json!(title),
                serde_json::json!(preview),
            ],
        )
        .await?;
    expect_none(app, what, strings(&v)).await
}

/// The computed direction of the first `css` whose text is `text`.
async fn direction_of(app: &AppSession, css: &str, text: &str) -> anyhow::Result<String> {
    let v = app
        .client
        .execute(
            "const e = [...document.querySelectorAll(arguments[0])].find(e => e.textContent === arguments[1]);\
             return e ? getComputedStyle(e).direction : null;",
            vec![serde_json::json!(css), serde_json::json!(text)],
        )
        .await?;
    Ok(v.as_str().unwrap_or("missing").to_owned())
}

/// Every control of the filters bar on one screen: inside the window, at
/// least 24 px tall (WCAG 2.2 target size), its words not clipped.
const FILTERS_USABLE: &str = r#"
const bad = [];
const W = window.innerWidth;
for (const el of document.querySelectorAll('.tabs .tab, .inbox-filters input:not([type=checkbox]), .inbox-filters select, .inbox-filters .check')) {
  const r = el.getBoundingClientRect();
  const name = el.dataset.testid || el.textContent.trim();
  if (r.height < 24) bad.push(`${name} is ${Math.round(r.height)}px tall`);
  if (r.left < -1 || r.right > W + 1) bad.push(`${name} spans ${Math.round(r.left)}..${Math.round(r.right)} in ${W}px`);
  if (el.scrollWidth > el.clientWidth + 1 && el.tagName !== 'SELECT' && el.tagName !== 'INPUT') bad.push(`${name} is clipped`);
}
return bad;
"#;

/// What fails WCAG 2.2 AA on screen, checked directly (fast enough for
/// every size, language and theme): text contrast against what is really
/// behind it (4.5:1, 3:1 for large text), a name on every button and
/// field, and every target at least 24 × 24 px. Empty when so.
const A11Y_PROBLEMS: &str = r#"
const bad = [];
const parse = (c) => {
  const m = /rgba?\(([^)]+)\)/.exec(c || '');
  if (!m) return null;
  const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
  return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
};
const lum = (c) => {
  const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
};
const behind = (el) => {
  const layers = [];
  for (let e = el; e; e = e.parentElement) {
    if (getComputedStyle(e).backgroundImage !== 'none') return null;
    const c = parse(getComputedStyle(e).backgroundColor);
    if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; }
  }
  let base = { r: 255, g: 255, b: 255 };
  for (const c of layers.reverse()) base = { r: c.r * c.a + base.r * (1 - c.a), g: c.g * c.a + base.g * (1 - c.a), b: c.b * c.a + base.b * (1 - c.a) };
  return base;
};
const shown = (el) => {
  const r = el.getBoundingClientRect();
  if (r.width < 2 || r.height < 2 || r.bottom < 0 || r.top > innerHeight) return false;
  for (let e = el; e; e = e.parentElement) {
    const cs = getComputedStyle(e);
    if (cs.visibility === 'hidden' || cs.display === 'none' || cs.clip === 'rect(0px, 0px, 0px, 0px)') return false;
  }
  return true;
};
const label = (el) => (el.textContent || '').trim().slice(0, 30) || el.outerHTML.slice(0, 60);
for (const el of document.querySelectorAll('body *')) {
  if (!shown(el) || el.closest(':disabled') || el.closest('svg')) continue;
  const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.data.trim());
  if (own) {
    const cs = getComputedStyle(el);
    const fg = parse(cs.color);
    // Text on a picture or gradient is left to the eye; decorative
    // (hidden) text needs no contrast.
    const bg = behind(el);
    if (fg && bg && !el.closest('[aria-hidden=true]')) {
      const f = { r: fg.r * fg.a + bg.r * (1 - fg.a), g: fg.g * fg.a + bg.g * (1 - fg.a), b: fg.b * fg.a + bg.b * (1 - fg.a) };
      const [a, b] = [lum(f), lum(bg)].sort((x, y) => y - x);
      const ratio = (a + 0.05) / (b + 0.05);
      const size = parseFloat(cs.fontSize), bold = parseInt(cs.fontWeight, 10) >= 700;
      const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
      if (ratio < need) bad.push(`contrast ${ratio.toFixed(2)}:1 (needs ${need}) on "${label(el)}"`);
    }
  }
  if (el.matches('button, select, input:not([type=checkbox]):not([type=radio]):not([type=file]), textarea, label.check')) {
    const r = el.getBoundingClientRect();
    if (r.height < 24 || r.width < 24) bad.push(`target ${Math.round(r.width)}x${Math.round(r.height)} px: "${label(el)}"`);
  }
  if (el.matches('button, select, input, textarea')) {
    const name = el.getAttribute('aria-label') || (el.labels && [...el.labels].map((l) => l.textContent).join(''))
      || (el.tagName === 'BUTTON' ? el.textContent : '') || el.getAttribute('title') || '';
    if (!name.trim()) bad.push(`no name: ${el.outerHTML.slice(0, 80)}`);
  }
}
return [...new Set(bad)].slice(0, 12);
"#;

/// In the light and the dark theme: [`A11Y_PROBLEMS`] finds nothing, and a
/// screenshot `<shot>-<theme>` (when `shot` is given). Leaves the light one.
async fn check_themes(app: &AppSession, what: &str, shot: Option<&str>) -> anyhow::Result<()> {
    for theme in ["light", "dark"] {
        app.set_theme(theme).await?;
        app.settle().await?;
        let bad = strings(&app.eval(A11Y_PROBLEMS).await?);
        expect_none(app, &format!("{what} ({theme} theme)"), bad).await?;
        if let Some(shot) = shot {
            app.screenshot(&format!("{shot}-{theme}")).await?;
        }
    }
    app.set_theme("light").await
}

const INBOX_INSIDE: &[&str] = &[
    "[data-testid=inbox-row]",
    "[data-testid=inbox-waiting]",
    "[data-testid=inbox-search]",
    "[data-testid=inbox-status]",
    ".inbox-filters .check",
    ".tabs .tab",
    "[data-testid=presence]",
    "[data-testid=agent-mode-toggle]",
    "[data-testid=language]",
    ".nav-link",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_inbox_with_hostile_rows_fits_at_every_size() -> anyhow::Result<()> {
    let _one = SERIAL.lock().await;
    let data = tempfile::tempdir()?;
    let server = ServerProcess::start_demo(data.path()).await?;
    let ids = seed_hostile_inbox(&server).await?;
    let app = AppSession::launch(&server.url).await?;
    app.set_viewport(PHONE.0, PHONE.1).await?;
    app.sign_in(DEMO_AGENT).await?;
    // The first sync (every order and conversation of the shop) done first.
    app.wait_for("[data-testid=sync-indicator][data-state=up_to_date]")
        .await?;
    app.click("[data-testid=inbox-tab-all]").await?;
    for id in &ids {
        app.wait_for(&format!("[data-testid=inbox-row][data-id='{id}']"))
            .await?;
    }
    // Each text in its own direction: the Arabic subject and name right to
    // left, the Latin subject beside the Arabic name left to right.
    for (text, dir) in [
        (ARABIC_SUBJECT, "rtl"),
        (ARABIC_NAME, "rtl"),
        (LATIN_SUBJECT, "ltr"),
    ] {
        assert_eq!(
            direction_of(&app, "[data-testid=inbox-title] bdi", text).await?,
            dir,
            "{text}"
        );
    }
    assert_eq!(
        direction_of(&app, "[data-testid=inbox-preview]", HEBREW).await?,
        "rtl",
        "the Hebrew preview"
    );

    for (size, (w, h)) in [("phone", PHONE), ("tablet", TABLET), ("desktop", DESKTOP)] {
        app.set_viewport(w, h).await?;
        for lang in ["en", "es", "ru"] {
            app.set_language(lang).await?;
            app.click("[data-testid=inbox-tab-all]").await?;
            app.wait_for(&format!("[data-testid=inbox-row][data-id='{}']", ids[0]))
                .await?;
            let what = format!("{size} agent inbox ({lang})");
            assert_fits(&app, &what, INBOX_INSIDE).await?;
            assert_rows_readable(
                &app,
                &what,
                "[data-testid=inbox-row]",
                "[data-testid=inbox-title]",
                "[data-testid=inbox-preview]",
            )
            .await?;
            expect_none(&app, &what, strings(&app.eval(FILTERS_USABLE).await?)).await?;
            check_themes(
                &app,
                &what,
                Some(&format!("layout-agent-inbox-{size}-{lang}")),
            )
            .await?;
        }
    }

    app.close().await
}
