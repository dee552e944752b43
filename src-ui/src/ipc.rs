//! The one typed bridge to the Tauri shell.
//!
//! **API boundary:** one function per command in `src-tauri/src/commands.rs`;
//! arguments and results are `mostrador-core` types, errors are
//! [`ApiError`]. Nothing else in the UI may reach `window.__TAURI__`.

use mostrador_core::{ApiError, BackendStatus, ErrorCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "core"], js_name = invoke, catch)]
    async fn tauri_invoke(cmd: &str, args: JsValue) -> Result<JsValue, JsValue>;
}

/// Calls a command with serde arguments and decodes its typed result.
async fn call<A: Serialize, R: DeserializeOwned>(cmd: &str, args: &A) -> Result<R, ApiError> {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    let args = args.serialize(&serializer).map_err(|e| {
        ApiError::new(
            ErrorCode::Internal,
            format!("encoding {cmd} arguments: {e}"),
        )
    })?;
    match tauri_invoke(cmd, args).await {
        Ok(value) => serde_wasm_bindgen::from_value(value)
            .map_err(|e| ApiError::new(ErrorCode::Internal, format!("decoding {cmd} result: {e}"))),
        Err(value) => Err(serde_wasm_bindgen::from_value::<ApiError>(value.clone())
            .unwrap_or_else(|_| {
                ApiError::new(
                    ErrorCode::Internal,
                    value.as_string().unwrap_or_else(|| format!("{cmd} failed")),
                )
            })),
    }
}

#[derive(Serialize)]
struct NoArgs {}

/// Checks the backend now.
pub async fn backend_status() -> Result<BackendStatus, ApiError> {
    call("backend_status", &NoArgs {}).await
}
