//! Sync planning: pure decisions, table-tested; the engine (`engine.rs`'s
//! pull, `live.rs`'s sync service) carries them out.

use mostrador_core::live::{LiveServerMessage, CLOSE_ACCOUNT_DELETED, CLOSE_SESSION_ENDED};
use mostrador_core::sync::SyncPage;
use mostrador_core::ErrorCode;

use crate::retry::{classify, RetryKind};
use crate::ClientError;

/// What to do after a page was applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterPage {
    /// Ask for the next page from this cursor.
    Continue(i64),
    /// Caught up.
    Done,
}

pub fn after_page(page: &SyncPage) -> AfterPage {
    if page.has_more {
        AfterPage::Continue(page.cursor)
    } else {
        AfterPage::Done
    }
}

/// What to do when a pull failed.
#[derive(Debug, Clone, PartialEq)]
pub enum OnPullError {
    /// The cursor is older than the server's feed: forget the cache (never
    /// the outbox) and pull from 0.
    ResetAndPull,
    /// Try again after backing off.
    Retry(RetryKind),
    /// The session is gone: sign the user out.
    SignedOut,
    /// Refused for another reason: report it.
    Fail,
}

pub fn on_pull_error(err: &ClientError) -> OnPullError {
    match err {
        ClientError::Api(e) if e.code == ErrorCode::ResyncRequired => OnPullError::ResetAndPull,
        ClientError::Api(e) if e.code == ErrorCode::Unauthorized => OnPullError::SignedOut,
        other => match classify(other) {
            RetryKind::Permanent(_) => OnPullError::Fail,
            retry => OnPullError::Retry(retry),
        },
    }
}

/// What a live message asks of the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnLive {
    Pull,
    Nothing,
    /// Pass on to the UI (typing).
    Forward,
}

pub fn on_live(local_cursor: i64, msg: &LiveServerMessage) -> OnLive {
    match msg {
        LiveServerMessage::Hello { cursor } | LiveServerMessage::Changed { cursor }
            if *cursor > local_cursor =>
        {
            OnLive::Pull
        }
        LiveServerMessage::Hello { .. } | LiveServerMessage::Changed { .. } => OnLive::Nothing,
        // We may have missed pokes: pulling from our cursor catches up.
        LiveServerMessage::ResyncRequired => OnLive::Pull,
        LiveServerMessage::Typing { .. } | LiveServerMessage::Presence { .. } => OnLive::Forward,
    }
}

/// What the server closing the live connection asks of the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnClose {
    /// The session ended (expired, revoked): keep unsent writes, sign out.
    SessionEnded,
    /// The account was deleted from another device: the shell signs out
    /// (wiping the store).
    AccountDeleted,
    /// Anything else (a restart, a network failure): reconnect.
    Reconnect,
}

pub fn on_close(code: Option<u16>) -> OnClose {
    match code {
        Some(CLOSE_SESSION_ENDED) => OnClose::SessionEnded,
        Some(CLOSE_ACCOUNT_DELETED) => OnClose::AccountDeleted,
        _ => OnClose::Reconnect,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mostrador_core::ApiError;

    #[test]
    fn pages_continue_until_has_more_is_false() {
        let page = |cursor, has_more| SyncPage {
            changes: 0,
            remaining: 0,
            items: vec![],
            cursor,
            has_more,
        };
        assert_eq!(after_page(&page(10, true)), AfterPage::Continue(10));
        assert_eq!(after_page(&page(10, false)), AfterPage::Done);
    }

    #[test]
    fn pull_errors_table() {
        let api = |c| ClientError::Api(ApiError::new(c, "x"));
        let cases = [
            (api(ErrorCode::ResyncRequired), OnPullError::ResetAndPull),
            (api(ErrorCode::Unauthorized), OnPullError::SignedOut),
            (api(ErrorCode::Forbidden), OnPullError::Fail),
            (
                ClientError::Network("down".into()),
                OnPullError::Retry(RetryKind::NetworkFailure),
            ),
            (
                api(ErrorCode::Unavailable),
                OnPullError::Retry(RetryKind::Transient { retry_after: None }),
            ),
        ];
        for (err, want) in cases {
            assert_eq!(on_pull_error(&err), want, "{err:?}");
        }
    }

    #[test]
    fn close_codes_table() {
        assert_eq!(on_close(Some(CLOSE_SESSION_ENDED)), OnClose::SessionEnded);
        assert_eq!(
            on_close(Some(CLOSE_ACCOUNT_DELETED)),
            OnClose::AccountDeleted
        );
        assert_eq!(on_close(Some(1001)), OnClose::Reconnect, "going away");
        assert_eq!(on_close(None), OnClose::Reconnect);
    }

    #[test]
    fn live_messages_table() {
        let uid = uuid::Uuid::nil();
        let cases = [
            (5, LiveServerMessage::Changed { cursor: 6 }, OnLive::Pull),
            (6, LiveServerMessage::Changed { cursor: 6 }, OnLive::Nothing),
            (9, LiveServerMessage::Changed { cursor: 6 }, OnLive::Nothing),
            (0, LiveServerMessage::Hello { cursor: 3 }, OnLive::Pull),
            (3, LiveServerMessage::Hello { cursor: 3 }, OnLive::Nothing),
            (3, LiveServerMessage::ResyncRequired, OnLive::Pull),
            (
                3,
                LiveServerMessage::Typing {
                    conversation_id: uid,
                    user_id: uid,
                    name: "A".into(),
                    role: mostrador_core::auth::Role::Agent,
                },
                OnLive::Forward,
            ),
        ];
        for (cursor, msg, want) in cases {
            assert_eq!(on_live(cursor, &msg), want, "{cursor} {msg:?}");
        }
    }
}
