//! Server answers kept for offline use (saved replies, metrics, the team):
//! the last good answer of a read that needs the server, shown when it
//! cannot be reached. Typed: each kept answer names its own key, so a read
//! cannot decode another answer's copy.

pub use crate::rules::kept::Kept;

use super::{json_err, Store};
use crate::ClientError;

impl Store {
    /// Replaces the kept copy of `T`.
    pub async fn keep<T: Kept>(&self, value: &T) -> Result<(), ClientError> {
        let json = serde_json::to_string(value).map_err(json_err)?;
        self.set_kv(T::KEY, &json).await
    }

    /// The last kept copy of `T`, if any (an unreadable copy counts as none).
    pub async fn kept<T: Kept>(&self) -> Result<Option<T>, ClientError> {
        Ok(self
            .get_kv(T::KEY)
            .await?
            .and_then(|json| serde_json::from_str(&json).ok()))
    }
}
