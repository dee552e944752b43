//! What a notification says: a reply, an order moving on, a call coming
//! up, in the user's language and worded for who reads it. A shopper hears
//! of replies, their orders and their calls; staff of customers' messages
//! and calls they are due to make (never "your order": the shop's orders
//! are not theirs). The words are here, not in a shell, so the desktop
//! app's native notifications and a browser's say the same.

use crate::callbacks::CallbackChannel;
use crate::lang::{tracking_status_in_sentence, Lang};
use crate::orders::TrackingStatus;

/// Who reads the notifications on this device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Shopper,
    Staff,
}

impl Audience {
    /// Staff (agents and admins) or a shopper; nobody signed in reads as a
    /// shopper.
    pub fn of(role: Option<crate::auth::Role>) -> Self {
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
    let s = tracking_status_in_sentence(lang, status);
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
    // (phone call title, video call title, staff's body, shopper's body)
    let (phone, video, staff, shopper) = match lang {
        Lang::En => (
            "Phone call soon",
            "Video call soon",
            format!("Call {customer} in {minutes} min."),
            format!("Support will call you in {minutes} min."),
        ),
        Lang::Es => (
            "Llamada en breve",
            "Videollamada en breve",
            format!("Llama a {customer} en {minutes} min."),
            format!("Soporte te llamará en {minutes} min."),
        ),
        Lang::Ru => (
            "Скоро звонок",
            "Скоро видеозвонок",
            format!("{customer} ждёт звонка через {minutes} мин."),
            format!("Поддержка позвонит вам через {minutes} мин."),
        ),
    };
    let title = match channel {
        CallbackChannel::Voice => phone,
        CallbackChannel::Video => video,
    };
    let body = match audience {
        Audience::Staff => staff,
        Audience::Shopper => shopper,
    };
    Note {
        title: title.into(),
        body,
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
    fn staff_are_told_of_customers_never_of_their_own_orders() {
        use crate::auth::Role;
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
