//! Native notifications (Tauri's notification plugin). What they say, in
//! the UI's language and worded for who reads them, is core's
//! (`mostrador_core::notification`, with the languages and status texts of
//! `mostrador_core::lang` that the UI uses too); this module shows them the
//! way each desktop needs.

use tauri::{AppHandle, Runtime};
use tauri_plugin_notification::NotificationExt;

pub use mostrador_core::lang::Lang;
pub use mostrador_core::notification::{order, reminder, reply, Audience, Note};

/// Escapes text for a notification body. Freedesktop notification servers
/// read the body as a subset of HTML (`<b>`, `<i>`, `<a href>`, `<img>`,
/// entities) and the plugin hands it over as is, so a message saying
/// `<a href=…>` or `<img src=…>` would become a link or an image on the
/// agent's desktop. The summary (title) is plain text in the specification
/// and servers show it literally, so it is left alone: escaping it would
/// show `&amp;` in a customer's name.
pub fn body_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The body as the platform's notification service reads it: escaped
/// where a freedesktop server parses markup (Linux and the BSDs), as
/// typed elsewhere (macOS and Windows show the text literally).
fn platform_body(body: &str) -> String {
    if cfg!(any(
        target_os = "linux",
        target_os = "freebsd",
        target_os = "dragonfly",
        target_os = "netbsd",
        target_os = "openbsd"
    )) {
        body_markup(body)
    } else {
        body.to_owned()
    }
}

/// Shows a notification; a desktop without a notification service only
/// logs it.
pub fn show<R: Runtime>(app: &AppHandle<R>, note: &Note) {
    if let Err(err) = app
        .notification()
        .builder()
        .title(&note.title)
        .body(platform_body(&note.body))
        .show()
    {
        tracing::info!(error = %err, "notification not shown");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_message_text_reaches_the_notification_server_as_text() {
        let hostile = r#"<a href="https://evil.example/">win</a> &amp; <img src=x> <b>'hi'</b>"#;
        let n = reply(Lang::En, Audience::Staff, "Nora", hostile);
        let body = body_markup(&n.body);
        assert_eq!(
            body,
            "&lt;a href=&quot;https://evil.example/&quot;&gt;win&lt;/a&gt; &amp;amp; \
             &lt;img src=x&gt; &lt;b&gt;&#39;hi&#39;&lt;/b&gt;"
        );
        assert!(!body.contains('<') && !body.contains('>') && !body.contains('"'));
        // Every `&` left starts an entity this function wrote.
        for (i, _) in body.match_indices('&') {
            let rest = &body[i..];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"]
                    .iter()
                    .any(|e| rest.starts_with(e)),
                "{rest}"
            );
        }
        assert_eq!(body_markup("¿Dónde está? Заказ"), "¿Dónde está? Заказ");
        if cfg!(target_os = "linux") {
            assert_eq!(platform_body(hostile), body_markup(hostile));
        }
    }
}
