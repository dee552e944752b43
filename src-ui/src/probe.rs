//! Counters the end-to-end tests read from the page (`window.__mostradorFetches`:
//! commands called, and `carried_lines`, an open thread's lines that came
//! with a change event; `window.__mostradorChanges`), and the marks the agent benchmark reads
//! (`window.__mostradorTrace`).

/// Counts `key` in `window[object]` (e.g. fetches per command), so the
/// end-to-end tests can tell a targeted reload from a full one. One
/// property read and write: cheap enough to keep in release builds.
pub fn count_for_tests(object: &str, key: &str) {
    let Some(w) = web_sys::window() else { return };
    let name = wasm_bindgen::JsValue::from_str(object);
    let counts = match js_sys::Reflect::get(&w, &name) {
        Ok(v) if v.is_object() => v,
        _ => {
            let fresh: wasm_bindgen::JsValue = js_sys::Object::new().into();
            let _ = js_sys::Reflect::set(&w, &name, &fresh);
            fresh
        }
    };
    let key = wasm_bindgen::JsValue::from_str(key);
    let n = js_sys::Reflect::get(&counts, &key)
        .ok()
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0);
    let _ = js_sys::Reflect::set(&counts, &key, &(n + 1.0).into());
}

/// How many marks `window.__mostradorTrace` keeps (the oldest go first).
const TRACE_KEEP: u32 = 2_000;

/// Appends `[what, Date.now()]` to `window.__mostradorTrace` (the newest
/// [`TRACE_KEEP`]): `cargo xtask bench agent` reads when a change event
/// came and when each command was asked and answered, on the same clock as
/// the engines' logs. One array push: cheap enough for release builds.
pub fn mark(what: &str) {
    use wasm_bindgen::JsCast;
    let Some(w) = web_sys::window() else { return };
    let name = wasm_bindgen::JsValue::from_str("__mostradorTrace");
    let trace = match js_sys::Reflect::get(&w, &name) {
        Ok(v) if js_sys::Array::is_array(&v) => v.unchecked_into::<js_sys::Array>(),
        _ => {
            let fresh = js_sys::Array::new();
            let _ = js_sys::Reflect::set(&w, &name, &fresh);
            fresh
        }
    };
    if trace.length() >= TRACE_KEEP {
        trace.shift();
    }
    trace.push(&js_sys::Array::of2(
        &what.into(),
        &js_sys::Date::now().into(),
    ));
}
