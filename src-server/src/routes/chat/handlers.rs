//! The conversation endpoints: each parses, calls one write or read from
//! [`super::writes`] / [`super::data`] (writes through the group commit,
//! `crate::writer`) and answers.

use axum::extract::State;
use axum::http::StatusCode;
use mostrador_core::chat::{
    Conversation, ConversationStatus, ConversationThread, MarkMessages, Message, OpenConversation,
    Rating, SendMessage, UpdateConversation,
};
use mostrador_core::ApiError;
use serde::Deserialize;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::data::{conversation_from_row, load_message, thread, CONV_COLUMNS};
use super::writes::{mark, open, rate, send_in, update_in, Assignment};
use crate::auth::Actor;
use crate::authz::visible_conversation;
use crate::error::{AppError, AppResult};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_conversations, open_conversation))
        .routes(routes!(get_conversation, update_conversation))
        .routes(routes!(send_message))
        .routes(routes!(mark_messages))
        .routes(routes!(rate_conversation))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ConversationQuery {
    pub status: Option<ConversationStatus>,
    pub limit: Option<i64>,
}

/// The caller's conversations, most recent first (staff: everyone's).
#[utoipa::path(get, path = "/api/v1/conversations", tag = "conversations", security(("bearer" = [])), params(ConversationQuery),
    responses((status = 200, body = Vec<Conversation>), (status = 401, body = ApiError)))]
pub async fn list_conversations(
    State(state): State<AppState>,
    actor: Actor,
    Query(q): Query<ConversationQuery>,
) -> AppResult<Json<Vec<Conversation>>> {
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    let rows = crate::routes::list_scoped(
        &state,
        &actor,
        CONV_COLUMNS,
        "conversations",
        q.status.map(ConversationStatus::as_str),
        &format!("ORDER BY updated_at DESC LIMIT {limit}"),
    )
    .await?;
    Ok(Json(
        rows.iter()
            .map(conversation_from_row)
            .collect::<AppResult<_>>()?,
    ))
}

/// Opens a conversation (optionally about an order) with its first message.
/// Resending the same ids is harmless.
#[utoipa::path(post, path = "/api/v1/conversations", tag = "conversations", security(("bearer" = [])), request_body = OpenConversation,
    responses((status = 201, body = ConversationThread), (status = 403, description = "Only customers open conversations", body = ApiError),
              (status = 409, description = "The conversation or message id is in use", body = ApiError), (status = 422, body = ApiError)))]
#[tracing::instrument(skip_all, fields(user.id = %actor.user_id))]
pub async fn open_conversation(
    State(state): State<AppState>,
    actor: Actor,
    Json(req): Json<OpenConversation>,
) -> AppResult<(StatusCode, Json<ConversationThread>)> {
    let assign = Assignment::now(state.hub.as_ref(), state.config.agent_max_open);
    let args = Arc::new((actor, req, assign));
    let t = state
        .writer
        .write(move |tx| {
            let args = args.clone();
            Box::pin(async move {
                let (actor, req, assign) = &*args;
                open(tx, actor, req, assign).await?;
                let conv = visible_conversation(tx, actor, req.id).await?;
                thread(tx, conv, actor.is_staff()).await
            })
        })
        .await?;
    Ok((StatusCode::CREATED, Json(t)))
}

/// A conversation and its messages (internal notes only for staff).
#[utoipa::path(get, path = "/api/v1/conversations/{id}", tag = "conversations", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = ConversationThread), (status = 404, body = ApiError)))]
pub async fn get_conversation(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> AppResult<Json<ConversationThread>> {
    let mut conn = state.db.pool().acquire().await?;
    let conv = visible_conversation(&mut conn, &actor, id).await?;
    Ok(Json(thread(&mut conn, conv, actor.is_staff()).await?))
}

/// Staff: set status (open / pending / resolved) and assignment.
#[utoipa::path(patch, path = "/api/v1/conversations/{id}", tag = "conversations", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = UpdateConversation,
    responses((status = 200, body = Conversation), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
#[tracing::instrument(skip_all, fields(user.id = %actor.user_id))]
pub async fn update_conversation(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(req): Json<UpdateConversation>,
) -> AppResult<Json<Conversation>> {
    actor.require_staff()?;
    let args = Arc::new((actor, req));
    let updated = state
        .writer
        .write(move |tx| {
            let args = args.clone();
            Box::pin(async move {
                let (actor, req) = &*args;
                update_in(tx, actor, id, req).await?;
                visible_conversation(tx, actor, id).await
            })
        })
        .await?;
    Ok(Json(updated))
}

/// Sends a message; resending the same message id is harmless.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages", tag = "conversations", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = SendMessage,
    responses((status = 201, body = Message), (status = 403, description = "Internal notes are for staff", body = ApiError), (status = 404, body = ApiError),
              (status = 409, description = "The message id is in use", body = ApiError), (status = 422, body = ApiError)))]
#[tracing::instrument(skip_all, fields(user.id = %actor.user_id))]
pub async fn send_message(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(req): Json<SendMessage>,
) -> AppResult<(StatusCode, Json<Message>)> {
    let send = super::batch::SendWrite::rest(&actor, id, &req).map(super::batch::SendWrite::shared);
    let args = Arc::new((actor, req));
    let msg = state
        .writer
        .write_send(send, move |tx| {
            let args = args.clone();
            Box::pin(async move {
                let (actor, req) = &*args;
                match send_in(tx, actor, id, req).await? {
                    Some(sent) => Ok(sent),
                    // Sent before: the message as stored.
                    None => load_message(tx, req.id)
                        .await?
                        .ok_or_else(|| AppError::not_found("message")),
                }
            })
        })
        .await?;
    Ok((StatusCode::CREATED, Json(msg)))
}

/// Marks the other side's messages as delivered or read.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/marks", tag = "conversations", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = MarkMessages,
    responses((status = 204), (status = 404, body = ApiError)))]
pub async fn mark_messages(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(req): Json<MarkMessages>,
) -> AppResult<StatusCode> {
    let args = Arc::new((actor, req));
    state
        .writer
        .write(move |tx| {
            let args = args.clone();
            Box::pin(async move {
                let (actor, req) = &*args;
                mark(tx, actor, id, req).await
            })
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The customer rates a resolved conversation, 1 to 5, with a comment.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/rating", tag = "conversations", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = Rating,
    responses((status = 200, body = Conversation), (status = 403, body = ApiError), (status = 409, body = ApiError), (status = 422, body = ApiError)))]
pub async fn rate_conversation(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(rating): Json<Rating>,
) -> AppResult<Json<Conversation>> {
    let args = Arc::new((actor, rating));
    let conv = state
        .writer
        .write(move |tx| {
            let args = args.clone();
            Box::pin(async move {
                let (actor, rating) = &*args;
                rate(tx, actor, id, rating).await?;
                visible_conversation(tx, actor, id).await
            })
        })
        .await?;
    Ok(Json(conv))
}
