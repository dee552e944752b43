//! Builds the app's ACL: every command the UI may invoke is listed here, so
//! Tauri generates an `allow-<command>` permission for each and refuses any
//! command the capability (`capabilities/default.json`, through the
//! `app-commands` set in `permissions/app.toml`) does not grant. Without an
//! app manifest Tauri lets the window call every registered command.
//!
//! Keep `COMMANDS` equal to `tauri::generate_handler![…]` in `src/lib.rs`:
//! `tests/commands.rs` (`every_command_is_listed_and_granted`) fails otherwise.

/// The app's commands, as registered in `src/lib.rs`.
const COMMANDS: &[&str] = &[
    "boot",
    "ready",
    "backend_status",
    "session",
    "sign_in",
    "sign_up",
    "sign_out",
    "reconnect_now",
    "verify_email",
    "resend_verification",
    "change_password",
    "request_password_reset",
    "confirm_password_reset",
    "sync_state",
    "set_language",
    "home",
    "orders",
    "order",
    "conversations",
    "thread",
    "thread_delta",
    "follow_thread",
    "ask",
    "say",
    "mark_read",
    "draft",
    "save_draft",
    "typing",
    "retry",
    "discard",
    "rate",
    "attachment_url",
    "callbacks",
    "slots",
    "request_callback",
    "cancel_callback",
    "reschedule_callback",
    "profile",
    "update_profile",
    "put_address",
    "delete_address",
    "export_data",
    "delete_account",
    "inbox",
    "customer",
    "callback_queue",
    "reply",
    "update_conversation",
    "record_outcome",
    "canned",
    "put_canned",
    "delete_canned",
    "metrics",
    "agents",
    "set_presence",
    "availability",
    "startup_marks",
];

fn main() {
    println!("cargo:rerun-if-changed=permissions");
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("failed to build the app's ACL");
}
