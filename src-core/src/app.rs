//! The contract between the Tauri shell and the UI: what the shell's
//! commands return and what its events carry.
//!
//! **API boundary:** `src-tauri/src/commands.rs` produces these and
//! `src-ui/src/ipc.rs` consumes them; both compile against this file, so the
//! two sides cannot drift. They never go over the network.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Me;
use crate::callbacks::Callback;
use crate::chat::{Attachment, Conversation, MessageKind, MessageState};
use crate::orders::Order;
use crate::sync::{EntityKind, SyncItem};
use crate::ApiError;

/// The name of the one event the shell emits (payload: [`AppEvent`]).
pub const EVENT: &str = "mostrador://event";

/// Who is signed in on this device, if anyone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub me: Option<Me>,
    pub server_url: String,
    /// Where the session token is kept (e.g. "Secret Service").
    pub keychain: Option<String>,
}

/// What the first screen needs, in one answer (the shells' `boot`
/// command): who is signed in, the sync indicator, and the home screen's
/// data when a shopper is signed in (staff land on the inbox, which loads
/// itself). The page draws its first frame after this one round trip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Boot {
    pub session: SessionInfo,
    pub sync: SyncState,
    pub outbox: OutboxCount,
    pub home: Option<HomeView>,
}

/// What the sync indicator shows: always the engine's latest word.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SyncState {
    /// Not connected; the next attempt is in `retry_in_ms`.
    Offline {
        retry_in_ms: u64,
        last_error: Option<String>,
    },
    #[default]
    Connecting,
    Syncing {
        done: i64,
        total: i64,
    },
    UpToDate,
}

/// The outbox, as the indicator counts it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxCount {
    /// Writes not yet accepted by the server (wedged ones included).
    pub pending: usize,
    /// Writes the server refused; they wait for retry or discard.
    pub wedged: usize,
}

/// Everything the shell tells the UI, on [`EVENT`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AppEvent {
    Sync(SyncState),
    Outbox(OutboxCount),
    /// Cached data changed: a screen refetches only when what it shows is
    /// among these changes.
    Changed(Changes),
    /// Someone else is typing in a conversation.
    Typing {
        conversation_id: Uuid,
        name: String,
    },
    /// The session ended (expired, revoked or the account was deleted).
    /// A deleted account's data is wiped; an expired session's unsent
    /// writes are kept for the same user's next sign-in.
    SignedOut {
        reason: SignOutReason,
    },
    /// A file is going up: `sent` of `total` bytes; `message_id` is the
    /// pending message that waits for it.
    Upload {
        attachment_id: Uuid,
        message_id: Option<Uuid>,
        sent: u64,
        total: u64,
    },
}

/// What one change to the cache touched: the kinds, and for the screens
/// that show one thing (a thread, an order, a customer) which ones. The
/// engine computes it from each applied page and each local write; the UI
/// keeps a revision per kind and per id and refetches a screen only when
/// what it shows is touched. Outbox counts are not changes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Changes {
    /// Every kind with at least one change, sorted, once each.
    pub kinds: Vec<EntityKind>,
    /// Conversations whose summary or messages changed (a message counts
    /// for its conversation).
    pub conversations: Vec<Uuid>,
    /// Orders that changed.
    pub orders: Vec<Uuid>,
    /// Customers whose data changed (orders, conversations, messages'
    /// conversations, callbacks, profile), for the agent's customer panel.
    pub customers: Vec<Uuid>,
    /// Kinds with a change whose owner is unknown (a tombstone names only
    /// the entity): every screen showing that kind refetches.
    pub unscoped: Vec<EntityKind>,
    /// Every message whose thread line may have changed (arrived, changed
    /// state, queued, refused, discarded): an open thread asks for these
    /// lines alone ([`ThreadDelta`]) unless `unscoped` names messages or
    /// conversations. Every producer names the message it touched.
    #[serde(default)]
    pub messages: Vec<Uuid>,
    /// The followed thread's lines for these changes, read by the engine
    /// as it made the event (`Engine::follow_thread`, `Engine::ui_event`):
    /// the open thread merges them without asking again. `None` when no
    /// thread is followed, these changes do not touch it, or merged
    /// changes that touch it came without them ([`Changes::merge`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<FollowedLines>,
}

/// The changed lines of the thread the screen follows, carried by a
/// change event ([`Changes::thread`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FollowedLines {
    pub conversation_id: Uuid,
    /// One per change event merged, in the order they came; the screen
    /// applies them in turn ([`ThreadView::apply`]).
    pub deltas: Vec<ThreadDelta>,
}

impl Changes {
    /// Everything may have changed (a resync, missed events).
    pub fn everything() -> Self {
        Self {
            kinds: EntityKind::ALL.to_vec(),
            unscoped: EntityKind::ALL.to_vec(),
            ..Self::default()
        }
    }

    /// What a page of feed items touched.
    pub fn of_items(items: &[SyncItem]) -> Self {
        let mut c = Self::default();
        for item in items {
            match item {
                SyncItem::Order(o) => {
                    c.add_kind(EntityKind::Order);
                    push_once(&mut c.orders, o.id);
                    if let Some(customer) = o.customer_id {
                        push_once(&mut c.customers, customer);
                    }
                }
                SyncItem::Conversation(conv) => c.conversation(conv.id, Some(conv.customer_id)),
                SyncItem::Message(m) => c.message(m.conversation_id, m.id, None),
                SyncItem::Profile(p) => {
                    c.add_kind(EntityKind::Profile);
                    push_once(&mut c.customers, p.user_id);
                }
                SyncItem::Callback(cb) => {
                    c.add_kind(EntityKind::Callback);
                    push_once(&mut c.customers, cb.customer_id);
                }
                SyncItem::Removed { .. } => match item.kind() {
                    Some(k) => {
                        c.add_kind(k);
                        if !c.unscoped.contains(&k) {
                            c.unscoped.push(k);
                            c.unscoped.sort();
                        }
                    }
                    None => return Self::everything(),
                },
            }
        }
        c
    }

    /// A conversation (its summary) changed.
    pub fn conversation(&mut self, id: Uuid, customer: Option<Uuid>) {
        self.add_kind(EntityKind::Conversation);
        push_once(&mut self.conversations, id);
        if let Some(customer) = customer {
            push_once(&mut self.customers, customer);
        }
    }

    /// Message `message` in a conversation changed (its summary too: last
    /// message, unread count).
    pub fn message(&mut self, conversation: Uuid, message: Uuid, customer: Option<Uuid>) {
        self.add_kind(EntityKind::Message);
        push_once(&mut self.messages, message);
        self.conversation(conversation, customer);
    }

    /// A callback changed.
    pub fn callback(&mut self, customer: Option<Uuid>) {
        self.add_kind(EntityKind::Callback);
        if let Some(customer) = customer {
            push_once(&mut self.customers, customer);
        }
    }

    /// Adds another change set to this one.
    pub fn merge(&mut self, other: &Changes) {
        self.thread = self.merged_thread(other);
        for k in &other.kinds {
            self.add_kind(*k);
        }
        for k in &other.unscoped {
            if !self.unscoped.contains(k) {
                self.unscoped.push(*k);
                self.unscoped.sort();
            }
        }
        for id in &other.conversations {
            push_once(&mut self.conversations, *id);
        }
        for id in &other.orders {
            push_once(&mut self.orders, *id);
        }
        for id in &other.customers {
            push_once(&mut self.customers, *id);
        }
        for id in &other.messages {
            push_once(&mut self.messages, *id);
        }
    }

    /// The followed thread's lines after merging `other`: both parts'
    /// in order when each part that touches the thread brought them,
    /// otherwise none (the screen then reads the lines itself).
    fn merged_thread(&self, other: &Changes) -> Option<FollowedLines> {
        match (&self.thread, &other.thread) {
            (Some(a), Some(b)) if a.conversation_id == b.conversation_id => {
                let mut both = a.clone();
                both.deltas.extend(b.deltas.iter().cloned());
                Some(both)
            }
            (Some(a), _) if !other.touches_conversation(a.conversation_id) => Some(a.clone()),
            (_, Some(b)) if self.is_empty() || !self.touches_conversation(b.conversation_id) => {
                Some(b.clone())
            }
            _ => None,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }

    /// Whether any change of `kind` happened.
    pub fn touches(&self, kind: EntityKind) -> bool {
        self.kinds.contains(&kind)
    }

    /// Whether the thread or summary of conversation `id` may have changed.
    pub fn touches_conversation(&self, id: Uuid) -> bool {
        self.conversations.contains(&id)
            || self.unscoped.contains(&EntityKind::Conversation)
            || self.unscoped.contains(&EntityKind::Message)
    }

    /// Whether an open thread of a conversation these changes touch can
    /// ask for [`Changes::messages`] alone: no removal whose conversation
    /// is unknown (a tombstone of a message or conversation names only the
    /// entity), no resync.
    pub fn lines_known(&self) -> bool {
        !self.unscoped.contains(&EntityKind::Conversation)
            && !self.unscoped.contains(&EntityKind::Message)
    }

    /// Whether order `id` may have changed.
    pub fn touches_order(&self, id: Uuid) -> bool {
        self.orders.contains(&id) || self.unscoped.contains(&EntityKind::Order)
    }

    /// Whether anything shown about customer `id` may have changed.
    pub fn touches_customer(&self, id: Uuid) -> bool {
        self.customers.contains(&id) || !self.unscoped.is_empty()
    }

    fn add_kind(&mut self, kind: EntityKind) {
        if !self.kinds.contains(&kind) {
            self.kinds.push(kind);
            self.kinds.sort();
        }
    }
}

fn push_once(ids: &mut Vec<Uuid>, id: Uuid) {
    if !ids.contains(&id) {
        ids.push(id);
    }
}

/// What kind of write one of a previous user's unsent writes is (the
/// sign-in page names each in the user's language).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnsentKind {
    Question,
    Message,
    Note,
    Receipt,
    Rating,
    CallbackRequest,
    CallbackCancel,
    CallbackChange,
    Profile,
    Address,
    AddressRemoval,
    AccountDeletion,
    ConversationUpdate,
    CallbackOutcome,
    #[serde(other)]
    Other,
}

/// One unsent write: what it is, when it was made, how many files it carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnsentWrite {
    pub kind: UnsentKind,
    pub at: Timestamp,
    #[serde(default)]
    pub files: usize,
}

/// Writes another account left unsent on this device (its session ended
/// before they went out). Signing in as someone else discards them, so the
/// engine refuses until the user confirms; the refusal travels as a
/// `conflict` [`ApiError`] carrying this under `details.unsent_writes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnsentWrites {
    /// The display name of the account that made them.
    pub name: String,
    pub writes: Vec<UnsentWrite>,
}

impl UnsentWrites {
    const DETAILS_KEY: &'static str = "unsent_writes";

    /// The refusal as the one error shape.
    pub fn to_error(&self) -> ApiError {
        ApiError::new(
            crate::ErrorCode::Conflict,
            "another account's unsent changes are on this device",
        )
        .with_details(serde_json::json!({ Self::DETAILS_KEY: self }))
    }

    /// The summary carried by such a refusal, if `err` is one.
    pub fn from_error(err: &ApiError) -> Option<Self> {
        let v = err.details.as_ref()?.get(Self::DETAILS_KEY)?;
        serde_json::from_value(v.clone()).ok()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignOutReason {
    /// The server no longer accepts the session.
    Expired,
    /// The account was deleted.
    AccountDeleted,
}

/// How far one of the user's writes has got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Delivery {
    /// Waiting in the outbox.
    Pending,
    /// Refused by the server for good: retry or discard `client_id`.
    Failed {
        client_id: Uuid,
        reason: ApiError,
    },
    /// The server has it.
    Sent,
    Delivered,
    Read,
}

impl From<MessageState> for Delivery {
    fn from(s: MessageState) -> Self {
        match s {
            MessageState::Sent => Delivery::Sent,
            MessageState::Delivered => Delivery::Delivered,
            MessageState::Read => Delivery::Read,
        }
    }
}

/// A conversation in a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationSummary {
    pub id: Uuid,
    pub subject: String,
    pub order_id: Option<Uuid>,
    /// `None` while it waits in the outbox.
    pub conversation: Option<Conversation>,
    /// Messages from the other side not yet read.
    pub unread: i64,
    pub last_body: Option<String>,
    pub last_at: Option<Timestamp>,
    pub delivery: Delivery,
}

/// One line of a thread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadLine {
    pub id: Uuid,
    pub body: String,
    pub kind: MessageKind,
    pub mine: bool,
    pub author_name: Option<String>,
    pub created_at: Timestamp,
    pub delivery: Delivery,
    pub attachments: Vec<Attachment>,
}

/// A conversation and its lines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadView {
    pub summary: ConversationSummary,
    pub lines: Vec<ThreadLine>,
}

/// What changed in an open thread since the screen last read it: the
/// lines it asked for (by [`Changes::messages`]) as they are now, those of
/// them no longer in the thread, and the summary (unread count, status,
/// rating), read again each time. [`ThreadView::apply`] merges it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadDelta {
    pub summary: ConversationSummary,
    /// The asked-for lines in this thread, in thread order.
    pub lines: Vec<ThreadLine>,
    /// Asked-for lines not in this thread (discarded, or another
    /// conversation's): a line shown under one of these ids goes.
    pub gone: Vec<Uuid>,
}

impl ThreadLine {
    /// Still in the outbox (pending or refused): such lines follow the
    /// stored ones, in the order they were written.
    pub fn unsent(&self) -> bool {
        matches!(self.delivery, Delivery::Pending | Delivery::Failed { .. })
    }

    /// Where a stored line sorts: as the store lists messages (the
    /// millisecond it was written, then its id).
    fn sort_key(&self) -> (i64, Uuid) {
        (self.created_at.as_millisecond(), self.id)
    }
}

impl ThreadView {
    /// Merges `delta` so the view reads as a whole new read would: each
    /// line it names replaced (in place while it keeps its section),
    /// stored lines at their place in the store's order, newly unsent ones
    /// after the rest (the outbox's order), gone ones removed.
    pub fn apply(&mut self, delta: ThreadDelta) {
        self.summary = delta.summary;
        self.lines.retain(|l| !delta.gone.contains(&l.id));
        for line in delta.lines {
            let at = self.lines.iter().position(|l| l.id == line.id);
            match at {
                Some(i) if self.lines[i].unsent() == line.unsent() => {
                    self.lines[i] = line;
                    continue;
                }
                Some(i) => {
                    self.lines.remove(i);
                }
                None => {}
            }
            if line.unsent() {
                self.lines.push(line);
            } else {
                let key = line.sort_key();
                let at = self
                    .lines
                    .iter()
                    .position(|l| l.unsent() || l.sort_key() > key)
                    .unwrap_or(self.lines.len());
                self.lines.insert(at, line);
            }
        }
    }
}

/// The home screen at a glance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HomeView {
    /// Orders still on their way, most recent first.
    pub active_orders: Vec<Order>,
    /// Conversations not resolved, most recently active first.
    pub open_conversations: Vec<ConversationSummary>,
    /// Callbacks still to happen, soonest first.
    pub upcoming_callbacks: Vec<CallbackLine>,
}

/// A callback as the user sees it: the server's, or one still in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallbackLine {
    pub callback: Callback,
    /// `Pending` while a request, cancellation or change waits to be sent.
    pub delivery: Delivery,
}

/// An attachment the UI picked, as bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PickedFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// A file written on the user's behalf.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedFile {
    pub path: String,
    pub bytes: u64,
}

/// A conversation in the agent's inbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboxRow {
    pub summary: ConversationSummary,
    pub customer_id: uuid::Uuid,
    pub customer_name: String,
    /// Since when the customer waits for an answer (their last message has
    /// no staff reply after it).
    pub waiting_since: Option<Timestamp>,
    pub order_number: Option<String>,
}

/// Everything about one customer, beside the thread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerView {
    pub customer_id: uuid::Uuid,
    pub name: String,
    pub profile: Option<crate::profile::Profile>,
    /// Delayed ones first, then newest.
    pub orders: Vec<Order>,
    pub conversations: Vec<ConversationSummary>,
    /// Soonest first.
    pub callbacks: Vec<Callback>,
}

/// A callback in the staff queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueRow {
    pub line: CallbackLine,
    pub customer_name: String,
    pub order_number: Option<String>,
}

/// The inbox's groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InboxGroup {
    Unassigned,
    Mine,
    All,
}

/// What the inbox shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboxFilter {
    pub group: InboxGroup,
    pub status: Option<crate::chat::ConversationStatus>,
    pub has_order: bool,
    /// Only customers waiting over an hour.
    pub waiting_long: bool,
    /// Conversations matching a message search (`None`: no search).
    pub matches: Option<Vec<uuid::Uuid>>,
}

/// One page of the inbox and how many rows match in all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboxPage {
    pub rows: Vec<InboxRow>,
    pub total: usize,
}

/// The rows to show: unassigned and mine leave out resolved ones; the
/// longest-waiting customer first, then the most recently active.
pub fn filter_inbox<'a>(
    rows: &'a [InboxRow],
    me: uuid::Uuid,
    f: &InboxFilter,
    now: Timestamp,
) -> Vec<&'a InboxRow> {
    use crate::chat::ConversationStatus;
    let hour_ago = now - jiff::SignedDuration::from_hours(1);
    let mut out: Vec<&InboxRow> = rows
        .iter()
        .filter(|r| {
            let Some(c) = &r.summary.conversation else {
                return false;
            };
            let group = match f.group {
                InboxGroup::Unassigned => {
                    c.assigned_agent_id.is_none() && c.status != ConversationStatus::Resolved
                }
                InboxGroup::Mine => {
                    c.assigned_agent_id == Some(me) && c.status != ConversationStatus::Resolved
                }
                InboxGroup::All => true,
            };
            group
                && f.status.is_none_or(|s| c.status == s)
                && (!f.has_order || r.summary.order_id.is_some())
                && (!f.waiting_long || r.waiting_since.is_some_and(|w| w <= hour_ago))
                && f.matches.as_ref().is_none_or(|m| m.contains(&r.summary.id))
        })
        .collect();
    out.sort_by(|a, b| match (a.waiting_since, b.waiting_since) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => b.summary.last_at.cmp(&a.summary.last_at),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;
    use crate::chat::Message;

    fn message(conversation: Uuid) -> SyncItem {
        SyncItem::Message(Message {
            id: Uuid::from_u128(9),
            conversation_id: conversation,
            author_id: Uuid::from_u128(1),
            author_role: Role::Customer,
            author_name: "Ana".into(),
            kind: MessageKind::Text,
            body: "it's late".into(),
            state: MessageState::Sent,
            created_at: Timestamp::UNIX_EPOCH,
            attachments: vec![],
        })
    }

    #[test]
    fn a_message_touches_only_its_conversation() {
        let (a, b) = (Uuid::from_u128(10), Uuid::from_u128(11));
        let c = Changes::of_items(&[message(a), message(a)]);
        assert_eq!(c.kinds, [EntityKind::Conversation, EntityKind::Message]);
        assert_eq!(c.conversations, [a]);
        assert!(c.touches_conversation(a));
        assert!(!c.touches_conversation(b));
        assert!(!c.touches(EntityKind::Order));
        assert!(!c.touches_order(Uuid::from_u128(12)));
    }

    #[test]
    fn a_message_is_named_so_a_thread_can_ask_for_its_line_alone() {
        let c = Changes::of_items(&[message(Uuid::from_u128(10))]);
        assert_eq!(c.messages, [Uuid::from_u128(9)]);
        assert!(c.lines_known());
        let removed =
            Changes::of_items(&[SyncItem::removed(EntityKind::Message, Uuid::from_u128(3))]);
        assert!(!removed.lines_known());
        let gone = Changes::of_items(&[SyncItem::removed(
            EntityKind::Conversation,
            Uuid::from_u128(3),
        )]);
        assert!(!gone.lines_known());
        assert!(!Changes::everything().lines_known());
        // A change from before the field existed reads as naming none.
        let old: Changes = serde_json::from_str(
            r#"{"kinds":[],"conversations":[],"orders":[],"customers":[],"unscoped":[]}"#,
        )
        .unwrap();
        assert!(old.messages.is_empty());
    }

    fn line(n: u128, at_ms: i64, delivery: Delivery) -> ThreadLine {
        ThreadLine {
            id: Uuid::from_u128(n),
            body: format!("line {n}"),
            kind: MessageKind::Text,
            mine: true,
            author_name: None,
            created_at: Timestamp::from_millisecond(at_ms).unwrap(),
            delivery,
            attachments: vec![],
        }
    }

    fn summary(unread: i64) -> ConversationSummary {
        ConversationSummary {
            id: Uuid::from_u128(100),
            subject: "parcel".into(),
            order_id: None,
            conversation: None,
            unread,
            last_body: None,
            last_at: None,
            delivery: Delivery::Sent,
        }
    }

    fn ids(v: &ThreadView) -> Vec<(u128, Delivery)> {
        v.lines
            .iter()
            .map(|l| (l.id.as_u128(), l.delivery.clone()))
            .collect()
    }

    #[test]
    fn a_delta_merges_as_a_whole_read_would_order_it() {
        let failed = Delivery::Failed {
            client_id: Uuid::from_u128(77),
            reason: ApiError::new(crate::ErrorCode::ValidationFailed, "no"),
        };
        let mut view = ThreadView {
            summary: summary(0),
            lines: vec![
                line(1, 10, Delivery::Read),
                line(3, 30, Delivery::Sent),
                line(5, 5, Delivery::Pending),
                line(6, 6, failed.clone()),
            ],
        };
        view.apply(ThreadDelta {
            summary: summary(2),
            lines: vec![
                // A reply written between two stored lines.
                line(2, 20, Delivery::Sent),
                // A state change, in place.
                line(3, 30, Delivery::Read),
                // The pending line is stored now: among the stored, by time.
                line(5, 40, Delivery::Sent),
                // Retried: still unsent, in place.
                line(6, 6, Delivery::Pending),
                // Newly queued: last.
                line(7, 7, Delivery::Pending),
            ],
            gone: vec![Uuid::from_u128(1), Uuid::from_u128(99)],
        });
        assert_eq!(view.summary.unread, 2);
        assert_eq!(
            ids(&view),
            [
                (2, Delivery::Sent),
                (3, Delivery::Read),
                (5, Delivery::Sent),
                (6, Delivery::Pending),
                (7, Delivery::Pending),
            ]
        );
        // Refused again: the line stays where it is.
        view.apply(ThreadDelta {
            summary: summary(0),
            lines: vec![line(6, 6, failed.clone())],
            gone: vec![],
        });
        assert_eq!(view.lines[3].delivery, failed);
        // Same millisecond: the id decides, as the store's order does.
        view.apply(ThreadDelta {
            summary: summary(0),
            lines: vec![line(4, 30, Delivery::Sent)],
            gone: vec![],
        });
        assert_eq!(
            view.lines
                .iter()
                .map(|l| l.id.as_u128())
                .collect::<Vec<_>>(),
            [2, 3, 4, 5, 6, 7]
        );
    }

    #[test]
    fn merged_changes_carry_the_followed_lines_only_when_every_part_did() {
        let (a, b) = (Uuid::from_u128(10), Uuid::from_u128(11));
        let with_lines = |conversation: Uuid, n: u128| {
            let mut c = Changes::of_items(&[message(conversation)]);
            c.thread = Some(FollowedLines {
                conversation_id: conversation,
                deltas: vec![ThreadDelta {
                    summary: summary(0),
                    lines: vec![line(n, 1, Delivery::Sent)],
                    gone: vec![],
                }],
            });
            c
        };
        let delta_lines = |c: &Changes| -> Vec<u128> {
            c.thread
                .iter()
                .flat_map(|t| &t.deltas)
                .flat_map(|d| &d.lines)
                .map(|l| l.id.as_u128())
                .collect()
        };
        // Into nothing yet (a screen's first take): kept.
        let mut seen = Changes::default();
        seen.merge(&with_lines(a, 1));
        assert_eq!(delta_lines(&seen), [1]);
        // A second event with its lines: both, in order.
        seen.merge(&with_lines(a, 2));
        assert_eq!(delta_lines(&seen), [1, 2]);
        assert_eq!(seen.thread.as_ref().unwrap().conversation_id, a);
        // Another conversation's change: the lines stay whole.
        seen.merge(&Changes::of_items(&[message(b)]));
        assert_eq!(delta_lines(&seen), [1, 2]);
        // A change to this thread without them: the screen must read.
        seen.merge(&Changes::of_items(&[message(a)]));
        assert_eq!(seen.thread, None);
        seen.merge(&with_lines(a, 3));
        assert_eq!(seen.thread, None, "a part is still missing");
        // Lines that came first, then a part that touched this thread
        // without them (e.g. a resync): none.
        let mut seen = with_lines(a, 1);
        seen.merge(&Changes::everything());
        assert_eq!(seen.thread, None);
        // Unread-only changes elsewhere, then the lines: kept.
        let mut seen = Changes::of_items(&[message(b)]);
        seen.merge(&with_lines(a, 4));
        assert_eq!(delta_lines(&seen), [4]);
        // Not on the wire unless there.
        let json = serde_json::to_string(&Changes::of_items(&[message(a)])).unwrap();
        assert!(!json.contains("thread"), "{json}");
    }

    #[test]
    fn a_tombstone_touches_every_screen_of_its_kind() {
        let c = Changes::of_items(&[SyncItem::removed(EntityKind::Message, Uuid::from_u128(3))]);
        assert!(c.touches_conversation(Uuid::from_u128(10)));
        assert!(!c.touches_order(Uuid::from_u128(12)));
        let unknown = Changes::of_items(&[SyncItem::Removed {
            kind: "hologram".into(),
            id: Uuid::from_u128(3),
        }]);
        assert_eq!(unknown, Changes::everything());
    }

    #[test]
    fn merging_keeps_each_id_once() {
        let (a, b) = (Uuid::from_u128(10), Uuid::from_u128(11));
        let mut c = Changes::of_items(&[message(a)]);
        let mut d = Changes::default();
        d.message(a, Uuid::from_u128(9), None);
        d.callback(Some(b));
        c.merge(&d);
        assert_eq!(c.conversations, [a]);
        assert_eq!(c.messages, [Uuid::from_u128(9)]);
        assert_eq!(c.customers, [b]);
        assert_eq!(
            c.kinds,
            [
                EntityKind::Conversation,
                EntityKind::Message,
                EntityKind::Callback
            ]
        );
        assert!(c.touches_customer(b));
        assert!(!Changes::default().touches_customer(b));
    }

    #[test]
    fn kinds_round_trip_their_stored_word() {
        for k in EntityKind::ALL {
            assert_eq!(EntityKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        assert_eq!(EntityKind::parse("nope"), None);
    }
}
