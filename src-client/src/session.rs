//! The session token in the OS keychain, never in SQLite, logs or the UI.
//!
//! Through `keyring-core` and one credential store per platform, chosen once
//! per process:
//! - Linux: the Secret Service (GNOME Keyring, KWallet) when one answers on
//!   the session bus, else the kernel keyring (keyutils);
//! - macOS: Keychain Services; iOS: the protected data store;
//! - Windows: the Credential Manager; Android: the Android keystore.
//!
//! (Only the Linux stores are built and tested on this project's machines;
//! the others are compile-gated for their targets.)
//!
//! One entry per backend URL, so a device can hold sessions on several
//! servers. Keychain calls block, so they run on the blocking pool.

use std::sync::OnceLock;

use keyring_core::{Entry, Error};
use mostrador_core::auth::Token;

use crate::ClientError;

/// The keychain "service" under which tokens are filed.
pub const SERVICE: &str = "app.mostrador.desktop";

/// What to tell a user whose system has no usable keychain.
pub const NO_KEYCHAIN_HINT: &str = "Mostrador keeps your sign-in in the system keychain, and none answered. \
On Linux, install and unlock a Secret Service provider (for example the gnome-keyring package) and sign in again.";

/// Which store this process uses, once chosen.
static STORE: OnceLock<Result<&'static str, String>> = OnceLock::new();

/// Writes and removes a probe entry: a store that cannot do both is not
/// usable (e.g. a kernel keyring this process may not write to).
fn probe() -> Result<(), Error> {
    let e = Entry::new(SERVICE, "probe")?;
    e.set_password("probe")?;
    match e.delete_credential() {
        Ok(()) | Err(Error::NoEntry) => Ok(()),
        Err(other) => Err(other),
    }
}

#[cfg(target_os = "linux")]
fn choose() -> Result<&'static str, String> {
    if let Ok(store) = zbus_secret_service_keyring_store::Store::new() {
        keyring_core::set_default_store(store);
        match probe() {
            Ok(()) => return Ok("Secret Service"),
            Err(e) => {
                tracing::info!(error = %e, "Secret Service unusable; trying the kernel keyring")
            }
        }
    }
    let store = linux_keyutils_keyring_store::Store::new().map_err(|e| e.to_string())?;
    keyring_core::set_default_store(store);
    probe().map_err(|e| e.to_string())?;
    Ok("kernel keyring")
}

#[cfg(target_os = "macos")]
fn choose() -> Result<&'static str, String> {
    keyring_core::set_default_store(
        apple_native_keyring_store::keychain::Store::new().map_err(|e| e.to_string())?,
    );
    Ok("Keychain")
}

#[cfg(target_os = "ios")]
fn choose() -> Result<&'static str, String> {
    keyring_core::set_default_store(
        apple_native_keyring_store::protected::Store::new().map_err(|e| e.to_string())?,
    );
    Ok("iOS keychain")
}

#[cfg(target_os = "windows")]
fn choose() -> Result<&'static str, String> {
    keyring_core::set_default_store(
        windows_native_keyring_store::Store::new().map_err(|e| e.to_string())?,
    );
    Ok("Credential Manager")
}

#[cfg(target_os = "android")]
fn choose() -> Result<&'static str, String> {
    keyring_core::set_default_store(
        android_native_keyring_store::Store::new().map_err(|e| e.to_string())?,
    );
    Ok("Android keystore")
}

#[cfg(not(any(
    target_os = "linux",
    target_os = "macos",
    target_os = "ios",
    target_os = "windows",
    target_os = "android"
)))]
fn choose() -> Result<&'static str, String> {
    Err("no keychain is supported on this platform".into())
}

/// The store in use (choosing it on first call).
pub async fn backend() -> Result<&'static str, ClientError> {
    tokio::task::spawn_blocking(|| STORE.get_or_init(choose).clone())
        .await
        .map_err(|e| ClientError::Keychain(e.to_string()))?
        .map_err(|e| ClientError::Keychain(format!("{e}. {NO_KEYCHAIN_HINT}")))
}

#[derive(Debug, Clone)]
pub struct KeychainSession {
    account: String,
}

impl KeychainSession {
    /// The entry for the backend at `server_url`.
    pub fn for_server(server_url: &str) -> Self {
        Self {
            account: format!("session@{}", server_url.trim_end_matches('/')),
        }
    }

    /// The entry of the device whose store is at `store_path`: one OS user
    /// may run several app data directories (profiles, tests) against one
    /// backend, each with its own session.
    pub fn for_device(server_url: &str, store_path: &std::path::Path) -> Self {
        Self {
            account: format!(
                "session@{}#{}",
                server_url.trim_end_matches('/'),
                store_path.display()
            ),
        }
    }

    async fn with_entry<T: Send + 'static>(
        &self,
        f: impl FnOnce(Entry) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, ClientError> {
        backend().await?;
        let account = self.account.clone();
        tokio::task::spawn_blocking(move || Entry::new(SERVICE, &account).and_then(f))
            .await
            .map_err(|e| ClientError::Keychain(e.to_string()))?
            .map_err(|e| ClientError::Keychain(format!("{e}. {NO_KEYCHAIN_HINT}")))
    }

    pub async fn save(&self, token: &Token) -> Result<(), ClientError> {
        let secret = token.expose().to_owned();
        self.with_entry(move |e| e.set_password(&secret)).await
    }

    /// The saved token, if any.
    pub async fn load(&self) -> Result<Option<Token>, ClientError> {
        self.with_entry(|e| match e.get_password() {
            Ok(t) => Ok(Some(Token(t))),
            Err(Error::NoEntry) => Ok(None),
            Err(other) => Err(other),
        })
        .await
    }

    /// Forgets the token (absent already is fine).
    pub async fn clear(&self) -> Result<(), ClientError> {
        self.with_entry(|e| match e.delete_credential() {
            Ok(()) | Err(Error::NoEntry) => Ok(()),
            Err(other) => Err(other),
        })
        .await
    }
}

/// The native [`SecretStore`](crate::platform::SecretStore): the OS keychain.
impl crate::platform::SecretStore for KeychainSession {
    fn load(&self) -> crate::platform::BoxFuture<'_, Result<Option<Token>, ClientError>> {
        Box::pin(KeychainSession::load(self))
    }

    fn save<'a>(
        &'a self,
        token: &'a Token,
    ) -> crate::platform::BoxFuture<'a, Result<(), ClientError>> {
        Box::pin(KeychainSession::save(self, token))
    }

    fn clear(&self) -> crate::platform::BoxFuture<'_, Result<(), ClientError>> {
        Box::pin(KeychainSession::clear(self))
    }
}
