//! The engine's rules: its decisions on plain data, with no I/O, so the
//! native engine and a browser engine share one copy. Each takes what the
//! engine read (outbox rows, cached entities, the cursor, an error, the time)
//! and answers what to do; the engine carries it out against its platform.
//!
//! - [`outbox`]: what a queued write is and waits for, which writes a push
//!   sends now, when a failed one goes again;
//! - [`retry`]: how a failure is classified and backed off;
//! - [`sync`]: what a pulled page, a failed pull or a live message asks for;
//! - [`page`]: applying a pulled page (which entities go where, activity,
//!   order progress) and the entity kind each cached type is kept under;
//! - [`echo`]: cached rows merged with the unsent writes (local echo);
//! - [`inbox`]: which conversations a page of the agent's inbox shows,
//!   from the few fields both stores keep per conversation;
//! - [`kept`]: which server answers are kept for offline use, under which key.
//!
//! Builds for every target (wasm32-unknown-unknown included): nothing here
//! may use the store, the network, tokio or the OS clock directly.

pub mod echo;
pub mod inbox;
pub mod kept;
pub mod outbox;
pub mod page;
pub mod retry;
pub mod sync;
