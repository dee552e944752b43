//! Several cached entities by id in one read: an open thread's changed
//! lines (`Engine::thread_delta`) without the whole thread.

use uuid::Uuid;

use super::{db_err, json_err, Store};
use crate::rules::page::Cached;
use crate::ClientError;

impl Store {
    /// The cached `T`s among `ids`, in the order [`Store::list`] gives
    /// them (sort key, then id); ids not cached are left out. One query,
    /// its rows joined into one JSON array by SQLite as `list` does.
    pub async fn get_many<T: Cached>(&self, ids: &[Uuid]) -> Result<Vec<T>, ClientError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = serde_json::to_string(ids).map_err(json_err)?;
        let all: String = sqlx::query_scalar(
            "SELECT '[' || COALESCE(group_concat(json, ',' ORDER BY sort_key, id), '') || ']'
             FROM entities WHERE kind = ? AND id IN (SELECT value FROM json_each(?))",
        )
        .bind(T::KIND.as_str())
        .bind(ids)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        serde_json::from_str(&all).map_err(json_err)
    }
}
