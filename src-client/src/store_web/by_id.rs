//! Several cached entities by id in one read (the native store's
//! `by_id.rs`): an open thread's changed lines without the whole thread.

use uuid::Uuid;

use super::idb::{self, json_err, Tx};
use super::{entity_key, Store, ENTITIES};
use crate::rules::page::Cached;
use crate::ClientError;

impl Store {
    /// The cached `T`s among `ids`, in the order [`Store::list`] gives
    /// them (sort key, then id); ids not cached are left out. One
    /// transaction, its requests in flight together.
    pub async fn get_many<T: Cached>(&self, ids: &[Uuid]) -> Result<Vec<T>, ClientError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let kind = T::KIND.as_str();
        let tx = Tx::read(&self.db().await?, &[ENTITIES])?;
        let rows = idb::get_many(
            &tx.store(ENTITIES)?,
            ids.iter().map(|id| (*id, entity_key(kind, *id))),
        )
        .await?;
        let mut found: Vec<(i64, String, T)> = Vec::with_capacity(rows.len());
        for (id, row) in rows {
            let Some(json) = idb::str_field(&row, "j") else {
                continue;
            };
            let sort = idb::int_field(&row, "s").unwrap_or_default();
            found.push((
                sort,
                id.to_string(),
                serde_json::from_str(&json).map_err(json_err)?,
            ));
        }
        found.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        Ok(found.into_iter().map(|(_, _, t)| t).collect())
    }
}
