//! The agent's inbox, a page at a time, with the native store's answers.
//! IndexedDB cannot filter on several fields and sort by a computed one
//! in one request, so the page is chosen in Rust, but from fields kept on
//! each conversation's record as it is written (`st` status, `ag`
//! assignee, `o` about an order, `s` last activity; see `cache.rs`) and
//! the `activity` store, read in two `getAll`s in one transaction: no
//! conversation's JSON is parsed except the page's (and a record written
//! before those fields existed, read once from its JSON).

use std::collections::HashMap;

use mostrador_core::chat::{Conversation, ConversationStatus};
use uuid::Uuid;
use wasm_bindgen::JsValue;

use super::idb::{self, json_err, Tx};
use super::{Store, ACTIVITY, ENTITIES};
use crate::rules::inbox::{select, waiting_since, InboxKey};
use crate::rules::inbox::{InboxEntry, InboxQuery, InboxSlice};
use crate::rules::page::{Cached, ConversationActivity};
use crate::ClientError;

/// A conversation record's inbox fields, else (a record from before
/// they were kept) its JSON.
fn key_of(row: &JsValue, activity: &ConversationActivity) -> Result<InboxKey, ClientError> {
    let status = idb::str_field(row, "st").and_then(|s| ConversationStatus::parse(&s));
    let id = idb::str_field(row, "id").and_then(|i| i.parse::<Uuid>().ok());
    let (Some(status), Some(id), Some(last_at)) = (status, id, idb::int_field(row, "s")) else {
        let j = idb::str_field(row, "j").unwrap_or_default();
        let c: Conversation = serde_json::from_str(&j).map_err(json_err)?;
        return Ok(InboxKey::of(&c, activity));
    };
    Ok(InboxKey {
        id,
        status,
        agent: idb::str_field(row, "ag").and_then(|a| a.parse().ok()),
        has_order: idb::field(row, "o").is_truthy(),
        last_at,
        waiting_ms: waiting_since(status, activity),
    })
}

impl Store {
    /// One page of the agent's inbox and how many conversations match in
    /// all (see [`InboxQuery`]).
    pub async fn inbox(&self, q: &InboxQuery) -> Result<InboxSlice, ClientError> {
        let tx = Tx::read(&self.db().await?, &[ENTITIES, ACTIVITY])?;
        let entities = tx.store(ENTITIES)?;
        let range = idb::prefix_range(&[Conversation::KIND.as_str().into()])?;
        // Both requests issued before either is awaited: they run together.
        let conversations = idb::req(
            &entities
                .index("kind")
                .and_then(|i| i.get_all_with_key(&range))
                .map_err(idb::js_err)?,
        );
        let activity = idb::req(&tx.store(ACTIVITY)?.get_all().map_err(idb::js_err)?);
        let (conversations, activity) = (conversations.await?, activity.await?);
        let mut activity: HashMap<String, ConversationActivity> = idb::rows(activity)
            .iter()
            .filter_map(|row| {
                Some((
                    idb::str_field(row, "id")?,
                    ConversationActivity {
                        customer_at: idb::int_field(row, "ca"),
                        staff_at: idb::int_field(row, "sa"),
                        customer_name: idb::str_field(row, "n"),
                    },
                ))
            })
            .collect();
        let rows = idb::rows(conversations);
        let none = ConversationActivity::default();
        let mut keys = Vec::with_capacity(rows.len());
        let mut by_id = HashMap::with_capacity(rows.len());
        for row in rows {
            let id = idb::str_field(&row, "id").unwrap_or_default();
            let key = key_of(&row, activity.get(&id).unwrap_or(&none))?;
            by_id.insert(key.id, (row, key.waiting_ms));
            keys.push(key);
        }
        let (page, total) = select(&keys, q);
        let mut entries = Vec::with_capacity(page.len());
        for id in page {
            let Some((row, waiting_ms)) = by_id.remove(&id) else {
                continue;
            };
            let j = idb::str_field(&row, "j").unwrap_or_default();
            entries.push(InboxEntry {
                conversation: serde_json::from_str(&j).map_err(json_err)?,
                waiting_ms,
                customer_name: activity
                    .remove(&id.to_string())
                    .and_then(|a| a.customer_name),
            });
        }
        Ok(InboxSlice { entries, total })
    }
}
