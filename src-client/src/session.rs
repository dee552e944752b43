//! The session token in the OS keychain, never in SQLite, logs or the UI.
//!
//! Through the `keyring` crate: Keychain Services on macOS, the Credential
//! Manager on Windows, the Secret Service (GNOME Keyring, KWallet) on Linux
//! and the BSDs. One entry per backend URL, so a device can hold sessions on
//! several servers. Keychain calls block, so they run on the blocking pool.

use mostrador_core::auth::Token;

use crate::ClientError;

/// The keychain "service" under which tokens are filed.
pub const SERVICE: &str = "app.mostrador.desktop";

/// What to tell a user whose system has no usable keychain.
pub const NO_KEYCHAIN_HINT: &str = "Mostrador keeps your sign-in in the system keychain, and none answered. \
On Linux, install and unlock a Secret Service provider (for example the gnome-keyring package) and sign in again.";

#[derive(Debug, Clone)]
pub struct KeychainSession {
    account: String,
}

fn keychain_err(e: keyring::Error) -> ClientError {
    ClientError::Keychain(format!("{e}. {NO_KEYCHAIN_HINT}"))
}

impl KeychainSession {
    /// The entry for the backend at `server_url`.
    pub fn for_server(server_url: &str) -> Self {
        Self {
            account: format!("session@{}", server_url.trim_end_matches('/')),
        }
    }

    async fn with_entry<T: Send + 'static>(
        &self,
        f: impl FnOnce(keyring::Entry) -> Result<T, keyring::Error> + Send + 'static,
    ) -> Result<T, ClientError> {
        let account = self.account.clone();
        tokio::task::spawn_blocking(move || keyring::Entry::new(SERVICE, &account).and_then(f))
            .await
            .map_err(|e| ClientError::Keychain(e.to_string()))?
            .map_err(keychain_err)
    }

    pub async fn save(&self, token: &Token) -> Result<(), ClientError> {
        let secret = token.expose().to_owned();
        self.with_entry(move |e| e.set_password(&secret)).await
    }

    /// The saved token, if any.
    pub async fn load(&self) -> Result<Option<Token>, ClientError> {
        self.with_entry(|e| match e.get_password() {
            Ok(t) => Ok(Some(Token(t))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(other) => Err(other),
        })
        .await
    }

    /// Forgets the token (absent already is fine).
    pub async fn clear(&self) -> Result<(), ClientError> {
        self.with_entry(|e| match e.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(other) => Err(other),
        })
        .await
    }
}
