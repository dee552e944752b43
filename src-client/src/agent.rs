//! What agent mode shows, from the local store (staff devices cache every
//! customer's support data): the inbox with waiting times, one customer at a
//! glance, the callback queue, message search; and the agent's writes,
//! through the outbox like everyone's.

use std::collections::HashMap;

use jiff::Timestamp;
use mostrador_core::app::{CustomerView, InboxRow, QueueRow};
use mostrador_core::callbacks::{Callback, CallbackOutcome, CallbackStatus};
use mostrador_core::chat::{MessageKind, SendMessage, UpdateConversation};
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
            "SELECT json_extract(json, '$.author_id') AS id, json_extract(json, '$.author_name') AS name
             FROM entities WHERE kind = 'message' AND json_extract(json, '$.author_role') = 'customer'
             GROUP BY json_extract(json, '$.author_id')",
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

    /// Every conversation with its customer, waiting time and order.
    pub async fn inbox(&self) -> Result<Vec<InboxRow>, ClientError> {
        let names = self.customer_names().await?;
        // Per conversation: the customer's last message and staff's last reply.
        let rows = sqlx::query(
            "SELECT parent_id,
                MAX(CASE WHEN json_extract(json, '$.author_role') = 'customer' THEN sort_key END) AS customer_at,
                MAX(CASE WHEN json_extract(json, '$.author_role') <> 'customer'
                          AND json_extract(json, '$.kind') = 'text' THEN sort_key END) AS staff_at
             FROM entities WHERE kind = 'message' GROUP BY parent_id",
        )
        .fetch_all(self.store().pool())
        .await
        .map_err(db_err)?;
        let mut waiting: HashMap<String, Option<i64>> = HashMap::new();
        for r in rows {
            let parent: String = r.try_get("parent_id").map_err(db_err)?;
            let customer_at: Option<i64> = r.try_get("customer_at").map_err(db_err)?;
            let staff_at: Option<i64> = r.try_get("staff_at").map_err(db_err)?;
            let since = match (customer_at, staff_at) {
                (Some(c), Some(s)) if c > s => Some(c),
                (Some(c), None) => Some(c),
                _ => None,
            };
            waiting.insert(parent, since);
        }
        let numbers: HashMap<Uuid, String> = self
            .store()
            .list::<Order>("order", None)
            .await?
            .into_iter()
            .map(|o| (o.id, o.number))
            .collect();
        let mut out = Vec::new();
        for summary in self.conversation_summaries().await? {
            let Some(conv) = &summary.conversation else {
                continue;
            };
            let customer_id = conv.customer_id;
            out.push(InboxRow {
                customer_name: names
                    .get(&customer_id)
                    .cloned()
                    .unwrap_or_else(|| customer_id.to_string()[..8].to_owned()),
                waiting_since: waiting
                    .get(&summary.id.to_string())
                    .copied()
                    .flatten()
                    .and_then(|ms| Timestamp::from_millisecond(ms).ok())
                    .filter(|_| conv.status != mostrador_core::chat::ConversationStatus::Resolved),
                order_number: summary.order_id.and_then(|o| numbers.get(&o).cloned()),
                customer_id,
                summary,
            });
        }
        Ok(out)
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
        let conversations = self
            .conversation_summaries()
            .await?
            .into_iter()
            .filter(|s| {
                s.conversation
                    .as_ref()
                    .is_some_and(|c| c.customer_id == customer_id)
            })
            .collect();
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
            .callback_lines()
            .await?
            .into_iter()
            .filter(|l| l.callback.status != CallbackStatus::Cancelled)
            .map(|line| QueueRow {
                customer_name: names
                    .get(&line.callback.customer_id)
                    .cloned()
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
