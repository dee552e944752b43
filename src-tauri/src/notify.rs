//! Native notifications (Tauri's notification plugin), in the UI's
//! language and worded for who reads them: a shopper hears of replies, their
//! orders and their calls; staff of customers' messages and calls they are
//! due to make (never "your order": the shop's orders are not theirs).

use mostrador_core::callbacks::CallbackChannel;
use mostrador_core::orders::TrackingStatus;
use tauri::{AppHandle, Runtime};
use tauri_plugin_notification::NotificationExt;

/// The languages of the UI: core's, so a notification and the screen
/// name a language (and a tracking status) alike.
pub use mostrador_core::lang::Lang;

/// Who reads the notifications on this device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Shopper,
    Staff,
}

impl Audience {
    /// Staff (agents and admins) or a shopper; nobody signed in reads as a
    /// shopper.
    pub fn of(role: Option<mostrador_core::auth::Role>) -> Self {
        if role.is_some_and(|r| r.is_staff()) {
            Audience::Staff
        } else {
            Audience::Shopper
        }
    }
}

/// A notification's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub title: String,
    pub body: String,
}

/// Longest preview of a message.
const PREVIEW: usize = 120;

/// A message from the other side: a reply for a shopper, a customer's
/// message for staff.
pub fn reply(lang: Lang, audience: Audience, author: &str, body: &str) -> Note {
    let mut preview: String = body.chars().take(PREVIEW).collect();
    if body.chars().count() > PREVIEW {
        preview.push('…');
    }
    let title = match (audience, lang) {
        (Audience::Shopper, Lang::En) => format!("{author} replied"),
        (Audience::Shopper, Lang::Es) => format!("{author} ha respondido"),
        (Audience::Shopper, Lang::Ru) => format!("{author} ответил(а)"),
        (Audience::Staff, Lang::En) => format!("New message from {author}"),
        (Audience::Staff, Lang::Es) => format!("Nuevo mensaje de {author}"),
        (Audience::Staff, Lang::Ru) => format!("Пишет {author}"),
    };
    Note {
        title,
        body: preview,
    }
}

/// A shopper's order moved on; staff are not told of every order in the
/// shop (`None`).
pub fn order(lang: Lang, audience: Audience, number: &str, status: TrackingStatus) -> Option<Note> {
    if audience == Audience::Staff {
        return None;
    }
    let s = mostrador_core::lang::tracking_status_in_sentence(lang, status);
    let (title, body) = match lang {
        Lang::En => (format!("Order {number}"), format!("Your order is {s}.")),
        Lang::Es => (format!("Pedido {number}"), format!("Tu pedido está {s}.")),
        Lang::Ru => (format!("Заказ {number}"), format!("Ваш заказ {s}.")),
    };
    Some(Note { title, body })
}

/// A booked call is near: the shopper will be called; staff are due to
/// call `customer`.
pub fn reminder(
    lang: Lang,
    audience: Audience,
    channel: CallbackChannel,
    minutes: i64,
    customer: &str,
) -> Note {
    let video = channel == CallbackChannel::Video;
    let staff = audience == Audience::Staff;
    let (title, body) = match lang {
        Lang::En => (
            if video {
                "Video call soon"
            } else {
                "Phone call soon"
            },
            if staff {
                format!("Call {customer} in {minutes} min.")
            } else {
                format!("Support will call you in {minutes} min.")
            },
        ),
        Lang::Es => (
            if video {
                "Videollamada en breve"
            } else {
                "Llamada en breve"
            },
            if staff {
                format!("Llama a {customer} en {minutes} min.")
            } else {
                format!("Soporte te llamará en {minutes} min.")
            },
        ),
        Lang::Ru => (
            if video {
                "Скоро видеозвонок"
            } else {
                "Скоро звонок"
            },
            if staff {
                format!("{customer} ждёт звонка через {minutes} мин.")
            } else {
                format!("Поддержка позвонит вам через {minutes} мин.")
            },
        ),
    };
    Note {
        title: title.into(),
        body,
    }
}

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
    fn notifications_speak_the_users_language() {
        let n = order(Lang::Es, Audience::Shopper, "MS-1", TrackingStatus::Delayed).unwrap();
        assert_eq!(n.title, "Pedido MS-1");
        assert!(n.body.contains("retrasado"));
        let n = reminder(Lang::Ru, Audience::Shopper, CallbackChannel::Video, 10, "");
        assert!(n.title.contains("видеозвонок") && n.body.contains("10"));
        let long = "x".repeat(500);
        let n = reply(Lang::En, Audience::Shopper, "Lucía", &long);
        assert_eq!(n.title, "Lucía replied");
        assert_eq!(n.body.chars().count(), PREVIEW + 1);
    }

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

    #[test]
    fn staff_are_told_of_customers_never_of_their_own_orders() {
        use mostrador_core::auth::Role;
        assert_eq!(Audience::of(Some(Role::Agent)), Audience::Staff);
        assert_eq!(Audience::of(Some(Role::Customer)), Audience::Shopper);
        assert_eq!(Audience::of(None), Audience::Shopper);
        for lang in [Lang::En, Lang::Es, Lang::Ru] {
            let n = reply(lang, Audience::Staff, "Nora", "where is it?");
            assert!(n.title.contains("Nora"), "{n:?}");
            assert_ne!(n.title, reply(lang, Audience::Shopper, "Nora", "x").title);
            assert_eq!(
                order(lang, Audience::Staff, "MS-1", TrackingStatus::Delayed),
                None
            );
            let shopper = reminder(lang, Audience::Shopper, CallbackChannel::Voice, 10, "Nora");
            let staff = reminder(lang, Audience::Staff, CallbackChannel::Voice, 10, "Nora");
            assert!(
                staff.body.contains("Nora") && staff.body.contains("10"),
                "{staff:?}"
            );
            assert!(!shopper.body.contains("Nora"));
            assert_ne!(staff.body, shopper.body);
        }
    }
}
