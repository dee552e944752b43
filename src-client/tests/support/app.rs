//! Engines for the tests: a store file each, an account registered or the
//! test agent signed in.

#![allow(dead_code)]

use std::path::Path;

use mostrador_client::{ClientConfig, Engine};
use mostrador_core::auth::{LoginRequest, RegisterRequest};

/// An engine over the store file `store`, talking to the server on `port`.
pub async fn engine(port: u16, store: &Path) -> Engine {
    Engine::open(
        &ClientConfig::new(format!("http://127.0.0.1:{port}")),
        store,
    )
    .await
    .unwrap()
}

/// The numbers of the orders `app` shows.
pub async fn order_numbers(app: &Engine) -> Vec<String> {
    app.orders()
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.number)
        .collect()
}

/// A shopper's registration (Ana, Spanish).
pub fn register(email: &str) -> RegisterRequest {
    RegisterRequest {
        email: email.into(),
        password: "correct horse battery".into(),
        display_name: "Ana".into(),
        language: Some("es".into()),
        device_name: Some("phone".into()),
    }
}

/// The test agent (`Server::agent_account`) signed in on its own device.
pub async fn agent(server: &super::server::Server, port: u16, store: &Path) -> Engine {
    server.agent_account().await;
    let agent = engine(port, store).await;
    agent
        .login(&LoginRequest {
            email: "agent@shop.test".into(),
            password: "agent password 1".into(),
            device_name: None,
        })
        .await
        .unwrap();
    agent
}
