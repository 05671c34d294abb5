//! Building and running the application: [`Application::build`] opens the stores, loads the
//! signing key, seeds the demo tenant if asked, and binds both listeners (port 0 picks a free
//! port, which tests use); [`Application::run_until_stopped`] serves until SIGINT/SIGTERM.
//! The other subcommands are in [`crate::commands`].

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::auth::{self, TokenKeys};
use crate::blobs::{self, BlobError, BlobStore, OpenBlobStoreError};
use crate::config::{Config, DatabaseLocation, UnsupportedDatabase};
use crate::demo::{self, DemoError};
use crate::feed_events::{self, FeedEvents, FeedSource};
use crate::http::{self, listener::ListenerLimits};
use crate::metrics::Metrics;
use crate::photo_index::tenants::TenantIndexes;
use crate::photos;
use crate::routes::{api_router, ops_router};
use crate::state::AppState;
use crate::store::postgres::PgStore;
use crate::store::sqlite::SqliteStore;
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    UnsupportedDatabase(#[from] UnsupportedDatabase),
    #[error("cannot open the database: {0}")]
    Store(#[from] StoreError),
    #[error("cannot open the blob store: {0}")]
    Blobs(#[from] BlobError),
    #[error(transparent)]
    Secret(#[from] auth::SecretError),
    #[error("seeding the demo tenant failed: {0}")]
    Demo(#[from] DemoError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("serving failed: {0}")]
    Serve(std::io::Error),
    #[error("{0}")]
    InvalidInput(String),
}

pub struct Application {
    listener: TcpListener,
    ops_listener: TcpListener,
    port: u16,
    ops_port: u16,
    state: AppState,
}

/// Creates the data directory and opens the relational store named by the configuration.
pub async fn open_store(config: &Config) -> Result<Arc<dyn Store>, StartupError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| StartupError::DataDir {
        path: config.data_dir.display().to_string(),
        source,
    })?;
    let store: Arc<dyn Store> = match config.database()? {
        DatabaseLocation::SqliteFile(path) => Arc::new(SqliteStore::open(&path).await?),
        DatabaseLocation::SqliteUrl(url) => Arc::new(SqliteStore::open_url(&url).await?),
        DatabaseLocation::Postgres { url, pool } => {
            Arc::new(PgStore::open(url.expose(), &pool).await?)
        }
    };
    Ok(store)
}

/// Opens the blob store the configuration names: the S3 bucket (`FIELDSYNC_S3_BUCKET`, checked
/// to be reachable), else `<data dir>/blobs`.
pub async fn open_blob_store(config: &Config) -> Result<Arc<dyn BlobStore>, StartupError> {
    blobs::open(&config.blobs, &config.blob_dir())
        .await
        .map_err(|e| match e {
            OpenBlobStoreError::Settings(e) => StartupError::InvalidInput(e.to_string()),
            OpenBlobStoreError::Blob(e) => StartupError::Blobs(e),
        })
}

/// The feed event channel: on PostgreSQL fed by a listener task (started here, it lives as
/// long as the runtime) that hears every instance's commits; on SQLite by this instance's sync
/// handler.
fn start_feed_events(config: &Config, metrics: &Arc<Metrics>) -> Result<FeedEvents, StartupError> {
    match config.database()? {
        DatabaseLocation::Postgres { url, .. } => {
            let events = FeedEvents::new(FeedSource::Database);
            feed_events::spawn_pg_listener(url.expose(), events.clone(), metrics.clone())
                .map_err(|e| StartupError::Store(e.into()))?;
            Ok(events)
        }
        DatabaseLocation::SqliteFile(_) | DatabaseLocation::SqliteUrl(_) => {
            Ok(FeedEvents::new(FeedSource::Local))
        }
    }
}

/// The token keys: EdDSA with the configured Ed25519 key (and verify-only keys), else HS256
/// with the configured secret, else with the one kept in the data directory.
pub fn token_keys(config: &Config) -> Result<TokenKeys, StartupError> {
    if let Some(path) = &config.jwt_ed25519_key_file {
        if config.jwt_secret.is_some() {
            return Err(auth::SecretError::Config(
                "--jwt-secret and --jwt-ed25519-key-file exclude each other: EdDSA servers \
                 accept no HS256 tokens"
                    .into(),
            )
            .into());
        }
        let signing =
            auth::tokens::load_ed25519_private_key(path).map_err(auth::SecretError::from)?;
        let also = config
            .jwt_verify_key_files
            .iter()
            .map(|p| auth::tokens::load_ed25519_public_key(p))
            .collect::<Result<Vec<_>, _>>()
            .map_err(auth::SecretError::from)?;
        let keys = TokenKeys::ed25519(&signing, &also, config.token_ttl_secs);
        tracing::info!(kid = keys.kid(), accepted = ?keys.accepted_kids(), "access tokens: EdDSA");
        return Ok(keys);
    }
    if !config.jwt_verify_key_files.is_empty() {
        return Err(auth::SecretError::Config(
            "--jwt-verify-key-files needs --jwt-ed25519-key-file (verify-only keys are Ed25519)"
                .into(),
        )
        .into());
    }
    let secret = match &config.jwt_secret {
        Some(s) => s.expose().as_bytes().to_vec(),
        None => auth::load_or_create_secret(&config.jwt_secret_path())?,
    };
    Ok(TokenKeys::hs256(&secret, config.token_ttl_secs))
}

async fn bind(addr: SocketAddr) -> Result<(TcpListener, u16), StartupError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartupError::Bind { addr, source })?;
    let port = listener
        .local_addr()
        .map_err(|source| StartupError::Bind { addr, source })?
        .port();
    Ok((listener, port))
}

impl Application {
    pub async fn build(config: Config) -> Result<Application, StartupError> {
        let store = open_store(&config).await?;
        let blobs = open_blob_store(&config).await?;
        let tokens = token_keys(&config)?;
        if config.demo {
            demo::seed(store.as_ref()).await?;
        }
        let (listener, port) = bind(config.listen).await?;
        let (ops_listener, ops_port) = bind(config.ops_listen).await?;
        let metrics = Arc::new(Metrics::new());
        let feed_events = start_feed_events(&config, &metrics)?;
        let login_limiter = Arc::new(auth::LoginLimiter::from_config(&config));
        let state = AppState {
            store,
            blobs,
            config: Arc::new(config),
            metrics,
            tokens: Arc::new(tokens),
            login_limiter,
            feed_events,
            photo_index: Arc::new(TenantIndexes::new(
                photos::similarity::hash::ALGORITHM,
                photos::similarity::WINDOW_DAYS,
            )),
        };
        photos::check_settings(&state)
            .await
            .map_err(StartupError::InvalidInput)?;
        Ok(Application {
            listener,
            ops_listener,
            port,
            ops_port,
            state,
        })
    }

    /// Port of the API listener.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Port of the operations listener.
    pub fn ops_port(&self) -> u16 {
        self.ops_port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves both listeners until SIGINT or SIGTERM, then finishes in-flight requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let app = api_router(self.state.clone());
        // Photo clean-up (stale uploads, orphans); stops with the server.
        let _photo_gc = photos::gc::spawn(self.state.clone());
        // Purge of ended sessions and expired refresh tokens; stops with the server.
        let _session_purge = crate::sessions::purge::spawn(self.state.clone());
        // Hashes of photos stored before near-duplicate checks; stops with the server.
        let _photo_hash_backfill = photos::similarity::backfill::spawn(self.state.clone());
        // Re-checks of open orders after credit imports; stops with the server.
        let _credit_rechecks = crate::admin::csv_import::credit_recheck::spawn(self.state.clone());
        let metrics = self.state.metrics.clone();
        let connections = self.state.config.connections.clone();
        let feed_events = self.state.feed_events.clone();
        let ops = ops_router(self.state);
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            shutdown_signal().await;
            tracing::info!("shutting down");
            let _ = stop_tx.send(true);
            // Live streams never finish on their own; the graceful shutdown waits for them.
            feed_events.close();
        });
        let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };
        tracing::info!(port = self.port, ops_port = self.ops_port, "listening");
        // Timeouts and the connection cap; requests carry the peer address (login throttling).
        let limits = ListenerLimits {
            header_read_timeout: connections.header_read_timeout(),
            max_connections: connections.max_connections as usize,
        };
        let main = http::listener::serve(
            self.listener,
            app,
            limits,
            Some(metrics),
            stopped(stop_rx.clone()),
        );
        // The operations listener follows the same rules with its own, smaller cap; its
        // connections are not counted in the API's metrics.
        let ops_limits = ListenerLimits {
            max_connections: connections.ops_max_connections as usize,
            ..limits
        };
        let ops = http::listener::serve(self.ops_listener, ops, ops_limits, None, stopped(stop_rx));
        tokio::try_join!(main, ops)?;
        Ok(())
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}

/// `fieldsync-server serve`.
pub async fn serve(config: Config) -> Result<(), StartupError> {
    let app = Application::build(config).await?;
    app.run_until_stopped().await.map_err(StartupError::Serve)
}
