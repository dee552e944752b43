//! Typed HTTP client for the backend's API.

use mostrador_core::{ApiError, ErrorCode, Health};
use serde::de::DeserializeOwned;

use crate::{ClientConfig, ClientError};

#[derive(Debug, Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base_url: String,
}

impl ApiClient {
    pub fn new(config: &ClientConfig) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .user_agent(concat!("mostrador-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Config(e.to_string()))?;
        Ok(Self {
            http,
            base_url: config.server_url.clone(),
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `GET /healthz`.
    pub async fn health(&self) -> Result<Health, ClientError> {
        self.get("/healthz").await
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let res = self
            .http
            .get(format!("{}{path}", self.base_url))
            .send()
            .await?;
        read_json(res).await
    }
}

/// Decodes a success body, or the error shape for any other status.
async fn read_json<T: DeserializeOwned>(res: reqwest::Response) -> Result<T, ClientError> {
    let status = res.status();
    if status.is_success() {
        return res
            .json::<T>()
            .await
            .map_err(|e| ClientError::Decode(e.to_string()));
    }
    let bytes = res.bytes().await?;
    Err(match serde_json::from_slice::<ApiError>(&bytes) {
        Ok(err) => ClientError::Api(err),
        Err(_) => ClientError::Api(ApiError::new(
            if status.is_server_error() {
                ErrorCode::Unavailable
            } else {
                ErrorCode::Unknown
            },
            format!("HTTP {status} without an error body"),
        )),
    })
}
