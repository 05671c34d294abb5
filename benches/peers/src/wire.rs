//! Bytes on the wire, counted the same way for every server: clients connect to a loopback
//! proxy that forwards to the server and counts what crosses it each way (HTTP headers and
//! bodies, websocket frames: everything on the TCP stream).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Default)]
struct Counters {
    up: AtomicU64,
    down: AtomicU64,
}

/// Bytes sent to the server (`up`) and received from it (`down`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Bytes {
    pub up: u64,
    pub down: u64,
}

impl Bytes {
    pub fn since(self, before: Bytes) -> Bytes {
        Bytes {
            up: self.up - before.up,
            down: self.down - before.down,
        }
    }
}

pub struct Proxy {
    pub addr: SocketAddr,
    counters: Arc<Counters>,
    runtime: tokio::runtime::Runtime,
}

impl Proxy {
    /// A proxy to `server`, on its own runtime of two threads.
    pub fn start(server: SocketAddr) -> Proxy {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("proxy runtime");
        let counters = Arc::new(Counters::default());
        let listener = runtime
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("proxy listens");
        let addr = listener.local_addr().expect("proxy address");
        let shared = counters.clone();
        runtime.spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let counters = shared.clone();
                tokio::spawn(async move {
                    let Ok(upstream) = TcpStream::connect(server).await else {
                        return;
                    };
                    let _ = client.set_nodelay(true);
                    let _ = upstream.set_nodelay(true);
                    let (client_read, client_write) = client.into_split();
                    let (server_read, server_write) = upstream.into_split();
                    let up = pump(client_read, server_write, counters.clone(), true);
                    let down = pump(server_read, client_write, counters, false);
                    let _ = tokio::join!(up, down);
                });
            }
        });
        Proxy {
            addr,
            counters,
            runtime,
        }
    }

    pub fn bytes(&self) -> Bytes {
        Bytes {
            up: self.counters.up.load(Ordering::Relaxed),
            down: self.counters.down.load(Ordering::Relaxed),
        }
    }

    pub fn stop(self) {
        self.runtime.shutdown_background();
    }
}

/// Copies one direction, counting; closes the write side when the read side ends.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    counters: Arc<Counters>,
    up: bool,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let counter = if up { &counters.up } else { &counters.down };
        counter.fetch_add(n as u64, Ordering::Relaxed);
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}
