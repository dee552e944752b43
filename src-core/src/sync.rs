//! The change feed (`GET /api/v1/sync`) and batched writes
//! (`POST /api/v1/sync/push`). **Wire promise.**
//!
//! Every change a user may see gets a place in one feed with a strictly
//! increasing cursor. A page carries the current state of each changed
//! entity (or a tombstone), the cursor to continue from, and `has_more`.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::callbacks::{Callback, RequestCallback, RescheduleCallback};
use crate::chat::{Conversation, MarkMessages, Message, OpenConversation, Rating, SendMessage};
use crate::orders::Order;
use crate::profile::{Address, Profile, ProfileUpdate};
use crate::ApiError;

/// Default and largest page size (items of a sync or snapshot page).
pub const DEFAULT_PAGE: i64 = 200;
pub const MAX_PAGE: i64 = 2000;

/// The kinds of entity the change feed carries and the app caches, one
/// word for the server's feed, the engine's store and the UI's refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Order,
    Conversation,
    Message,
    Profile,
    Callback,
}

impl EntityKind {
    pub const ALL: [EntityKind; 5] = [
        EntityKind::Order,
        EntityKind::Conversation,
        EntityKind::Message,
        EntityKind::Profile,
        EntityKind::Callback,
    ];

    /// The word stored in the feed and the cache (`"order"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Order => "order",
            EntityKind::Conversation => "conversation",
            EntityKind::Message => "message",
            EntityKind::Profile => "profile",
            EntityKind::Callback => "callback",
        }
    }

    /// The kind named by a stored word; `None` for a word this build does
    /// not know.
    pub fn parse(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == word)
    }
}

impl std::fmt::Display for EntityKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "entity", content = "data", rename_all = "snake_case")]
pub enum SyncItem {
    Order(Order),
    Conversation(Conversation),
    Message(Message),
    Profile(Profile),
    Callback(Callback),
    /// The entity is gone (or no longer visible to the caller).
    ///
    /// `kind` stays a word on the wire, not an [`EntityKind`]: a page
    /// decodes as a whole, so an engine meeting a tombstone of a kind a
    /// newer server added would otherwise fail the page and stop syncing.
    /// As a word it decodes, [`SyncItem::kind`] gives `None` and the engine
    /// skips it. Build one with [`SyncItem::removed`], read it with
    /// [`SyncItem::kind`]; nothing spells the word by hand.
    Removed {
        kind: String,
        id: Uuid,
    },
}

impl SyncItem {
    /// The tombstone of `kind`'s entity `id`.
    pub fn removed(kind: EntityKind, id: Uuid) -> Self {
        SyncItem::Removed {
            kind: kind.as_str().to_owned(),
            id,
        }
    }

    /// The kind of entity this item carries; `None` for a tombstone of a
    /// kind this build does not know.
    pub fn kind(&self) -> Option<EntityKind> {
        match self {
            SyncItem::Order(_) => Some(EntityKind::Order),
            SyncItem::Conversation(_) => Some(EntityKind::Conversation),
            SyncItem::Message(_) => Some(EntityKind::Message),
            SyncItem::Profile(_) => Some(EntityKind::Profile),
            SyncItem::Callback(_) => Some(EntityKind::Callback),
            SyncItem::Removed { kind, .. } => EntityKind::parse(kind),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncPage {
    pub items: Vec<SyncItem>,
    /// Pass as `since` for the next page.
    pub cursor: i64,
    pub has_more: bool,
    /// How many feed changes this page covered (an entity changed several
    /// times appears once in `items`).
    #[serde(default)]
    pub changes: i64,
    /// Changes still to fetch after this page (0 when `has_more` is false);
    /// with `changes`, progress such as "syncing 500 of 61,000".
    #[serde(default)]
    pub remaining: i64,
}

/// Where a snapshot page ends: the last entity it covered, in the order
/// of (kind word, id). Pass both as `after_kind` and `after_id` for the
/// next page. The kind stays a word, like a tombstone's: a newer server's
/// kind still decodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SnapshotKey {
    pub kind: String,
    pub id: Uuid,
}

/// One page of `GET /api/v1/sync/snapshot`: the current state of every
/// entity the caller may see, each once, paged by (kind, id). What an
/// initial sync carries instead of the whole feed from 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SnapshotPage {
    /// Entities, never removals: what the feed would hide is left out.
    pub items: Vec<SyncItem>,
    /// The feed's head, read before this page's entities were. The first
    /// page's value is where the feed continues once the last page is in:
    /// every change made while (or after) the pages were read is replayed.
    pub cursor: i64,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<SnapshotKey>,
    /// On the first page only: how many entities the snapshot holds at
    /// most (for progress; removed or hidden ones are left out of pages).
    #[serde(default)]
    pub total: Option<i64>,
}

/// One client write, with the id the client chose for it. Resending the
/// same `client_id` returns the first result and changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Mutation {
    pub client_id: Uuid,
    #[serde(flatten)]
    pub op: MutationOp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "op", content = "args", rename_all = "snake_case")]
pub enum MutationOp {
    OpenConversation(OpenConversation),
    SendMessage {
        conversation_id: Uuid,
        #[serde(flatten)]
        message: SendMessage,
    },
    MarkMessages {
        conversation_id: Uuid,
        #[serde(flatten)]
        mark: MarkMessages,
    },
    RequestCallback(RequestCallback),
    CancelCallback {
        callback_id: Uuid,
    },
    RescheduleCallback {
        callback_id: Uuid,
        #[serde(flatten)]
        reschedule: RescheduleCallback,
    },
    RateConversation {
        conversation_id: Uuid,
        #[serde(flatten)]
        rating: Rating,
    },
    UpdateProfile(ProfileUpdate),
    PutAddress(Address),
    DeleteAddress {
        address_id: Uuid,
    },
    /// Erases the caller's account (the session ends with it).
    DeleteAccount,
    /// Staff: status and assignment.
    UpdateConversation {
        conversation_id: Uuid,
        #[serde(flatten)]
        update: crate::chat::UpdateConversation,
    },
    /// Staff: what happened to a callback.
    RecordOutcome {
        callback_id: Uuid,
        #[serde(flatten)]
        outcome: crate::callbacks::CallbackOutcome,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushRequest {
    pub mutations: Vec<Mutation>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum MutationOutcome {
    /// Applied now or earlier; `ids` are the entities it created or touched.
    Applied { ids: Vec<Uuid> },
    /// Refused for good: resending will not help.
    Rejected { error: ApiError },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MutationResult {
    pub client_id: Uuid,
    #[serde(flatten)]
    pub outcome: MutationOutcome,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushResponse {
    pub results: Vec<MutationResult>,
}

/// Largest batch `POST /api/v1/sync/push` accepts.
pub const MAX_PUSH: usize = 100;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tombstones_carry_the_kind_word_and_an_unknown_kind_still_decodes() {
        let id = Uuid::nil();
        let item = SyncItem::removed(EntityKind::Callback, id);
        let json = serde_json::to_value(&item).unwrap();
        assert_eq!(json["data"]["kind"], "callback");
        assert_eq!(item.kind(), Some(EntityKind::Callback));
        // A kind a newer server added: the page still decodes, the item is
        // of no kind this build knows.
        let page: SyncPage = serde_json::from_value(serde_json::json!({
            "items": [{"entity": "removed", "data": {"kind": "voucher", "id": id}}],
            "cursor": 7, "has_more": false
        }))
        .unwrap();
        assert_eq!(page.items[0].kind(), None);
    }
}
