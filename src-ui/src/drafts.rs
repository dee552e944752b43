//! What the user is typing, kept outside the components that show it: a
//! language switch redraws every screen and leaving a screen drops it, but
//! the text stays. Any form's fields live here in memory; a conversation's
//! composer is also kept in the engine's store (shortly after typing stops
//! and when the composer goes away), so it survives an app restart. All of
//! it is forgotten on sign-out.

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use uuid::Uuid;

use crate::app::{ctx, Ctx};
use crate::ipc;

pub mod memory;
pub use memory::{clear_all, get, set};

/// A form field whose text outlives its component, kept under `key`.
pub fn field(key: impl Into<String>) -> RwSignal<String> {
    let key = key.into();
    let text = RwSignal::new(get(&key).unwrap_or_default());
    Effect::new(move |_| set(&key, &text.get()));
    text
}

/// How long typing must pause before a draft is written to the store.
const SAVE_AFTER: Duration = Duration::from_millis(400);

fn conversation_key(id: Uuid) -> String {
    format!("conversation:{id}")
}

/// Writes the conversation's draft to the engine's store; a store that
/// cannot keep it says so once at the top.
fn persist(ctx: Ctx, id: Uuid, text: String) {
    spawn_local(async move {
        if let Err(e) = ipc::save_draft(id, text).await {
            ctx.notice.set(Some(ctx.error(&e)));
        }
    });
}

/// The composer's text for conversation `id`: from memory, else from the
/// engine's store (after a restart); kept in both as the user types.
pub fn conversation(id: Uuid) -> RwSignal<String> {
    let ctx = ctx();
    let key = conversation_key(id);
    let remembered = get(&key);
    let load = remembered.is_none();
    let text = RwSignal::new(remembered.unwrap_or_default());
    if load {
        spawn_local(async move {
            if let Ok(Some(saved)) = ipc::draft(id).await {
                // Unless the user started typing meanwhile.
                if text.try_get_untracked().is_some_and(|t| t.is_empty()) {
                    text.set(saved);
                }
            }
        });
    }
    let round = StoredValue::new(0u64);
    let key_for_effect = key.clone();
    Effect::new(move |before: Option<()>| {
        let now = text.get();
        set(&key_for_effect, &now);
        if before.is_none() {
            return; // the first run only reads what is there
        }
        round.update_value(|r| *r += 1);
        let mine = round.get_value();
        set_timeout(
            move || {
                if round.try_get_value() == Some(mine) {
                    persist(ctx, id, now);
                }
            },
            SAVE_AFTER,
        );
    });
    // Leaving the screen (or redrawing it in another language) saves now.
    on_cleanup(move || persist(ctx, id, get(&key).unwrap_or_default()));
    text
}

/// Forgets the conversation's draft at once (its message was sent). Takes
/// the `Ctx` because it runs after an `await`, outside any component.
pub fn sent(ctx: Ctx, id: Uuid) {
    set(&conversation_key(id), "");
    persist(ctx, id, String::new());
}
