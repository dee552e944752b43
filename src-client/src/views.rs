//! What the screens show, read from the local store and the outbox: the
//! shell returns these to the UI as they are. Everything here works offline.

use jiff::Timestamp;
use mostrador_core::app::{
    CallbackLine, ConversationSummary, Delivery, HomeView, ThreadLine, ThreadView,
};
use mostrador_core::auth::Me;
use mostrador_core::callbacks::{Callback, CallbackStatus};
use mostrador_core::chat::ConversationStatus;
use mostrador_core::orders::Order;
use mostrador_core::profile::Profile;
use mostrador_core::sync::MutationOp;
use uuid::Uuid;

use crate::echo;
use crate::engine::Engine;
use crate::store::OutboxItem;
use crate::ClientError;

fn delivery(d: &echo::Delivery) -> Delivery {
    match d {
        echo::Delivery::Pending => Delivery::Pending,
        echo::Delivery::Failed { client_id, reason } => Delivery::Failed {
            client_id: *client_id,
            reason: reason.clone(),
        },
        echo::Delivery::Stored(s) => (*s).into(),
    }
}

fn outbox_delivery(item: &OutboxItem) -> Delivery {
    match &item.wedged {
        Some(reason) => Delivery::Failed {
            client_id: item.mutation.client_id,
            reason: reason.clone(),
        },
        None => Delivery::Pending,
    }
}

impl Engine {
    /// The signed-in user as last confirmed by the server.
    pub async fn me(&self) -> Result<Option<Me>, ClientError> {
        self.store().me().await
    }

    pub(crate) async fn my_id(&self) -> Result<Uuid, ClientError> {
        self.me().await?.map(|m| m.id).ok_or(ClientError::SignedOut)
    }

    /// The signed-in user's own conversations, most recently active first,
    /// with unread counts and the last message; those still in the outbox
    /// included. A staff device caches every customer's conversations; its
    /// shopper view shows only the staff member's own.
    pub async fn conversation_summaries(&self) -> Result<Vec<ConversationSummary>, ClientError> {
        let me = self.my_id().await?;
        let mut out = self.summaries(None).await?;
        out.retain(|s| s.conversation.as_ref().is_none_or(|c| c.customer_id == me));
        Ok(out)
    }

    /// Summaries of every cached conversation, or of `only` one.
    async fn summaries(&self, only: Option<Uuid>) -> Result<Vec<ConversationSummary>, ClientError> {
        let me = self.my_id().await?;
        let unread = self.store().unread_counts(me, only).await?;
        let last = self.store().last_text_messages(only).await?;
        let mut out: Vec<ConversationSummary> = self
            .conversations()
            .await?
            .into_iter()
            .filter(|line| only.is_none_or(|o| o == line.id))
            .map(|line| {
                let last_msg = last.get(&line.id);
                ConversationSummary {
                    id: line.id,
                    subject: line.subject,
                    order_id: line.order_id,
                    unread: unread.get(&line.id).copied().unwrap_or(0),
                    last_body: last_msg.map(|m| m.body.clone()),
                    last_at: last_msg
                        .map(|m| m.created_at)
                        .or_else(|| line.conversation.as_ref().map(|c| c.updated_at)),
                    delivery: delivery(&line.delivery),
                    conversation: line.conversation,
                }
            })
            .collect();
        // Unsent writes are the newest thing the user did: show them on top.
        out.sort_by_key(|s| {
            std::cmp::Reverse((
                matches!(s.delivery, Delivery::Pending | Delivery::Failed { .. }),
                s.last_at,
            ))
        });
        Ok(out)
    }

    /// One conversation with its thread; `None` if this device has never
    /// seen it.
    pub async fn thread_view(
        &self,
        conversation_id: Uuid,
    ) -> Result<Option<ThreadView>, ClientError> {
        let me = self.my_id().await?;
        let Some(summary) = self
            .summaries(Some(conversation_id))
            .await?
            .into_iter()
            .next()
        else {
            return Ok(None);
        };
        let lines = self
            .thread(conversation_id)
            .await?
            .into_iter()
            .map(|l| ThreadLine {
                id: l.id,
                mine: l.author_id.is_none_or(|a| a == me),
                body: l.body,
                kind: l.kind,
                author_name: l.author_name,
                created_at: l.created_at,
                delivery: delivery(&l.delivery),
                attachments: l.attachments,
            })
            .collect();
        Ok(Some(ThreadView { summary, lines }))
    }

    /// The signed-in user's own orders, most recently placed first (a staff
    /// device caches every customer's; its shopper view shows only its own).
    pub async fn orders(&self) -> Result<Vec<Order>, ClientError> {
        let me = self.my_id().await?;
        let mut orders: Vec<Order> = self.store().list(None).await?;
        orders.retain(|o| o.customer_id == Some(me));
        orders.reverse();
        Ok(orders)
    }

    pub async fn order(&self, id: Uuid) -> Result<Option<Order>, ClientError> {
        self.store().get(id).await
    }

    /// The signed-in user's profile: from the cache, or (when the feed has
    /// not carried it yet) from the server.
    pub async fn profile(&self) -> Result<Option<Profile>, ClientError> {
        let me = self.my_id().await?;
        let cached = self
            .store()
            .list::<Profile>(None)
            .await?
            .into_iter()
            .find(|p| p.user_id == me);
        if cached.is_some() {
            return Ok(cached);
        }
        match self.api().get::<Profile>("/api/v1/me/profile").await {
            Ok(p) => Ok(Some(p)),
            Err(ClientError::Network(_)) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// The signed-in user's own callbacks, soonest slot first, with the
    /// requests, cancellations and changes still in the outbox applied on
    /// top (a staff device caches every customer's; this shows its own).
    pub async fn callback_lines(&self) -> Result<Vec<CallbackLine>, ClientError> {
        let me = self.my_id().await?;
        let mut lines = self.all_callback_lines().await?;
        lines.retain(|l| l.callback.customer_id == me);
        Ok(lines)
    }

    /// Every cached callback (staff: every customer's), as
    /// [`Engine::callback_lines`] shows them.
    pub(crate) async fn all_callback_lines(&self) -> Result<Vec<CallbackLine>, ClientError> {
        let me = self.my_id().await?;
        let mut lines: Vec<CallbackLine> = self
            .store()
            .list::<Callback>(None)
            .await?
            .into_iter()
            .map(|callback| CallbackLine {
                callback,
                delivery: Delivery::Sent,
            })
            .collect();
        for item in self.outbox().await? {
            let at = Timestamp::from_millisecond(item.created_at).unwrap_or(Timestamp::UNIX_EPOCH);
            match &item.mutation.op {
                MutationOp::RequestCallback(r) => {
                    if lines.iter().any(|l| l.callback.id == r.id) {
                        continue;
                    }
                    let window = r.windows.first();
                    lines.push(CallbackLine {
                        callback: Callback {
                            id: r.id,
                            customer_id: me,
                            channel: r.channel,
                            phone: r.phone.clone(),
                            topic: r.topic.clone(),
                            order_id: r.order_id,
                            time_zone: r.time_zone.clone(),
                            slot_start: window.map(|w| w.start),
                            slot_end: window.map(|w| w.end),
                            status: CallbackStatus::Requested,
                            outcome_note: None,
                            created_at: at,
                            updated_at: at,
                        },
                        delivery: outbox_delivery(&item),
                    });
                }
                MutationOp::CancelCallback { callback_id } => {
                    if let Some(l) = lines.iter_mut().find(|l| l.callback.id == *callback_id) {
                        l.callback.status = CallbackStatus::Cancelled;
                        l.delivery = outbox_delivery(&item);
                    }
                }
                MutationOp::RescheduleCallback {
                    callback_id,
                    reschedule,
                } => {
                    if let Some(l) = lines.iter_mut().find(|l| l.callback.id == *callback_id) {
                        if let Some(w) = reschedule.windows.first() {
                            l.callback.slot_start = Some(w.start);
                            l.callback.slot_end = Some(w.end);
                        }
                        l.delivery = outbox_delivery(&item);
                    }
                }
                _ => {}
            }
        }
        lines.sort_by_key(|l| l.callback.slot_start.unwrap_or(l.callback.created_at));
        Ok(lines)
    }

    /// The home screen: what is on its way, what is open, what is booked.
    pub async fn home(&self) -> Result<HomeView, ClientError> {
        let active_orders = self
            .orders()
            .await?
            .into_iter()
            .filter(|o| o.status.is_active())
            .collect();
        let open_conversations = self
            .conversation_summaries()
            .await?
            .into_iter()
            .filter(|s| {
                s.conversation
                    .as_ref()
                    .is_none_or(|c| c.status != ConversationStatus::Resolved)
                    || s.unread > 0
            })
            .collect();
        let upcoming_callbacks = self
            .callback_lines()
            .await?
            .into_iter()
            .filter(|l| l.callback.status.is_pending())
            .collect();
        Ok(HomeView {
            active_orders,
            open_conversations,
            upcoming_callbacks,
        })
    }
}
