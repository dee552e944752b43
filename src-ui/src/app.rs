//! The application frame: shared state ([`Ctx`]), the header with the sync
//! indicator, the offline banner, navigation and the current page.

use leptos::prelude::*;
use leptos::task::spawn_local;
use mostrador_core::app::{
    AppEvent, Boot, Changes, HomeView, OutboxCount, SignOutReason, SyncState,
};
use mostrador_core::auth::Me;
use mostrador_core::sync::EntityKind;
use uuid::Uuid;

use crate::i18n::{fill, Lang, K};
use crate::pages;
use crate::{fmt, ipc};

/// Where the user is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Home,
    Orders,
    Order(Uuid),
    Chats,
    Chat(Uuid),
    /// A new question, about an order if given.
    Ask(Option<Uuid>),
    Callbacks,
    /// Booking a callback (about an order if given), or moving one.
    BookCall {
        order: Option<Uuid>,
        reschedule: Option<Uuid>,
    },
    Profile,
    Privacy,
    // Agent mode.
    Inbox,
    AgentChat(Uuid),
    Queue,
    Metrics,
    Canned,
}

/// What every component can reach (`use_context`).
#[derive(Debug, Clone, Copy)]
pub struct Ctx {
    pub lang: RwSignal<Lang>,
    /// `None` until the shell said who is signed in.
    pub session: RwSignal<Option<Option<Me>>>,
    pub sync: RwSignal<SyncState>,
    pub outbox: RwSignal<OutboxCount>,
    /// What cached data changed, per kind and per watched id: a screen
    /// reloads only when what it shows changed (see [`Ctx::watch`]).
    pub revs: Revisions,
    pub route: RwSignal<Route>,
    /// Someone typing: (conversation, name, until ms).
    pub typing: RwSignal<Option<(Uuid, String, f64)>>,
    /// A one-line notice at the top (session ended, saved…).
    pub notice: RwSignal<Option<String>>,
    /// Staff working as agents (a customer never has it).
    pub agent_mode: RwSignal<bool>,
    /// Files going up, by the pending message that waits for them:
    /// (bytes sent, total).
    pub uploads: RwSignal<std::collections::HashMap<Uuid, (u64, u64)>>,
    /// The home screen's data from the `boot` answer, for its first draw
    /// (taken once: [`Ctx::take_boot_home`]).
    boot_home: StoredValue<Option<HomeView>>,
}

impl Ctx {
    /// The text in the current language (the frame redraws on a switch).
    pub fn t(&self, k: K) -> &'static str {
        k.text(self.lang.get_untracked())
    }

    pub fn lang(&self) -> Lang {
        self.lang.get_untracked()
    }

    pub fn go(&self, route: Route) {
        self.route.set(route);
    }

    /// Call inside a resource's source: it reruns when data of one of
    /// `kinds` changes, and only then.
    pub fn watch(&self, kinds: &[EntityKind]) {
        for kind in kinds {
            self.revs.kind(*kind).track();
        }
    }

    /// A watch on one conversation (its thread and summary). Call once when
    /// the screen is built; `track()` it inside the resource's source.
    pub fn watch_conversation(&self, id: Uuid) -> Watch {
        self.revs
            .watch(Scope::Conversation, Signal::stored(Some(id)))
    }

    /// A watch on one order.
    pub fn watch_order(&self, id: Uuid) -> Watch {
        self.revs.watch(Scope::Order, Signal::stored(Some(id)))
    }

    /// A watch on whichever customer `id` names (known once the thread
    /// showing them has loaded); nothing reaches it while `None`.
    pub fn watch_customer(&self, id: Signal<Option<Uuid>>) -> Watch {
        self.revs.watch(Scope::Customer, id)
    }

    /// Applies a change set: bumps the revisions it reaches, nothing else.
    pub fn changed(&self, changes: &Changes) {
        self.revs.apply(changes);
    }

    /// The home screen the `boot` answer carried, the first time only:
    /// the first home screen draws without a command of its own.
    pub fn take_boot_home(&self) -> Option<HomeView> {
        self.boot_home.try_update_value(Option::take).flatten()
    }

    pub fn error(&self, err: &mostrador_core::ApiError) -> String {
        crate::i18n::error_text(self.lang(), err)
    }

    /// Runs a user's write; if it cannot even be queued, says so at the top
    /// of the window (never silently).
    pub fn write<T: 'static>(
        &self,
        write: impl std::future::Future<Output = Result<T, mostrador_core::ApiError>> + 'static,
    ) {
        let ctx = *self;
        spawn_local(async move {
            if let Err(e) = write.await {
                ctx.notice.set(Some(ctx.error(&e)));
            }
        });
    }
}

pub fn ctx() -> Ctx {
    expect_context::<Ctx>()
}

/// What a screen shows by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// A thread (and its summary).
    Conversation,
    Order,
    /// The agent's panel about a customer.
    Customer,
}

/// One thing on screen, by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Watched {
    pub scope: Scope,
    pub id: Uuid,
}

impl Watched {
    /// Whether `changes` may have changed what this shows.
    pub fn touched_by(self, changes: &Changes) -> bool {
        match self.scope {
            Scope::Conversation => changes.touches_conversation(self.id),
            Scope::Order => changes.touches_order(self.id),
            Scope::Customer => changes.touches_customer(self.id),
        }
    }
}

/// Which revisions one change set bumps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bumps {
    /// Every kind touched (lists showing that kind reload).
    pub kinds: Vec<EntityKind>,
    /// The positions in `watched` (of [`bumps`]) whose screens reload.
    pub watched: Vec<usize>,
}

/// The routing of a change set, pure so it can be tested: each kind it
/// touches, and which of the things on screen (`watched`) it may have
/// changed. Nothing else reloads.
pub fn bumps(changes: &Changes, watched: &[Watched]) -> Bumps {
    Bumps {
        kinds: EntityKind::ALL
            .into_iter()
            .filter(|k| changes.touches(*k))
            .collect(),
        watched: watched
            .iter()
            .enumerate()
            .filter(|(_, w)| w.touched_by(changes))
            .map(|(i, _)| i)
            .collect(),
    }
}

/// A revision a resource tracks to rerun when what it shows changed, and
/// the changes that bumped it since the screen last took them.
#[derive(Debug, Clone, Copy)]
pub struct Watch {
    rev: RwSignal<u64>,
    seen: StoredValue<Changes>,
}

impl Watch {
    /// Call inside a resource's source.
    pub fn track(self) {
        self.rev.track();
    }

    /// The changes that reached this watch since the last call, merged
    /// (an open thread asks for their lines alone).
    pub fn take(self) -> Changes {
        self.seen
            .try_update_value(std::mem::take)
            .unwrap_or_default()
    }
}

/// A screen's registration for one id; gone with the screen.
#[derive(Debug, Clone, Copy)]
struct Watcher {
    token: u64,
    scope: Scope,
    id: Signal<Option<Uuid>>,
    watch: Watch,
}

/// The revisions of the cached data: one per [`EntityKind`], for the
/// lists, and one per mounted screen that shows one thing by id (a thread,
/// an order, a customer), bumped only when a change may touch that id. A
/// reply in one conversation so reloads that thread and the lists of
/// conversations, never an order or another thread.
#[derive(Debug, Clone, Copy)]
pub struct Revisions {
    kinds: [RwSignal<u64>; EntityKind::ALL.len()],
    watchers: StoredValue<Vec<Watcher>>,
    next_token: StoredValue<u64>,
}

impl Revisions {
    fn new() -> Self {
        Self {
            kinds: std::array::from_fn(|_| RwSignal::new(0)),
            watchers: StoredValue::new(Vec::new()),
            next_token: StoredValue::new(0),
        }
    }

    fn kind(&self, kind: EntityKind) -> RwSignal<u64> {
        let i = EntityKind::ALL
            .iter()
            .position(|k| *k == kind)
            .unwrap_or_default();
        self.kinds[i]
    }

    /// Registers a watch on `id` for the life of the calling component.
    fn watch(&self, scope: Scope, id: Signal<Option<Uuid>>) -> Watch {
        let token = self.next_token.get_value();
        self.next_token.set_value(token + 1);
        let watch = Watch {
            rev: RwSignal::new(0),
            seen: StoredValue::new(Changes::default()),
        };
        self.watchers.update_value(|w| {
            w.push(Watcher {
                token,
                scope,
                id,
                watch,
            })
        });
        let watchers = self.watchers;
        on_cleanup(move || {
            let _ = watchers.try_update_value(|w| w.retain(|x| x.token != token));
        });
        watch
    }

    fn apply(&self, changes: &Changes) {
        let watchers = self.watchers.get_value();
        // Watchers whose id is not known yet see nothing.
        let known: Vec<(Watcher, Watched)> = watchers
            .into_iter()
            .filter_map(|w| {
                let id = w.id.try_get_untracked().flatten()?;
                Some((w, Watched { scope: w.scope, id }))
            })
            .collect();
        let on_screen: Vec<Watched> = known.iter().map(|(_, w)| *w).collect();
        let b = bumps(changes, &on_screen);
        for kind in b.kinds {
            self.kind(kind).update(|r| *r += 1);
        }
        for i in b.watched {
            let watch = known[i].0.watch;
            watch.seen.update_value(|c| c.merge(changes));
            watch.rev.update(|r| *r += 1);
        }
    }
}

const LANG_KEY: &str = "mostrador.language";

fn stored_language() -> Option<Lang> {
    let storage = web_sys::window()?.local_storage().ok()??;
    storage.get_item(LANG_KEY).ok()?.map(|l| Lang::from_tag(&l))
}

pub fn set_language(ctx: &Ctx, lang: Lang) {
    if let Some(Ok(Some(storage))) = web_sys::window().map(|w| w.local_storage()) {
        let _ = storage.set_item(LANG_KEY, lang.code());
    }
    if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
        if let Some(html) = doc.document_element() {
            let _ = html.set_attribute("lang", lang.code());
        }
    }
    ctx.lang.set(lang);
    ctx.write(ipc::set_language(lang.code()));
}

#[component]
pub fn App() -> impl IntoView {
    // The widget's `lang` (in embed mode) wins, then the user's pick on
    // this device, then the system's.
    let lang = crate::embed::language()
        .or_else(stored_language)
        .unwrap_or_else(|| Lang::from_tag(&fmt::system_language()));
    let ctx = Ctx {
        lang: RwSignal::new(lang),
        session: RwSignal::new(None),
        sync: RwSignal::new(SyncState::Connecting),
        outbox: RwSignal::new(OutboxCount::default()),
        revs: Revisions::new(),
        route: RwSignal::new(Route::Home),
        typing: RwSignal::new(None),
        notice: RwSignal::new(None),
        agent_mode: RwSignal::new(false),
        uploads: RwSignal::new(std::collections::HashMap::new()),
        boot_home: StoredValue::new(None),
    };
    provide_context(ctx);
    set_language(&ctx, lang);
    pages::embed::start(ctx);

    // The first screen comes from one answer (`boot`); the events are
    // listened for alongside, not before. Once both are done and the first
    // frame is drawn, the shell may start syncing (`ready`): the sync does
    // not compete with the first frame, and no event is sent before the
    // page listens.
    let waiting = StoredValue::new(2u8);
    let one_done = move || {
        waiting.update_value(|n| *n = n.saturating_sub(1));
        if waiting.get_value() == 0 {
            spawn_local(async {
                // Nothing to show: without it the app works from the cache.
                let _ = ipc::ready().await;
            });
        }
    };
    spawn_local(async move {
        if let Err(e) = ipc::on_event(move |event| on_event(ctx, event)).await {
            // Without events the screens would not update live: say so.
            ctx.notice.set(Some(ctx.error(&e)));
        }
        one_done();
    });
    spawn_local(async move {
        match ipc::boot().await {
            Ok(boot) => {
                booted(&ctx, boot);
                request_animation_frame(move || set_timeout(one_done, std::time::Duration::ZERO));
            }
            Err(e) => {
                // The store did not open: say why, on the sign-in page.
                ctx.notice.set(Some(ctx.error(&e)));
                ctx.session.set(Some(None));
            }
        }
    });

    view! {
        {move || {
            // The whole frame redraws in the new language.
            ctx.lang.track();
            match ctx.session.get() {
                None => view! { <div class="boot" aria-busy="true"></div> }.into_any(),
                Some(None) => view! { <pages::signin::SignInPage/> }.into_any(),
                Some(Some(me)) => view! { <Frame me=me/> }.into_any(),
            }
        }}
    }
}

/// The `boot` answer on screen: the indicator, the session, where a
/// signed-in user lands, and the home screen's data for its first draw.
fn booted(ctx: &Ctx, boot: Boot) {
    ctx.sync.set(boot.sync);
    ctx.outbox.set(boot.outbox);
    if let Some(me) = &boot.session.me {
        if me.role.is_staff() {
            ctx.agent_mode.set(true);
            ctx.route.set(Route::Inbox);
        }
        // The account's language wins over the system's unless the user
        // picked one on this device.
        if stored_language().is_none() {
            set_language(ctx, Lang::from_tag(&me.language));
        }
    }
    ctx.boot_home.set_value(boot.home);
    ctx.session.set(Some(boot.session.me));
}

fn on_event(ctx: Ctx, event: AppEvent) {
    match event {
        AppEvent::Sync(s) => ctx.sync.set(s),
        // Only the indicator shows counts: no screen reloads for them.
        AppEvent::Outbox(o) => ctx.outbox.set(o),
        AppEvent::Changed(changes) => {
            crate::probe::count_for_tests("__mostradorChanges", "changed");
            crate::probe::mark("changed");
            ctx.changed(&changes);
        }
        AppEvent::Typing {
            conversation_id,
            name,
        } => {
            let until = js_sys::Date::now() + 4000.0;
            ctx.typing.set(Some((conversation_id, name, until)));
            set_timeout(
                move || {
                    if ctx
                        .typing
                        .get_untracked()
                        .is_some_and(|(_, _, u)| u <= js_sys::Date::now())
                    {
                        ctx.typing.set(None);
                    }
                },
                std::time::Duration::from_millis(4100),
            );
        }
        AppEvent::Upload {
            message_id: Some(message_id),
            sent,
            total,
            ..
        } => ctx.uploads.update(|u| {
            u.insert(message_id, (sent, total));
        }),
        AppEvent::Upload { .. } => {}
        AppEvent::SignedOut { reason } => {
            let k = match reason {
                SignOutReason::Expired => K::SessionEnded,
                SignOutReason::AccountDeleted => K::AccountDeletedNote,
            };
            ctx.notice.set(Some(ctx.t(k).to_owned()));
            // What was typed belonged to that session.
            crate::drafts::memory::clear_all();
            ctx.route.set(Route::Home);
            ctx.session.set(Some(None));
        }
    }
}

/// Where a signed-in user lands.
pub fn landing(ctx: &Ctx, me: &Me) {
    let agent = me.role.is_staff();
    ctx.agent_mode.set(agent);
    ctx.route
        .set(if agent { Route::Inbox } else { Route::Home });
}

#[component]
fn Frame(me: Me) -> impl IntoView {
    let ctx = ctx();
    let staff = me.role.is_staff();
    let agent_nav = [
        (Route::Inbox, K::NavInbox, "nav-inbox", crate::icons::CHAT),
        (Route::Queue, K::NavQueue, "nav-queue", crate::icons::PHONE),
        (
            Route::Metrics,
            K::NavMetrics,
            "nav-metrics",
            crate::icons::CHART,
        ),
        (Route::Canned, K::NavCanned, "nav-canned", crate::icons::BOX),
    ];
    let nav = [
        (Route::Home, K::NavHome, "nav-home", crate::icons::HOME),
        (Route::Orders, K::NavOrders, "nav-orders", crate::icons::BOX),
        (Route::Chats, K::NavChats, "nav-chats", crate::icons::CHAT),
        (
            Route::Callbacks,
            K::NavCallbacks,
            "nav-callbacks",
            crate::icons::PHONE,
        ),
        (
            Route::Profile,
            K::NavProfile,
            "nav-profile",
            crate::icons::USER,
        ),
    ];
    let section = move |r: Route| match r {
        Route::Home => Route::Home,
        Route::Orders | Route::Order(_) => Route::Orders,
        Route::Chats | Route::Chat(_) | Route::Ask(_) => Route::Chats,
        Route::Callbacks | Route::BookCall { .. } => Route::Callbacks,
        Route::Profile | Route::Privacy => Route::Profile,
        Route::Inbox | Route::AgentChat(_) => Route::Inbox,
        Route::Queue => Route::Queue,
        Route::Metrics => Route::Metrics,
        Route::Canned => Route::Canned,
    };
    let link = move |(route, label, testid, icon): (Route, K, &'static str, &'static str)| {
        view! {
            <button
                type="button"
                class="nav-link"
                data-testid=testid
                // The icon rail (tablet) shows no words: a tooltip names it.
                title=ctx.t(label)
                aria-current=move || (section(ctx.route.get()) == route).then_some("page")
                on:click=move |_| ctx.go(route)
            >
                <crate::icons::Icon path=icon/>
                <span>{ctx.t(label)}</span>
            </button>
        }
    };
    let agent_links = agent_nav.into_iter().map(link).collect_view();
    let links = nav.into_iter().map(link).collect_view();
    let me_for_pages = me.clone();

    view! {
        <div class="frame">
            <header class="app-header">
                <div class="brand">
                    <span class="brand-mark" aria-hidden="true">"M"</span>
                    <span class="brand-name">{ctx.t(K::AppName)}</span>
                </div>
                <span class="spacer"></span>
                <SyncIndicator/>
                {staff.then(|| view! { <AgentSwitch/> })}
                <LanguagePicker/>
                <crate::embed::CloseButton lang=ctx.lang/>
            </header>
            <OfflineBanner/>
            <Notice/>
            <nav class="nav" aria-label=ctx.t(K::AppName)>
                <div class="nav-group" class:hidden=move || ctx.agent_mode.get()>{links}</div>
                <div class="nav-group" class:hidden=move || !ctx.agent_mode.get()>{agent_links}</div>
            </nav>
            <main class="content" id="content">
                {move || match ctx.route.get() {
                    Route::Home => view! { <pages::home::HomePage name=me.display_name.clone()/> }.into_any(),
                    Route::Orders => view! { <pages::orders::OrdersPage/> }.into_any(),
                    Route::Order(id) => view! { <pages::orders::OrderPage id=id/> }.into_any(),
                    Route::Chats => view! { <pages::chat::ChatsPage/> }.into_any(),
                    Route::Chat(id) => view! { <pages::chat::ThreadPage id=id/> }.into_any(),
                    Route::Ask(order) => view! { <pages::chat::AskPage order=order/> }.into_any(),
                    Route::Callbacks => view! { <pages::callbacks::CallbacksPage/> }.into_any(),
                    Route::BookCall { order, reschedule } => view! { <pages::callbacks::BookPage order=order reschedule=reschedule/> }.into_any(),
                    Route::Profile => view! { <pages::profile::ProfilePage/> }.into_any(),
                    Route::Privacy => view! { <pages::profile::PrivacyPage/> }.into_any(),
                    Route::Inbox => view! { <pages::agent::InboxPage/> }.into_any(),
                    Route::AgentChat(id) => view! { <pages::agent::AgentThreadPage id=id me=me_for_pages.clone()/> }.into_any(),
                    Route::Queue => view! { <pages::agent::QueuePage/> }.into_any(),
                    Route::Metrics => view! { <pages::agent::MetricsPage/> }.into_any(),
                    Route::Canned => view! { <pages::agent::CannedPage me=me_for_pages.clone()/> }.into_any(),
                }}
            </main>
        </div>
    }
}

/// Staff: agent mode on or off, and available or away while on.
#[component]
fn AgentSwitch() -> impl IntoView {
    use mostrador_core::live::Presence;
    let ctx = ctx();
    let presence = RwSignal::new(Presence::Available);
    view! {
        <Show when=move || ctx.agent_mode.get()>
            <select class="presence" data-testid="presence" aria-label=ctx.t(K::Presence)
                on:change=move |ev| {
                    let status = if event_target_value(&ev) == "away" { Presence::Away } else { Presence::Available };
                    presence.set(status);
                    ctx.write(ipc::set_presence(status));
                }>
                <option value="available" selected=move || presence.get() == Presence::Available>{ctx.t(K::Available)}</option>
                <option value="away" selected=move || presence.get() == Presence::Away>{ctx.t(K::Away)}</option>
            </select>
        </Show>
        <button type="button" class="mode-switch" data-testid="agent-mode-toggle"
            aria-pressed=move || ctx.agent_mode.get().to_string()
            on:click=move |_| {
                let on = !ctx.agent_mode.get_untracked();
                ctx.agent_mode.set(on);
                ctx.go(if on { Route::Inbox } else { Route::Home });
            }>
            {move || if ctx.agent_mode.get() { ctx.t(K::ShopperMode) } else { ctx.t(K::AgentMode) }}
        </button>
    }
}

/// How long a sync that starts while up to date must last before the
/// indicator says so. The pull each live change starts takes milliseconds:
/// saying "Syncing" and "Up to date" again for each would be noise, read
/// out by screen readers (the indicator is a live region) and drawn in the
/// frame of every new line (`cargo xtask bench agent`).
const SYNCING_SHOWN_AFTER: std::time::Duration = std::time::Duration::from_millis(1000);

/// The sync state the indicator shows: the engine's latest word, except
/// that a sync starting from "up to date" shows only once it has lasted
/// [`SYNCING_SHOWN_AFTER`] (after connecting or offline, at once).
fn shown_sync(ctx: Ctx) -> RwSignal<SyncState> {
    let shown = RwSignal::new(ctx.sync.get_untracked());
    let timer = StoredValue::new(false);
    Effect::new(move |_| {
        let now = ctx.sync.get();
        let was = shown.get_untracked();
        if matches!(now, SyncState::Syncing { .. }) && was == SyncState::UpToDate {
            if !timer.get_value() {
                timer.set_value(true);
                set_timeout(
                    move || {
                        if timer.try_set_value(false).is_some() {
                            return;
                        }
                        if let Some(s @ SyncState::Syncing { .. }) = ctx.sync.try_get_untracked() {
                            shown.set(s);
                        }
                    },
                    SYNCING_SHOWN_AFTER,
                );
            }
            return;
        }
        if was != now {
            shown.set(now);
        }
    });
    shown
}

#[component]
fn SyncIndicator() -> impl IntoView {
    let ctx = ctx();
    let sync = shown_sync(ctx);
    let state = move || match sync.get() {
        SyncState::Offline { .. } => "offline",
        SyncState::Connecting => "connecting",
        SyncState::Syncing { .. } => "syncing",
        SyncState::UpToDate => "up_to_date",
    };
    let text = move || {
        let lang = ctx.lang();
        match sync.get() {
            SyncState::Offline { .. } => K::Offline.text(lang).to_owned(),
            SyncState::Connecting => K::Connecting.text(lang).to_owned(),
            SyncState::Syncing { done, total } => fill(
                K::Syncing.text(lang),
                &[
                    ("done", &fmt::number(lang, done)),
                    ("total", &fmt::number(lang, total)),
                ],
            ),
            SyncState::UpToDate => K::UpToDate.text(lang).to_owned(),
        }
    };
    let pending = move || {
        let o = ctx.outbox.get();
        let lang = ctx.lang();
        (o.pending > 0).then(|| {
            if o.wedged > 0 {
                crate::i18n::count(lang, crate::i18n::N::NeedAttention, o.wedged as i64)
            } else {
                crate::i18n::count(lang, crate::i18n::N::WaitingToSend, o.pending as i64)
            }
        })
    };
    view! {
        <div class="sync" role="status" aria-live="polite" data-testid="sync-indicator" data-state=state>
            <span class="dot" aria-hidden="true"></span>
            <span class="sync-text">{text}</span>
            {move || pending().map(|p| view! { <span class="sync-pending" data-testid="pending-count">{p}</span> })}
        </div>
    }
}

#[component]
pub fn LanguagePicker() -> impl IntoView {
    let ctx = ctx();
    let options = Lang::ALL
        .into_iter()
        .map(|l| {
            view! { <option value=l.code() selected=ctx.lang() == l>{l.name()}</option> }
        })
        .collect_view();
    view! {
        <select
            class="lang"
            data-testid="language"
            aria-label=ctx.t(K::Language)
            on:change=move |ev| set_language(&ctx, Lang::from_tag(&event_target_value(&ev)))
        >
            {options}
        </select>
    }
}

#[component]
fn OfflineBanner() -> impl IntoView {
    let ctx = ctx();
    // The network is back: try the server at once.
    let online = window_event_listener(leptos::ev::online, move |_| {
        if ctx.session.get_untracked().flatten().is_some() {
            ctx.write(ipc::reconnect_now());
        }
    });
    on_cleanup(move || online.remove());
    view! {
        <Show when=move || matches!(ctx.sync.get(), SyncState::Offline { .. })>
            <div class="banner offline" role="alert" data-testid="offline-banner">
                <span>{ctx.t(K::OfflineBanner)}</span>
                <button type="button" data-testid="try-now"
                    on:click=move |_| {
                        ctx.sync.set(SyncState::Connecting);
                        ctx.write(ipc::reconnect_now());
                    }>
                    {ctx.t(K::TryNow)}
                </button>
            </div>
        </Show>
    }
}

#[component]
pub fn Notice() -> impl IntoView {
    let ctx = ctx();
    view! {
        {move || ctx.notice.get().map(|n| view! {
            <div class="banner notice" role="status" data-testid="notice">
                <span>{n}</span>
                <button type="button" class="link close" data-testid="notice-close" aria-label=ctx.t(K::Close)
                    on:click=move |_| ctx.notice.set(None)>"×"</button>
            </div>
        })}
    }
}
