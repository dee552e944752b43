//! Which server answers the stores keep for offline use, and under which
//! key: each kept answer names its own key, so a read cannot decode another
//! answer's copy. Shared by the native and the browser store.

use mostrador_core::agent::{AgentInfo, CannedResponse, Metrics};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// An answer the store keeps a copy of, under its own key.
pub trait Kept: Serialize + DeserializeOwned {
    const KEY: &'static str;
}

impl Kept for Vec<CannedResponse> {
    const KEY: &'static str = "canned";
}

impl Kept for Metrics {
    const KEY: &'static str = "metrics";
}

impl Kept for Vec<AgentInfo> {
    const KEY: &'static str = "agents";
}
