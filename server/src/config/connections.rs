//! How long the server waits for slow clients and how many it serves at once
//! (docs/security.md, "Limits and timeouts").

use std::time::Duration;

/// Connection settings of the API and operations listeners.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct ConnectionSettings {
    /// Seconds a client has to send a request's complete headers, counted from when the server
    /// starts waiting for them: on a new connection, and on a kept-alive connection after the
    /// previous answer. A connection past it is closed. So it is also the keep-alive idle
    /// timeout: an idle connection is closed after this many seconds.
    #[arg(
        long = "header-read-timeout-secs",
        env = "FIELDSYNC_HEADER_READ_TIMEOUT_SECS",
        default_value_t = 15,
        value_parser = clap::value_parser!(u64).range(1..),
        global = true
    )]
    pub header_read_timeout_secs: u64,

    /// Seconds a request body may go without receiving a byte; the request is then answered
    /// 408 `request_timeout` and the connection closed. A slow but live client (a few hundred
    /// bytes a second) is never cut off; answers (downloads, long-lived streams) are not
    /// timed.
    #[arg(
        long = "body-idle-timeout-secs",
        env = "FIELDSYNC_BODY_IDLE_TIMEOUT_SECS",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..),
        global = true
    )]
    pub body_idle_timeout_secs: u64,

    /// Most connections the API listener holds open at once; one more is answered 503
    /// `too_many_connections` (with `Retry-After`) and closed. Keep it below the process's
    /// file descriptor limit (`ulimit -n`) minus the database pool and blob store connections.
    #[arg(
        long = "max-connections",
        env = "FIELDSYNC_MAX_CONNECTIONS",
        default_value_t = 4096,
        value_parser = clap::value_parser!(u32).range(1..),
        global = true
    )]
    pub max_connections: u32,

    /// Most connections the operations listener (metrics, health) holds open at once; one
    /// more is answered 503 like on the API listener. Its scrapers and probes need a few, and
    /// its own cap keeps stalled sockets there from taking the API's descriptors. The
    /// header-read timeout above applies to it too.
    #[arg(
        long = "ops-max-connections",
        env = "FIELDSYNC_OPS_MAX_CONNECTIONS",
        default_value_t = 64,
        value_parser = clap::value_parser!(u32).range(1..),
        global = true
    )]
    pub ops_max_connections: u32,
}

impl Default for ConnectionSettings {
    fn default() -> Self {
        ConnectionSettings {
            header_read_timeout_secs: 15,
            body_idle_timeout_secs: 30,
            max_connections: 4096,
            ops_max_connections: 64,
        }
    }
}

impl ConnectionSettings {
    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.header_read_timeout_secs)
    }

    pub fn body_idle_timeout(&self) -> Duration {
        Duration::from_secs(self.body_idle_timeout_secs)
    }
}
