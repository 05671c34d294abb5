//! Loopback TCP proxies for weak networks:
//!
//! * [`DroppingProxy`] swallows the server's answer to `POST /v1/sync`: the server has
//!   committed, the device never hears back (the "dropped response").
//! * [`FaultProxy`] understands HTTP/1.1: it logs the requests, and cuts, delays, corrupts or
//!   answers chosen ones, cuts, swallows or holds their answers (e.g. the connection lost on
//!   the third part of a photo upload), or does all of that at random from a seed ([`Chaos`]).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

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
/// the connection cut before the request reaches the upstream or half-way through its body, a
/// byte of the body flipped on the way, a delay, an error status answered in the upstream's
/// place (a gateway in maintenance); or, after the upstream processed the request, its answer
/// cut half-way through, swallowed, or held until the test releases it. [`FaultProxy::chaos`]
/// draws such faults at random from a seed.
///
/// Put it between a device and the server (the device logs in through [`FaultProxy::url`]) or
/// between the server and its object store (the server's S3 endpoint is the proxy, so the
/// presigned URLs it hands out lead through it too). Responses without a fault are relayed
/// untouched (each is read whole first, to know where the next one starts).
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

    /// Whether the whole request was relayed to the upstream (not cut, not answered by the
    /// proxy); its answer may still have been lost on the way back.
    pub fn reached_upstream(&self) -> bool {
        matches!(
            self.fault,
            None | Some(
                Fault::Corrupt
                    | Fault::Delay(_)
                    | Fault::CutResponseBody
                    | Fault::DropResponse
                    | Fault::Hold
            )
        )
    }
}

/// What the proxy does to a matching request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Both connections are closed before the request reaches the upstream: the client sees a
    /// lost connection, the upstream nothing.
    Cut,
    /// The head and half of the body reach the upstream, then both connections are closed: the
    /// upstream sees a truncated request, the client a lost connection.
    CutRequestBody,
    /// One byte in the middle of the body is flipped on the way to the upstream.
    Corrupt,
    /// The proxy answers with this status and a JSON error body
    /// (`{"reason": "unavailable", ...}`); the upstream sees nothing.
    Respond(u16),
    /// The request reaches the upstream after this delay.
    Delay(Duration),
    /// The upstream processes the request; its answer is cut half-way through its body (through
    /// its head when it has no body) and both connections are closed.
    CutResponseBody,
    /// The upstream processes the request; its whole answer is swallowed and both connections
    /// are closed (the "dropped response": done there, unknown here).
    DropResponse,
    /// The upstream processes the request; its answer waits in the proxy until
    /// [`FaultProxy::release_held`] (or [`FaultProxy::clear_faults`]).
    Hold,
}

/// Per-request probabilities of a weak network, for [`FaultProxy::chaos`]. At most one fault
/// per request; the rest pass untouched.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Chaos {
    /// [`Fault::Delay`] of up to `max_delay`.
    pub delay: f64,
    pub max_delay: Duration,
    /// [`Fault::Cut`].
    pub cut_request: f64,
    /// [`Fault::CutRequestBody`].
    pub cut_request_body: f64,
    /// [`Fault::CutResponseBody`].
    pub cut_response_body: f64,
    /// [`Fault::DropResponse`].
    pub drop_response: f64,
}

impl Chaos {
    /// A bad mobile network: a quarter of the requests fail one way or another, many are slow.
    pub fn flaky() -> Chaos {
        Chaos {
            delay: 0.25,
            max_delay: Duration::from_millis(120),
            cut_request: 0.05,
            cut_request_body: 0.07,
            cut_response_body: 0.07,
            drop_response: 0.07,
        }
    }

    fn draw(&self, rng: &mut XorShift) -> Option<Fault> {
        let r = rng.unit();
        let mut acc = 0.0;
        for (p, fault) in [
            (self.cut_request, Fault::Cut),
            (self.cut_request_body, Fault::CutRequestBody),
            (self.cut_response_body, Fault::CutResponseBody),
            (self.drop_response, Fault::DropResponse),
        ] {
            acc += p;
            if r < acc {
                return Some(fault);
            }
        }
        if rng.unit() < self.delay {
            let ms = self.max_delay.as_millis() as f64 * rng.unit();
            return Some(Fault::Delay(Duration::from_millis(ms as u64)));
        }
        None
    }
}

/// xorshift64*: reproducible faults from a logged seed.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> XorShift {
        XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

type Matcher = Box<dyn Fn(&SeenRequest) -> bool + Send>;

enum Action {
    Fixed(Fault),
    Random(Chaos, XorShift),
}

struct Rule {
    action: Action,
    matches: Matcher,
    /// Matching requests still let through before the rule acts.
    skip: usize,
    /// How many more times it acts (`None`: until cleared).
    remaining: Option<usize>,
}

/// Responses waiting in the proxy ([`Fault::Hold`]).
#[derive(Default)]
struct Held {
    waiting: usize,
    /// Answers held so far, released or not.
    total: usize,
    /// Bumped by each release: a response waits until it changes.
    releases: u64,
}

struct Shared {
    upstream: Mutex<String>,
    rules: Mutex<Vec<Rule>>,
    log: Mutex<Vec<SeenRequest>>,
    held: Mutex<Held>,
    held_changed: Condvar,
}

impl Shared {
    /// The fault for this request (first rule that acts on it), counting it for every rule
    /// that matches.
    fn fault_for(&self, req: &SeenRequest) -> Option<Fault> {
        let mut rules = lock(&self.rules);
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
            let fault = match &mut rule.action {
                Action::Fixed(fault) => Some(*fault),
                Action::Random(chaos, rng) => chaos.draw(rng),
            };
            if fault.is_some() {
                if let Some(n) = rule.remaining.as_mut() {
                    *n -= 1;
                }
                chosen = fault;
            }
        }
        chosen
    }

    fn record(&self, req: SeenRequest) {
        lock(&self.log).push(req);
    }

    /// Blocks the calling connection until the next release.
    fn hold(&self) {
        let mut held = lock(&self.held);
        let release = held.releases;
        held.waiting += 1;
        held.total += 1;
        self.held_changed.notify_all();
        while held.releases == release {
            held = self
                .held_changed
                .wait(held)
                .unwrap_or_else(|p| p.into_inner());
        }
        held.waiting -= 1;
        self.held_changed.notify_all();
    }

    fn release_held(&self) {
        lock(&self.held).releases += 1;
        self.held_changed.notify_all();
    }
}

/// The proxy's locks only guard logs and counters: a panicked holder leaves nothing half-done.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
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
            held: Mutex::new(Held::default()),
            held_changed: Condvar::new(),
        });
        let accepting = shared.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let shared = accepting.clone();
                std::thread::spawn(move || serve(client, shared));
            }
        });
        FaultProxy { url, shared }
    }

    /// New connections go to `upstream` (`http://host:port`) from now on.
    pub fn retarget(&self, upstream: &str) {
        *lock(&self.shared.upstream) = host_port(upstream);
    }

    /// Cuts the connection of the `n`-th request (counted from 1, from now on) that `matches`,
    /// and of every later one, until [`FaultProxy::clear_faults`]. (Cutting the later ones too
    /// keeps a client that retries on a fresh connection from slipping through.)
    pub fn cut_from(&self, n: usize, matches: impl Fn(&SeenRequest) -> bool + Send + 'static) {
        self.add(Action::Fixed(Fault::Cut), n, None, matches);
    }

    /// Flips a byte in the body of the `n`-th request (counted from 1, from now on) that
    /// `matches`; once.
    pub fn corrupt_nth(&self, n: usize, matches: impl Fn(&SeenRequest) -> bool + Send + 'static) {
        self.add(Action::Fixed(Fault::Corrupt), n, Some(1), matches);
    }

    /// Answers every request that `matches` with `status` until [`FaultProxy::clear_faults`].
    pub fn respond_with(
        &self,
        status: u16,
        matches: impl Fn(&SeenRequest) -> bool + Send + 'static,
    ) {
        self.add(Action::Fixed(Fault::Respond(status)), 1, None, matches);
    }

    /// Does `fault` to the `n`-th request (counted from 1, from now on) that `matches`, and to
    /// the `times - 1` matching requests after it (`None`: every one, until cleared).
    pub fn fault_nth(
        &self,
        fault: Fault,
        n: usize,
        times: Option<usize>,
        matches: impl Fn(&SeenRequest) -> bool + Send + 'static,
    ) {
        self.add(Action::Fixed(fault), n, times, matches);
    }

    /// Holds the answers of the requests that `matches` until [`FaultProxy::release_held`]
    /// (the upstream has processed them; the client waits): a call kept in flight on cue.
    pub fn hold_responses(&self, matches: impl Fn(&SeenRequest) -> bool + Send + 'static) {
        self.add(Action::Fixed(Fault::Hold), 1, None, matches);
    }

    /// Lets the held answers go.
    pub fn release_held(&self) {
        self.shared.release_held();
    }

    /// How many answers are held right now.
    pub fn held(&self) -> usize {
        lock(&self.shared.held).waiting
    }

    /// Waits until the `n`-th answer (counted from the proxy's start) is held, and returns
    /// while it still is (only [`FaultProxy::release_held`] lets it go). Counting them all keeps
    /// an answer just released, but not gone yet, from passing for the next one. Panics after a
    /// minute (a hang guard, not a timing check: the request never came).
    pub fn wait_until_held(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut held = lock(&self.shared.held);
        while held.total < n {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                panic!("{} answer(s) held after a minute, expected {n}", held.total);
            };
            held = self
                .shared
                .held_changed
                .wait_timeout(held, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// From now on, every request that `matches` meets the faults of `chaos`, drawn from
    /// `seed` (log it: the same seed draws the same faults for the same requests), until
    /// [`FaultProxy::clear_faults`]. Rules added before it act first.
    pub fn chaos(
        &self,
        seed: u64,
        chaos: Chaos,
        matches: impl Fn(&SeenRequest) -> bool + Send + 'static,
    ) {
        self.add(Action::Random(chaos, XorShift::new(seed)), 1, None, matches);
    }

    /// Removes every fault (and lets held answers go): requests go through untouched again.
    pub fn clear_faults(&self) {
        lock(&self.shared.rules).clear();
        self.shared.release_held();
    }

    fn add(
        &self,
        action: Action,
        n: usize,
        remaining: Option<usize>,
        matches: impl Fn(&SeenRequest) -> bool + Send + 'static,
    ) {
        assert!(n >= 1, "requests are counted from 1");
        lock(&self.shared.rules).push(Rule {
            action,
            matches: Box::new(matches),
            skip: n - 1,
            remaining,
        });
    }

    /// Every request seen so far, in the order they were complete.
    pub fn requests(&self) -> Vec<SeenRequest> {
        lock(&self.shared.log).clone()
    }

    /// A position in the log, for [`FaultProxy::requests_since`].
    pub fn mark(&self) -> usize {
        lock(&self.shared.log).len()
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

/// What the answer thread does with the next answer of the upstream.
enum Plan {
    /// An HTTP answer to a request (`head_only`: to a HEAD request, no body).
    Answer {
        fault: Option<Fault>,
        head_only: bool,
    },
    /// Not HTTP we understand: relay everything that comes.
    Raw,
}

/// One client connection: requests are parsed and relayed one by one (clients do not pipeline);
/// answers flow back on their own thread, which learns from a channel what to do with each.
fn serve(client: TcpStream, shared: Arc<Shared>) {
    let upstream = lock(&shared.upstream).clone();
    let Ok(server) = TcpStream::connect(&upstream) else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    let (Ok(to_client), Ok(from_server), Ok(mut to_server), Ok(from_client)) = (
        client.try_clone(),
        server.try_clone(),
        server.try_clone(),
        client.try_clone(),
    ) else {
        return;
    };
    let (plans, planned) = mpsc::channel::<Plan>();
    let answers = {
        let shared = shared.clone();
        std::thread::spawn(move || relay_answers(from_server, to_client, planned, &shared))
    };
    // Whether the connections are to be closed at once (a cut), rather than once the answers
    // in flight have gone back.
    let mut abort = false;
    let mut reader = std::io::BufReader::new(from_client);
    while let Some(head) = read_head(&mut reader) {
        let Some(mut req) = parse_head(&head) else {
            // Not HTTP we understand: relay the rest blindly.
            let _ = plans.send(Plan::Raw);
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
                abort = true;
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
            _ => {
                if let Some(Fault::Delay(delay)) = fault {
                    std::thread::sleep(delay);
                }
                let head_only = req.method.eq_ignore_ascii_case("HEAD");
                if plans.send(Plan::Answer { fault, head_only }).is_err()
                    || to_server.write_all(&head).is_err()
                {
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
                match fault {
                    Some(Fault::Corrupt) if !sent.is_empty() => {
                        let mid = sent.len() / 2;
                        sent[mid] ^= 0xFF;
                    }
                    Some(Fault::CutRequestBody) => sent.truncate(sent.len() / 2),
                    _ => {}
                }
                req.body = body;
                shared.record(req);
                if to_server.write_all(&sent).is_err() {
                    break;
                }
                if fault == Some(Fault::CutRequestBody) {
                    abort = true;
                    break;
                }
            }
        }
    }
    drop(plans);
    if abort {
        let _ = server.shutdown(Shutdown::Both);
        let _ = client.shutdown(Shutdown::Both);
        let _ = answers.join();
    } else {
        // The client is done (or gone): no more requests; the answers in flight still go back.
        let _ = server.shutdown(Shutdown::Write);
        let _ = answers.join();
        let _ = client.shutdown(Shutdown::Both);
        let _ = server.shutdown(Shutdown::Both);
    }
}

/// The answer side of a connection: reads each answer of the upstream whole and relays it, or
/// does its fault to it.
fn relay_answers(
    from_server: TcpStream,
    mut to_client: TcpStream,
    planned: mpsc::Receiver<Plan>,
    shared: &Shared,
) {
    let mut reader = std::io::BufReader::new(from_server);
    let close = |to_client: &TcpStream, reader: &std::io::BufReader<TcpStream>| {
        let _ = to_client.shutdown(Shutdown::Both);
        let _ = reader.get_ref().shutdown(Shutdown::Both);
    };
    while let Ok(plan) = planned.recv() {
        let (fault, head_only) = match plan {
            Plan::Answer { fault, head_only } => (fault, head_only),
            Plan::Raw => {
                let _ = std::io::copy(&mut reader, &mut to_client);
                break;
            }
        };
        let answer = loop {
            match read_answer(&mut reader, head_only) {
                // Interim answers (100 Continue) go straight through.
                Some(a) if a.complete && (100..200).contains(&a.status) && a.status != 101 => {
                    if to_client.write_all(&a.head).is_err() {
                        return close(&to_client, &reader);
                    }
                }
                Some(a) => break a,
                None => return close(&to_client, &reader),
            }
        };
        match fault {
            Some(Fault::DropResponse) => return close(&to_client, &reader),
            Some(Fault::CutResponseBody) => {
                // An answer without a body (204) is cut in its head.
                let wire = [answer.head.as_slice(), answer.body.as_slice()].concat();
                let cut = if answer.body.is_empty() {
                    answer.head.len() / 2
                } else {
                    answer.head.len() + answer.body.len() / 2
                };
                let _ = to_client.write_all(&wire[..cut]);
                let _ = to_client.flush();
                return close(&to_client, &reader);
            }
            Some(Fault::Hold) => shared.hold(),
            _ => {}
        }
        if to_client.write_all(&answer.head).is_err()
            || to_client.write_all(&answer.body).is_err()
            || !answer.complete
        {
            return close(&to_client, &reader);
        }
    }
    let _ = to_client.shutdown(Shutdown::Write);
}

/// One answer of the upstream, as raw bytes.
struct RawAnswer {
    status: u16,
    head: Vec<u8>,
    /// The body as framed on the wire (chunks included).
    body: Vec<u8>,
    /// The upstream sent all of it (else: the connection ended early).
    complete: bool,
}

/// Reads one answer: its head, then its body by `Content-Length`, chunks, or up to the end of
/// the connection. `None` at the end of the stream.
fn read_answer(reader: &mut impl std::io::BufRead, head_only: bool) -> Option<RawAnswer> {
    let head = read_head(reader)?;
    let text = String::from_utf8_lossy(&head);
    let mut lines = text.split('\n').map(|l| l.trim_end_matches('\r'));
    let status: u16 = lines
        .next()?
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())?;
    let mut length = None;
    let mut chunked = false;
    for (name, value) in lines.filter_map(|l| l.split_once(':')) {
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("content-length") {
            length = value.parse::<usize>().ok();
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        }
    }
    let mut body = Vec::new();
    let no_body = head_only || (100..200).contains(&status) || status == 204 || status == 304;
    let complete = if no_body {
        true
    } else if chunked {
        read_chunks(reader, &mut body)
    } else if let Some(len) = length {
        (&mut *reader)
            .take(len as u64)
            .read_to_end(&mut body)
            .is_ok()
            && body.len() == len
    } else {
        // Delimited by the end of the connection.
        reader.read_to_end(&mut body).is_ok()
    };
    Some(RawAnswer {
        status,
        head,
        body,
        complete,
    })
}

/// Copies a chunked body (sizes, data, trailers) into `body`; false if it ended early.
fn read_chunks(reader: &mut impl std::io::BufRead, body: &mut Vec<u8>) -> bool {
    loop {
        let start = body.len();
        match reader.read_until(b'\n', body) {
            Ok(0) | Err(_) => return false,
            Ok(_) => {}
        }
        let line = String::from_utf8_lossy(&body[start..]).to_string();
        let Ok(size) =
            usize::from_str_radix(line.trim().split(';').next().unwrap_or("").trim(), 16)
        else {
            return false;
        };
        if size == 0 {
            // Trailers, up to the empty line.
            loop {
                let start = body.len();
                match reader.read_until(b'\n', body) {
                    Ok(0) | Err(_) => return false,
                    Ok(_) if matches!(&body[start..], b"\r\n" | b"\n") => return true,
                    Ok(_) => {}
                }
            }
        }
        let want = size as u64 + 2;
        match (&mut *reader).take(want).read_to_end(body) {
            Ok(n) if n as u64 == want => {}
            _ => return false,
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chaos_draws_every_fault_at_about_its_rate_and_repeats_for_a_seed() {
        let chaos = Chaos::flaky();
        let draw = |seed| {
            let mut rng = XorShift::new(seed);
            (0..10_000)
                .map(|_| chaos.draw(&mut rng))
                .collect::<Vec<_>>()
        };
        let faults = draw(1);
        assert_eq!(faults, draw(1));
        assert_ne!(faults, draw(2));
        let count = |f: &dyn Fn(&Option<Fault>) -> bool| faults.iter().filter(|x| f(x)).count();
        let cut = count(&|f| *f == Some(Fault::Cut));
        let dropped = count(&|f| *f == Some(Fault::DropResponse));
        let delayed = count(&|f| matches!(f, Some(Fault::Delay(d)) if *d <= chaos.max_delay));
        assert!((400..600).contains(&cut), "{cut}");
        assert!((550..850).contains(&dropped), "{dropped}");
        assert!((1700..2400).contains(&delayed), "{delayed}");
    }

    #[test]
    fn answers_are_read_by_length_chunks_or_to_the_end() {
        let mut input: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n\
            HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc\
            HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n\
            HTTP/1.1 204 No Content\r\n\r\n\
            HTTP/1.1 200 OK\r\n\r\nuntil the end";
        let statuses_and_bodies: Vec<(u16, Vec<u8>, bool)> =
            std::iter::from_fn(|| read_answer(&mut input, false))
                .map(|a| (a.status, a.body, a.complete))
                .collect();
        assert_eq!(
            statuses_and_bodies,
            vec![
                (100, vec![], true),
                (200, b"abc".to_vec(), true),
                (200, b"2\r\nxy\r\n0\r\n\r\n".to_vec(), true),
                (204, vec![], true),
                (200, b"until the end".to_vec(), true),
            ]
        );
        let mut short: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
        let a = read_answer(&mut short, false).unwrap();
        assert!(!a.complete);
        assert_eq!(a.body, b"abc");
    }
}
