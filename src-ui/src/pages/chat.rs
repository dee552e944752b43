//! Messages: the conversation list, a thread with live replies, local
//! echo (pending / failed with retry and discard), attachments, typing,
//! and rating once resolved.

use leptos::prelude::*;
use leptos::task::spawn_local;
use mostrador_core::app::{ConversationSummary, Delivery, PickedFile, ThreadLine, ThreadView};
use mostrador_core::chat::{ConversationStatus, MessageKind};
use mostrador_core::sync::EntityKind;
use uuid::Uuid;
use wasm_bindgen::JsCast;

use crate::app::{ctx, Route};
use crate::i18n::{self, fill, K};
use crate::icons::{Icon, CLIP};
use crate::{drafts, fmt, ipc, logic};
use mostrador_core::chat::MAX_MESSAGE_CHARS;

#[component]
pub fn ChatRow(summary: ConversationSummary) -> impl IntoView {
    let ctx = ctx();
    let lang = ctx.lang();
    let id = summary.id;
    let status = summary
        .conversation
        .as_ref()
        .map(|c| ctx.t(i18n::conversation_status(c.status)));
    let pending = matches!(
        summary.delivery,
        Delivery::Pending | Delivery::Failed { .. }
    )
    .then(|| logic::delivery_label(&summary.delivery, lang).text);
    view! {
        <button type="button" class="row" data-testid="chat-row" data-unread=summary.unread.to_string()
            on:click=move |_| ctx.go(Route::Chat(id))>
            <div class="row-main">
                <strong class="ellipsis" dir="auto">{summary.subject.clone()}</strong>
                <span class="muted ellipsis" dir="auto">{summary.last_body.clone().unwrap_or_default()}</span>
            </div>
            <div class="row-side">
                {(summary.unread > 0).then(|| view! {
                    <span class="badge" data-testid="unread">{i18n::count(lang, i18n::N::NewMessages, summary.unread)}</span>
                })}
                {pending.map(|p| view! { <small class="muted">{p}</small> })}
                {status.map(|s| view! { <small class="muted">{s}</small> })}
                {summary.last_at.map(|t| view! { <small class="muted">{fmt::date_time(lang, t, None)}</small> })}
            </div>
        </button>
    }
}

#[component]
pub fn ChatsPage() -> impl IntoView {
    let ctx = ctx();
    let data = LocalResource::new(move || {
        ctx.watch(&[EntityKind::Conversation, EntityKind::Message]);
        ipc::conversations()
    });
    view! {
        <div class="page">
            <div class="page-head">
                <h1>{ctx.t(K::ChatsTitle)}</h1>
                <button type="button" class="primary" data-testid="new-question" on:click=move |_| ctx.go(Route::Ask(None))>
                    {ctx.t(K::NewQuestion)}
                </button>
            </div>
            {move || match data.get() {
                None => view! { <p class="muted">{ctx.t(K::Loading)}</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert">{ctx.error(&e)}</p> }.into_any(),
                Some(Ok(list)) if list.is_empty() => view! { <p class="muted">{ctx.t(K::NoChats)}</p> }.into_any(),
                Some(Ok(list)) => view! {
                    <div class="card rows" data-testid="chat-list">
                        {list.into_iter().map(|c| view! { <ChatRow summary=c/> }).collect_view()}
                    </div>
                }.into_any(),
            }}
        </div>
    }
}

/// A new question, about an order if given.
#[component]
pub fn AskPage(order: Option<Uuid>) -> impl IntoView {
    let ctx = ctx();
    let key = format!("ask:{}", order.map(|o| o.to_string()).unwrap_or_default());
    let body = drafts::field(key.clone());
    let error = RwSignal::new(None::<String>);
    let order_number = LocalResource::new(move || async move {
        match order {
            Some(id) => ipc::order(id).await.ok().flatten().map(|o| o.number),
            None => None,
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = body.get_untracked();
        if let Some(problem) = composer_problem(ctx.lang(), &text, false, false) {
            error.set(Some(problem));
            return;
        }
        let key = key.clone();
        spawn_local(async move {
            match ipc::ask(order, text).await {
                Ok(id) => {
                    drafts::set(&key, "");
                    ctx.go(Route::Chat(id));
                }
                Err(e) => error.set(Some(ctx.error(&e))),
            }
        });
    };
    view! {
        <div class="page">
            <button type="button" class="link back" data-testid="back" on:click=move |_| ctx.go(Route::Chats)>
                "← " {ctx.t(K::Back)}
            </button>
            <form class="card ask" on:submit=submit>
                <h1>{ctx.t(K::NewQuestion)}</h1>
                {move || order_number.get().flatten().map(|n| view! {
                    <p class="pill" data-testid="ask-order">{fill(ctx.t(K::AboutOrder), &[("number", &n)])}</p>
                })}
                <label class="field">
                    <span class="sr-only">{ctx.t(K::AskPlaceholder)}</span>
                    <textarea rows="5" data-testid="ask-body" placeholder=ctx.t(K::AskPlaceholder)
                        aria-label=ctx.t(K::AskPlaceholder) maxlength=MAX_MESSAGE_CHARS.to_string()
                        aria-invalid=move || error.get().is_some().to_string()
                        aria-describedby=move || described_by(&[
                            ("ask-error", error.with(Option::is_some)),
                            ("ask-count", body.with(|t| near_limit(t))),
                        ])
                        prop:value=move || body.get()
                        on:input=move |ev| { body.set(event_target_value(&ev)); error.set(None); }></textarea>
                </label>
                <CharCount text=body id="ask-count"/>
                {move || error.get().map(|e| view! { <p class="error" role="alert" id="ask-error" data-testid="form-error">{e}</p> })}
                <button type="submit" class="primary" data-testid="ask-send">{ctx.t(K::Send)}</button>
            </form>
        </div>
    }
}

#[component]
pub fn ThreadPage(id: Uuid) -> impl IntoView {
    let ctx = ctx();
    let shown = followed_thread(id, ctx.watch_conversation(id));
    let rating_state = Memo::new(move |_| match shown.get() {
        Some(Ok(Some(t))) => t.summary.conversation.as_ref().map_or((false, None), |c| {
            (
                c.status == ConversationStatus::Resolved,
                c.rating.as_ref().map(|r| r.score),
            )
        }),
        _ => (false, None),
    });
    mark_read_when_shown(id, shown);
    let follow = Follow::new(shown);
    let (state, thread) = (thread_state(shown), loaded_thread(shown));
    view! {
        <div class="page thread-page">
            <button type="button" class="link back" data-testid="back" on:click=move |_| ctx.go(Route::Chats)>
                "← " {ctx.t(K::Back)}
            </button>
            <div class="thread-scroll" node_ref=follow.scroller on:scroll=move |_| follow.scrolled()
                tabindex="0" role="region" aria-label=ctx.t(K::NavChats)>
                <div class="thread-body" node_ref=follow.body>
                    {move || match state.get() {
                        None => view! { <p class="muted">{ctx.t(K::Loading)}</p> }.into_any(),
                        Some(Err(e)) => view! { <p class="error" role="alert">{ctx.error(&e)}</p> }.into_any(),
                        Some(Ok(false)) => view! { <p class="muted">{ctx.t(K::NotFound)}</p> }.into_any(),
                        Some(Ok(true)) => view! { <Thread id=id thread=thread/> }.into_any(),
                    }}
                    // Outside the thread's redraws, so a live change never resets it.
                    {move || {
                        let (resolved, existing) = rating_state.get();
                        resolved.then(|| view! { <Rate id=id existing=existing/> })
                    }}
                </div>
            </div>
            <div class="thread-foot">
                <JumpToNewest follow=follow/>
                <Composer id=id/>
            </div>
        </div>
    }
}

/// How long the other side's new lines are on screen before they are
/// marked read.
const MARK_READ_AFTER: std::time::Duration = std::time::Duration::from_millis(250);

/// Reading a thread marks the other side's messages read: once `shown`
/// has held unread lines for [`MARK_READ_AFTER`], one write for however
/// many came meanwhile, none if the thread was closed first. So the
/// receipt says the lines were on screen, and the write (its command, the
/// outbox's and the change's events, the line redrawn as read) stays out
/// of the frame that draws a new line (`cargo xtask bench agent`).
pub fn mark_read_when_shown(id: Uuid, shown: Shown) {
    let ctx = ctx();
    let waiting = StoredValue::new(false);
    let unread = move || {
        shown
            .try_with_untracked(|s| matches!(s, Some(Ok(Some(t))) if t.summary.unread > 0))
            .unwrap_or(false)
    };
    Effect::new(move |_| {
        shown.track();
        if waiting.get_value() || !unread() {
            return;
        }
        waiting.set_value(true);
        set_timeout(
            move || {
                // `Some`: the thread's screen is gone.
                if waiting.try_set_value(false).is_none() && unread() {
                    ctx.write(ipc::mark_read(id));
                }
            },
            MARK_READ_AFTER,
        );
    });
}

/// Conversation `id`'s thread kept up to date through `watch`: read whole
/// when opened, then, for the changes that reach it, only the lines they
/// name, merged in by [`ThreadView::apply`]: the lines the change events
/// carried (the engine follows this thread while it is open,
/// `ipc::follow_thread`), or else read for them (`thread_delta`); whole
/// again after a resync or a removal whose conversation is unknown, or
/// after a failed read. One read at a time, each taking every change that
/// came before it, so no merge is lost or applied out of order. Like
/// [`last_loaded`], a read in flight keeps the old thread shown.
pub fn followed_thread(id: Uuid, watch: crate::app::Watch) -> Shown {
    let state = RwSignal::new(None::<Result<Option<ThreadView>, mostrador_core::ApiError>>);
    let busy = StoredValue::new(false);
    spawn_local(async move {
        let _ = ipc::follow_thread(id, true).await;
    });
    on_cleanup(move || {
        spawn_local(async move {
            let _ = ipc::follow_thread(id, false).await;
        })
    });
    Effect::new(move |_| {
        watch.track();
        if busy.get_value() {
            // The read in flight goes again for what just came.
            return;
        }
        busy.set_value(true);
        spawn_local(async move {
            let mut first = true;
            loop {
                let changes = watch.take();
                if !first && changes.is_empty() {
                    break;
                }
                first = false;
                let shown = state
                    .try_with_untracked(|s| matches!(s, Some(Ok(Some(_)))))
                    .unwrap_or(false);
                let carried = changes
                    .thread
                    .as_ref()
                    .filter(|t| t.conversation_id == id)
                    .map(|t| t.deltas.clone());
                let answer = if shown && !changes.is_empty() && changes.lines_known() {
                    if let Some(deltas) = carried {
                        crate::probe::mark("thread_lines:carried");
                        crate::probe::count_for_tests("__mostradorFetches", "carried_lines");
                        let _ = state.try_update(|s| {
                            if let Some(Ok(Some(t))) = s {
                                for delta in deltas {
                                    t.apply(delta);
                                }
                            }
                        });
                        continue;
                    }
                    match ipc::thread_delta(id, &changes.messages).await {
                        Ok(Some(delta)) => {
                            let _ = state.try_update(|s| {
                                if let Some(Ok(Some(t))) = s {
                                    t.apply(delta);
                                }
                            });
                            continue;
                        }
                        other => other.map(|_| None),
                    }
                } else {
                    ipc::thread(id).await
                };
                if state.try_set(Some(answer)).is_some() {
                    // The screen is gone.
                    return;
                }
            }
            let _ = busy.try_set_value(false);
        });
    });
    Memo::new(move |_| state.get())
}

/// What `data` last loaded: a reload keeps showing the old value until the
/// new one is there (no "Loading…" flash that would lose the reader's
/// place), and an identical reload redraws nothing.
pub fn last_loaded<T>(data: LocalResource<T>) -> Memo<Option<T>>
where
    T: Clone + PartialEq + Send + Sync + 'static,
{
    Memo::new(move |prev: Option<&Option<T>>| data.get().or_else(|| prev.cloned().flatten()))
}

/// What a thread's load came to: `None` while loading, `Ok(false)` when the
/// conversation is not on this device, `Ok(true)` once it is shown. A reload
/// of a shown thread does not change it, so the thread stays mounted and
/// only what changed in it redraws.
pub fn thread_state(shown: Shown) -> Memo<Option<Result<bool, mostrador_core::ApiError>>> {
    Memo::new(move |_| {
        shown.with(|s| {
            s.as_ref()
                .map(|r| r.as_ref().map(Option::is_some).map_err(Clone::clone))
        })
    })
}

/// The thread last loaded, if any.
pub fn loaded_thread(shown: Shown) -> Memo<Option<ThreadView>> {
    Memo::new(move |_| shown.with(|s| s.clone().and_then(Result::ok).flatten()))
}

/// A thread as [`last_loaded`] keeps it.
pub type Shown = Memo<Option<Result<Option<ThreadView>, mostrador_core::ApiError>>>;

/// The key a thread line is drawn under: its id and a digest of what it
/// shows. A new message adds one line and leaves the others as drawn; a
/// line whose state changed (sent, read, failed) is redrawn alone.
pub fn line_key(line: &ThreadLine) -> (Uuid, u64) {
    digest_key(line.id, line)
}

/// A keyed list's key for something drawn: its id and a digest of all it
/// shows (its `Debug` form), so a changed item is redrawn alone.
pub fn digest_key(id: Uuid, shown: &impl std::fmt::Debug) -> (Uuid, u64) {
    use std::hash::Hasher;
    struct Digest(std::collections::hash_map::DefaultHasher);
    impl std::fmt::Write for Digest {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.0.write(s.as_bytes());
            Ok(())
        }
    }
    let mut d = Digest(std::collections::hash_map::DefaultHasher::new());
    let _ = std::fmt::write(&mut d, format_args!("{shown:?}"));
    (id, d.0.finish())
}

/// Keeps a thread at its newest line: it opens there; a new line (the
/// reader's own, or a live one) keeps a reader who is at the bottom there,
/// also while images load or the window changes size; a reader scrolled
/// up stays put and is offered [`JumpToNewest`] instead.
#[derive(Debug, Clone, Copy)]
pub struct Follow {
    /// The box the thread scrolls in.
    pub scroller: NodeRef<leptos::html::Div>,
    /// Everything inside it (watched for size changes).
    pub body: NodeRef<leptos::html::Div>,
    /// The reader sees the end of the thread.
    at_bottom: StoredValue<bool>,
    /// Lines arrived below a reader scrolled up.
    unseen: RwSignal<bool>,
    /// The newest line already handled.
    newest: StoredValue<Option<Uuid>>,
}

/// How close to the end (px) still counts as reading the newest line.
const AT_BOTTOM_SLACK: i32 = 32;

impl Follow {
    /// Follows the thread `shown` draws.
    pub fn new(shown: Shown) -> Self {
        let follow = Follow {
            scroller: NodeRef::new(),
            body: NodeRef::new(),
            at_bottom: StoredValue::new(true),
            unseen: RwSignal::new(false),
            newest: StoredValue::new(None),
        };
        // Content or box resized (a line added, an image loaded, the window
        // resized): a reader at the bottom stays there.
        Effect::new(move |_| {
            let (Some(scroller), Some(body)) = (follow.scroller.get(), follow.body.get()) else {
                return;
            };
            let keep = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || {
                if follow.at_bottom.try_get_value().unwrap_or(false) {
                    follow.to_newest();
                }
            });
            let Ok(observer) = web_sys::ResizeObserver::new(keep.as_ref().unchecked_ref()) else {
                return;
            };
            observer.observe(&scroller);
            observer.observe(&body);
            let kept = StoredValue::new_local(Some((observer, keep)));
            on_cleanup(move || {
                if let Some(Some((observer, _keep))) = kept.try_update_value(Option::take) {
                    observer.disconnect();
                }
            });
        });
        Effect::new(move |_| {
            if let Some(Ok(Some(t))) = shown.get() {
                follow.lines_changed(&t.lines);
            }
        });
        follow
    }

    /// Scrolls to the newest line.
    pub fn to_newest(self) {
        if let Some(el) = self.scroller.get_untracked() {
            el.set_scroll_top(el.scroll_height());
        }
        let _ = self.at_bottom.try_set_value(true);
        if self.unseen.try_get_untracked() == Some(true) {
            self.unseen.set(false);
        }
    }

    /// The reader scrolled: note whether they are at the end.
    pub fn scrolled(self) {
        let Some(el) = self.scroller.get_untracked() else {
            return;
        };
        if el.scroll_height() <= el.client_height() && !self.at_bottom.get_value() {
            // The content shrank under a reader scrolled up (a redraw):
            // that is not the reader reaching the end.
            return;
        }
        let bottom = el.scroll_height() - el.scroll_top() - el.client_height() <= AT_BOTTOM_SLACK;
        self.at_bottom.set_value(bottom);
        if bottom && self.unseen.get_untracked() {
            self.unseen.set(false);
        }
    }

    /// Whether the line `id` shows in the scroller (`None`: not drawn).
    fn line_visible(self, id: Uuid) -> Option<bool> {
        let scroller = self.scroller.get_untracked()?;
        let line = scroller
            .query_selector(&format!("[data-line=\"{id}\"]"))
            .ok()
            .flatten()?;
        let (l, s) = (
            line.get_bounding_client_rect(),
            scroller.get_bounding_client_rect(),
        );
        Some(l.top() < s.bottom() && l.bottom() > s.top())
    }

    /// The thread was (re)drawn with `lines`: open at the newest, follow
    /// it, or offer the jump.
    fn lines_changed(self, lines: &[ThreadLine]) {
        let last = lines.last().map(|l| (l.id, l.mine));
        let before = self.newest.get_value();
        let now = last.map(|(id, _)| id);
        if now == before {
            return;
        }
        self.newest.set_value(now);
        let first = before.is_none();
        let mine = last.is_some_and(|(_, mine)| mine);
        // Was the reader at the end? Where the previous newest line is now
        // tells (the new ones are drawn below it, nothing has scrolled yet).
        let was_at_bottom = before
            .and_then(|b| self.line_visible(b))
            .unwrap_or_else(|| self.at_bottom.get_value());
        self.at_bottom.set_value(was_at_bottom);
        if first || mine || was_at_bottom {
            self.to_newest();
        } else {
            self.unseen.set(true);
        }
    }
}

/// "New messages ↓": shown while lines arrived below a reader scrolled up.
#[component]
pub fn JumpToNewest(follow: Follow) -> impl IntoView {
    let ctx = ctx();
    view! {
        <Show when=move || follow.unseen.get()>
            <button type="button" class="jump primary" data-testid="jump-to-newest"
                on:click=move |_| follow.to_newest()>
                {ctx.t(K::NewMessagesBelow)} <span aria-hidden="true">" ↓"</span>
            </button>
        </Show>
    }
}

#[component]
fn Thread(id: Uuid, thread: Memo<Option<ThreadView>>) -> impl IntoView {
    let ctx = ctx();
    let subject = Memo::new(move |_| {
        thread.with(|t| {
            t.as_ref()
                .map(|t| t.summary.subject.clone())
                .unwrap_or_default()
        })
    });
    let conversation = Memo::new(move |_| {
        thread.with(|t| t.as_ref().and_then(|t| t.summary.conversation.clone()))
    });
    let status = Memo::new(move |_| conversation.with(|c| c.as_ref().map(|c| c.status)));
    let order_id = Memo::new(move |_| thread.with(|t| t.as_ref().and_then(|t| t.summary.order_id)));
    // Nobody has taken it yet: say whether anyone can, and offer a call.
    let unattended = Memo::new(move |_| {
        conversation.with(|c| {
            c.as_ref().is_some_and(|c| {
                c.assigned_agent_id.is_none() && c.status != ConversationStatus::Resolved
            })
        })
    });
    let lines = Memo::new(move |_| {
        thread.with(|t| {
            t.as_ref().map_or_else(Vec::new, |t| {
                t.lines
                    .iter()
                    .filter(|l| l.kind == MessageKind::Text)
                    .cloned()
                    .collect()
            })
        })
    });
    let typing = move || {
        ctx.typing
            .get()
            .filter(|(c, _, _)| *c == id)
            .map(|(_, name, _)| {
                view! { <p class="typing" data-testid="typing-indicator">{fill(ctx.t(K::Typing), &[("name", &name)])}</p> }
            })
    };
    view! {
        <div class="thread-head">
            <h1 class="subject" dir="auto" data-testid="thread-subject">{move || subject.get()}</h1>
            {move || status.get().map(|s| view! { <span class="pill" data-testid="thread-status" data-status=s.as_str()>{ctx.t(i18n::conversation_status(s))}</span> })}
            {move || order_id.get().map(|o| view! {
                <button type="button" class="link" on:click=move |_| ctx.go(Route::Order(o))>{ctx.t(K::NavOrders)}</button>
            })}
        </div>
        // Mounted while nobody has the conversation, not per reload.
        <Show when=move || unattended.get()>
            <NoAgentBanner order=order_id/>
        </Show>
        <ol class="thread" data-testid="thread" aria-live="polite">
            <For each=move || lines.get() key=line_key children=|l| view! { <Line line=l/> }/>
        </ol>
        {typing}
    }
}

/// How often an open banner asks again whether an agent is free.
const AVAILABILITY_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

#[component]
fn NoAgentBanner(order: Memo<Option<Uuid>>) -> impl IntoView {
    let ctx = ctx();
    // Asks the server when shown, then every minute while it is: presence
    // is not in the cache, so data changes say nothing about it.
    let availability = LocalResource::new(ipc::availability);
    if let Ok(h) = set_interval_with_handle(move || availability.refetch(), AVAILABILITY_EVERY) {
        on_cleanup(move || h.clear());
    }
    view! {
        {move || {
            let none = matches!(availability.get(), Some(Ok(Some(a))) if a.agents_available == 0);
            none.then(|| view! {
                <div class="card no-agent" role="status" data-testid="no-agent-banner">
                    <strong>{ctx.t(K::NoAgentTitle)}</strong>
                    <p class="muted">{ctx.t(K::NoAgentBody)}</p>
                    <button type="button" class="primary" data-testid="no-agent-book"
                        on:click=move |_| ctx.go(Route::BookCall { order: order.get_untracked(), reschedule: None })>{ctx.t(K::BookCall)}</button>
                </div>
            })
        }}
    }
}

#[component]
fn Line(line: ThreadLine) -> impl IntoView {
    let ctx = ctx();
    let lang = ctx.lang();
    let label = logic::delivery_label(&line.delivery, lang);
    let failed_id = match &line.delivery {
        Delivery::Failed { client_id, .. } => Some(*client_id),
        _ => None,
    };
    let who = if line.mine {
        ctx.t(K::You).to_owned()
    } else {
        line.author_name.clone().unwrap_or_default()
    };
    let files = view! { <super::attachments::Attachments files=line.attachments/> };
    let ticks = "✓".repeat(label.ticks as usize);
    view! {
        <li class=if line.mine { "msg mine" } else { "msg theirs" } data-testid="message" data-line=line.id.to_string()
            data-state=label.state data-mine=if line.mine { "true" } else { "false" }>
            <div class="bubble">
                <small class="who">{who}</small>
                <p class="body" dir="auto" data-testid="message-body">{line.body.clone()}</p>
                {files}
                {(line.delivery == Delivery::Pending).then(|| view! { <UploadProgress message=line.id/> })}
                <small class="meta">
                    {fmt::time(lang, line.created_at, None)}
                    {line.mine.then(|| view! {
                        <span class="delivery" data-testid="message-state" title=label.text.clone()>
                            {if ticks.is_empty() { label.text.clone() } else { format!("{ticks} {}", label.text) }}
                        </span>
                    })}
                </small>
                {failed_id.map(|cid| view! {
                    <div class="actions">
                        <button type="button" data-testid="message-retry" on:click=move |_| ctx.write(ipc::retry(cid))>{ctx.t(K::Retry)}</button>
                        <button type="button" class="danger" data-testid="message-discard" on:click=move |_| ctx.write(ipc::discard(cid))>{ctx.t(K::Discard)}</button>
                    </div>
                })}
            </div>
        </li>
    }
}

/// A pending message's file going up: a progress bar with its percentage
/// (shown once the engine reports the upload).
#[component]
pub fn UploadProgress(message: Uuid) -> impl IntoView {
    let ctx = ctx();
    move || {
        let (sent, total) = ctx.uploads.with(|u| u.get(&message).copied())?;
        let percent = (sent.min(total) * 100).checked_div(total).unwrap_or(100);
        // "42%" in English, "42 %" in Spanish and Russian.
        let sign = if ctx.lang() == i18n::Lang::En {
            "%"
        } else {
            "\u{a0}%"
        };
        let text = fill(
            ctx.t(K::UploadProgress),
            &[("percent", &format!("{percent}{sign}"))],
        );
        Some(view! {
            <div class="upload-progress" data-testid="upload-progress">
                <progress max="100" value=percent.to_string() aria-label=text.clone()></progress>
                <small>{text}</small>
            </div>
        })
    }
}

/// Tells the other side "typing…", at most every 2 s (best effort: a
/// lost typing hint costs nothing).
pub fn say_typing(conversation_id: Uuid, last: StoredValue<f64>) {
    let now = js_sys::Date::now();
    if now - last.get_value() > 2000.0 {
        last.set_value(now);
        spawn_local(async move {
            let _ = ipc::typing(conversation_id).await;
        });
    }
}

/// Why a composer will not send `text` now (in the user's language), or
/// `None` when it will: core's `chat::check_body`, the one the engine and
/// the server run (blank without a file, over the limit, a refused
/// character), with the composer's own words for a blank one.
pub fn composer_problem(
    lang: i18n::Lang,
    text: &str,
    has_files: bool,
    note: bool,
) -> Option<String> {
    let err = mostrador_core::chat::check_body(text, has_files && !note).err()?;
    match err.field_problem()? {
        (_, "required") => {
            let k = if note { K::NoteEmpty } else { K::ComposerEmpty };
            Some(k.text(lang).to_owned())
        }
        (field, problem) => i18n::field_text(lang, field, problem),
    }
}

/// Whether `text` is near the server's limit (its [`CharCount`] shows).
pub fn near_limit(text: &str) -> bool {
    text.chars().count() * 10 >= MAX_MESSAGE_CHARS * 9
}

/// `aria-describedby` ids that are on the page: each `(id, shown)` pair
/// whose `shown` holds; `None` when there is none.
pub fn described_by(ids: &[(&'static str, bool)]) -> Option<String> {
    let on: Vec<&str> = ids
        .iter()
        .filter(|(_, shown)| *shown)
        .map(|(id, _)| *id)
        .collect();
    (!on.is_empty()).then(|| on.join(" "))
}

/// Characters used of the server's limit, shown once the text nears it.
#[component]
pub fn CharCount(text: RwSignal<String>, id: &'static str) -> impl IntoView {
    let ctx = ctx();
    let count = Memo::new(move |_| text.with(|t| t.chars().count()));
    view! {
        <Show when=move || text.with(|t| near_limit(t))>
            <small class="hint char-count" class:bad=move || { count.get() > MAX_MESSAGE_CHARS }
                id=id data-testid="composer-count" aria-live="polite">
                {move || fill(ctx.t(K::CharCount), &[
                    ("count", &fmt::number(ctx.lang(), count.get() as i64)),
                    ("max", &fmt::number(ctx.lang(), MAX_MESSAGE_CHARS as i64)),
                ])}
            </small>
        </Show>
    }
}

/// The files picked for the next message, each removable.
#[component]
pub fn PickedFiles(files: RwSignal<Vec<PickedFile>>) -> impl IntoView {
    let ctx = ctx();
    view! {
        <div class="picked">
            {move || files.get().into_iter().enumerate().map(|(i, f)| {
                let label = fill(ctx.t(K::RemoveFile), &[("name", &f.name)]);
                view! {
                    <span class="file-chip" data-testid="picked-file">
                        {f.name.clone()}
                        <button type="button" class="link" aria-label=label
                            on:click=move |_| files.update(|v| { if i < v.len() { v.remove(i); } })>"×"</button>
                    </span>
                }
            }).collect_view()}
        </div>
    }
}

/// The paper clip: picks images and PDFs into `files` (both composers).
#[component]
pub fn AttachButton(files: RwSignal<Vec<PickedFile>>) -> impl IntoView {
    let ctx = ctx();
    view! {
        <label class="attach" title=ctx.t(K::Attach)>
            <Icon path=CLIP/>
            <span class="sr-only">{ctx.t(K::Attach)}</span>
            <input type="file" accept="image/png,image/jpeg,image/gif,image/webp,application/pdf" multiple
                data-testid="composer-attach"
                on:change=move |ev| {
                    let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
                    spawn_local(async move {
                        let picked = read_files(&input).await;
                        input.set_value("");
                        files.update(|v| v.extend(picked));
                    });
                }/>
        </label>
    }
}

async fn read_files(input: &web_sys::HtmlInputElement) -> Vec<PickedFile> {
    let mut out = Vec::new();
    let Some(list) = input.files() else {
        return out;
    };
    for i in 0..list.length() {
        let Some(file) = list.item(i) else { continue };
        if let Ok(buf) = wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await {
            out.push(PickedFile {
                name: file.name(),
                bytes: js_sys::Uint8Array::new(&buf).to_vec(),
            });
        }
    }
    out
}

#[component]
fn Composer(id: Uuid) -> impl IntoView {
    let ctx = ctx();
    let body = drafts::conversation(id);
    let files = RwSignal::new(Vec::<PickedFile>::new());
    let error = RwSignal::new(None::<String>);
    // Set when the user tried to send what cannot go: the hint then shows.
    let tried = RwSignal::new(false);
    let last_typing = StoredValue::new(0.0f64);
    let problem = Memo::new(move |_| {
        composer_problem(ctx.lang(), &body.get(), !files.with(Vec::is_empty), false)
    });
    let send = move || {
        if problem.get_untracked().is_some() {
            tried.set(true);
            return;
        }
        let text = body.get_untracked();
        let picked = files.get_untracked();
        spawn_local(async move {
            match ipc::say(id, text, picked).await {
                Ok(_) => {
                    body.set(String::new());
                    drafts::sent(ctx, id);
                    files.set(Vec::new());
                    error.set(None);
                    tried.set(false);
                }
                Err(e) => error.set(Some(ctx.error(&e))),
            }
        });
    };
    view! {
        <form class="composer" data-testid="composer" on:submit=move |ev| { ev.prevent_default(); send(); }>
            {move || error.get().map(|e| view! { <p class="error" role="alert" data-testid="form-error">{e}</p> })}
            <PickedFiles files=files/>
            <div class="composer-row">
                <AttachButton files=files/>
                <textarea rows="1" data-testid="composer-input" placeholder=ctx.t(K::MessagePlaceholder)
                    aria-label=ctx.t(K::MessagePlaceholder) maxlength=MAX_MESSAGE_CHARS.to_string()
                    aria-describedby=move || described_by(&[
                        ("composer-hint", true),
                        ("composer-count", body.with(|t| near_limit(t))),
                    ])
                    aria-invalid=move || body.with(|t| t.chars().count() > MAX_MESSAGE_CHARS).to_string()
                    prop:value=move || body.get()
                    on:input=move |ev| {
                        body.set(event_target_value(&ev));
                        say_typing(id, last_typing);
                    }
                    on:keydown=move |ev| {
                        if ev.key() == "Enter" && !ev.shift_key() {
                            ev.prevent_default();
                            send();
                        }
                    }></textarea>
                <button type="submit" class="primary" data-testid="composer-send"
                    aria-describedby="composer-hint" disabled=move || problem.get().is_some()>{ctx.t(K::Send)}</button>
            </div>
            <ComposerHint body=body problem=problem tried=tried/>
        </form>
    }
}

/// Why Send is off, said under the box: once the text is over the limit,
/// is only blanks, or the user tried to send nothing.
#[component]
pub fn ComposerHint(
    body: RwSignal<String>,
    problem: Memo<Option<String>>,
    tried: RwSignal<bool>,
) -> impl IntoView {
    let shown = move || {
        let p = problem.get()?;
        let typed = body.with(|t| !t.is_empty());
        (typed || tried.get()).then_some(p)
    };
    view! {
        <div class="composer-foot">
            <small class="hint" id="composer-hint" data-testid="composer-hint" aria-live="polite"
                class:bad=move || body.with(|t| t.chars().count() > MAX_MESSAGE_CHARS)
                class:hidden=move || shown().is_none()>
                {shown}
            </small>
            <CharCount text=body id="composer-count"/>
        </div>
    }
}

#[component]
fn Rate(id: Uuid, existing: Option<i64>) -> impl IntoView {
    let ctx = ctx();
    let score = RwSignal::new(existing.unwrap_or(0));
    let comment = RwSignal::new(String::new());
    let sent = RwSignal::new(existing);
    let error = RwSignal::new(None::<String>);
    let stars = move || {
        mostrador_core::chat::Rating::SCORES
            .map(|n| {
                let label = fill(ctx.t(K::RateStars), &[("n", &n.to_string())]);
                view! {
                    <button type="button" class="star" data-testid=format!("rate-star-{n}")
                        aria-label=label aria-pressed=move || (score.get() >= n).to_string()
                        on:click=move |_| score.set(n)>
                        {move || if score.get() >= n { "★" } else { "☆" }}
                    </button>
                }
            })
            .collect_view()
    };
    view! {
        <section class="card rate" data-testid="rate">
            {move || match sent.get() {
                Some(n) => view! {
                    <p data-testid="rating-done">{fill(ctx.t(K::RatedThanks), &[("n", &n.to_string())])}</p>
                }.into_any(),
                None => view! {
                    <h2>{ctx.t(K::RateTitle)}</h2>
                    <div class="stars" role="group" aria-label=ctx.t(K::RateTitle)>{stars()}</div>
                    <input type="text" data-testid="rate-comment" placeholder=ctx.t(K::RateComment)
                        aria-label=ctx.t(K::RateComment)
                        maxlength=mostrador_core::chat::MAX_COMMENT_CHARS.to_string()
                        on:input=move |ev| comment.set(event_target_value(&ev))/>
                    {move || error.get().map(|e| view! { <p class="error" role="alert" data-testid="form-error">{e}</p> })}
                    <button type="button" class="primary" data-testid="rate-send" disabled=move || score.get() == 0
                        on:click=move |_| {
                            let (s, c) = (score.get_untracked(), comment.get_untracked());
                            spawn_local(async move {
                                match ipc::rate(id, s, Some(c)).await {
                                    Ok(()) => sent.set(Some(s)),
                                    Err(e) => error.set(Some(ctx.error(&e))),
                                }
                            });
                        }>{ctx.t(K::RateSend)}</button>
                }.into_any(),
            }}
        </section>
    }
}
