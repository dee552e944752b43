//! A fault-injecting TCP proxy for the engine tests: it sits between the
//! app and the real server and, per connection, passes traffic through,
//! refuses, delays, cuts the response short, or swallows it.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does to the traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    Pass = 0,
    /// Forward requests, never return the responses.
    Swallow = 1,
    /// A random fault on some connections (see `Proxy::start`).
    Chaos = 2,
    /// File uploads (`PUT …/attachments/…`) hang on the way to the server
    /// until the mode changes, then their connection is closed; all other
    /// traffic passes.
    StallUploads = 3,
}

#[derive(Debug, Clone)]
pub struct Proxy {
    pub port: u16,
    mode: Arc<AtomicU8>,
    /// Faults injected so far.
    pub faults: Arc<AtomicU64>,
}

impl Proxy {
    pub async fn start(upstream_port: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mode = Arc::new(AtomicU8::new(Mode::Pass as u8));
        let faults = Arc::new(AtomicU64::new(0));
        let (m, f) = (mode.clone(), faults.clone());
        tokio::spawn(async move {
            let mut n: u64 = 0;
            while let Ok((client, _)) = listener.accept().await {
                n += 1;
                let (mode, faults) = (m.clone(), f.clone());
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream_port)).await else {
                        return;
                    };
                    handle(client, server, mode, n, faults).await;
                });
            }
        });
        Proxy { port, mode, faults }
    }

    pub fn set(&self, mode: Mode) {
        self.mode.store(mode as u8, Ordering::Relaxed);
    }
}

/// Deterministic pseudo-random rolls in 0..100.
struct Dice(u64);
impl Dice {
    fn roll(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % 100
    }
}

/// Whether a request chunk starts a file upload.
fn is_upload(chunk: &[u8]) -> bool {
    let head = &chunk[..chunk.len().min(512)];
    head.starts_with(b"PUT ") && head.windows(13).any(|w| w == b"/attachments/")
}

/// Copies both ways. The mode is read for every chunk, so pooled
/// connections opened before a fault window are hit too. In chaos, each
/// request chunk may be dropped with its connection (5 %), each response
/// chunk delayed (5 %) or cut short, connection closed mid-response (5 %).
async fn handle(
    mut client: TcpStream,
    mut server: TcpStream,
    mode: Arc<AtomicU8>,
    n: u64,
    faults: Arc<AtomicU64>,
) {
    let (mut cr, mut cw) = client.split();
    let (mut sr, mut sw) = server.split();
    let mut up_dice = Dice(n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut down_dice = Dice(n.wrapping_add(0xD1B5_4A32_D192_ED03));
    let chaos = |m: &Arc<AtomicU8>| m.load(Ordering::Relaxed) == Mode::Chaos as u8;
    let upstream = async {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match cr.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let stall = mode.load(Ordering::Relaxed) == Mode::StallUploads as u8;
            if stall && is_upload(&buf[..n]) {
                while mode.load(Ordering::Relaxed) == Mode::StallUploads as u8 {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                return true; // never reached the server
            }
            if chaos(&mode) && up_dice.roll() < 5 {
                faults.fetch_add(1, Ordering::Relaxed);
                return true; // dropped before reaching the server
            }
            if sw.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = sw.shutdown().await;
        false
    };
    let downstream = async {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match sr.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if mode.load(Ordering::Relaxed) == Mode::Swallow as u8 {
                continue;
            }
            if chaos(&mode) {
                match down_dice.roll() {
                    0..=4 => {
                        faults.fetch_add(1, Ordering::Relaxed);
                        let _ = cw.write_all(&buf[..n / 2]).await;
                        return; // cut mid-response
                    }
                    5..=9 => {
                        faults.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    _ => {}
                }
            }
            if cw.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
    };
    // Whichever side ends first ends the connection.
    tokio::select! {
        _ = upstream => {}
        () = downstream => {}
    }
}
