//! Each conversation's newest text message, kept by `apply_page` in the
//! `last` store (a copy of the message record's JSON), so the conversation
//! list reads it in one request however many conversations there are. A
//! page that removes that message, turns it into another kind or moves it
//! back in time has the conversation's newest found again from the `text`
//! index, after the page's writes, in the same transaction.

use std::collections::{HashMap, HashSet};

use mostrador_core::chat::{Message, MessageKind};
use mostrador_core::sync::SyncItem;
use uuid::Uuid;
use wasm_bindgen::JsValue;
use web_sys::IdbObjectStore;

use super::idb::{self, Cursor, Tx};
use super::{entity_key, LAST};
use crate::rules::page::Cached;
use crate::ClientError;

/// A conversation's newest text message: its sort key, id and JSON.
#[derive(Debug, Clone)]
struct Last {
    sort: i64,
    id: String,
    json: String,
}

impl Last {
    /// From a `last` record or an entity record (the same fields).
    fn read(row: &JsValue) -> Option<Self> {
        Some(Self {
            sort: idb::int_field(row, "s")?,
            id: idb::str_field(row, "mid").or_else(|| idb::str_field(row, "id"))?,
            json: idb::str_field(row, "j")?,
        })
    }

    fn key(&self) -> (i64, &str) {
        (self.sort, &self.id)
    }
}

/// The `last` rows a page may change, and what it changes.
#[derive(Debug, Default)]
pub(super) struct Lasts {
    rows: HashMap<Uuid, Option<Last>>,
    changed: HashSet<Uuid>,
    /// Conversations whose newest must be found again from the index.
    stale: HashSet<Uuid>,
    /// Each message's conversation, as stored or as this page places it.
    parent: HashMap<Uuid, Uuid>,
}

impl Lasts {
    /// Reads, in two batches, the rows of every conversation `items` touch
    /// (for a removed message, its conversation is read from its record).
    pub(super) async fn read(
        tx: &Tx,
        entities: &IdbObjectStore,
        items: &[SyncItem],
    ) -> Result<Self, ClientError> {
        let kind = Message::KIND.as_str();
        let removed = items.iter().filter_map(|item| match item {
            SyncItem::Removed { id, .. } if item.kind() == Some(Message::KIND) => {
                Some((*id, entity_key(kind, *id)))
            }
            _ => None,
        });
        let mut parent: HashMap<Uuid, Uuid> = idb::get_many(entities, removed)
            .await?
            .into_iter()
            .filter_map(|(id, row)| Some((id, idb::str_field(&row, "p")?.parse().ok()?)))
            .collect();
        for item in items {
            if let SyncItem::Message(m) = item {
                parent.insert(m.id, m.conversation_id);
            }
        }
        let conversations: HashSet<Uuid> = parent.values().copied().collect();
        let rows = idb::get_many(
            &tx.store(LAST)?,
            conversations.into_iter().map(|c| (c, c.to_string().into())),
        )
        .await?
        .into_iter()
        .map(|(c, row)| (c, Last::read(&row)))
        .collect();
        Ok(Self {
            rows,
            parent,
            ..Self::default()
        })
    }

    /// Notes what `item` (at `sort`, for a message) does to its
    /// conversation's newest text message.
    pub(super) fn note(&mut self, item: &SyncItem, sort: i64, json: &str) {
        let (conversation, id) = match item {
            SyncItem::Message(m) => (m.conversation_id, m.id),
            SyncItem::Removed { id, .. } if item.kind() == Some(Message::KIND) => {
                match self.parent.get(id) {
                    Some(c) => (*c, *id),
                    None => return,
                }
            }
            _ => return,
        };
        if self.stale.contains(&conversation) {
            return;
        }
        let id = id.to_string();
        let current = self.rows.get(&conversation).cloned().flatten();
        let is_current = current.as_ref().is_some_and(|c| c.id == id);
        let text = match item {
            SyncItem::Message(m) if m.kind == MessageKind::Text => Some(Last {
                sort,
                id,
                json: json.to_owned(),
            }),
            _ => None,
        };
        match (text, current) {
            // Newer than the newest, or the newest itself, updated in place.
            (Some(new), current) if current.as_ref().is_none_or(|c| new.key() >= c.key()) => {
                self.rows.insert(conversation, Some(new));
                self.changed.insert(conversation);
            }
            // The newest removed, no longer text, or moved back in time.
            _ if is_current => {
                self.stale.insert(conversation);
            }
            _ => {}
        }
    }

    /// Writes the changed rows, finding stale ones again from the `text`
    /// index (which already sees this page's queued writes).
    pub(super) async fn write(
        mut self,
        tx: &Tx,
        entities: &IdbObjectStore,
    ) -> Result<(), ClientError> {
        let index = entities.index("text").map_err(idb::js_err)?;
        for conversation in std::mem::take(&mut self.stale) {
            let range = idb::prefix_range(&[conversation.to_string().into()])?;
            let mut cursor =
                Cursor::open(index.open_cursor_with_range_and_direction(&range, idb::prev()))?;
            let newest = match cursor.next().await? {
                Some(c) => Last::read(&c.value().map_err(idb::js_err)?),
                None => None,
            };
            self.rows.insert(conversation, newest);
            self.changed.insert(conversation);
        }
        let store = tx.store(LAST)?;
        for conversation in self.changed {
            let key = conversation.to_string();
            match self.rows.get(&conversation).cloned().flatten() {
                Some(last) => {
                    let row = idb::record(&[
                        ("id", key.as_str().into()),
                        ("s", idb::int(last.sort)),
                        ("mid", last.id.as_str().into()),
                        ("j", last.json.into()),
                    ])?;
                    store.put(&row).map_err(idb::js_err)?;
                }
                None => {
                    store.delete(&key.into()).map_err(idb::js_err)?;
                }
            }
        }
        Ok(())
    }
}

/// The message a `last` record holds; an unreadable one counts as none.
pub(super) fn message(row: &JsValue) -> Option<(Uuid, Message)> {
    let conversation = idb::str_field(row, "id")?.parse().ok()?;
    Some((
        conversation,
        serde_json::from_str(&idb::str_field(row, "j")?).ok()?,
    ))
}
