//! Router assembly: per-resource routers, the generated OpenAPI document,
//! the browser-facing routes (`web`: `/app/`, `/widget.js`), request ids,
//! tracing, body limits and the JSON fallbacks.

use std::sync::{Arc, OnceLock};

use axum::http::{HeaderName, Request};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use mostrador_core::{ApiError, ErrorCode};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::error::api_error_response;
use crate::routes;
use crate::state::AppState;

/// Largest JSON body any endpoint accepts (attachments have their own limit).
pub const MAX_JSON_BODY: usize = 256 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Mostrador API",
        description = "Central support backend: accounts, orders and tracking, conversations, callbacks, privacy and sync. Every error is `ApiError`."
    ),
    components(schemas(ApiError, ErrorCode)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

/// Declares the `bearer` security scheme the handlers refer to.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(routes::health::router())
        .merge(routes::accounts::router())
        .merge(routes::identity::router())
        .merge(routes::orders::router())
        .merge(routes::chat::router())
        .merge(routes::attachments::router())
        .merge(routes::callbacks::router())
        .merge(routes::profile::router())
        .merge(routes::sync::router())
        .merge(routes::agent::router())
        .merge(crate::live::router())
}

/// The routes and the OpenAPI 3.1 document generated from their handlers,
/// completed with the standard error answers and field limits
/// (`crate::openapi`).
fn api_parts() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut api) = api_router().split_for_parts();
    crate::openapi::complete(&mut api);
    (router, api)
}

/// The OpenAPI 3.1 document, generated from the handlers.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_parts().1
}

/// The OpenAPI document as pretty JSON (cached).
pub fn openapi_json() -> &'static str {
    static SPEC: OnceLock<String> = OnceLock::new();
    SPEC.get_or_init(|| openapi().to_pretty_json().expect("OpenAPI serializes"))
}

pub fn router(state: AppState) -> Router {
    let (router, api) = api_parts();
    let api = Arc::new(api);
    let request_id = HeaderName::from_static("x-request-id");
    router
        .merge(crate::web::router(&state.config))
        .route(
            "/api/openapi.json",
            get(move || {
                let api = api.clone();
                async move { Json(api) }
            }),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_JSON_BODY))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                // Only the path: query strings never reach the log.
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
            }),
        )
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

async fn not_found() -> Response {
    api_error_response(ApiError::new(ErrorCode::NotFound, "no such endpoint"))
}

async fn method_not_allowed() -> Response {
    let mut res = api_error_response(ApiError::new(
        ErrorCode::BadRequest,
        "method not allowed on this endpoint",
    ));
    *res.status_mut() = axum::http::StatusCode::METHOD_NOT_ALLOWED;
    res.into_response()
}
