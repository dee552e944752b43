//! One contract, two stores: the scenarios in `scenarios.rs` run against
//! the native store (SQLite files, tokio) and against the browser store
//! (IndexedDB in headless Chromium, wasm-bindgen-test), so the engine,
//! written once over `crate::store::Store`, finds the same answers on both.
//!
//! - native: `cargo test -p mostrador-client --test store_contract`
//! - browser: `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//!   CHROMEDRIVER=/usr/bin/chromedriver cargo test -p mostrador-client
//!   --no-default-features --features browser --target wasm32-unknown-unknown
//!   --test store_contract`

#[cfg(not(target_arch = "wasm32"))]
use mostrador_client::store::Store;
#[cfg(target_arch = "wasm32")]
use mostrador_client::store_web::Store;

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod scenarios;

/// A line for the test's output (timings).
fn report(line: &str) {
    #[cfg(not(target_arch = "wasm32"))]
    println!("{line}");
    #[cfg(target_arch = "wasm32")]
    wasm_bindgen_test::console_log!("{}", line);
}

/// One test per scenario on each store, each over a store of its own and
/// a second handle on it.
macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        #[cfg(not(target_arch = "wasm32"))]
        mod native {
            $(
                #[tokio::test]
                async fn $name() {
                    let dir = tempfile::tempdir().unwrap();
                    let path = dir.path().join("store.sqlite3");
                    let store = super::Store::open(&path).await.unwrap();
                    let other = super::Store::open(&path).await.unwrap();
                    super::scenarios::$name(&store, &other).await;
                }
            )*
        }

        #[cfg(target_arch = "wasm32")]
        mod browser {
            use wasm_bindgen_test::wasm_bindgen_test;
            $(
                #[wasm_bindgen_test]
                async fn $name() {
                    let name = format!("contract-{}", uuid::Uuid::new_v4());
                    let store = super::Store::open_browser(&name).await.unwrap();
                    let other = super::Store::open_browser(&name).await.unwrap();
                    super::scenarios::$name(&store, &other).await;
                    other.close().await;
                    store.wipe().await.unwrap();
                }
            )*
        }
    };
}

contract!(
    pages_apply_once_in_order,
    views_answer_from_the_cache,
    several_by_id_in_list_order,
    views_span_many_conversations,
    unread_depends_on_the_side_in_each_conversation,
    reset_keeps_unsent_writes,
    outbox_keeps_order_and_state,
    uploads_keep_bytes_and_state,
    attachment_cache_evicts_least_recently_used,
    drafts_and_kept_answers,
    sessions_forget_all_but_unsent_writes,
    two_handles_share_one_state,
    an_agent_inbox_of_a_thousand_conversations,
    the_inbox_pages_as_filter_inbox_does,
    snapshot_pages_complete_the_cache_only_at_the_end,
);

/// What a store keeps survives closing it; a wiped store starts empty.
#[cfg(not(target_arch = "wasm32"))]
#[tokio::test]
async fn kept_across_reopening_and_gone_after_wipe() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.sqlite3");
    let reopen = || Store::open(&path);
    scenarios::kept_until_wiped(reopen).await;
}

/// What a store keeps survives closing it; a wiped store starts empty.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen_test::wasm_bindgen_test]
async fn kept_across_reopening_and_gone_after_wipe() {
    let name = format!("contract-{}", uuid::Uuid::new_v4());
    let reopen = || Store::open_browser(&name);
    scenarios::kept_until_wiped(reopen).await;
}

/// A tab whose database another tab wiped (a sign-out there) does not
/// block it, and goes on over a fresh, empty database.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen_test::wasm_bindgen_test]
async fn a_tab_goes_on_after_another_tab_wiped_the_store() {
    use mostrador_core::sync::{Mutation, MutationOp};
    let name = format!("contract-{}", uuid::Uuid::new_v4());
    let this_tab = Store::open_browser(&name).await.unwrap();
    let other_tab = Store::open_browser(&name).await.unwrap();
    let write = |id| Mutation {
        client_id: id,
        op: MutationOp::CancelCallback { callback_id: id },
    };
    this_tab
        .enqueue(&write(uuid::Uuid::new_v4()))
        .await
        .unwrap();
    other_tab.wipe().await.unwrap();
    assert!(this_tab.outbox().await.unwrap().is_empty());
    let w = write(uuid::Uuid::new_v4());
    this_tab.enqueue(&w).await.unwrap();
    let again = Store::open_browser(&name).await.unwrap();
    assert_eq!(again.outbox().await.unwrap()[0].mutation, w);
    again.close().await;
    this_tab.wipe().await.unwrap();
}
