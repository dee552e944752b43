//! What the engine tells the shell: [`EngineEvent`]s on its broadcast
//! channel, and the [`SyncStatus`] the sync indicator shows. A module of its
//! own so the engine (which emits them) and the sync service in `live.rs`
//! (which emits them too, and drives the engine) both depend on it instead
//! of on each other.

use std::time::Duration;

use mostrador_core::app::{AppEvent, Changes, OutboxCount, SignOutReason, SyncState};
use uuid::Uuid;

/// What the sync indicator shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncStatus {
    /// No connection; `retry_in` until the next attempt.
    Offline {
        retry_in: Duration,
        last_error: Option<String>,
    },
    Connecting,
    /// Pulling changes: `done` applied so far of about `total`.
    Syncing {
        done: i64,
        total: i64,
    },
    /// Connected and caught up.
    UpToDate,
}

/// What the shells hand the UI (`mostrador_core::app::SyncState`, the wire
/// form: the retry wait in milliseconds).
impl From<&SyncStatus> for SyncState {
    fn from(s: &SyncStatus) -> Self {
        match s {
            SyncStatus::Offline {
                retry_in,
                last_error,
            } => SyncState::Offline {
                retry_in_ms: u64::try_from(retry_in.as_millis()).unwrap_or(u64::MAX),
                last_error: last_error.clone(),
            },
            SyncStatus::Connecting => SyncState::Connecting,
            SyncStatus::Syncing { done, total } => SyncState::Syncing {
                done: *done,
                total: *total,
            },
            SyncStatus::UpToDate => SyncState::UpToDate,
        }
    }
}

/// Changes the UI may want to redraw for.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineEvent {
    /// The connection state changed.
    Status(SyncStatus),
    /// Something live for the UI (typing).
    Live(mostrador_core::live::LiveServerMessage),
    /// The server refused the session: the user must sign in again. Unsent
    /// writes were kept (`Engine::end_session`). Also when another tab over
    /// the same browser store signed out (`platform::Tabs`).
    SignedOut,
    /// The account was deleted on the server; call `sign_out` to wipe this
    /// device.
    AccountDeleted,
    /// The outbox changed: how many writes wait, and how many are wedged.
    Outbox { pending: usize, wedged: usize },
    /// A pull applied `items` changes up to `cursor`.
    Synced { cursor: i64, items: usize },
    /// The server said the cache was too old; it was rebuilt.
    Resynced,
    /// What changed, by kind and id, for targeted refresh: one event per
    /// applied page, and one per local write queued, applied, refused,
    /// retried or discarded (naming the conversations it touches).
    Changed(mostrador_core::app::Changes),
    /// Something to tell the user about (a reply, an order's progress, a
    /// callback about to start); the shell words and shows it.
    Notice(crate::notices::Notice),
    /// A file is going up: `sent` of `total` bytes handed to the
    /// connection (0 when it starts, `total` when all is sent); the message
    /// that waits for it, if it is already queued.
    UploadProgress {
        attachment_id: Uuid,
        message_id: Option<Uuid>,
        sent: u64,
        total: u64,
    },
}

impl EngineEvent {
    /// What the UI is told of this event, the same in every shell
    /// (`me`: the signed-in user, whose own typing is not shown). `None`
    /// for what the UI never sees (pulls, notices, which the shell shows
    /// natively); the shell still does its own side of `SignedOut` and
    /// `AccountDeleted` (stop the service, wipe the device) before it
    /// passes this on.
    pub fn for_ui(&self, me: Option<Uuid>) -> Option<AppEvent> {
        use mostrador_core::live::LiveServerMessage;
        Some(match self {
            Self::Status(s) => AppEvent::Sync(SyncState::from(s)),
            Self::Outbox { pending, wedged } => AppEvent::Outbox(OutboxCount {
                pending: *pending,
                wedged: *wedged,
            }),
            Self::Changed(changes) => AppEvent::Changed(changes.clone()),
            Self::Resynced => AppEvent::Changed(Changes::everything()),
            Self::Live(LiveServerMessage::Typing {
                conversation_id,
                user_id,
                name,
                ..
            }) if Some(*user_id) != me => AppEvent::Typing {
                conversation_id: *conversation_id,
                name: name.clone(),
            },
            Self::SignedOut => AppEvent::SignedOut {
                reason: SignOutReason::Expired,
            },
            Self::AccountDeleted => AppEvent::SignedOut {
                reason: SignOutReason::AccountDeleted,
            },
            Self::UploadProgress {
                attachment_id,
                message_id,
                sent,
                total,
            } => AppEvent::Upload {
                attachment_id: *attachment_id,
                message_id: *message_id,
                sent: *sent,
                total: *total,
            },
            Self::Live(_) | Self::Synced { .. } | Self::Notice(_) => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ui_gets_the_wait_in_milliseconds() {
        let offline = SyncStatus::Offline {
            retry_in: Duration::from_millis(1500),
            last_error: Some("refused".into()),
        };
        assert_eq!(
            SyncState::from(&offline),
            SyncState::Offline {
                retry_in_ms: 1500,
                last_error: Some("refused".into()),
            }
        );
        let syncing = SyncStatus::Syncing { done: 3, total: 9 };
        assert_eq!(
            SyncState::from(&syncing),
            SyncState::Syncing { done: 3, total: 9 }
        );
    }

    #[test]
    fn the_ui_sees_others_typing_not_its_own_and_never_a_pull() {
        use mostrador_core::auth::Role;
        use mostrador_core::live::LiveServerMessage;
        let (me, other, conversation) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let typing = |user_id| {
            EngineEvent::Live(LiveServerMessage::Typing {
                conversation_id: conversation,
                user_id,
                name: "Ana".into(),
                role: Role::Customer,
            })
        };
        assert_eq!(typing(me).for_ui(Some(me)), None);
        assert_eq!(
            typing(other).for_ui(Some(me)),
            Some(AppEvent::Typing {
                conversation_id: conversation,
                name: "Ana".into()
            })
        );
        assert_eq!(
            EngineEvent::Synced {
                cursor: 3,
                items: 2
            }
            .for_ui(None),
            None
        );
        assert_eq!(
            EngineEvent::Resynced.for_ui(None),
            Some(AppEvent::Changed(Changes::everything()))
        );
        assert_eq!(
            EngineEvent::AccountDeleted.for_ui(None),
            Some(AppEvent::SignedOut {
                reason: SignOutReason::AccountDeleted
            })
        );
    }
}
