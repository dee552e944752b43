//! The native live connection: tokio-tungstenite (TLS through rustls with
//! the client's roots), behind [`LiveSocket`]. The sync service in
//! `live.rs` sees only typed messages and close codes.

use futures_util::{SinkExt, StreamExt};
use mostrador_core::auth::Token;
use mostrador_core::live::LiveClientMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::platform::{live_message, live_text, BoxFuture, LiveFrame, LiveSocket};
use crate::ClientError;

type Stream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A live connection over tokio-tungstenite.
pub struct NativeLiveSocket(Stream);

impl NativeLiveSocket {
    /// Connects to `url` (ws:// or wss://) with the session `token`; a
    /// refused session is [`ErrorCode::Unauthorized`](mostrador_core::ErrorCode).
    pub async fn connect(
        url: &str,
        token: &Token,
        connector: tokio_tungstenite::Connector,
    ) -> Result<Self, ClientError> {
        let mut req = url
            .into_client_request()
            .map_err(|e| ClientError::Config(e.to_string()))?;
        let value = format!("Bearer {}", token.expose())
            .parse()
            .map_err(|_| ClientError::Config("token is not a header value".into()))?;
        req.headers_mut().insert("authorization", value);
        let (ws, _) =
            tokio_tungstenite::connect_async_tls_with_config(req, None, false, Some(connector))
                .await
                .map_err(|e| match e {
                    tokio_tungstenite::tungstenite::Error::Http(res) if res.status() == 401 => {
                        ClientError::Api(mostrador_core::ApiError::new(
                            mostrador_core::ErrorCode::Unauthorized,
                            "session expired",
                        ))
                    }
                    other => ClientError::Network(other.to_string()),
                })?;
        Ok(Self(ws))
    }
}

impl LiveSocket for NativeLiveSocket {
    fn send<'a>(
        &'a mut self,
        msg: &'a LiveClientMessage,
    ) -> BoxFuture<'a, Result<(), ClientError>> {
        Box::pin(async move {
            let text = live_text(msg)?;
            self.0
                .send(Message::Text(text.into()))
                .await
                .map_err(|e| ClientError::Network(e.to_string()))
        })
    }

    fn recv(&mut self) -> BoxFuture<'_, Option<LiveFrame>> {
        // Only `StreamExt::next` is awaited, and it is cancel-safe, so a
        // dropped `recv` loses nothing.
        Box::pin(async move {
            loop {
                match self.0.next().await? {
                    Ok(Message::Text(text)) => {
                        if let Some(msg) = live_message(&text) {
                            return Some(LiveFrame::Message(msg));
                        }
                    }
                    Ok(Message::Close(frame)) => {
                        return Some(LiveFrame::Closed(frame.map(|f| u16::from(f.code))))
                    }
                    Ok(_) => {}
                    Err(_) => return None,
                }
            }
        })
    }

    fn close(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let _ = self.0.close(None).await;
        })
    }
}
