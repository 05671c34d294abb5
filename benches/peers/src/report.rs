//! The printed figures: Markdown tables, as docs/performance.md shows them.

use crate::run::Figures;
use crate::servers::Kind;
use crate::workload::{Device, DOCS_PER_DEVICE, ORDERS, VISITS};

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// When and on what the figures were taken: the load average matters on a shared machine.
pub fn machine() {
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|m| m.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem_gib = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
    println!(
        "{} UTC; {cores} cores ({cpu}), {mem_gib:.0} GiB; load average at start: {}",
        chrono::Utc::now().format("%Y-%m-%d %H:%M"),
        read("/proc/loadavg")
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(
        "workload: per device {VISITS} visits (12 commits, 30 audit lines) and {ORDERS} orders \
         (3 commits): {DOCS_PER_DEVICE} documents"
    );
}

fn load_now() -> String {
    read("/proc/loadavg")
        .split_whitespace()
        .next()
        .unwrap_or("?")
        .to_string()
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1024.0 / 1024.0
}

/// One concurrency's table, the ratios of Fieldsync to each peer and the in-process ceiling.
pub fn concurrency(devices: &[Device], figures: &[Figures], ceiling_ms: f64) {
    let n = devices.len();
    let docs = n * DOCS_PER_DEVICE;
    println!(
        "\n### {n} devices at once ({docs} documents; load average now {})\n",
        load_now()
    );
    println!(
        "| server | wall | documents/s | server CPU per document | peak RSS | sent | received | on disk | errors |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for f in figures {
        let database = if f.cpu.database > 0.0 {
            format!(
                " ({:.2} server + {:.2} database)",
                f.cpu.server / f.documents as f64,
                f.cpu.database / f.documents as f64
            )
        } else {
            String::new()
        };
        let disk = f
            .disk_bytes
            .map_or("(cluster)".to_string(), |b| format!("{:.1} MiB", mib(b)));
        println!(
            "| {} | {:.2} s | {:.0} | {:.2} ms{database} | {:.0} MiB | {:.2} MiB | {:.2} MiB | {disk} | {} |",
            f.kind.name(),
            f.wall.as_secs_f64(),
            f.docs_per_s(),
            f.cpu_ms_per_doc(),
            f.peak_rss_mib,
            mib(f.bytes.up),
            mib(f.bytes.down),
            f.errors
        );
    }
    let findings: Vec<String> = figures
        .iter()
        .filter(|f| f.kind.is_fieldsync())
        .map(|f| format!("{} {}", f.kind.name(), f.with_findings))
        .collect();
    if !findings.is_empty() {
        println!(
            "\nFieldsync documents stored with a finding of its rules: {}",
            findings.join(", ")
        );
    }
    for ours in figures.iter().filter(|f| f.kind.is_fieldsync()) {
        for peer in figures.iter().filter(|f| !f.kind.is_fieldsync()) {
            println!(
                "{} vs {}: {:.2}x the documents/s, {:.2}x the CPU per document",
                ours.kind.name(),
                peer.kind.name(),
                ours.docs_per_s() / peer.docs_per_s(),
                ours.cpu_ms_per_doc() / peer.cpu_ms_per_doc()
            );
        }
    }
    println!("\nAutomerge alone (load, apply the changes, save), one thread: {ceiling_ms:.3} ms CPU per document");
    for ours in figures.iter().filter(|f| f.kind.is_fieldsync()) {
        println!(
            "{}: Automerge alone is {:.0} % of its server CPU per document",
            ours.kind.name(),
            100.0 * ceiling_ms / ours.cpu_ms_per_doc()
        );
    }
}

/// A rep-day on the wire against its saved size, and a sync with nothing new.
pub fn wire(devices: &[Device], figures: &[Figures]) {
    let saved =
        devices.iter().map(Device::saved_bytes).sum::<usize>() as f64 / devices.len() as f64;
    println!(
        "\n### On the wire ({} devices; a rep-day saved by Automerge: {:.1} KiB)\n",
        devices.len(),
        saved / 1024.0
    );
    println!("| server | rep-day sent | received | sent / saved size | no-op sync over | no-op sent | no-op received |");
    println!("|---|---|---|---|---|---|---|");
    for f in figures {
        let per_day = f.bytes.up as f64 / devices.len() as f64;
        println!(
            "| {} | {:.1} KiB | {:.1} KiB | {:.2}x | {} documents | {} B | {} B |",
            f.kind.name(),
            per_day / 1024.0,
            f.bytes.down as f64 / devices.len() as f64 / 1024.0,
            per_day / saved,
            f.verified.documents,
            f.verified.noop.up,
            f.verified.noop.down
        );
    }
    if figures.iter().any(|f| f.kind == Kind::FieldsyncSqlite) {
        println!("\n(Fieldsync's no-op is one `POST /v1/sync` with the reader's cursor on its open connection; the peers' is a new websocket, the handshake and one sync message each way per document.)");
    }
}
