//! Signing in with an identity the shop signed (the widget's way in),
//! through the engine against the real server: the same sign-in as a
//! password's (the session kept in the platform's secret store, the orders
//! the shop sent for the address on the device, another account's unsent
//! writes asked about first, before the single-use identity is spent), and
//! a replayed, forged or expired identity refused with its own code.

use std::sync::{Arc, Mutex};

use mostrador_client::engine::SignInOptions;
use mostrador_client::platform::{BoxFuture, SecretStore};
use mostrador_client::ClientError;
use mostrador_core::auth::{Role, Token};
use mostrador_core::ErrorCode;
use mostrador_server::routes::identity::sign;

mod support;
use support::app::{engine, order_numbers};
use support::server::{free_port, Server};

const SECRET: &str = "the shop's identity secret";

/// An identity for `email` with the id `jti`, valid for `valid_secs`
/// (negative: expired that long ago), signed with `secret`.
fn identity_signed(secret: &str, email: &str, jti: &str, valid_secs: i64) -> String {
    let now = jiff::Timestamp::now().as_second();
    sign(
        secret.as_bytes(),
        &serde_json::json!({
            "email": email,
            "name": "Mia",
            "sub": "customer-42",
            "iat": now,
            "exp": now + valid_secs,
            "jti": jti,
        }),
    )
}

fn identity(email: &str, jti: &str) -> String {
    identity_signed(SECRET, email, jti, 600)
}

/// A secret store in memory: what the engine saved, to look at.
#[derive(Debug, Default)]
struct Saved(Mutex<Option<Token>>);

impl SecretStore for Saved {
    fn load(&self) -> BoxFuture<'_, Result<Option<Token>, ClientError>> {
        Box::pin(async { Ok(self.0.lock().unwrap().clone()) })
    }
    fn save<'a>(&'a self, token: &'a Token) -> BoxFuture<'a, Result<(), ClientError>> {
        Box::pin(async move {
            *self.0.lock().unwrap() = Some(token.clone());
            Ok(())
        })
    }
    fn clear(&self) -> BoxFuture<'_, Result<(), ClientError>> {
        Box::pin(async {
            *self.0.lock().unwrap() = None;
            Ok(())
        })
    }
}

fn code(result: Result<mostrador_core::auth::Me, ClientError>) -> ErrorCode {
    match result {
        Err(ClientError::Api(e)) => e.code,
        other => panic!("expected a refusal from the server, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shop_signed_identity_signs_in_like_a_password_and_only_once() {
    let server_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start_with(server_dir.path(), port, |c| {
        c.identity_secret = Some(SECRET.into());
    })
    .await;
    server.shop_sends("MS-701", "mia@example.com").await;
    let dir = tempfile::tempdir().unwrap();
    let mut app = engine(port, &dir.path().join("store.sqlite3")).await;
    let saved = Arc::new(Saved::default());
    assert!(!app.use_secret_store(saved.clone()).await.unwrap());

    // The shopper's first visit: an account is made, with the shop's orders.
    let mia = identity("Mia@Example.com", "visit-1");
    let me = app.sign_in_with_identity(&mia).await.unwrap();
    assert_eq!(me.email, "mia@example.com");
    assert_eq!(me.role, Role::Customer);
    assert!(me.email_verified, "the shop vouches for the address");
    assert_eq!(app.me().await.unwrap().map(|m| m.id), Some(me.id));
    let token = app.api().token().expect("signed in");
    assert_eq!(
        saved.0.lock().unwrap().as_ref(),
        Some(&token),
        "the session is kept where the platform keeps it"
    );
    app.pull().await.unwrap();
    assert_eq!(order_numbers(&app).await, ["MS-701"]);

    // The same identity again, on another device: refused, not signed in.
    let other_dir = tempfile::tempdir().unwrap();
    let other = engine(port, &other_dir.path().join("store.sqlite3")).await;
    assert_eq!(
        code(other.sign_in_with_identity(&mia).await),
        ErrorCode::IdentityReplayed
    );
    assert!(other.api().token().is_none());
    // Forged (another secret) and expired ones too.
    let forged = identity_signed("not the shop's secret", "mia@example.com", "f", 600);
    assert_eq!(
        code(other.sign_in_with_identity(&forged).await),
        ErrorCode::IdentityInvalid
    );
    let expired = identity_signed(SECRET, "mia@example.com", "late", -3600);
    assert_eq!(
        code(other.sign_in_with_identity(&expired).await),
        ErrorCode::IdentityExpired
    );
    assert!(other.api().token().is_none());
    // A fresh identity of the same shopper: the same account.
    let again = other
        .sign_in_with_identity(&identity("mia@example.com", "visit-2"))
        .await
        .unwrap();
    assert_eq!(again.id, me.id);

    // Mia asks something; her session ends before it goes out.
    app.ask(None, "where is MS-701?").await.unwrap();
    app.end_session().await.unwrap();
    assert!(
        saved.0.lock().unwrap().is_none(),
        "the ended session is forgotten"
    );
    assert_eq!(app.outbox().await.unwrap().len(), 1);

    // Leo's identity on Mia's device: asked first, and his identity is
    // not spent (the same one goes once he confirms).
    let leo = identity("leo@example.com", "leo-1");
    let refused = app.sign_in_with_identity(&leo).await;
    assert!(
        matches!(refused, Err(ClientError::UnsentWritesOfAnotherUser(ref u)) if u.writes.len() == 1),
        "{refused:?}"
    );
    assert!(app.api().token().is_none(), "Leo is not signed in");
    let leo_me = app
        .sign_in_with_identity_with(
            &leo,
            SignInOptions {
                discard_unsent_of_previous_user: true,
            },
        )
        .await
        .unwrap();
    assert_eq!(leo_me.email, "leo@example.com");
    assert!(
        app.outbox().await.unwrap().is_empty(),
        "Mia's write is gone"
    );
    app.pull().await.unwrap();
    assert!(order_numbers(&app).await.is_empty(), "none of Mia's orders");

    // Zoe's own identity after her session ended sends her writes, with
    // no question.
    let zoe_dir = tempfile::tempdir().unwrap();
    let zoe = engine(port, &zoe_dir.path().join("store.sqlite3")).await;
    zoe.sign_in_with_identity(&identity("zoe@example.com", "zoe-1"))
        .await
        .unwrap();
    zoe.ask(None, "hola").await.unwrap();
    zoe.end_session().await.unwrap();
    zoe.sign_in_with_identity(&identity("ZOE@example.com", "zoe-2"))
        .await
        .unwrap();
    assert_eq!(zoe.push_pending().await.unwrap().applied, 1);
    server.stop().await;
}
