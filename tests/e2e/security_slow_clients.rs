//! Slow clients are cut off (docs/security.md): sockets that open a request and stall —
//! nothing sent, half a request line, headers without their end, a body that stops — are all
//! closed after the header-read or body-idle timeout (the stalled body answered 408), a
//! connection over the cap is answered 503 at once, and a slow but live client on a 2G-like
//! link still finishes its upload although it takes longer than every timeout. The operations
//! listener (metrics, health) follows the same rules with its own cap.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use fieldsync_e2e::process::PgDatabase;
use fieldsync_e2e::{http, photo_bytes, TestServer};
use fieldsync_server::config::{Config, Secret};
use fieldsync_shared::Sha256;

/// A server on SQLite or a fresh PostgreSQL database, with short timeouts.
fn server(
    postgres: bool,
    db: &Option<PgDatabase>,
    configure: impl FnOnce(&mut Config),
) -> TestServer {
    assert_eq!(postgres, db.is_some());
    TestServer::start_with(|c| {
        if let Some(db) = db {
            c.database_url = Some(Secret::new(db.url()));
        }
        c.connections.header_read_timeout_secs = 2;
        c.connections.body_idle_timeout_secs = 2;
        configure(c);
    })
}

fn connect(server: &TestServer) -> TcpStream {
    connect_to(&server.url)
}

fn connect_to(url: &str) -> TcpStream {
    let addr = url.trim_start_matches("http://");
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    s
}

/// Everything the server sends until it closes the connection (or the read times out, which
/// fails the test: the server kept the socket).
fn read_until_closed(mut s: TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("the server kept a stalled socket open: {e}"),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn stalled_sockets_are_closed_sqlite() {
    stalled_sockets_are_closed(false);
}

#[test]
fn stalled_sockets_are_closed_postgres() {
    stalled_sockets_are_closed(true);
}

fn stalled_sockets_are_closed(postgres: bool) {
    let db = postgres.then(PgDatabase::create);
    let server = server(postgres, &db, |_| {});
    let token = server.token("rep1");
    let sha = Sha256::digest(b"never sent").to_hex();
    let started = Instant::now();
    let mut header_stalls = Vec::new();
    let mut body_stalls = Vec::new();
    for i in 0..100 {
        let mut s = connect(&server);
        match i % 4 {
            // Connects and sends nothing.
            0 => {}
            // One byte of a request line.
            1 => s.write_all(b"G").unwrap(),
            // Headers that never end.
            2 => s
                .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: 1")
                .unwrap(),
            // A body that stops after 10 of its 1000 bytes.
            _ => {
                let head = format!(
                    "PUT /v1/photos/{sha} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
                     Content-Type: image/jpeg\r\nContent-Length: 1000\r\n\r\n0123456789"
                );
                s.write_all(head.as_bytes()).unwrap();
                body_stalls.push(s);
                continue;
            }
        }
        header_stalls.push(s);
    }
    for s in header_stalls {
        let got = read_until_closed(s);
        assert!(
            got.is_empty(),
            "nothing can be answered to a stalled head: {got}"
        );
    }
    for s in body_stalls {
        let got = read_until_closed(s);
        assert!(got.starts_with("HTTP/1.1 408 "), "{got}");
        assert!(got.contains("request_timeout"), "{got}");
    }
    // Cut off after the timeouts (2 s), not by the test's own read timeout (15 s).
    assert!(
        started.elapsed() < Duration::from_secs(12),
        "{:?}",
        started.elapsed()
    );
    assert!(server.metric(r#"http_timeouts_total{kind="header"}"#) >= 75.0);
    assert!(server.metric(r#"http_timeouts_total{kind="body"}"#) >= 25.0);
    // The server still answers.
    let resp = http()
        .get(&format!("{}/health", server.url))
        .call()
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[test]
fn connections_over_the_cap_are_answered_503_sqlite() {
    connections_over_the_cap(false);
}

#[test]
fn connections_over_the_cap_are_answered_503_postgres() {
    connections_over_the_cap(true);
}

fn connections_over_the_cap(postgres: bool) {
    let db = postgres.then(PgDatabase::create);
    let server = server(postgres, &db, |c| c.connections.max_connections = 5);
    let held: Vec<TcpStream> = (0..5).map(|_| connect(&server)).collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut extra = connect(&server);
    extra
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let got = read_until_closed(extra);
    assert!(got.starts_with("HTTP/1.1 503 "), "{got}");
    assert!(
        got.contains("too_many_connections") && got.to_ascii_lowercase().contains("retry-after: 1"),
        "{got}"
    );
    assert!(server.metric("http_connections_refused_total") >= 1.0);
    // The idle ones are closed by the header-read timeout; then there is room again.
    for s in held {
        assert!(read_until_closed(s).is_empty());
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let status = http()
            .get(&format!("{}/health", server.url))
            .call()
            .map(|r| r.status().as_u16())
            .unwrap_or(0);
        if status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no room after the idle connections closed"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_slow_but_live_upload_finishes_sqlite() {
    a_slow_but_live_upload_finishes(false);
}

#[test]
fn a_slow_but_live_upload_finishes_postgres() {
    a_slow_but_live_upload_finishes(true);
}

/// 2G-like: 1 KiB every 200 ms (5 KiB/s) for 24 KiB: about 5 s in all, more than both
/// timeouts (2 s), with no gap as long as either.
fn a_slow_but_live_upload_finishes(postgres: bool) {
    let db = postgres.then(PgDatabase::create);
    let server = server(postgres, &db, |_| {});
    let token = server.token("rep1");
    let bytes = photo_bytes(24 * 1024, 42);
    let sha = Sha256::digest(&bytes).to_hex();
    let mut s = connect(&server);
    let started = Instant::now();
    // Even the headers trickle in.
    let head = format!(
        "PUT /v1/photos/{sha} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: image/jpeg\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        bytes.len()
    );
    for piece in head.as_bytes().chunks(head.len() / 3 + 1) {
        s.write_all(piece).unwrap();
        std::thread::sleep(Duration::from_millis(500));
    }
    for chunk in bytes.chunks(1024) {
        s.write_all(chunk).unwrap();
        std::thread::sleep(Duration::from_millis(200));
    }
    let got = read_until_closed(s);
    assert!(started.elapsed() > Duration::from_secs(4));
    assert!(got.starts_with("HTTP/1.1 201 "), "{got}");
    // The photo is there, byte for byte.
    let mut resp = http()
        .get(&format!("{}/v1/photos/{sha}", server.url))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.body_mut().read_to_vec().unwrap(), bytes);
}

/// The listener does not depend on the engine: SQLite only.
#[test]
fn the_operations_listener_cuts_off_stalled_sockets() {
    let server = server(false, &None, |c| c.connections.ops_max_connections = 3);
    let started = Instant::now();
    // Nothing, one byte of a request line, headers that never end: the cap is full.
    let stalled: Vec<TcpStream> = [&b""[..], b"G", b"GET /metrics HTTP/1.1\r\nHost: x\r\n"]
        .into_iter()
        .map(|sent| {
            let mut s = connect_to(&server.ops_url);
            s.write_all(sent).unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut extra = connect_to(&server.ops_url);
    extra
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let got = read_until_closed(extra);
    assert!(got.starts_with("HTTP/1.1 503 "), "{got}");
    assert!(got.contains("too_many_connections"), "{got}");
    // Closed by the header-read timeout (2 s), not by the test's read timeout (15 s).
    for s in stalled {
        let got = read_until_closed(s);
        assert!(
            got.is_empty(),
            "nothing can be answered to a stalled head: {got}"
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    // Room again; the API's connection figures did not count the operations port.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let status = http()
            .get(&format!("{}/metrics", server.ops_url))
            .call()
            .map(|r| r.status().as_u16())
            .unwrap_or(0);
        if status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no room after the stalled sockets closed"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(server.metric("http_connections_refused_total"), 0.0);
}
