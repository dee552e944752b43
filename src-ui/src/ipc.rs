//! The one typed bridge to the shell.
//!
//! **API boundary:** one function per command in `src-tauri/src/commands.rs`;
//! arguments and results are `mostrador-core` types, errors are
//! [`ApiError`]. Nothing else in the UI may reach the shell. Argument
//! names travel in camelCase (Tauri's convention), hence `rename_all`
//! below.
//!
//! Two shells answer: the desktop app's (Tauri: `window.__TAURI__`, the
//! default build) and, with the `web` feature, the in-page one of the web
//! build (`crate::web_shell`), which takes the same JSON arguments and
//! answers with the typed values themselves. Only [`call`] and
//! [`on_event`] differ between them.

use mostrador_core::agent::{AgentInfo, Availability, CannedResponse, Metrics};
use mostrador_core::app::{
    AppEvent, Boot, CallbackLine, ConversationSummary, CustomerView, HomeView, InboxFilter,
    InboxPage, OutboxCount, PickedFile, QueueRow, SavedFile, SessionInfo, SyncState, ThreadDelta,
    ThreadView,
};
use mostrador_core::auth::Me;
use mostrador_core::callbacks::CallbackOutcome;
use mostrador_core::callbacks::{RequestCallback, Slot, TimeWindow};
use mostrador_core::chat::UpdateConversation;
use mostrador_core::live::Presence;
use mostrador_core::orders::Order;
use mostrador_core::profile::{Address, Profile, ProfileUpdate};
use mostrador_core::{ApiError, BackendStatus};
use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;

/// The desktop app's shell, reached through `window.__TAURI__`.
#[cfg(not(feature = "web"))]
mod shell {
    use mostrador_core::app::{AppEvent, EVENT};
    use mostrador_core::{ApiError, ErrorCode};
    use serde::de::DeserializeOwned;
    use serde::Serialize;
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "core"], js_name = invoke, catch)]
        async fn tauri_invoke(cmd: &str, args: JsValue) -> Result<JsValue, JsValue>;

        #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "event"], js_name = listen, catch)]
        async fn tauri_listen(
            event: &str,
            handler: &Closure<dyn FnMut(JsValue)>,
        ) -> Result<JsValue, JsValue>;
    }

    /// Invokes a Tauri command with serde arguments and decodes its typed
    /// result.
    pub(super) async fn call<A: Serialize, R: DeserializeOwned>(
        cmd: &str,
        args: &A,
    ) -> Result<R, ApiError> {
        let serializer = serde_wasm_bindgen::Serializer::json_compatible();
        let args = args.serialize(&serializer).map_err(|e| {
            ApiError::new(
                ErrorCode::Internal,
                format!("encoding {cmd} arguments: {e}"),
            )
        })?;
        match tauri_invoke(cmd, args).await {
            Ok(value) => serde_wasm_bindgen::from_value(value).map_err(|e| {
                ApiError::new(ErrorCode::Internal, format!("decoding {cmd} result: {e}"))
            }),
            Err(value) => Err(serde_wasm_bindgen::from_value::<ApiError>(value.clone())
                .unwrap_or_else(|_| {
                    ApiError::new(
                        ErrorCode::Internal,
                        value.as_string().unwrap_or_else(|| format!("{cmd} failed")),
                    )
                })),
        }
    }

    pub(super) async fn on_event(handler: impl Fn(AppEvent) + 'static) -> Result<(), ApiError> {
        let closure = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
            let payload = js_sys::Reflect::get(&event, &JsValue::from_str("payload"))
                .unwrap_or(JsValue::UNDEFINED);
            match serde_wasm_bindgen::from_value::<AppEvent>(payload) {
                Ok(e) => handler(e),
                Err(err) => web_sys::console::warn_1(&format!("undecodable event: {err}").into()),
            }
        });
        tauri_listen(EVENT, &closure)
            .await
            .map_err(|e| ApiError::new(ErrorCode::Internal, format!("{e:?}")))?;
        // Listens for the page's lifetime.
        closure.forget();
        Ok(())
    }
}

/// The web build's in-page shell: the same two entry points, answered
/// with the Tauri command set's JSON.
#[cfg(feature = "web")]
mod shell {
    use mostrador_core::app::AppEvent;
    use mostrador_core::{ApiError, ErrorCode};
    use serde::de::DeserializeOwned;
    use serde::Serialize;

    /// Arguments travel as JSON; the answer is the engine's value itself
    /// (`web_shell::commands`), taken back as the type asked for.
    pub(super) async fn call<A: Serialize, R: DeserializeOwned + 'static>(
        cmd: &str,
        args: &A,
    ) -> Result<R, ApiError> {
        let args = serde_json::to_string(args).map_err(|e| {
            ApiError::new(
                ErrorCode::Internal,
                format!("encoding {cmd} arguments: {e}"),
            )
        })?;
        let result = crate::web_shell::call(cmd, &args).await?;
        result.downcast::<R>().map(|r| *r).map_err(|_| {
            ApiError::new(
                ErrorCode::Internal,
                format!("decoding {cmd} result: not the type asked for"),
            )
        })
    }

    pub(super) async fn on_event(handler: impl Fn(AppEvent) + 'static) -> Result<(), ApiError> {
        crate::web_shell::on_event(handler).await
    }
}

/// Calls a command with serde arguments and decodes its typed result.
async fn call<A: Serialize, R: DeserializeOwned + 'static>(
    cmd: &str,
    args: &A,
) -> Result<R, ApiError> {
    crate::probe::count_for_tests("__mostradorFetches", cmd);
    crate::probe::mark(cmd);
    let answer = shell::call(cmd, args).await;
    crate::probe::mark(&format!("{cmd}:answered"));
    answer
}

/// Calls `handler` with every [`AppEvent`] the shell emits, for the life
/// of the page.
pub async fn on_event(handler: impl Fn(AppEvent) + 'static) -> Result<(), ApiError> {
    shell::on_event(handler).await
}

#[derive(Serialize)]
struct NoArgs {}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Id {
    id: Uuid,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConversationId {
    conversation_id: Uuid,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClientId {
    client_id: Uuid,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CallbackId {
    callback_id: Uuid,
}

/// What the first screen needs, in one round trip (the page's first
/// command).
pub async fn boot() -> Result<Boot, ApiError> {
    call("boot", &NoArgs {}).await
}

/// The first screen is drawn and events are listened for: the shell may
/// start syncing.
pub async fn ready() -> Result<(), ApiError> {
    call("ready", &NoArgs {}).await
}

pub async fn backend_status() -> Result<BackendStatus, ApiError> {
    call("backend_status", &NoArgs {}).await
}

pub async fn session() -> Result<SessionInfo, ApiError> {
    call("session", &NoArgs {}).await
}

pub async fn sign_in(email: String, password: String) -> Result<Me, ApiError> {
    sign_in_with(email, password, false).await
}

/// Signs in; `discard_unsent_of_previous_user` once the user confirmed
/// that another account's unsent writes on this device may go
/// (`UnsentWrites::from_error` reads the refusal that asks).
pub async fn sign_in_with(
    email: String,
    password: String,
    discard_unsent_of_previous_user: bool,
) -> Result<Me, ApiError> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct A {
        email: String,
        password: String,
        discard_unsent_of_previous_user: bool,
    }
    call(
        "sign_in",
        &A {
            email,
            password,
            discard_unsent_of_previous_user,
        },
    )
    .await
}

pub async fn sign_up(
    email: String,
    password: String,
    display_name: String,
    language: String,
) -> Result<Me, ApiError> {
    sign_up_with(email, password, display_name, language, false).await
}

/// Creates an account (asks like [`sign_in_with`]).
pub async fn sign_up_with(
    email: String,
    password: String,
    display_name: String,
    language: String,
    discard_unsent_of_previous_user: bool,
) -> Result<Me, ApiError> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct A {
        email: String,
        password: String,
        display_name: String,
        language: String,
        discard_unsent_of_previous_user: bool,
    }
    call(
        "sign_up",
        &A {
            email,
            password,
            display_name,
            language,
            discard_unsent_of_previous_user,
        },
    )
    .await
}

/// Signs in with the shop's signed identity (the widget passes it in).
/// Only the web build's shell answers it: the desktop app is never
/// embedded.
pub async fn sign_in_with_identity(identity: String) -> Result<Me, ApiError> {
    #[derive(Serialize)]
    struct A {
        identity: String,
    }
    call("sign_in_with_identity", &A { identity }).await
}

pub async fn sign_out() -> Result<(), ApiError> {
    call("sign_out", &NoArgs {}).await
}

/// Proves the account's address with the mailed code; the updated user.
pub async fn verify_email(code: String) -> Result<Me, ApiError> {
    #[derive(Serialize)]
    struct A {
        code: String,
    }
    call("verify_email", &A { code }).await
}

/// Mails a new verification code (`rate_limited` within a minute of the
/// last one).
pub async fn resend_verification() -> Result<(), ApiError> {
    call("resend_verification", &NoArgs {}).await
}

/// Changes the password; refusals name `current_password`,
/// `new_password` or `confirm_password`.
pub async fn change_password(
    current_password: String,
    new_password: String,
    confirm_password: String,
) -> Result<(), ApiError> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct A {
        current_password: String,
        new_password: String,
        confirm_password: String,
    }
    call(
        "change_password",
        &A {
            current_password,
            new_password,
            confirm_password,
        },
    )
    .await
}

/// Asks for a password-reset code by email.
pub async fn request_password_reset(email: String) -> Result<(), ApiError> {
    #[derive(Serialize)]
    struct A {
        email: String,
    }
    call("request_password_reset", &A { email }).await
}

/// Sets a new password with the mailed code.
pub async fn confirm_password_reset(
    email: String,
    code: String,
    new_password: String,
    confirm_password: String,
) -> Result<(), ApiError> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct A {
        email: String,
        code: String,
        new_password: String,
        confirm_password: String,
    }
    call(
        "confirm_password_reset",
        &A {
            email,
            code,
            new_password,
            confirm_password,
        },
    )
    .await
}

/// Try the server now (reconnect at once, send what waits).
pub async fn reconnect_now() -> Result<(), ApiError> {
    call("reconnect_now", &NoArgs {}).await
}

pub async fn sync_state() -> Result<(SyncState, OutboxCount), ApiError> {
    call("sync_state", &NoArgs {}).await
}

pub async fn set_language(language: &str) -> Result<(), ApiError> {
    #[derive(Serialize)]
    struct A<'a> {
        language: &'a str,
    }
    call("set_language", &A { language }).await
}

pub async fn home() -> Result<HomeView, ApiError> {
    call("home", &NoArgs {}).await
}

pub async fn orders() -> Result<Vec<Order>, ApiError> {
    call("orders", &NoArgs {}).await
}

pub async fn order(id: Uuid) -> Result<Option<Order>, ApiError> {
    call("order", &Id { id }).await
}

pub async fn conversations() -> Result<Vec<ConversationSummary>, ApiError> {
    call("conversations", &NoArgs {}).await
}

pub async fn thread(id: Uuid) -> Result<Option<ThreadView>, ApiError> {
    call("thread", &Id { id }).await
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ThreadDeltaArgs<'a> {
    id: Uuid,
    messages: &'a [Uuid],
}

/// What changed in an open thread: the lines of `messages` (a change
/// event's) and the summary (`None`: the conversation is gone).
pub async fn thread_delta(id: Uuid, messages: &[Uuid]) -> Result<Option<ThreadDelta>, ApiError> {
    call("thread_delta", &ThreadDeltaArgs { id, messages }).await
}

/// Thread `id` is open (`open`) or closed on screen: while it is open,
/// change events that touch it carry its changed lines
/// ([`Changes::thread`]).
///
/// [`Changes::thread`]: mostrador_core::app::Changes::thread
pub async fn follow_thread(id: Uuid, open: bool) -> Result<(), ApiError> {
    #[derive(Serialize)]
    struct Args {
        id: Uuid,
        open: bool,
    }
    call("follow_thread", &Args { id, open }).await
}

pub async fn ask(order_id: Option<Uuid>, body: String) -> Result<Uuid, ApiError> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct A {
        order_id: Option<Uuid>,
        body: String,
    }
    call("ask", &A { order_id, body }).await
}

pub async fn say(
    conversation_id: Uuid,
    body: String,
    files: Vec<PickedFile>,
) -> Result<Uuid, ApiError> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct A {
        conversation_id: Uuid,
        body: String,
        files: Vec<PickedFile>,
    }
    call(
        "say",
        &A {
            conversation_id,
            body,
            files,
        },
    )
    .await
}

pub async fn mark_read(conversation_id: Uuid) -> Result<bool, ApiError> {
    call("mark_read", &ConversationId { conversation_id }).await
}

/// What the user left typed in the conversation's composer.
pub async fn draft(conversation_id: Uuid) -> Result<Option<String>, ApiError> {
    call("draft", &ConversationId { conversation_id }).await
}

/// Keeps what the user is typing (blank forgets it).
pub async fn save_draft(conversation_id: Uuid, body: String) -> Result<(), ApiError> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct A {
        conversation_id: Uuid,
        body: String,
    }
    call(
        "save_draft",
        &A {
            conversation_id,
            body,
        },
    )
    .await
}

pub async fn typing(conversation_id: Uuid) -> Result<(), ApiError> {
    call("typing", &ConversationId { conversation_id }).await
}

pub async fn retry(client_id: Uuid) -> Result<bool, ApiError> {
    call("retry", &ClientId { client_id }).await
}

pub async fn discard(client_id: Uuid) -> Result<(), ApiError> {
    call("discard", &ClientId { client_id }).await
}

pub async fn rate(
    conversation_id: Uuid,
    score: i64,
    comment: Option<String>,
) -> Result<(), ApiError> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct A {
        conversation_id: Uuid,
        score: i64,
        comment: Option<String>,
    }
    call(
        "rate",
        &A {
            conversation_id,
            score,
            comment,
        },
    )
    .await
}

pub async fn attachment_url(id: Uuid) -> Result<String, ApiError> {
    call("attachment_url", &Id { id }).await
}

pub async fn callbacks() -> Result<Vec<CallbackLine>, ApiError> {
    call("callbacks", &NoArgs {}).await
}

pub async fn slots() -> Result<Vec<Slot>, ApiError> {
    call("slots", &NoArgs {}).await
}

pub async fn request_callback(request: RequestCallback) -> Result<Uuid, ApiError> {
    #[derive(Serialize)]
    struct A {
        request: RequestCallback,
    }
    call("request_callback", &A { request }).await
}

pub async fn cancel_callback(callback_id: Uuid) -> Result<(), ApiError> {
    call("cancel_callback", &CallbackId { callback_id }).await
}

pub async fn reschedule_callback(callback_id: Uuid, window: TimeWindow) -> Result<(), ApiError> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct A {
        callback_id: Uuid,
        window: TimeWindow,
    }
    call(
        "reschedule_callback",
        &A {
            callback_id,
            window,
        },
    )
    .await
}

pub async fn profile() -> Result<Option<Profile>, ApiError> {
    call("profile", &NoArgs {}).await
}

pub async fn update_profile(update: ProfileUpdate) -> Result<(), ApiError> {
    #[derive(Serialize)]
    struct A {
        update: ProfileUpdate,
    }
    call("update_profile", &A { update }).await
}

pub async fn put_address(address: Address) -> Result<(), ApiError> {
    #[derive(Serialize)]
    struct A {
        address: Address,
    }
    call("put_address", &A { address }).await
}

pub async fn delete_address(address_id: Uuid) -> Result<(), ApiError> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct A {
        address_id: Uuid,
    }
    call("delete_address", &A { address_id }).await
}

pub async fn export_data() -> Result<SavedFile, ApiError> {
    call("export_data", &NoArgs {}).await
}

pub async fn delete_account() -> Result<(), ApiError> {
    call("delete_account", &NoArgs {}).await
}

// ---- agent mode ----

pub async fn inbox(
    filter: InboxFilter,
    search: Option<String>,
    limit: usize,
) -> Result<InboxPage, ApiError> {
    #[derive(Serialize)]
    struct A {
        filter: InboxFilter,
        search: Option<String>,
        limit: usize,
    }
    call(
        "inbox",
        &A {
            filter,
            search,
            limit,
        },
    )
    .await
}

pub async fn customer(customer_id: Uuid) -> Result<CustomerView, ApiError> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct A {
        customer_id: Uuid,
    }
    call("customer", &A { customer_id }).await
}

pub async fn callback_queue() -> Result<Vec<QueueRow>, ApiError> {
    call("callback_queue", &NoArgs {}).await
}

pub async fn reply(
    conversation_id: Uuid,
    body: String,
    note: bool,
    files: Vec<PickedFile>,
) -> Result<Uuid, ApiError> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct A {
        conversation_id: Uuid,
        body: String,
        note: bool,
        files: Vec<PickedFile>,
    }
    call(
        "reply",
        &A {
            conversation_id,
            body,
            note,
            files,
        },
    )
    .await
}

pub async fn update_conversation(
    conversation_id: Uuid,
    update: UpdateConversation,
) -> Result<(), ApiError> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct A {
        conversation_id: Uuid,
        update: UpdateConversation,
    }
    call(
        "update_conversation",
        &A {
            conversation_id,
            update,
        },
    )
    .await
}

pub async fn record_outcome(callback_id: Uuid, outcome: CallbackOutcome) -> Result<(), ApiError> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct A {
        callback_id: Uuid,
        outcome: CallbackOutcome,
    }
    call(
        "record_outcome",
        &A {
            callback_id,
            outcome,
        },
    )
    .await
}

pub async fn canned() -> Result<Vec<CannedResponse>, ApiError> {
    call("canned", &NoArgs {}).await
}

pub async fn put_canned(
    id: Option<Uuid>,
    title: String,
    body: String,
) -> Result<CannedResponse, ApiError> {
    #[derive(Serialize)]
    struct A {
        id: Option<Uuid>,
        title: String,
        body: String,
    }
    call("put_canned", &A { id, title, body }).await
}

pub async fn delete_canned(id: Uuid) -> Result<(), ApiError> {
    call("delete_canned", &Id { id }).await
}

pub async fn metrics() -> Result<Metrics, ApiError> {
    call("metrics", &NoArgs {}).await
}

pub async fn agents() -> Result<Vec<AgentInfo>, ApiError> {
    call("agents", &NoArgs {}).await
}

pub async fn set_presence(status: Presence) -> Result<(), ApiError> {
    #[derive(Serialize)]
    struct A {
        status: Presence,
    }
    call("set_presence", &A { status }).await
}

pub async fn availability() -> Result<Option<Availability>, ApiError> {
    call("availability", &NoArgs {}).await
}
