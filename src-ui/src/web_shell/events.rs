//! Engine events → the UI's [`AppEvent`]s, as `src-tauri/src/state.rs`
//! forwards them, and the engine's notices (worded by the engine,
//! `Notice::note`) as browser notifications while the page is in the
//! background.

use std::rc::Rc;

use mostrador_client::{Engine, EngineEvent};
use mostrador_core::app::{AppEvent, Changes, OutboxCount, SignOutReason, SyncState};
use mostrador_core::live::LiveServerMessage;
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
        match event {
            EngineEvent::Status(s) => {
                let s = SyncState::from(&s);
                shell.last.borrow_mut().0 = s.clone();
                shell.emit(AppEvent::Sync(s));
            }
            EngineEvent::Outbox { pending, wedged } => {
                let count = OutboxCount { pending, wedged };
                shell.last.borrow_mut().1 = count;
                shell.emit(AppEvent::Outbox(count));
            }
            EngineEvent::Changed(changes) => shell.emit(AppEvent::Changed(changes)),
            EngineEvent::Notice(notice) if browser::in_background() => {
                if let Some(note) = notice.note(shell.lang.get(), audience) {
                    browser::notify(&note);
                }
            }
            EngineEvent::Resynced => shell.emit(AppEvent::Changed(Changes::everything())),
            EngineEvent::Live(LiveServerMessage::Typing {
                conversation_id,
                user_id,
                name,
                ..
            }) if Some(user_id) != me => shell.emit(AppEvent::Typing {
                conversation_id,
                name,
            }),
            // The engine ended the session and kept unsent writes for the
            // same user's next sign-in.
            EngineEvent::SignedOut => {
                shell.session_ended().await;
                shell.emit(AppEvent::SignedOut {
                    reason: SignOutReason::Expired,
                });
                return;
            }
            // The account is gone: nothing of it stays in the browser.
            EngineEvent::AccountDeleted => {
                if let Err(err) = shell.sign_out().await {
                    browser::warn(&format!(
                        "wiping the browser's copy after the account was deleted: {}",
                        err.message
                    ));
                }
                shell.emit(AppEvent::SignedOut {
                    reason: SignOutReason::AccountDeleted,
                });
                return;
            }
            EngineEvent::UploadProgress {
                attachment_id,
                message_id,
                sent,
                total,
            } => shell.emit(AppEvent::Upload {
                attachment_id,
                message_id,
                sent,
                total,
            }),
            _ => {}
        }
    }
}
