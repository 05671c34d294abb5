//! Building and running the application: [`Application::build`] opens the stores, loads the
//! signing key, seeds the demo tenant if asked, and binds both listeners (port 0 picks a free
//! port, which tests use); [`Application::run_until_stopped`] serves until SIGINT/SIGTERM.

use std::any::Any;
use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;

use crate::auth::{self, TokenKeys};
use crate::blobs::{self, BlobError, BlobStore, OpenBlobStoreError};
use crate::config::{Config, DatabaseLocation, UnsupportedDatabase, UserAdd};
use crate::demo::{self, DemoError};
use crate::error::{ApiError, ErrorBody};
use crate::feed_events::{self, FeedEvents, FeedSource};
use crate::metrics::{self, Metrics};
use crate::state::AppState;
use crate::store::directory::Tenant;
use crate::store::postgres::PgStore;
use crate::store::sqlite::SqliteStore;
use crate::store::{Store, StoreError};
use crate::{master_data, openapi, photos, telemetry};
use fieldsync_shared::master::UserProfile;
use fieldsync_shared::{PersonCode, TenantId, UserId};

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

/// `fieldsync-server keygen <path>`: writes a new Ed25519 private key and prints what the
/// operator needs (the public key for the other instances, the key id tokens will carry).
pub fn keygen(args: &crate::config::KeygenArgs) -> Result<(), StartupError> {
    let generated =
        auth::tokens::generate_ed25519_key(&args.path).map_err(auth::SecretError::from)?;
    println!(
        "wrote a new Ed25519 private key to {} (mode 0600)\n\
         start the server with FIELDSYNC_JWT_ED25519_KEY_FILE={}\n\
         key id (kid): {}\n\
         public key (for FIELDSYNC_JWT_VERIFY_KEY_FILES on instances during a rotation):\n{}",
        args.path.display(),
        args.path.display(),
        generated.kid,
        generated.public_pem.trim_end()
    );
    Ok(())
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
        let _session_purge = auth::session_purge::spawn(self.state.clone());
        let ops = ops_router(self.state);
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            shutdown_signal().await;
            tracing::info!("shutting down");
            let _ = stop_tx.send(true);
        });
        let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };
        tracing::info!(port = self.port, ops_port = self.ops_port, "listening");
        // With the peer address, for per-address login throttling.
        let main = axum::serve(
            self.listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(stopped(stop_rx.clone()));
        let ops = axum::serve(self.ops_listener, ops).with_graceful_shutdown(stopped(stop_rx));
        tokio::try_join!(main.into_future(), ops.into_future())?;
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

/// The API router: public `/health` and login, everything else behind the Bearer extractor.
pub fn api_router(state: AppState) -> Router {
    // JSON and sync endpoints share the sync body limit; photos stream their body and apply
    // their own (larger) limit.
    let limited = Router::new()
        .merge(auth::router())
        .merge(crate::sync::router())
        .merge(crate::queries::router())
        .merge(crate::history::router())
        .merge(master_data::router())
        .merge(crate::admin::router())
        .layer(DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(
            state.config.limits.max_body_bytes,
        ));
    let router = Router::new()
        .route("/health", get(health))
        .merge(limited)
        .merge(photos::router())
        // CSV imports: their own (10 MiB) limit.
        .merge(crate::admin::import_router())
        .layer(DefaultBodyLimit::disable())
        // Innermost first: a panic becomes a 500 that metrics and traces still see.
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::map_response(json_errors))
        .layer(middleware::map_response(close_after_too_large))
        .layer(middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::track,
        ));
    telemetry::layer(router).with_state(state)
}

/// The operations router: `/metrics`, `/openapi.json`, `/health`.
pub fn ops_router(state: AppState) -> Router {
    // Rendered once; the description does not change while the server runs.
    let spec: Arc<str> = match openapi::spec().to_json() {
        Ok(json) => json.into(),
        Err(e) => {
            tracing::error!(error = %e, "rendering the OpenAPI description failed");
            "{}".into()
        }
    };
    Router::new()
        .route("/metrics", get(metrics_text))
        .route(
            "/openapi.json",
            get(move || {
                let spec = spec.clone();
                async move {
                    (
                        [(
                            header::CONTENT_TYPE,
                            HeaderValue::from_static("application/json"),
                        )],
                        spec.to_string(),
                    )
                }
            }),
        )
        .route("/health", get(health))
        .with_state(state)
}

/// `GET /health` answer.
#[derive(Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct HealthBody {
    /// `ok`
    pub status: String,
    /// The server's crate version.
    pub version: String,
}

/// Liveness and database reachability.
#[utoipa::path(
    get,
    path = "/health",
    tag = "operations",
    responses(
        (status = 200, description = "Serving", body = HealthBody),
        (status = 503, description = "The database is unavailable", body = ErrorBody),
    )
)]
#[tracing::instrument(skip(state))]
pub async fn health(State(state): State<AppState>) -> Result<Json<HealthBody>, ApiError> {
    state.store.ping().await.map_err(|e| {
        tracing::warn!(error = %e, "health check: database unavailable");
        ApiError::Unavailable {
            message: "the database is unavailable".into(),
            retry_after_secs: 5,
        }
    })?;
    Ok(Json(HealthBody {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    }))
}

async fn metrics_text(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        state.metrics.render(),
    )
}

/// A 413 is answered before the rest of the body is read, so the connection cannot carry
/// another request: say so, or a client that pools connections sends its next request into a
/// socket the server is closing.
async fn close_after_too_large(mut resp: Response) -> Response {
    if resp.status() == StatusCode::PAYLOAD_TOO_LARGE {
        resp.headers_mut().insert(
            header::CONNECTION,
            header::HeaderValue::from_static("close"),
        );
    }
    resp
}

/// Gives the errors that axum and tower-http answer themselves the JSON error shape: 413 from
/// the body limit (`body_too_large`), 404 for unknown routes, 405 for unknown methods. JSON
/// answers (e.g. `photo_too_large`) pass through.
async fn json_errors(resp: Response) -> Response {
    let status = resp.status();
    if !matches!(
        status,
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
    ) {
        return resp;
    }
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return resp;
    }
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::too_large(
            "body_too_large",
            "the request body is larger than this endpoint accepts",
        )
        .into_response(),
        StatusCode::NOT_FOUND => ApiError::NotFound("route").into_response(),
        _ => {
            let allow = resp.headers().get(header::ALLOW).cloned();
            let body = ErrorBody {
                reason: "method_not_allowed".into(),
                message: "this route does not accept that method".into(),
            };
            let mut out = (status, Json(body)).into_response();
            if let Some(allow) = allow {
                out.headers_mut().insert(header::ALLOW, allow);
            }
            out
        }
    }
}

fn panic_response(err: Box<dyn Any + Send + 'static>) -> Response {
    let detail = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = %detail, "handler panicked");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(ErrorBody {
            reason: "internal".into(),
            message: "internal error; it has been logged".into(),
        }),
    )
        .into_response()
}

/// `fieldsync-server serve`.
pub async fn serve(config: Config) -> Result<(), StartupError> {
    let app = Application::build(config).await?;
    app.run_until_stopped().await.map_err(StartupError::Serve)
}

/// `fieldsync-server seed-demo`.
pub async fn seed_demo(config: &Config) -> Result<demo::SeedOutcome, StartupError> {
    let store = open_store(config).await?;
    let outcome = demo::seed(store.as_ref()).await?;
    match outcome {
        demo::SeedOutcome::Created => println!("demo tenant `demo` created (password demo1234)"),
        demo::SeedOutcome::AlreadyPresent => {
            println!("demo tenant `demo` already present; nothing changed")
        }
    }
    Ok(outcome)
}

/// `fieldsync-server user add`: creates the tenant if needed, then the user.
pub async fn add_user(
    config: &Config,
    add: &UserAdd,
    password: &str,
) -> Result<UserProfile, StartupError> {
    if password.chars().count() < 8 {
        return Err(StartupError::InvalidInput(
            "the password (first line of standard input) must have at least 8 characters".into(),
        ));
    }
    let code =
        PersonCode::parse(&add.code).map_err(|e| StartupError::InvalidInput(e.to_string()))?;
    let username = auth::normalize_username(&add.username);
    if username.is_empty() || add.name.trim().is_empty() || add.tenant.trim().is_empty() {
        return Err(StartupError::InvalidInput(
            "tenant, username and name must not be empty".into(),
        ));
    }
    let store = open_store(config).await?;
    let slug = add.tenant.trim().to_lowercase();
    let tenant = match store.find_tenant_by_slug(&slug).await? {
        Some(t) => t,
        None => {
            let t = Tenant {
                id: TenantId::new_random(),
                slug: slug.clone(),
                name: slug.clone(),
            };
            store.create_tenant(&t).await?;
            println!("created tenant `{slug}`");
            t
        }
    };
    let user = UserProfile {
        id: UserId::new_random(),
        tenant_id: tenant.id,
        username,
        display_name: add.name.trim().to_string(),
        role: add.role,
        code,
    };
    let hash = auth::hash_password(password.to_string())
        .await
        .map_err(|e| StartupError::InvalidInput(format!("hashing the password failed: {e}")))?;
    store.create_user(&user, &hash).await.map_err(|e| match e {
        StoreError::Conflict(_) => StartupError::InvalidInput(format!(
            "tenant `{slug}` already has a user named `{}` or with code `{}`",
            user.username, user.code
        )),
        other => other.into(),
    })?;
    println!(
        "created user `{}` ({}) in tenant `{slug}`",
        user.username,
        user.role.as_str()
    );
    Ok(user)
}

/// `fieldsync-server import <kind> <file> --tenant <slug>`: all rows or none, with progress on
/// standard error and, on refusal, one line per failing row.
pub async fn import_file(
    config: &Config,
    import: &crate::config::ImportArgs,
) -> Result<crate::admin::csv_import::ImportReport, StartupError> {
    use crate::admin::csv_import::{self, ImportError, Progress};
    struct Stderr;
    impl Progress for Stderr {
        fn rows_read(&self, rows: u64) {
            eprintln!("read {rows} rows");
        }
        fn phase(&self, phase: &str) {
            eprintln!("{phase}...");
        }
    }
    let bytes = std::fs::read(&import.file).map_err(|e| {
        StartupError::InvalidInput(format!("cannot read {}: {e}", import.file.display()))
    })?;
    let store = open_store(config).await?;
    let slug = import.tenant.trim().to_lowercase();
    let tenant = store
        .find_tenant_by_slug(&slug)
        .await?
        .ok_or_else(|| StartupError::InvalidInput(format!("no tenant `{slug}`")))?;
    match csv_import::run_import(
        store.as_ref(),
        tenant.id,
        import.kind,
        bytes.into(),
        Arc::new(Stderr),
    )
    .await
    {
        Ok(report) => {
            println!(
                "imported {} {} rows into `{slug}`: {} created, {} updated",
                report.rows, report.kind, report.created, report.updated
            );
            Ok(report)
        }
        Err(ImportError::Invalid(errors)) => {
            for e in &errors {
                let column = if e.column.is_empty() { "-" } else { &e.column };
                eprintln!("row {}, column {column}: {}", e.row, e.message);
            }
            Err(StartupError::InvalidInput(format!(
                "{} error(s) in {}; nothing was imported",
                errors.len(),
                import.file.display()
            )))
        }
        Err(ImportError::Store(e)) => Err(e.into()),
        Err(ImportError::Api(e)) => Err(StartupError::InvalidInput(e.to_string())),
    }
}
