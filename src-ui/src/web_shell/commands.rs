//! The command set of `src-tauri/src/commands.rs`, answered in the page.
//!
//! **API boundary:** the same command names, argument names (camelCase)
//! and result types as the Tauri commands, so `ipc.rs` is one typed
//! function per command whichever shell answers. Each command decodes its
//! JSON arguments, calls one engine method and answers with its typed
//! result (no JSON on the way back: [`Res`]).

use std::any::Any;
use std::rc::Rc;

use mostrador_client::engine::SignInOptions;
use mostrador_client::{ClientError, Engine};
use mostrador_core::app::{Boot, InboxFilter, PickedFile, SavedFile, SessionInfo};
use mostrador_core::auth::{LoginRequest, RegisterRequest};
use mostrador_core::callbacks::{CallbackOutcome, RequestCallback, TimeWindow};
use mostrador_core::chat::UpdateConversation;
use mostrador_core::lang::Lang;
use mostrador_core::live::Presence;
use mostrador_core::profile::{Address, ProfileUpdate};
use mostrador_core::{ApiError, ErrorCode};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use uuid::Uuid;

use super::{api, browser, unknown, Shell};

/// A command's answer: the engine's typed value itself, which `ipc.rs`
/// takes back as the type it asked for. No JSON between the UI and the
/// engine in one page: encoding every view and decoding it again was a
/// large share of the web wasm (serde_json's code per view type).
type Res = Result<Box<dyn Any>, ApiError>;

/// The device name a session shows in the account's session list.
const DEVICE_NAME: &str = "Mostrador web app";

fn args<T: DeserializeOwned>(cmd: &str, json: &str) -> Result<T, ApiError> {
    serde_json::from_str(json).map_err(|e| {
        ApiError::new(
            ErrorCode::Internal,
            format!("decoding {cmd} arguments: {e}"),
        )
    })
}

fn answer<T: 'static>(value: T) -> Res {
    Ok(Box::new(value))
}

/// An engine result as the command's answer.
fn out<T: 'static>(result: Result<T, ClientError>) -> Res {
    answer(result.map_err(api)?)
}

#[derive(Deserialize)]
struct Id {
    id: Uuid,
}

#[derive(Deserialize)]
struct Follow {
    id: Uuid,
    open: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ThreadDeltaArgs {
    id: Uuid,
    messages: Vec<Uuid>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConversationId {
    conversation_id: Uuid,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClientId {
    client_id: Uuid,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CallbackId {
    callback_id: Uuid,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignIn {
    email: String,
    password: String,
    discard_unsent_of_previous_user: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignUp {
    email: String,
    password: String,
    display_name: String,
    language: String,
    discard_unsent_of_previous_user: Option<bool>,
}

#[derive(Deserialize)]
struct Identity {
    identity: String,
}

#[derive(Deserialize)]
struct Code {
    code: String,
}

#[derive(Deserialize)]
struct Email {
    email: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChangePassword {
    current_password: String,
    new_password: String,
    confirm_password: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfirmReset {
    email: String,
    code: String,
    new_password: String,
    confirm_password: String,
}

#[derive(Deserialize)]
struct Language {
    language: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Ask {
    order_id: Option<Uuid>,
    body: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Say {
    conversation_id: Uuid,
    body: String,
    files: Vec<PickedFile>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Draft {
    conversation_id: Uuid,
    body: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rate {
    conversation_id: Uuid,
    score: i64,
    comment: Option<String>,
}

#[derive(Deserialize)]
struct Request {
    request: RequestCallback,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Reschedule {
    callback_id: Uuid,
    window: TimeWindow,
}

#[derive(Deserialize)]
struct Update {
    update: ProfileUpdate,
}

#[derive(Deserialize)]
struct PutAddress {
    address: Address,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AddressId {
    address_id: Uuid,
}

#[derive(Deserialize)]
struct Inbox {
    filter: InboxFilter,
    search: Option<String>,
    limit: usize,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CustomerId {
    customer_id: Uuid,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Reply {
    conversation_id: Uuid,
    body: String,
    note: bool,
    files: Vec<PickedFile>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateConv {
    conversation_id: Uuid,
    update: UpdateConversation,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Outcome {
    callback_id: Uuid,
    outcome: CallbackOutcome,
}

#[derive(Deserialize)]
struct PutCanned {
    id: Option<Uuid>,
    title: String,
    body: String,
}

#[derive(Deserialize)]
struct SetPresence {
    status: Presence,
}

fn sign_in_options(discard: Option<bool>) -> SignInOptions {
    SignInOptions {
        discard_unsent_of_previous_user: discard.unwrap_or(false),
    }
}

async fn session_info(shell: &Shell, engine: &Engine) -> Result<SessionInfo, ApiError> {
    let me = if shell.signed_in().await {
        engine.me().await.map_err(api)?
    } else {
        None
    };
    Ok(SessionInfo {
        me,
        server_url: shell.config.server_url.clone(),
        keychain: Some("this site's storage in the browser".into()),
    })
}

/// Runs one command.
pub(super) async fn dispatch(shell: &Rc<Shell>, cmd: &str, a: &str) -> Res {
    let engine = shell.engine().await;
    match cmd {
        "backend_status" => answer(
            mostrador_client::Client::from_api(engine.api().clone())
                .backend_status()
                .await,
        ),
        "session" => answer(session_info(shell, &engine).await?),
        // The first screen in one answer, as the desktop shell's `boot`.
        "boot" => {
            let session = session_info(shell, &engine).await?;
            let home = engine.first_home(session.me.as_ref()).await.map_err(api)?;
            let (sync, outbox) = shell.last.borrow().clone();
            answer(Boot {
                session,
                sync,
                outbox,
                home,
            })
        }
        // The first screen is drawn: sync from now on (once).
        "ready" => {
            if shell.signed_in().await {
                shell.start_service();
            }
            answer(())
        }
        "sign_in" | "sign_up" | "sign_in_with_identity" => {
            let me = sign_in(&engine, cmd, a).await?;
            shell.start_service();
            answer(me)
        }
        "sign_out" => answer(shell.sign_out().await?),
        // The desktop shell's start-up stages (read by `cargo xtask bench
        // app`); a page has no shell stages of its own: the browser's
        // Navigation Timing holds them.
        "startup_marks" => answer(Vec::<(String, f64)>::new()),
        "verify_email" => out(engine.verify_email(&args::<Code>(cmd, a)?.code).await),
        "resend_verification" => out(engine.resend_verification().await),
        "change_password" => {
            let p: ChangePassword = args(cmd, a)?;
            out(engine
                .change_password(&p.current_password, &p.new_password, &p.confirm_password)
                .await)
        }
        "request_password_reset" => out(engine
            .request_password_reset(&args::<Email>(cmd, a)?.email)
            .await),
        "confirm_password_reset" => {
            let p: ConfirmReset = args(cmd, a)?;
            out(engine
                .confirm_password_reset(&p.email, &p.code, &p.new_password, &p.confirm_password)
                .await)
        }
        "reconnect_now" => out(engine.reconnect_now().await),
        "sync_state" => answer(shell.last.borrow().clone()),
        "set_language" => {
            shell
                .lang
                .set(Lang::from_tag(&args::<Language>(cmd, a)?.language));
            answer(())
        }
        "home" => out(engine.home().await),
        "orders" => out(engine.orders().await),
        "order" => out(engine.order(args::<Id>(cmd, a)?.id).await),
        "conversations" => out(engine.conversation_summaries().await),
        "thread" => out(engine.thread_view(args::<Id>(cmd, a)?.id).await),
        "thread_delta" => {
            let p: ThreadDeltaArgs = args(cmd, a)?;
            out(engine.thread_delta(p.id, &p.messages).await)
        }
        "follow_thread" => {
            let p: Follow = args(cmd, a)?;
            engine.follow_thread(p.id, p.open);
            answer(())
        }
        "ask" => {
            let p: Ask = args(cmd, a)?;
            out(engine.ask(p.order_id, &p.body).await)
        }
        "say" => {
            let p: Say = args(cmd, a)?;
            let ids = engine
                .attach_for(p.conversation_id, &p.body, p.files)
                .await
                .map_err(api)?;
            out(engine.say(p.conversation_id, &p.body, ids).await)
        }
        "mark_read" => out(engine
            .mark_read(args::<ConversationId>(cmd, a)?.conversation_id)
            .await),
        "draft" => out(engine
            .draft(args::<ConversationId>(cmd, a)?.conversation_id)
            .await),
        "save_draft" => {
            let p: Draft = args(cmd, a)?;
            out(engine.save_draft(p.conversation_id, &p.body).await)
        }
        "typing" => {
            engine.typing(args::<ConversationId>(cmd, a)?.conversation_id);
            answer(())
        }
        "retry" => out(engine.retry(args::<ClientId>(cmd, a)?.client_id).await),
        "discard" => out(engine.discard(args::<ClientId>(cmd, a)?.client_id).await),
        "rate" => {
            let p: Rate = args(cmd, a)?;
            out(engine.rate(p.conversation_id, p.score, p.comment).await)
        }
        "attachment_url" => answer(attachment_url(shell, &engine, args::<Id>(cmd, a)?.id).await?),
        "callbacks" => out(engine.callback_lines().await),
        "slots" => out(engine.callback_slots().await),
        "request_callback" => out(engine
            .request_callback(args::<Request>(cmd, a)?.request)
            .await),
        "cancel_callback" => out(engine
            .cancel_callback(args::<CallbackId>(cmd, a)?.callback_id)
            .await),
        "reschedule_callback" => {
            let p: Reschedule = args(cmd, a)?;
            out(engine.reschedule_callback(p.callback_id, p.window).await)
        }
        "profile" => out(engine.profile().await),
        "update_profile" => out(engine.update_profile(args::<Update>(cmd, a)?.update).await),
        "put_address" => out(engine
            .put_address(args::<PutAddress>(cmd, a)?.address)
            .await
            .map(|_| ())),
        "delete_address" => out(engine
            .delete_address(args::<AddressId>(cmd, a)?.address_id)
            .await),
        "export_data" => {
            // The engine fetches it; the browser saves it where it saves
            // downloads.
            let export = engine.export().await.map_err(api)?;
            browser::download(&export.file_name, &export.bytes, "application/json")?;
            answer(SavedFile {
                path: export.file_name,
                bytes: export.bytes.len() as u64,
            })
        }
        "delete_account" => out(engine.delete_account().await),
        // ---- agent mode ----
        "inbox" => {
            let p: Inbox = args(cmd, a)?;
            out(engine.inbox(&p.filter, p.search.as_deref(), p.limit).await)
        }
        "customer" => out(engine
            .customer(args::<CustomerId>(cmd, a)?.customer_id)
            .await),
        "callback_queue" => out(engine.callback_queue().await),
        "reply" => {
            let p: Reply = args(cmd, a)?;
            let ids = engine
                .attach_for(p.conversation_id, &p.body, p.files)
                .await
                .map_err(api)?;
            out(engine.reply(p.conversation_id, &p.body, p.note, ids).await)
        }
        "update_conversation" => {
            let p: UpdateConv = args(cmd, a)?;
            out(engine
                .update_conversation(p.conversation_id, p.update)
                .await)
        }
        "record_outcome" => {
            let p: Outcome = args(cmd, a)?;
            out(engine.record_outcome(p.callback_id, p.outcome).await)
        }
        "canned" => out(engine.canned().await),
        "put_canned" => {
            let p: PutCanned = args(cmd, a)?;
            out(engine.put_canned(p.id, p.title, p.body).await)
        }
        "delete_canned" => out(engine.delete_canned(args::<Id>(cmd, a)?.id).await),
        "metrics" => out(engine.metrics().await),
        "agents" => out(engine.agents().await),
        "set_presence" => {
            engine.set_presence(args::<SetPresence>(cmd, a)?.status);
            answer(())
        }
        "availability" => answer(engine.availability().await),
        _ => Err(unknown(cmd)),
    }
}

/// The three ways in: password, new account, or the shop's signed
/// identity (the widget passes it; the server exchanges it).
async fn sign_in(
    engine: &Engine,
    cmd: &str,
    a: &str,
) -> Result<mostrador_core::auth::Me, ApiError> {
    match cmd {
        "sign_in" => {
            let p: SignIn = args(cmd, a)?;
            engine
                .login_with(
                    &LoginRequest {
                        email: p.email,
                        password: p.password,
                        device_name: Some(DEVICE_NAME.into()),
                    },
                    sign_in_options(p.discard_unsent_of_previous_user),
                )
                .await
        }
        "sign_up" => {
            let p: SignUp = args(cmd, a)?;
            engine
                .register_with(
                    &RegisterRequest {
                        email: p.email,
                        password: p.password,
                        display_name: p.display_name,
                        language: Some(p.language),
                        device_name: Some(DEVICE_NAME.into()),
                    },
                    sign_in_options(p.discard_unsent_of_previous_user),
                )
                .await
        }
        _ => {
            engine
                .sign_in_with_identity(&args::<Identity>(cmd, a)?.identity)
                .await
        }
    }
    .map_err(api)
}

/// An attachment as a `blob:` URL (made once per attachment for the
/// page's life; the bytes come from the engine's cache or the server).
async fn attachment_url(shell: &Shell, engine: &Engine, id: Uuid) -> Result<String, ApiError> {
    if let Some(url) = shell.urls.borrow().get(&id) {
        return Ok(url.clone());
    }
    let bytes = engine.attachment_bytes(id).await.map_err(api)?;
    let mime = mostrador_core::chat::sniff_attachment(&bytes).unwrap_or("application/octet-stream");
    let url = browser::blob_url(&bytes, mime)?;
    shell.urls.borrow_mut().insert(id, url.clone());
    Ok(url)
}
