//! Test helper, run as its own process by the keychain tests (each process
//! chooses its keychain once): saves, reads back and removes a token, and
//! prints the store it used.

use mostrador_client::session::{backend, KeychainSession};
use mostrador_core::auth::Token;

#[tokio::main]
async fn main() {
    let k = KeychainSession::for_server("http://probe.invalid");
    let token = Token(format!("probe-{}", std::process::id()));
    let result = async {
        k.save(&token).await?;
        let back = k.load().await?;
        k.clear().await?;
        let gone = k.load().await?;
        Ok::<_, mostrador_client::ClientError>((back == Some(token.clone()), gone.is_none()))
    }
    .await;
    match result {
        Ok((true, true)) => println!("ok {}", backend().await.unwrap_or("?")),
        Ok(other) => println!("wrong {other:?}"),
        Err(e) => println!("error {e}"),
    }
}
