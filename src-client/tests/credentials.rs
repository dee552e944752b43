//! The engine's API client speaks the server's email and password flows:
//! verify the address, change the password, reset it by mailed code.

use mostrador_core::auth::{ChangePasswordRequest, LoginRequest, PasswordResetConfirm};
use mostrador_core::ErrorCode;

mod support;
use support::app::{engine, register};
use support::server::{free_port, Server};

fn login(email: &str, password: &str) -> LoginRequest {
    LoginRequest {
        email: email.into(),
        password: password.into(),
        device_name: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_change_and_reset_through_the_api_client() {
    let server_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start(server_dir.path(), port).await;
    let dir = tempfile::tempdir().unwrap();
    let email = "pia@example.com";
    let app = engine(port, &dir.path().join("store.sqlite3")).await;
    let me = app.register(&register(email)).await.unwrap();
    assert!(!me.email_verified, "a new address is not proved yet");
    server.verify_email(&app, email).await;

    // Change: the wrong current password is refused naming the field.
    let api = app.api();
    let err = api
        .change_password(&ChangePasswordRequest {
            current_password: "not my password".into(),
            new_password: "brand new password".into(),
        })
        .await
        .unwrap_err();
    let mostrador_client::ClientError::Api(e) = err else {
        panic!("{err:?}")
    };
    assert_eq!(e.code, ErrorCode::ValidationFailed);
    api.change_password(&ChangePasswordRequest {
        current_password: "correct horse battery".into(),
        new_password: "brand new password".into(),
    })
    .await
    .unwrap();
    let other = engine(port, &dir.path().join("other.sqlite3")).await;
    assert!(other
        .api()
        .login(&login(email, "correct horse battery"))
        .await
        .is_err());
    other
        .api()
        .login(&login(email, "brand new password"))
        .await
        .unwrap();

    // Reset by mailed code.
    other.api().request_password_reset(email).await.unwrap();
    let code = server.mailed_code(email);
    other
        .api()
        .confirm_password_reset(&PasswordResetConfirm {
            email: email.into(),
            code,
            new_password: "reset password 123".into(),
        })
        .await
        .unwrap();
    other
        .api()
        .login(&login(email, "reset password 123"))
        .await
        .unwrap();
    server.stop().await;
}
