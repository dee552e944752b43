//! What the screens show, read from the local store and the outbox: the
//! shell returns these to the UI as they are. Everything here works offline.

use std::collections::HashMap;

use mostrador_core::app::{
    AppEvent, CallbackLine, ConversationSummary, Delivery, FollowedLines, HomeView, ThreadDelta,
    ThreadLine, ThreadView,
};
use mostrador_core::auth::Me;
use mostrador_core::callbacks::Callback;
use mostrador_core::chat::{Conversation, ConversationStatus, Message};
use mostrador_core::orders::Order;
use mostrador_core::profile::Profile;
use uuid::Uuid;

use crate::engine::Engine;
use crate::events::EngineEvent;
use crate::rules::echo::{self, ConversationLine};
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
            .map(|line| summary(line, &unread, &last))
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
            .map(|l| shown_line(l, me))
            .collect::<Vec<_>>();
        tracing::debug!(target: "hop", ms = crate::platform::now_ms() - started, lines = lines.len(), "thread read");
        Ok(Some(ThreadView { summary, lines }))
    }

    /// What changed in an open thread: the lines of `messages` (the
    /// [`Changes::messages`](mostrador_core::app::Changes) the screen was
    /// told of) as [`Engine::thread_view`] would show them now, those not
    /// in this thread any more, and the summary; `None` if the
    /// conversation is gone (discarded unsent). Reads the asked-for
    /// messages by id, not the thread, and the outbox only when one of
    /// them or the conversation is not cached. The screen merges it with
    /// [`ThreadView::apply`](mostrador_core::app::ThreadView::apply); it
    /// reads the whole thread instead after a resync or a removal.
    pub async fn thread_delta(
        &self,
        conversation_id: Uuid,
        messages: &[Uuid],
    ) -> Result<Option<ThreadDelta>, ClientError> {
        let started = crate::platform::now_ms();
        let me = self.my_id().await?;
        let cached: Vec<Message> = self.store().get_many(messages).await?;
        let cached: Vec<Message> = cached
            .into_iter()
            .filter(|m| m.conversation_id == conversation_id)
            .collect();
        let conversation: Option<Conversation> = self.store().get(conversation_id).await?;
        let all_cached = cached.len() == messages.len();
        // Unsent lines (and a conversation opened offline) are in the
        // outbox; stored ones never are shown from it.
        let outbox = if all_cached && conversation.is_some() {
            Vec::new()
        } else {
            self.outbox().await?
        };
        let lines: Vec<ThreadLine> = echo::thread(conversation_id, cached, &outbox)
            .into_iter()
            .filter(|l| messages.contains(&l.id))
            .map(|l| shown_line(l, me))
            .collect();
        let gone = messages
            .iter()
            .filter(|id| !lines.iter().any(|l| l.id == **id))
            .copied()
            .collect();
        let line = echo::conversations(conversation.into_iter().collect(), &outbox)
            .into_iter()
            .find(|l| l.id == conversation_id);
        let Some(line) = line else {
            return Ok(None);
        };
        let summary = self.line_summary(me, line).await?;
        tracing::debug!(target: "hop", ms = crate::platform::now_ms() - started, lines = lines.len(), "thread delta read");
        Ok(Some(ThreadDelta {
            summary,
            lines,
            gone,
        }))
    }

    /// Thread `conversation_id` is open on screen (`open`), or closed.
    /// While it is the one open, [`Engine::ui_event`] reads its changed
    /// lines into each change event that touches it. Closing a thread
    /// that is no longer the open one changes nothing, so a close and the
    /// next thread's open may arrive in either order.
    pub fn follow_thread(&self, conversation_id: Uuid, open: bool) {
        if open {
            self.followed.send_replace(Some(conversation_id));
        } else {
            self.followed.send_if_modified(|f| {
                let was = *f == Some(conversation_id);
                if was {
                    *f = None;
                }
                was
            });
        }
    }

    /// What the UI is told of `event` ([`EngineEvent::for_ui`]; `me`: the
    /// signed-in user). A change that touches the followed thread, with
    /// its lines known, carries them as [`Engine::thread_delta`] reads
    /// them now ([`Changes::thread`](mostrador_core::app::Changes)), so
    /// the open thread redraws without asking: one round trip between
    /// page and shell fewer on the way of every reply. If they cannot be
    /// read the event goes without them and the screen reads them itself.
    pub async fn ui_event(&self, event: &EngineEvent, me: Option<Uuid>) -> Option<AppEvent> {
        let mut ui = event.for_ui(me)?;
        if let AppEvent::Changed(changes) = &mut ui {
            let followed = *self.followed.borrow();
            if let Some(id) =
                followed.filter(|id| changes.conversations.contains(id) && changes.lines_known())
            {
                match self.thread_delta(id, &changes.messages).await {
                    Ok(Some(delta)) => {
                        changes.thread = Some(FollowedLines {
                            conversation_id: id,
                            deltas: vec![delta],
                        })
                    }
                    // Gone (discarded unsent): the screen's own read says so.
                    Ok(None) => {}
                    Err(err) => {
                        tracing::debug!(error = %err, "the followed thread's lines were not read for the event")
                    }
                }
            }
        }
        Some(ui)
    }

    /// One conversation's summary, as [`Engine::summaries`] gives it.
    async fn line_summary(
        &self,
        me: Uuid,
        line: ConversationLine,
    ) -> Result<ConversationSummary, ClientError> {
        let unread = self.store().unread_counts(me, Some(line.id)).await?;
        let last = self.store().last_text_messages(Some(line.id)).await?;
        Ok(summary(line, &unread, &last))
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

    /// The home screen a first frame draws from at once, for `me` (the
    /// signed-in user, if any): a shopper's home view; nothing for staff,
    /// whose first screen is agent mode, or when nobody is signed in.
    pub async fn first_home(&self, me: Option<&Me>) -> Result<Option<HomeView>, ClientError> {
        match me {
            Some(me) if !me.role.is_staff() => Ok(Some(self.home().await?)),
            _ => Ok(None),
        }
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

/// A conversation as a list shows it, from its unread count and last text
/// message (as the store reads them, by conversation).
fn summary(
    line: ConversationLine,
    unread: &HashMap<Uuid, i64>,
    last: &HashMap<Uuid, Message>,
) -> ConversationSummary {
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
}

/// A thread line as the screen gets it (`me`'s own lines are `mine`).
fn shown_line(l: echo::ThreadLine, me: Uuid) -> ThreadLine {
    ThreadLine {
        id: l.id,
        mine: l.author_id.is_none_or(|a| a == me),
        body: l.body,
        kind: l.kind,
        author_name: l.author_name,
        created_at: l.created_at,
        delivery: l.delivery.to_wire(),
        attachments: l.attachments,
    }
}
