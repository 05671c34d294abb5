//! Live push (docs/live-push.md): `GET /v1/live` against a real server, read raw as a browser
//! would and through the device SDK's background sync. A supervisor's approval reaches the
//! rep's background-synced device without `sync_now`; a rep never hears of a visit outside its
//! read scope; a cut stream resumes from its last event id with nothing missed; revocation and
//! token expiry end the stream; a write on one instance reaches a stream on another sharing
//! the PostgreSQL database; the per-user limit refuses one stream too many; streams leave the
//! connection cap to requests; `fieldsync watch` prints each change as it arrives.
//!
//! Timing is never asserted: every wait polls with a generous deadline.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use fieldsync_client::{
    BackgroundSync, LiveEvent, SyncObserver, SyncSchedule, SyncState, VisitStatus,
};
use fieldsync_e2e::process::{PgDatabase, ServerProcess};
use fieldsync_e2e::{http, workspace_binary, TestDevice, TestServer};
use fieldsync_server::config::Secret;
use fieldsync_shared::{DocId, Timestamp};

use crate::write_policies::{first_store, submitted_visit};

/// Long enough for a loaded machine; waits end as soon as the condition holds.
const DEADLINE: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------------------------
// A raw SSE client.

/// One event as read off the wire.
#[derive(Debug, Clone)]
struct Frame {
    event: String,
    id: Option<i64>,
    data: serde_json::Value,
}

impl Frame {
    /// The document ids a `changes` event names as changed.
    fn changed(&self) -> BTreeSet<String> {
        self.data["changed"]
            .as_array()
            .map(|docs| {
                docs.iter()
                    .filter_map(|d| d["doc_id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A live stream read on a thread of its own; every frame is kept.
struct Stream {
    frames: mpsc::Receiver<Frame>,
    seen: Vec<Frame>,
}

/// Where a stream starts.
#[derive(Debug, Clone, Copy)]
enum Start {
    Now,
    /// After this event id (`Last-Event-ID`, as a browser resumes).
    LastEventId(i64),
    /// After this feed position (`?after=`, as a device resumes from its pull cursor).
    After(i64),
}

/// Opens `GET {url}/v1/live` with `token` from `from`. `Err(status)` when the server refuses
/// it.
fn open(url: &str, token: &str, from: Start) -> Result<Stream, u16> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(None)
        .build()
        .into();
    let path = match from {
        Start::After(seq) => format!("{url}/v1/live?after={seq}"),
        Start::Now | Start::LastEventId(_) => format!("{url}/v1/live"),
    };
    let mut req = agent
        .get(&path)
        .header("Authorization", &format!("Bearer {token}"))
        .header("Accept", "text/event-stream");
    if let Start::LastEventId(id) = from {
        req = req.header("Last-Event-ID", &id.to_string());
    }
    let resp = req.call().expect("GET /v1/live");
    let status = resp.status().as_u16();
    if status != 200 {
        return Err(status);
    }
    let reader = resp.into_body().into_reader();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || read_frames(reader, tx));
    Ok(Stream {
        frames: rx,
        seen: Vec::new(),
    })
}

fn read_frames(reader: impl Read, tx: mpsc::Sender<Frame>) {
    let mut lines = BufReader::new(reader).lines();
    let (mut event, mut id, mut data) = (String::new(), None, String::new());
    while let Some(Ok(line)) = lines.next() {
        if line.is_empty() {
            if !event.is_empty() {
                let frame = Frame {
                    event: std::mem::take(&mut event),
                    id: id.take(),
                    data: serde_json::from_str(&data).expect("event data is JSON"),
                };
                if tx.send(frame).is_err() {
                    return;
                }
            }
            data.clear();
        } else if let Some(v) = line.strip_prefix("event: ") {
            event = v.to_string();
        } else if let Some(v) = line.strip_prefix("id: ") {
            id = Some(v.parse().expect("ids are feed positions"));
        } else if let Some(v) = line.strip_prefix("data: ") {
            data.push_str(v);
        }
    }
    let _ = tx.send(Frame {
        event: "eof".into(),
        id: None,
        data: serde_json::Value::Null,
    });
}

impl Stream {
    /// Reads frames until one satisfies `done`; returns it. Panics after the deadline.
    fn until(&mut self, what: &str, done: impl Fn(&Frame) -> bool) -> Frame {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline
                .checked_duration_since(Instant::now())
                .unwrap_or_else(|| panic!("no {what}; frames so far: {:?}", self.seen));
            let frame = self
                .frames
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no {what}; frames so far: {:?}", self.seen));
            self.seen.push(frame.clone());
            if done(&frame) {
                return frame;
            }
            assert_ne!(frame.event, "eof", "the stream ended before {what}");
        }
    }

    /// Waits for `ready`; returns its cursor.
    fn ready(&mut self) -> i64 {
        let frame = self.until("ready", |f| f.event == "ready");
        frame.data["cursor"].as_i64().expect("cursor")
    }

    /// Waits until a `changes` event named `doc`.
    fn hears_of(&mut self, doc: DocId) -> Frame {
        let id = doc.to_string();
        self.until(&format!("a change of {doc}"), |f| {
            f.event == "changes" && f.changed().contains(&id)
        })
    }

    /// Every document named as changed so far.
    fn heard(&self) -> BTreeSet<String> {
        self.seen.iter().flat_map(Frame::changed).collect()
    }
}

/// A TCP relay whose connections the test can cut at once (a phone losing its network).
struct CutRelay {
    url: String,
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl CutRelay {
    fn start(upstream: &str) -> CutRelay {
        let upstream = upstream.trim_start_matches("http://").to_string();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind relay");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let open: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let sockets = open.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                let mut list = sockets.lock().unwrap();
                list.push(client.try_clone().expect("clone"));
                list.push(server.try_clone().expect("clone"));
                drop(list);
                pipe(
                    client.try_clone().expect("clone"),
                    server.try_clone().expect("clone"),
                );
                pipe(server, client);
            }
        });
        CutRelay { url, open }
    }

    /// Cuts every connection open through the relay.
    fn cut(&self) {
        for socket in self.open.lock().unwrap().drain(..) {
            let _ = socket.shutdown(Shutdown::Both);
        }
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 || to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Both);
    });
}

// ---------------------------------------------------------------------------------------------
// Helpers.

/// Runs `test` against a server on SQLite, or on a fresh PostgreSQL database of the test
/// server `scripts/with-postgres.sh` starts (failing without it).
fn on(
    postgres: bool,
    configure: impl FnOnce(&mut fieldsync_server::config::Config),
) -> (TestServer, Option<PgDatabase>) {
    let db = postgres.then(PgDatabase::create);
    let server = TestServer::start_with(|c| {
        if let Some(db) = &db {
            c.database_url = Some(Secret::new(db.url()));
        }
        configure(c);
    });
    (server, db)
}

/// Waits until `f` holds; panics with `what` after the deadline.
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !f() {
        assert!(Instant::now() < deadline, "waited in vain for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Records the background sync's states and the live events.
#[derive(Default)]
struct Recorder {
    states: Mutex<Vec<SyncState>>,
    live: Mutex<Vec<LiveEvent>>,
}

impl SyncObserver for Recorder {
    fn on_state(&self, state: &SyncState) {
        self.states.lock().unwrap().push(state.clone());
    }

    fn on_live(&self, event: &LiveEvent) {
        self.live.lock().unwrap().push(event.clone());
    }
}

impl Recorder {
    fn ready(&self) -> bool {
        self.live
            .lock()
            .unwrap()
            .iter()
            .any(|e| matches!(e, LiveEvent::Ready { .. }))
    }

    fn heard_of(&self, doc: DocId) -> bool {
        self.live.lock().unwrap().iter().any(|e| match e {
            LiveEvent::Changes { changed, .. } => changed.iter().any(|c| c.doc_id == doc),
            _ => false,
        })
    }
}

/// Only when asked (never, in these tests) and on the live stream's request.
fn no_schedule() -> SyncSchedule {
    SyncSchedule {
        interval: None,
        min_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(500),
    }
}

// ---------------------------------------------------------------------------------------------
// Tests.

#[test]
fn an_approval_reaches_the_reps_background_synced_device_without_sync_now() {
    approval_reaches_the_rep(false);
}

#[test]
fn an_approval_reaches_the_reps_background_synced_device_without_sync_now_postgres() {
    approval_reaches_the_rep(true);
}

fn approval_reaches_the_rep(postgres: bool) {
    let (server, _db) = on(postgres, |_| {});
    let rep = TestDevice::login(&server, "rep1");
    let sup = TestDevice::login(&server, "sup1");
    let visit = submitted_visit(&rep, &first_store(&rep));
    rep.sync().expect("the rep syncs the submitted visit");
    sup.sync().expect("the supervisor pulls it");

    let TestDevice { device, dir: _dir } = rep;
    let rep = Arc::new(device);
    let recorder = Arc::new(Recorder::default());
    let background = BackgroundSync::start_live(rep.clone(), no_schedule(), recorder.clone());
    eventually("the rep's live stream", || recorder.ready());

    sup.approve_visit(visit, Some("Good shelf work"))
        .expect("the supervisor approves");
    sup.sync().expect("the supervisor syncs the approval");

    // No sync_now, no schedule: only the live stream can make the rep's device pull.
    eventually(
        "the approval on the rep's device",
        || matches!(rep.visit(visit), Ok(v) if v.status == VisitStatus::Approved),
    );
    assert!(recorder.heard_of(visit), "the live event named the visit");
    let review = rep.visit(visit).unwrap().review.expect("the review");
    assert_eq!(
        review.comment.as_ref().map(|c| c.as_str()),
        Some("Good shelf work")
    );
    background.stop();
}

#[test]
fn a_rep_never_hears_of_a_visit_outside_its_read_scope() {
    let (server, _db) = on(false, |_| {});
    let rep1 = TestDevice::login(&server, "rep1");
    let rep2 = TestDevice::login(&server, "rep2");
    let mut rep2_stream =
        open(&server.url, &server.token("rep2"), Start::Now).expect("rep2's stream");
    let mut sup_stream =
        open(&server.url, &server.token("sup1"), Start::Now).expect("sup1's stream");
    rep2_stream.ready();
    sup_stream.ready();

    // rep1's visit at an NKA store: its supervisor hears of it, rep2 (LKA, OTH) must not.
    let nka = rep1
        .start_visit(first_store(&rep1).id, Timestamp::now().utc_date())
        .expect("rep1's NKA visit");
    rep1.sync().expect("rep1 syncs");
    sup_stream.hears_of(nka);

    // A later write rep2 may see: once rep2 hears of it, its stream has read past the NKA one.
    let lka = rep2
        .store_by_code("LKA-001")
        .expect("an LKA store of rep2's");
    let own = rep2
        .start_visit(lka.id, Timestamp::now().utc_date())
        .expect("rep2's visit");
    rep2.sync().expect("rep2 syncs");
    rep2_stream.hears_of(own);
    assert!(
        !rep2_stream.heard().contains(&nka.to_string()),
        "rep2 heard of rep1's NKA visit: {:?}",
        rep2_stream.seen
    );
}

#[test]
fn a_cut_stream_resumes_from_its_last_event_id_with_nothing_missed() {
    let (server, _db) = on(false, |_| {});
    let rep1 = TestDevice::login(&server, "rep1");
    let relay = CutRelay::start(&server.url);
    let token = server.token("sup1");
    let mut stream = open(&relay.url, &token, Start::Now).expect("the stream");
    let cursor = stream.ready();
    let store = first_store(&rep1);
    let first = rep1
        .start_visit(store.id, Timestamp::now().utc_date())
        .expect("a visit");
    rep1.sync().expect("sync");
    let heard = stream.hears_of(first);
    let last_id = heard.id.expect("change events carry the feed position");
    assert!(last_id > cursor);

    // The phone loses its network; meanwhile two more visits are written.
    relay.cut();
    stream.until("the end of the cut stream", |f| f.event == "eof");
    let missed: Vec<DocId> = (0..2)
        .map(|_| {
            let id = rep1
                .start_visit(store.id, Timestamp::now().utc_date())
                .expect("a visit");
            rep1.sync().expect("sync");
            id
        })
        .collect();

    // Back online: resuming after the last event id announces both, and not the first again.
    let mut resumed =
        open(&server.url, &token, Start::LastEventId(last_id)).expect("the resumed stream");
    resumed.ready();
    let heard = resumed.heard();
    for id in &missed {
        assert!(
            heard.contains(&id.to_string()),
            "{id} missed: {:?}",
            resumed.seen
        );
    }
    assert!(!heard.contains(&first.to_string()), "{:?}", resumed.seen);

    // `?after=` resumes the same way (a device passes its pull cursor): all three.
    let mut from_cursor = open(&server.url, &token, Start::After(cursor)).expect("the stream");
    from_cursor.ready();
    let heard = from_cursor.heard();
    for id in missed.iter().chain([&first]) {
        assert!(
            heard.contains(&id.to_string()),
            "{id} missed: {:?}",
            from_cursor.seen
        );
    }
}

#[test]
fn revoking_the_device_ends_its_stream() {
    let (server, _db) = on(false, |c| c.live.revalidate_secs = 1);
    let rep = server.device_token("rep1");
    let admin = server.token("admin");
    let mut stream = open(&server.url, &rep.token, Start::Now).expect("the stream");
    stream.ready();
    assert_eq!(server.metric("live_streams"), 1.0);
    let mut resp = http()
        .post(&format!(
            "{}/v1/admin/devices/{}/revoke",
            server.url, rep.device_id
        ))
        .header("Authorization", &format!("Bearer {admin}"))
        .send_empty()
        .expect("revoke");
    let status = resp.status().as_u16();
    let body = resp.body_mut().read_to_string().unwrap_or_default();
    assert!(status == 200 || status == 204, "revoke: {status} {body}");
    let end = stream.until("the end event", |f| f.event == "end");
    assert_eq!(end.data["reason"], "unauthorized", "{end:?}");
    stream.until("the end of the stream", |f| f.event == "eof");
    eventually("the stream closed on the server", || {
        server.metric("live_streams") == 0.0
    });
    // And the token opens no new one.
    assert_eq!(open(&server.url, &rep.token, Start::Now).err(), Some(401));
}

#[test]
fn the_stream_ends_when_the_access_token_expires() {
    let (server, _db) = on(false, |c| c.token_ttl_secs = 8);
    let token = server.token("rep1");
    let mut stream = open(&server.url, &token, Start::Now).expect("the stream");
    stream.ready();
    let end = stream.until("the end event", |f| f.event == "end");
    assert_eq!(end.data["reason"], "token_expired", "{end:?}");
    stream.until("the end of the stream", |f| f.event == "eof");
}

#[test]
fn one_stream_too_many_for_a_user_is_refused() {
    let (server, _db) = on(false, |c| c.live.max_streams_per_user = 1);
    let mut first = open(&server.url, &server.token("rep1"), Start::Now).expect("the first stream");
    first.ready();
    assert_eq!(
        open(&server.url, &server.token("rep1"), Start::Now).err(),
        Some(429),
        "a second device of the same user"
    );
    // Another user is not affected.
    open(&server.url, &server.token("rep2"), Start::Now)
        .expect("rep2's stream")
        .ready();
}

#[test]
fn fieldsync_watch_prints_each_change_as_it_arrives() {
    let (server, _db) = on(false, |_| {});
    let dir = tempfile::tempdir().expect("temp dir");
    let cli = workspace_binary("fieldsync");
    let login = Command::new(&cli)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["login", "--server", &server.url, "--tenant", "demo"])
        .args(["--username", "rep1", "--password", "demo1234"])
        .output()
        .expect("fieldsync login");
    assert!(login.status.success(), "{login:?}");
    let mut watch = Command::new(&cli)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--json", "watch", "--count", "1"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("fieldsync watch");
    let (tx, lines) = mpsc::channel();
    let stdout = watch.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let next_line = |what: &str| {
        lines
            .recv_timeout(DEADLINE)
            .unwrap_or_else(|_| panic!("fieldsync watch printed no {what}"))
    };
    while !next_line("ready").contains("\"event\":\"ready\"") {}

    // Another phone of the same rep records a visit: the watching one prints it and pulls it.
    let phone = TestDevice::login(&server, "rep1");
    let visit = phone
        .start_visit(first_store(&phone).id, Timestamp::now().utc_date())
        .expect("a visit");
    phone.sync().expect("sync");
    loop {
        let line = next_line("change");
        let event: serde_json::Value = serde_json::from_str(&line).expect("one JSON object a line");
        if event["event"] == "changes" {
            assert_eq!(event["changed"][0]["doc_id"], visit.to_string(), "{line}");
            break;
        }
    }
    let status = watch
        .wait()
        .expect("fieldsync watch ends after --count changes");
    assert!(status.success(), "{status:?}");
}

#[test]
fn streams_leave_the_connection_cap_to_requests() {
    let (server, _db) = on(false, |c| c.connections.max_connections = 3);
    let tokens: Vec<String> = ["rep1", "rep2", "sup1", "merch1", "mgr1"]
        .iter()
        .map(|user| server.token(user))
        .collect();
    // The logins' connections are closed by now; each stream gives its place back.
    let mut streams: Vec<Stream> = tokens
        .iter()
        .map(|token| open(&server.url, token, Start::Now).expect("a stream"))
        .collect();
    for stream in &mut streams {
        stream.ready();
    }
    assert_eq!(server.metric("live_streams"), 5.0);
    // Five streams over a connection cap of three, and requests still get in.
    for _ in 0..3 {
        let status = http()
            .get(&format!("{}/health", server.url))
            .call()
            .map(|r| r.status().as_u16())
            .unwrap_or(0);
        assert_eq!(status, 200);
    }
}

#[test]
fn a_write_on_one_instance_reaches_a_stream_on_another() {
    let db = PgDatabase::create();
    let root = tempfile::tempdir().expect("temp dir");
    let secret = "k".repeat(48);
    let env = [
        ("DATABASE_URL", db.url()),
        ("FIELDSYNC_JWT_SECRET", secret.as_str()),
    ];
    let a = ServerProcess::start(&env, &root.path().join("a"));
    let b = ServerProcess::start(&env, &root.path().join("b"));
    let mut on_b = open(&b.url, &b.token("sup1"), Start::Now).expect("a stream on instance B");
    on_b.ready();
    let rep = TestDevice::login_via(&a.url, "rep1");
    let visit = rep
        .start_visit(first_store(&rep).id, Timestamp::now().utc_date())
        .expect("a visit");
    rep.sync().expect("the rep syncs with instance A");
    on_b.hears_of(visit);
}
