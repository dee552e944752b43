//! Shared pieces of the engine tests.

pub mod proxy;
pub mod server;
