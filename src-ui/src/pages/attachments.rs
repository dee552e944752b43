//! A message's files as both threads (the shopper's and the agent's) show
//! them: images previewed inline, PDFs (and pictures that cannot be
//! decoded) as a link that opens the file.

use std::cell::RefCell;
use std::collections::HashMap;

use leptos::prelude::*;
use mostrador_core::chat::Attachment;
use uuid::Uuid;

use crate::ipc;

/// How much of files' `data:` URLs stays in memory (bytes), so a thread
/// redrawn by a live change shows its pictures at once instead of
/// flickering; past it the memory starts again.
const KEPT_BYTES: usize = 24 * 1024 * 1024;

thread_local! {
    static URLS: RefCell<HashMap<Uuid, String>> = RefCell::new(HashMap::new());
}

/// A file as a `data:` URL: from memory, else from the shell (then kept).
async fn url_of(id: Uuid) -> Option<String> {
    if let Some(url) = URLS.with(|u| u.borrow().get(&id).cloned()) {
        return Some(url);
    }
    let url = ipc::attachment_url(id).await.ok()?;
    URLS.with(|u| {
        let mut u = u.borrow_mut();
        if u.values().map(String::len).sum::<usize>() + url.len() > KEPT_BYTES {
            u.clear();
        }
        if url.len() <= KEPT_BYTES {
            u.insert(id, url.clone());
        }
    });
    Some(url)
}

/// The files of one message; nothing when it has none.
#[component]
pub fn Attachments(files: Vec<Attachment>) -> impl IntoView {
    files
        .into_iter()
        .map(|a| {
            let is_image = a.content_type.starts_with("image/");
            let id = a.id;
            let kept = URLS.with(|u| u.borrow().get(&id).cloned());
            let url = LocalResource::new(move || url_of(id));
            let name = a.filename;
            // A picture the webview cannot decode (damaged, or a format it
            // lacks) is offered as a file instead of a broken-image glyph.
            let undecodable = RwSignal::new(false);
            view! {
                <div class="attachment" data-testid="attachment" data-type=a.content_type>
                    {move || match (url.get().flatten().or_else(|| kept.clone()), is_image && !undecodable.get()) {
                        (Some(src), true) => view! {
                            <img src=src alt=name.clone() data-testid="attachment-preview"
                                on:error=move |_| undecodable.set(true)/>
                        }.into_any(),
                        (Some(src), false) => view! {
                            <a class="file-chip" href=src download=name.clone() target="_blank"
                                data-testid="attachment-open">{name.clone()}</a>
                        }.into_any(),
                        (None, _) => view! { <span class="file-chip">{name.clone()}</span> }.into_any(),
                    }}
                </div>
            }
        })
        .collect_view()
}
