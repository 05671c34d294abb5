//! How many sync requests the server works on at once and how many may wait for a turn
//! (`sync::admission`, docs/performance.md "Admission control").

use std::time::Duration;

/// Bounds of `POST /v1/sync` under load: past them a request is answered 503 `overloaded` with
/// `Retry-After` at once, instead of waiting without bound while memory and latency grow.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct SyncAdmissionSettings {
    /// Sync requests merged, committed and paged at once (after their body is read). Each
    /// holds its pushed documents in memory and a database connection at times.
    #[arg(
        long = "sync-max-in-flight",
        env = "FIELDSYNC_SYNC_MAX_IN_FLIGHT",
        default_value_t = 32,
        value_parser = clap::value_parser!(u32).range(1..),
        global = true
    )]
    pub max_in_flight: u32,

    /// Sync requests waiting for a turn; one more is answered 503 `overloaded` at once.
    /// 0: no waiting, a request either starts or is refused.
    #[arg(
        long = "sync-max-queued",
        env = "FIELDSYNC_SYNC_MAX_QUEUED",
        default_value_t = 512,
        global = true
    )]
    pub max_queued: u32,

    /// Milliseconds a sync request waits for a turn before it is answered 503 `overloaded`.
    #[arg(
        long = "sync-queue-timeout-ms",
        env = "FIELDSYNC_SYNC_QUEUE_TIMEOUT_MS",
        default_value_t = 5_000,
        global = true
    )]
    pub queue_timeout_ms: u64,

    /// The `Retry-After` (seconds) of a refused sync request; devices wait at least this long,
    /// with jitter, before sending it again.
    #[arg(
        long = "sync-retry-after-secs",
        env = "FIELDSYNC_SYNC_RETRY_AFTER_SECS",
        default_value_t = 1,
        value_parser = clap::value_parser!(u64).range(1..),
        global = true
    )]
    pub retry_after_secs: u64,
}

impl Default for SyncAdmissionSettings {
    fn default() -> Self {
        SyncAdmissionSettings {
            max_in_flight: 32,
            max_queued: 512,
            queue_timeout_ms: 5_000,
            retry_after_secs: 1,
        }
    }
}

impl SyncAdmissionSettings {
    pub fn queue_timeout(&self) -> Duration {
        Duration::from_millis(self.queue_timeout_ms)
    }
}
