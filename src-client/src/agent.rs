//! What agent mode shows, from the local store (staff devices cache every
//! customer's support data): the inbox with waiting times, one customer at a
//! glance, the callback queue, message search; and the agent's writes,
//! through the outbox like everyone's.

use std::collections::HashMap;

use jiff::Timestamp;
use mostrador_core::app::{
    filter_inbox, ConversationSummary, CustomerView, Delivery, InboxFilter, InboxPage, InboxRow,
    QueueRow,
};
use mostrador_core::callbacks::{Callback, CallbackOutcome, CallbackStatus};
use mostrador_core::chat::{
    Conversation, ConversationStatus, Message, MessageKind, SendMessage, UpdateConversation,
};
use mostrador_core::orders::{Order, TrackingStatus};
use mostrador_core::profile::Profile;
use mostrador_core::sync::MutationOp;
use sqlx::Row;
use uuid::Uuid;

use crate::engine::Engine;
use crate::ClientError;

fn db_err(e: sqlx::Error) -> ClientError {
    ClientError::Store(e.to_string())
}

impl Engine {
    /// Customers' names: from their profiles, else from their messages.
    async fn customer_names(&self) -> Result<HashMap<Uuid, String>, ClientError> {
        let mut names = HashMap::new();
        let rows = sqlx::query(
            "SELECT json_extract(e.json, '$.customer_id') AS id, a.customer_name AS name
             FROM conversation_activity a JOIN entities e ON e.kind = 'conversation' AND e.id = a.conversation_id
             WHERE a.customer_name IS NOT NULL",
        )
        .fetch_all(self.store().pool())
        .await
        .map_err(db_err)?;
        for r in rows {
            let (Ok(id), Ok(name)) = (r.try_get::<String, _>("id"), r.try_get::<String, _>("name"))
            else {
                continue;
            };
            if let Ok(id) = id.parse() {
                names.insert(id, name);
            }
        }
        for p in self.store().list::<Profile>("profile", None).await? {
            names.insert(p.user_id, p.display_name);
        }
        Ok(names)
    }

    /// A conversation as a list line, with its last text message.
    async fn summary_of(&self, c: Conversation) -> Result<ConversationSummary, ClientError> {
        let last: Option<String> = sqlx::query_scalar(
            "SELECT json FROM entities WHERE kind = 'message' AND parent_id = ?
             AND json_extract(json, '$.kind') = 'text' ORDER BY sort_key DESC LIMIT 1",
        )
        .bind(c.id.to_string())
        .fetch_optional(self.store().pool())
        .await
        .map_err(db_err)?;
        let last = last.and_then(|j| serde_json::from_str::<Message>(&j).ok());
        Ok(ConversationSummary {
            id: c.id,
            subject: c.subject.clone(),
            order_id: c.order_id,
            unread: 0,
            last_body: last.as_ref().map(|m| m.body.clone()),
            last_at: last
                .map(|m| m.created_at)
                .or(c.last_message_at)
                .or(Some(c.updated_at)),
            delivery: Delivery::Sent,
            conversation: Some(c),
        })
    }

    /// One page of the inbox: every conversation (with its customer,
    /// waiting time and order) filtered and sorted by `filter`, then `limit`
    /// rows. Only the rows shown get their last message and order number
    /// loaded, so it stays fast with thousands of conversations.
    pub async fn inbox(
        &self,
        filter: &InboxFilter,
        search: Option<&str>,
        limit: usize,
    ) -> Result<InboxPage, ClientError> {
        let me = self.me().await?.map(|m| m.id).unwrap_or_default();
        let mut activity: HashMap<String, (Option<i64>, Option<i64>, Option<String>)> =
            HashMap::new();
        for r in sqlx::query(
            "SELECT conversation_id, customer_at, staff_at, customer_name FROM conversation_activity",
        )
        .fetch_all(self.store().pool())
        .await
        .map_err(db_err)?
        {
            activity.insert(
                r.try_get("conversation_id").map_err(db_err)?,
                (
                    r.try_get("customer_at").map_err(db_err)?,
                    r.try_get("staff_at").map_err(db_err)?,
                    r.try_get("customer_name").map_err(db_err)?,
                ),
            );
        }
        let conversations: Vec<Conversation> = self.store().list("conversation", None).await?;
        let rows: Vec<InboxRow> = conversations
            .into_iter()
            .map(|c| {
                let (customer_at, staff_at, name) =
                    activity.get(&c.id.to_string()).cloned().unwrap_or_default();
                let waiting = match (customer_at, staff_at) {
                    (Some(a), Some(b)) if a > b => Some(a),
                    (Some(a), None) => Some(a),
                    _ => None,
                }
                .filter(|_| c.status != ConversationStatus::Resolved)
                .and_then(|ms| Timestamp::from_millisecond(ms).ok());
                InboxRow {
                    summary: ConversationSummary {
                        id: c.id,
                        subject: c.subject.clone(),
                        order_id: c.order_id,
                        unread: 0,
                        last_body: None,
                        last_at: c.last_message_at.or(Some(c.updated_at)),
                        delivery: Delivery::Sent,
                        conversation: Some(c.clone()),
                    },
                    customer_id: c.customer_id,
                    customer_name: name.unwrap_or_default(),
                    waiting_since: waiting,
                    order_number: None,
                }
            })
            .collect();
        let mut filter = filter.clone();
        if let Some(q) = search.filter(|q| !q.trim().is_empty()) {
            filter.matches = Some(self.search_messages(q).await?);
        }
        let matching = filter_inbox(&rows, me, &filter, Timestamp::now());
        let total = matching.len();
        let mut page: Vec<InboxRow> = matching.into_iter().take(limit).cloned().collect();
        let profiles: HashMap<Uuid, String> = if page.iter().any(|r| r.customer_name.is_empty()) {
            self.store()
                .list::<Profile>("profile", None)
                .await?
                .into_iter()
                .map(|p| (p.user_id, p.display_name))
                .collect()
        } else {
            HashMap::new()
        };
        for row in &mut page {
            if row.customer_name.is_empty() {
                row.customer_name = profiles
                    .get(&row.customer_id)
                    .cloned()
                    .unwrap_or_else(|| row.customer_id.to_string()[..8].to_owned());
            }
            if let Some(c) = row.summary.conversation.clone() {
                row.summary = self.summary_of(c).await?;
            }
            if let Some(order) = row.summary.order_id {
                row.order_number = self
                    .store()
                    .get::<Order>("order", order)
                    .await?
                    .map(|o| o.number);
            }
        }
        Ok(InboxPage { rows: page, total })
    }

    /// Conversations whose messages contain `query` (case-insensitive).
    pub async fn search_messages(&self, query: &str) -> Result<Vec<Uuid>, ClientError> {
        let q = query.trim();
        if q.is_empty() {
            return Ok(Vec::new());
        }
        let escaped = q
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT parent_id FROM entities WHERE kind = 'message'
             AND json_extract(json, '$.body') LIKE ? ESCAPE '\\'",
        )
        .bind(format!("%{escaped}%"))
        .fetch_all(self.store().pool())
        .await
        .map_err(db_err)?;
        Ok(ids.into_iter().filter_map(|i| i.parse().ok()).collect())
    }

    /// One customer at a glance.
    pub async fn customer(&self, customer_id: Uuid) -> Result<CustomerView, ClientError> {
        let names = self.customer_names().await?;
        let profile = self
            .store()
            .list::<Profile>("profile", None)
            .await?
            .into_iter()
            .find(|p| p.user_id == customer_id);
        let mut orders: Vec<Order> = self
            .store()
            .list::<Order>("order", None)
            .await?
            .into_iter()
            .filter(|o| o.customer_id == Some(customer_id))
            .collect();
        orders.sort_by_key(|o| {
            (
                o.status != TrackingStatus::Delayed,
                std::cmp::Reverse(o.placed_at),
            )
        });
        let mut conversations = Vec::new();
        for c in self
            .store()
            .list::<Conversation>("conversation", None)
            .await?
            .into_iter()
            .rev()
            .filter(|c| c.customer_id == customer_id)
        {
            conversations.push(self.summary_of(c).await?);
        }
        let callbacks: Vec<Callback> = self
            .store()
            .list::<Callback>("callback", None)
            .await?
            .into_iter()
            .filter(|c| c.customer_id == customer_id)
            .collect();
        Ok(CustomerView {
            customer_id,
            name: names
                .get(&customer_id)
                .cloned()
                .unwrap_or_else(|| customer_id.to_string()),
            profile,
            orders,
            conversations,
            callbacks,
        })
    }

    /// Every callback not cancelled, by slot, with its customer.
    pub async fn callback_queue(&self) -> Result<Vec<QueueRow>, ClientError> {
        let names = self.customer_names().await?;
        let numbers: HashMap<Uuid, String> = self
            .store()
            .list::<Order>("order", None)
            .await?
            .into_iter()
            .map(|o| (o.id, o.number))
            .collect();
        Ok(self
            .all_callback_lines()
            .await?
            .into_iter()
            .filter(|l| l.callback.status != CallbackStatus::Cancelled)
            .map(|line| QueueRow {
                customer_name: names
                    .get(&line.callback.customer_id)
                    .cloned()
                    // Unknown to this device: the UI says "Customer", never an id.
                    .unwrap_or_default(),
                order_number: line
                    .callback
                    .order_id
                    .and_then(|o| numbers.get(&o).cloned()),
                line,
            })
            .collect())
    }

    /// An agent's reply or internal note, with files kept by `attach`.
    pub async fn reply(
        &self,
        conversation_id: Uuid,
        body: &str,
        note: bool,
        attachment_ids: Vec<Uuid>,
    ) -> Result<Uuid, ClientError> {
        if !note {
            return self.say(conversation_id, body, attachment_ids).await;
        }
        let body = body.trim();
        if body.is_empty() {
            return Err(ClientError::Api(mostrador_core::ApiError::new(
                mostrador_core::ErrorCode::ValidationFailed,
                "write the note first",
            )));
        }
        mostrador_core::chat::check_message_length(body).map_err(ClientError::Api)?;
        let id = Uuid::new_v4();
        self.enqueue(MutationOp::SendMessage {
            conversation_id,
            message: SendMessage {
                id,
                body: body.to_owned(),
                kind: MessageKind::Note,
                attachment_ids,
            },
        })
        .await?;
        Ok(id)
    }

    /// Claim, assign, set pending or resolved.
    pub async fn update_conversation(
        &self,
        conversation_id: Uuid,
        update: UpdateConversation,
    ) -> Result<(), ClientError> {
        self.enqueue(MutationOp::UpdateConversation {
            conversation_id,
            update,
        })
        .await
        .map(|_| ())
    }

    /// Start, complete or mark a callback missed.
    pub async fn record_outcome(
        &self,
        callback_id: Uuid,
        outcome: CallbackOutcome,
    ) -> Result<(), ClientError> {
        self.enqueue(MutationOp::RecordOutcome {
            callback_id,
            outcome,
        })
        .await
        .map(|_| ())
    }
}
