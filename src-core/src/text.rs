//! Free text that people type (messages, subjects, names, addresses,
//! topics, notes): which characters it may hold.
//!
//! Control characters are refused, except tab, line feed and carriage
//! return: NUL cannot be stored by PostgreSQL at all, and the others are
//! invisible and never typed on purpose. The server refuses such text with
//! `validation_failed`, naming the field with [`INVALID_CHARACTERS`]; the
//! app can run the same check before sending. (Unpaired UTF-16 surrogates
//! never reach this far: a Rust `String` cannot hold them, and the server's
//! JSON parser refuses a `"\ud800"` escape as malformed input.)

/// The problem code for a field whose text holds a refused character
/// (`details.fields.<field>` of a `validation_failed` error).
pub const INVALID_CHARACTERS: &str = "invalid_characters";

/// May `c` appear in user text? Everything but the C0 control characters
/// (U+0000 to U+001F) other than tab, line feed and carriage return.
pub fn is_allowed_char(c: char) -> bool {
    !matches!(c, '\0'..='\u{1f}') || matches!(c, '\t' | '\n' | '\r')
}

/// Whether every character of `text` may appear in user text.
pub fn is_clean(text: &str) -> bool {
    text.chars().all(is_allowed_char)
}

/// Is `c` an invisible direction control: an embedding or override
/// (U+202A–U+202E), an isolate (U+2066–U+2069) or a direction mark (LRM,
/// RLM, ALM)? With U+202E, `invoice<U+202E>fdp.exe` reads as
/// `invoiceexe.pdf` and a name can pose as another. The Unicode
/// bidirectional algorithm orders right-to-left scripts without them, so
/// names (and file names) never need them.
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
    )
}

/// Whether `name` may be shown as a name (of a person, a staff member, an
/// address): clean text without direction controls, so what is displayed
/// is what was typed. Refused like other text, with [`INVALID_CHARACTERS`].
pub fn is_clean_name(name: &str) -> bool {
    name.chars()
        .all(|c| is_allowed_char(c) && !is_bidi_control(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_refused_but_line_breaks_and_tabs_are_kept() {
        for ok in [
            "",
            "plain",
            "two\nlines\r\nand\ttab",
            "ñ ü 中文 🙂",
            "\u{7f}\u{a0}",
        ] {
            assert!(is_clean(ok), "{ok:?}");
        }
        for bad in ["nul\0here", "\u{1}", "bell\u{7}", "esc\u{1b}[31m", "\u{1f}"] {
            assert!(!is_clean(bad), "{bad:?}");
        }
    }

    #[test]
    fn names_refuse_direction_controls_but_keep_right_to_left_scripts() {
        for ok in ["Ana", "محمد علي", "שרה כהן", "Ана\tМария"] {
            assert!(is_clean_name(ok), "{ok:?}");
        }
        for bad in [
            "Ana\u{202E}nimda",
            "\u{202A}x",
            "x\u{2066}y\u{2069}",
            "a\u{200F}",
            "\u{061C}",
            "nul\0",
        ] {
            assert!(!is_clean_name(bad), "{bad:?}");
        }
        assert!(is_clean("Ana\u{202E}nimda"), "messages may carry them");
    }
}
