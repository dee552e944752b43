//! Test helper, run as its own process by the engine tests so it can be
//! killed with SIGKILL at the worst moment: opens the store, queues one
//! conversation and pushes it.
//!
//! Usage: `outbox_probe SERVER_URL STORE_PATH CONVERSATION_ID` with the
//! session token in `MOSTRADOR_TOKEN`.

use std::path::Path;

use mostrador_client::{ClientConfig, Engine};
use mostrador_core::auth::Token;
use mostrador_core::chat::OpenConversation;
use mostrador_core::sync::MutationOp;
use uuid::Uuid;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, server, store, conv] = &args[..] else {
        eprintln!("usage: outbox_probe SERVER_URL STORE_PATH CONVERSATION_ID");
        std::process::exit(2);
    };
    let engine = Engine::open(&ClientConfig::new(server.as_str()), Path::new(store))
        .await
        .expect("store opens");
    engine.api().set_token(Some(Token(
        std::env::var("MOSTRADOR_TOKEN").expect("MOSTRADOR_TOKEN"),
    )));
    engine
        .enqueue(MutationOp::OpenConversation(OpenConversation {
            id: conv.parse().expect("conversation id"),
            order_id: None,
            subject: "Killed mid-push".into(),
            message_id: Uuid::new_v4(),
            body: "did this arrive?".into(),
        }))
        .await
        .expect("enqueue");
    println!("queued");
    let report = engine.push_pending().await;
    println!("pushed: {report:?}");
}
