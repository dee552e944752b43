//! Messages on the live WebSocket (`GET /api/v1/live`). **Wire promise.**
//!
//! The server never sends entity data here: `changed` is a poke carrying the
//! feed head, and the client pulls `GET /api/v1/sync` from its own cursor.
//! That keeps one source of truth for what a user may see.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Role;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveServerMessage {
    /// First message: the feed head when the connection opened.
    Hello { cursor: i64 },
    /// Something the caller may see changed; pull from your cursor.
    Changed { cursor: i64 },
    /// Someone is typing in a conversation the caller can see.
    Typing {
        conversation_id: Uuid,
        user_id: Uuid,
        name: String,
        role: Role,
    },
    /// The connection fell behind; pull the feed from your cursor (the
    /// connection stays open).
    ResyncRequired,
    /// A staff member's availability changed (sent to staff only; sent for
    /// every connected staff member right after `hello`).
    Presence {
        user_id: Uuid,
        name: String,
        status: Presence,
    },
}

/// WebSocket close code: the session ended (sign-out, revoked from another
/// device, password changed or reset, staff account disabled). The client
/// treats it as signed out.
pub const CLOSE_SESSION_ENDED: u16 = 4001;
/// WebSocket close code: the account was deleted. The client wipes the
/// device as after its own deletion.
pub const CLOSE_ACCOUNT_DELETED: u16 = 4002;
/// Live connections one session may hold at once; one more is refused
/// with 429.
pub const MAX_SOCKETS_PER_SESSION: usize = 8;

/// `POST /api/v1/live/ticket`: a single-use ticket for opening the live
/// socket where no `Authorization` header can be set (a browser's
/// `WebSocket`): `GET /api/v1/live?ticket=…` within `expires_in` seconds
/// upgrades as the session that asked for it. Its `Debug` hides the ticket.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LiveTicket {
    pub ticket: String,
    pub expires_in: u32,
}

impl std::fmt::Debug for LiveTicket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveTicket")
            .field("ticket", &"***")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// Seconds a live ticket stays valid.
pub const LIVE_TICKET_TTL_SECS: u32 = 30;

/// A staff member's availability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    Available,
    Away,
    /// No connection open.
    Offline,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveClientMessage {
    /// The caller is typing in this conversation (send at most every few
    /// seconds while typing).
    Typing { conversation_id: Uuid },
    /// Staff only: set one's availability (`available` or `away`).
    Presence { status: Presence },
}
