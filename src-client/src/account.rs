//! The account's credentials from the app: proving the email address with
//! the code mailed to it, changing the password, and resetting a forgotten
//! one by mailed code.
//!
//! The engine checks what it can before asking the server (a code's shape,
//! a password's length, the confirmation matching), so every screen gets
//! the same refusals, each naming its field in `details.fields` as the
//! server does (`code`, `email`, `current_password`, `new_password`,
//! `confirm_password`); the UI only turns them into sentences.
//!
//! Proving the address is what makes the shop's orders for it visible, so
//! [`Engine::verify_email`] keeps the confirmed user and pulls at once: the
//! orders are on the device when it returns.

use mostrador_core::auth::{
    normalize_email, ChangePasswordRequest, Me, PasswordResetConfirm, EMAIL_CODE_LEN,
    MAX_PASSWORD_LEN, MIN_PASSWORD_LEN,
};
use mostrador_core::ApiError;

use crate::{ClientError, Engine};

fn refuse(field: &str, problem: &str) -> ClientError {
    ClientError::Api(ApiError::invalid_field(field, problem))
}

/// A typed one-time code as the server wants it: spaces and dashes people
/// type or paste dropped, upper case. Refused as `code` `required` or
/// `format` (not [`EMAIL_CODE_LEN`] letters and digits).
pub fn check_code(code: &str) -> Result<String, ClientError> {
    let code: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if code.is_empty() {
        return Err(refuse("code", "required"));
    }
    if code.chars().count() != EMAIL_CODE_LEN || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(refuse("code", "format"));
    }
    Ok(code)
}

/// A new password and its confirmation: the length limits of
/// `mostrador-core` on `new_password`, then `confirm_password` `mismatch`.
pub fn check_new_password(new_password: &str, confirm: &str) -> Result<(), ClientError> {
    let n = new_password.chars().count();
    if n == 0 {
        return Err(refuse("new_password", "required"));
    }
    if n < MIN_PASSWORD_LEN {
        return Err(refuse("new_password", "too_short"));
    }
    if n > MAX_PASSWORD_LEN {
        return Err(refuse("new_password", "too_long"));
    }
    if confirm != new_password {
        return Err(refuse("confirm_password", "mismatch"));
    }
    Ok(())
}

/// An email address typed on the sign-in screen, normalised; `email`
/// `required` or `invalid`.
pub fn check_email(email: &str) -> Result<String, ClientError> {
    if email.trim().is_empty() {
        return Err(refuse("email", "required"));
    }
    normalize_email(email).ok_or_else(|| refuse("email", "invalid"))
}

impl Engine {
    fn require_session(&self) -> Result<(), ClientError> {
        match self.api().token() {
            Some(_) => Ok(()),
            None => Err(ClientError::SignedOut),
        }
    }

    /// Proves the signed-in account's address with the mailed `code`. The
    /// confirmed user is kept (so the screens drop their "confirm your
    /// email" banner) and the feed is pulled at once, so the orders the
    /// shop sent for the address are on the device when this returns. A
    /// failed pull does not undo the proof: the sync service brings them.
    pub async fn verify_email(&self, code: &str) -> Result<Me, ClientError> {
        let code = check_code(code)?;
        self.require_session()?;
        let me = self.api().verify_email(&code).await?;
        self.store().set_me(&me).await?;
        if let Err(err) = self.pull().await {
            tracing::info!(error = %err, "address proved; its orders come with the next sync");
        }
        Ok(me)
    }

    /// Mails a new verification code (the previous one stops working). The
    /// server sends at most one a minute: a `rate_limited` refusal says so.
    pub async fn resend_verification(&self) -> Result<(), ClientError> {
        self.require_session()?;
        self.api().resend_verification().await
    }

    /// Changes the password: the current one proves it is the owner. This
    /// device stays signed in; the server signs out every other one.
    pub async fn change_password(
        &self,
        current_password: &str,
        new_password: &str,
        confirm: &str,
    ) -> Result<(), ClientError> {
        if current_password.is_empty() {
            return Err(refuse("current_password", "required"));
        }
        check_new_password(new_password, confirm)?;
        self.require_session()?;
        self.api()
            .change_password(&ChangePasswordRequest {
                current_password: current_password.to_owned(),
                new_password: new_password.to_owned(),
            })
            .await
    }

    /// Asks for a password-reset code by email. The server answers the same
    /// whether or not an account uses the address (nobody learns which
    /// addresses have accounts), so success means "if it is yours, look in
    /// your mail".
    pub async fn request_password_reset(&self, email: &str) -> Result<(), ClientError> {
        let email = check_email(email)?;
        self.api().request_password_reset(&email).await
    }

    /// Sets a new password with the mailed code. Every session of the
    /// account ends, so the user signs in with the new password next (and
    /// the code proved the address, if it was not proved yet).
    pub async fn confirm_password_reset(
        &self,
        email: &str,
        code: &str,
        new_password: &str,
        confirm: &str,
    ) -> Result<(), ClientError> {
        let email = check_email(email)?;
        let code = check_code(code)?;
        check_new_password(new_password, confirm)?;
        self.api()
            .confirm_password_reset(&PasswordResetConfirm {
                email,
                code,
                new_password: new_password.to_owned(),
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(err: ClientError) -> (String, String) {
        let ClientError::Api(e) = err else {
            panic!("{err:?}")
        };
        let (f, p) = e.field_problem().expect("a field");
        (f.to_owned(), p.to_owned())
    }

    #[test]
    fn codes_are_cleaned_up_or_refused_naming_the_field() {
        assert_eq!(check_code(" abcd-efgh 23\n").unwrap(), "ABCDEFGH23");
        let cases = [
            ("", "required"),
            ("   ", "required"),
            ("ABCDEFGH2", "format"),
            ("ABCDEFGH234", "format"),
            ("ABCDEFGH2!", "format"),
            ("ABCDEFGHÑ2", "format"),
        ];
        for (code, problem) in cases {
            assert_eq!(
                field(check_code(code).unwrap_err()),
                ("code".into(), problem.into()),
                "{code:?}"
            );
        }
    }

    #[test]
    fn new_passwords_follow_the_core_limits_and_must_match() {
        let short = "x".repeat(MIN_PASSWORD_LEN - 1);
        let long = "x".repeat(MAX_PASSWORD_LEN + 1);
        let ok = "x".repeat(MIN_PASSWORD_LEN);
        let cases = [
            ("", "", "new_password", "required"),
            (short.as_str(), short.as_str(), "new_password", "too_short"),
            (long.as_str(), long.as_str(), "new_password", "too_long"),
            (
                ok.as_str(),
                "something else",
                "confirm_password",
                "mismatch",
            ),
        ];
        for (new, confirm, f, problem) in cases {
            assert_eq!(
                field(check_new_password(new, confirm).unwrap_err()),
                (f.into(), problem.into()),
                "{new:?}"
            );
        }
        check_new_password(&ok, &ok).unwrap();
    }

    #[test]
    fn emails_are_normalised_or_refused() {
        assert_eq!(check_email(" Ana@Example.COM ").unwrap(), "ana@example.com");
        assert_eq!(
            field(check_email(" ").unwrap_err()),
            ("email".into(), "required".into())
        );
        assert_eq!(
            field(check_email("ana@").unwrap_err()),
            ("email".into(), "invalid".into())
        );
    }
}
