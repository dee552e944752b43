//! The one error shape on the wire: `{code, message, details}`.
//!
//! The server answers every failure with an [`ApiError`] body; the client
//! engine and the Tauri shell hand the same shape to the UI, which turns
//! [`ErrorCode`] into a sentence in the user's language (the `message` is an
//! English fallback for logs and API users, not for display).

use serde::{Deserialize, Serialize};

/// Machine-readable error codes. Serialized in `snake_case`.
///
/// **Wire promise:** existing spellings never change; new codes may be added,
/// so readers must accept unknown codes (see [`ErrorCode::Unknown`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is malformed (bad JSON, wrong types, invalid UTF-8).
    BadRequest,
    /// A field failed validation; `details` names the fields.
    ValidationFailed,
    /// No credentials, or credentials that are wrong or expired.
    Unauthorized,
    /// Authenticated, but not allowed to touch this resource.
    Forbidden,
    /// The resource does not exist (or the caller may not know it exists).
    NotFound,
    /// The request conflicts with the current state (e.g. duplicate email).
    Conflict,
    /// The body is larger than the endpoint accepts.
    PayloadTooLarge,
    /// Too many attempts; retry after the `Retry-After` header.
    RateLimited,
    /// The sync cursor is older than the feed: start a full resync.
    ResyncRequired,
    /// The backend cannot be reached or is not ready.
    Unavailable,
    /// Something failed on our side; the details are in the server log.
    Internal,
    /// A shop-signed identity (`POST /api/v1/auth/identity`) whose `exp`
    /// has passed: the shop page must sign a fresh one.
    IdentityExpired,
    /// A shop-signed identity that is not one: bad signature, wrong
    /// algorithm, malformed, missing claims, or an expiry too far ahead.
    IdentityInvalid,
    /// A shop-signed identity whose `jti` was already exchanged once.
    IdentityReplayed,
    /// This server has no identity secret (`--identity-secret`), so it
    /// cannot accept shop-signed identities.
    IdentityNotConfigured,
    /// A code this build does not know yet (sent by a newer server).
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// The HTTP status the server answers with for this code.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::BadRequest => 400,
            ErrorCode::ValidationFailed => 422,
            ErrorCode::Unauthorized
            | ErrorCode::IdentityExpired
            | ErrorCode::IdentityInvalid
            | ErrorCode::IdentityReplayed => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::Conflict => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::RateLimited => 429,
            ErrorCode::ResyncRequired => 410,
            ErrorCode::Unavailable | ErrorCode::IdentityNotConfigured => 503,
            ErrorCode::Internal | ErrorCode::Unknown => 500,
        }
    }

    /// Whether a client should keep the request and try again later.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            ErrorCode::RateLimited | ErrorCode::Unavailable | ErrorCode::Internal
        )
    }
}

/// The JSON error body used everywhere: HTTP responses, Tauri command errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[error("{code:?}: {message}")]
pub struct ApiError {
    pub code: ErrorCode,
    /// An English sentence for developers and logs.
    pub message: String,
    /// Structured extra information, e.g. `{"fields": {"phone": "invalid"}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: None,
        }
    }

    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }

    /// A validation failure naming one field and what is wrong with it
    /// (`{"fields": {field: problem}}`, e.g. `password` / `too_short`).
    pub fn invalid_field(field: &str, problem: &str) -> Self {
        Self::new(ErrorCode::ValidationFailed, format!("{field}: {problem}"))
            .with_details(serde_json::json!({ "fields": { field: problem } }))
    }

    /// The first field named in `details.fields` and its problem.
    pub fn field_problem(&self) -> Option<(&str, &str)> {
        let fields = self.details.as_ref()?.get("fields")?.as_object()?;
        fields
            .iter()
            .next()
            .map(|(k, v)| (k.as_str(), v.as_str().unwrap_or("invalid")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_has_the_documented_shape() {
        let err = ApiError::new(ErrorCode::ValidationFailed, "phone is not E.164")
            .with_details(serde_json::json!({"fields": {"phone": "invalid"}}));
        let json = serde_json::to_value(&err).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "code": "validation_failed",
                "message": "phone is not E.164",
                "details": {"fields": {"phone": "invalid"}}
            })
        );
    }

    #[test]
    fn details_are_omitted_when_absent_and_unknown_codes_are_accepted() {
        let err = ApiError::new(ErrorCode::NotFound, "no such order");
        assert_eq!(
            serde_json::to_string(&err).unwrap(),
            r#"{"code":"not_found","message":"no such order"}"#
        );
        let parsed: ApiError =
            serde_json::from_str(r#"{"code":"brand_new_code","message":"x"}"#).unwrap();
        assert_eq!(parsed.code, ErrorCode::Unknown);
    }

    #[test]
    fn a_field_failure_names_its_field_and_problem() {
        let err = ApiError::invalid_field("password", "too_short");
        assert_eq!(err.code, ErrorCode::ValidationFailed);
        assert_eq!(err.field_problem(), Some(("password", "too_short")));
        assert_eq!(
            ApiError::new(ErrorCode::NotFound, "x").field_problem(),
            None
        );
    }

    #[test]
    fn statuses_and_retry_classes() {
        assert_eq!(ErrorCode::RateLimited.http_status(), 429);
        assert_eq!(ErrorCode::ValidationFailed.http_status(), 422);
        assert!(ErrorCode::Unavailable.is_transient());
        assert!(!ErrorCode::Forbidden.is_transient());
        assert_eq!(ErrorCode::IdentityReplayed.http_status(), 401);
        assert_eq!(ErrorCode::IdentityNotConfigured.http_status(), 503);
        assert!(!ErrorCode::IdentityNotConfigured.is_transient());
        assert_eq!(
            serde_json::to_value(ErrorCode::IdentityNotConfigured).unwrap(),
            "identity_not_configured"
        );
    }
}
