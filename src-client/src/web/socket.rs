//! The live connection over the browser's `WebSocket`, behind
//! [`LiveSocket`]: typed messages both ways, close codes as the native
//! socket reports them.

use std::time::Duration;

use mostrador_core::live::LiveClientMessage;
use tokio::sync::mpsc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{CloseEvent, Event, MessageEvent, WebSocket};

use super::js_error;
use crate::platform::{self, live_message, live_text, BoxFuture, LiveFrame, LiveSocket};
use crate::ClientError;

/// How long opening the socket may take before the service backs off and
/// tries again (the browser's own limit is minutes).
const OPEN_TIMEOUT: Duration = Duration::from_secs(10);

/// What the socket's event handlers report.
enum Incoming {
    Open,
    Frame(LiveFrame),
    /// Gone without a close frame (a network failure, or never opened).
    Gone,
}

/// A live connection over the browser's `WebSocket`, behind [`LiveSocket`].
/// The URL carries a single-use ticket (`live.rs` asks for it), since a
/// browser cannot set an `Authorization` header on a socket.
pub struct BrowserLiveSocket {
    ws: WebSocket,
    incoming: mpsc::UnboundedReceiver<Incoming>,
    // The handlers live as long as the socket; `Drop` detaches them first.
    _on_open: Closure<dyn FnMut(Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
    _on_error: Closure<dyn FnMut(Event)>,
}

impl std::fmt::Debug for BrowserLiveSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the URL: it carries the ticket.
        f.debug_struct("BrowserLiveSocket")
            .field("ready_state", &self.ws.ready_state())
            .finish_non_exhaustive()
    }
}

impl BrowserLiveSocket {
    /// Opens `url` (`ws://` or `wss://`, with its ticket) and waits until
    /// it is open. A socket the server refuses fails here as a network
    /// error (the browser does not say why), and the service retries with a
    /// fresh ticket.
    pub async fn connect(url: &str) -> Result<Self, ClientError> {
        let ws = WebSocket::new(url).map_err(|e| ClientError::Config(js_error(&e)))?;
        let (tx, incoming) = mpsc::unbounded_channel();
        let on_open = {
            let tx = tx.clone();
            Closure::<dyn FnMut(Event)>::new(move |_: Event| {
                let _ = tx.send(Incoming::Open);
            })
        };
        let on_message = {
            let tx = tx.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
                // Unreadable and binary frames are skipped.
                let msg = e.data().as_string().and_then(|text| live_message(&text));
                if let Some(msg) = msg {
                    let _ = tx.send(Incoming::Frame(LiveFrame::Message(msg)));
                }
            })
        };
        let on_close = {
            let tx = tx.clone();
            Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
                // 1006: no close frame arrived (the network, or a refused
                // upgrade), as the native socket's end of stream.
                let _ = tx.send(if e.code() == 1006 {
                    Incoming::Gone
                } else {
                    Incoming::Frame(LiveFrame::Closed(Some(e.code())))
                });
            })
        };
        // An error is always followed by a close event; nothing to add.
        let on_error = Closure::<dyn FnMut(Event)>::new(move |_: Event| {});
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        ws.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        let mut socket = Self {
            ws,
            incoming,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
            _on_error: on_error,
        };
        let opened = tokio::select! {
            first = socket.incoming.recv() => matches!(first, Some(Incoming::Open)),
            () = platform::sleep(OPEN_TIMEOUT) => false,
        };
        if opened {
            Ok(socket)
        } else {
            Err(ClientError::Network(
                "the live connection could not be opened".into(),
            ))
        }
    }
}

impl Drop for BrowserLiveSocket {
    fn drop(&mut self) {
        // The handlers are dropped with `self`: detach them so the browser
        // never calls a freed closure, then close.
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        self.ws.set_onerror(None);
        let _ = self.ws.close();
    }
}

impl LiveSocket for BrowserLiveSocket {
    fn send<'a>(
        &'a mut self,
        msg: &'a LiveClientMessage,
    ) -> BoxFuture<'a, Result<(), ClientError>> {
        Box::pin(async move {
            let text = live_text(msg)?;
            self.ws
                .send_with_str(&text)
                .map_err(|e| ClientError::Network(js_error(&e)))
        })
    }

    fn recv(&mut self) -> BoxFuture<'_, Option<LiveFrame>> {
        // Only the channel's `recv` is awaited, and it is cancel-safe.
        Box::pin(async move {
            loop {
                match self.incoming.recv().await? {
                    Incoming::Frame(frame) => return Some(frame),
                    Incoming::Gone => return None,
                    Incoming::Open => {}
                }
            }
        })
    }

    fn close(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let _ = self.ws.close();
        })
    }
}
