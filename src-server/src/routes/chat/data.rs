//! Conversations, messages and their attachments as stored: columns, row
//! mapping and reads. No authorization here (that is `crate::authz`, which
//! reads through this module) and no HTTP; the chat writes, the chat and
//! attachment routes, sync and the live socket all read through it.

use std::collections::HashMap;

use mostrador_core::auth::Role;
use mostrador_core::chat::{
    Attachment, Conversation, ConversationStatus, ConversationThread, Message, MessageKind,
    MessageState, Rating,
};
use sqlx::Row;
use uuid::Uuid;

use crate::db::{fetch_in, opt_uuid, ts, uuid};
use crate::error::AppResult;

pub(crate) const CONV_COLUMNS: &str =
    "id, customer_id, order_id, subject, status, assigned_agent_id, rating_score,
    rating_comment, created_at, updated_at, last_message_at";

pub(crate) fn conversation_from_row(r: &sqlx::any::AnyRow) -> AppResult<Conversation> {
    let score: Option<i64> = r.try_get("rating_score")?;
    Ok(Conversation {
        id: uuid(&r.try_get::<String, _>("id")?)?,
        customer_id: uuid(&r.try_get::<String, _>("customer_id")?)?,
        order_id: opt_uuid(r.try_get("order_id")?)?,
        subject: r.try_get("subject")?,
        status: ConversationStatus::parse(&r.try_get::<String, _>("status")?)
            .unwrap_or(ConversationStatus::Open),
        assigned_agent_id: opt_uuid(r.try_get("assigned_agent_id")?)?,
        rating: score.map(|score| Rating {
            score,
            comment: r.try_get("rating_comment").ok().flatten(),
        }),
        created_at: ts(r.try_get("created_at")?),
        updated_at: ts(r.try_get("updated_at")?),
        last_message_at: r.try_get::<Option<i64>, _>("last_message_at")?.map(ts),
    })
}

pub(crate) const MESSAGE_COLUMNS: &str =
    "m.id, m.conversation_id, m.author_id, m.author_role, u.display_name AS author_name,
    m.kind, m.body, m.state, m.created_at";

pub(crate) fn message_from_row(r: &sqlx::any::AnyRow) -> AppResult<Message> {
    let kind: String = r.try_get("kind")?;
    let state: String = r.try_get("state")?;
    Ok(Message {
        id: uuid(&r.try_get::<String, _>("id")?)?,
        conversation_id: uuid(&r.try_get::<String, _>("conversation_id")?)?,
        author_id: uuid(&r.try_get::<String, _>("author_id")?)?,
        author_role: Role::parse(&r.try_get::<String, _>("author_role")?).unwrap_or(Role::Customer),
        author_name: r.try_get("author_name")?,
        kind: MessageKind::parse(&kind).unwrap_or(MessageKind::Text),
        body: r.try_get("body")?,
        state: MessageState::parse(&state).unwrap_or(MessageState::Sent),
        created_at: ts(r.try_get("created_at")?),
        attachments: Vec::new(),
    })
}

/// A conversation by id, whoever may see it (see `authz::visible_conversation`).
pub async fn load_conversation(
    conn: &mut sqlx::AnyConnection,
    id: Uuid,
) -> AppResult<Option<Conversation>> {
    let row = sqlx::query(&format!(
        "SELECT {CONV_COLUMNS} FROM conversations WHERE id = $1"
    ))
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(conversation_from_row).transpose()
}

/// A message with its attachments, by id: one statement, a second only
/// when it has attachments.
pub async fn load_message(conn: &mut sqlx::AnyConnection, id: Uuid) -> AppResult<Option<Message>> {
    let row = sqlx::query(&format!(
        "SELECT {MESSAGE_COLUMNS},
            (SELECT COUNT(*) FROM attachments a
             WHERE a.conversation_id = m.conversation_id AND a.message_id = m.id) AS files
         FROM messages m JOIN users u ON u.id = m.author_id WHERE m.id = $1"
    ))
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let mut message = message_from_row(&row)?;
    if row.try_get::<i64, _>("files")? > 0 {
        message.attachments = of_message(conn, id).await?;
    }
    Ok(Some(message))
}

/// [`load_conversation`] for many ids at once, in one statement: those
/// that exist, by id.
pub async fn load_conversations(
    conn: &mut sqlx::AnyConnection,
    ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Conversation>> {
    let sql = format!("SELECT {CONV_COLUMNS} FROM conversations WHERE id IN ({{in}})");
    let rows = fetch_in(conn, &sql, ids).await?;
    rows.iter()
        .map(|r| conversation_from_row(r).map(|c| (c.id, c)))
        .collect()
}

/// [`load_message`] for many ids at once: one statement for the
/// messages, a second for the attachments of those that have any. Those
/// that exist, by id.
pub async fn load_messages(
    conn: &mut sqlx::AnyConnection,
    ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Message>> {
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS},
                (SELECT COUNT(*) FROM attachments a
                 WHERE a.conversation_id = m.conversation_id AND a.message_id = m.id) AS files
             FROM messages m JOIN users u ON u.id = m.author_id WHERE m.id IN ({{in}})"
    );
    let rows = fetch_in(conn, &sql, ids).await?;
    let mut out = HashMap::with_capacity(rows.len());
    let mut with_files = Vec::new();
    for r in &rows {
        let m = message_from_row(r)?;
        if r.try_get::<i64, _>("files")? > 0 {
            with_files.push(m.id);
        }
        out.insert(m.id, m);
    }
    if !with_files.is_empty() {
        let sql = format!(
            "SELECT {ATTACHMENT_COLUMNS} FROM attachments
                 WHERE message_id IN ({{in}}) ORDER BY created_at, id"
        );
        for r in fetch_in(conn, &sql, &with_files).await? {
            let message = uuid(&r.try_get::<String, _>("message_id")?)?;
            if let Some(m) = out.get_mut(&message) {
                m.attachments.push(attachment_from_row(&r)?);
            }
        }
    }
    Ok(out)
}

/// A conversation with its messages and their attachments; internal
/// notes only when `with_notes` (staff).
pub async fn thread(
    conn: &mut sqlx::AnyConnection,
    conversation: Conversation,
    with_notes: bool,
) -> AppResult<ConversationThread> {
    let notes = if with_notes {
        ""
    } else {
        " AND m.kind = 'text'"
    };
    let rows = sqlx::query(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages m JOIN users u ON u.id = m.author_id
         WHERE m.conversation_id = $1{notes} ORDER BY m.created_at, m.id"
    ))
    .bind(conversation.id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let mut messages: Vec<Message> = rows
        .iter()
        .map(message_from_row)
        .collect::<AppResult<_>>()?;
    let mut files = of_conversation(conn, conversation.id).await?;
    for m in &mut messages {
        m.attachments = files.remove(&m.id).unwrap_or_default();
    }
    Ok(ConversationThread {
        conversation,
        messages,
    })
}

pub(crate) const ATTACHMENT_COLUMNS: &str =
    "id, conversation_id, filename, content_type, size, message_id, uploader_id";

pub(crate) fn attachment_from_row(r: &sqlx::any::AnyRow) -> AppResult<Attachment> {
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
        "SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE message_id = $1 ORDER BY created_at, id"
    ))
    .bind(message_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(attachment_from_row).collect()
}

/// A conversation's sent attachments, by message.
pub async fn of_conversation(
    conn: &mut sqlx::AnyConnection,
    conversation_id: Uuid,
) -> AppResult<HashMap<Uuid, Vec<Attachment>>> {
    let rows = sqlx::query(&format!(
        "SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE conversation_id = $1 AND message_id IS NOT NULL ORDER BY created_at, id"
    ))
    .bind(conversation_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let mut out: HashMap<Uuid, Vec<Attachment>> = HashMap::new();
    for r in &rows {
        let message = uuid(&r.try_get::<String, _>("message_id")?)?;
        out.entry(message)
            .or_default()
            .push(attachment_from_row(r)?);
    }
    Ok(out)
}
