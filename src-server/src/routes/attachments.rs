//! Attachments: images and PDFs up to 10 MB, typed by their bytes, stored
//! in the upload directory, served only to those who may see them.
//!
//! Upload is an idempotent `PUT` with a client-chosen id, so an app can
//! resend it from its outbox.
//!
//! Files and rows, and the orphan sweep: an upload writes its bytes to a
//! temporary name (`<id>.<random>.part`) before its transaction, commits the
//! row, and only then renames the file to its final name (`<id>`). So a
//! file under a final name always has a committed row (or had one that was
//! deleted since). `sweep_orphans` (run after an account deletion commits)
//! first lists the directory, then reads the attachment ids: every final
//! name it listed was renamed after its row committed, so that read sees the
//! row, and a file still being uploaded is never a candidate (it has a
//! `.part` name). It removes listed final names without a row, and `.part`
//! files older than [`STALE_PART`] (left by a crash; no upload takes that
//! long). A failed rename after the commit leaves a row without a file: the
//! upload answers 500, and the client's retry (same id) finds the row and
//! puts the file in place. Every file the sweep cannot remove is logged.
//!
//! Uploads not yet attached to a message are bounded per person
//! ([`MAX_UNSENT_UPLOADS`], [`MAX_UNSENT_UPLOAD_BYTES`]; 409 beyond), and
//! those never attached are deleted, row then file, once older than
//! `--unattached-upload-hours` ([`remove_unattached`], run hourly).

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use mostrador_core::chat::{sniff_attachment, Attachment, MessageKind, MAX_ATTACHMENT_BYTES};
use mostrador_core::ErrorCode;
use serde::Deserialize;
use sqlx::Row;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Actor;
use crate::authz::visible_conversation;
use crate::db::{now_ms, uuid, Tx};
use crate::error::{AppError, AppResult};
use crate::extract::{invalid, Json, Path, Query, RawBody};
use crate::routes::chat::data::{attachment_from_row as from_row, ATTACHMENT_COLUMNS as COLUMNS};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload))
        .layer(DefaultBodyLimit::max(MAX_ATTACHMENT_BYTES))
        .routes(routes!(download))
}

/// Most uploads one person may hold that are not attached to a message yet
/// (sent uploads do not count). One more is refused with 409, `details.reason`
/// `too_many_unsent_uploads`.
pub const MAX_UNSENT_UPLOADS: i64 = 20;
/// Most bytes one person's unsent uploads may take together (409,
/// `unsent_uploads_too_large`).
pub const MAX_UNSENT_UPLOAD_BYTES: i64 = 50 * 1024 * 1024;

/// How old a temporary upload file must be before the sweep removes it.
pub const STALE_PART: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct UploadQuery {
    /// The name shown to the other side (kept to 200 characters).
    pub filename: String,
}

/// Uploads an image (PNG, JPEG, GIF, WebP) or PDF of at most 10 MB into a
/// conversation, as the raw request body. The type is judged from the bytes.
/// Repeating the same upload is harmless. At most 20 uploads (50 MB) per
/// person may wait unsent: beyond, 409 with `details.reason`
/// `too_many_unsent_uploads` or `unsent_uploads_too_large`.
#[utoipa::path(put, path = "/api/v1/conversations/{conversation_id}/attachments/{id}", tag = "conversations",
    security(("bearer" = [])),
    params(("conversation_id" = Uuid, Path), ("id" = Uuid, Path), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = Attachment), (status = 404, body = mostrador_core::ApiError),
              (status = 409, description = "The attachment id is in use by another upload, or the unsent-attachment quota is full (`details.reason`, `details.limit`)", body = mostrador_core::ApiError),
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
        .filter(|c| !c.is_control() && *c != '/' && *c != '\\' && !is_bidi_control(*c))
        .take(200)
        .collect();
    if filename.is_empty() {
        return Err(invalid("filename", "required"));
    }
    let content_type =
        sniff_attachment(&body).ok_or_else(|| invalid("file", "not_an_image_or_pdf"))?;
    // The bytes go to a temporary name first, outside the write lock.
    let dir = &state.config.upload_dir;
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(anyhow::Error::from)?;
    let final_path = dir.join(id.to_string());
    let tmp_path = dir.join(format!("{id}.{}.part", Uuid::new_v4().simple()));
    tokio::fs::write(&tmp_path, &body)
        .await
        .map_err(anyhow::Error::from)?;
    let stored = match store_row(
        &state,
        &actor,
        conversation_id,
        id,
        &filename,
        content_type,
        &body,
    )
    .await
    {
        Ok(stored) => stored,
        Err(err) => {
            remove_quietly(&tmp_path).await;
            return Err(err);
        }
    };
    // Committed now, or committed earlier by the same upload (a resend):
    // the file goes in place unless it is there already.
    let missing = match &stored {
        Stored::New => true,
        Stored::Again(_) => !tokio::fs::try_exists(&final_path).await.unwrap_or(false),
    };
    if missing {
        if let Err(err) = tokio::fs::rename(&tmp_path, &final_path).await {
            remove_quietly(&tmp_path).await;
            return Err(
                anyhow::anyhow!("attachment {id}: moving the file into place: {err}").into(),
            );
        }
    } else {
        remove_quietly(&tmp_path).await;
    }
    if let Stored::Again(att) = stored {
        return Ok((StatusCode::CREATED, Json(att)));
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

/// What `store_row` found.
enum Stored {
    /// The row was committed now.
    New,
    /// The same upload was stored before.
    Again(Attachment),
}

/// Checks the caller may upload here and commits the attachment's row.
async fn store_row(
    state: &AppState,
    actor: &Actor,
    conversation_id: Uuid,
    id: Uuid,
    filename: &str,
    content_type: &str,
    body: &[u8],
) -> AppResult<Stored> {
    let mut tx = state.db.begin_write().await?;
    visible_conversation(&mut tx, actor, conversation_id).await?;
    let existing = sqlx::query(&format!("SELECT {COLUMNS} FROM attachments WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await?;
    if let Some(row) = existing {
        let same = row.try_get::<String, _>("uploader_id")? == actor.user_id.to_string()
            && row.try_get::<i64, _>("size")? == body.len() as i64;
        let att = from_row(&row)?;
        if same && att.conversation_id == conversation_id {
            return Ok(Stored::Again(att));
        }
        return Err(AppError::new(
            ErrorCode::Conflict,
            "attachment id already in use",
        ));
    }
    check_unsent_quota(&mut tx, actor.user_id, body.len() as i64).await?;
    sqlx::query(
        "INSERT INTO attachments (id, conversation_id, uploader_id, message_id, filename, content_type, size, created_at)
         VALUES ($1, $2, $3, NULL, $4, $5, $6, $7)",
    )
    .bind(id.to_string())
    .bind(conversation_id.to_string())
    .bind(actor.user_id.to_string())
    .bind(filename)
    .bind(content_type)
    .bind(body.len() as i64)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Stored::New)
}

/// Refuses (409) an upload that would take the uploader past
/// [`MAX_UNSENT_UPLOADS`] or [`MAX_UNSENT_UPLOAD_BYTES`] of uploads not yet
/// attached to a message, so files parked without ever being sent cannot
/// fill the disk. Writers are serialised by `begin_write`, so parallel
/// uploads cannot all slip in under the limit.
async fn check_unsent_quota(tx: &mut Tx, uploader: Uuid, size: i64) -> AppResult<()> {
    // PostgreSQL sums a BIGINT as NUMERIC: cast back for the Any driver.
    let (count, bytes): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM attachments
         WHERE uploader_id = $1 AND message_id IS NULL",
    )
    .bind(uploader.to_string())
    .fetch_one(&mut **tx)
    .await?;
    let refuse = |reason: &str, message: &str, limit: i64| {
        AppError::Api(
            mostrador_core::ApiError::new(ErrorCode::Conflict, message)
                .with_details(serde_json::json!({ "reason": reason, "limit": limit })),
        )
    };
    if count >= MAX_UNSENT_UPLOADS {
        return Err(refuse(
            "too_many_unsent_uploads",
            "too many attachments waiting to be sent; send or discard some first",
            MAX_UNSENT_UPLOADS,
        ));
    }
    if bytes.saturating_add(size) > MAX_UNSENT_UPLOAD_BYTES {
        return Err(refuse(
            "unsent_uploads_too_large",
            "the attachments waiting to be sent are too large together; send some first",
            MAX_UNSENT_UPLOAD_BYTES,
        ));
    }
    Ok(())
}

async fn remove_quietly(path: &std::path::Path) {
    if let Err(err) = tokio::fs::remove_file(path).await {
        if err.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(error = %err, file = %path.display(), "could not remove a temporary upload");
        }
    }
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
    let note = row
        .try_get::<Option<String>, _>("kind")?
        .as_deref()
        .and_then(MessageKind::parse)
        == Some(MessageKind::Note);
    let own = row.try_get::<String, _>("uploader_id")? == actor.user_id.to_string();
    if !actor.is_staff() && ((unsent && !own) || note) {
        return Err(AppError::not_found("attachment"));
    }
    let bytes = tokio::fs::read(state.config.upload_dir.join(id.to_string()))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("attachment {id} unreadable: {e}")))?;
    let content_type: String = row.try_get("content_type")?;
    let filename: String = row.try_get("filename")?;
    let disposition = content_disposition(&filename);
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
/// (after an account deletion committed), and temporary files older than
/// [`STALE_PART`]. Safe against uploads in flight (see the module doc):
/// the directory is listed before the rows are read. Best effort; never
/// fails a request; every file it cannot remove is logged.
pub async fn sweep_orphans(state: &AppState) {
    let dir = &state.config.upload_dir;
    let mut listed: Vec<(String, std::path::PathBuf)> = Vec::new();
    let mut entries = match tokio::fs::read_dir(dir).await {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return,
        Err(err) => {
            tracing::warn!(error = %err, "upload sweep: could not list the upload directory");
            return;
        }
    };
    loop {
        match entries.next_entry().await {
            Ok(Some(entry)) => listed.push((
                entry.file_name().to_string_lossy().into_owned(),
                entry.path(),
            )),
            Ok(None) => break,
            Err(err) => {
                tracing::warn!(error = %err, "upload sweep: could not list the upload directory");
                return;
            }
        }
    }
    // Read after listing: every final name listed had its row committed.
    let known: std::collections::HashSet<String> =
        match sqlx::query_scalar("SELECT id FROM attachments")
            .fetch_all(state.db.pool())
            .await
        {
            Ok(ids) => ids.into_iter().collect(),
            Err(err) => {
                tracing::warn!(error = %err, "upload sweep: could not list attachments");
                return;
            }
        };
    for (name, path) in listed {
        let orphan = if Uuid::parse_str(&name).is_ok() {
            !known.contains(&name)
        } else if name.ends_with(".part") {
            stale(&path).await
        } else {
            false
        };
        if orphan {
            if let Err(err) = tokio::fs::remove_file(&path).await {
                if err.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!(error = %err, file = %name, "upload sweep: could not remove a file");
                }
            }
        }
    }
}

/// Deletes uploads never attached to a message that were made before
/// `now_ms - config.unattached_upload_retention`: their rows in one write
/// transaction (a row attached meanwhile no longer matches, and a `link`
/// after this commit finds no row and is refused), then their files. A file
/// that cannot be removed is logged; the orphan sweep retries it, since its
/// row is gone. Returns how many uploads were deleted. `now_ms` is a
/// parameter so tests can move the clock.
pub async fn remove_unattached(state: &AppState, now_ms: i64) -> AppResult<usize> {
    let retention =
        i64::try_from(state.config.unattached_upload_retention.as_millis()).unwrap_or(i64::MAX);
    let cutoff = now_ms.saturating_sub(retention);
    let mut tx = state.db.begin_write().await?;
    let ids: Vec<String> = sqlx::query_scalar(
        "DELETE FROM attachments WHERE message_id IS NULL AND created_at < $1 RETURNING id",
    )
    .bind(cutoff)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    for id in &ids {
        let path = state.config.upload_dir.join(id);
        if let Err(err) = tokio::fs::remove_file(&path).await {
            if err.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(error = %err, file = %id, "could not remove an unattached upload");
            }
        }
    }
    Ok(ids.len())
}

/// How often [`spawn_unattached_cleaner`] runs.
pub const UNATTACHED_CLEANUP_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Runs [`remove_unattached`] every [`UNATTACHED_CLEANUP_EVERY`] (the first
/// run one period after start), beside the change feed's pruner.
pub fn spawn_unattached_cleaner(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(UNATTACHED_CLEANUP_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            match remove_unattached(&state, now_ms()).await {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "unattached uploads deleted"),
                Err(e) => tracing::warn!(error = ?e, "unattached upload cleanup failed"),
            }
        }
    });
}

/// Whether a temporary upload file is older than [`STALE_PART`].
async fn stale(path: &std::path::Path) -> bool {
    let modified = match tokio::fs::metadata(path).await.and_then(|m| m.modified()) {
        Ok(t) => t,
        Err(_) => return false,
    };
    modified.elapsed().is_ok_and(|age| age > STALE_PART)
}

/// Direction overrides, isolates and marks: one rule for file names and
/// display names, kept in `mostrador_core::text`.
pub use mostrador_core::text::is_bidi_control;

/// `inline` with an ASCII `filename` fallback and the exact name as RFC 5987
/// `filename*` (UTF-8, percent-encoded); direction controls dropped.
pub fn content_disposition(filename: &str) -> String {
    let clean: String = filename
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c))
        .collect();
    let ascii: String = clean
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() || c == ' ') && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in clean.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("inline; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod disposition_tests {
    use super::*;

    #[test]
    fn downloads_name_files_in_ascii_and_rfc5987() {
        assert_eq!(
            content_disposition("fa\u{202E}fdp.exe"),
            "inline; filename=\"fafdp.exe\"; filename*=UTF-8''fafdp.exe"
        );
        assert_eq!(
            content_disposition("año \"1\".pdf"),
            "inline; filename=\"a_o _1_.pdf\"; filename*=UTF-8''a%C3%B1o%20%221%22.pdf"
        );
        assert!(is_bidi_control('\u{2066}') && !is_bidi_control('a'));
    }
}
