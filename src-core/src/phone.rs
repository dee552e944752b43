//! Phone numbers in E.164 form (`+` country code and subscriber number, at
//! most 15 digits), used for voice callbacks. Shared by the server (which
//! rejects bad numbers) and the UI (which validates as the user types).

use std::fmt;

use serde::{Deserialize, Serialize};

/// A phone number normalised to E.164, e.g. `+34911234567`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct E164(String);

/// Why a typed phone number is not a valid E.164 number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("the number must start with + and the country code")]
    MissingPlus,
    #[error("the number may contain only digits, spaces, dashes, dots and parentheses")]
    InvalidCharacter,
    #[error("a country code never starts with 0")]
    LeadingZero,
    #[error("the number is too short")]
    TooShort,
    #[error("the number is too long (E.164 allows 15 digits)")]
    TooLong,
}

/// Fewest digits (country code included) we accept; the shortest real
/// international numbers have 7 or 8.
pub const MIN_DIGITS: usize = 7;
/// E.164's maximum.
pub const MAX_DIGITS: usize = 15;

impl E164 {
    /// Parses what a person typed: `+34 911 23-45-67`, `+1 (415) 555.0100`.
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        let trimmed = input.trim();
        let rest = trimmed.strip_prefix('+').ok_or(PhoneError::MissingPlus)?;
        let mut digits = String::with_capacity(MAX_DIGITS + 1);
        digits.push('+');
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '.' | '(' | ')' | '\u{a0}' => {}
                _ => return Err(PhoneError::InvalidCharacter),
            }
        }
        let count = digits.len() - 1;
        if digits.as_bytes().get(1) == Some(&b'0') {
            return Err(PhoneError::LeadingZero);
        }
        if count < MIN_DIGITS {
            return Err(PhoneError::TooShort);
        }
        if count > MAX_DIGITS {
            return Err(PhoneError::TooLong);
        }
        Ok(E164(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for E164 {
    type Error = PhoneError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        E164::parse(&value)
    }
}

impl From<E164> for String {
    fn from(value: E164) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Result<&str, PhoneError>) {
        let got = E164::parse(input);
        assert_eq!(
            got.as_ref().map(E164::as_str).map_err(|e| *e),
            expected,
            "input {input:?}"
        );
    }

    #[test]
    fn parses_and_normalises_typed_numbers() {
        check("+34 911 23-45-67", Ok("+34911234567"));
        check(" +1 (415) 555.0100 ", Ok("+14155550100"));
        check("+7 495 123 45 67", Ok("+74951234567"));
        check("+123456789012345", Ok("+123456789012345"));
    }

    #[test]
    fn rejects_what_is_not_e164() {
        check("911 234 567", Err(PhoneError::MissingPlus));
        check("+34 91x 234", Err(PhoneError::InvalidCharacter));
        check("+0034911234567", Err(PhoneError::LeadingZero));
        check("+34 91", Err(PhoneError::TooShort));
        check("+1234567890123456", Err(PhoneError::TooLong));
        check("", Err(PhoneError::MissingPlus));
    }

    #[test]
    fn serde_round_trip_validates() {
        let n: E164 = serde_json::from_str(r#""+34 911 234 567""#).unwrap();
        assert_eq!(serde_json::to_string(&n).unwrap(), r#""+34911234567""#);
        assert!(serde_json::from_str::<E164>(r#""12345""#).is_err());
    }
}
