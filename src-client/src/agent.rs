//! What agent mode shows, from the local store (staff devices cache every
//! customer's support data): the inbox with waiting times, one customer at a
//! glance, the callback queue, message search. The agent's writes (reply,
//! note, conversation updates, callback outcomes) are in `writes.rs`.

use std::collections::HashMap;

use jiff::Timestamp;
use mostrador_core::app::{
    ConversationSummary, CustomerView, Delivery, InboxFilter, InboxPage, InboxRow, QueueRow,
};
use mostrador_core::callbacks::{Callback, CallbackStatus};
use mostrador_core::chat::Conversation;
use mostrador_core::orders::{Order, TrackingStatus};
use mostrador_core::profile::Profile;
use uuid::Uuid;

use crate::engine::Engine;
use crate::rules::inbox::{InboxEntry, InboxQuery};
use crate::ClientError;

impl Engine {
    /// Customers' names: from their profiles, else from their messages.
    async fn customer_names(&self) -> Result<HashMap<Uuid, String>, ClientError> {
        let mut names = self.store().customer_names_from_messages().await?;
        for p in self.store().list::<Profile>(None).await? {
            names.insert(p.user_id, p.display_name);
        }
        Ok(names)
    }

    /// A conversation as a list line, with its last text message.
    async fn summary_of(&self, c: Conversation) -> Result<ConversationSummary, ClientError> {
        let last = self.store().last_text_message(c.id).await?;
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

    /// One page of the inbox: the conversations `filter` keeps (with their
    /// customer, waiting time and order), longest-waiting first, `limit`
    /// rows, and how many match in all. The store filters, sorts and cuts
    /// (`Store::inbox`, the answer of `mostrador_core::app::filter_inbox`),
    /// so only the rows shown are read, with their last message and order
    /// number, however many conversations are cached.
    pub async fn inbox(
        &self,
        filter: &InboxFilter,
        search: Option<&str>,
        limit: usize,
    ) -> Result<InboxPage, ClientError> {
        let started = crate::platform::now_ms();
        let me = self.me().await?.map(|m| m.id).unwrap_or_default();
        let mut filter = filter.clone();
        if let Some(q) = search.filter(|q| !q.trim().is_empty()) {
            filter.matches = Some(self.search_messages(q).await?);
        }
        let listed = crate::platform::now_ms();
        let hour_ago = Timestamp::now() - jiff::SignedDuration::from_hours(1);
        let slice = self
            .store()
            .inbox(&InboxQuery {
                me,
                filter,
                hour_ago_ms: hour_ago.as_millisecond(),
                limit,
            })
            .await?;
        let total = slice.total;
        let mut page: Vec<InboxRow> = slice
            .entries
            .into_iter()
            .map(InboxEntry::into_row)
            .collect();
        let filtered = crate::platform::now_ms();
        let profiles: HashMap<Uuid, String> = if page.iter().any(|r| r.customer_name.is_empty()) {
            self.store()
                .list::<Profile>(None)
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
                row.order_number = self.store().get::<Order>(order).await?.map(|o| o.number);
            }
        }
        let done = crate::platform::now_ms();
        tracing::debug!(target: "hop", ms = done - started, search_ms = listed - started, page_ms = filtered - listed, rows_ms = done - filtered, rows = page.len(), total, "inbox read");
        Ok(InboxPage { rows: page, total })
    }

    /// Conversations whose messages contain `query` (case-insensitive).
    pub async fn search_messages(&self, query: &str) -> Result<Vec<Uuid>, ClientError> {
        let q = query.trim();
        if q.is_empty() {
            return Ok(Vec::new());
        }
        self.store().conversations_mentioning(q).await
    }

    /// One customer at a glance.
    pub async fn customer(&self, customer_id: Uuid) -> Result<CustomerView, ClientError> {
        let profile = self
            .store()
            .list::<Profile>(None)
            .await?
            .into_iter()
            .find(|p| p.user_id == customer_id);
        let mut orders: Vec<Order> = self
            .store()
            .list::<Order>(None)
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
        let theirs: Vec<Conversation> = self
            .store()
            .list::<Conversation>(None)
            .await?
            .into_iter()
            .rev()
            .filter(|c| c.customer_id == customer_id)
            .collect();
        // Their name: the profile's, else what their messages carried (as
        // `customer_names`, for this one customer: no read of everyone's).
        let name = match &profile {
            Some(p) => Some(p.display_name.clone()),
            None => {
                let activity = self.store().conversation_activity().await?;
                theirs
                    .iter()
                    .find_map(|c| activity.get(&c.id)?.customer_name.clone())
            }
        };
        let mut conversations = Vec::new();
        for c in theirs {
            conversations.push(self.summary_of(c).await?);
        }
        let callbacks: Vec<Callback> = self
            .store()
            .list::<Callback>(None)
            .await?
            .into_iter()
            .filter(|c| c.customer_id == customer_id)
            .collect();
        Ok(CustomerView {
            customer_id,
            name: name.unwrap_or_else(|| customer_id.to_string()),
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
            .list::<Order>(None)
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
}
