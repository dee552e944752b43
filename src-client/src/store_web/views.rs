//! The reads the screens need beyond [`Store::list`] and [`Store::get`],
//! answered from indexes kept by `apply_page` (see the table in the
//! module above), with the native store's answers:
//!
//! - unread counts read only the `unread` index (unread text messages);
//! - last messages are the `last` store (one record per conversation,
//!   kept by `apply_page`, see `last.rs`), never every message;
//! - the agent inbox's waiting times are the `activity` store.

use std::collections::{HashMap, HashSet};

use mostrador_core::chat::{Conversation, Message};
use uuid::Uuid;
use web_sys::IdbObjectStore;

use super::idb::{self, Tx};
use super::{entity_key, last, Store, ACTIVITY, ENTITIES, LAST};
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
        let tx = Tx::read(&self.db().await?, &[ENTITIES])?;
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
        let tx = Tx::read(&self.db().await?, &[LAST])?;
        let store = tx.store(LAST)?;
        let rows = match only {
            Some(c) => vec![idb::call(store.get(&c.to_string().into())).await?],
            None => idb::rows(idb::call(store.get_all()).await?),
        };
        Ok(rows.iter().filter_map(last::message).collect())
    }

    /// A conversation's newest text message.
    pub async fn last_text_message(
        &self,
        conversation_id: Uuid,
    ) -> Result<Option<Message>, ClientError> {
        Ok(self
            .last_text_messages(Some(conversation_id))
            .await?
            .remove(&conversation_id))
    }

    /// Every conversation's activity (see [`ConversationActivity`]).
    pub async fn conversation_activity(
        &self,
    ) -> Result<HashMap<Uuid, ConversationActivity>, ClientError> {
        let tx = Tx::read(&self.db().await?, &[ACTIVITY])?;
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
        let tx = Tx::read(&self.db().await?, &[ACTIVITY, ENTITIES])?;
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
        let tx = Tx::read(&self.db().await?, &[ENTITIES])?;
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
