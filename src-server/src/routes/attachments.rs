//! Attachments: images and PDFs up to 10 MB, typed by their bytes, stored
//! in the upload directory, served only to those who may see them.
//!
//! Upload is an idempotent `PUT` with a client-chosen id, so an app can
//! resend it from its outbox. The file is written (to a temporary name, then
//! renamed) before its row is committed; a failed commit removes it.

use std::collections::HashMap;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use mostrador_core::chat::{sniff_attachment, Attachment, MAX_ATTACHMENT_BYTES};
use mostrador_core::ErrorCode;
use serde::Deserialize;
use sqlx::Row;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Actor;
use crate::db::{now_ms, uuid, Tx};
use crate::error::{AppError, AppResult};
use crate::extract::{invalid, Json, Path, Query, RawBody};
use crate::routes::chat::visible_conversation;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload))
        .layer(DefaultBodyLimit::max(MAX_ATTACHMENT_BYTES))
        .routes(routes!(download))
}

const COLUMNS: &str = "id, conversation_id, filename, content_type, size, message_id, uploader_id";

fn from_row(r: &sqlx::any::AnyRow) -> AppResult<Attachment> {
    Ok(Attachment {
        id: uuid(&r.try_get::<String, _>("id")?)?,
        conversation_id: uuid(&r.try_get::<String, _>("conversation_id")?)?,
        filename: r.try_get("filename")?,
        content_type: r.try_get("content_type")?,
        size: r.try_get("size")?,
    })
}

pub async fn of_message(
    conn: &mut sqlx::AnyConnection,
    message_id: Uuid,
) -> AppResult<Vec<Attachment>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM attachments WHERE message_id = $1 ORDER BY created_at, id"
    ))
    .bind(message_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// A conversation's sent attachments, by message.
pub async fn of_conversation(
    conn: &mut sqlx::AnyConnection,
    conversation_id: Uuid,
) -> AppResult<HashMap<Uuid, Vec<Attachment>>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM attachments WHERE conversation_id = $1 AND message_id IS NOT NULL ORDER BY created_at, id"
    ))
    .bind(conversation_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let mut out: HashMap<Uuid, Vec<Attachment>> = HashMap::new();
    for r in &rows {
        let message = uuid(&r.try_get::<String, _>("message_id")?)?;
        out.entry(message).or_default().push(from_row(r)?);
    }
    Ok(out)
}

/// Attaches the caller's unsent uploads in this conversation to a message.
pub async fn link(
    tx: &mut Tx,
    actor: &Actor,
    conversation_id: Uuid,
    message_id: Uuid,
    ids: &[Uuid],
) -> AppResult<()> {
    for id in ids {
        let done = sqlx::query(
            "UPDATE attachments SET message_id = $1
             WHERE id = $2 AND conversation_id = $3 AND uploader_id = $4 AND message_id IS NULL",
        )
        .bind(message_id.to_string())
        .bind(id.to_string())
        .bind(conversation_id.to_string())
        .bind(actor.user_id.to_string())
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(invalid("attachment_ids", "unknown_or_already_sent"));
        }
    }
    Ok(())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct UploadQuery {
    /// The name shown to the other side (kept to 200 characters).
    pub filename: String,
}

/// Uploads an image (PNG, JPEG, GIF, WebP) or PDF of at most 10 MB into a
/// conversation, as the raw request body. The type is judged from the bytes.
/// Repeating the same upload is harmless.
#[utoipa::path(put, path = "/api/v1/conversations/{conversation_id}/attachments/{id}", tag = "conversations",
    security(("bearer" = [])),
    params(("conversation_id" = Uuid, Path), ("id" = Uuid, Path), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = Attachment), (status = 404, body = mostrador_core::ApiError),
              (status = 413, body = mostrador_core::ApiError), (status = 422, body = mostrador_core::ApiError)))]
#[tracing::instrument(skip_all, fields(user.id = %actor.user_id, size = body.len()))]
pub async fn upload(
    State(state): State<AppState>,
    actor: Actor,
    Path((conversation_id, id)): Path<(Uuid, Uuid)>,
    Query(q): Query<UploadQuery>,
    RawBody(body): RawBody,
) -> AppResult<(StatusCode, Json<Attachment>)> {
    let filename: String = q
        .filename
        .trim()
        .chars()
        .filter(|c| !c.is_control() && *c != '/' && *c != '\\')
        .take(200)
        .collect();
    if filename.is_empty() {
        return Err(invalid("filename", "required"));
    }
    let content_type =
        sniff_attachment(&body).ok_or_else(|| invalid("file", "not_an_image_or_pdf"))?;
    let mut tx = state.db.begin_write().await?;
    visible_conversation(&mut tx, &actor, conversation_id).await?;
    let existing = sqlx::query(&format!("SELECT {COLUMNS} FROM attachments WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await?;
    if let Some(row) = existing {
        let same = row.try_get::<String, _>("uploader_id")? == actor.user_id.to_string()
            && row.try_get::<i64, _>("size")? == body.len() as i64;
        let att = from_row(&row)?;
        if same && att.conversation_id == conversation_id {
            return Ok((StatusCode::CREATED, Json(att)));
        }
        return Err(AppError::new(
            ErrorCode::Conflict,
            "attachment id already in use",
        ));
    }
    let dir = &state.config.upload_dir;
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(anyhow::Error::from)?;
    let final_path = dir.join(id.to_string());
    let tmp_path = dir.join(format!("{id}.part"));
    tokio::fs::write(&tmp_path, &body)
        .await
        .map_err(anyhow::Error::from)?;
    tokio::fs::rename(&tmp_path, &final_path)
        .await
        .map_err(anyhow::Error::from)?;
    let inserted = sqlx::query(
        "INSERT INTO attachments (id, conversation_id, uploader_id, message_id, filename, content_type, size, created_at)
         VALUES ($1, $2, $3, NULL, $4, $5, $6, $7)",
    )
    .bind(id.to_string())
    .bind(conversation_id.to_string())
    .bind(actor.user_id.to_string())
    .bind(&filename)
    .bind(content_type)
    .bind(body.len() as i64)
    .bind(now_ms())
    .execute(&mut *tx)
    .await;
    let committed = match inserted {
        Ok(_) => tx.commit().await.map_err(AppError::from),
        Err(e) => Err(e.into()),
    };
    if let Err(err) = committed {
        let _ = tokio::fs::remove_file(&final_path).await;
        return Err(err);
    }
    Ok((
        StatusCode::CREATED,
        Json(Attachment {
            id,
            conversation_id,
            filename,
            content_type: content_type.into(),
            size: body.len() as i64,
        }),
    ))
}

/// The bytes of an attachment, to those who may see its message (uploads
/// not yet sent: their uploader and staff; internal notes: staff).
#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "conversations", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"),
              (status = 404, body = mostrador_core::ApiError)))]
pub async fn download(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let mut conn = state.db.pool().acquire().await?;
    let row = sqlx::query(
        "SELECT a.conversation_id, a.content_type, a.filename, a.uploader_id, a.message_id, m.kind
         FROM attachments a LEFT JOIN messages m ON m.id = a.message_id WHERE a.id = $1",
    )
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| AppError::not_found("attachment"))?;
    let conversation_id = uuid(&row.try_get::<String, _>("conversation_id")?)?;
    visible_conversation(&mut conn, &actor, conversation_id)
        .await
        .map_err(|_| AppError::not_found("attachment"))?;
    let unsent = row.try_get::<Option<String>, _>("message_id")?.is_none();
    let note = row.try_get::<Option<String>, _>("kind")?.as_deref() == Some("note");
    let own = row.try_get::<String, _>("uploader_id")? == actor.user_id.to_string();
    if !actor.is_staff() && ((unsent && !own) || note) {
        return Err(AppError::not_found("attachment"));
    }
    let bytes = tokio::fs::read(state.config.upload_dir.join(id.to_string()))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("attachment {id} unreadable: {e}")))?;
    let content_type: String = row.try_get("content_type")?;
    let filename: String = row.try_get("filename")?;
    let disposition = format!("inline; filename=\"{}\"", filename.replace('"', "'"));
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::HeaderName::from_static("x-content-type-options"),
                "nosniff".to_owned(),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// Removes files in the upload directory that no attachment row refers to
/// (after an account deletion committed). Best effort; never fails a request.
pub async fn sweep_orphans(state: &AppState) {
    let known: Vec<String> = match sqlx::query_scalar("SELECT id FROM attachments")
        .fetch_all(state.db.pool())
        .await
    {
        Ok(ids) => ids,
        Err(err) => {
            tracing::warn!(error = %err, "upload sweep: could not list attachments");
            return;
        }
    };
    let known: std::collections::HashSet<String> = known.into_iter().collect();
    let Ok(mut dir) = tokio::fs::read_dir(&state.config.upload_dir).await else {
        return;
    };
    while let Ok(Some(entry)) = dir.next_entry().await {
        let name = entry.file_name().to_string_lossy().into_owned();
        if Uuid::parse_str(&name).is_ok() && !known.contains(&name) {
            if let Err(err) = tokio::fs::remove_file(entry.path()).await {
                tracing::warn!(error = %err, "upload sweep: could not remove a file");
            }
        }
    }
}
