//! The platform's part of the web shell: what the desktop shell does with
//! the file system and the desktop's notification service, done the
//! browser's way.

use mostrador_core::notification::Note;
use mostrador_core::{ApiError, ErrorCode};
use wasm_bindgen::{JsCast, JsValue};

fn window() -> Result<web_sys::Window, ApiError> {
    web_sys::window().ok_or_else(|| ApiError::new(ErrorCode::Internal, "no window"))
}

fn js_error(what: &str, e: JsValue) -> ApiError {
    ApiError::new(
        ErrorCode::Internal,
        format!(
            "{what}: {}",
            e.as_string().unwrap_or_else(|| format!("{e:?}"))
        ),
    )
}

pub(super) fn warn(msg: &str) {
    web_sys::console::warn_1(&msg.into());
}

/// `bytes` as a `blob:` URL of type `mime` (an image shows, a PDF opens
/// in the browser's viewer; `data:` URLs cannot be opened as a page).
pub(super) fn blob_url(bytes: &[u8], mime: &str) -> Result<String, ApiError> {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options)
        .map_err(|e| js_error("keeping a file in the page", e))?;
    web_sys::Url::create_object_url_with_blob(&blob).map_err(|e| js_error("a file's address", e))
}

pub(super) fn revoke_url(url: &str) {
    let _ = web_sys::Url::revoke_object_url(url);
}

/// Hands `bytes` to the browser as a download named `file_name` (it goes
/// where the browser saves downloads; the page cannot choose the folder).
pub(super) fn download(file_name: &str, bytes: &[u8], mime: &str) -> Result<(), ApiError> {
    let url = blob_url(bytes, mime)?;
    let document = window()?
        .document()
        .ok_or_else(|| ApiError::new(ErrorCode::Internal, "no document"))?;
    let a: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(|e| js_error("starting the download", e))?
        .unchecked_into();
    a.set_href(&url);
    a.set_download(file_name);
    a.click();
    // The browser has taken the file once the click's task is done.
    let later = url.clone();
    let revoke = wasm_bindgen::closure::Closure::once_into_js(move || revoke_url(&later));
    if window()?
        .set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 60_000)
        .is_err()
    {
        revoke_url(&url);
    }
    Ok(())
}

/// Whether the page is out of the user's sight (another tab, minimised,
/// or focus elsewhere): notices are shown only then, as on the desktop.
pub(super) fn in_background() -> bool {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return false;
    };
    document.hidden() || !document.has_focus().unwrap_or(true)
}

/// Shows `note` with the Notification API if the user allowed this site
/// to notify; otherwise nothing (the page never asks by itself: the
/// unread counts in the page and on the launcher tell the same).
pub(super) fn notify(note: &Note) {
    if web_sys::Notification::permission() != web_sys::NotificationPermission::Granted {
        return;
    }
    let options = web_sys::NotificationOptions::new();
    // The body is plain text in the Notification API: no escaping.
    options.set_body(&note.body);
    if let Err(e) = web_sys::Notification::new_with_options(&note.title, &options) {
        warn(&format!("notification not shown: {e:?}"));
    }
}
