//! Typed configuration: defaults, then environment variables, then command-line flags.
//!
//! Every option has a flag and an environment variable (`fieldsync-server --help` lists both).
//! Secrets are wrapped in [`Secret`] so they never appear in `Debug` output or logs.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, ValueEnum};
use fieldsync_shared::protocol::Limits;

mod admission;
mod blobs;
mod connections;
mod console;
mod database;
mod documents;
mod live;
mod photos;
mod verdicts;

pub use admission::SyncAdmissionSettings;
pub use blobs::{
    BlobSettings, InvalidBlobSettings, S3Settings, DEFAULT_S3_REGION, DEFAULT_S3_TIMEOUT_MS,
};
pub use connections::ConnectionSettings;
pub use console::{ConsoleSettings, DEFAULT_CONSOLE_SESSION_SECS};
pub use database::{DatabaseLocation, PgPoolSettings, UnsupportedDatabase};
pub use documents::DocumentLimitSettings;
pub use live::LiveSettings;
pub use photos::{
    PhotoSettings, DEFAULT_MULTIPART_THRESHOLD_BYTES, DEFAULT_PART_BYTES, MIN_PART_BYTES,
    MIN_PRESIGNED_PART_BYTES,
};
pub use verdicts::{VerdictSettings, DEFAULT_MAX_TRAVEL_KMH, DEFAULT_MIN_VISIT_MINUTES};

/// Default size limit of one uploaded photo: 20 MiB.
pub const DEFAULT_MAX_PHOTO_BYTES: u64 = 20 * 1024 * 1024;

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable, for a terminal.
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

/// A secret string: `Debug` and `Display` print `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The secret itself; call only where it is used, never to log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

fn parse_database_url(s: &str) -> Result<Secret, String> {
    Ok(Secret::new(s))
}

pub(crate) fn parse_secret(s: &str) -> Result<Secret, String> {
    if s.len() < 32 {
        return Err("must be at least 32 characters".to_string());
    }
    Ok(Secret::new(s))
}

/// The sync limits, with the body size from the command line and the rest at their defaults.
fn parse_sync_body_limit(s: &str) -> Result<Limits, String> {
    let max_body_bytes: usize = s.trim().parse().map_err(|e| format!("{s:?}: {e}"))?;
    if max_body_bytes < 1024 {
        return Err("must be at least 1024 bytes".to_string());
    }
    let defaults = Limits::default();
    Ok(Limits {
        max_body_bytes,
        max_decoded_bytes: defaults
            .max_decoded_bytes
            .max(max_body_bytes.saturating_mul(4)),
        ..defaults
    })
}

/// Server configuration.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Folder for the SQLite database, the JWT signing key and photo bytes. Created if missing.
    #[arg(
        long,
        env = "FIELDSYNC_DATA_DIR",
        default_value = "./fieldsync-data",
        global = true
    )]
    pub data_dir: PathBuf,

    /// Address of the API listener (devices and clients). Port 0 picks a free port.
    #[arg(
        long,
        env = "FIELDSYNC_LISTEN",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub listen: SocketAddr,

    /// Address of the operations listener: /metrics (Prometheus), /openapi.json, /health.
    /// Keep it on loopback or a private network.
    #[arg(
        long,
        env = "FIELDSYNC_OPS_LISTEN",
        default_value = "127.0.0.1:9090",
        global = true
    )]
    pub ops_listen: SocketAddr,

    /// Database URL. Default: `sqlite://<data dir>/fieldsync.db` (embedded SQLite).
    /// `postgres://user:password@host:5432/db` (or `postgresql://`) selects PostgreSQL, for
    /// several server instances sharing one database; migrations run at startup. The URL is
    /// never logged.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, value_parser = parse_database_url, global = true)]
    pub database_url: Option<Secret>,

    /// PostgreSQL: most database connections this instance opens. All instances together
    /// must stay below the server's `max_connections`.
    #[arg(
        long,
        env = "FIELDSYNC_DB_MAX_CONNECTIONS",
        default_value_t = 16,
        value_parser = clap::value_parser!(u32).range(1..),
        global = true
    )]
    pub db_max_connections: u32,

    /// PostgreSQL: `statement_timeout` of every connection, in milliseconds; a statement
    /// running longer is cancelled and its request answered with 503 (retry later).
    /// 0 disables the limit.
    #[arg(
        long,
        env = "FIELDSYNC_DB_STATEMENT_TIMEOUT_MS",
        default_value_t = 30_000,
        global = true
    )]
    pub db_statement_timeout_ms: u64,

    /// PostgreSQL: how long a request waits for a free database connection, in milliseconds,
    /// before it is answered with 503; also how long startup keeps trying to connect.
    #[arg(
        long,
        env = "FIELDSYNC_DB_ACQUIRE_TIMEOUT_MS",
        default_value_t = 10_000,
        value_parser = clap::value_parser!(u64).range(1..),
        global = true
    )]
    pub db_acquire_timeout_ms: u64,

    /// HS256 signing key for access tokens (at least 32 characters). Default: a random key
    /// generated on first start and kept in `<data dir>/jwt-secret` (mode 0600). Every instance
    /// serving the same tenants must use the same key.
    #[arg(long, env = "FIELDSYNC_JWT_SECRET", hide_env_values = true, value_parser = parse_secret, global = true)]
    pub jwt_secret: Option<Secret>,

    /// EdDSA (Ed25519) signing key for access tokens, for production: a PKCS#8 PEM private
    /// key file (`fieldsync-server keygen <path>` writes one). When set, tokens are EdDSA and
    /// HS256 tokens (and `--jwt-secret`) are not accepted. Every instance needs the key (or,
    /// during a rotation, its public key in `--jwt-verify-key-files`).
    #[arg(long, env = "FIELDSYNC_JWT_ED25519_KEY_FILE", global = true)]
    pub jwt_ed25519_key_file: Option<PathBuf>,

    /// Public keys (PEM files, comma-separated) whose EdDSA tokens are accepted besides those
    /// of the signing key: the previous key while tokens it signed are still alive, or the
    /// next key before instances switch to it. Requires `--jwt-ed25519-key-file`.
    #[arg(
        long,
        env = "FIELDSYNC_JWT_VERIFY_KEY_FILES",
        value_delimiter = ',',
        global = true
    )]
    pub jwt_verify_key_files: Vec<PathBuf>,

    /// Lifetime of access tokens, in seconds. Devices refresh them with their refresh token.
    #[arg(
        long,
        env = "FIELDSYNC_TOKEN_TTL_SECS",
        default_value_t = 900,
        value_parser = clap::value_parser!(u64).range(1..),
        global = true
    )]
    pub token_ttl_secs: u64,

    /// Lifetime of refresh tokens, in seconds (default 30 days): how long a device may stay
    /// offline and still sync without signing in again. Each refresh starts a new lifetime.
    #[arg(
        long,
        env = "FIELDSYNC_REFRESH_TOKEN_TTL_SECS",
        default_value_t = 2_592_000,
        value_parser = clap::value_parser!(u64).range(1..),
        global = true
    )]
    pub refresh_token_ttl_secs: u64,

    /// A refresh token presented again within this many seconds of its exchange, while the
    /// token that exchange issued is still unused, is taken as a retry after a lost answer
    /// (weak signal) rather than as theft: it gets new tokens and the unused ones stop
    /// working. Any other reuse revokes the session. 0: every reuse revokes.
    #[arg(
        long,
        env = "FIELDSYNC_REFRESH_REUSE_GRACE_SECS",
        default_value_t = 300,
        global = true
    )]
    pub refresh_reuse_grace_secs: u64,

    /// Absolute age of a session (one sign-in on one device), in seconds (default 30 days):
    /// after it, refreshing answers 401 `session_expired` and the user signs in again, however
    /// often the device refreshed. No refresh token outlives its session. At least 1 hour.
    #[arg(
        long,
        env = "FIELDSYNC_SESSION_MAX_AGE_SECS",
        default_value_t = 2_592_000,
        value_parser = clap::value_parser!(u64).range(3600..),
        global = true
    )]
    pub session_max_age_secs: u64,

    /// How long rows of ended sessions (revoked, past their maximum age, or whose last refresh
    /// token expired) and expired refresh tokens are kept before the hourly purge deletes them,
    /// in seconds (default 7 days). Until then a presented token of such a session is refused
    /// for what it is (revoked, reused) rather than as unknown.
    #[arg(
        long,
        env = "FIELDSYNC_SESSION_PURGE_AFTER_SECS",
        default_value_t = 604_800,
        global = true
    )]
    pub session_purge_after_secs: u64,

    /// Login throttling: failed sign-ins allowed per tenant and username within the window
    /// (`--login-window-secs`); further attempts are answered 429 with Retry-After, without
    /// checking the password, until the window ends. A successful sign-in resets the count.
    /// Counted in memory, per server instance. 0 disables the limit.
    #[arg(
        long,
        env = "FIELDSYNC_LOGIN_MAX_FAILURES",
        default_value_t = 10,
        global = true
    )]
    pub login_max_failures: u32,

    /// Login throttling: failed sign-ins allowed per client IP address within the window,
    /// whatever the username. Behind a reverse proxy every client shares the proxy's address,
    /// so raise this (or set 0 to disable it) there.
    #[arg(
        long,
        env = "FIELDSYNC_LOGIN_MAX_FAILURES_PER_IP",
        default_value_t = 100,
        global = true
    )]
    pub login_max_failures_per_ip: u32,

    /// Login throttling: length of the counting window, in seconds, starting at the first
    /// failed attempt.
    #[arg(
        long,
        env = "FIELDSYNC_LOGIN_WINDOW_SECS",
        default_value_t = 300,
        value_parser = clap::value_parser!(u64).range(1..),
        global = true
    )]
    pub login_window_secs: u64,

    /// Log format.
    #[arg(long, env = "FIELDSYNC_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty, global = true)]
    pub log_format: LogFormat,

    /// Log filter in `RUST_LOG` syntax, e.g. `info` or `info,fieldsync_server=debug`.
    #[arg(
        long,
        env = "FIELDSYNC_LOG",
        default_value = "info,sqlx=warn",
        global = true
    )]
    pub log: String,

    /// Create the demo tenant `demo` (users sup1, rep1, rep2, merch1, admin; password
    /// demo1234) at startup if it does not exist. For trying Fieldsync out, not for production.
    #[arg(long, env = "FIELDSYNC_DEMO", global = true)]
    pub demo: bool,

    /// Largest photo accepted by `PUT /v1/photos/{sha256}`, in bytes.
    #[arg(long, env = "FIELDSYNC_MAX_PHOTO_BYTES", default_value_t = DEFAULT_MAX_PHOTO_BYTES, global = true)]
    pub max_photo_bytes: u64,

    /// Photo upload settings (multipart threshold, presigned URL lifetime, clean-up ages).
    #[command(flatten)]
    pub photos: PhotoSettings,

    /// Where photo bytes live: the data directory (default) or an S3-compatible bucket.
    #[command(flatten)]
    pub blobs: BlobSettings,

    /// Timeouts and the connection cap of the API listener.
    #[command(flatten)]
    pub connections: ConnectionSettings,

    /// Limits and keep-alive of the live stream (`GET /v1/live`).
    #[command(flatten)]
    pub live: LiveSettings,

    /// Sync requests worked on at once and waiting for a turn (503 `overloaded` past them).
    #[command(flatten)]
    pub sync_admission: SyncAdmissionSettings,

    /// Limits on the shape of pushed documents.
    #[command(flatten)]
    pub documents: DocumentLimitSettings,

    /// The supervisors' web console under `/console`.
    #[command(flatten)]
    pub console: ConsoleSettings,

    /// Bounds of the server's cross-device checks (travel speed, shortest visit).
    #[command(flatten)]
    pub verdicts: VerdictSettings,

    /// Largest request body of the JSON and sync endpoints (`POST /v1/sync`), in bytes as sent
    /// (after compression). The other sync limits keep their defaults.
    #[arg(
        long = "max-sync-body-bytes",
        env = "FIELDSYNC_MAX_SYNC_BODY_BYTES",
        value_parser = parse_sync_body_limit,
        default_value = "8388608",
        global = true
    )]
    pub limits: Limits,
}

impl Config {
    /// A configuration for tests: everything in `data_dir`, both listeners on 127.0.0.1 port 0,
    /// demo off, quiet logs, defaults otherwise.
    pub fn for_tests(data_dir: &Path) -> Config {
        Config {
            data_dir: data_dir.to_path_buf(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            ops_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: None,
            db_max_connections: 16,
            db_statement_timeout_ms: 30_000,
            db_acquire_timeout_ms: 10_000,
            jwt_secret: None,
            jwt_ed25519_key_file: None,
            jwt_verify_key_files: Vec::new(),
            token_ttl_secs: 3600,
            refresh_token_ttl_secs: 2_592_000,
            refresh_reuse_grace_secs: 300,
            session_max_age_secs: 2_592_000,
            session_purge_after_secs: 604_800,
            login_max_failures: 10,
            login_max_failures_per_ip: 100,
            login_window_secs: 300,
            log_format: LogFormat::Pretty,
            log: "warn".to_string(),
            demo: false,
            max_photo_bytes: DEFAULT_MAX_PHOTO_BYTES,
            photos: PhotoSettings::default(),
            blobs: BlobSettings::default(),
            connections: ConnectionSettings::default(),
            live: LiveSettings::default(),
            sync_admission: SyncAdmissionSettings::default(),
            documents: DocumentLimitSettings::default(),
            console: ConsoleSettings::default(),
            verdicts: VerdictSettings::default(),
            limits: Limits::default(),
        }
    }

    /// Resolves `database_url`: none or `sqlite:` is SQLite, `postgres://` or `postgresql://`
    /// is PostgreSQL; anything else is refused with a clear message.
    pub fn database(&self) -> Result<DatabaseLocation, UnsupportedDatabase> {
        match &self.database_url {
            None => Ok(DatabaseLocation::SqliteFile(
                self.data_dir.join("fieldsync.db"),
            )),
            Some(url) if url.expose().starts_with("sqlite:") => {
                Ok(DatabaseLocation::SqliteUrl(url.expose().to_string()))
            }
            Some(url)
                if url.expose().starts_with("postgres://")
                    || url.expose().starts_with("postgresql://") =>
            {
                Ok(DatabaseLocation::Postgres {
                    url: url.clone(),
                    pool: self.pg_pool_settings(),
                })
            }
            // Do not echo the URL: it may carry a password.
            Some(url) => Err(UnsupportedDatabase(
                url.expose().split(':').next().unwrap_or("").to_string() + ":...",
            )),
        }
    }

    /// `session_max_age_secs` in milliseconds.
    pub fn session_max_age_ms(&self) -> i64 {
        i64::try_from(self.session_max_age_secs.saturating_mul(1000)).unwrap_or(i64::MAX)
    }

    /// `session_purge_after_secs` in milliseconds.
    pub fn session_purge_after_ms(&self) -> i64 {
        i64::try_from(self.session_purge_after_secs.saturating_mul(1000)).unwrap_or(i64::MAX)
    }

    /// The PostgreSQL pool settings from the `FIELDSYNC_DB_*` options.
    pub fn pg_pool_settings(&self) -> PgPoolSettings {
        PgPoolSettings {
            max_connections: self.db_max_connections.max(1),
            statement_timeout: (self.db_statement_timeout_ms > 0)
                .then(|| Duration::from_millis(self.db_statement_timeout_ms)),
            acquire_timeout: Duration::from_millis(self.db_acquire_timeout_ms.max(1)),
        }
    }

    /// `<data dir>/jwt-secret`.
    pub fn jwt_secret_path(&self) -> PathBuf {
        self.data_dir.join("jwt-secret")
    }

    /// `<data dir>/blobs`.
    pub fn blob_dir(&self) -> PathBuf {
        self.data_dir.join("blobs")
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    /// The configuration flags alone, as the binary's command line flattens them.
    #[derive(Debug, Parser)]
    pub(super) struct Flags {
        #[command(flatten)]
        pub config: Config,
    }

    #[test]
    fn secrets_do_not_print_and_short_ones_are_refused() {
        let s = Secret::new("a-very-secret-value-that-is-long-enough");
        assert_eq!(format!("{s:?} {s}"), "[redacted] [redacted]");
        assert!(Flags::try_parse_from(["fieldsync-server", "--jwt-secret", "short"]).is_err());
    }

    #[test]
    fn database_urls_select_the_engine() {
        let mut c = Config::for_tests(Path::new("/tmp/d"));
        assert_eq!(
            c.database().unwrap(),
            DatabaseLocation::SqliteFile(PathBuf::from("/tmp/d/fieldsync.db"))
        );
        c.database_url = Some(Secret::new("sqlite:///tmp/x.db"));
        assert_eq!(
            c.database().unwrap(),
            DatabaseLocation::SqliteUrl("sqlite:///tmp/x.db".into())
        );
        for url in ["postgres://u:pw@h/db", "postgresql://u:pw@h:5433/db"] {
            c.database_url = Some(Secret::new(url));
            match c.database().unwrap() {
                DatabaseLocation::Postgres { url: got, pool } => {
                    assert_eq!(got.expose(), url);
                    assert_eq!(pool, PgPoolSettings::default());
                    let shown = format!("{:?}", c.database().unwrap());
                    assert!(!shown.contains("pw"), "{shown}");
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        c.database_url = Some(Secret::new("mysql://u:pw@h/db"));
        let err = c.database().unwrap_err().to_string();
        assert!(err.contains("postgres://"), "{err}");
        assert!(!err.contains("pw"), "{err}");
    }

    #[test]
    fn config_debug_does_not_show_the_database_password() {
        let cli = Flags::try_parse_from([
            "fieldsync-server",
            "--database-url",
            "postgres://fieldsync:hunter2-db-password@db.internal:5432/fieldsync",
        ])
        .unwrap();
        let config = cli.config;
        assert_eq!(
            config.database_url.as_ref().map(Secret::expose),
            Some("postgres://fieldsync:hunter2-db-password@db.internal:5432/fieldsync")
        );
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("db.internal"), "{shown}");
        let shown = format!("{:?}", Flags::try_parse_from(["fieldsync-server"]).unwrap());
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn token_options_have_defaults_flags_and_keygen() {
        let d = Flags::try_parse_from(["fieldsync-server"]).unwrap().config;
        assert_eq!(
            (
                d.token_ttl_secs,
                d.refresh_token_ttl_secs,
                d.refresh_reuse_grace_secs
            ),
            (900, 30 * 24 * 3600, 300)
        );
        assert!(d.jwt_ed25519_key_file.is_none() && d.jwt_verify_key_files.is_empty());
        let c = Flags::try_parse_from([
            "fieldsync-server",
            "--jwt-ed25519-key-file",
            "/k/signing.pem",
            "--jwt-verify-key-files",
            "/k/old.pub.pem,/k/next.pub.pem",
            "--refresh-token-ttl-secs",
            "60",
        ])
        .unwrap()
        .config;
        assert_eq!(
            c.jwt_ed25519_key_file,
            Some(PathBuf::from("/k/signing.pem"))
        );
        assert_eq!(
            c.jwt_verify_key_files,
            vec![
                PathBuf::from("/k/old.pub.pem"),
                PathBuf::from("/k/next.pub.pem")
            ]
        );
        assert_eq!(c.refresh_token_ttl_secs, 60);
        assert!(Flags::try_parse_from(["fieldsync-server", "--token-ttl-secs", "0"]).is_err());
    }

    #[test]
    fn session_hygiene_options_have_defaults_and_flags() {
        let d = Flags::try_parse_from(["fieldsync-server"]).unwrap().config;
        assert_eq!(
            (d.session_max_age_secs, d.session_purge_after_secs),
            (30 * 24 * 3600, 7 * 24 * 3600)
        );
        assert_eq!(d.session_max_age_ms(), 30 * 24 * 3600 * 1000);
        let c = Flags::try_parse_from([
            "fieldsync-server",
            "--session-max-age-secs",
            "7200",
            "--session-purge-after-secs",
            "0",
        ])
        .unwrap()
        .config;
        assert_eq!(
            (c.session_max_age_secs, c.session_purge_after_secs),
            (7200, 0)
        );
        assert!(
            Flags::try_parse_from(["fieldsync-server", "--session-max-age-secs", "3599"]).is_err(),
            "at least an hour"
        );
    }

    #[test]
    fn login_limits_have_defaults_and_flags() {
        let d = Flags::try_parse_from(["fieldsync-server"]).unwrap().config;
        assert_eq!(
            (
                d.login_max_failures,
                d.login_max_failures_per_ip,
                d.login_window_secs
            ),
            (10, 100, 300)
        );
        let c = Flags::try_parse_from([
            "fieldsync-server",
            "--login-max-failures",
            "3",
            "--login-window-secs",
            "60",
        ])
        .unwrap()
        .config;
        assert_eq!((c.login_max_failures, c.login_window_secs), (3, 60));
        assert!(Flags::try_parse_from(["fieldsync-server", "--login-window-secs", "0"]).is_err());
    }

    #[test]
    fn pool_options_parse_from_flags_and_zero_disables_the_statement_timeout() {
        let cli = Flags::try_parse_from([
            "fieldsync-server",
            "--db-max-connections",
            "40",
            "--db-statement-timeout-ms",
            "0",
            "--db-acquire-timeout-ms",
            "2500",
        ])
        .unwrap();
        let pool = cli.config.pg_pool_settings();
        assert_eq!(pool.max_connections, 40);
        assert_eq!(pool.statement_timeout, None);
        assert_eq!(pool.acquire_timeout, Duration::from_millis(2500));
        assert!(Flags::try_parse_from(["fieldsync-server", "--db-max-connections", "0"]).is_err());

        let defaults = Flags::try_parse_from(["fieldsync-server"]).unwrap();
        assert_eq!(
            defaults.config.pg_pool_settings(),
            PgPoolSettings::default()
        );
    }
}
