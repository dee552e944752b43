//! Typed HTTP client for the backend's API: reqwest over hyper and rustls
//! on native, over the browser's `fetch` on wasm32 (the same calls; only
//! the client's construction and the upload body differ). Every request
//! carries the session token as `Authorization: Bearer` on both, so the
//! browser build has no cookie and no CSRF surface.

use std::sync::{Arc, RwLock};

use mostrador_core::agent::{AgentInfo, Availability, CannedResponse, Metrics, PutCanned};
use mostrador_core::auth::{
    AuthResponse, ChangePasswordRequest, IdentityRequest, LoginRequest, Me, PasswordResetConfirm,
    PasswordResetRequest, RegisterRequest, Token, VerifyEmailRequest,
};
use mostrador_core::callbacks::Slot;
use mostrador_core::live::LiveTicket;
use mostrador_core::sync::{
    Mutation, PushRequest, PushResponse, SnapshotKey, SnapshotPage, SyncPage,
};
use mostrador_core::{ApiError, ErrorCode, Health};
use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;

use crate::{ClientConfig, ClientError};

#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base_url: String,
    token: Arc<RwLock<Option<Token>>>,
    /// Each request's time budget (`fetch` has no client-wide one).
    request_timeout: std::time::Duration,
    /// TLS settings of the live socket (`wss://`): the web roots, plus
    /// `ClientConfig::extra_root_pem`.
    #[cfg(feature = "native")]
    tls: Arc<rustls::ClientConfig>,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl ApiClient {
    #[cfg(feature = "native")]
    pub fn new(config: &ClientConfig) -> Result<Self, ClientError> {
        let mut http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .user_agent(concat!("mostrador-client/", env!("CARGO_PKG_VERSION")));
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(pem) = &config.extra_root_pem {
            let cert = reqwest::Certificate::from_pem(pem)
                .map_err(|e| ClientError::Config(format!("extra root certificate: {e}")))?;
            http = http.add_root_certificate(cert);
            use rustls::pki_types::pem::PemObject;
            for der in rustls::pki_types::CertificateDer::pem_slice_iter(pem) {
                let der =
                    der.map_err(|e| ClientError::Config(format!("extra root certificate: {e}")))?;
                roots
                    .add(der)
                    .map_err(|e| ClientError::Config(format!("extra root certificate: {e}")))?;
            }
        }
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::Config(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        Ok(Self {
            http: http
                .build()
                .map_err(|e| ClientError::Config(e.to_string()))?,
            base_url: config.server_url.clone(),
            token: Arc::new(RwLock::new(None)),
            request_timeout: config.request_timeout,
            tls: Arc::new(tls),
        })
    }

    /// The browser's client: `fetch` decides connections, TLS and the
    /// user agent; `ClientConfig::extra_root_pem` does not apply (the
    /// browser's roots are the user's).
    #[cfg(all(feature = "browser", not(feature = "native")))]
    pub fn new(config: &ClientConfig) -> Result<Self, ClientError> {
        Ok(Self {
            http: reqwest::Client::builder()
                .build()
                .map_err(|e| ClientError::Config(e.to_string()))?,
            base_url: config.server_url.clone(),
            token: Arc::new(RwLock::new(None)),
            request_timeout: config.request_timeout,
        })
    }

    /// A request to `path` on the backend, within the request budget.
    fn at(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base_url))
            .timeout(self.request_timeout)
    }

    /// How the live socket connects: rustls with this client's roots
    /// (used for `wss://`; `ws://` stays plain).
    #[cfg(feature = "native")]
    pub(crate) fn ws_connector(&self) -> tokio_tungstenite::Connector {
        tokio_tungstenite::Connector::Rustls(self.tls.clone())
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn set_token(&self, token: Option<Token>) {
        *self.token.write().unwrap_or_else(|p| p.into_inner()) = token;
    }

    pub fn token(&self) -> Option<Token> {
        self.token.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// `GET /healthz`.
    pub async fn health(&self) -> Result<Health, ClientError> {
        read_json(self.at(reqwest::Method::GET, "/healthz").send().await?).await
    }

    pub async fn register(&self, req: &RegisterRequest) -> Result<AuthResponse, ClientError> {
        self.post("/api/v1/auth/register", req).await
    }

    pub async fn login(&self, req: &LoginRequest) -> Result<AuthResponse, ClientError> {
        self.post("/api/v1/auth/login", req).await
    }

    /// Exchanges a shop-signed identity (a JWT) for a session, answered
    /// like a login.
    pub async fn identity(&self, req: &IdentityRequest) -> Result<AuthResponse, ClientError> {
        self.post("/api/v1/auth/identity", req).await
    }

    /// A single-use ticket for opening the live socket where no header can
    /// be set (the browser's `WebSocket`); it is never logged.
    pub async fn live_ticket(&self) -> Result<LiveTicket, ClientError> {
        let req = self.at(reqwest::Method::POST, "/api/v1/live/ticket");
        read_json(self.authed(req)?.send().await?).await
    }

    /// Proves the signed-in account's address with the mailed code; the
    /// updated user (orders for the address are then synced).
    pub async fn verify_email(&self, code: &str) -> Result<Me, ClientError> {
        let body = VerifyEmailRequest { code: code.into() };
        self.post("/api/v1/auth/verify-email", &body).await
    }

    /// Mails a new verification code to the signed-in account's address.
    pub async fn resend_verification(&self) -> Result<(), ClientError> {
        self.send_no_content(
            reqwest::Method::POST,
            "/api/v1/auth/verify-email/resend",
            &(),
        )
        .await
    }

    /// Changes the password (the current one required); the server signs
    /// out every other device.
    pub async fn change_password(&self, req: &ChangePasswordRequest) -> Result<(), ClientError> {
        self.send_no_content(reqwest::Method::PUT, "/api/v1/me/password", req)
            .await
    }

    /// Asks for a password-reset code by email (the same answer whether or
    /// not the address has an account).
    pub async fn request_password_reset(&self, email: &str) -> Result<(), ClientError> {
        let body = PasswordResetRequest {
            email: email.into(),
        };
        self.send_no_content(reqwest::Method::POST, "/api/v1/auth/password-reset", &body)
            .await
    }

    /// Sets a new password with the mailed code; every session ends (sign
    /// in again).
    pub async fn confirm_password_reset(
        &self,
        req: &PasswordResetConfirm,
    ) -> Result<(), ClientError> {
        self.send_no_content(
            reqwest::Method::POST,
            "/api/v1/auth/password-reset/confirm",
            req,
        )
        .await
    }

    /// A JSON request whose success has no body (202, 204); the token goes
    /// along when there is one.
    async fn send_no_content<B: Serialize>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &B,
    ) -> Result<(), ClientError> {
        let mut req = self.at(method, path).json(body);
        if let Some(t) = self.token() {
            req = req.bearer_auth(t.expose());
        }
        let res = req.send().await?;
        if res.status().is_success() {
            Ok(())
        } else {
            Err(read_error(res).await)
        }
    }

    /// Revokes this client's session.
    pub async fn logout(&self) -> Result<(), ClientError> {
        let token = self.token().ok_or(ClientError::SignedOut)?;
        self.logout_token(&token).await
    }

    /// Revokes `token` (this client's, or one it was refused to use).
    pub async fn logout_token(&self, token: &Token) -> Result<(), ClientError> {
        let res = self
            .at(reqwest::Method::POST, "/api/v1/auth/logout")
            .bearer_auth(token.expose())
            .send()
            .await?;
        if res.status().is_success() {
            Ok(())
        } else {
            Err(read_error(res).await)
        }
    }

    /// One page of the change feed.
    pub async fn sync(&self, since: i64, limit: i64) -> Result<SyncPage, ClientError> {
        let req = self.at(
            reqwest::Method::GET,
            &format!("/api/v1/sync?since={since}&limit={limit}"),
        );
        read_json(self.authed(req)?.send().await?).await
    }

    /// One page of the snapshot (`GET /api/v1/sync/snapshot`), after `after`.
    pub async fn snapshot(
        &self,
        after: Option<&SnapshotKey>,
        limit: i64,
    ) -> Result<SnapshotPage, ClientError> {
        let mut req = self
            .at(reqwest::Method::GET, "/api/v1/sync/snapshot")
            .query(&[("limit", limit.to_string())]);
        if let Some(k) = after {
            req = req.query(&[
                ("after_kind", k.kind.clone()),
                ("after_id", k.id.to_string()),
            ]);
        }
        read_json(self.authed(req)?.send().await?).await
    }

    pub async fn push(&self, mutations: Vec<Mutation>) -> Result<PushResponse, ClientError> {
        self.post("/api/v1/sync/push", &PushRequest { mutations })
            .await
    }

    /// `PUT /api/v1/conversations/{conv}/attachments/{id}` (idempotent),
    /// within `timeout` (not the client's shorter default), calling
    /// `progress(sent, total)` as the body is handed to the connection
    /// (native; `fetch` takes the body whole, so the browser reports only
    /// the end).
    pub async fn upload(
        &self,
        conversation_id: &str,
        id: &str,
        filename: &str,
        bytes: Vec<u8>,
        timeout: std::time::Duration,
        progress: std::sync::Arc<dyn Fn(u64, u64) + Send + Sync>,
    ) -> Result<(), ClientError> {
        let total = bytes.len() as u64;
        let req = self
            .at(
                reqwest::Method::PUT,
                &format!("/api/v1/conversations/{conversation_id}/attachments/{id}"),
            )
            .query(&[("filename", filename)])
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .timeout(timeout);
        #[cfg(feature = "native")]
        let req = {
            // About twenty steps per file, at least 64 KiB each.
            let step = (bytes.len() / 20).max(64 * 1024);
            let chunks: Vec<Vec<u8>> = bytes.chunks(step).map(<[u8]>::to_vec).collect();
            let mut sent = 0u64;
            let body = futures_util::stream::iter(chunks.into_iter().map(move |c| {
                sent += c.len() as u64;
                progress(sent, total);
                Ok::<_, std::io::Error>(c)
            }));
            req.header(reqwest::header::CONTENT_LENGTH, total)
                .body(reqwest::Body::wrap_stream(body))
        };
        #[cfg(all(feature = "browser", not(feature = "native")))]
        let req = req.body(bytes);
        let res = self.authed(req)?.send().await?;
        if res.status().is_success() {
            #[cfg(all(feature = "browser", not(feature = "native")))]
            progress(total, total);
            Ok(())
        } else {
            Err(read_error(res).await)
        }
    }

    /// `GET /api/v1/attachments/{id}`.
    pub async fn download(&self, id: &str) -> Result<Vec<u8>, ClientError> {
        let req = self.at(reqwest::Method::GET, &format!("/api/v1/attachments/{id}"));
        let res = self.authed(req)?.send().await?;
        if !res.status().is_success() {
            return Err(read_error(res).await);
        }
        Ok(res.bytes().await?.to_vec())
    }

    /// `GET /api/v1/callbacks/slots`: free callback slots in the next two weeks.
    pub async fn callback_slots(&self) -> Result<Vec<Slot>, ClientError> {
        self.get("/api/v1/callbacks/slots").await
    }

    /// `GET /api/v1/me/export`: everything the server keeps about the user.
    pub async fn export(&self) -> Result<serde_json::Value, ClientError> {
        self.get("/api/v1/me/export").await
    }

    /// `GET /api/v1/canned`: the saved replies.
    pub async fn canned(&self) -> Result<Vec<CannedResponse>, ClientError> {
        self.get("/api/v1/canned").await
    }

    /// `PUT /api/v1/canned/{id}` (admins): creates or replaces a saved reply.
    pub async fn put_canned(
        &self,
        id: Uuid,
        canned: &PutCanned,
    ) -> Result<CannedResponse, ClientError> {
        self.put(&format!("/api/v1/canned/{id}"), canned).await
    }

    /// `DELETE /api/v1/canned/{id}` (admins).
    pub async fn delete_canned(&self, id: Uuid) -> Result<(), ClientError> {
        self.delete(&format!("/api/v1/canned/{id}")).await
    }

    /// `GET /api/v1/metrics`: support metrics, computed now.
    pub async fn metrics(&self) -> Result<Metrics, ClientError> {
        self.get("/api/v1/metrics").await
    }

    /// `GET /api/v1/agents`: the support team and who is available.
    pub async fn agents(&self) -> Result<Vec<AgentInfo>, ClientError> {
        self.get("/api/v1/agents").await
    }

    /// `GET /api/v1/support/availability`: whether an agent could take a
    /// new conversation now.
    pub async fn availability(&self) -> Result<Availability, ClientError> {
        self.get("/api/v1/support/availability").await
    }

    /// GET with the session token.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let req = self.at(reqwest::Method::GET, path);
        read_json(self.authed(req)?.send().await?).await
    }

    /// PUT JSON with the session token.
    pub async fn put<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        let req = self.at(reqwest::Method::PUT, path).json(body);
        read_json(self.authed(req)?.send().await?).await
    }

    /// DELETE with the session token (any 2xx is success).
    pub async fn delete(&self, path: &str) -> Result<(), ClientError> {
        let req = self.at(reqwest::Method::DELETE, path);
        let res = self.authed(req)?.send().await?;
        if res.status().is_success() {
            Ok(())
        } else {
            Err(read_error(res).await)
        }
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        let mut req = self.at(reqwest::Method::POST, path).json(body);
        if let Some(t) = self.token() {
            req = req.bearer_auth(t.expose());
        }
        read_json(req.send().await?).await
    }

    fn authed(&self, req: reqwest::RequestBuilder) -> Result<reqwest::RequestBuilder, ClientError> {
        let token = self.token().ok_or(ClientError::SignedOut)?;
        Ok(req.bearer_auth(token.expose()))
    }
}

/// Decodes a success body, or the error shape for any other status.
async fn read_json<T: DeserializeOwned>(res: reqwest::Response) -> Result<T, ClientError> {
    if res.status().is_success() {
        let bytes = res
            .bytes()
            .await
            .map_err(|e| ClientError::Decode(e.to_string()))?;
        return from_json(&bytes).map_err(ClientError::Decode);
    }
    Err(read_error(res).await)
}

/// JSON from bytes, read as `&str` like the store reads its rows, so each
/// type's decoder is built once: `serde_json::from_slice` next to
/// `from_str` would build every decoder twice (one per reader type), a
/// large share of the web wasm.
pub(crate) fn from_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
    serde_json::from_str(text).map_err(|e| e.to_string())
}

/// The error shape of a failed answer; `Retry-After` lands in
/// `details.retry_after_seconds` so retry logic sees one place.
async fn read_error(res: reqwest::Response) -> ClientError {
    let status = res.status();
    let retry_after = res
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let bytes = match res.bytes().await {
        Ok(b) => b,
        Err(e) => return e.into(),
    };
    let mut err = from_json::<ApiError>(&bytes).unwrap_or_else(|_| {
        ApiError::new(
            if status.is_server_error() {
                ErrorCode::Unavailable
            } else {
                ErrorCode::Unknown
            },
            format!("HTTP {status} without an error body"),
        )
    });
    if let Some(secs) = retry_after {
        let mut details = err.details.take().unwrap_or_else(|| serde_json::json!({}));
        if let Some(obj) = details.as_object_mut() {
            obj.entry("retry_after_seconds").or_insert(secs.into());
        }
        err.details = Some(details);
    }
    ClientError::Api(err)
}
