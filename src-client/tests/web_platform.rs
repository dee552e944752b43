//! The browser platform's own pieces, in headless Chromium
//! (wasm-bindgen-test): the session in `localStorage` under its key, the
//! Web Locks that let one holder in at a time (and free the lock when the
//! holder is dropped), and two engines over one IndexedDB database (two
//! tabs of the app) pushing at once: the server sees the write once; a
//! write or a sign-out in one reaches the other's events, with no echo.
//!
//! `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//! CHROMEDRIVER=/usr/bin/chromedriver cargo test -p mostrador-client
//! --no-default-features --features browser --target wasm32-unknown-unknown
//! --test web_platform`

#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use mostrador_client::platform::{self, SecretStore};
use mostrador_client::web::session::SESSION_KEY;
use mostrador_client::web::{page_origin, LocalSecretStore};
use mostrador_client::{ClientConfig, Engine, EngineEvent};
use mostrador_core::auth::Token;
use mostrador_core::chat::{MessageKind, SendMessage};
use mostrador_core::sync::{MutationOp, MutationOutcome, MutationResult};
use tokio::sync::broadcast::error::TryRecvError;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn the_session_lives_in_local_storage_under_its_key() {
    let secrets = LocalSecretStore;
    secrets.clear().await.unwrap();
    assert_eq!(secrets.load().await.unwrap(), None);
    secrets.save(&Token("t0ken".into())).await.unwrap();
    assert_eq!(secrets.load().await.unwrap(), Some(Token("t0ken".into())));
    let raw = web_sys::window()
        .unwrap()
        .local_storage()
        .unwrap()
        .unwrap()
        .get_item(SESSION_KEY)
        .unwrap();
    assert_eq!(raw.as_deref(), Some("t0ken"));
    secrets.clear().await.unwrap();
    assert_eq!(secrets.load().await.unwrap(), None);
}

/// Runs a holder of lock `name` that logs when it enters and leaves.
async fn hold(name: &str, who: &str, log: &Rc<RefCell<Vec<String>>>) {
    platform::exclusive(name, async {
        log.borrow_mut().push(format!("{who} in"));
        platform::sleep(Duration::from_millis(40)).await;
        log.borrow_mut().push(format!("{who} out"));
    })
    .await;
}

#[wasm_bindgen_test]
async fn a_web_lock_lets_one_holder_in_at_a_time() {
    let name = format!("test-{}", uuid::Uuid::new_v4());
    let log = Rc::new(RefCell::new(Vec::new()));
    tokio::join!(hold(&name, "a", &log), hold(&name, "b", &log));
    assert_eq!(*log.borrow(), ["a in", "a out", "b in", "b out"]);
}

#[wasm_bindgen_test]
async fn a_dropped_holder_frees_the_lock() {
    let name = format!("test-{}", uuid::Uuid::new_v4());
    tokio::select! {
        () = platform::exclusive(&name, std::future::pending::<()>()) => unreachable!(),
        () = platform::sleep(Duration::from_millis(30)) => {}
    }
    let again = tokio::select! {
        () = platform::exclusive(&name, async {}) => true,
        () = platform::sleep(Duration::from_secs(2)) => false,
    };
    assert!(again, "the lock was released when its holder was dropped");
}

/// Replaces the page's `fetch` for `POST …/api/v1/sync/push` with a slow
/// server that applies every write it is sent; returns the list of the
/// `client_id`s it saw (a JavaScript array, filled as requests come).
fn fake_push_server() -> js_sys::Array {
    let mut applied = serde_json::to_value(MutationResult {
        client_id: uuid::Uuid::nil(),
        outcome: MutationOutcome::Applied { ids: vec![] },
    })
    .unwrap();
    applied.as_object_mut().unwrap().remove("client_id");
    let install = js_sys::Function::new_with_args(
        "applied",
        r#"
        const seen = [];
        const real = window.fetch;
        window.fetch = async function (input, init) {
            const req = input instanceof Request ? input : new Request(input, init);
            if (!req.url.endsWith('/api/v1/sync/push')) return real.call(window, input, init);
            const body = await req.json();
            await new Promise(r => setTimeout(r, 50));
            const results = body.mutations.map(m => {
                seen.push(m.client_id);
                return Object.assign({ client_id: m.client_id }, JSON.parse(applied));
            });
            const res = new Response(JSON.stringify({ results }),
                { status: 200, headers: { 'content-type': 'application/json' } });
            // A made-up response has no URL; fetch's always has one.
            Object.defineProperty(res, 'url', { value: req.url });
            return res;
        };
        return seen;
        "#,
    );
    install
        .call1(&wasm_bindgen::JsValue::NULL, &applied.to_string().into())
        .unwrap()
        .unchecked_into()
}

#[wasm_bindgen_test]
async fn two_tabs_pushing_at_once_send_a_write_once() {
    let seen = fake_push_server();
    let config = ClientConfig::new(page_origin().unwrap());
    let db = format!("tabs-{}", uuid::Uuid::new_v4());
    let tab_a = Engine::open_browser(&config, &db).await.unwrap();
    let tab_b = Engine::open_browser(&config, &db).await.unwrap();
    for tab in [&tab_a, &tab_b] {
        tab.api().set_token(Some(Token("session".into())));
    }
    let client_id = tab_a
        .enqueue(MutationOp::DeleteAddress {
            address_id: uuid::Uuid::new_v4(),
        })
        .await
        .unwrap();
    assert_eq!(tab_b.outbox().await.unwrap().len(), 1, "one database");

    let (a, b) = tokio::join!(tab_a.push_ready(), tab_b.push_ready());
    let applied = a.unwrap().applied + b.unwrap().applied;
    assert_eq!(applied, 1);
    let sent: Vec<String> = seen.iter().filter_map(|v| v.as_string()).collect();
    assert_eq!(sent, [client_id.to_string()], "the server saw it once");
    assert!(tab_a.outbox().await.unwrap().is_empty());
    assert!(tab_b.outbox().await.unwrap().is_empty());
}

/// The first event of `events` that `pick` takes, within two seconds.
async fn heard<T>(
    events: &mut tokio::sync::broadcast::Receiver<EngineEvent>,
    pick: impl Fn(&EngineEvent) -> Option<T>,
) -> Option<T> {
    let wait = async {
        while let Ok(event) = events.recv().await {
            if let Some(t) = pick(&event) {
                return Some(t);
            }
        }
        None
    };
    tokio::select! {
        t = wait => t,
        () = platform::sleep(Duration::from_secs(2)) => None,
    }
}

/// Two engines over one IndexedDB database, as two tabs of the app.
async fn two_tabs() -> (Engine, Engine) {
    let config = ClientConfig::new(page_origin().unwrap());
    let db = format!("tabs-{}", uuid::Uuid::new_v4());
    let tab_a = Engine::open_browser(&config, &db).await.unwrap();
    let tab_b = Engine::open_browser(&config, &db).await.unwrap();
    (tab_a, tab_b)
}

#[wasm_bindgen_test]
async fn a_write_in_one_tab_refreshes_the_other_tab_once() {
    let (tab_a, tab_b) = two_tabs().await;
    let (mut heard_a, mut heard_b) = (tab_a.subscribe(), tab_b.subscribe());
    let conversation = uuid::Uuid::new_v4();
    tab_a
        // A message (a read receipt changes no screen, so it tells no tab).
        .enqueue(MutationOp::SendMessage {
            conversation_id: conversation,
            message: SendMessage {
                id: uuid::Uuid::new_v4(),
                body: "Is it on its way?".into(),
                kind: MessageKind::Text,
                attachment_ids: Vec::new(),
            },
        })
        .await
        .unwrap();

    // In the order the writing tab emits them.
    let pending = heard(&mut heard_b, |e| match e {
        EngineEvent::Outbox { pending, .. } => Some(*pending),
        _ => None,
    })
    .await;
    assert_eq!(pending, Some(1), "the other tab counts the write");
    let changed = heard(&mut heard_b, |e| match e {
        EngineEvent::Changed(c) => Some(c.conversations.clone()),
        _ => None,
    })
    .await;
    assert_eq!(changed, Some(vec![conversation]), "the other tab heard it");

    // An echo would arrive within a few tasks; give it time.
    platform::sleep(Duration::from_millis(300)).await;
    let mut own = Vec::new();
    loop {
        match heard_a.try_recv() {
            Ok(event) => own.push(event),
            Err(TryRecvError::Lagged(n)) => panic!("an echo loop: {n} events missed"),
            Err(_) => break,
        }
    }
    let changed = own
        .iter()
        .filter(|e| matches!(e, EngineEvent::Changed(_)))
        .count();
    let outbox = own
        .iter()
        .filter(|e| matches!(e, EngineEvent::Outbox { .. }))
        .count();
    assert_eq!((changed, outbox), (1, 1), "no echo: {own:?}");
}

#[wasm_bindgen_test]
async fn a_sign_out_in_one_tab_signs_the_other_out() {
    let (tab_a, tab_b) = two_tabs().await;
    for tab in [&tab_a, &tab_b] {
        tab.api().set_token(Some(Token("session".into())));
    }
    let mut heard_b = tab_b.subscribe();
    tab_a.sign_out().await.unwrap();
    let signed_out = heard(&mut heard_b, |e| {
        matches!(e, EngineEvent::SignedOut).then_some(())
    })
    .await;
    assert_eq!(signed_out, Some(()), "the other tab heard the sign-out");
    assert_eq!(tab_b.api().token(), None, "and forgot the session");
}
