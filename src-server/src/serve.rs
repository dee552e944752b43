//! The accept loop: HTTP/1.1 connections with a header-read timeout (a
//! client that sends half a request head, or nothing, is disconnected),
//! a per-request timeout answered in the one JSON error shape, and a limit
//! on concurrent connections per client address. WebSocket upgrades pass
//! through. `axum::serve` has none of these knobs.
//!
//! Requests hyper cannot parse (a URI over 64 KiB, oversized headers, a
//! malformed request line) never reach the router: hyper answers them itself
//! with an empty body. [`JsonParseErrors`] rewrites those answers into the
//! one JSON error shape on their way out.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request};
use axum::middleware::Next;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use mostrador_core::{ApiError, ErrorCode};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tower::ServiceExt;

/// Connection limits and timeouts (see `serve --help`).
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    /// Time a client has to send a complete request head, and the longest
    /// an idle kept-alive connection stays open.
    pub header_read: Duration,
    /// Longest a handler may take to produce its response (503 after).
    pub request: Duration,
    /// Open connections from one client address.
    pub per_address: usize,
}

impl Default for ConnLimits {
    fn default() -> Self {
        Self {
            header_read: Duration::from_secs(10),
            request: Duration::from_secs(60),
            per_address: 64,
        }
    }
}

/// Counts open connections per address; the guard gives one back.
#[derive(Debug, Default)]
struct PerAddress(Mutex<HashMap<IpAddr, usize>>);

struct Slot(Arc<PerAddress>, IpAddr);

impl Drop for Slot {
    fn drop(&mut self) {
        let mut map = (self.0).0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(&self.1) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.1);
            }
        }
    }
}

impl PerAddress {
    fn take(self: &Arc<Self>, ip: IpAddr, limit: usize) -> Option<Slot> {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(ip).or_default();
        if *n >= limit {
            return None;
        }
        *n += 1;
        Some(Slot(self.clone(), ip))
    }
}

/// A connection's byte stream that replaces hyper's own, bodiless answers to
/// unparseable requests (400, 414 URI too long, 431 headers too large) with
/// the same status and an `ApiError` body. Everything else passes through
/// untouched, WebSocket frames included.
#[derive(Debug)]
pub struct JsonParseErrors<S> {
    inner: S,
    /// The replacement answer, and how much of it is written.
    pending: Vec<u8>,
    sent: usize,
    /// Whether the next write starts an answer: only the first write after
    /// reading request bytes is looked at, so body bytes (a download that
    /// happens to hold an answer-like text after a partial write) are
    /// never taken for hyper's answer, and large writes are not scanned.
    answer_due: bool,
}

impl<S> JsonParseErrors<S> {
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            pending: Vec::new(),
            sent: 0,
            answer_due: false,
        }
    }
}

/// The JSON answer replacing `head` when it is one of hyper's automatic
/// parse-error answers: status 400, 414 or 431, `content-length: 0` and no
/// content type. The router's errors always carry `application/json`, so
/// they are never touched.
fn json_for_parse_error(head: &[u8]) -> Option<Vec<u8>> {
    if !head.starts_with(b"HTTP/1.1 4") {
        return None;
    }
    let end = head.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&head[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?.strip_prefix("HTTP/1.1 ")?;
    let (code, reason) = status_line.split_once(' ').unwrap_or((status_line, ""));
    let (error, message) = match code {
        "400" => (
            ErrorCode::BadRequest,
            "the request could not be read as HTTP",
        ),
        "414" => (
            ErrorCode::BadRequest,
            "the request's address (URI) is too long: at most 64 KiB",
        ),
        "431" => (
            ErrorCode::PayloadTooLarge,
            "the request's headers are too large",
        ),
        _ => return None,
    };
    let mut empty = false;
    for line in lines {
        let line = line.to_ascii_lowercase();
        if line.starts_with("content-type:") {
            return None;
        }
        empty |= line.replace(' ', "") == "content-length:0";
    }
    if !empty {
        return None;
    }
    let body = serde_json::to_string(&ApiError::new(error, message)).ok()?;
    Some(
        format!(
            "HTTP/1.1 {code} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

impl<S: AsyncWrite + Unpin> JsonParseErrors<S> {
    /// Writes what is left of a replacement answer.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.pending.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += n;
        }
        self.pending.clear();
        self.sent = 0;
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for JsonParseErrors<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let read = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.answer_due = true;
        }
        read
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for JsonParseErrors<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_pending(cx))?;
        let due = std::mem::take(&mut self.answer_due);
        if let Some(answer) = due.then(|| json_for_parse_error(buf)).flatten() {
            // hyper's answer counts as written; ours goes out instead (the
            // rest of it on the next write or flush).
            self.pending = answer;
            let _ = self.poll_pending(cx)?;
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_pending(cx))?;
        let due = std::mem::take(&mut self.answer_due);
        let first = bufs.iter().find(|b| !b.is_empty()).filter(|_| due);
        if let Some(answer) = first.and_then(|b| json_for_parse_error(b)) {
            self.pending = answer;
            let _ = self.poll_pending(cx)?;
            return Poll::Ready(Ok(bufs.iter().map(|b| b.len()).sum()));
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Adds the per-request timeout to `router` (503 `unavailable` in the one
/// JSON shape when a handler runs too long).
pub fn with_request_timeout(router: Router, limit: Duration) -> Router {
    router.layer(axum::middleware::from_fn(
        move |req: Request, next: Next| async move {
            match tokio::time::timeout(limit, next.run(req)).await {
                Ok(res) => res,
                Err(_) => {
                    tracing::warn!("request timed out");
                    let mut res = crate::error::api_error_response(ApiError::new(
                        ErrorCode::Unavailable,
                        "the request took too long; try again",
                    ));
                    res.headers_mut().insert(
                        axum::http::header::RETRY_AFTER,
                        axum::http::HeaderValue::from_static("1"),
                    );
                    res
                }
            }
        },
    ))
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets
/// open connections finish their requests.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = with_request_timeout(router, limits.request);
    let per_address = Arc::new(PerAddress::default());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait, go on.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        while tasks.try_join_next().is_some() {}
        let Some(slot) = per_address.take(peer.ip(), limits.per_address) else {
            tracing::warn!(address = %peer.ip(), "too many connections from one address");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let svc = router
            .clone()
            .map_request(move |mut req: Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                req
            });
        let mut stop = stop_rx.clone();
        tasks.spawn(async move {
            let _slot = slot;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read);
            let conn = builder
                .serve_connection(
                    TokioIo::new(JsonParseErrors::new(stream)),
                    TowerToHyperService::new(svc),
                )
                .with_upgrades();
            tokio::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!(error = %e, "connection ended");
                    }
                }
                () = async { let _ = stop.wait_for(|s| *s).await; } => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.as_mut().await;
                }
            }
        });
    }
    let _ = stop_tx.send(true);
    while tasks.join_next().await.is_some() {}
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hypers_bodiless_parse_errors_are_rewritten() {
        let hyper_414 = b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let out = String::from_utf8(json_for_parse_error(hyper_414).unwrap()).unwrap();
        assert!(out.starts_with("HTTP/1.1 414 URI Too Long\r\ncontent-type: application/json\r\n"));
        let body = out.split_once("\r\n\r\n").unwrap().1;
        assert!(serde_json::from_str::<ApiError>(body).is_ok(), "{body}");
        let router_400 = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 0\r\n\r\n";
        assert!(json_for_parse_error(router_400).is_none());
        assert!(json_for_parse_error(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").is_none());
        assert!(
            json_for_parse_error(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 12\r\n\r\n")
                .is_none()
        );
        assert!(json_for_parse_error(b"\x81\x05hello").is_none());
    }

    /// Body bytes that look like hyper's answer (a file holding that text,
    /// after a partial write) go out untouched: only the first write after
    /// request bytes were read is an answer's head.
    #[tokio::test]
    async fn only_the_first_write_after_a_read_is_looked_at() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let lookalike = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n";
        let (server, mut client) = tokio::io::duplex(4096);
        let mut conn = JsonParseErrors::new(server);

        conn.write_all(lookalike).await.unwrap();
        let mut got = vec![0; lookalike.len()];
        client.read_exact(&mut got).await.unwrap();
        assert_eq!(
            got, lookalike,
            "a write with no request before it is passed on"
        );

        client.write_all(b"GARBAGE\r\n\r\n").await.unwrap();
        let mut req = [0; 64];
        let n = conn.read(&mut req).await.unwrap();
        assert!(n > 0);
        conn.write_all(lookalike).await.unwrap();
        conn.flush().await.unwrap();
        let mut head = vec![0; 64];
        client.read_exact(&mut head).await.unwrap();
        assert!(
            String::from_utf8_lossy(&head).contains("application/json"),
            "hyper's answer to a request is rewritten"
        );
    }
}
