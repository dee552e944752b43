//! Request extractors whose rejections are the one JSON error shape:
//! malformed JSON, wrong types, oversized bodies, bad path or query values
//! all become a 4xx `ApiError`, never axum's plain-text answers.

use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::extract::FromRequest;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mostrador_core::{ApiError, ErrorCode};
use serde::Serialize;

use crate::error::AppError;

/// JSON body in, JSON body out.
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

#[derive(Debug, Clone, Copy, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct Path<T>(pub T);

#[derive(Debug, Clone, Copy, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct Query<T>(pub T);

/// A raw body (uploads, signed webhooks).
#[derive(Debug, Clone)]
pub struct RawBody(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = AppError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        Ok(RawBody(axum::body::Bytes::from_request(req, state).await?))
    }
}

impl From<BytesRejection> for AppError {
    fn from(rejection: BytesRejection) -> Self {
        let code = if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ErrorCode::PayloadTooLarge
        } else {
            ErrorCode::BadRequest
        };
        AppError::Api(ApiError::new(code, rejection.body_text()))
    }
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        let (code, message) = match &rejection {
            JsonRejection::JsonDataError(e) => (ErrorCode::ValidationFailed, e.body_text()),
            JsonRejection::JsonSyntaxError(e) => {
                let text = e.body_text();
                if let Some(field) = unusable_text_field(&text) {
                    return invalid(field, mostrador_core::text::INVALID_CHARACTERS);
                }
                (ErrorCode::BadRequest, text)
            }
            JsonRejection::MissingJsonContentType(_) => (
                ErrorCode::BadRequest,
                "expected a JSON body with Content-Type: application/json".to_owned(),
            ),
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => (
                ErrorCode::PayloadTooLarge,
                "the request body is too large".to_owned(),
            ),
            other => (ErrorCode::BadRequest, other.body_text()),
        };
        AppError::Api(ApiError::new(code, message))
    }
}

/// The field whose JSON string cannot become text (an unpaired UTF-16
/// surrogate escape such as `"\ud800"`, an invalid escape, a raw control
/// character), from the parser's message `…JSON: <path>: <problem> at …`;
/// `None` for other syntax errors or when no field is named.
fn unusable_text_field(text: &str) -> Option<&str> {
    let detail = text.split_once("JSON: ")?.1;
    let (path, problem) = detail.split_once(": ")?;
    let about_text = [
        "surrogate",
        "hex escape",
        "invalid escape",
        "unicode code point",
        "control character",
    ]
    .iter()
    .any(|p| problem.contains(p));
    (about_text && !path.is_empty() && !path.contains(' ')).then_some(path)
}

impl From<PathRejection> for AppError {
    fn from(rejection: PathRejection) -> Self {
        AppError::Api(ApiError::new(ErrorCode::BadRequest, rejection.body_text()))
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> Self {
        AppError::Api(ApiError::new(ErrorCode::BadRequest, rejection.body_text()))
    }
}

/// Refuses free text holding control characters other than tab and line
/// breaks (`mostrador_core::text`), naming the field.
pub fn check_text(field: &str, text: &str) -> Result<(), AppError> {
    if mostrador_core::text::is_clean(text) {
        Ok(())
    } else {
        Err(invalid(field, mostrador_core::text::INVALID_CHARACTERS))
    }
}

/// Refuses a name (of a person, a staff member, an address) holding
/// control characters or direction controls such as U+202E
/// (`mostrador_core::text::is_clean_name`), naming the field: a name must
/// display as typed.
pub fn check_name(field: &str, text: &str) -> Result<(), AppError> {
    if mostrador_core::text::is_clean_name(text) {
        Ok(())
    } else {
        Err(invalid(field, mostrador_core::text::INVALID_CHARACTERS))
    }
}

/// A validation failure naming one field.
pub fn invalid(field: &str, problem: &str) -> AppError {
    AppError::Api(ApiError::invalid_field(field, problem))
}
