//! A message's files as both threads (the shopper's and the agent's) show
//! them: images previewed inline, PDFs as a link that opens the file.

use leptos::prelude::*;
use mostrador_core::chat::Attachment;

use crate::ipc;

/// The files of one message; nothing when it has none.
#[component]
pub fn Attachments(files: Vec<Attachment>) -> impl IntoView {
    files
        .into_iter()
        .map(|a| {
            let is_image = a.content_type.starts_with("image/");
            let id = a.id;
            let url = LocalResource::new(move || async move { ipc::attachment_url(id).await.ok() });
            let name = a.filename;
            view! {
                <div class="attachment" data-testid="attachment" data-type=a.content_type>
                    {move || match (url.get().flatten(), is_image) {
                        (Some(src), true) => view! {
                            <img src=src alt=name.clone() data-testid="attachment-preview"/>
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
