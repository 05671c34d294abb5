//! What the machine does during the storm, sampled twice a second: CPU of the server, of its
//! database (PostgreSQL's processes), of this generator and of the whole machine, and the
//! server's admission gauges; and from these, what saturates first.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use fieldsync_bench_peers::servers::{CpuMs, Server};

const EVERY: Duration = Duration::from_millis(500);

/// Peaks and totals over the storm.
#[derive(Debug, Default, Clone)]
pub struct Load {
    /// Cores used on average, over the storm.
    pub server_cores: f64,
    pub database_cores: f64,
    pub generator_cores: f64,
    pub machine_cores: f64,
    /// Busiest half second of the machine, in cores.
    pub machine_peak_cores: f64,
    pub cores: usize,
    pub peak_in_flight: f64,
    pub peak_queued: f64,
    pub cpu: CpuMs,
}

impl Load {
    /// The first limit the storm ran into, in words.
    pub fn saturated_first(&self, refused: f64) -> String {
        let cores = self.cores as f64;
        let busiest = [
            ("the server", self.server_cores),
            ("the database", self.database_cores),
            ("the load generator", self.generator_cores),
        ]
        .into_iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .expect("three");
        let machine = format!(
            "machine CPU {:.0}% on average ({} cores; {} used {:.2} cores)",
            100.0 * self.machine_cores / cores,
            self.cores,
            busiest.0,
            busiest.1
        );
        if refused > 0.0 {
            format!("sync turns (admission refused {refused:.0} requests); {machine}")
        } else if self.machine_peak_cores >= 0.9 * cores {
            format!("CPU: {machine}")
        } else {
            format!("nothing: {machine}")
        }
    }
}

/// Samples until `stop` is set; the load over that span.
pub fn sample(server: &Server, stop: &AtomicBool) -> Load {
    let started = Instant::now();
    let cpu_before = server.cpu_ms();
    let generator_before = own_cpu_ms();
    let machine_before = machine_busy_ms();
    let mut load = Load {
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        ..Load::default()
    };
    let mut last = (Instant::now(), machine_before);
    while !stop.load(Ordering::Acquire) {
        std::thread::sleep(EVERY);
        let now = (Instant::now(), machine_busy_ms());
        let span_ms = now.0.duration_since(last.0).as_secs_f64() * 1000.0;
        load.machine_peak_cores = load.machine_peak_cores.max((now.1 - last.1) / span_ms);
        last = now;
        if let Some(ops) = server.ops_addr {
            let gauges = metrics(ops);
            load.peak_in_flight = load
                .peak_in_flight
                .max(series(&gauges, "sync_requests_in_flight"));
            load.peak_queued = load
                .peak_queued
                .max(series(&gauges, "sync_requests_queued"));
        }
    }
    let span_ms = started.elapsed().as_secs_f64() * 1000.0;
    load.cpu = server.cpu_ms().since(cpu_before);
    load.server_cores = load.cpu.server / span_ms;
    load.database_cores = load.cpu.database / span_ms;
    load.generator_cores = (own_cpu_ms() - generator_before) / span_ms;
    load.machine_cores = (machine_busy_ms() - machine_before) / span_ms;
    load
}

/// The server's `/metrics` text ("" when it cannot be read).
pub fn metrics(ops: SocketAddr) -> String {
    ureq::get(&format!("http://{ops}/metrics"))
        .call()
        .ok()
        .and_then(|mut r| r.body_mut().read_to_string().ok())
        .unwrap_or_default()
}

/// The sum of a metric's series (all label sets) in `/metrics` text.
pub fn series(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
        })
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum()
}

/// CPU time of this process (the simulated devices), ms.
fn own_cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |n: usize| {
        fields
            .get(n - 3)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(14) + ticks(15)) * 10.0
}

/// Busy CPU time of the whole machine (all but idle and iowait), ms.
fn machine_busy_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(cpu) = stat.lines().next() else {
        return 0.0;
    };
    let values: Vec<f64> = cpu
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal ...
    let busy: f64 = values
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .map(|(_, v)| v)
        .sum();
    busy * 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_are_summed_over_their_labels() {
        let text = "# HELP x\nsync_requests_refused_total{reason=\"queue_full\"} 3\n\
                    sync_requests_refused_total{reason=\"queue_timeout\"} 2\n\
                    sync_requests_in_flight 4\nsync_requests_in_flight_other 9\n";
        assert_eq!(series(text, "sync_requests_refused_total"), 5.0);
        assert_eq!(series(text, "sync_requests_in_flight"), 4.0);
    }
}
