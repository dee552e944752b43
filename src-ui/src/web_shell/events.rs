//! Engine events → the UI's [`AppEvent`]s, as `src-tauri/src/state.rs`
//! forwards them, and the engine's notices (worded by the engine,
//! `Notice::note`) as browser notifications while the page is in the
//! background.

use std::rc::Rc;

use mostrador_client::{Engine, EngineEvent};
use mostrador_core::app::{AppEvent, Changes, OutboxCount, SyncState};
use mostrador_core::notification::Audience;
use tokio::sync::{broadcast, watch};

use super::{browser, Shell};

/// Forwards until `stop` or the end of the session.
pub(super) async fn forward(
    shell: Rc<Shell>,
    engine: Engine,
    mut events: broadcast::Receiver<EngineEvent>,
    mut stop: watch::Receiver<bool>,
) {
    let signed_in = engine.me().await.ok().flatten();
    let me = signed_in.as_ref().map(|m| m.id);
    let audience = Audience::of(signed_in.map(|m| m.role));
    loop {
        let event = tokio::select! {
            e = events.recv() => e,
            _ = stop.changed() => return,
        };
        let event = match event {
            Ok(e) => e,
            Err(broadcast::error::RecvError::Lagged(_)) => {
                // Missed some: redraw everything.
                shell.emit(AppEvent::Changed(Changes::everything()));
                continue;
            }
            Err(_) => return,
        };
        // The shell's own side of an event; what the UI is told is the
        // engine's (`Engine::ui_event`), the same in the Tauri shell.
        let mut ended = false;
        match &event {
            EngineEvent::Status(s) => shell.last.borrow_mut().0 = SyncState::from(s),
            EngineEvent::Outbox { pending, wedged } => {
                shell.last.borrow_mut().1 = OutboxCount {
                    pending: *pending,
                    wedged: *wedged,
                };
            }
            EngineEvent::Notice(notice) if browser::in_background() => {
                if let Some(note) = notice.note(shell.lang.get(), audience) {
                    browser::notify(&note);
                }
            }
            // The engine ended the session and kept unsent writes for the
            // same user's next sign-in.
            EngineEvent::SignedOut => {
                shell.session_ended().await;
                ended = true;
            }
            // The account is gone: nothing of it stays in the browser.
            EngineEvent::AccountDeleted => {
                if let Err(err) = shell.sign_out().await {
                    browser::warn(&format!(
                        "wiping the browser's copy after the account was deleted: {}",
                        err.message
                    ));
                }
                ended = true;
            }
            _ => {}
        }
        if let Some(ui) = engine.ui_event(&event, me).await {
            shell.emit(ui);
        }
        if ended {
            return;
        }
    }
}
