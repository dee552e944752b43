//! Conversations and messages, in three layers:
//!
//! - [`data`]: columns, row mapping and reads (with attachments);
//! - [`writes`]: the writes, each taking a transaction (shared by REST,
//!   `POST /api/v1/sync/push` and the demo data), and auto-assignment,
//!   which learns who is available through the [`Presence`] trait;
//! - [`handlers`]: the thin HTTP endpoints;
//! - [`batch`]: sends written set-wise, the group commit's fast path.
//!
//! Who may see a conversation is `crate::authz::visible_conversation`.

pub mod batch;
pub mod data;
pub mod handlers;
pub mod writes;

pub use data::{load_conversation, load_conversations, load_message, load_messages};
pub use handlers::router;
pub use writes::{mark, open, pick_agent, rate, send, send_in, update_in, Assignment, Presence};
