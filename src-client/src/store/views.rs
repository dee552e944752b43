//! The reads the screens need beyond [`Store::list`] and [`Store::get`]:
//! aggregates over cached messages (unread counts, last messages, search)
//! and the per-conversation activity `apply_page` keeps for the agent's
//! inbox. Each answers in one query, so a list of thousands of
//! conversations never loads every message. Kind and state words are
//! bound from their core types (`EntityKind`, `MessageKind`,
//! `MessageState`), never spelled in the SQL. What they answer is the
//! store contract (`tests/store_contract`), run on this store and on the
//! browser's IndexedDB store alike.

use std::collections::HashMap;

use mostrador_core::auth::Role;
use mostrador_core::chat::{Message, MessageKind, MessageState};
use mostrador_core::sync::EntityKind;
use sqlx::Row;
use uuid::Uuid;

pub use crate::rules::page::ConversationActivity;

use super::{db_err, Store};
use crate::ClientError;

/// Rows keyed by a conversation id column; a row whose id does not parse
/// (never written by this store) is skipped.
fn by_conversation<T>(rows: impl IntoIterator<Item = (String, T)>) -> HashMap<Uuid, T> {
    rows.into_iter()
        .filter_map(|(id, v)| Some((id.parse().ok()?, v)))
        .collect()
}

impl Store {
    /// Per conversation (every one, or `only` one): how many text messages
    /// from the other side (`chat::from_other_side`: staff's for the
    /// conversation's customer, the customer's for staff) are not read yet.
    /// Conversations with none are absent.
    pub async fn unread_counts(
        &self,
        me: Uuid,
        only: Option<Uuid>,
    ) -> Result<HashMap<Uuid, i64>, ClientError> {
        // Two ranges of the `entities_unread` index (migration 0006), each
        // counted per conversation without reading a message row: the
        // customer's messages in conversations cached with another customer
        // (this user is staff there), and staff's everywhere else (this
        // user's own conversations, or ones not cached). The first is
        // driven by those conversations (`CROSS JOIN` keeps them outer), so
        // a customer's device never reads its own messages. `INDEXED BY`:
        // without it SQLite prefers an index that saves the GROUP BY's sort
        // and reads every text message.
        let unread_states: Vec<&str> = MessageState::ALL
            .into_iter()
            .filter(|s| *s != MessageState::Read)
            .map(MessageState::as_str)
            .collect();
        let staff_roles: Vec<&str> = Role::ALL
            .into_iter()
            .filter(|r| r.is_staff())
            .map(Role::as_str)
            .collect();
        let rows = sqlx::query(
            "SELECT parent_id, SUM(n) AS n FROM (
               SELECT m.parent_id, COUNT(*) AS n
               FROM entities c CROSS JOIN entities m INDEXED BY entities_unread
                 ON m.kind = ?3 AND m.msg_kind = ?5 AND m.author_role = ?7
                AND m.msg_state IN (SELECT value FROM json_each(?4))
                AND m.parent_id = c.id
               WHERE c.kind = ?6 AND (?2 IS NULL OR c.id = ?2)
                 AND json_extract(c.json, '$.customer_id') != ?1 AND m.author_id != ?1
               GROUP BY m.parent_id
               UNION ALL
               SELECT g.parent_id, g.n FROM (
                 SELECT m.parent_id, COUNT(*) AS n FROM entities m INDEXED BY entities_unread
                 WHERE m.kind = ?3 AND m.msg_kind = ?5
                   AND m.author_role IN (SELECT value FROM json_each(?8))
                   AND m.msg_state IN (SELECT value FROM json_each(?4))
                   AND m.author_id != ?1 AND (?2 IS NULL OR m.parent_id = ?2)
                 GROUP BY m.parent_id) g
               WHERE NOT EXISTS (SELECT 1 FROM entities c WHERE c.kind = ?6 AND c.id = g.parent_id
                                 AND json_extract(c.json, '$.customer_id') != ?1)
             ) GROUP BY parent_id",
        )
        .bind(me.to_string())
        .bind(only.map(|o| o.to_string()))
        .bind(EntityKind::Message.as_str())
        .bind(serde_json::to_string(&unread_states).map_err(super::json_err)?)
        .bind(MessageKind::Text.as_str())
        .bind(EntityKind::Conversation.as_str())
        .bind(Role::Customer.as_str())
        .bind(serde_json::to_string(&staff_roles).map_err(super::json_err)?)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(by_conversation(rows.iter().map(|r| {
            (r.get::<String, _>("parent_id"), r.get::<i64, _>("n"))
        })))
    }

    /// Per conversation (every one, or `only` one): its newest text message.
    pub async fn last_text_messages(
        &self,
        only: Option<Uuid>,
    ) -> Result<HashMap<Uuid, Message>, ClientError> {
        // Walks the `entities_last_by_kind` index (migration 0006) from one
        // conversation's text messages to the next (`convs`), then takes
        // each one's newest: one seek per conversation, never a scan of
        // every message.
        let rows = sqlx::query(
            "WITH RECURSIVE convs(id) AS (
               SELECT MIN(parent_id) FROM entities
               WHERE kind = ?2 AND msg_kind = ?3 AND parent_id >= COALESCE(?1, '')
               UNION ALL
               SELECT (SELECT MIN(parent_id) FROM entities
                       WHERE kind = ?2 AND msg_kind = ?3 AND parent_id > convs.id)
               FROM convs WHERE convs.id IS NOT NULL AND ?1 IS NULL
             )
             SELECT id AS parent_id, (SELECT m.json FROM entities m
               WHERE m.kind = ?2 AND m.msg_kind = ?3 AND m.parent_id = convs.id
               ORDER BY m.sort_key DESC LIMIT 1) AS json
             FROM convs WHERE id IS NOT NULL AND (?1 IS NULL OR id = ?1)",
        )
        .bind(only.map(|o| o.to_string()))
        .bind(EntityKind::Message.as_str())
        .bind(MessageKind::Text.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        // An unreadable message shows as none (as a list line, not an error).
        Ok(by_conversation(rows.iter().filter_map(|r| {
            let json: String = r.try_get("json").ok()?;
            Some((
                r.get::<String, _>("parent_id"),
                serde_json::from_str(&json).ok()?,
            ))
        })))
    }

    /// A conversation's newest text message.
    pub async fn last_text_message(
        &self,
        conversation_id: Uuid,
    ) -> Result<Option<Message>, ClientError> {
        let last: Option<String> = sqlx::query_scalar(
            "SELECT json FROM entities WHERE kind = ?2 AND msg_kind = ?3 AND parent_id = ?1
             ORDER BY sort_key DESC LIMIT 1",
        )
        .bind(conversation_id.to_string())
        .bind(EntityKind::Message.as_str())
        .bind(MessageKind::Text.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(last.and_then(|j| serde_json::from_str(&j).ok()))
    }

    /// Every conversation's activity (see [`ConversationActivity`]).
    pub async fn conversation_activity(
        &self,
    ) -> Result<HashMap<Uuid, ConversationActivity>, ClientError> {
        // One row holding them all (as `Store::list`: thousands of rows
        // would each cross sqlx's worker channel on their own).
        let all: String = sqlx::query_scalar(
            "SELECT json_group_array(json_array(conversation_id, customer_at, staff_at, customer_name))
             FROM conversation_activity",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        type Row = (String, Option<i64>, Option<i64>, Option<String>);
        let rows: Vec<Row> = serde_json::from_str(&all).map_err(super::json_err)?;
        Ok(by_conversation(rows.into_iter().map(
            |(id, customer_at, staff_at, customer_name)| {
                (
                    id,
                    ConversationActivity {
                        customer_at,
                        staff_at,
                        customer_name,
                    },
                )
            },
        )))
    }

    /// Customers' names as their messages carried them, by customer id
    /// (for customers whose profile this device has not seen).
    pub async fn customer_names_from_messages(&self) -> Result<HashMap<Uuid, String>, ClientError> {
        let rows = sqlx::query(
            "SELECT json_extract(e.json, '$.customer_id') AS id, a.customer_name AS name
             FROM conversation_activity a JOIN entities e ON e.kind = ? AND e.id = a.conversation_id
             WHERE a.customer_name IS NOT NULL",
        )
        .bind(EntityKind::Conversation.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                let id: String = r.try_get("id").ok()?;
                let name: String = r.try_get("name").ok()?;
                Some((id.parse().ok()?, name))
            })
            .collect())
    }

    /// Conversations with a message whose body contains `text`
    /// (case-insensitive for ASCII, as SQLite's `LIKE`; taken literally).
    pub async fn conversations_mentioning(&self, text: &str) -> Result<Vec<Uuid>, ClientError> {
        let escaped = text
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT parent_id FROM entities WHERE kind = ?
             AND json_extract(json, '$.body') LIKE ? ESCAPE '\\'",
        )
        .bind(EntityKind::Message.as_str())
        .bind(format!("%{escaped}%"))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(ids.into_iter().filter_map(|i| i.parse().ok()).collect())
    }
}
