//! A loopback TCP proxy that can swallow the server's answer to `POST /v1/sync`: the server has
//! committed, the device never hears back. This is the "dropped response" of a weak network.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

pub struct DroppingProxy {
    pub url: String,
    drop_sync_responses: Arc<AtomicUsize>,
    dropped: Arc<AtomicUsize>,
}

impl DroppingProxy {
    /// Proxies `127.0.0.1:<ephemeral>` to `upstream` (`host:port`).
    pub fn start(upstream: &str) -> DroppingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let drop_sync_responses = Arc::new(AtomicUsize::new(0));
        let dropped = Arc::new(AtomicUsize::new(0));
        let upstream = upstream.to_string();
        let (to_drop, dropped_count) = (drop_sync_responses.clone(), dropped.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                let (to_drop, dropped_count) = (to_drop.clone(), dropped_count.clone());
                std::thread::spawn(move || relay(client, server, to_drop, dropped_count));
            }
        });
        DroppingProxy {
            url,
            drop_sync_responses,
            dropped,
        }
    }

    /// The next `n` sync responses are swallowed (the connection is cut instead).
    pub fn drop_next_sync_responses(&self, n: usize) {
        self.drop_sync_responses.store(n, Ordering::SeqCst);
    }

    /// How many responses were swallowed so far.
    pub fn dropped(&self) -> usize {
        self.dropped.load(Ordering::SeqCst)
    }
}

fn relay(
    mut client: TcpStream,
    mut server: TcpStream,
    to_drop: Arc<AtomicUsize>,
    dropped: Arc<AtomicUsize>,
) {
    let swallow = Arc::new(AtomicBool::new(false));
    let (mut client_r, mut server_w) = (
        client.try_clone().expect("clone"),
        server.try_clone().expect("clone"),
    );
    let swallow_up = swallow.clone();
    // Client -> server: forward everything; mark a sync request whose answer must vanish.
    let up = std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match client_r.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if buf[..n].starts_with(b"POST /v1/sync ")
                && to_drop
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| v.checked_sub(1))
                    .is_ok()
            {
                swallow_up.store(true, Ordering::SeqCst);
            }
            if server_w.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = server_w.shutdown(Shutdown::Write);
    });
    // Server -> client: forward, unless this response is to be swallowed: then the first byte
    // of the answer (sent only after the server committed) cuts both connections.
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match server.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if swallow.load(Ordering::SeqCst) {
            dropped.fetch_add(1, Ordering::SeqCst);
            break;
        }
        if client.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = client.shutdown(Shutdown::Both);
    let _ = server.shutdown(Shutdown::Both);
    let _ = up.join();
}
