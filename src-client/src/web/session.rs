//! The session token in the support server origin's `localStorage`: the
//! browser's [`SecretStore`].

use mostrador_core::auth::Token;

use super::js_error;
use crate::platform::{BoxFuture, SecretStore};
use crate::ClientError;

/// The `localStorage` key of the session token.
pub const SESSION_KEY: &str = "mostrador.session";

/// The browser's [`SecretStore`]: the token in the support server origin's
/// `localStorage` under [`SESSION_KEY`]. The shop page that frames the app
/// is another origin and cannot read it; the app's own page runs no script
/// but its own (its CSP). Why not a cookie: in a cross-site iframe an
/// HttpOnly cookie needs `SameSite=None` and is blocked as a third-party
/// cookie (ARCHITECTURE.md, the browser platform).
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalSecretStore;

fn local_storage() -> Result<web_sys::Storage, ClientError> {
    web_sys::window()
        .ok_or_else(|| ClientError::Keychain("no window".into()))?
        .local_storage()
        .map_err(|e| ClientError::Keychain(js_error(&e)))?
        .ok_or_else(|| ClientError::Keychain("this browser keeps no local storage here".into()))
}

impl SecretStore for LocalSecretStore {
    fn load(&self) -> BoxFuture<'_, Result<Option<Token>, ClientError>> {
        Box::pin(async {
            let token = local_storage()?
                .get_item(SESSION_KEY)
                .map_err(|e| ClientError::Keychain(js_error(&e)))?;
            Ok(token.filter(|t| !t.is_empty()).map(Token))
        })
    }

    fn save<'a>(&'a self, token: &'a Token) -> BoxFuture<'a, Result<(), ClientError>> {
        Box::pin(async move {
            local_storage()?
                .set_item(SESSION_KEY, token.expose())
                .map_err(|e| ClientError::Keychain(js_error(&e)))
        })
    }

    fn clear(&self) -> BoxFuture<'_, Result<(), ClientError>> {
        Box::pin(async {
            local_storage()?
                .remove_item(SESSION_KEY)
                .map_err(|e| ClientError::Keychain(js_error(&e)))
        })
    }
}
