//! Test harness: the real server, in-process on an ephemeral port, over a
//! fresh SQLite file or a fresh PostgreSQL database, and a small JSON client.
//!
//! PostgreSQL comes from `MOSTRADOR_TEST_POSTGRES_URL` (an admin URL; each
//! test creates and drops its own database). `cargo xtask test` starts a
//! local PostgreSQL and sets it.

#![allow(dead_code)]

use mostrador_server::{http, prepare, ServerConfig};
use reqwest::{Method, StatusCode};
use serde_json::Value;

pub const WEBHOOK_SECRET: &str = "test-webhook-secret";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Expands one async test body `fn(Backend)` into a test per backend.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::common::Backend::Sqlite).await })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::common::Backend::Postgres).await })*
        }
    };
}

pub struct TestServer {
    pub base: String,
    pub state: mostrador_server::AppState,
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

impl TestServer {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, |_| {}).await
    }

    /// Like `start`, with a chance to change the configuration.
    pub async fn start_with(backend: Backend, tweak: impl FnOnce(&mut ServerConfig)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = ServerConfig::for_data_dir(dir.path());
        config.webhook_secret = Some(WEBHOOK_SECRET.into());
        // Every day, in UTC, one callback per 30-minute slot: tests book at
        // any hour and can fill a slot.
        config.hours =
            mostrador_server::hours::BusinessHours::new("UTC", "00:00-23:30", "mon-sun", 30, 1)
                .unwrap();
        // Tests register many accounts from one address.
        config.register_per_address = 100_000;
        config.login_per_address = 100_000;
        tweak(&mut config);
        let mut pg = None;
        if backend == Backend::Postgres {
            let admin = std::env::var("MOSTRADOR_TEST_POSTGRES_URL").expect(
                "MOSTRADOR_TEST_POSTGRES_URL is not set: run the tests through `cargo xtask test`, which starts PostgreSQL",
            );
            let name = format!("mostrador_test_{}", uuid::Uuid::new_v4().simple());
            sqlx::any::install_default_drivers();
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin)
                .await
                .unwrap();
            sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
                .await
                .unwrap();
            let (prefix, _) = admin.rsplit_once('/').expect("URL with a database");
            config.database_url = format!("{prefix}/{name}");
            pg = Some((admin, name));
        }
        let (listener, state) = prepare(config).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = http::router(state.clone());
        let limits = state.config.conn_limits;
        tokio::spawn(async move {
            mostrador_server::serve::serve(listener, router, limits, std::future::pending())
                .await
                .unwrap();
        });
        TestServer {
            base: format!("http://{addr}"),
            state,
            http: reqwest::Client::new(),
            _dir: dir,
            pg,
        }
    }

    /// Drops the PostgreSQL test database (call at the end of a test).
    pub async fn finish(self) {
        if let Some((admin, name)) = &self.pg {
            self.state.db.close().await;
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(admin)
                .await
                .unwrap();
            let _ = sqlx::Executor::execute(
                &mut conn,
                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str(),
            )
            .await;
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let bytes = res.bytes().await.unwrap();
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        (status, value)
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, token, Some(body)).await
    }

    /// Registers a customer, verifies the address with the code from the
    /// mailbox folder, and returns (token, user id).
    pub async fn customer(&self, email: &str) -> (String, String) {
        let (token, id) = self.unverified_customer(email).await;
        let code = self
            .mailed_code(email)
            .expect("a verification code was mailed");
        let (s, v) = self
            .post(
                "/api/v1/auth/verify-email",
                Some(&token),
                serde_json::json!({ "code": code }),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        (token, id)
    }

    /// The messages written to the mailbox folder (no SMTP configured),
    /// oldest first.
    pub fn mailbox(&self) -> Vec<String> {
        let Ok(dir) = std::fs::read_dir(self._dir.path().join("mailbox")) else {
            return Vec::new();
        };
        let mut names: Vec<_> = dir.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        names.sort();
        names
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .collect()
    }

    /// The newest one-time code mailed to `email` (mailbox folder).
    pub fn mailed_code(&self, email: &str) -> Option<String> {
        self.mailbox()
            .iter()
            .rev()
            .filter(|m| m.contains(&format!("To: {email}")))
            .find_map(|m| mail_code(m))
    }

    /// Registers a customer without verifying the address: (token, user id).
    pub async fn unverified_customer(&self, email: &str) -> (String, String) {
        let (s, v) = self
            .post(
                "/api/v1/auth/register",
                None,
                serde_json::json!({"email": email, "password": "correct horse battery", "display_name": email.split('@').next().unwrap()}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        (
            v["token"].as_str().unwrap().to_owned(),
            v["user"]["id"].as_str().unwrap().to_owned(),
        )
    }

    /// Creates a staff account directly (the first admin has no one to
    /// create it through the API) and signs it in.
    pub async fn staff(&self, email: &str, role: mostrador_core::auth::Role) -> (String, String) {
        let hash = mostrador_server::auth::hash_password("staff password 123".into())
            .await
            .unwrap();
        let mut tx = self.state.db.begin_write().await.unwrap();
        let id = mostrador_server::routes::accounts::insert_user(
            &mut tx, email, &hash, "Staff", role, "en",
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let (s, v) = self
            .post(
                "/api/v1/auth/login",
                None,
                serde_json::json!({"email": email, "password": "staff password 123"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        (v["token"].as_str().unwrap().to_owned(), id.to_string())
    }

    /// Posts a signed ingest event.
    pub async fn ingest(&self, event: &Value) -> (StatusCode, Value) {
        let body = serde_json::to_vec(event).unwrap();
        let now = jiff::Timestamp::now().as_second();
        let sig = mostrador_server::routes::orders::sign(WEBHOOK_SECRET, now, &body);
        let res = self
            .http
            .post(format!("{}/api/v1/integrations/orders", self.base))
            .header("content-type", "application/json")
            .header(mostrador_core::orders::TIMESTAMP_HEADER, now.to_string())
            .header(mostrador_core::orders::SIGNATURE_HEADER, sig)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }
}

/// The one-time code in a mail's text (`... code is XXXXXXXXXX`).
pub fn mail_code(mail: &str) -> Option<String> {
    let at = mail.find("code is ")? + "code is ".len();
    let code: String = mail[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    (code.len() == 10).then_some(code)
}

/// An `order_upserted` event for `number` owned by `email`.
pub fn order_event(event_id: &str, number: &str, email: &str, at: &str) -> Value {
    serde_json::json!({
        "event_id": event_id, "occurred_at": at, "order_number": number, "type": "order_upserted",
        "customer_email": email, "placed_at": at, "total_minor": 4999, "currency": "EUR",
        "items": [{"sku": "TEE-1", "name": "T-shirt", "quantity": 1, "unit_price_minor": 4999}],
        "shipping_address": {"name": "Ana", "line1": "Calle Mayor 1", "city": "Madrid", "postal_code": "28013", "country": "ES"}
    })
}

pub fn tracking_event(event_id: &str, number: &str, status: &str, at: &str) -> Value {
    serde_json::json!({
        "event_id": event_id, "occurred_at": at, "order_number": number, "type": "tracking",
        "status": status, "place": "Zaragoza",
        "shipment": {"carrier": "Correos", "tracking_number": "PK123", "eta": "2026-12-01T18:00:00Z"}
    })
}
