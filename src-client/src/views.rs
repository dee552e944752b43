//! What the screens show, read from the local store and the outbox: the
//! shell returns these to the UI as they are. Everything here works offline.

use mostrador_core::app::{
    CallbackLine, ConversationSummary, Delivery, HomeView, ThreadLine, ThreadView,
};
use mostrador_core::auth::Me;
use mostrador_core::callbacks::Callback;
use mostrador_core::chat::ConversationStatus;
use mostrador_core::orders::Order;
use mostrador_core::profile::Profile;
use uuid::Uuid;

use crate::engine::Engine;
use crate::rules::echo;
use crate::ClientError;

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
        let lines = match only {
            // One thread's summary reads its conversation, not every one
            // cached (a staff device holds thousands).
            Some(id) => self.conversation_line(id).await?,
            None => self.conversations().await?,
        };
        let mut out: Vec<ConversationSummary> = lines
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
                    delivery: line.delivery.to_wire(),
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
        let started = crate::platform::now_ms();
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
                delivery: l.delivery.to_wire(),
                attachments: l.attachments,
            })
            .collect::<Vec<_>>();
        tracing::debug!(target: "hop", ms = crate::platform::now_ms() - started, lines = lines.len(), "thread read");
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
        let cached = self.store().list::<Callback>(None).await?;
        Ok(echo::callback_lines(me, cached, &self.outbox().await?))
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
