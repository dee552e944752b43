//! Agent mode: the inbox, a conversation with the customer at a glance
//! beside it, the callback queue, live metrics and saved replies.

use leptos::prelude::*;
use leptos::task::spawn_local;
use mostrador_core::agent::{expand_canned, CannedContext, Metrics};
use mostrador_core::app::{CustomerView, InboxRow, ThreadLine, ThreadView};
use mostrador_core::auth::{Me, Role};
use mostrador_core::callbacks::{CallbackOutcome, CallbackStatus};
use mostrador_core::chat::{Conversation, ConversationStatus, MessageKind, UpdateConversation};
use mostrador_core::sync::EntityKind;
use uuid::Uuid;

use super::chat::{
    composer_problem, described_by, near_limit, AttachButton, ComposerHint, PickedFiles,
};
use super::chat::{
    digest_key, followed_thread, last_loaded, line_key, loaded_thread, thread_state, Follow,
    JumpToNewest,
};
use super::orders::StatusPill;
use crate::app::{ctx, Route};
use crate::i18n::{self, fill, K};
use crate::logic::{self, InboxFilter, InboxGroup};
use crate::{drafts, fmt, ipc};
use mostrador_core::app::PickedFile;
use mostrador_core::chat::MAX_MESSAGE_CHARS;

/// A customer's name, or "Customer" when this device does not know it
/// (never an id, never an empty place before a "·").
fn customer_or_name(ctx: &crate::app::Ctx, name: &str) -> String {
    if name.trim().is_empty() {
        ctx.t(K::Customer).to_owned()
    } else {
        name.to_owned()
    }
}

fn status_option(s: ConversationStatus) -> impl IntoView {
    let ctx = ctx();
    view! { <option value=s.as_str()>{ctx.t(i18n::agent_conversation_status(s))}</option> }
}

#[component]
pub fn InboxPage() -> impl IntoView {
    let ctx = ctx();
    let group = RwSignal::new(InboxGroup::Unassigned);
    let status = RwSignal::new(None::<ConversationStatus>);
    let has_order = RwSignal::new(false);
    let waiting_long = RwSignal::new(false);
    let query = RwSignal::new(String::new());
    // Rows drawn at once; "show more" adds a page.
    let shown_max = RwSignal::new(PAGE);
    // Filtered, sorted and cut to a page by the shell: only drawn rows cross.
    // Conversations and their last lines; profiles give the names.
    let rows = LocalResource::new(move || {
        ctx.watch(&[
            EntityKind::Conversation,
            EntityKind::Message,
            EntityKind::Profile,
        ]);
        let filter = InboxFilter {
            group: group.get(),
            status: status.get(),
            has_order: has_order.get(),
            waiting_long: waiting_long.get(),
            matches: None,
        };
        let search = Some(query.get()).filter(|q| !q.trim().is_empty());
        let limit = shown_max.get();
        ipc::inbox(filter, search, limit)
    });
    // The last page loaded stays drawn while a change reloads it.
    let shown = last_loaded(rows);
    let state = Memo::new(move |_| {
        shown.with(|s| {
            s.as_ref()
                .map(|r| r.as_ref().map(|p| !p.rows.is_empty()).map_err(Clone::clone))
        })
    });
    let page = Memo::new(move |_| {
        shown.with(|s| match s {
            Some(Ok(p)) => (p.rows.clone(), p.total),
            _ => (Vec::new(), 0),
        })
    });
    // Tick every 30 s so waiting times stay true.
    let now = RwSignal::new(fmt::now());
    if let Ok(h) = set_interval_with_handle(
        move || now.set(fmt::now()),
        std::time::Duration::from_secs(30),
    ) {
        on_cleanup(move || h.clear());
    }
    // A search or a filter narrows the list: an empty answer then says
    // "nothing matches" and offers to clear them, not "nothing to do".
    let narrowed = move || {
        !query.get().trim().is_empty()
            || status.get().is_some()
            || has_order.get()
            || waiting_long.get()
    };
    let clear = move || {
        query.set(String::new());
        status.set(None);
        has_order.set(false);
        waiting_long.set(false);
    };
    let tab = move |g: InboxGroup, k: K, testid: &'static str| {
        view! {
            <button type="button" role="tab" class="tab" data-testid=testid
                aria-selected=move || (group.get() == g).to_string()
                on:click=move |_| group.set(g)>{ctx.t(k)}</button>
        }
    };
    view! {
        <div class="page inbox">
            <div class="page-head"><h1>{ctx.t(K::NavInbox)}</h1></div>
            <div class="tabs" role="tablist">
                {tab(InboxGroup::Unassigned, K::Unassigned, "inbox-tab-unassigned")}
                {tab(InboxGroup::Mine, K::Mine, "inbox-tab-mine")}
                {tab(InboxGroup::All, K::All, "inbox-tab-all")}
            </div>
            <div class="filters inbox-filters" role="group" aria-label=ctx.t(K::InboxFiltersLabel)>
                <input type="search" data-testid="inbox-search" placeholder=ctx.t(K::SearchMessages)
                    aria-label=ctx.t(K::SearchMessages)
                    prop:value=move || query.get()
                    on:input=move |ev| query.set(event_target_value(&ev))/>
                <select data-testid="inbox-status" aria-label=ctx.t(K::FilterStatus)
                    prop:value=move || status.get().map(|s| s.as_str().to_owned()).unwrap_or_default()
                    on:change=move |ev| status.set(ConversationStatus::parse(&event_target_value(&ev)))>
                    <option value="">{ctx.t(K::AnyStatus)}</option>
                    {status_option(ConversationStatus::Open)}
                    {status_option(ConversationStatus::Pending)}
                    {status_option(ConversationStatus::Resolved)}
                </select>
                <label class="check"><input type="checkbox" data-testid="inbox-has-order"
                    prop:checked=move || has_order.get()
                    on:change=move |_| has_order.update(|v| *v = !*v)/><span>{ctx.t(K::HasOrder)}</span></label>
                <label class="check"><input type="checkbox" data-testid="inbox-waiting-long"
                    prop:checked=move || waiting_long.get()
                    on:change=move |_| waiting_long.update(|v| *v = !*v)/><span>{ctx.t(K::WaitingLonger)}</span></label>
            </div>
            {move || match state.get() {
                None => view! { <p class="muted">{ctx.t(K::Loading)}</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert">{ctx.error(&e)}</p> }.into_any(),
                Some(Ok(false)) if narrowed() => view! {
                    <div class="card empty" data-testid="inbox-empty" data-reason="no-match">
                        <p>{ctx.t(K::InboxNoMatch)}</p>
                        <button type="button" data-testid="inbox-clear" on:click=move |_| clear()>{ctx.t(K::ClearFilters)}</button>
                    </div>
                }.into_any(),
                Some(Ok(false)) => view! {
                    <div class="card empty" data-testid="inbox-empty" data-reason="empty">
                        <p>{ctx.t(match group.get() {
                            InboxGroup::Unassigned => K::InboxEmptyUnassigned,
                            InboxGroup::Mine => K::InboxEmptyMine,
                            InboxGroup::All => K::InboxEmptyAll,
                        })}</p>
                    </div>
                }.into_any(),
                Some(Ok(true)) => view! { <InboxList page=page now=now shown_max=shown_max/> }.into_any(),
            }}
        </div>
    }
}

/// The rows of the inbox as one list, a row kept as drawn until it changes
/// (keyed by id and content), and the "show more" button, which stays (and
/// keeps the keyboard's focus) while pages are added below.
#[component]
fn InboxList(
    page: Memo<(Vec<InboxRow>, usize)>,
    now: RwSignal<jiff::Timestamp>,
    shown_max: RwSignal<usize>,
) -> impl IntoView {
    let ctx = ctx();
    let more = move || page.with(|(rows, total)| *total > rows.len());
    view! {
        // An unstyled list keeps its list role in WebKit only when named so.
        <ul class="card rows" role="list" data-testid="inbox-list"
            data-total=move || page.with(|(_, total)| total.to_string())>
            <For each=move || page.with(|(rows, _)| rows.clone()) key=|r| digest_key(r.summary.id, r)
                children=move |r| view! { <li><InboxLine row=r now=now/></li> }/>
        </ul>
        <Show when=more>
            <button type="button" class="wide" data-testid="inbox-more"
                on:click=move |_| shown_max.update(|n| *n += PAGE)>
                {move || page.with(|(rows, total)| i18n::count(ctx.lang(), i18n::N::MoreLeft, total.saturating_sub(rows.len()) as i64))}
            </button>
        </Show>
    }
}

/// Inbox rows asked for and drawn per page: more than a tall window shows
/// (about 15 rows at 1024 px, 10 on a phone), so the first screen is full
/// and the rest comes with "show more".
const PAGE: usize = 25;

#[component]
fn InboxLine(row: InboxRow, now: RwSignal<jiff::Timestamp>) -> impl IntoView {
    let ctx = ctx();
    let id = row.summary.id;
    let status = row.summary.conversation.as_ref().map(|c| c.status);
    let waiting = row.waiting_since.map(|w| {
        move || {
            fill(
                ctx.t(K::WaitingFor),
                &[(
                    "time",
                    &fmt::duration(ctx.lang(), &logic::waited(w, now.get())),
                )],
            )
        }
    });
    let is_waiting = waiting.is_some().to_string();
    view! {
        <button type="button" class="row inbox-row" data-testid="inbox-row" data-id=id.to_string() data-waiting=is_waiting
            on:click=move |_| ctx.go(Route::AgentChat(id))>
            <div class="row-main">
                // Name and subject each in their own direction: a name in
                // Arabic never reorders a Latin subject (or the reverse).
                <strong class="ellipsis" data-testid="inbox-title">
                    <bdi data-testid="inbox-customer">{customer_or_name(&ctx, &row.customer_name)}</bdi>
                    " · "
                    <bdi data-testid="inbox-subject">{row.summary.subject.clone()}</bdi>
                </strong>
                <span class="muted ellipsis" dir="auto" data-testid="inbox-preview">{row.summary.last_body.clone().unwrap_or_default()}</span>
            </div>
            <div class="row-side">
                {waiting.map(|w| view! { <span class="pill warn" data-testid="inbox-waiting">{w}</span> })}
                {row.order_number.clone().map(|n| view! { <small class="muted order-number">{n}</small> })}
                {status.map(|s| view! { <small class="muted">{ctx.t(i18n::agent_conversation_status(s))}</small> })}
            </div>
        </button>
    }
}

#[component]
pub fn AgentThreadPage(id: Uuid, me: Me) -> impl IntoView {
    let ctx = ctx();
    // Read whole once, then by the lines each change names (carried by the
    // change events while this thread is open), as the shopper's thread.
    let shown = followed_thread(id, ctx.watch_conversation(id));
    crate::pages::chat::mark_read_when_shown(id, shown);
    let customer_id = Memo::new(move |_| match shown.get() {
        Some(Ok(Some(t))) => t.summary.conversation.map(|c| c.customer_id),
        _ => None,
    });
    // The panel reloads when something of this customer changed, not on
    // every change.
    let customer_changed = ctx.watch_customer(customer_id.into());
    let glance = LocalResource::new(move || {
        let customer = customer_id.get();
        customer_changed.track();
        async move {
            match customer {
                Some(c) => Some(ipc::customer(c).await),
                None => None,
            }
        }
    });
    let typing = move || {
        ctx.typing
            .get()
            .filter(|(c, _, _)| *c == id)
            .map(|(_, name, _)| view! { <p class="typing" data-testid="typing-indicator">{fill(ctx.t(K::Typing), &[("name", &name)])}</p> })
    };
    let me_id = me.id;
    // The team list, once per page (not on every redraw of the thread).
    let agents = LocalResource::new(ipc::agents);
    let follow = Follow::new(shown);
    let (state, loaded) = (thread_state(shown), loaded_thread(shown));
    // The head redraws when the conversation does (status, assignment),
    // not on every new line.
    let head = Memo::new(move |_| {
        loaded.with(|t| {
            t.as_ref()
                .map(|t| (t.summary.subject.clone(), t.summary.conversation.clone()))
        })
    });
    view! {
        <div class="agent-layout">
            <section class="agent-main">
                <button type="button" class="link back" data-testid="back" on:click=move |_| ctx.go(Route::Inbox)>
                    "← " {ctx.t(K::NavInbox)}
                </button>
                // The subject and the actions stay in view above the
                // scrolling thread (Resolve is never scrolled away).
                {move || match head.get() {
                    Some((subject, conv)) => view! { <AgentThreadHead subject=subject conv=conv me=me_id agents=agents/> }.into_any(),
                    None => ().into_any(),
                }}
                <div class="thread-scroll" node_ref=follow.scroller on:scroll=move |_| follow.scrolled()
                    tabindex="0" role="region" aria-label=ctx.t(K::NavChats)>
                    <div class="thread-body" node_ref=follow.body>
                        {move || match state.get() {
                            None => view! { <p class="muted">{ctx.t(K::Loading)}</p> }.into_any(),
                            Some(Err(e)) => view! { <p class="error" role="alert">{ctx.error(&e)}</p> }.into_any(),
                            Some(Ok(false)) => view! { <p class="muted">{ctx.t(K::NotFound)}</p> }.into_any(),
                            Some(Ok(true)) => view! { <AgentLines thread=loaded/> }.into_any(),
                        }}
                        {typing}
                    </div>
                </div>
                <div class="thread-foot">
                    <JumpToNewest follow=follow/>
                    // Outside the thread's redraws: live changes never reset a draft.
                    <AgentComposer id=id glance=glance agent_name=me.display_name.clone()/>
                </div>
            </section>
            <aside class="customer-panel card" data-testid="customer-panel" aria-label=ctx.t(K::Customer)>
                {move || match glance.get().flatten() {
                    None => view! { <p class="muted">{ctx.t(K::Loading)}</p> }.into_any(),
                    Some(Err(e)) => view! { <p class="error">{ctx.error(&e)}</p> }.into_any(),
                    Some(Ok(g)) => view! { <CustomerPanel glance=g current=id/> }.into_any(),
                }}
            </aside>
        </div>
    }
}

/// The thread's subject, status and the agent's actions on it.
#[component]
fn AgentThreadHead(
    subject: String,
    conv: Option<Conversation>,
    me: Uuid,
    agents: LocalResource<Result<Vec<mostrador_core::agent::AgentInfo>, mostrador_core::ApiError>>,
) -> impl IntoView {
    let ctx = ctx();
    let Some(conv) = conv else {
        return view! { <p class="muted">{ctx.t(K::StatePending)}</p> }.into_any();
    };
    let id = conv.id;
    let update = move |u: UpdateConversation| ctx.write(ipc::update_conversation(id, u));
    let status = conv.status;
    let mine = conv.assigned_agent_id == Some(me);
    view! {
        <div class="thread-head">
            <h1 class="subject" dir="auto" data-testid="thread-subject">{subject}</h1>
            <span class="pill" data-testid="thread-status" data-status=status.as_str()>{ctx.t(i18n::agent_conversation_status(status))}</span>
        </div>
        <div class="actions conv-actions">
            {(!mine).then(|| view! {
                <button type="button" data-testid="claim" on:click=move |_| update(UpdateConversation {
                    status: None, assigned_agent_id: Some(Some(me)) })>{ctx.t(K::Claim)}</button>
            })}
            <select data-testid="assign" aria-label=ctx.t(K::AssignTo)
                on:change=move |ev| {
                    if let Ok(agent) = event_target_value(&ev).parse::<Uuid>() {
                        update(UpdateConversation { status: None, assigned_agent_id: Some(Some(agent)) });
                    }
                }>
                <option value="">{ctx.t(K::AssignTo)}</option>
                {move || agents.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|a| {
                    let label = format!("{} · {}", a.name, if a.available { ctx.t(K::Available) } else { ctx.t(K::Away) });
                    view! { <option value=a.id.to_string()>{label}</option> }
                }).collect_view()}
            </select>
            {(status != ConversationStatus::Pending && status != ConversationStatus::Resolved).then(|| view! {
                <button type="button" data-testid="set-pending" on:click=move |_| update(UpdateConversation {
                    status: Some(ConversationStatus::Pending), assigned_agent_id: None })>{ctx.t(K::SetPending)}</button>
            })}
            {if status == ConversationStatus::Resolved {
                view! { <button type="button" data-testid="reopen" on:click=move |_| update(UpdateConversation {
                    status: Some(ConversationStatus::Open), assigned_agent_id: None })>{ctx.t(K::Reopen)}</button> }.into_any()
            } else {
                view! { <button type="button" class="primary" data-testid="resolve" on:click=move |_| update(UpdateConversation {
                    status: Some(ConversationStatus::Resolved), assigned_agent_id: None })>{ctx.t(K::Resolve)}</button> }.into_any()
            }}
        </div>
    }
    .into_any()
}

/// The thread's messages and notes (inside the scrolling box), keyed so a
/// new line is added without redrawing the others.
#[component]
fn AgentLines(thread: Memo<Option<ThreadView>>) -> impl IntoView {
    let lines = Memo::new(move |_| {
        thread.with(|t| t.as_ref().map(|t| t.lines.clone()).unwrap_or_default())
    });
    view! {
        <ol class="thread" data-testid="thread" aria-live="polite">
            <For each=move || lines.get() key=line_key children=|l| view! { <AgentLine line=l/> }/>
        </ol>
    }
}

#[component]
fn AgentLine(line: ThreadLine) -> impl IntoView {
    let ctx = ctx();
    let lang = ctx.lang();
    let note = line.kind == MessageKind::Note;
    let label = logic::delivery_label(&line.delivery, lang);
    let class = match (note, line.mine) {
        (true, _) => "msg note",
        (false, true) => "msg mine",
        (false, false) => "msg theirs",
    };
    let who = if line.mine {
        ctx.t(K::You).to_owned()
    } else {
        line.author_name.clone().unwrap_or_default()
    };
    view! {
        <li class=class data-testid="message" data-line=line.id.to_string() data-kind=if note { "note" } else { "text" }
            data-mine=line.mine.to_string() data-state=label.state>
            <div class="bubble">
                <small class="who">
                    {who}
                    {note.then(|| view! { <span class="note-tag">{ctx.t(K::NoteLabel)}</span> })}
                </small>
                <p class="body" dir="auto" data-testid="message-body">{line.body.clone()}</p>
                <super::attachments::Attachments files=line.attachments/>
                {(line.delivery == mostrador_core::app::Delivery::Pending).then(|| view! { <super::chat::UploadProgress message=line.id/> })}
                <small class="meta">
                    {fmt::time(lang, line.created_at, None)}
                    {line.mine.then(|| view! { <span class="delivery" data-testid="message-state">{label.text.clone()}</span> })}
                </small>
            </div>
        </li>
    }
}

#[component]
fn AgentComposer(
    id: Uuid,
    glance: LocalResource<Option<Result<CustomerView, mostrador_core::ApiError>>>,
    agent_name: String,
) -> impl IntoView {
    let ctx = ctx();
    let body = drafts::conversation(id);
    let note = RwSignal::new(false);
    let files = RwSignal::new(Vec::<PickedFile>::new());
    let error = RwSignal::new(None::<String>);
    // Set when the agent tried to send what cannot go: the hint then shows.
    let tried = RwSignal::new(false);
    let canned = LocalResource::new(ipc::canned);
    let last_typing = StoredValue::new(0.0f64);
    let problem = Memo::new(move |_| {
        composer_problem(
            ctx.lang(),
            &body.get(),
            !files.with(Vec::is_empty),
            note.get(),
        )
    });
    let send = move || {
        if problem.get_untracked().is_some() {
            tried.set(true);
            return;
        }
        let text = body.get_untracked();
        let is_note = note.get_untracked();
        let picked = files.get_untracked();
        spawn_local(async move {
            match ipc::reply(id, text, is_note, picked).await {
                Ok(_) => {
                    body.set(String::new());
                    drafts::sent(ctx, id);
                    files.set(Vec::new());
                    // A note is one message: the next one is a reply again.
                    note.set(false);
                    error.set(None);
                    tried.set(false);
                }
                Err(e) => error.set(Some(ctx.error(&e))),
            }
        });
    };
    let agent_name = StoredValue::new(agent_name);
    let insert = move |canned_id: String| {
        let Some(c) = canned
            .get_untracked()
            .and_then(Result::ok)
            .and_then(|l| l.into_iter().find(|c| c.id.to_string() == canned_id))
        else {
            return;
        };
        let g = glance.get_untracked().flatten().and_then(Result::ok);
        let conv_order = g.as_ref().and_then(|g| {
            g.conversations
                .iter()
                .find(|s| s.id == id)
                .and_then(|s| s.order_id)
                .and_then(|o| g.orders.iter().find(|x| x.id == o))
                .map(|o| o.number.clone())
        });
        let filled = expand_canned(
            &c.body,
            &CannedContext {
                first_name: g
                    .as_ref()
                    .and_then(|g| g.name.split_whitespace().next().map(str::to_owned)),
                order_number: conv_order,
                agent_name: Some(agent_name.get_value()),
            },
        );
        body.update(|b| {
            if !b.is_empty() && !b.ends_with(' ') {
                b.push(' ');
            }
            b.push_str(&filled);
        });
    };
    view! {
        <form class="composer" class:noting=move || note.get() data-testid="composer"
            data-mode=move || if note.get() { "note" } else { "reply" }
            on:submit=move |ev| { ev.prevent_default(); send(); }>
            {move || error.get().map(|e| view! { <p class="error" role="alert" data-testid="form-error">{e}</p> })}
            <p class="note-mode" role="status" data-testid="note-mode-label" class:hidden=move || !note.get()>
                {move || note.get().then(|| ctx.t(K::NoteModeOn))}
            </p>
            <div class="composer-tools">
                <label class="check"><input type="checkbox" data-testid="note-toggle"
                    prop:checked=move || note.get() on:change=move |_| note.update(|n| *n = !*n)/>{ctx.t(K::NoteToggle)}</label>
                <select data-testid="canned-picker" aria-label=ctx.t(K::InsertCanned)
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        insert(v);
                        if let Some(t) = ev.target() {
                            use wasm_bindgen::JsCast;
                            if let Ok(s) = t.dyn_into::<web_sys::HtmlSelectElement>() { s.set_value(""); }
                        }
                    }>
                    <option value="">{ctx.t(K::InsertCanned)}</option>
                    {move || canned.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|c| {
                        view! { <option value=c.id.to_string()>{c.title}</option> }
                    }).collect_view()}
                </select>
            </div>
            <PickedFiles files=files/>
            <div class="composer-row">
                <AttachButton files=files/>
                <textarea rows="2" data-testid="composer-input"
                    // Short enough for a narrow composer; the banner and
                    // the accessible name say who sees it.
                    placeholder=move || if note.get() { ctx.t(K::NotePlaceholderShort) } else { ctx.t(K::MessagePlaceholder) }
                    aria-label=move || if note.get() { ctx.t(K::NotePlaceholder) } else { ctx.t(K::MessagePlaceholder) }
                    maxlength=MAX_MESSAGE_CHARS.to_string()
                    aria-describedby=move || described_by(&[
                        ("composer-hint", true),
                        ("composer-count", body.with(|t| near_limit(t))),
                    ])
                    aria-invalid=move || body.with(|t| t.chars().count() > MAX_MESSAGE_CHARS).to_string()
                    prop:value=move || body.get()
                    on:input=move |ev| {
                        body.set(event_target_value(&ev));
                        if !note.get_untracked() {
                            super::chat::say_typing(id, last_typing);
                        }
                    }
                    on:keydown=move |ev| {
                        if ev.key() == "Enter" && !ev.shift_key() {
                            ev.prevent_default();
                            send();
                        }
                    }></textarea>
                <button type="submit" class="primary" data-testid="composer-send"
                    aria-describedby="composer-hint" disabled=move || problem.get().is_some()>
                    {move || if note.get() { ctx.t(K::AddNote) } else { ctx.t(K::Send) }}
                </button>
            </div>
            <ComposerHint body=body problem=problem tried=tried/>
        </form>
    }
}

#[component]
fn CustomerPanel(glance: CustomerView, current: Uuid) -> impl IntoView {
    let ctx = ctx();
    let lang = ctx.lang();
    let now = fmt::now();
    let contact = glance.profile.as_ref().map(|p| {
        let prefs: Vec<&str> = [
            (p.contact.email, K::ContactEmailLower),
            (p.contact.sms, K::ContactSmsLower),
            (p.contact.push, K::ContactPushLower),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, k)| ctx.t(k))
        .collect();
        let how = if prefs.is_empty() {
            ctx.t(K::PanelNoContact).to_owned()
        } else {
            fill(
                ctx.t(K::PanelContactBy),
                &[("list", &i18n::and_list(lang, &prefs))],
            )
        };
        view! {
            <p class="muted">{p.email.clone()}</p>
            {p.phone.clone().map(|ph| view! { <p class="muted">{ph}</p> })}
            <p class="muted" data-testid="panel-contact">{how}</p>
        }
    });
    let none = |k: K| view! { <p class="muted">{ctx.t(k)}</p> };
    let (no_orders, no_chats, no_calls) = (
        glance.orders.is_empty(),
        !glance.conversations.iter().any(|c| c.id != current),
        glance.callbacks.is_empty(),
    );
    let orders = glance
        .orders
        .iter()
        .map(|o| {
            let late = logic::is_late(o, now);
            let oid = o.id;
            let last = logic::timeline(o).into_iter().next();
            view! {
                <button type="button" class="row" data-testid="panel-order" data-number=o.number.clone()
                    on:click=move |_| ctx.go(Route::Order(oid))>
                    <div class="row-main">
                        <strong class="order-number">{o.number.clone()}</strong>
                        {last.map(|e| view! { <small class="muted">{fmt::date_time(lang, e.at, None)} {e.place.map(|p| format!(" · {p}"))}</small> })}
                    </div>
                    <StatusPill status=o.status late=late/>
                </button>
            }
        })
        .collect_view();
    let conversations = glance
        .conversations
        .iter()
        .filter(|c| c.id != current)
        .map(|c| {
            let cid = c.id;
            let status = c.conversation.as_ref().map(|x| x.status);
            let rating = c.conversation.as_ref().and_then(|x| x.rating.clone());
            view! {
                <button type="button" class="row" data-testid="panel-conversation"
                    on:click=move |_| ctx.go(Route::AgentChat(cid))>
                    <div class="row-main"><span class="ellipsis" dir="auto">{c.subject.clone()}</span></div>
                    <div class="row-side">
                        {status.map(|s| view! { <small class="muted">{ctx.t(i18n::agent_conversation_status(s))}</small> })}
                        {rating.map(|r| view! { <small class="muted">{fill(ctx.t(K::Rated), &[("n", &r.score.to_string())])}</small> })}
                    </div>
                </button>
            }
        })
        .collect_view();
    let callbacks = glance
        .callbacks
        .iter()
        .map(|c| {
            view! {
                <div class="row static" data-testid="panel-callback" data-status=c.status.as_str()>
                    <span>{ctx.t(i18n::channel(c.channel))} {c.slot_start.map(|s| format!(" · {}", fmt::date_time(lang, s, None)))}</span>
                    <small class="muted">{ctx.t(i18n::callback_status(c.status))}</small>
                </div>
            }
        })
        .collect_view();
    view! {
        <h2 data-testid="panel-name">{glance.name.clone()}</h2>
        {contact}
        <h3>{ctx.t(K::NavOrders)}</h3>
        {if no_orders { none(K::PanelNoOrders).into_any() } else { view! { <div class="rows">{orders}</div> }.into_any() }}
        <h3>{ctx.t(K::PreviousChats)}</h3>
        {if no_chats { none(K::PanelNoOtherChats).into_any() } else { view! { <div class="rows">{conversations}</div> }.into_any() }}
        <h3>{ctx.t(K::CallbacksLabel)}</h3>
        {if no_calls { none(K::PanelNoCalls).into_any() } else { view! { <div class="rows">{callbacks}</div> }.into_any() }}
    }
}

#[component]
pub fn QueuePage() -> impl IntoView {
    let ctx = ctx();
    // Callbacks; profiles give the names.
    let data = LocalResource::new(move || {
        ctx.watch(&[EntityKind::Callback, EntityKind::Profile]);
        ipc::callback_queue()
    });
    view! {
        <div class="page">
            <div class="page-head"><h1>{ctx.t(K::QueueTitle)}</h1></div>
            {move || match data.get() {
                None => view! { <p class="muted">{ctx.t(K::Loading)}</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert">{ctx.error(&e)}</p> }.into_any(),
                Some(Ok(rows)) if rows.is_empty() => view! { <p class="muted">{ctx.t(K::QueueEmpty)}</p> }.into_any(),
                Some(Ok(rows)) => {
                    let lang = ctx.lang();
                    let now = fmt::now();
                    view! {
                        <div class="card rows" data-testid="queue">
                            {rows.into_iter().filter(|r| r.line.callback.status != CallbackStatus::Cancelled).map(|r| {
                                let c = r.line.callback.clone();
                                let id = c.id;
                                let overdue = logic::is_overdue(&c, now);
                                let note = RwSignal::new(String::new());
                                let outcome = move |status: CallbackStatus| {
                                    let n = note.get_untracked();
                                    ctx.write(ipc::record_outcome(id, CallbackOutcome {
                                        status,
                                        note: Some(n).filter(|n| !n.trim().is_empty()),
                                    }));
                                };
                                let theirs = c.slot_start.map(|s| fill(ctx.t(K::CustomerTime), &[("time", &fmt::time(lang, s, Some(&c.time_zone)))]));
                                let channel = match (&c.phone, c.channel) {
                                    (Some(p), mostrador_core::callbacks::CallbackChannel::Voice) => format!("{} · {p}", ctx.t(K::Voice)),
                                    _ => ctx.t(i18n::channel(c.channel)).to_owned(),
                                };
                                let pending = c.status.is_pending() || c.status == CallbackStatus::InProgress;
                                view! {
                                    <div class="row static queue-row" class:overdue=overdue data-testid="queue-row"
                                        data-status=c.status.as_str() data-overdue=overdue.to_string()>
                                        <div class="row-main">
                                            <strong>{c.slot_start.map_or_else(|| ctx.t(K::TimeNotSet).to_owned(), |s| fmt::date_time(lang, s, None))}
                                                {overdue.then(|| view! { <span class="pill warn">{ctx.t(K::Overdue)}</span> })}</strong>
                                            <span><span data-testid="queue-customer">{customer_or_name(&ctx, &r.customer_name)}</span> " · " {channel}</span>
                                            <span class="muted">{c.topic.clone()} {r.order_number.clone().map(|n| view! { " · " <span class="order-number">{n}</span> })}</span>
                                            {theirs.map(|t| view! { <small class="muted">{t}</small> })}
                                        </div>
                                        <div class="row-side">
                                            <span class="pill" data-testid="queue-status">{ctx.t(i18n::callback_status(c.status))}</span>
                                            {pending.then(|| view! {
                                                <input type="text" class="outcome-note" data-testid="outcome-note" placeholder=ctx.t(K::OutcomeNote)
                                                    aria-label=ctx.t(K::OutcomeNote) on:input=move |ev| note.set(event_target_value(&ev))/>
                                                <div class="actions">
                                                    {(c.status == CallbackStatus::Scheduled).then(|| view! {
                                                        <button type="button" data-testid="call-start" on:click=move |_| outcome(CallbackStatus::InProgress)>{ctx.t(K::StartCall)}</button>
                                                    })}
                                                    {(c.status == CallbackStatus::Scheduled).then(|| view! {
                                                        <button type="button" data-testid="call-reschedule"
                                                            on:click=move |_| ctx.go(Route::BookCall { order: None, reschedule: Some(id) })>{ctx.t(K::Reschedule)}</button>
                                                    })}
                                                    <button type="button" class="primary" data-testid="call-complete" on:click=move |_| outcome(CallbackStatus::Completed)>{ctx.t(K::Complete)}</button>
                                                    <button type="button" class="danger" data-testid="call-missed" on:click=move |_| outcome(CallbackStatus::Missed)>{ctx.t(K::MarkMissed)}</button>
                                                </div>
                                            })}
                                        </div>
                                    </div>
                                }
                            }).collect_view()}
                        </div>
                    }.into_any()
                }
            }}
        </div>
    }
}

fn minutes(ms: Option<i64>, lang: crate::i18n::Lang) -> String {
    match ms {
        Some(ms) => fmt::duration(
            lang,
            &logic::waited(
                jiff::Timestamp::UNIX_EPOCH,
                jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH),
            ),
        ),
        None => K::NoData.text(lang).to_owned(),
    }
}

/// A small bar chart: one bar per value, labelled below.
#[component]
fn Bars(
    values: Vec<i64>,
    labels: Vec<String>,
    testid: &'static str,
    title: String,
) -> impl IntoView {
    let heights = logic::bar_heights(&values);
    let n = values.len().max(1) as u32;
    let w = 280u32;
    let bw = w / n;
    let bars = heights
        .into_iter()
        .zip(values)
        .zip(labels)
        .enumerate()
        .map(|(i, ((h, v), label))| {
            let x = i as u32 * bw + 4;
            let y = 110 - h;
            view! {
                <g>
                    <rect x=x y=y width=bw - 8 height=h rx="3" class="bar"></rect>
                    <text x=x + (bw - 8) / 2 y=y.saturating_sub(4).max(10) text-anchor="middle" class="bar-value">{v.to_string()}</text>
                    <text x=x + (bw - 8) / 2 y="126" text-anchor="middle" class="bar-label">{label}</text>
                </g>
            }
        })
        .collect_view();
    view! {
        <svg class="chart" data-testid=testid viewBox="0 0 280 130" role="img" aria-label=title>
            <line x1="0" y1="110" x2="280" y2="110" class="axis"></line>
            {bars}
        </svg>
    }
}

/// How often open metrics reload without a change.
const METRICS_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

#[component]
pub fn MetricsPage() -> impl IntoView {
    let ctx = ctx();
    // The server's figures move with conversations (opened, answered,
    // resolved, rated) and calls; the timer catches time passing.
    let data = LocalResource::new(move || {
        ctx.watch(&[EntityKind::Conversation, EntityKind::Callback]);
        ipc::metrics()
    });
    if let Ok(h) = set_interval_with_handle(move || data.refetch(), METRICS_EVERY) {
        on_cleanup(move || h.clear());
    }
    view! {
        <div class="page">
            <div class="page-head"><h1>{ctx.t(K::MetricsTitle)}</h1></div>
            {move || match data.get() {
                None => view! { <p class="muted">{ctx.t(K::Loading)}</p> }.into_any(),
                Some(Err(_)) => view! { <p class="muted">{ctx.t(K::OnlineOnly)}</p> }.into_any(),
                Some(Ok(m)) => view! { <MetricsView m=m/> }.into_any(),
            }}
        </div>
    }
}

#[component]
fn MetricsView(m: Metrics) -> impl IntoView {
    let ctx = ctx();
    let lang = ctx.lang();
    let stat = |k: K, v: String, testid: &'static str| {
        view! { <div class="stat"><span class="muted">{ctx.t(k)}</span><strong data-testid=testid>{v}</strong></div> }
    };
    let days: Vec<String> = (0..7)
        .map(|i| {
            let t = fmt::now() - jiff::SignedDuration::from_hours(24 * (6 - i));
            fmt::short_day(lang, t, None)
        })
        .collect();
    let avg = m.satisfaction_avg.map_or_else(
        || K::NoData.text(lang).to_owned(),
        |a| format!("{a:.1} / 5"),
    );
    view! {
        <div class="stats">
            {stat(K::OpenCount, fmt::number(lang, m.open), "metric-open")}
            {stat(K::WaitingCount, fmt::number(lang, m.waiting), "metric-waiting")}
            {stat(K::UnassignedCount, fmt::number(lang, m.unassigned), "metric-unassigned")}
            {stat(K::Satisfaction, avg, "metric-satisfaction")}
        </div>
        <div class="cards">
            <section class="card">
                <h2>{ctx.t(K::FirstResponse)}</h2>
                <p>{ctx.t(K::Today)} ": " <strong data-testid="metric-first-response-today">{minutes(m.today.first_response_ms, lang)}</strong></p>
                <p>{ctx.t(K::Last7Days)} ": " <strong>{minutes(m.last_7_days.first_response_ms, lang)}</strong></p>
                <h2>{ctx.t(K::Resolution)}</h2>
                <p>{ctx.t(K::Today)} ": " <strong data-testid="metric-resolution-today">{minutes(m.today.resolution_ms, lang)}</strong></p>
                <p>{ctx.t(K::Last7Days)} ": " <strong>{minutes(m.last_7_days.resolution_ms, lang)}</strong></p>
            </section>
            <section class="card">
                <h2>{ctx.t(K::Satisfaction)}</h2>
                <Bars values=m.satisfaction.to_vec() labels=mostrador_core::chat::Rating::SCORES.map(|n| format!("{n}★")).collect()
                    testid="satisfaction-chart" title=ctx.t(K::Satisfaction).to_owned()/>
            </section>
            <section class="card">
                <h2>{ctx.t(K::OpenedPerDay)}</h2>
                <Bars values=m.opened_per_day.clone() labels=days testid="opened-chart" title=ctx.t(K::OpenedPerDay).to_owned()/>
            </section>
            <section class="card">
                <h2>{ctx.t(K::CallsDoneMissed)}</h2>
                <Bars values=vec![m.callbacks_completed, m.callbacks_missed]
                    labels=vec![ctx.t(K::CallCompleted).to_owned(), ctx.t(K::CallMissed).to_owned()]
                    testid="callbacks-chart" title=ctx.t(K::CallsDoneMissed).to_owned()/>
            </section>
        </div>
    }
}

#[component]
pub fn CannedPage(me: Me) -> impl IntoView {
    let ctx = ctx();
    // Saved replies are not in the feed: this page reloads them after its
    // own edits.
    let data = LocalResource::new(ipc::canned);
    let admin = me.role == Role::Admin;
    let title = RwSignal::new(String::new());
    let body = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (t, b) = (title.get_untracked(), body.get_untracked());
        spawn_local(async move {
            match ipc::put_canned(None, t, b).await {
                Ok(_) => {
                    title.set(String::new());
                    body.set(String::new());
                    error.set(None);
                    data.refetch();
                }
                Err(e) => error.set(Some(ctx.error(&e))),
            }
        });
    };
    view! {
        <div class="page">
            <div class="page-head"><h1>{ctx.t(K::CannedTitle)}</h1></div>
            <p class="hint">{ctx.t(K::CannedHint)}</p>
            {move || match data.get() {
                None => view! { <p class="muted">{ctx.t(K::Loading)}</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error">{ctx.error(&e)}</p> }.into_any(),
                Some(Ok(list)) => view! {
                    <div class="card rows" data-testid="canned-list">
                        {list.into_iter().map(|c| {
                            let id = c.id;
                            view! {
                                <div class="row static" data-testid="canned-row">
                                    <div class="row-main"><strong>{c.title}</strong><span class="muted">{c.body}</span></div>
                                    {admin.then(|| view! {
                                        <button type="button" class="danger" data-testid="canned-delete" on:click=move |_| spawn_local(async move {
                                            match ipc::delete_canned(id).await {
                                                Ok(()) => data.refetch(),
                                                Err(e) => error.set(Some(ctx.error(&e))),
                                            }
                                        })>{ctx.t(K::Remove)}</button>
                                    })}
                                </div>
                            }
                        }).collect_view()}
                    </div>
                }.into_any(),
            }}
            {admin.then(|| view! {
                <form class="card" on:submit=add>
                    <h2>{ctx.t(K::AddCanned)}</h2>
                    <label class="field"><span>{ctx.t(K::Title)}</span>
                        <input type="text" data-testid="canned-title" maxlength=mostrador_core::agent::MAX_CANNED_TITLE_CHARS.to_string() prop:value=move || title.get()
                            on:input=move |ev| title.set(event_target_value(&ev))/></label>
                    <label class="field"><span>{ctx.t(K::Text)}</span>
                        <textarea rows="3" data-testid="canned-body" maxlength=mostrador_core::agent::MAX_CANNED_BODY_CHARS.to_string() prop:value=move || body.get()
                            on:input=move |ev| body.set(event_target_value(&ev))></textarea></label>
                    {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                    <button type="submit" class="primary" data-testid="canned-add">{ctx.t(K::AddCanned)}</button>
                </form>
            })}
        </div>
    }
}
