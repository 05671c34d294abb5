//! Where the relational store lives and how its connections are pooled.

use std::path::PathBuf;
use std::time::Duration;

use super::Secret;

/// Connection pool settings (`FIELDSYNC_DB_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PgPoolSettings {
    /// Most connections this instance opens. Sum over all instances must stay below the
    /// server's `max_connections`.
    pub max_connections: u32,
    /// `statement_timeout` of every connection; `None` for no limit. A statement that runs
    /// longer is cancelled and the request answered with 503.
    pub statement_timeout: Option<Duration>,
    /// How long a request waits for a free connection (or for the first connection at
    /// startup) before it is answered with 503.
    pub acquire_timeout: Duration,
}

impl Default for PgPoolSettings {
    fn default() -> Self {
        PgPoolSettings {
            max_connections: 16,
            statement_timeout: Some(Duration::from_secs(30)),
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

/// A database URL this version cannot use.
#[derive(Debug, thiserror::Error)]
#[error("unsupported DATABASE_URL {0:?}: use a sqlite: URL (the default) or a postgres:// URL")]
pub struct UnsupportedDatabase(pub String);

/// Where the relational store lives, resolved from [`super::Config`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseLocation {
    /// The default: a file in the data directory.
    SqliteFile(PathBuf),
    /// An explicit `sqlite:` URL.
    SqliteUrl(String),
    /// A `postgres://` or `postgresql://` URL (a secret: it may carry a password).
    Postgres { url: Secret, pool: PgPoolSettings },
}
