//! Sends written set-wise: the group commit's fast path for the writes the
//! server takes most (`crate::writer`).
//!
//! A run of queued sends (REST sends, and pushes whose every item is a
//! send) is checked with a few statements for the whole run and written
//! with a few more: one multi-row insert of the messages, one update per
//! conversation, the feed's rows in one insert, the pushes' idempotency
//! records in one insert. Per send that is a fraction of a database call,
//! where [`super::writes::send_in`] takes three or four and the group
//! commit two savepoints.
//!
//! Only the common case goes this way: every send new (no resend, no id
//! already in use, no push item seen before), valid, into a conversation
//! its author may see, its author still signed in (pushes), no
//! attachments. Anything else and [`run`] answers `None` before writing:
//! the writer then runs the same writes one by one through the ordinary
//! path, which gives each its own answer (a refusal, a replay). The rules
//! applied here are `send_in`'s and `sync::push`'s, item by item in queue
//! order, so the stored rows, the feed (its order and its rows) and the
//! answers are the ones the ordinary path gives; `tests/group_commit.rs`
//! runs the same writes both ways and compares.

use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use futures_util::future::BoxFuture;

use mostrador_core::chat::{Conversation, MessageKind, SendMessage};
use mostrador_core::sync::{Mutation, MutationOp, MutationOutcome, MutationResult};
use sqlx::Row;
use uuid::Uuid;

use super::data::{conversation_from_row, CONV_COLUMNS};
use super::writes::{after_text, conversation_update, message_change, message_row, sent_message};
use crate::auth::Actor;
use crate::db::{bind, fetch_in, in_order, insert_rows, is_sqlite, now_ms, uuid, Tx, Value};
use crate::error::AppResult;
use crate::feed::{self, Change, Entity};
use crate::writer::SetWise;

/// Most sends in one set-wise run (the writer splits longer runs).
pub const MAX_SENDS: usize = crate::writer::MAX_SET_WISE;

/// A write the fast path can take.
#[derive(Debug)]
pub enum SendWrite {
    /// `POST /api/v1/conversations/{id}/messages`, answered with the
    /// [`Message`] as stored.
    Rest {
        actor: Actor,
        conversation_id: Uuid,
        req: SendMessage,
    },
    /// `POST /api/v1/sync/push` whose items are all sends, answered with
    /// their results (`Vec<MutationResult>`).
    Push {
        actor: Actor,
        items: Vec<PushedSend>,
    },
}

/// One send of a push.
#[derive(Debug)]
pub struct PushedSend {
    pub client_id: Uuid,
    pub conversation_id: Uuid,
    pub req: SendMessage,
}

impl SendWrite {
    /// A REST send, when the fast path can take it (no attachments).
    pub fn rest(actor: &Actor, conversation_id: Uuid, req: &SendMessage) -> Option<Self> {
        req.attachment_ids.is_empty().then(|| SendWrite::Rest {
            actor: actor.clone(),
            conversation_id,
            req: req.clone(),
        })
    }

    /// A push, when the fast path can take it: one or more items, each a
    /// send without attachments.
    pub fn push(actor: &Actor, mutations: &[Mutation]) -> Option<Self> {
        if mutations.is_empty() {
            return None;
        }
        let items = mutations
            .iter()
            .map(|m| match &m.op {
                MutationOp::SendMessage {
                    conversation_id,
                    message,
                } if message.attachment_ids.is_empty() => Some(PushedSend {
                    client_id: m.client_id,
                    conversation_id: *conversation_id,
                    req: message.clone(),
                }),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()?;
        Some(SendWrite::Push {
            actor: actor.clone(),
            items,
        })
    }

    /// Itself, as the writer takes it (`Writer::write_send`).
    pub fn shared(self) -> Arc<dyn SetWise> {
        Arc::new(self)
    }

    /// How many sends it carries.
    pub fn sends(&self) -> usize {
        match self {
            SendWrite::Rest { .. } => 1,
            SendWrite::Push { items, .. } => items.len(),
        }
    }

    fn actor(&self) -> &Actor {
        match self {
            SendWrite::Rest { actor, .. } | SendWrite::Push { actor, .. } => actor,
        }
    }

    /// Its sends in order: (push item's client id, conversation, send).
    fn each(&self) -> Vec<(Option<Uuid>, Uuid, &SendMessage)> {
        match self {
            SendWrite::Rest {
                conversation_id,
                req,
                ..
            } => vec![(None, *conversation_id, req)],
            SendWrite::Push { items, .. } => items
                .iter()
                .map(|i| (Some(i.client_id), i.conversation_id, &i.req))
                .collect(),
        }
    }
}

impl SetWise for SendWrite {
    fn sends(&self) -> usize {
        SendWrite::sends(self)
    }

    fn run<'a>(
        &'a self,
        tx: &'a mut Tx,
        run: &'a [Arc<dyn SetWise>],
    ) -> BoxFuture<'a, AppResult<Option<Vec<Box<dyn Any + Send>>>>> {
        Box::pin(async move {
            let writes: Option<Vec<&SendWrite>> = run
                .iter()
                .map(|w| w.as_any().downcast_ref::<SendWrite>())
                .collect();
            match writes {
                Some(writes) => self::run(tx, &writes).await,
                None => Ok(None),
            }
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A conversation as the run has left it so far.
struct Conv {
    conv: Conversation,
    latest: Option<i64>,
    /// Its update is due (a text message was written).
    touched: Option<i64>,
}

/// Runs `writes` set-wise inside `tx`, in order, and answers each as the
/// ordinary path would (`Message` for a REST send, `Vec<MutationResult>`
/// for a push). `None`, with nothing written, when one of them is not the
/// common case (see the module docs).
pub async fn run(
    tx: &mut Tx,
    writes: &[&SendWrite],
) -> AppResult<Option<Vec<Box<dyn Any + Send>>>> {
    let sends: Vec<(&Actor, Option<Uuid>, Uuid, &SendMessage)> = writes
        .iter()
        .flat_map(|w| {
            let actor = w.actor();
            w.each()
                .into_iter()
                .map(move |(client, conv, req)| (actor, client, conv, req))
        })
        .collect();
    if sends.is_empty() || sends.len() > MAX_SENDS {
        return Ok(None);
    }
    // What needs no database: valid bodies, notes from staff, every id
    // (message, and push item per user) once.
    let mut bodies = Vec::with_capacity(sends.len());
    let mut message_ids = HashSet::new();
    let mut items = HashSet::new();
    for (actor, client, _, req) in &sends {
        let Ok(body) = mostrador_core::chat::check_body(&req.body, false) else {
            return Ok(None);
        };
        if req.kind == MessageKind::Note && !actor.is_staff() {
            return Ok(None);
        }
        if !message_ids.insert(req.id) {
            return Ok(None);
        }
        if let Some(client) = client {
            if !items.insert((actor.user_id, *client)) {
                return Ok(None);
            }
        }
        bodies.push(body.to_owned());
    }

    // Push items seen before (their first result is the answer).
    if !items.is_empty() {
        let users: HashSet<Uuid> = items.iter().map(|(u, _)| *u).collect();
        let clients: Vec<Uuid> = items.iter().map(|(_, c)| *c).collect();
        let users: Vec<Uuid> = users.into_iter().collect();
        let sqlite = is_sqlite(tx);
        let (u_marks, c_marks) = (
            in_order(sqlite, 0, users.len()).join(", "),
            in_order(sqlite, users.len(), clients.len()).join(", "),
        );
        let sql = format!(
            "SELECT user_id, client_id FROM applied_mutations
             WHERE user_id IN ({u_marks}) AND client_id IN ({c_marks})"
        );
        let rows = users
            .iter()
            .chain(&clients)
            .fold(sqlx::query(&sql), |q, id| q.bind(id.to_string()))
            .fetch_all(&mut **tx)
            .await?;
        for row in rows {
            let pair = (
                uuid(&row.try_get::<String, _>("user_id")?)?,
                uuid(&row.try_get::<String, _>("client_id")?)?,
            );
            if items.contains(&pair) {
                return Ok(None);
            }
        }
        // Every pusher still signed in (`sync::push` checks it inside the
        // write transaction too).
        let pushers: HashMap<Uuid, Uuid> = writes
            .iter()
            .filter(|w| matches!(w, SendWrite::Push { .. }))
            .map(|w| (w.actor().session_id, w.actor().user_id))
            .collect();
        let sessions: Vec<Uuid> = pushers.keys().copied().collect();
        let rows = fetch_in(
            tx,
            "SELECT s.id, s.user_id, s.revoked_at, u.deleted_at, u.disabled
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id IN ({in})",
            &sessions,
        )
        .await?;
        let mut open = HashSet::new();
        for row in rows {
            let fine = row.try_get::<Option<i64>, _>("revoked_at")?.is_none()
                && row.try_get::<Option<i64>, _>("deleted_at")?.is_none()
                && row.try_get::<i64, _>("disabled")? == 0;
            if fine {
                open.insert((
                    uuid(&row.try_get::<String, _>("id")?)?,
                    uuid(&row.try_get::<String, _>("user_id")?)?,
                ));
            }
        }
        if pushers.iter().any(|(s, u)| !open.contains(&(*s, *u))) {
            return Ok(None);
        }
    }

    // The conversations, each with its latest message's time.
    let conv_ids: Vec<Uuid> = sends
        .iter()
        .map(|s| s.2)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let rows = fetch_in(
        tx,
        &format!(
            "SELECT {CONV_COLUMNS},
               (SELECT MAX(m.created_at) FROM messages m WHERE m.conversation_id = conversations.id)
                 AS latest_message_at
             FROM conversations WHERE id IN ({{in}})"
        ),
        &conv_ids,
    )
    .await?;
    let mut convs = HashMap::with_capacity(rows.len());
    for row in &rows {
        let conv = conversation_from_row(row)?;
        let latest = row.try_get("latest_message_at")?;
        convs.insert(
            conv.id,
            Conv {
                conv,
                latest,
                touched: None,
            },
        );
    }
    // No id already a message.
    let ids: Vec<Uuid> = message_ids.into_iter().collect();
    if !fetch_in(tx, "SELECT id FROM messages WHERE id IN ({in})", &ids)
        .await?
        .is_empty()
    {
        return Ok(None);
    }

    // Item by item, as `send_in` would: the time, the conversation's new
    // state, the feed's rows.
    let mut messages: Vec<Vec<Value>> = Vec::with_capacity(sends.len());
    let mut changes = Vec::with_capacity(sends.len() * 2);
    let mut order = Vec::new();
    let mut sent = Vec::with_capacity(sends.len());
    for ((actor, _, conversation_id, req), body) in sends.iter().zip(bodies) {
        let Some(c) = convs.get_mut(conversation_id) else {
            return Ok(None);
        };
        if !actor.can_see_customer(c.conv.customer_id) {
            return Ok(None);
        }
        let now = now_ms();
        let now = c.latest.map_or(now, |l| now.max(l + 1));
        c.latest = Some(now);
        let mut row = message_row(actor, *conversation_id, req.id, req.kind, &body, now);
        row.push("sent".into());
        messages.push(row);
        let message_change = message_change(req, c.conv.customer_id);
        if req.kind == MessageKind::Text {
            after_text(&mut c.conv, actor);
            if c.touched.is_none() {
                order.push(*conversation_id);
            }
            c.touched = Some(now);
            changes.push(Change::upsert(
                Entity::Conversation,
                *conversation_id,
                Some(c.conv.customer_id),
            ));
        }
        changes.push(message_change);
        sent.push(sent_message(
            actor,
            *conversation_id,
            req,
            body,
            now,
            Vec::new(),
        ));
    }

    // The answers, and the pushes' idempotency records.
    let mut answers: Vec<Box<dyn Any + Send>> = Vec::with_capacity(writes.len());
    let mut records: Vec<Vec<Value>> = Vec::new();
    let at = now_ms();
    let mut sent = sent.into_iter();
    for w in writes {
        match w {
            SendWrite::Rest { .. } => {
                answers.push(Box::new(sent.next().expect("one message per send")));
            }
            SendWrite::Push { actor, items } => {
                let mut results = Vec::with_capacity(items.len());
                for item in items {
                    let message = sent.next().expect("one message per send");
                    let result = MutationResult {
                        client_id: item.client_id,
                        outcome: MutationOutcome::Applied {
                            ids: vec![message.id],
                        },
                    };
                    records.push(vec![
                        actor.user_id.to_string().into(),
                        item.client_id.to_string().into(),
                        serde_json::to_string(&result)
                            .map_err(anyhow::Error::from)?
                            .into(),
                        at.into(),
                    ]);
                    results.push(result);
                }
                answers.push(Box::new(results));
            }
        }
    }

    // The writes, each one call (per 4,000 rows): the messages, the
    // conversations' updates, the feed (its counter, then its rows), the
    // pushes' records. Parameters are anonymous on SQLite (`db::in_order`).
    let conn: &mut sqlx::AnyConnection = tx;
    insert_rows(
        conn,
        "INSERT INTO messages (id, conversation_id, author_id, author_role, kind, body, created_at, state)",
        8,
        &messages,
    )
    .await?;
    let sqlite = is_sqlite(conn);
    let updates: Vec<&Conv> = order.iter().map(|id| &convs[id]).collect();
    for chunk in updates.chunks(1_000) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|r| format!("({})", in_order(sqlite, r * 4, 4).join(", ")))
            .collect();
        let sql = format!(
            "UPDATE conversations SET status = v.column1, assigned_agent_id = v.column2,
                 updated_at = v.column3, last_message_at = v.column3
             FROM (VALUES {}) AS v WHERE conversations.id = v.column4",
            rows.join(", ")
        );
        let values = chunk
            .iter()
            .flat_map(|c| conversation_update(&c.conv, c.touched.expect("a touched conversation")))
            .collect();
        bind(sqlx::query(&sql), values).execute(&mut *conn).await?;
    }
    feed::record_many(conn, &changes).await?;
    insert_rows(
        conn,
        "INSERT INTO applied_mutations (user_id, client_id, result_json, at)",
        4,
        &records,
    )
    .await?;
    Ok(Some(answers))
}
