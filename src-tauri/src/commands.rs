//! The Tauri command set: the UI's only way into the engine.
//!
//! **API boundary:** each command's name, argument names and result type are
//! a contract with `src-ui/src/ipc.rs`; result and error types come from
//! `mostrador-core` (`mostrador_core::app` for the screens), so both sides
//! compile against the same definitions. Errors cross as [`ApiError`].
//!
//! Reads come from the local store and work offline; writes go through the
//! outbox. Only `slots` and `export_data` need the server there and then.

use mostrador_client::{ClientError, Engine};
use mostrador_core::agent::{AgentInfo, Availability, CannedResponse, Metrics};
use mostrador_core::app::{
    Boot, CallbackLine, ConversationSummary, CustomerView, HomeView, InboxFilter, InboxPage,
    OutboxCount, PickedFile, QueueRow, SavedFile, SessionInfo, SyncState, ThreadDelta, ThreadView,
};
use mostrador_core::auth::{LoginRequest, Me, RegisterRequest};
use mostrador_core::callbacks::CallbackOutcome;
use mostrador_core::callbacks::{RequestCallback, Slot, TimeWindow};
use mostrador_core::chat::UpdateConversation;
use mostrador_core::live::Presence;
use mostrador_core::orders::Order;
use mostrador_core::profile::{Address, Profile, ProfileUpdate};
use mostrador_core::{ApiError, BackendStatus, ErrorCode};
use tauri::{AppHandle, Manager, Runtime, State};
use uuid::Uuid;

use crate::notify::Lang;
use crate::AppState;

type Res<T> = Result<T, ApiError>;

fn api(e: ClientError) -> ApiError {
    e.to_api_error()
}

fn device_name() -> String {
    format!("Mostrador app ({})", std::env::consts::OS)
}

/// Checks the backend now and reports online (with its version) or offline.
#[tauri::command]
pub async fn backend_status(state: State<'_, AppState>) -> Res<BackendStatus> {
    let engine = state.engine().await?;
    Ok(mostrador_client::Client::from_api(engine.api().clone())
        .backend_status()
        .await)
}

/// Who is signed in (from the local store: works offline).
#[tauri::command]
pub async fn session(state: State<'_, AppState>) -> Res<SessionInfo> {
    session_info(&state, &state.engine().await?).await
}

async fn session_info(state: &AppState, engine: &Engine) -> Res<SessionInfo> {
    let me = if state.signed_in().await {
        engine.me().await.map_err(api)?
    } else {
        None
    };
    Ok(SessionInfo {
        me,
        server_url: state.config.server_url.clone(),
        keychain: state
            .keychain
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone(),
    })
}

/// Everything the first screen needs in one answer (the page's first
/// command): who is signed in, the sync indicator, and a signed-in
/// shopper's home screen, from the local store. Waits for the store to
/// open; a store that could not open answers with its error.
#[tauri::command]
pub async fn boot(state: State<'_, AppState>) -> Res<Boot> {
    let engine = state.engine().await?;
    let session = session_info(&state, &engine).await?;
    let home = engine.first_home(session.me.as_ref()).await.map_err(api)?;
    let (sync, outbox) = state.last.lock().unwrap_or_else(|e| e.into_inner()).clone();
    crate::startup::mark("boot");
    Ok(Boot {
        session,
        sync,
        outbox,
        home,
    })
}

/// The page drew its first screen and listens for events: the sync
/// service starts now if someone is signed in (not before, so it does not
/// compete with the first frame). Once; later calls change nothing.
#[tauri::command]
pub async fn ready<R: Runtime>(app: AppHandle<R>, state: State<'_, AppState>) -> Res<()> {
    if state.signed_in().await {
        state.start_service(&app).await;
    }
    Ok(())
}

/// Signs in. Another account's unsent writes on this device make it fail
/// with a `conflict` carrying `UnsentWrites` (the UI asks, then calls again
/// with `discard_unsent_of_previous_user`).
#[tauri::command]
pub async fn sign_in<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    email: String,
    password: String,
    discard_unsent_of_previous_user: Option<bool>,
) -> Res<Me> {
    let engine = state.engine().await?;
    let me = engine
        .login_with(
            &LoginRequest {
                email,
                password,
                device_name: Some(device_name()),
            },
            sign_in_options(discard_unsent_of_previous_user),
        )
        .await
        .map_err(api)?;
    state.start_service(&app).await;
    Ok(me)
}

/// Creates an account and signs in (refused like `sign_in` while another
/// account's unsent writes are here).
#[tauri::command]
pub async fn sign_up<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    email: String,
    password: String,
    display_name: String,
    language: String,
    discard_unsent_of_previous_user: Option<bool>,
) -> Res<Me> {
    let engine = state.engine().await?;
    let me = engine
        .register_with(
            &RegisterRequest {
                email,
                password,
                display_name,
                language: Some(language),
                device_name: Some(device_name()),
            },
            sign_in_options(discard_unsent_of_previous_user),
        )
        .await
        .map_err(api)?;
    state.start_service(&app).await;
    Ok(me)
}

fn sign_in_options(discard: Option<bool>) -> mostrador_client::engine::SignInOptions {
    mostrador_client::engine::SignInOptions {
        discard_unsent_of_previous_user: discard.unwrap_or(false),
    }
}

/// Proves the account's email address with the mailed code; the updated
/// user (its orders are on the device when this returns).
#[tauri::command]
pub async fn verify_email(state: State<'_, AppState>, code: String) -> Res<Me> {
    state.engine().await?.verify_email(&code).await.map_err(api)
}

/// Mails a new verification code (at most one a minute: `rate_limited`).
#[tauri::command]
pub async fn resend_verification(state: State<'_, AppState>) -> Res<()> {
    state
        .engine()
        .await?
        .resend_verification()
        .await
        .map_err(api)
}

/// Changes the password; this device stays signed in, others are not.
#[tauri::command]
pub async fn change_password(
    state: State<'_, AppState>,
    current_password: String,
    new_password: String,
    confirm_password: String,
) -> Res<()> {
    state
        .engine()
        .await?
        .change_password(&current_password, &new_password, &confirm_password)
        .await
        .map_err(api)
}

/// Mails a password-reset code to the address (same answer for any
/// address).
#[tauri::command]
pub async fn request_password_reset(state: State<'_, AppState>, email: String) -> Res<()> {
    state
        .engine()
        .await?
        .request_password_reset(&email)
        .await
        .map_err(api)
}

/// Sets a new password with the mailed code (then the user signs in).
#[tauri::command]
pub async fn confirm_password_reset(
    state: State<'_, AppState>,
    email: String,
    code: String,
    new_password: String,
    confirm_password: String,
) -> Res<()> {
    state
        .engine()
        .await?
        .confirm_password_reset(&email, &code, &new_password, &confirm_password)
        .await
        .map_err(api)
}

/// Try the server now (the offline banner's "Try now", the network came
/// back): reconnects at once and makes waiting writes due.
#[tauri::command]
pub async fn reconnect_now(state: State<'_, AppState>) -> Res<()> {
    state.engine().await?.reconnect_now().await.map_err(api)
}

/// Signs out and wipes this device's copy of the account.
#[tauri::command]
pub async fn sign_out(state: State<'_, AppState>) -> Res<()> {
    state.sign_out().await
}

/// The latest sync state and outbox count.
#[tauri::command]
pub async fn sync_state(state: State<'_, AppState>) -> Res<(SyncState, OutboxCount)> {
    Ok(state.last.lock().unwrap_or_else(|e| e.into_inner()).clone())
}

/// The UI's language (for notifications and the server's profile).
#[tauri::command]
pub async fn set_language(state: State<'_, AppState>, language: String) -> Res<()> {
    *state.lang.lock().unwrap_or_else(|e| e.into_inner()) = Lang::from_tag(&language);
    Ok(())
}

#[tauri::command]
pub async fn home(state: State<'_, AppState>) -> Res<HomeView> {
    state.engine().await?.home().await.map_err(api)
}

#[tauri::command]
pub async fn orders(state: State<'_, AppState>) -> Res<Vec<Order>> {
    state.engine().await?.orders().await.map_err(api)
}

#[tauri::command]
pub async fn order(state: State<'_, AppState>, id: Uuid) -> Res<Option<Order>> {
    state.engine().await?.order(id).await.map_err(api)
}

#[tauri::command]
pub async fn conversations(state: State<'_, AppState>) -> Res<Vec<ConversationSummary>> {
    state
        .engine()
        .await?
        .conversation_summaries()
        .await
        .map_err(api)
}

#[tauri::command]
pub async fn thread(state: State<'_, AppState>, id: Uuid) -> Res<Option<ThreadView>> {
    state.engine().await?.thread_view(id).await.map_err(api)
}

/// What changed in an open thread: the lines of `messages` (the change
/// event's) and the summary, for the screen to merge.
#[tauri::command]
pub async fn thread_delta(
    state: State<'_, AppState>,
    id: Uuid,
    messages: Vec<Uuid>,
) -> Res<Option<ThreadDelta>> {
    state
        .engine()
        .await?
        .thread_delta(id, &messages)
        .await
        .map_err(api)
}

/// Thread `id` is open (`open`) or closed on screen: while it is open,
/// change events that touch it carry its changed lines (`Engine::ui_event`).
#[tauri::command]
pub async fn follow_thread(state: State<'_, AppState>, id: Uuid, open: bool) -> Res<()> {
    state.engine().await?.follow_thread(id, open);
    Ok(())
}

/// Opens a conversation (about an order, if given) with its first message.
#[tauri::command]
pub async fn ask(state: State<'_, AppState>, order_id: Option<Uuid>, body: String) -> Res<Uuid> {
    state
        .engine()
        .await?
        .ask(order_id, &body)
        .await
        .map_err(api)
}

/// Sends a message with files; all of it waits in the outbox if offline.
#[tauri::command]
pub async fn say(
    state: State<'_, AppState>,
    conversation_id: Uuid,
    body: String,
    files: Vec<PickedFile>,
) -> Res<Uuid> {
    let engine = state.engine().await?;
    let ids = engine
        .attach_for(conversation_id, &body, files)
        .await
        .map_err(api)?;
    engine.say(conversation_id, &body, ids).await.map_err(api)
}

#[tauri::command]
pub async fn mark_read(state: State<'_, AppState>, conversation_id: Uuid) -> Res<bool> {
    state
        .engine()
        .await?
        .mark_read(conversation_id)
        .await
        .map_err(api)
}

/// What the user left typed in a conversation's composer.
#[tauri::command]
pub async fn draft(state: State<'_, AppState>, conversation_id: Uuid) -> Res<Option<String>> {
    state
        .engine()
        .await?
        .draft(conversation_id)
        .await
        .map_err(api)
}

/// Keeps what the user is typing (blank forgets it).
#[tauri::command]
pub async fn save_draft(
    state: State<'_, AppState>,
    conversation_id: Uuid,
    body: String,
) -> Res<()> {
    state
        .engine()
        .await?
        .save_draft(conversation_id, &body)
        .await
        .map_err(api)
}

#[tauri::command]
pub async fn typing(state: State<'_, AppState>, conversation_id: Uuid) -> Res<()> {
    state.engine().await?.typing(conversation_id);
    Ok(())
}

/// Sends a refused write again.
#[tauri::command]
pub async fn retry(state: State<'_, AppState>, client_id: Uuid) -> Res<bool> {
    state.engine().await?.retry(client_id).await.map_err(api)
}

/// Gives up on a refused write.
#[tauri::command]
pub async fn discard(state: State<'_, AppState>, client_id: Uuid) -> Res<()> {
    state.engine().await?.discard(client_id).await.map_err(api)
}

/// Rates a conversation (the engine checks the score).
#[tauri::command]
pub async fn rate(
    state: State<'_, AppState>,
    conversation_id: Uuid,
    score: i64,
    comment: Option<String>,
) -> Res<()> {
    state
        .engine()
        .await?
        .rate(conversation_id, score, comment)
        .await
        .map_err(api)
}

/// An attachment as a `data:` URL (from the cache when it has it).
#[tauri::command]
pub async fn attachment_url(state: State<'_, AppState>, id: Uuid) -> Res<String> {
    use base64::Engine as _;
    let bytes = state
        .engine()
        .await?
        .attachment_bytes(id)
        .await
        .map_err(api)?;
    let mime = mostrador_core::chat::sniff_attachment(&bytes).unwrap_or("application/octet-stream");
    Ok(format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

#[tauri::command]
pub async fn callbacks(state: State<'_, AppState>) -> Res<Vec<CallbackLine>> {
    state.engine().await?.callback_lines().await.map_err(api)
}

/// Free slots in the next two weeks (needs the server).
#[tauri::command]
pub async fn slots(state: State<'_, AppState>) -> Res<Vec<Slot>> {
    state.engine().await?.callback_slots().await.map_err(api)
}

/// Books a callback in the slot `window`; its id (chosen by the engine).
#[tauri::command]
pub async fn request_callback(state: State<'_, AppState>, request: RequestCallback) -> Res<Uuid> {
    state
        .engine()
        .await?
        .request_callback(request)
        .await
        .map_err(api)
}

#[tauri::command]
pub async fn cancel_callback(state: State<'_, AppState>, callback_id: Uuid) -> Res<()> {
    state
        .engine()
        .await?
        .cancel_callback(callback_id)
        .await
        .map_err(api)
}

#[tauri::command]
pub async fn reschedule_callback(
    state: State<'_, AppState>,
    callback_id: Uuid,
    window: TimeWindow,
) -> Res<()> {
    state
        .engine()
        .await?
        .reschedule_callback(callback_id, window)
        .await
        .map_err(api)
}

#[tauri::command]
pub async fn profile(state: State<'_, AppState>) -> Res<Option<Profile>> {
    state.engine().await?.profile().await.map_err(api)
}

#[tauri::command]
pub async fn update_profile(state: State<'_, AppState>, update: ProfileUpdate) -> Res<()> {
    state
        .engine()
        .await?
        .update_profile(update)
        .await
        .map_err(api)
}

/// Adds (nil id) or replaces an address.
#[tauri::command]
pub async fn put_address(state: State<'_, AppState>, address: Address) -> Res<()> {
    state
        .engine()
        .await?
        .put_address(address)
        .await
        .map(|_| ())
        .map_err(api)
}

#[tauri::command]
pub async fn delete_address(state: State<'_, AppState>, address_id: Uuid) -> Res<()> {
    state
        .engine()
        .await?
        .delete_address(address_id)
        .await
        .map_err(api)
}

/// Downloads everything the server keeps about the user (the engine
/// fetches it) and saves it in the Downloads folder: choosing the folder
/// and writing the file is the shell's part (pure I/O).
#[tauri::command]
pub async fn export_data<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Res<SavedFile> {
    let export = state.engine().await?.export().await.map_err(api)?;
    let dir = app
        .path()
        .download_dir()
        .or_else(|_| app.path().home_dir())
        .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
    save_whole(&dir.join(&export.file_name), &export.bytes)
}

/// Writes `bytes` to `path` whole, then renames: never a half-written file.
fn save_whole(path: &std::path::Path, bytes: &[u8]) -> Res<SavedFile> {
    let io = |e: std::io::Error| {
        ApiError::new(
            ErrorCode::Internal,
            format!("saving {}: {e}", path.display()),
        )
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let tmp = path.with_extension("json.part");
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)?;
    Ok(SavedFile {
        path: path.display().to_string(),
        bytes: bytes.len() as u64,
    })
}

/// Queues the account's deletion; once the server confirms, the device is
/// signed out and wiped (the `signed_out` event says so).
#[tauri::command]
pub async fn delete_account(state: State<'_, AppState>) -> Res<()> {
    state.engine().await?.delete_account().await.map_err(api)
}

// ---- agent mode ----

/// A page of the agent's inbox, filtered and sorted (local store).
#[tauri::command]
pub async fn inbox(
    state: State<'_, AppState>,
    filter: InboxFilter,
    search: Option<String>,
    limit: usize,
) -> Res<InboxPage> {
    state
        .engine()
        .await?
        .inbox(&filter, search.as_deref(), limit)
        .await
        .map_err(api)
}

/// One customer at a glance.
#[tauri::command]
pub async fn customer(state: State<'_, AppState>, customer_id: Uuid) -> Res<CustomerView> {
    state
        .engine()
        .await?
        .customer(customer_id)
        .await
        .map_err(api)
}

#[tauri::command]
pub async fn callback_queue(state: State<'_, AppState>) -> Res<Vec<QueueRow>> {
    state.engine().await?.callback_queue().await.map_err(api)
}

/// A reply (or an internal note) with files; queued in the outbox.
#[tauri::command]
pub async fn reply(
    state: State<'_, AppState>,
    conversation_id: Uuid,
    body: String,
    note: bool,
    files: Vec<PickedFile>,
) -> Res<Uuid> {
    let engine = state.engine().await?;
    let ids = engine
        .attach_for(conversation_id, &body, files)
        .await
        .map_err(api)?;
    engine
        .reply(conversation_id, &body, note, ids)
        .await
        .map_err(api)
}

/// Claim, assign, set pending or resolved (queued).
#[tauri::command]
pub async fn update_conversation(
    state: State<'_, AppState>,
    conversation_id: Uuid,
    update: UpdateConversation,
) -> Res<()> {
    state
        .engine()
        .await?
        .update_conversation(conversation_id, update)
        .await
        .map_err(api)
}

/// Start, complete or miss a callback (queued).
#[tauri::command]
pub async fn record_outcome(
    state: State<'_, AppState>,
    callback_id: Uuid,
    outcome: CallbackOutcome,
) -> Res<()> {
    state
        .engine()
        .await?
        .record_outcome(callback_id, outcome)
        .await
        .map_err(api)
}

/// Saved replies (the engine keeps a copy for offline use).
#[tauri::command]
pub async fn canned(state: State<'_, AppState>) -> Res<Vec<CannedResponse>> {
    state.engine().await?.canned().await.map_err(api)
}

/// Admins: create (no id) or replace a saved reply.
#[tauri::command]
pub async fn put_canned(
    state: State<'_, AppState>,
    id: Option<Uuid>,
    title: String,
    body: String,
) -> Res<CannedResponse> {
    state
        .engine()
        .await?
        .put_canned(id, title, body)
        .await
        .map_err(api)
}

#[tauri::command]
pub async fn delete_canned(state: State<'_, AppState>, id: Uuid) -> Res<()> {
    state.engine().await?.delete_canned(id).await.map_err(api)
}

/// Support metrics, computed by the server now.
#[tauri::command]
pub async fn metrics(state: State<'_, AppState>) -> Res<Metrics> {
    state.engine().await?.metrics().await.map_err(api)
}

/// The support team, with who is available.
#[tauri::command]
pub async fn agents(state: State<'_, AppState>) -> Res<Vec<AgentInfo>> {
    state.engine().await?.agents().await.map_err(api)
}

/// Staff: available or away.
#[tauri::command]
pub async fn set_presence(state: State<'_, AppState>, status: Presence) -> Res<()> {
    state.engine().await?.set_presence(status);
    Ok(())
}

/// Whether an agent could take a new conversation now (`None` offline).
#[tauri::command]
pub async fn availability(state: State<'_, AppState>) -> Res<Option<Availability>> {
    Ok(state.engine().await?.availability().await)
}

/// When each start-up stage happened, as (stage, Unix ms)
/// ([`crate::startup`]): read by `cargo xtask bench app`, not by the UI.
#[tauri::command]
pub async fn startup_marks() -> Res<Vec<(String, f64)>> {
    Ok(crate::startup::marks())
}
