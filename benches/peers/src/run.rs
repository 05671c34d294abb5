//! One measured run: a fresh server, N devices pushing their day at once through the counting
//! proxy, then the read-back.

use std::time::{Duration, Instant};

use fieldsync_shared::document::load_document;

use crate::fieldsync::{PushTally, Session};
use crate::repo_protocol::{document_id, DocSync, Goal, Peer};
use crate::servers::{CpuMs, Kind, Programs, Server};
use crate::verify::{self, Verified};
use crate::wire::{Bytes, Proxy};
use crate::workload::Device;

/// The figures of one run.
#[derive(Debug, Clone)]
pub struct Figures {
    pub kind: Kind,
    pub documents: usize,
    pub wall: Duration,
    pub cpu: CpuMs,
    pub peak_rss_mib: f64,
    /// The server's data directory after the run; `None` on PostgreSQL (the cluster's).
    pub disk_bytes: Option<u64>,
    /// The pushes, from the first connection to the last answer.
    pub bytes: Bytes,
    /// Documents refused, failed or not read back with their heads.
    pub errors: usize,
    /// Fieldsync: documents stored with a finding of the server's rules.
    pub with_findings: usize,
    pub verified: Verified,
}

impl Figures {
    pub fn docs_per_s(&self) -> f64 {
        self.documents as f64 / self.wall.as_secs_f64()
    }

    pub fn cpu_ms_per_doc(&self) -> f64 {
        self.cpu.total() / self.documents as f64
    }
}

const PUSH_TIMEOUT: Duration = Duration::from_secs(900);

/// Runs `devices` against a fresh `kind` server; `run` names its database.
pub fn measure(kind: Kind, programs: &Programs, devices: &[Device], run: &str) -> Figures {
    // The peers queue every push until it is done; so does Fieldsync here (its admission
    // control keeps its default number of syncs in flight, and lets the others wait as long as
    // the push timeout instead of answering 503): the same work, measured the same way.
    let env = [
        ("FIELDSYNC_SYNC_MAX_QUEUED", "1000000".to_string()),
        (
            "FIELDSYNC_SYNC_QUEUE_TIMEOUT_MS",
            PUSH_TIMEOUT.as_millis().to_string(),
        ),
    ]
    .map(|(k, v)| (k.to_string(), v));
    let server = Server::start_with_env(kind, programs, run, &env);
    let proxy = Proxy::start(server.addr);
    let documents = devices.iter().map(|d| d.docs.len()).sum();

    let (wall, bytes, cpu, tally) = if kind.is_fieldsync() {
        push_fieldsync(&server, &proxy, devices)
    } else {
        push_repo(&server, &proxy, devices)
    };
    let peak_rss_mib = server.peak_rss_mib();
    let verified = match if kind.is_fieldsync() {
        verify::fieldsync(&proxy, devices)
    } else {
        verify::repo(&proxy, devices)
    } {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{}: read-back failed: {e}", kind.name());
            Verified {
                errors: documents,
                ..Verified::default()
            }
        }
    };
    let disk_bytes = (kind != Kind::FieldsyncPostgres).then(|| server.disk_bytes());
    proxy.stop();
    server.stop();
    Figures {
        kind,
        documents,
        wall,
        cpu,
        peak_rss_mib,
        disk_bytes,
        bytes,
        errors: tally.errors + verified.errors,
        with_findings: tally.with_findings,
        verified,
    }
}

/// Times `push` over every device at once (one thread each), with the wire and CPU figures of
/// that span. CPU is read once the server has settled: work it deferred past its answers
/// counts.
fn timed<S: Send>(
    server: &Server,
    proxy: &Proxy,
    prepared: Vec<S>,
    push: impl Fn(S) -> PushTally + Sync,
) -> (Duration, Bytes, CpuMs, PushTally) {
    let bytes_before = proxy.bytes();
    let cpu_before = server.cpu_ms();
    let start = Instant::now();
    let tallies: Vec<PushTally> = std::thread::scope(|scope| {
        let handles: Vec<_> = prepared
            .into_iter()
            .map(|p| {
                let push = &push;
                std::thread::Builder::new()
                    .stack_size(512 << 10)
                    .spawn_scoped(scope, move || push(p))
                    .expect("device thread")
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("device thread"))
            .collect()
    });
    let wall = start.elapsed();
    let bytes = proxy.bytes().since(bytes_before);
    server.settle();
    let cpu = server.cpu_ms().since(cpu_before);
    let tally = tallies.iter().fold(PushTally::default(), |a, t| PushTally {
        stored: a.stored + t.stored,
        with_findings: a.with_findings + t.with_findings,
        errors: a.errors + t.errors,
    });
    (wall, bytes, cpu, tally)
}

fn push_fieldsync(
    server: &Server,
    proxy: &Proxy,
    devices: &[Device],
) -> (Duration, Bytes, CpuMs, PushTally) {
    // Logging in (an argon2 hash per device) is not part of the sync: done before the clock.
    let sessions: Vec<(Option<Session>, &Device)> = std::thread::scope(|scope| {
        let chunks: Vec<_> = devices
            .chunks(devices.len().div_ceil(8).max(1))
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|d| match Session::for_device(proxy.addr, d) {
                            Ok(s) => (Some(s), d),
                            Err(e) => {
                                eprintln!("fieldsync: {e}");
                                (None, d)
                            }
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        chunks
            .into_iter()
            .flat_map(|h| h.join().expect("login thread"))
            .collect()
    });
    timed(server, proxy, sessions, |(session, device)| match session {
        Some(session) => session.push_day(device),
        None => PushTally {
            errors: device.docs.len(),
            ..PushTally::default()
        },
    })
}

fn push_repo(
    server: &Server,
    proxy: &Proxy,
    devices: &[Device],
) -> (Duration, Bytes, CpuMs, PushTally) {
    // Each phone's replicas, loaded before the clock.
    let replicas: Vec<Vec<DocSync>> = devices
        .iter()
        .map(|device| {
            device
                .docs
                .iter()
                .map(|d| {
                    let doc = load_document(&d.changes.concat()).expect("day loads");
                    DocSync::new(document_id(d.id), doc, d.heads.clone())
                })
                .collect()
        })
        .collect();
    let addr = proxy.addr;
    timed(server, proxy, replicas, |mut docs| {
        let total = docs.len();
        let errors = Peer::connect(addr)
            .and_then(|mut peer| {
                let left = peer.sync_all(&mut docs, Goal::ServerHas, "sync", total, PUSH_TIMEOUT);
                peer.close();
                left
            })
            .unwrap_or_else(|e| {
                eprintln!("{}: {e}", server.kind.name());
                total
            });
        PushTally {
            stored: total - errors,
            with_findings: 0,
            errors,
        }
    })
}
