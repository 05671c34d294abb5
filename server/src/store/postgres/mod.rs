//! The store for scale: PostgreSQL, shared by any number of stateless server instances.
//!
//! Chosen by a `postgres://` (or `postgresql://`) `DATABASE_URL`. The tables are those of the
//! SQLite store (`migrations/postgres` mirrors `migrations/sqlite`: TEXT ids, BIGINT counters
//! and milliseconds, BYTEA for Automerge bytes), and the conformance suites in `server/tests`
//! run against both engines. Differences from SQLite are about concurrency only:
//!
//! * writers of different tenants run in parallel; writers of one tenant queue on the tenant
//!   row (the feed counter), see [`documents`](self) for why that is what keeps the feed in
//!   commit order;
//! * reads that must see one consistent state (a document with its changes, a pull, a master
//!   data page) run in `REPEATABLE READ READ ONLY` transactions, which never fail on conflicts.

pub(crate) mod directory;
mod documents;
pub mod testing;

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, PgConnection, PgPool};

use super::{StoreError, StoreResult};
pub use crate::config::PgPoolSettings;

/// Migrations for PostgreSQL, embedded at compile time from `migrations/postgres`.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/db?...`) and runs
    /// pending migrations. Errors never contain the URL (it may carry a password).
    pub async fn open(url: &str, settings: &PgPoolSettings) -> StoreResult<Self> {
        let opts = PgConnectOptions::from_str(url)?;
        Self::connect(opts, settings).await
    }

    /// Connects with explicit options and runs pending migrations.
    pub async fn connect(
        mut opts: PgConnectOptions,
        settings: &PgPoolSettings,
    ) -> StoreResult<Self> {
        if opts.get_application_name().is_none() {
            opts = opts.application_name("fieldsync-server");
        }
        tracing::info!(
            host = opts.get_host(),
            port = opts.get_port(),
            database = opts.get_database().unwrap_or(""),
            user = opts.get_username(),
            max_connections = settings.max_connections,
            "connecting to PostgreSQL"
        );
        let statement_timeout_ms = settings
            .statement_timeout
            .map_or(0, |t| t.as_millis().clamp(1, i32::MAX as u128) as i64);
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections.max(1))
            .acquire_timeout(settings.acquire_timeout)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    // Per connection, so it holds for every statement the pool runs.
                    // 0 disables the limit, as in PostgreSQL.
                    sqlx::query(AssertSqlSafe(format!(
                        "SET statement_timeout = {statement_timeout_ms}"
                    )))
                    .execute(conn)
                    .await?;
                    Ok(())
                })
            })
            .connect_with(opts.clone())
            .await;
        let pool = match pool {
            Ok(pool) => pool,
            // The pool retries until the acquire timeout and then does not say why: one direct
            // attempt does (refused, unknown host, bad password...), without the URL.
            Err(sqlx::Error::PoolTimedOut) => {
                let why = match PgConnection::connect_with(&opts).await {
                    Ok(conn) => {
                        let _ = conn.close().await;
                        "no connection within the acquire timeout".to_string()
                    }
                    Err(e) => e.to_string(),
                };
                return Err(StoreError::Unavailable(format!(
                    "cannot connect to PostgreSQL at {}:{}: {why}",
                    opts.get_host(),
                    opts.get_port()
                )));
            }
            Err(e) => return Err(e.into()),
        };
        // On a connection of their own, without the statement timeout: a migration that
        // rewrites a big table may take longer than any request should. sqlx takes an advisory
        // lock around them, so instances starting together apply each migration once.
        let mut conn = PgConnection::connect_with(&opts).await?;
        MIGRATOR.run(&mut conn).await?;
        let _ = conn.close().await;
        Ok(PgStore { pool })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes every connection (waits for the checked-out ones to come back).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
