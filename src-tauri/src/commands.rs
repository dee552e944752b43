//! The Tauri command set: the UI's only way into the engine.
//!
//! **API boundary:** each command's name, argument names and result type are
//! a contract with `src-ui/src/ipc.rs`; result and error types come from
//! `mostrador-core`, so both sides compile against the same definitions.
//! Errors cross as [`mostrador_core::ApiError`].

use mostrador_core::BackendStatus;
use tauri::State;

use crate::AppState;

/// Checks the backend now and reports online (with its version) or offline.
#[tauri::command]
pub async fn backend_status(
    state: State<'_, AppState>,
) -> Result<BackendStatus, mostrador_core::ApiError> {
    Ok(state.client.backend_status().await)
}
