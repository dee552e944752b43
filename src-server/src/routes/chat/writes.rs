//! The chat writes. Each takes a transaction, checks its input and who
//! may do it, writes and records its feed changes; the REST handlers and
//! `POST /api/v1/sync/push` (and the demo data) share them, so both paths
//! behave identically.

use mostrador_core::auth::Role;
use mostrador_core::chat::{
    Conversation, ConversationStatus, MarkMessages, Message, MessageKind, MessageState,
    OpenConversation, Rating, SendMessage, UpdateConversation, MAX_SUBJECT_CHARS,
};
use mostrador_core::{ApiError, ErrorCode};
use sqlx::Row;
use uuid::Uuid;

use super::data::{conversation_from_row, load_conversation, of_message, CONV_COLUMNS};
use crate::auth::Actor;
use crate::authz::visible_conversation;
use crate::db::{now_ms, ts, uuid, Together, Tx, Value};
use crate::error::{AppError, AppResult};
use crate::extract::{check_text, invalid};
use crate::feed::{self, Change, Entity};

/// A message body as stored: core's one check (`chat::check_body`), which
/// the engine also runs before queueing.
fn check_body(body: &str, with_attachments: bool) -> AppResult<String> {
    mostrador_core::chat::check_body(body, with_attachments)
        .map(str::to_owned)
        .map_err(AppError::Api)
}

/// Staff presence as auto-assignment needs it. The live hub implements it;
/// chat never names the transport (demo data and benches pass nobody).
pub trait Presence {
    /// Staff members connected and available now.
    fn available_staff(&self) -> Vec<Uuid>;
}

/// Who may take a new conversation: the agents available now, and how many
/// open conversations one may hold.
#[derive(Debug, Clone, Default)]
pub struct Assignment {
    pub available: Vec<Uuid>,
    pub max_open: i64,
}

impl Assignment {
    /// Who is available now (from `presence`), at most `max_open` open
    /// conversations each (`--agent-max-open`).
    pub fn now(presence: &dyn Presence, max_open: i64) -> Self {
        Self {
            available: presence.available_staff(),
            max_open,
        }
    }
}

/// The available agent with the fewest open conversations, under the
/// limit (ties: the lowest id, so the choice is reproducible); `None` when
/// nobody can take it.
pub async fn pick_agent(tx: &mut Tx, assign: &Assignment) -> AppResult<Option<Uuid>> {
    if assign.available.is_empty() {
        return Ok(None);
    }
    let rows = sqlx::query(
        "SELECT assigned_agent_id, COUNT(*) AS n FROM conversations
         WHERE status <> 'resolved' AND assigned_agent_id IS NOT NULL GROUP BY assigned_agent_id",
    )
    .fetch_all(&mut **tx)
    .await?;
    let mut load = std::collections::HashMap::new();
    for r in rows {
        let id: String = r.try_get("assigned_agent_id")?;
        load.insert(id, r.try_get::<i64, _>("n")?);
    }
    let mut candidates: Vec<(i64, Uuid)> = assign
        .available
        .iter()
        .map(|a| (load.get(&a.to_string()).copied().unwrap_or(0), *a))
        .filter(|(n, _)| *n < assign.max_open)
        .collect();
    candidates.sort();
    Ok(candidates.first().map(|(_, a)| *a))
}

/// Opens a conversation with its first message (customers only), and
/// assigns it to the least loaded available agent.
pub async fn open(
    tx: &mut Tx,
    actor: &Actor,
    req: &OpenConversation,
    assign: &Assignment,
) -> AppResult<Vec<Uuid>> {
    if actor.role != Role::Customer {
        return Err(AppError::new(
            ErrorCode::Forbidden,
            "only customers open conversations",
        ));
    }
    let subject = req.subject.trim();
    if subject.is_empty() {
        return Err(invalid("subject", "required"));
    }
    if subject.chars().count() > MAX_SUBJECT_CHARS {
        return Err(invalid("subject", "too_long"));
    }
    check_text("subject", subject)?;
    let body = check_body(&req.body, false)?;
    if let Some(existing) = load_conversation(tx, req.id).await? {
        // The same request again (e.g. resent after a lost answer).
        if existing.customer_id == actor.user_id {
            return Ok(vec![req.id, req.message_id]);
        }
        return Err(AppError::new(
            ErrorCode::Conflict,
            "conversation id already in use",
        ));
    }
    if let Some(order_id) = req.order_id {
        let owner: Option<Option<String>> =
            sqlx::query_scalar("SELECT customer_id FROM orders WHERE id = $1")
                .bind(order_id.to_string())
                .fetch_optional(&mut **tx)
                .await?;
        if owner.flatten() != Some(actor.user_id.to_string()) {
            return Err(AppError::not_found("order"));
        }
    }
    let now = now_ms();
    sqlx::query(
        "INSERT INTO conversations (id, customer_id, order_id, subject, status, assigned_agent_id, rating_score,
            rating_comment, created_at, updated_at, last_message_at)
         VALUES ($1, $2, $3, $4, 'open', NULL, NULL, NULL, $5, $5, $5)",
    )
    .bind(req.id.to_string())
    .bind(actor.user_id.to_string())
    .bind(req.order_id.map(|o| o.to_string()))
    .bind(subject)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    insert_message(
        tx,
        actor,
        req.id,
        req.message_id,
        MessageKind::Text,
        &body,
        now,
    )
    .await?;
    if let Some(agent) = pick_agent(tx, assign).await? {
        sqlx::query("UPDATE conversations SET assigned_agent_id = $1 WHERE id = $2")
            .bind(agent.to_string())
            .bind(req.id.to_string())
            .execute(&mut **tx)
            .await?;
    }
    feed::record_all(
        tx,
        &[
            Change::upsert(Entity::Conversation, req.id, Some(actor.user_id)),
            Change::upsert(Entity::Message, req.message_id, Some(actor.user_id)),
        ],
    )
    .await?;
    Ok(vec![req.id, req.message_id])
}

/// Inserts a message, timestamped strictly after the conversation's
/// latest; 409 when its id is taken.
async fn insert_message(
    tx: &mut Tx,
    actor: &Actor,
    conversation_id: Uuid,
    id: Uuid,
    kind: MessageKind,
    body: &str,
    now: i64,
) -> AppResult<i64> {
    // Strictly increasing within a conversation, so messages written in the
    // same millisecond keep the order they were written in.
    let latest: Option<i64> =
        sqlx::query_scalar("SELECT MAX(created_at) FROM messages WHERE conversation_id = $1")
            .bind(conversation_id.to_string())
            .fetch_one(&mut **tx)
            .await?;
    let now = latest.map_or(now, |l| now.max(l + 1));
    let taken: Option<String> = sqlx::query_scalar("SELECT id FROM messages WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut **tx)
        .await?;
    if taken.is_some() {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "message id already in use",
        ));
    }
    let mut insert = Together::on(tx);
    insert.push(
        MESSAGE_INSERT,
        message_row(actor, conversation_id, id, kind, body, now),
    );
    insert.run(tx).await?;
    Ok(now)
}

const MESSAGE_INSERT: &str =
    "INSERT INTO messages (id, conversation_id, author_id, author_role, kind, body, state, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, 'sent', $7)";

/// The parameters of [`MESSAGE_INSERT`]: the message's row, at `now`.
pub(super) fn message_row(
    actor: &Actor,
    conversation_id: Uuid,
    id: Uuid,
    kind: MessageKind,
    body: &str,
    now: i64,
) -> Vec<Value> {
    vec![
        id.to_string().into(),
        conversation_id.to_string().into(),
        actor.user_id.to_string().into(),
        actor.role.as_str().into(),
        kind.as_str().into(),
        body.into(),
        now.into(),
    ]
}

/// Adds a message (or, for staff, an internal note) to a conversation.
pub async fn send(
    tx: &mut Tx,
    actor: &Actor,
    conversation_id: Uuid,
    req: &SendMessage,
) -> AppResult<Vec<Uuid>> {
    send_in(tx, actor, conversation_id, req).await?;
    Ok(vec![req.id])
}

/// What a send checks, read in one statement: the conversation, its
/// latest message's time, and whether the id is already a message (1: this
/// same message, sent before; 2: another one).
async fn send_facts(
    tx: &mut Tx,
    actor: &Actor,
    conversation_id: Uuid,
    id: Uuid,
    body: &str,
) -> AppResult<Option<(Conversation, Option<i64>, Option<i64>)>> {
    let row = sqlx::query(&format!(
        "SELECT {CONV_COLUMNS},
            (SELECT MAX(m.created_at) FROM messages m WHERE m.conversation_id = $1) AS latest_message_at,
            (SELECT CASE WHEN e.author_id = $3 AND e.conversation_id = $1 AND e.body = $4 THEN 1 ELSE 2 END
             FROM messages e WHERE e.id = $2) AS existing
         FROM conversations WHERE id = $1"
    ))
    .bind(conversation_id.to_string())
    .bind(id.to_string())
    .bind(actor.user_id.to_string())
    .bind(body)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some((
        conversation_from_row(&row)?,
        row.try_get("latest_message_at")?,
        row.try_get("existing")?,
    )))
}

/// [`send`], answering the message as stored, built from the values in
/// hand (`None` when it was sent before: the same request again).
/// Statements: the checks' read, the insert, the conversation's update
/// (text only) and the feed's two (attachments add theirs).
pub async fn send_in(
    tx: &mut Tx,
    actor: &Actor,
    conversation_id: Uuid,
    req: &SendMessage,
) -> AppResult<Option<Message>> {
    let body = check_body(&req.body, !req.attachment_ids.is_empty());
    let facts = send_facts(
        tx,
        actor,
        conversation_id,
        req.id,
        body.as_deref().unwrap_or(""),
    )
    .await?;
    let (conv, latest, existing) = match facts {
        Some((c, latest, existing)) if actor.can_see_customer(c.customer_id) => {
            (c, latest, existing)
        }
        _ => return Err(AppError::not_found("conversation")),
    };
    if req.kind == MessageKind::Note && !actor.is_staff() {
        return Err(AppError::new(
            ErrorCode::Forbidden,
            "internal notes are for support staff",
        ));
    }
    let body = body?;
    match existing {
        None => {}
        Some(1) => return Ok(None),
        Some(_) => {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "message id already in use",
            ))
        }
    }
    // Strictly increasing within a conversation, so messages written in the
    // same millisecond keep the order they were written in.
    let now = now_ms();
    let now = latest.map_or(now, |l| now.max(l + 1));
    // The writes go in one call (`db::Together`): the values are in hand,
    // each on its own row.
    // Attachments are linked to the message once it exists.
    let mut writes = Together::on(tx);
    writes.push(
        MESSAGE_INSERT,
        message_row(actor, conversation_id, req.id, req.kind, &body, now),
    );
    if !req.attachment_ids.is_empty() {
        writes.run(tx).await?;
        link(tx, actor, conversation_id, req.id, &req.attachment_ids).await?;
    }
    let message_change = message_change(req, conv.customer_id);
    if req.kind == MessageKind::Text {
        let mut conv = conv;
        after_text(&mut conv, actor);
        push_conversation_update(&mut writes, &conv, now);
        let conversation_change = Change::upsert(
            Entity::Conversation,
            conversation_id,
            Some(conv.customer_id),
        );
        feed::push_changes(&mut writes, &[conversation_change, message_change]);
    } else {
        feed::push_changes(&mut writes, &[message_change]);
    }
    writes.run(tx).await?;
    let attachments = if req.attachment_ids.is_empty() {
        Vec::new()
    } else {
        of_message(tx, req.id).await?
    };
    Ok(Some(sent_message(
        actor,
        conversation_id,
        req,
        body,
        now,
        attachments,
    )))
}

/// The answer to a send: the message as stored at `now`.
pub(super) fn sent_message(
    actor: &Actor,
    conversation_id: Uuid,
    req: &SendMessage,
    body: String,
    now: i64,
    attachments: Vec<mostrador_core::chat::Attachment>,
) -> Message {
    Message {
        id: req.id,
        conversation_id,
        author_id: actor.user_id,
        author_role: actor.role,
        author_name: actor.display_name.clone(),
        kind: req.kind,
        body,
        state: MessageState::Sent,
        created_at: ts(now),
        attachments,
    }
}

/// The feed's row for a sent message (a note is staff-only).
pub(super) fn message_change(req: &SendMessage, customer_id: Uuid) -> Change {
    Change {
        staff_only: req.kind == MessageKind::Note,
        ..Change::upsert(Entity::Message, req.id, Some(customer_id))
    }
}

/// A conversation after `actor`'s text message: a customer writing again
/// reopens it; an agent replying claims it when unassigned.
pub(super) fn after_text(conv: &mut Conversation, actor: &Actor) {
    if actor.is_staff() {
        conv.assigned_agent_id = conv.assigned_agent_id.or(Some(actor.user_id));
    } else {
        conv.status = ConversationStatus::Open;
    }
}

/// Adds the update of `conv` after a text message at `now`: its status,
/// assignee and times.
pub(super) fn push_conversation_update(writes: &mut Together, conv: &Conversation, now: i64) {
    writes.push(
        "UPDATE conversations SET status = $1, assigned_agent_id = $2, updated_at = $3, last_message_at = $3 WHERE id = $4",
        conversation_update(conv, now),
    );
}

/// The values of a conversation's update after a text message at `now`:
/// status, assignee, time, id.
pub(super) fn conversation_update(conv: &Conversation, now: i64) -> Vec<Value> {
    vec![
        conv.status.as_str().into(),
        conv.assigned_agent_id.map(|a| a.to_string()).into(),
        now.into(),
        conv.id.to_string().into(),
    ]
}

/// Marks the other side's messages up to `up_to` as delivered or read
/// (states only move forward).
pub async fn mark(
    tx: &mut Tx,
    actor: &Actor,
    conversation_id: Uuid,
    req: &MarkMessages,
) -> AppResult<Vec<Uuid>> {
    let conv = visible_conversation(tx, actor, conversation_id).await?;
    if req.state == MessageState::Sent {
        return Err(invalid("state", "must_be_delivered_or_read"));
    }
    let anchor: Option<i64> = sqlx::query_scalar(
        "SELECT created_at FROM messages WHERE id = $1 AND conversation_id = $2",
    )
    .bind(req.up_to.to_string())
    .bind(conversation_id.to_string())
    .fetch_optional(&mut **tx)
    .await?;
    let anchor = anchor.ok_or_else(|| AppError::not_found("message"))?;
    // The state's rank in the CASE below (sent 0, delivered 1, read 2):
    // `MessageState` is declared in that order.
    let (state, rank) = (req.state.as_str(), req.state as i64);
    let other_side = if actor.is_staff() {
        "author_role = 'customer'"
    } else {
        "author_role <> 'customer' AND kind = 'text'"
    };
    let ids: Vec<String> = sqlx::query_scalar(&format!(
        "UPDATE messages SET state = $1
         WHERE conversation_id = $2 AND created_at <= $3 AND {other_side}
           AND (CASE state WHEN 'sent' THEN 0 WHEN 'delivered' THEN 1 ELSE 2 END) < $4
         RETURNING id"
    ))
    .bind(state)
    .bind(conversation_id.to_string())
    .bind(anchor)
    .bind(rank)
    .fetch_all(&mut **tx)
    .await?;
    let out = ids
        .iter()
        .map(|id| uuid(id))
        .collect::<Result<Vec<_>, _>>()?;
    let changes: Vec<Change> = out
        .iter()
        .map(|id| Change::upsert(Entity::Message, *id, Some(conv.customer_id)))
        .collect();
    if !changes.is_empty() {
        feed::record_all(tx, &changes).await?;
    }
    Ok(out)
}

/// Staff change a conversation's status or assignee (REST and push).
pub async fn update_in(
    tx: &mut Tx,
    actor: &Actor,
    id: Uuid,
    req: &UpdateConversation,
) -> AppResult<Vec<Uuid>> {
    actor.require_staff()?;
    let conv = visible_conversation(tx, actor, id).await?;
    let assignee = match req.assigned_agent_id {
        Some(Some(agent)) => {
            let ok: Option<String> = sqlx::query_scalar(
                "SELECT id FROM users WHERE id = $1 AND role IN ('agent', 'admin') AND disabled = 0",
            )
            .bind(agent.to_string())
            .fetch_optional(&mut **tx)
            .await?;
            if ok.is_none() {
                return Err(invalid("assigned_agent_id", "not_an_active_agent"));
            }
            Some(agent)
        }
        Some(None) => None,
        None => conv.assigned_agent_id,
    };
    let status = req.status.unwrap_or(conv.status);
    let now = now_ms();
    // When it was resolved (for the resolution-time metric); reopening clears it.
    let resolved_at = match (conv.status, status) {
        (_, ConversationStatus::Resolved) if conv.status != ConversationStatus::Resolved => {
            Some(now)
        }
        (ConversationStatus::Resolved, ConversationStatus::Resolved) => None,
        _ => None,
    };
    sqlx::query(
        "UPDATE conversations SET status = $1, assigned_agent_id = $2, updated_at = $3,
            resolved_at = CASE WHEN $4 = 'resolved' THEN COALESCE($5, resolved_at) ELSE NULL END
         WHERE id = $6",
    )
    .bind(status.as_str())
    .bind(assignee.map(|a| a.to_string()))
    .bind(now)
    .bind(status.as_str())
    .bind(resolved_at)
    .bind(id.to_string())
    .execute(&mut **tx)
    .await?;
    feed::record(
        tx,
        Change::upsert(Entity::Conversation, conv.id, Some(conv.customer_id)),
    )
    .await?;
    Ok(vec![id])
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

/// The customer rates a resolved conversation inside `tx` (shared with push).
pub async fn rate(tx: &mut Tx, actor: &Actor, id: Uuid, rating: &Rating) -> AppResult<Vec<Uuid>> {
    let rating = rating.clone().check().map_err(AppError::Api)?;
    let conv = visible_conversation(tx, actor, id).await?;
    if conv.customer_id != actor.user_id {
        return Err(AppError::new(
            ErrorCode::Forbidden,
            "only the customer rates a conversation",
        ));
    }
    if conv.status != ConversationStatus::Resolved {
        return Err(AppError::Api(ApiError::new(
            ErrorCode::Conflict,
            "a conversation can be rated once it is resolved",
        )));
    }
    sqlx::query("UPDATE conversations SET rating_score = $1, rating_comment = $2, updated_at = $3 WHERE id = $4")
        .bind(rating.score)
        .bind(rating.comment)
        .bind(now_ms())
        .bind(id.to_string())
        .execute(&mut **tx)
        .await?;
    feed::record(
        tx,
        Change::upsert(Entity::Conversation, id, Some(conv.customer_id)),
    )
    .await?;
    Ok(vec![id])
}
