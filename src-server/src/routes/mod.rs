//! One module per resource, each exposing `router()` with its OpenAPI paths.

pub mod health;
