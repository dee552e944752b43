//! What the engine tells the shell: [`EngineEvent`]s on its broadcast
//! channel, and the [`SyncStatus`] the sync indicator shows. A module of its
//! own so the engine (which emits them) and the sync service in `live.rs`
//! (which emits them too, and drives the engine) both depend on it instead
//! of on each other.

use std::time::Duration;

use mostrador_core::app::SyncState;
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
}
