//! The relational store: traits by resource, one implementation per database engine.
//!
//! * [`documents::DocumentStore`]: CRDT documents, their changes, the feed, query projections.
//! * [`directory::DirectoryStore`]: tenants, users, master data, photo metadata.
//!
//! [`Store`] is both; `Arc<dyn Store>` is what handlers hold. [`sqlite::SqliteStore`] is the
//! embedded default. The conformance tests in `tests/store_conformance.rs` run against every
//! implementation.

pub mod directory;
pub mod documents;
pub mod sqlite;

pub use directory::DirectoryStore;
pub use documents::DocumentStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or is overloaded: retry later (HTTP 503).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A uniqueness or optimistic-concurrency conflict.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Stored data that does not decode (corruption or a bug).
    #[error("corrupt data: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                StoreError::Unavailable(e.to_string())
            }
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(db.message().to_string())
            }
            sqlx::Error::RowNotFound => StoreError::NotFound("row"),
            _ => StoreError::Database(e),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Everything the server needs from its relational database.
pub trait Store: DocumentStore + DirectoryStore + Send + Sync + 'static {}
impl<T: DocumentStore + DirectoryStore + Send + Sync + 'static> Store for T {}
