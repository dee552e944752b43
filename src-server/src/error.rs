//! The server's error type and its one rendering on the wire.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use mostrador_core::{ApiError, ErrorCode};

/// What a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// An expected failure with a code the client can act on.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// A database failure: logged, answered as `internal` (or `unavailable`
    /// when the pool cannot hand out a connection).
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Anything else unexpected: logged, answered as `internal`.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        AppError::Api(ApiError::new(code, message))
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }
}

/// Renders an [`ApiError`] with the status its code maps to.
pub fn api_error_response(err: ApiError) -> Response {
    let status =
        StatusCode::from_u16(err.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(err)).into_response()
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body = match self {
            AppError::Api(err) => err,
            AppError::Database(sqlx::Error::PoolTimedOut) => {
                tracing::error!("database pool timed out");
                ApiError::new(ErrorCode::Unavailable, "the database is busy; try again")
            }
            AppError::Database(err) => {
                tracing::error!(error = %err, "database error");
                ApiError::new(ErrorCode::Internal, "internal error")
            }
            AppError::Internal(err) => {
                tracing::error!(error = %format!("{err:#}"), "internal error");
                ApiError::new(ErrorCode::Internal, "internal error")
            }
        };
        api_error_response(body)
    }
}

pub type AppResult<T> = Result<T, AppError>;
