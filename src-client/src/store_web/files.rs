//! Files on the device: uploads waiting (bytes kept until the server has
//! them) and the bounded cache of fetched attachments. Bytes are kept
//! apart from what is said about them (`upload_bytes`, `file_bytes`).

use mostrador_core::ApiError;
use uuid::Uuid;
use wasm_bindgen::JsValue;

use super::idb::{self, Durability, Tx};
use super::outbox::opt_json;
use super::{now_ms, Find, Store, FILE_BYTES, FILE_META, UPLOADS, UPLOAD_BYTES};
use crate::rules::outbox::PendingUpload;
use crate::ClientError;

fn key(id: Uuid) -> JsValue {
    id.to_string().into()
}

fn id_field(row: &JsValue, name: &str) -> Result<Option<Uuid>, ClientError> {
    idb::str_field(row, name)
        .map(|s| {
            Uuid::parse_str(&s).map_err(|e| ClientError::Store(format!("bad id in the store: {e}")))
        })
        .transpose()
}

fn upload(row: &JsValue) -> Result<PendingUpload, ClientError> {
    let missing = || ClientError::Store("an upload record without its ids".into());
    Ok(PendingUpload {
        attachment_id: id_field(row, "id")?.ok_or_else(missing)?,
        conversation_id: id_field(row, "conv")?.ok_or_else(missing)?,
        filename: idb::str_field(row, "name").unwrap_or_default(),
        size: idb::int_field(row, "size").unwrap_or(0),
        waits_for: id_field(row, "waits")?,
        attempts: idb::int_field(row, "n").unwrap_or(0),
        next_attempt_at: idb::int_field(row, "next").unwrap_or(0),
        last_error: idb::str_field(row, "err"),
        failed: opt_json(row, "failed")?,
    })
}

impl Store {
    /// Keeps a file to upload once `waits_for` (if any) has been applied.
    pub async fn add_pending_upload(
        &self,
        attachment_id: Uuid,
        conversation_id: Uuid,
        filename: &str,
        bytes: Vec<u8>,
        waits_for: Option<Uuid>,
    ) -> Result<(), ClientError> {
        let id = attachment_id.to_string();
        let waits = waits_for.map(|w| w.to_string());
        let meta = idb::record(&[
            ("id", id.as_str().into()),
            ("conv", conversation_id.to_string().into()),
            ("name", filename.into()),
            ("size", idb::int(bytes.len() as i64)),
            ("created", idb::int(now_ms())),
            ("waits", idb::opt_str(waits.as_deref())),
            ("n", idb::int(0)),
            ("next", idb::int(0)),
            ("err", JsValue::NULL),
            ("failed", JsValue::NULL),
        ])?;
        let data = idb::record(&[("id", id.as_str().into()), ("bytes", idb::bytes(&bytes))])?;
        let tx = Tx::write(
            &self.db().await?,
            &[UPLOADS, UPLOAD_BYTES],
            Durability::Strict,
        )?;
        idb::call(tx.store(UPLOAD_BYTES)?.put(&data)).await?;
        // `add`, not `put`: a second file under one id is an error, which
        // aborts the transaction (the bytes above are not kept either).
        idb::call(tx.store(UPLOADS)?.add(&meta)).await?;
        tx.commit().await
    }

    /// Every file waiting to go up, oldest first (without their bytes).
    pub async fn pending_uploads(&self) -> Result<Vec<PendingUpload>, ClientError> {
        let tx = Tx::read(&self.db().await?, &[UPLOADS])?;
        let all = tx.store(UPLOADS)?.index("order").and_then(|i| i.get_all());
        idb::rows(idb::call(all).await?)
            .iter()
            .map(upload)
            .collect()
    }

    /// The bytes of a file still waiting to go up.
    pub async fn pending_upload_bytes(&self, id: Uuid) -> Result<Option<Vec<u8>>, ClientError> {
        let tx = Tx::read(&self.db().await?, &[UPLOAD_BYTES])?;
        let row = idb::call(tx.store(UPLOAD_BYTES)?.get(&key(id))).await?;
        Ok(idb::bytes_field(&row, "bytes"))
    }

    /// The server has the file (or the user gave up its message).
    pub async fn remove_pending_upload(&self, id: Uuid) -> Result<(), ClientError> {
        let tx = Tx::write(
            &self.db().await?,
            &[UPLOADS, UPLOAD_BYTES],
            Durability::Strict,
        )?;
        idb::call(tx.store(UPLOADS)?.delete(&key(id))).await?;
        idb::call(tx.store(UPLOAD_BYTES)?.delete(&key(id))).await?;
        tx.commit().await
    }

    /// A transient failure of one upload and when to try it again.
    pub async fn defer_upload(
        &self,
        id: Uuid,
        error: &str,
        next_attempt_at: i64,
    ) -> Result<(), ClientError> {
        self.defer_record(UPLOADS, Find::Key(key(id)), error, next_attempt_at)
            .await
    }

    /// The server refused the file for good.
    pub async fn fail_upload(&self, id: Uuid, reason: &ApiError) -> Result<(), ClientError> {
        self.refuse_record(UPLOADS, Find::Key(key(id)), "failed", reason)
            .await
    }

    /// The user asked to send again: these files are tried again now.
    pub async fn retry_uploads(&self, ids: &[Uuid]) -> Result<(), ClientError> {
        for id in ids {
            self.update(UPLOADS, Find::Key(key(*id)), |row| {
                idb::set_field(row, "failed", &JsValue::NULL)?;
                idb::set_field(row, "next", &idb::int(0))?;
                Ok(true)
            })
            .await?;
        }
        Ok(())
    }

    /// A fetched file from the cache (marked as just used).
    pub async fn cached_attachment(&self, id: Uuid) -> Result<Option<Vec<u8>>, ClientError> {
        let tx = Tx::write(
            &self.db().await?,
            &[FILE_META, FILE_BYTES],
            Durability::Default,
        )?;
        let meta = tx.store(FILE_META)?;
        let row = idb::call(meta.get(&key(id))).await?;
        if !row.is_object() {
            return Ok(None);
        }
        idb::set_field(&row, "used", &idb::int(now_ms()))?;
        idb::call(meta.put(&row)).await?;
        let data = idb::call(tx.store(FILE_BYTES)?.get(&key(id))).await?;
        tx.commit().await?;
        Ok(idb::bytes_field(&data, "bytes"))
    }

    /// Keeps a fetched file, evicting the least recently used until the
    /// cache holds at most `limit` bytes.
    pub async fn cache_attachment(
        &self,
        id: Uuid,
        bytes: &[u8],
        limit: i64,
    ) -> Result<(), ClientError> {
        let id_s = id.to_string();
        let tx = Tx::write(
            &self.db().await?,
            &[FILE_META, FILE_BYTES],
            Durability::Default,
        )?;
        let (meta, data) = (tx.store(FILE_META)?, tx.store(FILE_BYTES)?);
        let row = idb::record(&[
            ("id", id_s.as_str().into()),
            ("size", idb::int(bytes.len() as i64)),
            ("used", idb::int(now_ms())),
        ])?;
        idb::call(meta.put(&row)).await?;
        idb::call(data.put(&idb::record(&[
            ("id", id_s.as_str().into()),
            ("bytes", idb::bytes(bytes)),
        ])?))
        .await?;
        // (last used, is the new file, size, id): the new file goes last
        // among files used in the same millisecond.
        let mut files: Vec<(i64, bool, i64, String)> = idb::rows(idb::call(meta.get_all()).await?)
            .iter()
            .filter_map(|r| {
                let file = idb::str_field(r, "id")?;
                let newest = file == id_s;
                Some((
                    idb::int_field(r, "used")?,
                    newest,
                    idb::int_field(r, "size")?,
                    file,
                ))
            })
            .collect();
        files.sort();
        let mut total: i64 = files.iter().map(|f| f.2).sum();
        for (_, _, size, file) in files {
            if total <= limit {
                break;
            }
            idb::call(meta.delete(&file.as_str().into())).await?;
            idb::call(data.delete(&file.as_str().into())).await?;
            total -= size;
        }
        tx.commit().await
    }
}
