//! The local store in the browser: IndexedDB, with the native store's
//! methods (same names, signatures and answers; `crate::store` is this
//! module in the browser build), so the engine is one copy.
//!
//! Why IndexedDB and not SQLite compiled to wasm: SQLite alone is about
//! 300 KB gzipped, the whole first-open budget of the web app; IndexedDB is
//! in every browser, and this store adds only its glue. Reads go to
//! IndexedDB each time (no in-memory mirror), so two tabs share one state.
//!
//! **Invariants** (those of the native store): a page of changes and the
//! cursor that follows it are written in one transaction; a queued write or
//! file is on disk (a `strict` transaction) before the call returns; a Rust
//! error half-way aborts the transaction; no secret is ever written here.
//!
//! Object stores (database version 1, created in [`upgrade`]):
//!
//! | store | key | holds | indexes |
//! |---|---|---|---|
//! | `entities` | `[kind, id]` | synced entities as JSON (`j`), with `p` (parent or `""`) and `s` (sort key) | `list` `[kind, p, s, id]`, `kind` `[kind, s, id]`, `text` (text messages: `[p, s, id]`), `unread` (unread text messages: `p`) |
//! | `activity` | conversation id | who spoke last and when | |
//! | `last` | conversation id | its newest text message (see `last.rs`) | |
//! | `kv` | key | cursor, an unfinished snapshot's progress, signed-in user, kept answers | |
//! | `outbox` | `seq` (auto-increment) | queued writes | `client_id` (unique) |
//! | `uploads`, `upload_bytes` | attachment id | files waiting to go up: state, bytes | `order` `[created, id]` |
//! | `file_meta`, `file_bytes` | attachment id | fetched files (LRU): size and last use, bytes | |
//! | `drafts` | conversation id | composer drafts | |
//!
//! Bytes live apart from their metadata, so listing uploads or sizing the
//! cache never reads a file's bytes.

use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::rc::{Rc, Weak};

use js_sys::Reflect;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{
    IdbDatabase, IdbFactory, IdbIndexParameters, IdbObjectStoreParameters, IdbOpenDbRequest,
};

use crate::ClientError;

mod by_id;
mod cache;
mod drafts;
mod files;
mod idb;
mod inbox;
mod kept;
mod last;
mod outbox;
mod session;
mod views;

pub use crate::platform::now_ms;
pub use crate::rules::kept::Kept;
pub use crate::rules::outbox::{OutboxItem, PendingUpload};
pub use crate::rules::page::{Cached, ConversationActivity, OrderProgress, SnapshotProgress};

use idb::{js_err, Tx};

/// The database's schema version ([`upgrade`] brings older ones up).
const VERSION: u32 = 1;

const ENTITIES: &str = "entities";
const ACTIVITY: &str = "activity";
const LAST: &str = "last";
const KV: &str = "kv";
const OUTBOX: &str = "outbox";
const UPLOADS: &str = "uploads";
const UPLOAD_BYTES: &str = "upload_bytes";
const FILE_META: &str = "file_meta";
const FILE_BYTES: &str = "file_bytes";
const DRAFTS: &str = "drafts";

/// Every object store.
const ALL: [&str; 10] = [
    ENTITIES,
    ACTIVITY,
    LAST,
    KV,
    OUTBOX,
    UPLOADS,
    UPLOAD_BYTES,
    FILE_META,
    FILE_BYTES,
    DRAFTS,
];
/// What an ended session keeps when it has unsent writes.
const UNSENT: [&str; 3] = [OUTBOX, UPLOADS, UPLOAD_BYTES];

#[derive(Debug, Clone)]
pub struct Store {
    conn: Rc<Connection>,
    /// The database name, as a path (what `path()` answers).
    path: PathBuf,
}

/// The connection every clone of a [`Store`] shares.
#[derive(Debug)]
struct Connection {
    db: RefCell<IdbDatabase>,
    /// Another tab deleted (signed out) or upgraded the database, and this
    /// connection closed so as not to block it: the next call opens again.
    lost: Cell<bool>,
}

fn factory() -> Result<IdbFactory, ClientError> {
    Reflect::get(&js_sys::global(), &"indexedDB".into())
        .ok()
        .and_then(|f| f.dyn_into::<IdbFactory>().ok())
        .ok_or_else(|| ClientError::Store("this browser has no IndexedDB".into()))
}

/// Creates the object stores a database at `old` version lacks.
fn upgrade(db: &IdbDatabase, old: u32) -> Result<(), JsValue> {
    let keyed = |path: &JsValue| {
        let p = IdbObjectStoreParameters::new();
        p.set_key_path(path);
        p
    };
    let field = |name: &str| keyed(&JsValue::from_str(name));
    let fields = |names: &[&str]| {
        idb::key(
            &names
                .iter()
                .map(|n| JsValue::from_str(n))
                .collect::<Vec<_>>(),
        )
    };
    if old < 1 {
        let entities = db.create_object_store_with_optional_parameters(
            ENTITIES,
            &keyed(&fields(&["kind", "id"])),
        )?;
        entities.create_index_with_str_sequence("list", &fields(&["kind", "p", "s", "id"]))?;
        entities.create_index_with_str_sequence("kind", &fields(&["kind", "s", "id"]))?;
        entities.create_index_with_str("text", "t")?;
        entities.create_index_with_str("unread", "u")?;
        db.create_object_store_with_optional_parameters(ACTIVITY, &field("id"))?;
        db.create_object_store_with_optional_parameters(LAST, &field("id"))?;
        db.create_object_store_with_optional_parameters(KV, &field("k"))?;
        let outbox_params = field("seq");
        outbox_params.set_auto_increment(true);
        let outbox = db.create_object_store_with_optional_parameters(OUTBOX, &outbox_params)?;
        let unique = IdbIndexParameters::new();
        unique.set_unique(true);
        outbox.create_index_with_str_and_optional_parameters("client_id", "c", &unique)?;
        let uploads = db.create_object_store_with_optional_parameters(UPLOADS, &field("id"))?;
        uploads.create_index_with_str_sequence("order", &fields(&["created", "id"]))?;
        for name in [UPLOAD_BYTES, FILE_META, FILE_BYTES, DRAFTS] {
            db.create_object_store_with_optional_parameters(name, &field("id"))?;
        }
    }
    Ok(())
}

impl Store {
    /// Opens (creating or upgrading if needed) the IndexedDB database `name`.
    pub async fn open_browser(name: &str) -> Result<Self, ClientError> {
        let db = open_db(name).await?;
        let conn = Rc::new(Connection {
            db: RefCell::new(db.clone()),
            lost: Cell::new(false),
        });
        yield_on_version_change(&db, Rc::downgrade(&conn));
        Ok(Self {
            conn,
            path: PathBuf::from(name),
        })
    }

    /// The open connection (opened again if another tab took it away).
    async fn db(&self) -> Result<IdbDatabase, ClientError> {
        if self.conn.lost.get() {
            let db = open_db(&self.path.to_string_lossy()).await?;
            yield_on_version_change(&db, Rc::downgrade(&self.conn));
            *self.conn.db.borrow_mut() = db;
            self.conn.lost.set(false);
        }
        Ok(self.conn.db.borrow().clone())
    }

    /// The database's name (as a path, like the native store's file).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A value kept under `key`; private to the store (callers use the
    /// typed methods: `cursor`, `me`, `kept`).
    async fn get_kv(&self, key: &str) -> Result<Option<String>, ClientError> {
        let tx = Tx::read(&self.db().await?, &[KV])?;
        let row = idb::call(tx.store(KV)?.get(&JsValue::from_str(key))).await?;
        Ok(idb::str_field(&row, "v"))
    }

    async fn set_kv(&self, key: &str, value: &str) -> Result<(), ClientError> {
        let tx = Tx::write(&self.db().await?, &[KV], idb::Durability::Strict)?;
        put_kv(&tx, key, value).await?;
        tx.commit().await
    }

    /// Whether the cache is complete up to a cursor (0 included: a
    /// snapshot of an empty feed), so a pull goes on with the feed; else it
    /// starts (or resumes) a snapshot.
    pub async fn has_cursor(&self) -> Result<bool, ClientError> {
        Ok(self.get_kv(crate::rules::page::CURSOR_KEY).await?.is_some())
    }

    /// The feed cursor the cache is complete up to.
    pub async fn cursor(&self) -> Result<i64, ClientError> {
        Ok(self
            .get_kv("cursor")
            .await?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    /// Closes the connection (the database stays).
    pub async fn close(self) {
        self.conn.db.borrow().close();
    }

    /// Closes the connection and deletes the database (sign-out).
    pub async fn wipe(self) -> Result<(), ClientError> {
        self.conn.db.borrow().close();
        let name = self.path.to_string_lossy().into_owned();
        let request = factory()?.delete_database(&name).map_err(js_err)?;
        idb::req(&request).await.map(|_| ())
    }
}

/// An entity's key: `[kind, id]`.
fn entity_key(kind: &str, id: uuid::Uuid) -> JsValue {
    idb::key(&[kind.into(), id.to_string().into()])
}

/// Opens (creating or upgrading if needed) the database `name`.
async fn open_db(name: &str) -> Result<IdbDatabase, ClientError> {
    let request: IdbOpenDbRequest = factory()?.open_with_u32(name, VERSION).map_err(js_err)?;
    let on_upgrade = {
        let request = request.clone();
        Closure::once_into_js(move |event: web_sys::IdbVersionChangeEvent| {
            let Some(db) = request
                .result()
                .ok()
                .and_then(|r| r.dyn_into::<IdbDatabase>().ok())
            else {
                return;
            };
            // Aborting the upgrade makes the open fail.
            if let Err(e) = upgrade(&db, event.old_version() as u32) {
                if let Some(tx) = request.transaction() {
                    tx.abort().ok();
                }
                tracing::error!(error = ?e, "upgrading the browser store");
            }
        })
    };
    request.set_onupgradeneeded(Some(on_upgrade.unchecked_ref()));
    idb::req(&request).await?.dyn_into().map_err(js_err)
}

/// Another tab deleting or upgrading the database (a sign-out there, a
/// newer app) gets it: `db` closes rather than block it, and `conn` opens
/// again at its next call.
fn yield_on_version_change(db: &IdbDatabase, conn: Weak<Connection>) {
    let closing = db.clone();
    let on_change = Closure::once_into_js(move || {
        closing.close();
        if let Some(conn) = conn.upgrade() {
            conn.lost.set(true);
        }
    });
    db.set_onversionchange(Some(on_change.unchecked_ref()));
}

/// Writes `key` = `value` in the `kv` store within `tx`.
async fn put_kv(tx: &Tx, key: &str, value: &str) -> Result<(), ClientError> {
    let row = idb::record(&[("k", key.into()), ("v", value.into())])?;
    idb::call(tx.store(KV)?.put(&row)).await.map(|_| ())
}

/// Clears `stores` within `tx`.
async fn clear(tx: &Tx, stores: &[&str]) -> Result<(), ClientError> {
    let requests = stores
        .iter()
        .map(|s| Ok(idb::req(&tx.store(s)?.clear().map_err(js_err)?)))
        .collect::<Result<Vec<_>, ClientError>>()?;
    for r in requests {
        r.await?;
    }
    Ok(())
}

/// Where [`Store::update`] finds a record: by primary key, or by an index.
enum Find<'a> {
    Key(JsValue),
    Index(&'a str, JsValue),
}

impl Store {
    /// Reads the record `find` names in `store`, lets `change` edit it, and
    /// writes it back if `change` says so, in one durable transaction.
    /// Returns whether it was written (`false` for no record).
    async fn update(
        &self,
        store: &str,
        find: Find<'_>,
        change: impl FnOnce(&JsValue) -> Result<bool, ClientError>,
    ) -> Result<bool, ClientError> {
        let tx = Tx::write(&self.db().await?, &[store], idb::Durability::Strict)?;
        let os = tx.store(store)?;
        let row = match find {
            Find::Key(key) => idb::call(os.get(&key)).await?,
            Find::Index(index, key) => idb::call(os.index(index).and_then(|i| i.get(&key))).await?,
        };
        if !row.is_object() || !change(&row)? {
            return Ok(false);
        }
        idb::call(os.put(&row)).await?;
        tx.commit().await?;
        Ok(true)
    }
}

impl Store {
    /// A transient failure of a queued record (a write, a file): the
    /// error, when to try again, one more attempt.
    async fn defer_record(
        &self,
        store: &str,
        find: Find<'_>,
        error: &str,
        next_attempt_at: i64,
    ) -> Result<(), ClientError> {
        self.update(store, find, |row| {
            idb::set_field(row, "err", &error.into())?;
            idb::set_field(row, "next", &idb::int(next_attempt_at))?;
            count_attempt(row)?;
            Ok(true)
        })
        .await
        .map(|_| ())
    }

    /// A queued record refused for good: the reason under `field`, one
    /// more attempt.
    async fn refuse_record(
        &self,
        store: &str,
        find: Find<'_>,
        field: &str,
        reason: &mostrador_core::ApiError,
    ) -> Result<(), ClientError> {
        let reason = serde_json::to_string(reason).map_err(idb::json_err)?;
        self.update(store, find, |row| {
            idb::set_field(row, field, &reason.as_str().into())?;
            count_attempt(row)?;
            Ok(true)
        })
        .await
        .map(|_| ())
    }
}

/// Adds one to a record's attempt count (`n`).
fn count_attempt(row: &JsValue) -> Result<(), ClientError> {
    idb::set_field(
        row,
        "n",
        &idb::int(idb::int_field(row, "n").unwrap_or(0) + 1),
    )
}
