//! The web console's settings (docs/console.md).

/// Whether `/console` is served, how long a sign-in lasts, and where browsers reach it.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct ConsoleSettings {
    /// Serve the supervisors' web console under `/console` (on by default).
    #[arg(
        long = "console",
        env = "FIELDSYNC_CONSOLE",
        default_value_t = true,
        action = clap::ArgAction::Set,
        global = true
    )]
    pub enabled: bool,

    /// Seconds a console sign-in lasts; the browser signs in again after it. Never longer
    /// than the session's maximum age (FIELDSYNC_SESSION_MAX_AGE_SECS).
    #[arg(
        long = "console-session-secs",
        env = "FIELDSYNC_CONSOLE_SESSION_SECS",
        default_value_t = DEFAULT_CONSOLE_SESSION_SECS,
        value_parser = clap::value_parser!(u64).range(60..),
        global = true
    )]
    pub session_secs: u64,

    /// The address browsers use, e.g. `https://fieldsync.example.com` behind a TLS proxy.
    /// With an `https` origin the console's cookies are always `Secure`; without one they
    /// are `Secure` when the proxy says the request came over TLS (`X-Forwarded-Proto: https`).
    #[arg(long = "public-origin", env = "FIELDSYNC_PUBLIC_ORIGIN", global = true)]
    pub public_origin: Option<String>,
}

/// Twelve hours: a supervisor signs in once a working day.
pub const DEFAULT_CONSOLE_SESSION_SECS: u64 = 12 * 3600;

impl Default for ConsoleSettings {
    fn default() -> Self {
        ConsoleSettings {
            enabled: true,
            session_secs: DEFAULT_CONSOLE_SESSION_SECS,
            public_origin: None,
        }
    }
}

impl ConsoleSettings {
    /// Whether every console cookie is `Secure` (an `https` public origin).
    pub fn https_origin(&self) -> bool {
        self.public_origin
            .as_deref()
            .is_some_and(|o| o.trim().to_ascii_lowercase().starts_with("https://"))
    }
}
