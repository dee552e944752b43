//! A small async layer over IndexedDB (web-sys): transactions that abort
//! unless committed, requests as futures, cursors, keys and record fields.
//!
//! A request's future resolves in the microtask that follows its `success`
//! event, while its transaction is still active, so a transaction can read,
//! decide and write across `.await`s as long as nothing else is awaited in
//! between (the store never does).

use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    DomException, Event, IdbCursorDirection, IdbCursorWithValue, IdbDatabase, IdbKeyRange,
    IdbObjectStore, IdbRequest, IdbTransaction,
};

use crate::ClientError;

/// A failure of IndexedDB (a `DOMException`, or what a call threw).
pub fn js_err(e: JsValue) -> ClientError {
    let text = match e.dyn_ref::<DomException>() {
        Some(d) => format!("{}: {}", d.name(), d.message()),
        None => e.as_string().unwrap_or_else(|| format!("{e:?}")),
    };
    ClientError::Store(text)
}

pub fn json_err(e: serde_json::Error) -> ClientError {
    ClientError::Store(format!("corrupt JSON in the local store: {e}"))
}

/// A promise settled by the first of `events` fired at `target` (resolved
/// with `ok()` for `ok_event`, rejected with `err()` otherwise). One
/// closure serves every event, and exactly one fires, so none is leaked.
fn settle_on(
    set: impl Fn(Option<&Function>),
    ok_event: &'static str,
    ok: impl FnOnce() -> JsValue + 'static,
    err: impl FnOnce() -> JsValue + 'static,
) -> JsFuture {
    let mut once = Some((set, ok, err));
    let promise = Promise::new(&mut |resolve, reject| {
        let Some((set, ok, err)) = once.take() else {
            return;
        };
        let on = Closure::once_into_js(move |event: Event| {
            if event.type_() == ok_event {
                resolve.call1(&JsValue::UNDEFINED, &ok()).ok();
            } else {
                reject.call1(&JsValue::UNDEFINED, &err()).ok();
            }
        });
        set(Some(on.unchecked_ref()));
    });
    JsFuture::from(promise)
}

/// The result of `request`, once it succeeds. Not an `async fn`: the
/// handlers are set now, so requests issued together run together.
pub fn req(
    request: &IdbRequest,
) -> impl std::future::Future<Output = Result<JsValue, ClientError>> {
    let (r1, r2, r3) = (request.clone(), request.clone(), request.clone());
    let future = settle_on(
        move |f| {
            r1.set_onsuccess(f);
            r1.set_onerror(f);
        },
        "success",
        move || r2.result().unwrap_or(JsValue::UNDEFINED),
        move || match r3.error() {
            Ok(Some(e)) => e.into(),
            _ => JsValue::from_str("request failed"),
        },
    );
    async move { future.await.map_err(js_err) }
}

/// The records under `keys` in `store` (`undefined` for none), read in
/// one batch of requests.
pub async fn get_many<K: Eq + std::hash::Hash>(
    store: &IdbObjectStore,
    keys: impl IntoIterator<Item = (K, JsValue)>,
) -> Result<std::collections::HashMap<K, JsValue>, ClientError> {
    let mut pending = Vec::new();
    for (k, key) in keys {
        pending.push((k, req(&store.get(&key).map_err(js_err)?)));
    }
    let mut out = std::collections::HashMap::with_capacity(pending.len());
    for (k, request) in pending {
        out.insert(k, request.await?);
    }
    Ok(out)
}

/// A request made by a call that may throw.
pub async fn call(request: Result<IdbRequest, JsValue>) -> Result<JsValue, ClientError> {
    req(&request.map_err(js_err)?).await
}

/// How a transaction's writes reach the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// The browser's default (Chromium: relaxed): still atomic, may lose
    /// the last commits on power loss. Cache writes, redone by a pull.
    Default,
    /// Flushed before `complete`: the user's own writes (outbox, files).
    Strict,
}

/// A transaction: aborted when dropped without [`Tx::commit`], so a Rust
/// error half-way leaves nothing half-written.
#[derive(Debug)]
pub struct Tx {
    tx: IdbTransaction,
    done: Option<JsFuture>,
}

impl Tx {
    pub fn read(db: &IdbDatabase, stores: &[&str]) -> Result<Self, ClientError> {
        Self::open(db, stores, "readonly", Durability::Default)
    }

    pub fn write(
        db: &IdbDatabase,
        stores: &[&str],
        durability: Durability,
    ) -> Result<Self, ClientError> {
        Self::open(db, stores, "readwrite", durability)
    }

    fn open(
        db: &IdbDatabase,
        stores: &[&str],
        mode: &str,
        durability: Durability,
    ) -> Result<Self, ClientError> {
        let names: Array = stores.iter().map(|s| JsValue::from_str(s)).collect();
        // `transaction(names, mode, {durability})`, called through JS:
        // web-sys has the options only behind its unstable APIs.
        let options = Object::new();
        if durability == Durability::Strict {
            Reflect::set(&options, &"durability".into(), &"strict".into()).map_err(js_err)?;
        }
        let method: Function = Reflect::get(db, &"transaction".into())
            .map_err(js_err)?
            .dyn_into()
            .map_err(js_err)?;
        let tx: IdbTransaction = method
            .call3(db, &names, &JsValue::from_str(mode), &options)
            .map_err(js_err)?
            .dyn_into()
            .map_err(js_err)?;
        let (t1, t2) = (tx.clone(), tx.clone());
        let done = settle_on(
            move |f| {
                t1.set_oncomplete(f);
                t1.set_onabort(f);
            },
            "complete",
            || JsValue::UNDEFINED,
            move || match t2.error() {
                Some(e) => e.into(),
                None => JsValue::from_str("transaction aborted"),
            },
        );
        Ok(Self {
            tx,
            done: Some(done),
        })
    }

    pub fn store(&self, name: &str) -> Result<IdbObjectStore, ClientError> {
        self.tx.object_store(name).map_err(js_err)
    }

    /// Commits and waits until the writes are durable (as asked) and
    /// visible to every other connection.
    pub async fn commit(mut self) -> Result<(), ClientError> {
        let done = self.done.take();
        // Ends the transaction now rather than after an idle turn (older
        // browsers lack `commit`; they commit on their own).
        #[allow(deprecated)] // web-sys marks it so; it is standard.
        self.tx.commit().ok();
        match done {
            Some(done) => done.await.map(|_| ()).map_err(js_err),
            None => Ok(()),
        }
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        if self.done.is_some() {
            // Throws if the transaction already finished: nothing to undo.
            self.tx.abort().ok();
        }
    }
}

/// The values a cursor opened by `open` walks over, one `next` at a time.
#[derive(Debug)]
pub struct Cursor {
    request: IdbRequest,
    current: Option<IdbCursorWithValue>,
}

impl Cursor {
    pub fn open(request: Result<IdbRequest, JsValue>) -> Result<Self, ClientError> {
        Ok(Self {
            request: request.map_err(js_err)?,
            current: None,
        })
    }

    /// The next record, or `None` past the last.
    pub async fn next(&mut self) -> Result<Option<IdbCursorWithValue>, ClientError> {
        if let Some(c) = self.current.take() {
            c.continue_().map_err(js_err)?;
        }
        self.step().await
    }

    async fn step(&mut self) -> Result<Option<IdbCursorWithValue>, ClientError> {
        let value = req(&self.request).await?;
        self.current = value.dyn_into::<IdbCursorWithValue>().ok();
        Ok(self.current.clone())
    }
}

pub fn prev() -> IdbCursorDirection {
    IdbCursorDirection::Prev
}

/// An array key.
pub fn key(parts: &[JsValue]) -> JsValue {
    parts.iter().collect::<Array>().into()
}

/// Every array key that starts with `prefix` (arrays sort after numbers
/// and strings, so `[..prefix, []]` is above them all).
pub fn prefix_range(prefix: &[JsValue]) -> Result<IdbKeyRange, ClientError> {
    let mut upper: Vec<JsValue> = prefix.to_vec();
    upper.push(Array::new().into());
    IdbKeyRange::bound(&key(prefix), &key(&upper)).map_err(js_err)
}

/// A record: a plain object with these fields (`None` stored as `null`).
pub fn record(fields: &[(&str, JsValue)]) -> Result<JsValue, ClientError> {
    let obj = Object::new();
    for (name, value) in fields {
        Reflect::set(&obj, &JsValue::from_str(name), value).map_err(js_err)?;
    }
    Ok(obj.into())
}

pub fn field(record: &JsValue, name: &str) -> JsValue {
    Reflect::get(record, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

pub fn set_field(record: &JsValue, name: &str, value: &JsValue) -> Result<(), ClientError> {
    Reflect::set(record, &JsValue::from_str(name), value)
        .map(|_| ())
        .map_err(js_err)
}

pub fn str_field(record: &JsValue, name: &str) -> Option<String> {
    field(record, name).as_string()
}

/// A number field (every integer the store keeps fits in a double's 53 bits).
pub fn int_field(record: &JsValue, name: &str) -> Option<i64> {
    field(record, name).as_f64().map(|f| f as i64)
}

pub fn bytes_field(record: &JsValue, name: &str) -> Option<Vec<u8>> {
    field(record, name)
        .dyn_into::<Uint8Array>()
        .ok()
        .map(|a| a.to_vec())
}

pub fn int(v: i64) -> JsValue {
    JsValue::from_f64(v as f64)
}

pub fn opt_str(v: Option<&str>) -> JsValue {
    v.map_or(JsValue::NULL, JsValue::from_str)
}

pub fn opt_int(v: Option<i64>) -> JsValue {
    v.map_or(JsValue::NULL, int)
}

pub fn bytes(v: &[u8]) -> JsValue {
    Uint8Array::from(v).into()
}

/// The records of a `getAll` answer.
pub fn rows(all: JsValue) -> Vec<JsValue> {
    all.dyn_into::<Array>()
        .map(|a| a.to_vec())
        .unwrap_or_default()
}
