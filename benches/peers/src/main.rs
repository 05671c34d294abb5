//! Fieldsync measured side by side with its peers on one workload (docs/performance.md, "Side
//! by side with peers"): Fieldsync on SQLite and on PostgreSQL, the automerge-repo sync server
//! (Node) and samod (Rust), each fed the same Automerge change bytes by N devices at once, each
//! read back afterwards; and Automerge alone in this process as the ceiling.
//!
//! Run through `scripts/bench-peers.sh`, which installs and builds the servers and passes their
//! paths. Prints Markdown tables; asserts nothing about speed.

use std::path::PathBuf;

use clap::Parser;

use fieldsync_bench_peers::servers::{Kind, Postgres, Programs};
use fieldsync_bench_peers::{ceiling, report, run, workload};

#[derive(Parser)]
#[command(about = "Fieldsync side by side with automerge-repo and samod")]
struct Args {
    /// Devices pushing at once, one run per value.
    #[arg(long, value_delimiter = ',', default_value = "20,100,500")]
    devices: Vec<usize>,
    /// A few seconds: 2 devices per server, and the no-op sync over their documents.
    #[arg(long)]
    smoke: bool,
    /// Servers to measure (fieldsync-sqlite, fieldsync-postgres, automerge-repo, samod).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "fieldsync-sqlite,fieldsync-postgres,automerge-repo,samod"
    )]
    servers: Vec<String>,
    /// The fieldsync-server binary.
    #[arg(long)]
    fieldsync_server: PathBuf,
    /// The installed automerge-repo server folder (server.mjs beside node_modules).
    #[arg(long)]
    automerge_repo_server: Option<PathBuf>,
    /// The samod server binary (benches/peers/samod-server).
    #[arg(long)]
    samod_server: Option<PathBuf>,
    /// PostgreSQL superuser URL (ending in /postgres), for fieldsync-postgres.
    #[arg(long)]
    pg_url: Option<String>,
    /// The cluster's data directory (postmaster.pid: its CPU is counted as the server's).
    #[arg(long)]
    pg_data: Option<PathBuf>,
    /// psql, to create a database per run.
    #[arg(long, default_value = "psql")]
    psql: PathBuf,
    /// Devices of the wire run: a no-op sync over their documents (29 days: 1,015 documents).
    #[arg(long, default_value_t = 29)]
    wire_devices: usize,
}

fn main() {
    let args = Args::parse();
    let kinds: Vec<Kind> = args
        .servers
        .iter()
        .map(|s| Kind::parse(s).unwrap_or_else(|| panic!("unknown server {s:?}")))
        .collect();
    let postgres = match (&args.pg_url, &args.pg_data) {
        (Some(url), Some(data_dir)) => Some(Postgres {
            url: url.clone(),
            data_dir: data_dir.clone(),
            psql: args.psql.clone(),
        }),
        _ => None,
    };
    let programs = Programs {
        fieldsync: args.fieldsync_server.clone(),
        automerge_repo: args.automerge_repo_server.clone(),
        samod: args.samod_server.clone(),
        postgres,
    };
    let (concurrency, wire_devices) = if args.smoke {
        (vec![2], 2)
    } else {
        (args.devices.clone(), args.wire_devices)
    };

    report::machine();
    let mut runs = Vec::new();
    for (i, &n) in concurrency.iter().enumerate() {
        let devices = workload::generate(n);
        let mut figures = Vec::new();
        for &kind in &kinds {
            eprintln!("==> {} with {n} devices", kind.name());
            figures.push(run::measure(kind, &programs, &devices, &format!("{i}_{n}")));
        }
        let ceiling = ceiling::cpu_ms_per_doc(&devices);
        report::concurrency(&devices, &figures, ceiling);
        runs.push(figures);
    }

    let devices = workload::generate(wire_devices);
    let mut figures = Vec::new();
    for &kind in &kinds {
        eprintln!("==> {} wire run, {wire_devices} devices", kind.name());
        figures.push(run::measure(kind, &programs, &devices, "wire"));
    }
    report::wire(&devices, &figures);

    let errors: usize = runs
        .iter()
        .flatten()
        .chain(&figures)
        .map(|f| f.errors)
        .sum();
    if errors > 0 {
        eprintln!("{errors} documents were not stored with their heads");
        std::process::exit(1);
    }
}
