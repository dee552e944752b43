//! The reads the screens need beyond [`Store::list`] and [`Store::get`],
//! answered from indexes kept by `apply_page` (see the table in the
//! module above), with the native store's answers:
//!
//! - unread counts read only the `unread` index (unread text messages);
//! - last messages walk the `text` index backwards, one step per
//!   conversation (a cursor jumps from a conversation's newest text message
//!   to the previous conversation's), never every message;
//! - the agent inbox's waiting times are the `activity` store.

use std::collections::{HashMap, HashSet};

use mostrador_core::chat::{Conversation, Message};
use uuid::Uuid;
use wasm_bindgen::JsValue;
use web_sys::IdbObjectStore;

use super::cache::entity_key;
use super::idb::{self, Cursor, Tx};
use super::{Store, ACTIVITY, ENTITIES};
use crate::rules::page::{Cached, ConversationActivity};
use crate::ClientError;

fn parse_id(s: Option<String>) -> Option<Uuid> {
    s?.parse().ok()
}

/// Each conversation's customer id (`None` for one not cached), read in
/// one batch of requests.
async fn customers_of(
    entities: &IdbObjectStore,
    conversations: impl IntoIterator<Item = String>,
) -> Result<HashMap<String, Option<String>>, ClientError> {
    let kind = Conversation::KIND.as_str();
    let keys = conversations
        .into_iter()
        .filter_map(|c| Some((entity_key(kind, c.parse().ok()?), c)))
        .map(|(key, c)| (c, key));
    Ok(idb::get_many(entities, keys)
        .await?
        .into_iter()
        .map(|(c, row)| (c, idb::str_field(&row, "cu")))
        .collect())
}

/// A message record's message; an unreadable one counts as none.
fn message(row: &JsValue) -> Option<Message> {
    serde_json::from_str(&idb::str_field(row, "j")?).ok()
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
        let me = me.to_string();
        let tx = Tx::read(&self.db, &[ENTITIES])?;
        let entities = tx.store(ENTITIES)?;
        let index = entities.index("unread").map_err(idb::js_err)?;
        let all = match only {
            Some(c) => index.get_all_with_key(&c.to_string().into()),
            None => index.get_all(),
        };
        // (conversation, by the customer) of each unread text message
        // someone else wrote.
        let unread: Vec<(String, bool)> = idb::rows(idb::call(all).await?)
            .iter()
            .filter(|row| idb::str_field(row, "a").as_deref() != Some(me.as_str()))
            .filter_map(|row| Some((idb::str_field(row, "p")?, idb::field(row, "c").is_truthy())))
            .collect();
        let conversations: HashSet<String> = unread.iter().map(|(c, _)| c.clone()).collect();
        let customers = customers_of(&entities, conversations).await?;
        let mut counts = HashMap::new();
        for (conversation, by_customer) in unread {
            // Staff read the customer's messages; a conversation not cached
            // counts as one of mine (as the native store's COALESCE).
            let customer = customers.get(&conversation).cloned().flatten();
            let i_am_staff = customer.is_some_and(|c| c != me);
            if by_customer == i_am_staff {
                if let Ok(id) = conversation.parse() {
                    *counts.entry(id).or_insert(0) += 1;
                }
            }
        }
        Ok(counts)
    }

    /// Per conversation (every one, or `only` one): its newest text message.
    pub async fn last_text_messages(
        &self,
        only: Option<Uuid>,
    ) -> Result<HashMap<Uuid, Message>, ClientError> {
        if let Some(c) = only {
            return Ok(self
                .last_text_message(c)
                .await?
                .map(|m| (c, m))
                .into_iter()
                .collect());
        }
        let tx = Tx::read(&self.db, &[ENTITIES])?;
        let index = tx.store(ENTITIES)?.index("text").map_err(idb::js_err)?;
        let mut cursor =
            Cursor::open(index.open_cursor_with_range_and_direction(&JsValue::NULL, idb::prev()))?;
        let mut out = HashMap::new();
        let mut row = cursor.next().await?;
        while let Some(c) = row {
            let value = c.value().map_err(idb::js_err)?;
            let parent = idb::str_field(&value, "p").unwrap_or_default();
            if let (Ok(id), Some(m)) = (parent.parse(), message(&value)) {
                out.insert(id, m);
            }
            // `[parent]` sorts before every key of this conversation: the
            // next step backwards is the previous conversation's newest.
            row = cursor.seek(&idb::key(&[parent.into()])).await?;
        }
        Ok(out)
    }

    /// A conversation's newest text message.
    pub async fn last_text_message(
        &self,
        conversation_id: Uuid,
    ) -> Result<Option<Message>, ClientError> {
        let tx = Tx::read(&self.db, &[ENTITIES])?;
        let index = tx.store(ENTITIES)?.index("text").map_err(idb::js_err)?;
        let range = idb::prefix_range(&[conversation_id.to_string().into()])?;
        let mut cursor =
            Cursor::open(index.open_cursor_with_range_and_direction(&range, idb::prev()))?;
        Ok(match cursor.next().await? {
            Some(c) => message(&c.value().map_err(idb::js_err)?),
            None => None,
        })
    }

    /// Every conversation's activity (see [`ConversationActivity`]).
    pub async fn conversation_activity(
        &self,
    ) -> Result<HashMap<Uuid, ConversationActivity>, ClientError> {
        let tx = Tx::read(&self.db, &[ACTIVITY])?;
        let rows = idb::rows(idb::call(tx.store(ACTIVITY)?.get_all()).await?);
        Ok(rows
            .iter()
            .filter_map(|r| {
                Some((
                    parse_id(idb::str_field(r, "id"))?,
                    ConversationActivity {
                        customer_at: idb::int_field(r, "ca"),
                        staff_at: idb::int_field(r, "sa"),
                        customer_name: idb::str_field(r, "n"),
                    },
                ))
            })
            .collect())
    }

    /// Customers' names as their messages carried them, by customer id
    /// (for customers whose profile this device has not seen).
    pub async fn customer_names_from_messages(&self) -> Result<HashMap<Uuid, String>, ClientError> {
        let tx = Tx::read(&self.db, &[ACTIVITY, ENTITIES])?;
        let rows = idb::rows(idb::call(tx.store(ACTIVITY)?.get_all()).await?);
        let named: Vec<(String, String)> = rows
            .iter()
            .filter_map(|r| Some((idb::str_field(r, "id")?, idb::str_field(r, "n")?)))
            .collect();
        let customers =
            customers_of(&tx.store(ENTITIES)?, named.iter().map(|(c, _)| c.clone())).await?;
        Ok(named
            .into_iter()
            .filter_map(|(c, name)| Some((parse_id(customers.get(&c).cloned().flatten())?, name)))
            .collect())
    }

    /// Conversations with a message whose body contains `text`
    /// (case-insensitive for ASCII, as SQLite's `LIKE`; taken literally).
    pub async fn conversations_mentioning(&self, text: &str) -> Result<Vec<Uuid>, ClientError> {
        let needle = text.to_ascii_lowercase();
        let tx = Tx::read(&self.db, &[ENTITIES])?;
        let range = idb::prefix_range(&[Message::KIND.as_str().into()])?;
        let all = tx
            .store(ENTITIES)?
            .index("kind")
            .and_then(|i| i.get_all_with_key(&range));
        let mut seen = HashSet::new();
        Ok(idb::rows(idb::call(all).await?)
            .iter()
            .filter(|r| idb::str_field(r, "b").is_some_and(|b| b.contains(&needle)))
            .filter_map(|r| parse_id(idb::str_field(r, "p")))
            .filter(|id| seen.insert(*id))
            .collect())
    }
}
