//! The engine: local store + outbox + sync over the API.
//!
//! # The outbox's lifecycle
//!
//! 1. `enqueue` writes the mutation (with its client-generated `client_id`,
//!    the server's idempotency key) to the `outbox` table before anything
//!    else; the UI shows it at once as pending (local echo). A file is kept
//!    in `pending_uploads` by `attach` (see `files.rs`), with the write it
//!    waits for: the opening of its conversation, if that is still unsent.
//! 2. `push_ready` sends due, unwedged items in order, in batches, except a
//!    message naming a file that has not gone up yet: only that message
//!    waits (a file refused for good wedges it with the file's reason).
//!    Each result is handled on its own: `applied` removes the row;
//!    `rejected` keeps it, *wedged*, with the server's reason, until the
//!    user retries (`retry`, which also retries its refused files) or
//!    discards it (`discard`, which drops its files too).
//! 3. Files go up on their own (`upload_pending`; the sync service runs it
//!    in a task of its own, so a slow or stuck upload never holds back
//!    text), each once what it waits for is applied, with a time budget
//!    that grows with its size and progress events; the messages that
//!    waited for them go next. `push_pending` is push, upload, push.
//! 4. A failure without an answer, a 429 or a 5xx keeps every item of the
//!    batch (or the file) and schedules the next attempt with jittered
//!    exponential backoff (at least the server's `Retry-After`). `retry_now`
//!    (called when the connection comes back) and `reconnect_now` make them
//!    due at once.
//! 5. After a crash the rows are still there; they are sent again, and the
//!    server answers a resent `client_id` with its first result, so nothing
//!    is applied twice and nothing is lost.
//! 6. A session the server ends (401: expired, revoked, signed out
//!    elsewhere) keeps unsent writes and files with who wrote them
//!    (`end_session`) and forgets the rest. The same user signing in again
//!    sends them; another user's sign-in is refused with a summary
//!    ([`ClientError::UnsentWritesOfAnotherUser`]) until they confirm
//!    (`SignInOptions::discard_unsent_of_previous_user`), which discards
//!    them with everything else of the previous user.
//!
//! Nothing is ever removed from the outbox except by an `applied` answer or
//! the user's discard: the user's own sign-out (`sign_out`, after the UI
//! warned about unsent writes), confirming another account's sign-in, and
//! account deletion count as discards.

use std::time::Duration;

use mostrador_core::app::{Changes, OutboxCount, UnsentWrite, UnsentWrites};
use mostrador_core::auth::{
    normalize_email, AuthResponse, IdentityRequest, LoginRequest, Me, RegisterRequest,
};
use mostrador_core::callbacks::Callback;
use mostrador_core::chat::Conversation;
use mostrador_core::sync::{Mutation, MutationOp, MutationOutcome, SyncItem, MAX_PUSH};
use mostrador_core::ApiError;
use std::sync::Arc;

use tokio::sync::{broadcast, watch, Notify};
use uuid::Uuid;

use crate::changes::{self, target, Target};
use crate::events::SyncStatus;
use crate::notices::{self, Notice};
use crate::platform::{self, now_ms, SecretStore};
use crate::rules::outbox::{attachment_ids, next_attempt_at, plan_push, unsent_kind, OutboxItem};
use crate::rules::page::OrderProgress;
use crate::rules::retry::{classify, jitter, RetryKind};
use crate::rules::sync::{after_page, on_pull_error, AfterPage, OnPullError};
use crate::store::Store;
use crate::{ApiClient, ClientConfig, ClientError};

pub use crate::events::EngineEvent;

/// What one push did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct PushReport {
    pub applied: usize,
    pub rejected: usize,
}

/// How a sign-in treats what a previous account left on this device.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SignInOptions {
    /// Another account's unsent writes are here: discard them (the user
    /// confirmed after seeing [`ClientError::UnsentWritesOfAnotherUser`]).
    pub discard_unsent_of_previous_user: bool,
}

#[derive(Debug, Clone)]
pub struct Engine {
    api: ApiClient,
    store: Store,
    /// Where the session token is kept (the OS keychain on native); `None`
    /// keeps it in memory only (tests of other parts; the app always uses
    /// the keychain).
    keychain: Option<Arc<dyn SecretStore>>,
    pull_lock: Arc<tokio::sync::Mutex<()>>,
    events: broadcast::Sender<EngineEvent>,
    outbox_changed: Arc<Notify>,
    /// Wakes the upload task (a file was attached, a dependency applied).
    uploads_changed: Arc<Notify>,
    upload_lock: Arc<tokio::sync::Mutex<()>>,
    /// Wakes the sync service for an immediate reconnect.
    reconnect: Arc<Notify>,
    /// The live reconnect backoff: first step and cap.
    reconnect_backoff: (Duration, Duration),
    typing: Arc<watch::Sender<Option<Uuid>>>,
    /// The thread the screen has open ([`Engine::follow_thread`]): change
    /// events that touch it carry its changed lines ([`Engine::ui_event`]).
    pub(crate) followed: Arc<watch::Sender<Option<Uuid>>>,
    /// Staff: the availability to announce (again after each reconnect).
    presence: Arc<watch::Sender<Option<mostrador_core::live::Presence>>>,
    /// The other tabs over the same browser store ([`platform::Tabs`]).
    tabs: platform::Tabs,
    /// Messages written after this (a minute before the engine opened) are
    /// fresh: they get delivery receipts and notices; older history that a
    /// first sync brings stays quiet.
    fresh_since: jiff::Timestamp,
}

/// Page size for pulls and snapshots: the server's largest
/// (`mostrador_core::sync::MAX_PAGE`). Fewer, larger pages took the initial
/// sync of 1,000 orders and 50,000 messages from 2.6-2.9 s (pages of 500) to
/// 1.8-1.9 s (BENCHMARKS.md, session 12).
pub const PAGE: i64 = mostrador_core::sync::MAX_PAGE;

/// The lock every push holds ([`platform::exclusive`]: the Web Locks API in
/// the browser, shared by the origin's tabs).
pub const OUTBOX_LOCK: &str = "mostrador-outbox";

impl Engine {
    /// Opens the engine over the store file at `store_path`.
    #[cfg(feature = "native")]
    pub async fn open(
        config: &ClientConfig,
        store_path: &std::path::Path,
    ) -> Result<Self, ClientError> {
        Self::over(config, Store::open(store_path).await?)
    }

    /// Opens the engine in a web page over the IndexedDB database
    /// `db_name` (one per server and profile; every tab of the page's
    /// origin shares it). `config.server_url` is the page's origin
    /// ([`crate::web::page_origin`]). The session is kept with
    /// [`Engine::use_secret_store`] and [`crate::web::LocalSecretStore`].
    #[cfg(all(feature = "browser", not(feature = "native")))]
    pub async fn open_browser(config: &ClientConfig, db_name: &str) -> Result<Self, ClientError> {
        Self::over(config, Store::open_browser(db_name).await?)
    }

    fn over(config: &ClientConfig, store: Store) -> Result<Self, ClientError> {
        let api = ApiClient::new(config)?;
        let events = broadcast::channel(256).0;
        let tabs = Self::hear_tabs(&store, &api, &events);
        Ok(Self {
            api,
            store,
            keychain: None,
            pull_lock: Arc::new(tokio::sync::Mutex::new(())),
            events,
            tabs,
            outbox_changed: Arc::new(Notify::new()),
            uploads_changed: Arc::new(Notify::new()),
            upload_lock: Arc::new(tokio::sync::Mutex::new(())),
            reconnect: Arc::new(Notify::new()),
            reconnect_backoff: (config.reconnect_base, config.reconnect_cap),
            typing: Arc::new(watch::channel(None).0),
            followed: Arc::new(watch::channel(None).0),
            presence: Arc::new(watch::channel(None).0),
            fresh_since: jiff::Timestamp::now() - Duration::from_secs(60),
        })
    }

    /// Keeps the session token in the OS keychain, and picks up the one
    /// saved there by an earlier run. Returns whether a session was restored.
    #[cfg(feature = "native")]
    pub async fn use_keychain(&mut self) -> Result<bool, ClientError> {
        let keychain =
            crate::session::KeychainSession::for_device(self.api.base_url(), self.store.path());
        self.use_secret_store(Arc::new(keychain)).await
    }

    /// Keeps the session token in `secrets` (the platform's secret store),
    /// and picks up the one saved there by an earlier run. Returns whether a
    /// session was restored.
    pub async fn use_secret_store(
        &mut self,
        secrets: Arc<dyn SecretStore>,
    ) -> Result<bool, ClientError> {
        let token = secrets.load().await?;
        let restored = token.is_some();
        if restored {
            self.api.set_token(token);
        }
        self.keychain = Some(secrets);
        Ok(restored)
    }

    pub fn api(&self) -> &ApiClient {
        &self.api
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.events.subscribe()
    }

    /// Tells the shell, and the other tabs over the same browser store
    /// ([`platform::Tabs`]: changes, outbox counts, resyncs, sign-outs).
    pub(crate) fn emit(&self, event: EngineEvent) {
        self.tabs.post(&event);
        let _ = self.events.send(event);
    }

    /// What another tab posts becomes this engine's event (not posted
    /// again); its session ended there is ended here too, since the tabs
    /// share it.
    fn hear_tabs(
        store: &Store,
        api: &ApiClient,
        events: &broadcast::Sender<EngineEvent>,
    ) -> platform::Tabs {
        let (api, events) = (api.clone(), events.clone());
        platform::Tabs::open(&store.path().to_string_lossy(), move |event| {
            if matches!(event, EngineEvent::SignedOut) {
                api.set_token(None);
            }
            let _ = events.send(event);
        })
    }

    pub(crate) fn events_tx(&self) -> &broadcast::Sender<EngineEvent> {
        &self.events
    }

    pub(crate) fn outbox_changed(&self) -> &Notify {
        &self.outbox_changed
    }

    pub(crate) fn uploads_changed(&self) -> &Notify {
        &self.uploads_changed
    }

    pub(crate) fn upload_lock(&self) -> &tokio::sync::Mutex<()> {
        &self.upload_lock
    }

    pub(crate) fn reconnect_requested(&self) -> &Notify {
        &self.reconnect
    }

    pub(crate) fn reconnect_backoff(&self) -> (Duration, Duration) {
        self.reconnect_backoff
    }

    pub(crate) fn presence_tx(&self) -> &watch::Sender<Option<mostrador_core::live::Presence>> {
        &self.presence
    }

    pub(crate) fn typing_tx(&self) -> &watch::Sender<Option<Uuid>> {
        &self.typing
    }

    /// The account whose data (or unsent writes) this device holds: the
    /// signed-in user, or the author of writes kept after a session ended.
    async fn previous_user(&self) -> Result<Option<Me>, ClientError> {
        match self.store.me().await? {
            Some(me) => Ok(Some(me)),
            None => self.store.unsent_owner().await,
        }
    }

    async fn signed_in(
        &self,
        auth: AuthResponse,
        options: SignInOptions,
    ) -> Result<Me, ClientError> {
        // Another account used this device before (its session ended
        // without a sign-out): none of its data may show or be sent, and
        // its unsent writes go only when the user said so.
        if let Some(previous) = self.previous_user().await? {
            if previous.id != auth.user.id {
                let unsent = self.unsent_writes(&previous).await?;
                if !unsent.writes.is_empty() && !options.discard_unsent_of_previous_user {
                    if let Err(err) = self.api.logout_token(&auth.token).await {
                        tracing::info!(error = %err, "could not revoke the refused session");
                    }
                    return Err(ClientError::UnsentWritesOfAnotherUser(unsent));
                }
                self.store.forget_everything().await?;
            }
        }
        if let Some(k) = &self.keychain {
            k.save(&auth.token).await?;
        }
        self.api.set_token(Some(auth.token));
        self.store.set_me(&auth.user).await?;
        // Writes kept from an ended session are this user's: they go now.
        self.store.clear_unsent_owner().await?;
        self.outbox_changed.notify_one();
        self.uploads_changed.notify_one();
        Ok(auth.user)
    }

    /// What `owner` left unsent here, oldest first, as the sign-in page
    /// lists it.
    async fn unsent_writes(&self, owner: &Me) -> Result<UnsentWrites, ClientError> {
        let writes = self
            .store
            .outbox()
            .await?
            .iter()
            .map(|item| UnsentWrite {
                kind: unsent_kind(&item.mutation.op),
                at: jiff::Timestamp::from_millisecond(item.created_at)
                    .unwrap_or(jiff::Timestamp::UNIX_EPOCH),
                files: attachment_ids(&item.mutation.op).len(),
            })
            .collect();
        Ok(UnsentWrites {
            name: owner.display_name.clone(),
            writes,
        })
    }

    pub async fn login(&self, req: &LoginRequest) -> Result<Me, ClientError> {
        self.login_with(req, SignInOptions::default()).await
    }

    /// Signs in; refused with [`ClientError::UnsentWritesOfAnotherUser`]
    /// when another account's unsent writes are here and `options` does not
    /// discard them.
    pub async fn login_with(
        &self,
        req: &LoginRequest,
        options: SignInOptions,
    ) -> Result<Me, ClientError> {
        let auth = self.api.login(req).await?;
        self.signed_in(auth, options).await
    }

    /// Signs in with an identity the shop signed (a JWT the widget passed
    /// in): the same sign-in as [`Engine::login`], the session and unsent
    /// writes handled alike.
    pub async fn sign_in_with_identity(&self, identity: &str) -> Result<Me, ClientError> {
        self.sign_in_with_identity_with(identity, SignInOptions::default())
            .await
    }

    /// [`Engine::sign_in_with_identity`], refused like
    /// [`Engine::login_with`] when another account's unsent writes are here.
    /// An identity is accepted once, so that refusal comes before the
    /// exchange when the identity names another address than the account
    /// that left them (its `email` claim, read unverified: only the server
    /// checks the signature); the same identity then goes again once the
    /// user confirmed.
    pub async fn sign_in_with_identity_with(
        &self,
        identity: &str,
        options: SignInOptions,
    ) -> Result<Me, ClientError> {
        let claimed = identity_email(identity);
        self.ask_before_another(
            |previous| claimed.is_none() || claimed != normalize_email(&previous.email),
            options,
        )
        .await?;
        let req = IdentityRequest {
            identity: identity.to_owned(),
            device_name: None,
        };
        let auth = self.api.identity(&req).await?;
        self.signed_in(auth, options).await
    }

    pub async fn register(&self, req: &RegisterRequest) -> Result<Me, ClientError> {
        self.register_with(req, SignInOptions::default()).await
    }

    /// Creates an account and signs in (as [`Engine::login_with`]).
    pub async fn register_with(
        &self,
        req: &RegisterRequest,
        options: SignInOptions,
    ) -> Result<Me, ClientError> {
        // A new account is always someone else: ask before creating it.
        self.ask_before_another(|_| true, options).await?;
        let auth = self.api.register(req).await?;
        self.signed_in(auth, options).await
    }

    /// Refuses with [`ClientError::UnsentWritesOfAnotherUser`], before
    /// anything is sent, when the account that left unsent writes here
    /// `is_other` than the one signing in and `options` do not discard them.
    /// (`signed_in` checks again by id once the server said who it is.)
    async fn ask_before_another(
        &self,
        is_other: impl FnOnce(&Me) -> bool,
        options: SignInOptions,
    ) -> Result<(), ClientError> {
        if options.discard_unsent_of_previous_user {
            return Ok(());
        }
        let Some(previous) = self.previous_user().await? else {
            return Ok(());
        };
        if !is_other(&previous) {
            return Ok(());
        }
        let unsent = self.unsent_writes(&previous).await?;
        if unsent.writes.is_empty() {
            Ok(())
        } else {
            Err(ClientError::UnsentWritesOfAnotherUser(unsent))
        }
    }

    /// Signs out: revokes the session if the server can be reached and
    /// deletes the local store. Unsent writes are lost with it, so the UI
    /// warns first when the outbox is not empty.
    pub async fn sign_out(self) -> Result<(), ClientError> {
        if self.api.token().is_some() {
            if let Err(err) = self.api.logout().await {
                tracing::info!(error = %err, "could not revoke the session on the server");
            }
        }
        self.api.set_token(None);
        if let Some(k) = &self.keychain {
            k.clear().await?;
        }
        let wiped = self.store.wipe().await;
        self.tabs.post(&EngineEvent::SignedOut);
        wiped
    }

    /// The server no longer accepts the session (expired, revoked, signed
    /// out elsewhere): forgets the token and the cached data, keeps unsent
    /// writes and files, with who wrote them, for that user's next sign-in.
    /// Returns whether writes were kept.
    pub async fn end_session(&self) -> Result<bool, ClientError> {
        self.api.set_token(None);
        let owner = self.previous_user().await?;
        let kept = self.store.forget_session(owner.as_ref()).await?;
        if let Some(k) = &self.keychain {
            // The server refuses it anyway; a token left behind is only
            // offered again and refused again.
            if let Err(err) = k.clear().await {
                tracing::warn!(error = %err, "could not remove the ended session from the keychain");
            }
        }
        self.emit_outbox().await?;
        Ok(kept)
    }

    pub(crate) async fn emit_outbox(&self) -> Result<(), ClientError> {
        let OutboxCount { pending, wedged } = self.outbox_count().await?;
        self.emit(EngineEvent::Outbox { pending, wedged });
        Ok(())
    }

    /// How many writes wait, and how many of them the server refused (what
    /// `EngineEvent::Outbox` says), for a shell that starts listening late.
    pub async fn outbox_count(&self) -> Result<OutboxCount, ClientError> {
        let items = self.store.outbox().await?;
        Ok(OutboxCount {
            pending: items.len(),
            wedged: items.iter().filter(|i| i.wedged.is_some()).count(),
        })
    }

    /// Persists a write; it is sent by the next `push_pending`. The write
    /// is stored and the sync service woken first; only then is what the
    /// screens are told read (whose it is, the outbox count), so a reply
    /// goes out without waiting for those reads.
    pub async fn enqueue(&self, op: MutationOp) -> Result<Uuid, ClientError> {
        let client_id = Uuid::new_v4();
        let mutation = Mutation { client_id, op };
        self.store.enqueue(&mutation).await?;
        tracing::debug!(target: "hop", %client_id, "queued");
        // Wake the sync service (if running) to send it now, while the
        // screens are told.
        self.outbox_changed.notify_one();
        self.uploads_changed.notify_one();
        let changes = self.changes_of(&mutation.op).await;
        self.emit_outbox().await?;
        self.emit_changes(changes);
        Ok(client_id)
    }

    pub async fn outbox(&self) -> Result<Vec<OutboxItem>, ClientError> {
        self.store.outbox().await
    }

    /// What a write touches, with whose it is when the store knows (a
    /// failed look-up only makes the change less precise).
    pub(crate) async fn changes_of(&self, op: &MutationOp) -> Changes {
        let owner = match target(op) {
            Target::Conversation(id) => self
                .store
                .get::<Conversation>(id)
                .await
                .ok()
                .flatten()
                .map(|c| c.customer_id),
            Target::Callback(Some(id)) => self
                .store
                .get::<Callback>(id)
                .await
                .ok()
                .flatten()
                .map(|c| c.customer_id),
            Target::Callback(None) | Target::Account | Target::Profile => None,
        };
        // A profile, or a conversation or callback not synced yet, is the
        // user's own.
        let customer = match (owner, target(op)) {
            (None, Target::Account) => None,
            (None, _) => self.store.me().await.ok().flatten().map(|m| m.id),
            (owner, _) => owner,
        };
        changes::of_op(op, customer)
    }

    /// Tells the screens what changed (nothing if nothing did).
    pub(crate) fn emit_changes(&self, changes: Changes) {
        if !changes.is_empty() {
            self.emit(EngineEvent::Changed(changes));
        }
    }

    /// What the outbox `items` touch, merged.
    async fn changes_of_items(&self, items: &[&OutboxItem]) -> Changes {
        let mut all = Changes::default();
        for item in items {
            all.merge(&self.changes_of(&item.mutation.op).await);
        }
        all
    }

    /// Makes every unwedged item and every unrefused file due now (the
    /// connection came back).
    pub async fn retry_now(&self) -> Result<(), ClientError> {
        self.store.make_due_now().await?;
        self.uploads_changed.notify_one();
        Ok(())
    }

    /// Try the server now: an immediate reconnect of the sync service (if
    /// it is waiting to), with every waiting write and file due now (the
    /// window came back to the front, the network changed, "Try now").
    pub async fn reconnect_now(&self) -> Result<(), ClientError> {
        self.retry_now().await?;
        self.reconnect.notify_one();
        self.outbox_changed.notify_one();
        Ok(())
    }

    /// The user asks to send a wedged item again (and its refused files).
    pub async fn retry(&self, client_id: Uuid) -> Result<bool, ClientError> {
        let item = self.find_outbox(client_id).await?;
        if let Some(item) = &item {
            self.retry_uploads_of(item).await?;
        }
        let done = self.store.unwedge(client_id).await?;
        self.emit_outbox().await?;
        if let Some(item) = &item {
            self.emit_changes(self.changes_of_items(&[item]).await);
        }
        self.outbox_changed.notify_one();
        Ok(done)
    }

    /// The user gives up on an item (and on the files only it needed).
    pub async fn discard(&self, client_id: Uuid) -> Result<(), ClientError> {
        let item = self.find_outbox(client_id).await?;
        if let Some(item) = &item {
            self.drop_uploads_of(item).await?;
        }
        self.store.remove_outbox(client_id).await?;
        self.emit_outbox().await?;
        if let Some(item) = &item {
            self.emit_changes(self.changes_of_items(&[item]).await);
        }
        Ok(())
    }

    async fn find_outbox(&self, client_id: Uuid) -> Result<Option<OutboxItem>, ClientError> {
        Ok(self
            .store
            .outbox()
            .await?
            .into_iter()
            .find(|i| i.mutation.client_id == client_id))
    }

    /// Sends what can go now, then the files that can go, then the messages
    /// that waited for them. An error means something waits for a retry
    /// (what could go went).
    pub async fn push_pending(&self) -> Result<PushReport, ClientError> {
        let mut report = self.push_ready().await?;
        let uploads = self.upload_pending().await?;
        if uploads.uploaded > 0 || uploads.refused > 0 {
            let more = self.push_ready().await?;
            report.applied += more.applied;
            report.rejected += more.rejected;
        }
        match uploads.deferred {
            Some(err) => Err(err),
            None => Ok(report),
        }
    }

    /// Sends due, unwedged outbox items in order, in batches, except the
    /// messages that still wait for a file. In the browser it runs under the
    /// origin-wide lock [`OUTBOX_LOCK`] and reads the outbox inside it, so
    /// two tabs never send one item twice (one sends and removes it, the
    /// next finds it gone).
    pub async fn push_ready(&self) -> Result<PushReport, ClientError> {
        platform::exclusive(OUTBOX_LOCK, self.push_due()).await
    }

    async fn push_due(&self) -> Result<PushReport, ClientError> {
        let waiting_files = self.store.pending_uploads().await?;
        let outbox = self.store.outbox().await?;
        let plan = plan_push(outbox.clone(), &waiting_files, now_ms());
        for (client_id, reason) in &plan.wedge {
            self.store.wedge(*client_id, reason).await?;
        }
        let wedged_now = !plan.wedge.is_empty();
        let mut report = PushReport::default();
        // What was applied, refused or wedged: the screens showing it
        // redraw (a wedged message offers retry and discard).
        let mut settled: Vec<&OutboxItem> = outbox
            .iter()
            .filter(|i| plan.wedge.iter().any(|(id, _)| *id == i.mutation.client_id))
            .collect();
        for chunk in plan.send.chunks(MAX_PUSH) {
            let mutations: Vec<Mutation> = chunk.iter().map(|i| i.mutation.clone()).collect();
            tracing::debug!(target: "hop", n = mutations.len(), "push sent");
            match self.api.push(mutations).await {
                Ok(res) => {
                    tracing::debug!(target: "hop", n = res.results.len(), "push answered");
                    for r in res.results {
                        settled.extend(chunk.iter().find(|i| i.mutation.client_id == r.client_id));
                        match r.outcome {
                            MutationOutcome::Applied { .. } => {
                                self.store.remove_outbox(r.client_id).await?;
                                report.applied += 1;
                                let deleted = chunk.iter().any(|i| {
                                    i.mutation.client_id == r.client_id
                                        && matches!(i.mutation.op, MutationOp::DeleteAccount)
                                });
                                if deleted {
                                    // The account is gone: the shell signs out (wiping the store).
                                    let _ = self.events.send(EngineEvent::AccountDeleted);
                                }
                            }
                            MutationOutcome::Rejected { error } => {
                                tracing::info!(code = ?error.code, "a queued write was refused");
                                self.store.wedge(r.client_id, &error).await?;
                                report.rejected += 1;
                            }
                        }
                    }
                }
                Err(err) => {
                    match classify(&err) {
                        // The batch itself was refused (e.g. too large or
                        // malformed): keep each item, with the reason.
                        RetryKind::Permanent(reason) if !is_auth(&reason) => {
                            for item in chunk {
                                self.store.wedge(item.mutation.client_id, &reason).await?;
                            }
                            settled.extend(chunk.iter());
                        }
                        // Signed out: keep everything for after the next sign-in.
                        RetryKind::Permanent(_) => {}
                        RetryKind::NetworkFailure => self.defer(chunk, &err, None).await?,
                        RetryKind::Transient { retry_after } => {
                            self.defer(chunk, &err, retry_after).await?
                        }
                    }
                    self.emit_outbox().await?;
                    self.emit_changes(self.changes_of_items(&settled).await);
                    return Err(err);
                }
            }
        }
        if report.applied > 0 {
            // Files waiting for a conversation to open may go now.
            self.uploads_changed.notify_one();
        }
        if report != PushReport::default() || wedged_now {
            self.emit_outbox().await?;
        }
        self.emit_changes(self.changes_of_items(&settled).await);
        Ok(report)
    }

    /// Keeps a failed batch and schedules each item's next attempt.
    async fn defer(
        &self,
        chunk: &[OutboxItem],
        err: &ClientError,
        retry_after: Option<std::time::Duration>,
    ) -> Result<(), ClientError> {
        for item in chunk {
            let at = next_attempt_at(item.attempts, jitter(), retry_after, now_ms());
            self.store
                .defer(item.mutation.client_id, &err.to_string(), at)
                .await?;
        }
        Ok(())
    }

    /// What follows an applied page: delivery receipts for fresh messages
    /// (the policy is `receipts.rs`) and notices (`notices.rs`). Neither
    /// may stop the pull: a failure is logged, the page stays applied.
    async fn after_applying(&self, items: &[SyncItem], progress: Vec<OrderProgress>) {
        if let Err(err) = self.acknowledge_delivery(items, self.fresh_since).await {
            tracing::info!(error = %err, "could not queue delivery receipts");
        }
        if let Ok(me) = self.my_id().await {
            for notice in notices::replies(me, items, self.fresh_since) {
                let _ = self.events.send(EngineEvent::Notice(notice));
            }
        }
        for p in progress {
            let _ = self.events.send(EngineEvent::Notice(Notice::OrderProgress {
                order_id: p.order_id,
                number: p.number,
                status: p.status,
                new_events: p.new_events,
            }));
        }
    }

    /// Fills a cache that has no cursor from the server's snapshot (each
    /// entity once), going on from where an interrupted one stopped; the
    /// store marks the cache complete, at the cursor the first page gave,
    /// with the last page. Returns the number of items applied. When a
    /// page does not apply (another tab's engine moved the store on), it
    /// stops: the feed goes on from whatever cursor the store holds.
    async fn snapshot(&self) -> Result<usize, ClientError> {
        let mut after = self.store.snapshot_progress().await?.map(|p| p.after);
        let (mut applied, mut total) = (0, None);
        let mut page = self.api.snapshot(after.as_ref(), PAGE).await?;
        loop {
            total = page.total.or(total);
            // The next page is read while this one is written.
            let read_next = async {
                match &page.next {
                    Some(next) => Some(self.api.snapshot(Some(next), PAGE).await),
                    None => None,
                }
            };
            let (written, read) = tokio::join!(
                self.store.apply_snapshot_page(after.as_ref(), &page),
                read_next
            );
            if !written? {
                return Ok(applied);
            }
            self.emit_changes(Changes::of_items(&page.items));
            self.after_applying(&page.items, Vec::new()).await;
            applied += page.items.len();
            let (Some(next), Some(read)) = (page.next, read) else {
                return Ok(applied);
            };
            if let Some(total) = total {
                let done = applied as i64;
                let _ = self.events.send(EngineEvent::Status(SyncStatus::Syncing {
                    done,
                    total: total.max(done),
                }));
            }
            after = Some(next);
            page = read?;
        }
    }

    /// Pulls the feed from the stored cursor until caught up, after the
    /// snapshot when the cache has no cursor (first sync, or the server
    /// said the cursor is too old: the cache is rebuilt). Returns the
    /// number of items applied.
    pub async fn pull(&self) -> Result<usize, ClientError> {
        // One pull at a time (the service and the UI may both ask).
        let _one = self.pull_lock.lock().await;
        let mut applied = 0;
        if !self.store.has_cursor().await? {
            applied += self.snapshot().await?;
        }
        let mut cursor = self.store.cursor().await?;
        let mut changes_done = 0i64;
        let mut reset = false;
        loop {
            tracing::debug!(target: "hop", cursor, "pull sent");
            match self.api.sync(cursor, PAGE).await {
                Ok(page) => {
                    tracing::debug!(target: "hop", cursor = page.cursor, items = page.items.len(), "page received");
                    if let Some(progress) = self.store.apply_page(&page).await? {
                        tracing::debug!(target: "hop", cursor = page.cursor, "page applied");
                        self.emit_changes(Changes::of_items(&page.items));
                        self.after_applying(&page.items, progress).await;
                    }
                    applied += page.items.len();
                    changes_done += page.changes;
                    if page.has_more {
                        let done = changes_done;
                        let _ = self.events.send(EngineEvent::Status(SyncStatus::Syncing {
                            done,
                            total: done + page.remaining,
                        }));
                    }
                    let _ = self.events.send(EngineEvent::Synced {
                        cursor: page.cursor,
                        items: page.items.len(),
                    });
                    match after_page(&page) {
                        AfterPage::Continue(next) => cursor = next,
                        AfterPage::Done => return Ok(applied),
                    }
                }
                Err(err) => match on_pull_error(&err) {
                    OnPullError::ResetAndPull if !reset => {
                        tracing::info!("the server asked for a full resync");
                        self.store.reset_cache().await?;
                        self.emit(EngineEvent::Resynced);
                        reset = true;
                        applied += self.snapshot().await?;
                        cursor = self.store.cursor().await?;
                    }
                    _ => return Err(err),
                },
            }
        }
    }
}

/// The address a shop-signed identity (a JWT) names in its `email` claim,
/// normalised; read without checking the signature, only to decide whether
/// to ask before signing in (the server verifies it).
fn identity_email(identity: &str) -> Option<String> {
    use base64::Engine as _;
    let payload = identity.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = crate::api::from_json(&bytes).ok()?;
    normalize_email(claims.get("email")?.as_str()?)
}

fn is_auth(e: &ApiError) -> bool {
    e.code == mostrador_core::ErrorCode::Unauthorized
}
