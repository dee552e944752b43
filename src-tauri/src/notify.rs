//! Native notifications (Tauri's notification plugin), in the UI's
//! language: agent replies, order status changes, callback reminders.

use mostrador_core::callbacks::CallbackChannel;
use mostrador_core::orders::TrackingStatus;
use serde::{Deserialize, Serialize};
use tauri::AppHandle;
use tauri_plugin_notification::NotificationExt;

/// The languages of the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    En,
    Es,
    Ru,
}

impl Lang {
    pub fn parse(s: &str) -> Self {
        match s.get(..2) {
            Some("es") => Lang::Es,
            Some("ru") => Lang::Ru,
            _ => Lang::En,
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

pub fn reply(lang: Lang, author: &str, body: &str) -> Note {
    let mut preview: String = body.chars().take(PREVIEW).collect();
    if body.chars().count() > PREVIEW {
        preview.push('…');
    }
    let title = match lang {
        Lang::En => format!("{author} replied"),
        Lang::Es => format!("{author} ha respondido"),
        Lang::Ru => format!("{author} ответил(а)"),
    };
    Note {
        title,
        body: preview,
    }
}

fn status_name(lang: Lang, s: TrackingStatus) -> &'static str {
    use TrackingStatus::*;
    match (lang, s) {
        (Lang::En, Placed) => "placed",
        (Lang::En, Paid) => "paid",
        (Lang::En, Packed) => "packed",
        (Lang::En, Shipped) => "shipped",
        (Lang::En, InTransit) => "in transit",
        (Lang::En, OutForDelivery) => "out for delivery",
        (Lang::En, Delivered) => "delivered",
        (Lang::En, Delayed) => "delayed",
        (Lang::En, Returned) => "returned",
        (Lang::Es, Placed) => "realizado",
        (Lang::Es, Paid) => "pagado",
        (Lang::Es, Packed) => "empaquetado",
        (Lang::Es, Shipped) => "enviado",
        (Lang::Es, InTransit) => "en tránsito",
        (Lang::Es, OutForDelivery) => "en reparto",
        (Lang::Es, Delivered) => "entregado",
        (Lang::Es, Delayed) => "retrasado",
        (Lang::Es, Returned) => "devuelto",
        (Lang::Ru, Placed) => "оформлен",
        (Lang::Ru, Paid) => "оплачен",
        (Lang::Ru, Packed) => "упакован",
        (Lang::Ru, Shipped) => "отправлен",
        (Lang::Ru, InTransit) => "в пути",
        (Lang::Ru, OutForDelivery) => "передан курьеру",
        (Lang::Ru, Delivered) => "доставлен",
        (Lang::Ru, Delayed) => "задерживается",
        (Lang::Ru, Returned) => "возвращён",
    }
}

pub fn order(lang: Lang, number: &str, status: TrackingStatus) -> Note {
    let s = status_name(lang, status);
    let (title, body) = match lang {
        Lang::En => (format!("Order {number}"), format!("Your order is {s}.")),
        Lang::Es => (format!("Pedido {number}"), format!("Tu pedido está {s}.")),
        Lang::Ru => (format!("Заказ {number}"), format!("Ваш заказ {s}.")),
    };
    Note { title, body }
}

pub fn reminder(lang: Lang, channel: CallbackChannel, minutes: i64) -> Note {
    let video = channel == CallbackChannel::Video;
    let (title, body) = match lang {
        Lang::En => (
            if video {
                "Video call soon"
            } else {
                "Phone call soon"
            },
            format!("Support will call you in {minutes} min."),
        ),
        Lang::Es => (
            if video {
                "Videollamada en breve"
            } else {
                "Llamada en breve"
            },
            format!("Soporte te llamará en {minutes} min."),
        ),
        Lang::Ru => (
            if video {
                "Скоро видеозвонок"
            } else {
                "Скоро звонок"
            },
            format!("Поддержка позвонит вам через {minutes} мин."),
        ),
    };
    Note {
        title: title.into(),
        body,
    }
}

/// Shows a notification; a desktop without a notification service only
/// logs it.
pub fn show(app: &AppHandle, note: &Note) {
    if let Err(err) = app
        .notification()
        .builder()
        .title(&note.title)
        .body(&note.body)
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
        let n = order(Lang::Es, "MS-1", TrackingStatus::Delayed);
        assert_eq!(n.title, "Pedido MS-1");
        assert!(n.body.contains("retrasado"));
        let n = reminder(Lang::Ru, CallbackChannel::Video, 10);
        assert!(n.title.contains("видеозвонок") && n.body.contains("10"));
        let long = "x".repeat(500);
        let n = reply(Lang::En, "Lucía", &long);
        assert_eq!(n.title, "Lucía replied");
        assert_eq!(n.body.chars().count(), PREVIEW + 1);
        assert_eq!(Lang::parse("ru-RU"), Lang::Ru);
        assert_eq!(Lang::parse("de"), Lang::En);
    }
}
