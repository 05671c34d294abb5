//! Settings of the live stream `GET /v1/live` (docs/live-push.md, "Limits").

use std::time::Duration;

/// How many live streams the API listener serves and how they are kept alive.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct LiveSettings {
    /// Most live streams open at once on this instance; one more is answered 503. A stream
    /// gives its connection's place under `--max-connections` back, so streams never take the
    /// connections requests need: the process may hold up to both caps together.
    #[arg(
        long = "live-max-streams",
        env = "FIELDSYNC_LIVE_MAX_STREAMS",
        default_value_t = 4096,
        value_parser = clap::value_parser!(u32).range(0..),
        global = true
    )]
    pub max_streams: u32,

    /// Most live streams one user holds open at once (phones, browser tabs); one more is
    /// answered 429.
    #[arg(
        long = "live-max-streams-per-user",
        env = "FIELDSYNC_LIVE_MAX_STREAMS_PER_USER",
        default_value_t = 8,
        value_parser = clap::value_parser!(u32).range(1..),
        global = true
    )]
    pub max_streams_per_user: u32,

    /// Most live streams one device holds open at once. A new stream over it ends the
    /// device's oldest (event `end`, reason `replaced`): a device that reconnects has lost
    /// the old one, whose socket may not have noticed yet.
    #[arg(
        long = "live-max-streams-per-device",
        env = "FIELDSYNC_LIVE_MAX_STREAMS_PER_DEVICE",
        default_value_t = 1,
        value_parser = clap::value_parser!(u32).range(1..),
        global = true
    )]
    pub max_streams_per_device: u32,

    /// Seconds between two heartbeat comments on an idle stream (keeps proxies from closing
    /// it and finds dead clients).
    #[arg(
        long = "live-heartbeat-secs",
        env = "FIELDSYNC_LIVE_HEARTBEAT_SECS",
        default_value_t = 15,
        value_parser = clap::value_parser!(u64).range(1..),
        global = true
    )]
    pub heartbeat_secs: u64,

    /// Seconds between two checks, on a stream with no feed activity, that its session and
    /// device are not revoked and its read scope has not changed (each feed wake checks too).
    #[arg(
        long = "live-revalidate-secs",
        env = "FIELDSYNC_LIVE_REVALIDATE_SECS",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..),
        global = true
    )]
    pub revalidate_secs: u64,
}

impl Default for LiveSettings {
    fn default() -> Self {
        LiveSettings {
            max_streams: 4096,
            max_streams_per_user: 8,
            max_streams_per_device: 1,
            heartbeat_secs: 15,
            revalidate_secs: 30,
        }
    }
}

impl LiveSettings {
    pub fn heartbeat(&self) -> Duration {
        Duration::from_secs(self.heartbeat_secs)
    }

    pub fn revalidate(&self) -> Duration {
        Duration::from_secs(self.revalidate_secs)
    }
}
