//! The real server, in-process, on a chosen port over a SQLite file.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;

use mostrador_server::{http, prepare, ServerConfig};
use tokio::sync::oneshot;

/// The real server on `port` over the SQLite file in `dir`; dropping the
/// handle shuts it down gracefully.
pub struct Server {
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    pub state: mostrador_server::AppState,
}

impl Server {
    pub async fn start(dir: &Path, port: u16) -> Self {
        Self::start_with(dir, port, |_| {}).await
    }

    /// [`Server::start`], with `configure` applied to its configuration.
    pub async fn start_with(
        dir: &Path,
        port: u16,
        configure: impl FnOnce(&mut ServerConfig),
    ) -> Self {
        let mut config = ServerConfig::for_data_dir(dir);
        configure(&mut config);
        config.bind = SocketAddr::from(([127, 0, 0, 1], port));
        let (listener, state) = prepare(config).await.unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let router = http::router(state.clone());
        let task = tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        Server {
            stop: Some(tx),
            task,
            state,
        }
    }

    pub async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.await.unwrap();
        self.state.db.pool().close().await;
    }
}

impl Server {
    /// The shop sends order `number` for `email`, through the server's ingest.
    pub async fn shop_sends(&self, number: &str, email: &str) {
        use mostrador_core::orders::{IngestEvent, IngestKind};
        let at = jiff::Timestamp::now();
        let event = IngestEvent {
            event_id: format!("placed-{number}"),
            occurred_at: at,
            order_number: number.into(),
            kind: IngestKind::OrderUpserted {
                customer_email: email.into(),
                placed_at: at,
                total_minor: 2599,
                currency: "EUR".into(),
                items: vec![],
                shipping_address: None,
            },
        };
        let mut tx = self.state.db.begin_write().await.unwrap();
        mostrador_server::routes::orders::apply_ingest(&mut tx, &event)
            .await
            .unwrap();
        mostrador_server::feed::commit(&self.state, tx)
            .await
            .unwrap();
    }

    /// The newest one-time code the server mailed to `email` (written into
    /// its mailbox folder: no SMTP configured).
    pub fn mailed_code(&self, email: &str) -> String {
        let dir = mostrador_server::mail::mailbox_dir(&self.state.config);
        let mut mails: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        mails.sort();
        mails
            .iter()
            .rev()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .filter(|m| m.contains(&format!("To: {email}")))
            .find_map(|m| {
                let at = m.find("code is ")? + "code is ".len();
                Some(m[at..].chars().take(10).collect::<String>())
            })
            .expect("a code in the mailbox")
    }

    /// Proves `email` for the account `app` is signed in to, with the code
    /// the server mailed (orders the shop sent for the address are shown
    /// only after this).
    pub async fn verify_email(&self, app: &mostrador_client::Engine, email: &str) {
        let code = self.mailed_code(email);
        let me = app.api().verify_email(&code).await.unwrap();
        assert!(me.email_verified);
    }

    /// Drops every feed entry so far: a device's cursor is then too old
    /// and its next pull rebuilds the cache (a resync).
    pub async fn prune_feed(&self) {
        let head: i64 = sqlx::query_scalar("SELECT seq FROM feed_counter")
            .fetch_one(self.state.db.pool())
            .await
            .unwrap();
        mostrador_server::feed::prune(&self.state, head)
            .await
            .unwrap();
    }

    /// An agent (created on first use) replies in `conversation`, through
    /// the server's own code path.
    pub async fn agent_reply(&self, conversation: uuid::Uuid, body: &str) {
        use mostrador_core::auth::Role;
        let user_id = self.agent_account().await;
        let agent = mostrador_server::auth::Actor {
            user_id,
            role: Role::Agent,
            session_id: uuid::Uuid::nil(),
            display_name: "Luis".into(),
        };
        let message = mostrador_core::chat::SendMessage {
            id: uuid::Uuid::new_v4(),
            body: body.into(),
            kind: mostrador_core::chat::MessageKind::Text,
            attachment_ids: vec![],
        };
        let mut tx = self.state.db.begin_write().await.unwrap();
        mostrador_server::routes::chat::send(&mut tx, &agent, conversation, &message)
            .await
            .unwrap();
        mostrador_server::feed::commit(&self.state, tx)
            .await
            .unwrap();
    }

    /// The agent `agent@shop.test` (password `agent password 1`), created on
    /// first use; returns its id.
    pub async fn agent_account(&self) -> uuid::Uuid {
        use mostrador_core::auth::Role;
        let existing: Option<String> =
            sqlx::query_scalar("SELECT id FROM users WHERE email = 'agent@shop.test'")
                .fetch_optional(self.state.db.pool())
                .await
                .unwrap();
        let user_id: uuid::Uuid = match existing {
            Some(id) => id.parse().unwrap(),
            None => {
                let hash = mostrador_server::auth::hash_password("agent password 1".into())
                    .await
                    .unwrap();
                let mut tx = self.state.db.begin_write().await.unwrap();
                let id = mostrador_server::routes::accounts::insert_user(
                    &mut tx,
                    "agent@shop.test",
                    &hash,
                    "Luis",
                    Role::Agent,
                    "es",
                )
                .await
                .unwrap();
                tx.commit().await.unwrap();
                id
            }
        };
        user_id
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
