//! The outbox's records: a write is here, on disk, before anything else
//! happens to it.

use mostrador_core::sync::Mutation;
use mostrador_core::ApiError;
use uuid::Uuid;
use wasm_bindgen::JsValue;

use super::idb::{self, json_err, Durability, Tx};
use super::{now_ms, Find, Store, OUTBOX, UPLOADS};
use crate::rules::outbox::OutboxItem;
use crate::ClientError;

/// An outbox record found by its write's client id.
fn by_client_id(client_id: Uuid) -> Find<'static> {
    Find::Index("client_id", client_id.to_string().into())
}

/// Optional JSON kept as a string field (`null` for none).
pub(super) fn opt_json<T: serde::de::DeserializeOwned>(
    row: &JsValue,
    name: &str,
) -> Result<Option<T>, ClientError> {
    idb::str_field(row, name)
        .map(|j| serde_json::from_str(&j).map_err(json_err))
        .transpose()
}

fn item(row: &JsValue) -> Result<OutboxItem, ClientError> {
    let mutation = idb::str_field(row, "m")
        .ok_or_else(|| ClientError::Store("an outbox record without its write".into()))?;
    Ok(OutboxItem {
        seq: idb::int_field(row, "seq").unwrap_or(0),
        mutation: serde_json::from_str(&mutation).map_err(json_err)?,
        created_at: idb::int_field(row, "at").unwrap_or(0),
        attempts: idb::int_field(row, "n").unwrap_or(0),
        next_attempt_at: idb::int_field(row, "next").unwrap_or(0),
        last_error: idb::str_field(row, "err"),
        wedged: opt_json(row, "w")?,
    })
}

impl Store {
    /// Persists a write before anything else happens to it (a write already
    /// queued under the same client id keeps its place).
    pub async fn enqueue(&self, mutation: &Mutation) -> Result<i64, ClientError> {
        let json = serde_json::to_string(mutation).map_err(json_err)?;
        let client_id = mutation.client_id.to_string();
        let tx = Tx::write(&self.db().await?, &[OUTBOX], Durability::Strict)?;
        let outbox = tx.store(OUTBOX)?;
        let existing = idb::call(
            outbox
                .index("client_id")
                .and_then(|i| i.get_key(&client_id.as_str().into())),
        )
        .await?;
        let seq = match existing.as_f64() {
            Some(seq) => seq,
            None => {
                let row = idb::record(&[
                    ("c", client_id.as_str().into()),
                    ("m", json.into()),
                    ("at", idb::int(now_ms())),
                    ("n", idb::int(0)),
                    ("next", idb::int(0)),
                    ("err", JsValue::NULL),
                    ("w", JsValue::NULL),
                ])?;
                let key = idb::call(outbox.add(&row)).await?;
                key.as_f64().ok_or_else(|| {
                    ClientError::Store("the outbox gave no sequence number".into())
                })?
            }
        };
        tx.commit().await?;
        Ok(seq as i64)
    }

    /// Every outbox record, oldest first.
    pub async fn outbox(&self) -> Result<Vec<OutboxItem>, ClientError> {
        let tx = Tx::read(&self.db().await?, &[OUTBOX])?;
        let rows = idb::rows(idb::call(tx.store(OUTBOX)?.get_all()).await?);
        rows.iter().map(item).collect()
    }

    pub async fn remove_outbox(&self, client_id: Uuid) -> Result<(), ClientError> {
        let tx = Tx::write(&self.db().await?, &[OUTBOX], Durability::Strict)?;
        let outbox = tx.store(OUTBOX)?;
        let key = idb::call(
            outbox
                .index("client_id")
                .and_then(|i| i.get_key(&client_id.to_string().into())),
        )
        .await?;
        if !key.is_undefined() {
            idb::call(outbox.delete(&key)).await?;
        }
        tx.commit().await
    }

    pub async fn wedge(&self, client_id: Uuid, reason: &ApiError) -> Result<(), ClientError> {
        self.refuse_record(OUTBOX, by_client_id(client_id), "w", reason)
            .await
    }

    /// Records a transient failure of the head of the queue and when to try
    /// again.
    pub async fn defer(
        &self,
        client_id: Uuid,
        error: &str,
        next_attempt_at: i64,
    ) -> Result<(), ClientError> {
        self.defer_record(OUTBOX, by_client_id(client_id), error, next_attempt_at)
            .await
    }

    /// The user asked to try a wedged item again.
    pub async fn unwedge(&self, client_id: Uuid) -> Result<bool, ClientError> {
        self.update(OUTBOX, by_client_id(client_id), |row| {
            if idb::field(row, "w").is_null() {
                return Ok(false);
            }
            idb::set_field(row, "w", &JsValue::NULL)?;
            idb::set_field(row, "next", &idb::int(0))?;
            Ok(true)
        })
        .await
    }

    /// Makes every unwedged write and every unrefused file due now (the
    /// connection came back).
    pub async fn make_due_now(&self) -> Result<(), ClientError> {
        let tx = Tx::write(&self.db().await?, &[OUTBOX, UPLOADS], Durability::Strict)?;
        for (store, held) in [(OUTBOX, "w"), (UPLOADS, "failed")] {
            let os = tx.store(store)?;
            for row in idb::rows(idb::call(os.get_all()).await?) {
                if idb::field(&row, held).is_null() && idb::int_field(&row, "next") != Some(0) {
                    idb::set_field(&row, "next", &idb::int(0))?;
                    idb::call(os.put(&row)).await?;
                }
            }
        }
        tx.commit().await
    }
}
