//! The live WebSocket: pokes when the feed moves, typing indicators,
//! presence, heartbeats. Three parts, each in its own module:
//!
//! - [`hub`]: who is connected and where each event goes: pure state and
//!   routing (no sockets, no database), unit-tested with in-memory
//!   connections. A change wakes only the connections that may see it (the
//!   customer's own devices and staff; [`crate::authz::may_receive`]).
//! - [`dispatch`]: one task reads newly committed `changes` rows once per
//!   commit batch and hands each to the hub.
//! - [`socket`]: the WebSocket handler. Each connection has a bounded
//!   queue: publishing never waits, and a connection whose queue is full
//!   loses the event and is told `resync_required` once it drains. Socket
//!   writes have a deadline, so a dead peer is dropped.
//!
//! A socket lives no longer than its session: signing out, revoking the
//! session, changing or resetting the password, disabling a staff account
//! or deleting the account closes every socket concerned at once
//! ([`Hub::close_session`], [`Hub::close_user`]) with a close code the app
//! understands (`mostrador_core::live::CLOSE_*`), and a closed staff member
//! leaves presence (so is no longer auto-assigned). A session that merely
//! expires ends its sockets too: each connection arms a timer for its
//! session's `expires_at` and closes with `CLOSE_SESSION_ENDED` when it
//! fires. One session holds at most `MAX_SOCKETS_PER_SESSION` sockets.
//!
//! Browsers, which cannot put a header on a WebSocket, open it with a
//! single-use [`ticket`] instead of the bearer token; the socket is then
//! the same.

pub mod dispatch;
pub mod hub;
pub mod socket;
pub mod ticket;

pub use dispatch::spawn_dispatcher;
pub use hub::{Hub, Peer, Registration, QUEUE};
pub use socket::router;

use uuid::Uuid;

use crate::auth::Actor;

impl From<&Actor> for Peer {
    fn from(actor: &Actor) -> Self {
        Peer {
            user: actor.user_id,
            session: actor.session_id,
            role: actor.role,
            name: actor.display_name.clone(),
        }
    }
}

/// Auto-assignment asks the hub who is available, without knowing it is
/// a hub.
impl crate::routes::chat::Presence for Hub {
    fn available_staff(&self) -> Vec<Uuid> {
        Hub::available_staff(self)
    }
}
