//! The engine: local store + outbox + sync over the API.
//!
//! # The outbox's lifecycle
//!
//! 1. `enqueue` writes the mutation (with its client-generated `client_id`,
//!    the server's idempotency key) to the `outbox` table before anything
//!    else; the UI shows it at once as pending (local echo).
//! 2. `push_pending` sends due, unwedged items in order, in batches. Each
//!    result is handled on its own: `applied` removes the row; `rejected`
//!    keeps it, *wedged*, with the server's reason, until the user retries
//!    (`retry`) or discards (`discard`) it.
//! 3. A failure without an answer, a 429 or a 5xx keeps every item of the
//!    batch and schedules the next attempt with jittered exponential
//!    backoff (at least the server's `Retry-After`). `retry_now` (called when
//!    the connection comes back) makes them due at once.
//! 4. After a crash the rows are still there; they are sent again, and the
//!    server answers a resent `client_id` with its first result, so nothing
//!    is applied twice and nothing is lost.
//!
//! Nothing is ever removed from the outbox except by an `applied` answer or
//! the user's discard.

use std::path::Path;

use mostrador_core::auth::{AuthResponse, LoginRequest, Me, RegisterRequest};
use mostrador_core::sync::{Mutation, MutationOp, MutationOutcome, MAX_PUSH};
use mostrador_core::ApiError;
use std::sync::Arc;

use tokio::sync::{broadcast, watch, Notify};
use uuid::Uuid;

use crate::retry::{backoff, classify, jitter, RetryKind};
use crate::session::KeychainSession;
use crate::store::{now_ms, OutboxItem, Store};
use crate::sync::{after_page, on_pull_error, AfterPage, OnPullError};
use crate::{ApiClient, ClientConfig, ClientError};

/// Changes the UI may want to redraw for.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineEvent {
    /// The connection state changed.
    Status(crate::live::SyncStatus),
    /// Something live for the UI (typing).
    Live(mostrador_core::live::LiveServerMessage),
    /// The server refused the session: the user must sign in again.
    SignedOut,
    /// The account was deleted on the server; call `sign_out` to wipe this
    /// device.
    AccountDeleted,
    /// The outbox changed: how many writes wait, and how many are wedged.
    Outbox { pending: usize, wedged: usize },
    /// A pull applied `items` changes up to `cursor`.
    Synced { cursor: i64, items: usize },
    /// The server said the cache was too old; it was rebuilt.
    Resynced,
    /// Entities changed (new or updated messages, message states,
    /// conversations, orders, callbacks, profile) or were removed: one event
    /// per applied page.
    Changed(Vec<mostrador_core::sync::SyncItem>),
    /// An order's status changed or its timeline grew.
    OrderProgress(crate::store::OrderProgress),
}

/// What one push did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct PushReport {
    pub applied: usize,
    pub rejected: usize,
}

#[derive(Debug, Clone)]
pub struct Engine {
    api: ApiClient,
    store: Store,
    /// Where the session token is kept; `None` keeps it in memory only
    /// (tests of other parts; the app always uses the keychain).
    keychain: Option<KeychainSession>,
    pull_lock: Arc<tokio::sync::Mutex<()>>,
    events: broadcast::Sender<EngineEvent>,
    outbox_changed: Arc<Notify>,
    typing: Arc<watch::Sender<Option<Uuid>>>,
    /// Staff: the availability to announce (again after each reconnect).
    presence: Arc<watch::Sender<Option<mostrador_core::live::Presence>>>,
}

/// Page size for pulls.
const PAGE: i64 = 500;

impl Engine {
    /// Opens the engine over the store file at `store_path`.
    pub async fn open(config: &ClientConfig, store_path: &Path) -> Result<Self, ClientError> {
        Ok(Self {
            api: ApiClient::new(config)?,
            store: Store::open(store_path).await?,
            keychain: None,
            pull_lock: Arc::new(tokio::sync::Mutex::new(())),
            events: broadcast::channel(256).0,
            outbox_changed: Arc::new(Notify::new()),
            typing: Arc::new(watch::channel(None).0),
            presence: Arc::new(watch::channel(None).0),
        })
    }

    /// Keeps the session token in the OS keychain, and picks up the one
    /// saved there by an earlier run. Returns whether a session was restored.
    pub async fn use_keychain(&mut self) -> Result<bool, ClientError> {
        let keychain = KeychainSession::for_device(self.api.base_url(), self.store.path());
        let token = keychain.load().await?;
        let restored = token.is_some();
        if restored {
            self.api.set_token(token);
        }
        self.keychain = Some(keychain);
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

    pub(crate) fn emit(&self, event: EngineEvent) {
        let _ = self.events.send(event);
    }

    pub(crate) fn outbox_changed(&self) -> &Notify {
        &self.outbox_changed
    }

    pub(crate) fn presence_tx(&self) -> &watch::Sender<Option<mostrador_core::live::Presence>> {
        &self.presence
    }

    pub(crate) fn typing_tx(&self) -> &watch::Sender<Option<Uuid>> {
        &self.typing
    }

    async fn signed_in(&self, auth: AuthResponse) -> Result<Me, ClientError> {
        if let Some(k) = &self.keychain {
            k.save(&auth.token).await?;
        }
        self.api.set_token(Some(auth.token));
        // Another account used this device before (its session was lost
        // without a sign-out): none of its data may show or be sent.
        let previous: Option<Me> = self
            .store
            .get_kv("me")
            .await?
            .and_then(|j| serde_json::from_str(&j).ok());
        if previous.is_some_and(|p| p.id != auth.user.id) {
            self.store.forget_everything().await?;
        }
        let me =
            serde_json::to_string(&auth.user).map_err(|e| ClientError::Store(e.to_string()))?;
        self.store.set_kv("me", &me).await?;
        Ok(auth.user)
    }

    pub async fn login(&self, req: &LoginRequest) -> Result<Me, ClientError> {
        let auth = self.api.login(req).await?;
        self.signed_in(auth).await
    }

    pub async fn register(&self, req: &RegisterRequest) -> Result<Me, ClientError> {
        let auth = self.api.register(req).await?;
        self.signed_in(auth).await
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
        self.store.wipe().await
    }

    async fn emit_outbox(&self) -> Result<(), ClientError> {
        let items = self.store.outbox().await?;
        let wedged = items.iter().filter(|i| i.wedged.is_some()).count();
        let _ = self.events.send(EngineEvent::Outbox {
            pending: items.len(),
            wedged,
        });
        Ok(())
    }

    /// Persists a write; it is sent by the next `push_pending`.
    pub async fn enqueue(&self, op: MutationOp) -> Result<Uuid, ClientError> {
        let client_id = Uuid::new_v4();
        self.store.enqueue(&Mutation { client_id, op }).await?;
        self.emit_outbox().await?;
        // Wake the sync service (if running) to send it now.
        self.outbox_changed.notify_one();
        Ok(client_id)
    }

    pub async fn outbox(&self) -> Result<Vec<OutboxItem>, ClientError> {
        self.store.outbox().await
    }

    /// Makes every unwedged item due now (the connection came back).
    pub async fn retry_now(&self) -> Result<(), ClientError> {
        sqlx::query("UPDATE outbox SET next_attempt_at = 0 WHERE wedged IS NULL")
            .execute(self.store.pool())
            .await
            .map_err(|e| ClientError::Store(e.to_string()))?;
        Ok(())
    }

    /// The user asks to send a wedged item again.
    pub async fn retry(&self, client_id: Uuid) -> Result<bool, ClientError> {
        let done = self.store.unwedge(client_id).await?;
        self.emit_outbox().await?;
        self.outbox_changed.notify_one();
        Ok(done)
    }

    /// The user gives up on an item.
    pub async fn discard(&self, client_id: Uuid) -> Result<(), ClientError> {
        self.store.remove_outbox(client_id).await?;
        self.emit_outbox().await
    }

    /// Sends due, unwedged outbox items in order.
    pub async fn push_pending(&self) -> Result<PushReport, ClientError> {
        // Files first, so no message reaches the server before its attachment.
        self.upload_pending().await?;
        let now = now_ms();
        let due: Vec<OutboxItem> = self
            .store
            .outbox()
            .await?
            .into_iter()
            .filter(|i| i.wedged.is_none() && i.next_attempt_at <= now)
            .collect();
        let mut report = PushReport::default();
        for chunk in due.chunks(MAX_PUSH) {
            let mutations: Vec<Mutation> = chunk.iter().map(|i| i.mutation.clone()).collect();
            match self.api.push(mutations).await {
                Ok(res) => {
                    for r in res.results {
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
                        }
                        // Signed out: keep everything for after the next sign-in.
                        RetryKind::Permanent(_) => {}
                        RetryKind::NetworkFailure => self.defer(chunk, &err, None).await?,
                        RetryKind::Transient { retry_after } => {
                            self.defer(chunk, &err, retry_after).await?
                        }
                    }
                    self.emit_outbox().await?;
                    return Err(err);
                }
            }
        }
        if report != PushReport::default() {
            self.emit_outbox().await?;
        }
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
            let wait = backoff(item.attempts as u32, jitter(), retry_after);
            let at = now_ms() + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 4);
            self.store
                .defer(item.mutation.client_id, &err.to_string(), at)
                .await?;
        }
        Ok(())
    }

    /// Pulls the feed from the stored cursor until caught up; rebuilds the
    /// cache from 0 when the server says the cursor is too old. Returns the
    /// number of items applied.
    pub async fn pull(&self) -> Result<usize, ClientError> {
        // One pull at a time (the service and the UI may both ask).
        let _one = self.pull_lock.lock().await;
        let mut cursor = self.store.cursor().await?;
        let mut applied = 0;
        let mut changes_done = 0i64;
        let mut reset = false;
        loop {
            match self.api.sync(cursor, PAGE).await {
                Ok(page) => {
                    if let Some(progress) = self.store.apply_page(&page).await? {
                        if !page.items.is_empty() {
                            let _ = self.events.send(EngineEvent::Changed(page.items.clone()));
                        }
                        for p in progress {
                            let _ = self.events.send(EngineEvent::OrderProgress(p));
                        }
                    }
                    applied += page.items.len();
                    changes_done += page.changes;
                    if page.has_more {
                        let done = changes_done;
                        let _ = self.events.send(EngineEvent::Status(
                            crate::live::SyncStatus::Syncing {
                                done,
                                total: done + page.remaining,
                            },
                        ));
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
                        let _ = self.events.send(EngineEvent::Resynced);
                        reset = true;
                        cursor = 0;
                    }
                    _ => return Err(err),
                },
            }
        }
    }
}

fn is_auth(e: &ApiError) -> bool {
    e.code == mostrador_core::ErrorCode::Unauthorized
}
