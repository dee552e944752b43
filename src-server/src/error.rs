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
    /// A database failure, answered by what [`classify_db_error`] makes
    /// of it: `unavailable` (503, `Retry-After`) when trying again may
    /// help, a 4xx when the database refused this request's data,
    /// `internal` otherwise.
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
            AppError::Api(err) => {
                // A refusal that says when to come back carries Retry-After.
                let retry = err
                    .details
                    .as_ref()
                    .and_then(|d| d.get("retry_after_seconds"))
                    .and_then(serde_json::Value::as_u64);
                let mut res = api_error_response(err);
                if let Some(secs) = retry {
                    res.headers_mut().insert(
                        axum::http::header::RETRY_AFTER,
                        axum::http::HeaderValue::from(secs),
                    );
                }
                return res;
            }
            AppError::Database(err) => match classify_db_error(&err) {
                DbFailure::Transient => {
                    tracing::warn!(error = %err, "database unavailable");
                    let mut res = api_error_response(busy());
                    res.headers_mut().insert(
                        axum::http::header::RETRY_AFTER,
                        axum::http::HeaderValue::from_static("1"),
                    );
                    return res;
                }
                DbFailure::Refused(api) => {
                    tracing::info!(error = %err, "the database refused the request's data");
                    api
                }
                DbFailure::Other => {
                    tracing::error!(error = %err, "database error");
                    ApiError::new(ErrorCode::Internal, "internal error")
                }
            },
            AppError::Internal(err) => {
                tracing::error!(error = %format!("{err:#}"), "internal error");
                ApiError::new(ErrorCode::Internal, "internal error")
            }
        };
        api_error_response(body)
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// The answer to a transient database failure.
pub fn busy() -> ApiError {
    ApiError::new(ErrorCode::Unavailable, "the database is busy; try again")
}

/// What a database error means for the request that met it.
#[derive(Debug)]
pub enum DbFailure {
    /// Worth trying again later: the connection was lost, the database is
    /// busy or locked, a serialisation conflict, the pool is exhausted.
    Transient,
    /// This request's data can never be stored as it is: a constraint or
    /// the text encoding refused it (a 4xx, naming the field when known).
    Refused(ApiError),
    /// Anything else: a fault on our side, logged and answered as internal.
    Other,
}

/// Sorts a database error into [`DbFailure`], on either engine.
pub fn classify_db_error(err: &sqlx::Error) -> DbFailure {
    use sqlx::error::ErrorKind;
    let db = match err {
        sqlx::Error::Database(db) => db,
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => return DbFailure::Transient,
        _ => return DbFailure::Other,
    };
    let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
    let field = constraint_field(db.as_ref());
    let fields = |problem: &str| {
        field
            .as_deref()
            .map(|f| serde_json::json!({ "fields": { f: problem } }))
    };
    let refused = |code: ErrorCode, message: &str, problem: &str| {
        let mut e = ApiError::new(code, message);
        e.details = fields(problem);
        DbFailure::Refused(e)
    };
    match db.kind() {
        ErrorKind::UniqueViolation => {
            return refused(ErrorCode::Conflict, "already exists", "taken")
        }
        ErrorKind::ForeignKeyViolation => {
            return refused(
                ErrorCode::Conflict,
                "refers to something that does not exist",
                "unknown",
            )
        }
        ErrorKind::NotNullViolation => {
            return refused(
                ErrorCode::ValidationFailed,
                "a value is missing",
                "required",
            )
        }
        ErrorKind::CheckViolation => {
            return refused(
                ErrorCode::ValidationFailed,
                "a value is not allowed",
                "invalid",
            )
        }
        _ => {}
    }
    if db
        .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
        .is_some()
    {
        // PostgreSQL's SQLSTATE.
        return match code.get(..2).unwrap_or_default() {
            // Data exceptions: text the encoding cannot hold (e.g. NUL),
            // values out of range.
            "22" => refused(
                ErrorCode::ValidationFailed,
                "a value cannot be stored (invalid characters or out of range)",
                mostrador_core::text::INVALID_CHARACTERS,
            ),
            "23" => refused(
                ErrorCode::Conflict,
                "a constraint refused the change",
                "invalid",
            ),
            // Connection exceptions, serialisation failures and deadlocks,
            // insufficient resources, lock timeouts, shutdown.
            "08" | "40" | "53" => DbFailure::Transient,
            _ if matches!(
                code.as_str(),
                "55P03" | "57P01" | "57P02" | "57P03" | "57014"
            ) =>
            {
                DbFailure::Transient
            }
            _ => DbFailure::Other,
        };
    }
    // SQLite's (extended) result code; the primary code is its low byte.
    match code.parse::<i64>().map(|c| c & 0xff) {
        // SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_FULL, SQLITE_PROTOCOL.
        Ok(5 | 6 | 10 | 13 | 15) => DbFailure::Transient,
        // SQLITE_TOOBIG, SQLITE_MISMATCH, SQLITE_RANGE.
        Ok(18 | 20 | 25) => refused(
            ErrorCode::ValidationFailed,
            "a value cannot be stored",
            "invalid",
        ),
        // SQLITE_CONSTRAINT of a kind not sorted above.
        Ok(19) => refused(
            ErrorCode::Conflict,
            "a constraint refused the change",
            "invalid",
        ),
        _ => DbFailure::Other,
    }
}

/// The column a constraint error is about, when the engine says.
fn constraint_field(db: &dyn sqlx::error::DatabaseError) -> Option<String> {
    if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        if let Some(column) = pg.column() {
            return Some(column.to_owned());
        }
        // `<table>_<column>_key`, `<table>_pkey`.
        let (constraint, table) = (pg.constraint()?, pg.table()?);
        let rest = constraint.strip_prefix(table)?.strip_prefix('_')?;
        return match rest {
            "pkey" => Some("id".to_owned()),
            r => r.strip_suffix("_key").map(str::to_owned),
        };
    }
    // SQLite: "UNIQUE constraint failed: table.column[, table.column]".
    let (_, cols) = db.message().split_once("constraint failed: ")?;
    let first = cols.split(',').next()?.trim();
    first.rsplit_once('.').map(|(_, c)| c.to_owned())
}
