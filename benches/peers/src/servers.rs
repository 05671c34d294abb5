//! The servers measured, each started as a child process on loopback with a data directory of
//! its own (and, for PostgreSQL, a database of its own), and what /proc says about them.

use std::fs::File;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::workload::USERNAME;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    FieldsyncSqlite,
    FieldsyncPostgres,
    AutomergeRepo,
    Samod,
}

impl Kind {
    pub const ALL: [Kind; 4] = [
        Kind::FieldsyncSqlite,
        Kind::FieldsyncPostgres,
        Kind::AutomergeRepo,
        Kind::Samod,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::FieldsyncSqlite => "fieldsync-sqlite",
            Kind::FieldsyncPostgres => "fieldsync-postgres",
            Kind::AutomergeRepo => "automerge-repo",
            Kind::Samod => "samod",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == s)
    }

    pub fn is_fieldsync(self) -> bool {
        matches!(self, Kind::FieldsyncSqlite | Kind::FieldsyncPostgres)
    }
}

/// Where each server's program is.
#[derive(Debug, Clone)]
pub struct Programs {
    pub fieldsync: PathBuf,
    /// The installed automerge-repo server folder (its `server.mjs` beside `node_modules`).
    pub automerge_repo: Option<PathBuf>,
    pub samod: Option<PathBuf>,
    pub postgres: Option<Postgres>,
}

/// A running PostgreSQL cluster (scripts/with-postgres.sh --start).
#[derive(Debug, Clone)]
pub struct Postgres {
    /// A superuser URL ending in `/postgres`.
    pub url: String,
    /// The cluster's data directory (its `postmaster.pid` names the server process).
    pub data_dir: PathBuf,
    pub psql: PathBuf,
}

impl Postgres {
    /// A new empty database; its URL.
    fn create_database(&self, name: &str) -> String {
        let status = Command::new(&self.psql)
            .arg(&self.url)
            .args(["-q", "-c", &format!("CREATE DATABASE {name}")])
            .status()
            .expect("psql runs");
        assert!(status.success(), "psql could not create database {name}");
        let base = self.url.rsplit_once('/').expect("URL with a database").0;
        format!("{base}/{name}")
    }

    /// utime + stime of the postmaster, its reaped children and its live ones.
    fn cpu_ticks(&self) -> u64 {
        let pid_file = std::fs::read_to_string(self.data_dir.join("postmaster.pid"))
            .expect("postmaster.pid readable");
        let postmaster: u32 = pid_file.lines().next().unwrap().trim().parse().unwrap();
        let mut ticks = proc_stat(postmaster).map_or(0, |s| s.own + s.children);
        for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
                continue;
            };
            if let Some(stat) = proc_stat(pid).filter(|s| s.ppid == postmaster) {
                ticks += stat.own;
            }
        }
        ticks
    }
}

pub struct Server {
    pub kind: Kind,
    pub addr: SocketAddr,
    /// Fieldsync's operations listener (`/metrics`, `/health`).
    pub ops_addr: Option<SocketAddr>,
    /// Fieldsync on PostgreSQL: its database.
    pub database_url: Option<String>,
    /// The running process; a new one after [`Server::kill9_and_restart`].
    child: Mutex<Child>,
    /// Fieldsync: how to start the server again on the same data and addresses.
    respawn: Option<Respawn>,
    postgres: Option<Postgres>,
    /// Data (and logs) of this server; removed when it is dropped.
    dir: TempDir,
}

/// A free loopback port (bound and released; the child binds it moments later).
fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
}

/// A Fieldsync server's command line, to start it again after a kill.
struct Respawn {
    program: PathBuf,
    data_dir: PathBuf,
    database_url: Option<String>,
    env: Vec<(String, String)>,
    addr: SocketAddr,
    ops: SocketAddr,
    logs: PathBuf,
}

impl Respawn {
    /// Starts the server and waits until its health check answers. Logs are appended to, so
    /// every life of the server is in them.
    fn spawn(&self) -> Child {
        let log = |name: &str| {
            File::options()
                .create(true)
                .append(true)
                .open(self.logs.join(name))
                .expect("log file")
        };
        let mut cmd = Command::new(&self.program);
        cmd.arg("--data-dir").arg(&self.data_dir);
        if let Some(url) = &self.database_url {
            cmd.env("DATABASE_URL", url);
        }
        let child = cmd
            .env("FIELDSYNC_LISTEN", self.addr.to_string())
            .env("FIELDSYNC_OPS_LISTEN", self.ops.to_string())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdout(log("server.log"))
            .stderr(log("server.err"))
            .spawn()
            .expect("fieldsync-server starts");
        let health = format!("http://{}/health", self.ops);
        wait_until("fieldsync-server", Duration::from_secs(60), || {
            ureq::get(&health).call().is_ok()
        });
        child
    }
}

fn wait_until(what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(
            start.elapsed() < timeout,
            "{what} did not start within {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Server {
    /// Starts `kind` with an empty store; `run` names its database.
    pub fn start(kind: Kind, programs: &Programs, run: &str) -> Server {
        Server::start_with_env(kind, programs, run, &[])
    }

    /// [`Server::start`] with more environment for the server (Fieldsync's settings).
    pub fn start_with_env(
        kind: Kind,
        programs: &Programs,
        run: &str,
        env: &[(String, String)],
    ) -> Server {
        let dir = tempfile::Builder::new()
            .prefix(&format!("bench-peers-{}-", kind.name()))
            .tempdir()
            .expect("temp dir");
        let addr = free_addr();
        let log = |name: &str| File::create(dir.path().join(name)).expect("log file");
        let (child, postgres, ops_addr, database_url, respawn) = match kind {
            Kind::FieldsyncSqlite | Kind::FieldsyncPostgres => {
                let postgres = (kind == Kind::FieldsyncPostgres).then(|| {
                    programs
                        .postgres
                        .clone()
                        .expect("fieldsync-postgres needs --pg-url, --pg-data and --psql")
                });
                let database_url = postgres
                    .as_ref()
                    .map(|pg| pg.create_database(&format!("bench_peers_{run}")));
                let fieldsync = |args: &[&str]| {
                    let mut cmd = Command::new(&programs.fieldsync);
                    cmd.arg("--data-dir")
                        .arg(dir.path().join("data"))
                        .args(args);
                    if let Some(url) = &database_url {
                        cmd.env("DATABASE_URL", url);
                    }
                    cmd
                };
                let seeded = fieldsync(&["seed-demo"])
                    .stdout(log("seed.log"))
                    .stderr(log("seed.err"))
                    .status()
                    .expect("fieldsync-server runs");
                assert!(
                    seeded.success(),
                    "seed-demo failed ({})",
                    dir.path().display()
                );
                let respawn = Respawn {
                    program: programs.fieldsync.clone(),
                    data_dir: dir.path().join("data"),
                    database_url: database_url.clone(),
                    env: env.to_vec(),
                    addr,
                    ops: free_addr(),
                    logs: dir.path().to_path_buf(),
                };
                let child = respawn.spawn();
                let ops = respawn.ops;
                (child, postgres, Some(ops), database_url, Some(respawn))
            }
            Kind::AutomergeRepo => {
                let folder = programs
                    .automerge_repo
                    .as_ref()
                    .expect("automerge-repo needs --automerge-repo-server");
                let child = Command::new("node")
                    .arg(folder.join("server.mjs"))
                    .arg(addr.to_string())
                    .arg(dir.path().join("data"))
                    .current_dir(folder)
                    .stdout(log("server.log"))
                    .stderr(log("server.err"))
                    .spawn()
                    .expect("node starts");
                wait_until("automerge-repo server", Duration::from_secs(30), || {
                    TcpStream::connect(addr).is_ok()
                });
                (child, None, None, None, None)
            }
            Kind::Samod => {
                let program = programs.samod.as_ref().expect("samod needs --samod-server");
                let child = Command::new(program)
                    .arg(addr.to_string())
                    .arg(dir.path().join("data"))
                    .stdout(log("server.log"))
                    .stderr(log("server.err"))
                    .stdin(Stdio::null())
                    .spawn()
                    .expect("samod server starts");
                wait_until("samod server", Duration::from_secs(30), || {
                    TcpStream::connect(addr).is_ok()
                });
                (child, None, None, None, None)
            }
        };
        Server {
            kind,
            addr,
            ops_addr,
            database_url,
            child: Mutex::new(child),
            respawn,
            postgres,
            dir,
        }
    }

    /// CPU time of the server so far, milliseconds: the server process, and for Fieldsync on
    /// PostgreSQL the database's processes too (the database does part of the server's work).
    pub fn cpu_ms(&self) -> CpuMs {
        let own = proc_stat(self.child().id()).map_or(0, |s| s.own);
        let database = self.postgres.as_ref().map_or(0, |pg| pg.cpu_ticks());
        CpuMs {
            server: ticks_to_ms(own),
            database: ticks_to_ms(database),
        }
    }

    /// Waits until the server has finished work it deferred past its answers (storage writes
    /// behind a debounce): until its CPU time stops growing for half a second, 20 s at most.
    pub fn settle(&self) {
        let start = Instant::now();
        let mut last = self.cpu_ms().total();
        while start.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(500));
            let now = self.cpu_ms().total();
            if now - last < 10.0 {
                return;
            }
            last = now;
        }
    }

    /// Peak resident memory of the server process (VmHWM), MiB.
    pub fn peak_rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child().id()))
            .expect("/proc/<pid>/status");
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM");
        kib / 1024.0
    }

    /// Bytes the server keeps on disk for what it stored (its data directory).
    pub fn disk_bytes(&self) -> u64 {
        dir_size(&self.dir.path().join("data"))
    }

    fn child(&self) -> MutexGuard<'_, Child> {
        self.child.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Fieldsync: SIGKILL (no shutdown, no flush), then the server started again on the same
    /// data and addresses; returns once it answers its health check.
    pub fn kill9_and_restart(&self) {
        let respawn = self
            .respawn
            .as_ref()
            .expect("only a Fieldsync server is restarted");
        let mut child = self.child();
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        *child = respawn.spawn();
    }

    pub fn stop(self) {
        let mut child = self.child.into_inner().unwrap_or_else(|e| e.into_inner());
        // SIGTERM, then wait: every server here exits on it.
        let _ = Command::new("kill").arg(child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// The Fieldsync demo user's password (server/src/demo.rs).
pub fn fieldsync_login() -> (&'static str, &'static str, &'static str) {
    (
        fieldsync_server::demo::DEMO_TENANT,
        USERNAME,
        fieldsync_server::demo::DEMO_PASSWORD,
    )
}

#[derive(Debug, Clone, Copy, Default)]
pub struct CpuMs {
    pub server: f64,
    pub database: f64,
}

impl CpuMs {
    pub fn total(self) -> f64 {
        self.server + self.database
    }

    pub fn since(self, before: CpuMs) -> CpuMs {
        CpuMs {
            server: self.server - before.server,
            database: self.database - before.database,
        }
    }
}

struct ProcStat {
    ppid: u32,
    /// utime + stime, clock ticks.
    own: u64,
    /// cutime + cstime: reaped children.
    children: u64,
}

fn proc_stat(pid: u32) -> Option<ProcStat> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: fields start after the last ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
    Some(ProcStat {
        ppid: field(4)? as u32,
        own: field(14)? + field(15)?,
        children: field(16)? + field(17)?,
    })
}

/// Clock ticks to milliseconds (USER_HZ is 100 on Linux).
fn ticks_to_ms(ticks: u64) -> f64 {
    ticks as f64 * 10.0
}

fn dir_size(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}
