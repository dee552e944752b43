//! The engine's account flows against the real server and its mailbox
//! folder: proving the address brings the shop's orders onto the device,
//! a password change keeps this device signed in and ends the others, a
//! reset by mailed code lets the user sign in with the new password. What
//! the engine can check itself is refused naming the field before any
//! request.

use mostrador_client::ClientError;
use mostrador_core::auth::LoginRequest;
use mostrador_core::ErrorCode;

mod support;
use support::app::{engine, order_numbers, register};
use support::server::{free_port, Server};

/// The code and field problem of a refusal.
fn refusal(err: ClientError) -> (ErrorCode, Option<(String, String)>) {
    let ClientError::Api(e) = err else {
        panic!("not an API refusal: {err:?}")
    };
    let field = e.field_problem().map(|(f, p)| (f.to_owned(), p.to_owned()));
    (e.code, field)
}

fn field(f: &str, p: &str) -> Option<(String, String)> {
    Some((f.into(), p.into()))
}

fn login(email: &str, password: &str) -> LoginRequest {
    LoginRequest {
        email: email.into(),
        password: password.into(),
        device_name: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verifying_the_address_brings_its_orders_onto_the_device() {
    let server_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start(server_dir.path(), port).await;
    let dir = tempfile::tempdir().unwrap();
    let email = "mia@example.com";
    server.shop_sends("MS-501", email).await;
    let app = engine(port, &dir.path().join("store.sqlite3")).await;
    app.register(&register(email)).await.unwrap();
    app.pull().await.unwrap();
    assert!(
        order_numbers(&app).await.is_empty(),
        "not proved: no orders"
    );
    assert!(!app.me().await.unwrap().unwrap().email_verified);

    // A code was mailed at registration: another one so soon is refused.
    let (code, _) = refusal(app.resend_verification().await.unwrap_err());
    assert_eq!(code, ErrorCode::RateLimited);

    // Refused before any request: the shape of the code.
    let (code, f) = refusal(app.verify_email("12345").await.unwrap_err());
    assert_eq!(
        (code, f),
        (ErrorCode::ValidationFailed, field("code", "format"))
    );
    let (_, f) = refusal(app.verify_email("  ").await.unwrap_err());
    assert_eq!(f, field("code", "required"));
    // Well formed but wrong: the server's refusal, naming the same field.
    let (_, f) = refusal(app.verify_email("ABCDEFGH23").await.unwrap_err());
    assert_eq!(f, field("code", "invalid"));

    // The mailed code, typed in lower case with a space: the orders are on
    // the device when the call returns.
    let mailed = server.mailed_code(email).to_lowercase();
    let typed = format!("{} {}", &mailed[..5], &mailed[5..]);
    let me = app.verify_email(&typed).await.unwrap();
    assert!(me.email_verified);
    assert!(app.me().await.unwrap().unwrap().email_verified, "kept");
    assert_eq!(order_numbers(&app).await, vec!["MS-501".to_owned()]);

    // Nothing left to prove.
    let (code, _) = refusal(app.resend_verification().await.unwrap_err());
    assert_eq!(code, ErrorCode::Conflict);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_change_keeps_this_device_and_ends_the_others() {
    let server_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start(server_dir.path(), port).await;
    let dir = tempfile::tempdir().unwrap();
    let email = "leo@example.com";
    let app = engine(port, &dir.path().join("store.sqlite3")).await;
    app.register(&register(email)).await.unwrap();
    let laptop = engine(port, &dir.path().join("laptop.sqlite3")).await;
    laptop
        .login(&login(email, "correct horse battery"))
        .await
        .unwrap();

    let new = "a much longer secret";
    let cases = [
        ("", new, new, field("current_password", "required")),
        (
            "correct horse battery",
            "short",
            "short",
            field("new_password", "too_short"),
        ),
        (
            "correct horse battery",
            new,
            "a much longer secreT",
            field("confirm_password", "mismatch"),
        ),
        (
            "not my password",
            new,
            new,
            field("current_password", "wrong"),
        ),
    ];
    for (current, password, confirm, want) in cases {
        let err = app
            .change_password(current, password, confirm)
            .await
            .unwrap_err();
        assert_eq!(refusal(err).1, want, "{current:?} {password:?} {confirm:?}");
    }
    app.change_password("correct horse battery", new, new)
        .await
        .unwrap();

    // This device is still signed in; the laptop's session ended.
    app.pull().await.unwrap();
    let (code, _) = refusal(laptop.pull().await.unwrap_err());
    assert_eq!(code, ErrorCode::Unauthorized);
    let again = engine(port, &dir.path().join("again.sqlite3")).await;
    assert!(again
        .login(&login(email, "correct horse battery"))
        .await
        .is_err());
    again.login(&login(email, new)).await.unwrap();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forgotten_password_is_reset_with_the_mailed_code() {
    let server_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start(server_dir.path(), port).await;
    let dir = tempfile::tempdir().unwrap();
    let email = "eva@example.com";
    let phone = engine(port, &dir.path().join("phone.sqlite3")).await;
    phone.register(&register(email)).await.unwrap();
    // Signed out, on another device.
    let app = engine(port, &dir.path().join("store.sqlite3")).await;

    let (_, f) = refusal(app.request_password_reset("eva@").await.unwrap_err());
    assert_eq!(f, field("email", "invalid"));
    app.request_password_reset(" Eva@Example.com ")
        .await
        .unwrap();
    // An address without an account gets the same answer.
    app.request_password_reset("nobody@example.com")
        .await
        .unwrap();

    let new = "reset password 123";
    let (_, f) = refusal(
        app.confirm_password_reset(email, "ABCDEFGH23", "short", "short")
            .await
            .unwrap_err(),
    );
    assert_eq!(
        f,
        field("new_password", "too_short"),
        "checked before sending"
    );
    let (_, f) = refusal(
        app.confirm_password_reset(email, "ABCDEFGH23", new, new)
            .await
            .unwrap_err(),
    );
    assert_eq!(f, field("code", "invalid"));
    let code = server.mailed_code(email);
    app.confirm_password_reset(email, &code, new, new)
        .await
        .unwrap();

    // Every session ended; the new password signs in, and the code proved
    // the address.
    let (status, _) = refusal(phone.pull().await.unwrap_err());
    assert_eq!(status, ErrorCode::Unauthorized);
    assert!(app
        .login(&login(email, "correct horse battery"))
        .await
        .is_err());
    let me = app.login(&login(email, new)).await.unwrap();
    assert!(me.email_verified);
    server.stop().await;
}
