//! Loopback TCP proxies for weak networks:
//!
//! * [`DroppingProxy`] swallows the server's answer to `POST /v1/sync`: the server has
//!   committed, the device never hears back (the "dropped response").
//! * [`FaultProxy`] understands HTTP/1.1 requests: it logs them, and cuts, corrupts or answers
//!   chosen ones (e.g. the connection lost on the third part of a photo upload).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

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

// ---------------------------------------------------------------------------------------------

/// A loopback HTTP/1.1 proxy that reads each request's head, logs every request (head and
/// body), and can make chosen requests fail the way weak networks and broken middleboxes do:
/// the connection cut before the request reaches the upstream, a byte of the body flipped on
/// the way, or an error status answered in the upstream's place (a gateway in maintenance).
///
/// Put it between a device and the server (the device logs in through [`FaultProxy::url`]) or
/// between the server and its object store (the server's S3 endpoint is the proxy, so the
/// presigned URLs it hands out lead through it too). Responses are relayed untouched.
pub struct FaultProxy {
    pub url: String,
    shared: Arc<Shared>,
}

/// A request as it went through the proxy.
#[derive(Debug, Clone)]
pub struct SeenRequest {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body as received from the client (before any corruption); empty for a cut request.
    pub body: Vec<u8>,
    /// What the proxy did to it, if anything.
    pub fault: Option<Fault>,
}

impl SeenRequest {
    /// The path without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// A query parameter's value (not percent-decoded).
    pub fn query(&self, name: &str) -> Option<&str> {
        let (_, query) = self.target.split_once('?')?;
        query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `method` and a path starting with `path_prefix`.
    pub fn is(&self, method: &str, path_prefix: &str) -> bool {
        self.method == method && self.path().starts_with(path_prefix)
    }

    /// Whether the request was relayed to the upstream (not cut, not answered by the proxy).
    pub fn reached_upstream(&self) -> bool {
        matches!(self.fault, None | Some(Fault::Corrupt))
    }
}

/// What the proxy does to a matching request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Both connections are closed before the request reaches the upstream: the client sees a
    /// lost connection, the upstream nothing.
    Cut,
    /// One byte in the middle of the body is flipped on the way to the upstream.
    Corrupt,
    /// The proxy answers with this status and a JSON error body
    /// (`{"reason": "unavailable", ...}`); the upstream sees nothing.
    Respond(u16),
}

type Matcher = Box<dyn Fn(&SeenRequest) -> bool + Send>;

struct Rule {
    fault: Fault,
    matches: Matcher,
    /// Matching requests still let through before the rule acts.
    skip: usize,
    /// How many more times it acts (`None`: until cleared).
    remaining: Option<usize>,
}

struct Shared {
    upstream: Mutex<String>,
    rules: Mutex<Vec<Rule>>,
    log: Mutex<Vec<SeenRequest>>,
}

impl Shared {
    /// The fault for this request (first rule that acts on it), counting it for every rule
    /// that matches.
    fn fault_for(&self, req: &SeenRequest) -> Option<Fault> {
        let mut rules = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        let mut chosen = None;
        for rule in rules.iter_mut() {
            if !(rule.matches)(req) {
                continue;
            }
            if rule.skip > 0 {
                rule.skip -= 1;
                continue;
            }
            if rule.remaining == Some(0) || chosen.is_some() {
                continue;
            }
            if let Some(n) = rule.remaining.as_mut() {
                *n -= 1;
            }
            chosen = Some(rule.fault);
        }
        chosen
    }

    fn record(&self, req: SeenRequest) {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).push(req);
    }
}

impl FaultProxy {
    /// Proxies a new loopback port to `upstream` (`http://host:port` or `host:port`).
    pub fn start(upstream: &str) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let shared = Arc::new(Shared {
            upstream: Mutex::new(host_port(upstream)),
            rules: Mutex::new(Vec::new()),
            log: Mutex::new(Vec::new()),
        });
        let accepting = shared.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let shared = accepting.clone();
                std::thread::spawn(move || serve(client, &shared));
            }
        });
        FaultProxy { url, shared }
    }

    /// New connections go to `upstream` (`http://host:port`) from now on.
    pub fn retarget(&self, upstream: &str) {
        *self
            .shared
            .upstream
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = host_port(upstream);
    }

    /// Cuts the connection of the `n`-th request (counted from 1, from now on) that `matches`,
    /// and of every later one, until [`FaultProxy::clear_faults`]. (Cutting the later ones too
    /// keeps a client that retries on a fresh connection from slipping through.)
    pub fn cut_from(&self, n: usize, matches: impl Fn(&SeenRequest) -> bool + Send + 'static) {
        self.add(Fault::Cut, n, None, matches);
    }

    /// Flips a byte in the body of the `n`-th request (counted from 1, from now on) that
    /// `matches`; once.
    pub fn corrupt_nth(&self, n: usize, matches: impl Fn(&SeenRequest) -> bool + Send + 'static) {
        self.add(Fault::Corrupt, n, Some(1), matches);
    }

    /// Answers every request that `matches` with `status` until [`FaultProxy::clear_faults`].
    pub fn respond_with(
        &self,
        status: u16,
        matches: impl Fn(&SeenRequest) -> bool + Send + 'static,
    ) {
        self.add(Fault::Respond(status), 1, None, matches);
    }

    /// Removes every fault: requests go through untouched again.
    pub fn clear_faults(&self) {
        self.shared
            .rules
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    fn add(
        &self,
        fault: Fault,
        n: usize,
        remaining: Option<usize>,
        matches: impl Fn(&SeenRequest) -> bool + Send + 'static,
    ) {
        assert!(n >= 1, "requests are counted from 1");
        self.shared
            .rules
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Rule {
                fault,
                matches: Box::new(matches),
                skip: n - 1,
                remaining,
            });
    }

    /// Every request seen so far, in the order they were complete.
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.shared
            .log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// A position in the log, for [`FaultProxy::requests_since`].
    pub fn mark(&self) -> usize {
        self.shared
            .log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }

    /// The requests seen after `mark`.
    pub fn requests_since(&self, mark: usize) -> Vec<SeenRequest> {
        self.requests().split_off(mark)
    }
}

fn host_port(upstream: &str) -> String {
    upstream
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string()
}

/// One client connection: requests are parsed and relayed one by one (clients do not pipeline);
/// responses flow back untouched on their own thread.
fn serve(client: TcpStream, shared: &Shared) {
    let upstream = shared
        .upstream
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let Ok(server) = TcpStream::connect(&upstream) else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    let (Ok(mut to_client), Ok(from_server), Ok(mut to_server), Ok(from_client)) = (
        client.try_clone(),
        server.try_clone(),
        server.try_clone(),
        client.try_clone(),
    ) else {
        return;
    };
    std::thread::spawn(move || {
        let mut from_server = from_server;
        let _ = std::io::copy(&mut from_server, &mut to_client);
        let _ = to_client.shutdown(Shutdown::Write);
    });
    let mut reader = std::io::BufReader::new(from_client);
    while let Some(head) = read_head(&mut reader) {
        let Some(mut req) = parse_head(&head) else {
            // Not HTTP we understand: relay the rest blindly.
            let _ = to_server.write_all(&head);
            let _ = std::io::copy(&mut reader, &mut to_server);
            break;
        };
        let chunked = req
            .header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        let len: usize = req
            .header("content-length")
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        let fault = shared.fault_for(&req);
        req.fault = fault;
        match fault {
            Some(Fault::Cut) => {
                shared.record(req);
                break;
            }
            Some(Fault::Respond(status)) => {
                // Read the body first: closing with unread data would reset the connection
                // before the client reads the answer.
                let mut body = vec![0u8; len];
                if reader.read_exact(&mut body).is_err() {
                    break;
                }
                req.body = body;
                shared.record(req);
                let answer = serde_json::json!({
                    "reason": "unavailable",
                    "message": format!("{status} from the test proxy in front of the server"),
                })
                .to_string();
                let _ = write!(
                    &client,
                    "HTTP/1.1 {status} Proxy Fault\r\nContent-Type: application/json\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                );
                let _ = (&client).flush();
                let _ = client.shutdown(Shutdown::Write);
                // Let the client read the answer and close first.
                let _ = std::io::copy(&mut reader, &mut std::io::sink());
                break;
            }
            None | Some(Fault::Corrupt) => {
                if to_server.write_all(&head).is_err() {
                    break;
                }
                if chunked {
                    // Not needed by the clients under test: relay the rest blindly.
                    shared.record(req);
                    let _ = std::io::copy(&mut reader, &mut to_server);
                    break;
                }
                let mut body = vec![0u8; len];
                if reader.read_exact(&mut body).is_err() {
                    break;
                }
                let mut sent = body.clone();
                if fault == Some(Fault::Corrupt) && !sent.is_empty() {
                    let mid = sent.len() / 2;
                    sent[mid] ^= 0xFF;
                }
                req.body = body;
                shared.record(req);
                if to_server.write_all(&sent).is_err() {
                    break;
                }
            }
        }
    }
    let _ = client.shutdown(Shutdown::Both);
    let _ = server.shutdown(Shutdown::Both);
}

/// The bytes of one request head, up to and including the empty line; `None` at the end of
/// the stream.
fn read_head(reader: &mut impl std::io::BufRead) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    loop {
        let before = head.len();
        match reader.read_until(b'\n', &mut head) {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
        let line = &head[before..];
        if line == b"\r\n" || line == b"\n" {
            if before == 0 {
                // A stray empty line between requests.
                head.clear();
                continue;
            }
            return Some(head);
        }
        if head.len() > 256 * 1024 {
            return Some(head);
        }
    }
}

fn parse_head(head: &[u8]) -> Option<SeenRequest> {
    let text = std::str::from_utf8(head).ok()?;
    let mut lines = text.split("\r\n").flat_map(|l| l.split('\n'));
    let mut first = lines.next()?.split_whitespace();
    let (method, target, version) = (first.next()?, first.next()?, first.next()?);
    if !version.starts_with("HTTP/1.") {
        return None;
    }
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some(SeenRequest {
        method: method.to_string(),
        target: target.to_string(),
        headers,
        body: Vec::new(),
        fault: None,
    })
}
