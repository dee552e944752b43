//! Server answers kept for offline use (saved replies, metrics, the team),
//! each under its own key in `kv` (see `rules::kept`).

use super::idb::json_err;
use super::Store;
use crate::rules::kept::Kept;
use crate::ClientError;

impl Store {
    /// Replaces the kept copy of `T`.
    pub async fn keep<T: Kept>(&self, value: &T) -> Result<(), ClientError> {
        let json = serde_json::to_string(value).map_err(json_err)?;
        self.set_kv(T::KEY, &json).await
    }

    /// The last kept copy of `T`, if any (an unreadable copy counts as none).
    pub async fn kept<T: Kept>(&self) -> Result<Option<T>, ClientError> {
        self.get_json(T::KEY).await
    }
}
