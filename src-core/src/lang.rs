//! The app's languages and the domain words every shell says in them.
//!
//! One source for the UI (`src-ui`'s `i18n`) and the shell's native
//! notifications (`src-tauri`'s `notify`), so a language or a tracking
//! status is named the same on screen and in a notification, and a web
//! build names them the same way too.

use serde::{Deserialize, Serialize};

use crate::orders::TrackingStatus;

/// A language the app speaks (English is the fallback).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    En,
    Es,
    Ru,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::En, Lang::Es, Lang::Ru];

    /// `en`, `es-MX`, `ru_RU`, `RU`… → a supported language (English for any
    /// other tag): what the system, the profile or the picker says.
    pub fn from_tag(tag: &str) -> Lang {
        match tag.get(..2).map(str::to_ascii_lowercase).as_deref() {
            Some("es") => Lang::Es,
            Some("ru") => Lang::Ru,
            _ => Lang::En,
        }
    }

    /// The ISO 639-1 code (`lang` attribute, profile, stored choice).
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
            Lang::Ru => "ru",
        }
    }

    /// The language's own name, for the language picker.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Es => "Español",
            Lang::Ru => "Русский",
        }
    }
}

/// A tracking status as a label on its own ("In transit"): the order's
/// status on screen.
pub fn tracking_status(lang: Lang, s: TrackingStatus) -> &'static str {
    use TrackingStatus::*;
    match (lang, s) {
        (Lang::En, Placed) => "Order placed",
        (Lang::En, Paid) => "Paid",
        (Lang::En, Packed) => "Packed",
        (Lang::En, Shipped) => "Shipped",
        (Lang::En, InTransit) => "In transit",
        (Lang::En, OutForDelivery) => "Out for delivery",
        (Lang::En, Delivered) => "Delivered",
        (Lang::En, Delayed) => "Delayed",
        (Lang::En, Returned) => "Returned",
        (Lang::Es, Placed) => "Pedido realizado",
        (Lang::Es, Paid) => "Pagado",
        (Lang::Es, Packed) => "Empaquetado",
        (Lang::Es, Shipped) => "Enviado",
        (Lang::Es, InTransit) => "En tránsito",
        (Lang::Es, OutForDelivery) => "En reparto",
        (Lang::Es, Delivered) => "Entregado",
        (Lang::Es, Delayed) => "Retrasado",
        (Lang::Es, Returned) => "Devuelto",
        (Lang::Ru, Placed) => "Заказ оформлен",
        (Lang::Ru, Paid) => "Оплачен",
        (Lang::Ru, Packed) => "Упакован",
        (Lang::Ru, Shipped) => "Отправлен",
        (Lang::Ru, InTransit) => "В пути",
        (Lang::Ru, OutForDelivery) => "Передан курьеру",
        (Lang::Ru, Delivered) => "Доставлен",
        (Lang::Ru, Delayed) => "Задерживается",
        (Lang::Ru, Returned) => "Возвращён",
    }
}

/// A tracking status as it ends a sentence about the order ("Your order
/// is in transit."): the order notification. The label lower-cased, but
/// for "placed", whose label names the order the sentence already names.
pub fn tracking_status_in_sentence(lang: Lang, s: TrackingStatus) -> String {
    match (lang, s) {
        (Lang::En, TrackingStatus::Placed) => "placed".into(),
        (Lang::Es, TrackingStatus::Placed) => "realizado".into(),
        (Lang::Ru, TrackingStatus::Placed) => "оформлен".into(),
        _ => tracking_status(lang, s).to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_pick_a_supported_language_and_codes_round_trip() {
        assert_eq!(Lang::from_tag("ru-RU"), Lang::Ru);
        assert_eq!(Lang::from_tag("ES_mx"), Lang::Es);
        assert_eq!(Lang::from_tag("de"), Lang::En);
        assert_eq!(Lang::from_tag(""), Lang::En);
        for l in Lang::ALL {
            assert_eq!(Lang::from_tag(l.code()), l);
            assert_eq!(serde_json::to_value(l).unwrap(), l.code());
        }
    }

    #[test]
    fn every_status_has_a_label_and_a_sentence_word_in_every_language() {
        assert_eq!(
            tracking_status_in_sentence(Lang::Es, TrackingStatus::InTransit),
            "en tránsito"
        );
        assert_eq!(
            tracking_status_in_sentence(Lang::Ru, TrackingStatus::Placed),
            "оформлен"
        );
        for l in Lang::ALL {
            for s in TrackingStatus::ALL {
                let label = tracking_status(l, s);
                let word = tracking_status_in_sentence(l, s);
                assert!(!label.is_empty() && !word.is_empty(), "{l:?} {s:?}");
                assert!(!word.chars().any(char::is_uppercase), "{word}");
            }
        }
    }
}
