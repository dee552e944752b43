//! The agent's inbox, a page at a time: filtered, sorted and cut in
//! SQLite from the `inbox` table its triggers keep (migration 0007), so a
//! page decodes only its own conversations, however many are cached. The
//! answer is `rules::inbox::select`'s (the store contract holds both stores
//! to `mostrador_core::app::filter_inbox`).

use mostrador_core::app::InboxGroup;
use mostrador_core::chat::{Conversation, ConversationStatus};
use mostrador_core::sync::EntityKind;

use super::{db_err, json_err, Store};
use crate::rules::inbox::{InboxEntry, InboxQuery, InboxSlice};
use crate::ClientError;

/// The filter, over `inbox`'s columns (bound: ?1 group, 0 all, 1
/// unassigned, 2 mine; ?2 me; ?3 the resolved status word; ?4 a status or
/// NULL; ?5 with an order only; ?6 waiting since at most this time, or
/// NULL; ?7 a JSON array of ids, or NULL).
const FILTER: &str =
    "(?1 = 0 OR (status <> ?3 AND CASE ?1 WHEN 1 THEN agent_id IS NULL ELSE agent_id = ?2 END))
    AND (?4 IS NULL OR status = ?4)
    AND (?5 = 0 OR has_order)
    AND (?6 IS NULL OR waiting_at <= ?6)
    AND (?7 IS NULL OR conversation_id IN (SELECT value FROM json_each(?7)))";

impl Store {
    /// One page of the agent's inbox and how many conversations match in
    /// all (see [`InboxQuery`]).
    pub async fn inbox(&self, q: &InboxQuery) -> Result<InboxSlice, ClientError> {
        let f = &q.filter;
        // One statement, one row: the count (over the `inbox_order`
        // index, which holds every column the filter reads), and the page
        // as one JSON array (the index walked in order until the page is
        // full, then each row's conversation and customer's name, each one
        // lookup by key).
        let sql = format!(
            "SELECT (SELECT COUNT(*) FROM inbox INDEXED BY inbox_order WHERE {FILTER}) AS total,
               (SELECT json_group_array(json_array(
                         json((SELECT c.json FROM entities c WHERE c.kind = ?9 AND c.id = p.conversation_id)),
                         p.waiting_at,
                         (SELECT a.customer_name FROM conversation_activity a
                          WHERE a.conversation_id = p.conversation_id))
                       ORDER BY p.rank_group, p.rank_at, p.rank_tie, p.conversation_id)
                FROM (SELECT conversation_id, waiting_at, rank_group, rank_at, rank_tie
                      FROM inbox INDEXED BY inbox_order WHERE {FILTER}
                      ORDER BY rank_group, rank_at, rank_tie, conversation_id LIMIT ?8) p) AS page"
        );
        let ids = f
            .matches
            .as_ref()
            .map(|m| serde_json::to_string(m).map_err(json_err))
            .transpose()?;
        let (total, page): (i64, String) = sqlx::query_as(&sql)
            .bind(match f.group {
                InboxGroup::All => 0,
                InboxGroup::Unassigned => 1,
                InboxGroup::Mine => 2,
            })
            .bind(q.me.to_string())
            .bind(ConversationStatus::Resolved.as_str())
            .bind(f.status.map(ConversationStatus::as_str))
            .bind(f.has_order)
            .bind(f.waiting_long.then_some(q.hour_ago_ms))
            .bind(ids)
            .bind(i64::try_from(q.limit).unwrap_or(i64::MAX))
            .bind(EntityKind::Conversation.as_str())
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        let rows: Vec<(Conversation, Option<i64>, Option<String>)> =
            serde_json::from_str(&page).map_err(json_err)?;
        Ok(InboxSlice {
            entries: rows
                .into_iter()
                .map(|(conversation, waiting_ms, customer_name)| InboxEntry {
                    conversation,
                    waiting_ms,
                    customer_name,
                })
                .collect(),
            total: usize::try_from(total).unwrap_or_default(),
        })
    }
}
