//! One module per resource, each exposing `router()` with its OpenAPI paths.

pub mod accounts;
pub mod attachments;
pub mod callbacks;
pub mod chat;
pub mod health;
pub mod orders;
pub mod profile;
pub mod sync;
