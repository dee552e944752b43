//! `GET /healthz`: liveness and readiness in one (the database must answer).

use axum::extract::State;
use axum::Json;
use mostrador_core::{ErrorCode, Health};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(healthz))
}

/// Reports the server's version and whether its database answers.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "meta",
    responses(
        (status = 200, description = "The server and its database answer", body = Health),
        (status = 503, description = "The database does not answer", body = mostrador_core::ApiError),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn healthz(State(state): State<AppState>) -> AppResult<Json<Health>> {
    state.db.ping().await.map_err(|err| {
        tracing::warn!(error = %err, "health check: database does not answer");
        AppError::new(ErrorCode::Unavailable, "the database does not answer")
    })?;
    Ok(Json(Health {
        status: "ok".into(),
        version: mostrador_core::VERSION.into(),
        database: state.db.backend().name().into(),
    }))
}
