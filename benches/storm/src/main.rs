//! The morning storm (docs/performance.md, "Morning storm"): N devices of the device SDK, in
//! this one process, each with its own user, installation, store and cursor, push their day
//! and pull within a window, against one Fieldsync server on SQLite and on PostgreSQL. A device
//! whose sync fails tries again as the app's background sync does (after 2 s, doubling up to
//! 5 min, jittered) until its day is acknowledged, at most ten minutes past the window. Prints
//! the time from a device's first sync to its day acknowledged (p50, p99, max), the syncs that
//! failed, errors, the server's 503s, peak RSS and CPU, the database's size and what saturated
//! first. Afterwards a new installation of the admin pulls everything
//! and must find every head the devices had acknowledged. Asserts nothing about speed; exits
//! non-zero when a device did not finish (its day not acknowledged) or an acknowledged head is
//! missing.
//!
//! `--kills N` makes it a crash loop (docs/reliability.md, "Crash loops"): the server is killed
//! with SIGKILL N times during the window and started again on the same data, and the report
//! counts acknowledged changes lost.
//!
//! Run through `scripts/bench-storm.sh`, which builds the server and starts PostgreSQL.

mod fleet;
mod sampler;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use fieldsync_bench_peers::servers::{Kind, Postgres, Programs, Server};

#[derive(Parser)]
#[command(about = "Many devices of the device SDK syncing their day within a window")]
struct Args {
    /// Devices, each its own user and installation.
    #[arg(long, default_value_t = 2000)]
    devices: usize,
    /// Seconds over which the devices' syncs start, evenly spread.
    #[arg(long, default_value_t = 60)]
    window_secs: u64,
    /// A few seconds: 20 devices within 5 s.
    #[arg(long)]
    smoke: bool,
    /// Servers to storm (fieldsync-sqlite, fieldsync-postgres).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "fieldsync-sqlite,fieldsync-postgres"
    )]
    servers: Vec<String>,
    /// Server settings for the run, `NAME=VALUE` (e.g. `FIELDSYNC_SYNC_MAX_IN_FLIGHT=8`).
    #[arg(long = "server-env")]
    server_env: Vec<String>,
    /// Kill the server with SIGKILL this many times during the window (each about
    /// window/kills after the last restart, give or take half) and start it again.
    #[arg(long, default_value_t = 0)]
    kills: usize,
    /// The fieldsync-server binary.
    #[arg(long)]
    fieldsync_server: PathBuf,
    /// PostgreSQL superuser URL (ending in /postgres), for fieldsync-postgres.
    #[arg(long)]
    pg_url: Option<String>,
    /// The cluster's data directory (its processes' CPU is counted as the database's).
    #[arg(long)]
    pg_data: Option<PathBuf>,
    /// psql, to create a database per run and measure it.
    #[arg(long, default_value = "psql")]
    psql: PathBuf,
}

/// The figures of one storm.
struct Figures {
    kind: Kind,
    devices: usize,
    window: Duration,
    wall: Duration,
    latencies: Vec<Duration>,
    errors: usize,
    refused: f64,
    peak_rss_mib: f64,
    database_mib: f64,
    load: sampler::Load,
    /// SIGKILLs of the server during the storm.
    kills: usize,
    /// Syncs that failed and were tried again, by reason.
    failed: BTreeMap<String, usize>,
    /// Acknowledged heads checked on the server afterwards, and those it lacked.
    checked: usize,
    lost: Vec<String>,
}

fn main() {
    let args = Args::parse();
    let (devices, window) = if args.smoke {
        (20, Duration::from_secs(5))
    } else {
        (args.devices, Duration::from_secs(args.window_secs))
    };
    let env: Vec<(String, String)> = args
        .server_env
        .iter()
        .map(|kv| {
            let (k, v) = kv
                .split_once('=')
                .unwrap_or_else(|| panic!("--server-env {kv:?}: NAME=VALUE"));
            (k.to_string(), v.to_string())
        })
        .collect();
    let programs = Programs {
        fieldsync: args.fieldsync_server.clone(),
        automerge_repo: None,
        samod: None,
        postgres: match (&args.pg_url, &args.pg_data) {
            (Some(url), Some(data_dir)) => Some(Postgres {
                url: url.clone(),
                data_dir: data_dir.clone(),
                psql: args.psql.clone(),
            }),
            _ => None,
        },
    };

    let mut all = Vec::new();
    for name in &args.servers {
        let kind = Kind::parse(name)
            .filter(|k| k.is_fieldsync())
            .unwrap_or_else(|| panic!("not a Fieldsync server: {name:?}"));
        eprintln!("==> {name}: {devices} devices within {window:?}");
        all.push(run(
            kind,
            &programs,
            &env,
            (devices, window, args.kills),
            &args.psql,
        ));
    }
    if args.kills > 0 {
        print_crash_report(&all);
    } else {
        print_report(&all, &env);
    }
    let errors: usize = all.iter().map(|f| f.errors).sum();
    let lost: usize = all.iter().map(|f| f.lost.len()).sum();
    let short: Vec<&str> = all
        .iter()
        .filter(|f| f.kills < args.kills)
        .map(|f| f.kind.name())
        .collect();
    if errors > 0 {
        eprintln!("{errors} devices did not finish their sync");
    }
    if lost > 0 {
        eprintln!("{lost} acknowledged heads are missing on the server");
    }
    if !short.is_empty() {
        eprintln!(
            "the devices finished before {} kills on {}: lengthen --window-secs",
            args.kills,
            short.join(", ")
        );
    }
    if errors > 0 || lost > 0 || !short.is_empty() {
        std::process::exit(1);
    }
}

/// Kills the server about every `window / kills` (half to one and a half of it, counted from
/// the last restart) until `kills` are done or `stop` is set; the kills done.
fn killer(server: &Server, kills: usize, window: Duration, stop: &AtomicBool) -> usize {
    let every = window / kills.max(1) as u32;
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for done in 0..kills {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let at = Instant::now() + every.mul_f64(0.5 + (seed % 1000) as f64 / 1000.0);
        while Instant::now() < at {
            if stop.load(Ordering::Acquire) {
                return done;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        server.kill9_and_restart();
    }
    kills
}

fn run(
    kind: Kind,
    programs: &Programs,
    env: &[(String, String)],
    (devices, window, kills): (usize, Duration, usize),
    psql: &PathBuf,
) -> Figures {
    let run_name = format!("storm_{devices}_{}", std::process::id());
    let server = Server::start_with_env(kind, programs, &run_name, env);
    let url = format!("http://{}", server.addr);
    let root = tempfile::Builder::new()
        .prefix("bench-storm-devices-")
        .tempdir()
        .expect("temp dir");
    let prepared_at = Instant::now();
    let prepared = fleet::prepare(&url, root.path(), devices).expect("devices prepared");
    eprintln!("    prepared in {:.1?}", prepared_at.elapsed());
    server.settle();

    let stop = AtomicBool::new(false);
    let started = Instant::now();
    // A device keeps trying for the window and ten minutes more.
    let give_up = started + window + Duration::from_secs(600);
    let (outcomes, load, kills_done) = std::thread::scope(|scope| {
        let sampler = scope.spawn(|| sampler::sample(&server, &stop));
        let killer = scope.spawn(|| killer(&server, kills, window, &stop));
        let outcomes = fleet::storm(&prepared, window, give_up);
        stop.store(true, Ordering::Release);
        (
            outcomes,
            sampler.join().expect("sampler"),
            killer.join().expect("killer"),
        )
    });
    let wall = started.elapsed();
    let mut errors = 0;
    let mut failed: BTreeMap<String, usize> = BTreeMap::new();
    for (i, o) in outcomes.iter().enumerate() {
        for (reason, n) in &o.failed {
            *failed.entry(reason.clone()).or_default() += n;
        }
        if let Some(e) = &o.error {
            errors += 1;
            if errors <= 10 {
                eprintln!("    device {i}: {e}");
            }
        }
    }
    let mut latencies: Vec<Duration> = outcomes.iter().map(|o| o.latency).collect();
    latencies.sort();
    let refused = server.ops_addr.map_or(0.0, |ops| {
        sampler::series(&sampler::metrics(ops), "sync_requests_refused_total")
    });
    server.settle();
    // Before the read-back, which is no part of the storm.
    let peak_rss_mib = server.peak_rss_mib();
    let database_mib = database_bytes(&server, psql) as f64 / (1 << 20) as f64;
    let verified_at = Instant::now();
    let (checked, lost) = fleet::verify(&url, root.path(), &outcomes).expect("verification");
    eprintln!(
        "    {checked} acknowledged heads read back in {:.1?}, {} missing",
        verified_at.elapsed(),
        lost.len()
    );
    for missing in lost.iter().take(10) {
        eprintln!("    missing: {missing}");
    }
    let figures = Figures {
        kind,
        devices,
        window,
        wall,
        latencies,
        errors,
        refused,
        peak_rss_mib,
        database_mib,
        load,
        kills: kills_done,
        failed,
        checked,
        lost,
    };
    server.stop();
    figures
}

/// The database's size: the SQLite files, or PostgreSQL's `pg_database_size`.
fn database_bytes(server: &Server, psql: &PathBuf) -> u64 {
    match &server.database_url {
        Some(url) => std::process::Command::new(psql)
            .arg(url)
            .args(["-Atc", "SELECT pg_database_size(current_database())"])
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0),
        None => server.disk_bytes(),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn print_report(all: &[Figures], env: &[(String, String)]) {
    println!("\n## Morning storm\n");
    if !env.is_empty() {
        let settings: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!("Server settings: {}\n", settings.join(" "));
    }
    println!(
        "| server | devices | window | wall | p50 | p99 | max | errors | syncs failed, tried again | 503s | peak in flight / queued | server CPU | database CPU | peak RSS | database |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for f in all {
        println!(
            "| {} | {} | {} s | {:.1} s | {} ms | {} ms | {} ms | {} | {} | {:.0} | {:.0} / {:.0} | {:.1} s | {:.1} s | {:.0} MiB | {:.1} MiB |",
            f.kind.name(),
            f.devices,
            f.window.as_secs(),
            f.wall.as_secs_f64(),
            percentile(&f.latencies, 50.0).as_millis(),
            percentile(&f.latencies, 99.0).as_millis(),
            f.latencies.last().copied().unwrap_or_default().as_millis(),
            f.errors,
            failed_syncs(&f.failed),
            f.refused,
            f.load.peak_in_flight,
            f.load.peak_queued,
            f.load.cpu.server / 1000.0,
            f.load.cpu.database / 1000.0,
            f.peak_rss_mib,
            f.database_mib,
        );
    }
    println!();
    for f in all {
        println!(
            "- {}: saturated first: {}. Read back by a new installation: {} acknowledged heads, {} missing.",
            f.kind.name(),
            f.load.saturated_first(f.refused),
            f.checked,
            f.lost.len(),
        );
    }
}

/// Failed syncs by reason, in a table cell.
fn failed_syncs(failed: &BTreeMap<String, usize>) -> String {
    if failed.is_empty() {
        return "none".to_string();
    }
    let each: Vec<String> = failed.iter().map(|(r, n)| format!("{r} {n}")).collect();
    each.join(", ")
}

/// The crash loop's figures: the server's CPU and memory restart with every life, so only
/// what survived is reported.
fn print_crash_report(all: &[Figures]) {
    println!("\n## Morning storm through SIGKILLs\n");
    println!(
        "| server | devices | window | kills | wall | failed syncs, tried again | devices finished | p50 / p99 to acknowledged | acknowledged heads checked | lost |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for f in all {
        println!(
            "| {} | {} | {} s | {} | {:.1} s | {} | {} | {} / {} ms | {} | {} |",
            f.kind.name(),
            f.devices,
            f.window.as_secs(),
            f.kills,
            f.wall.as_secs_f64(),
            failed_syncs(&f.failed),
            f.devices - f.errors,
            percentile(&f.latencies, 50.0).as_millis(),
            percentile(&f.latencies, 99.0).as_millis(),
            f.checked,
            f.lost.len(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let ms: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&ms, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&ms, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&ms[..1], 99.0), Duration::from_millis(1));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }
}
