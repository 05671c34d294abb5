//! The relational store: traits by resource, one implementation per database engine.
//!
//! * [`documents::DocumentStore`]: CRDT documents, their changes, the feed, query projections
//!   (one macro body, `documents_sql`, the same SQL on both engines; `documents_rows` decodes its rows;
//!   `sql_fragments` holds the SQL pieces every store splices in: JSON id lists, the projection
//!   listing).
//! * [`directory::DirectoryStore`]: tenants, users, master data (one macro body,
//!   `directory_sql`). Plans are a third kind of document: their projection's SQL is
//!   `plans_sql`, expanded in the same body.
//! * [`photos::PhotoStore`]: photo metadata, declared uploads, thumbnails (one macro body,
//!   `photos_sql`).
//! * [`photo_hashes::PhotoHashStore`]: perceptual hashes of photos for the near-duplicate
//!   check (one macro body, `photo_hashes_sql`).
//! * [`organisation::OrganisationStore`]: one store per aggregate (users, regions, teams,
//!   territories, read scope) with the all-or-nothing imports (one macro body each, the same
//!   SQL on both engines).
//! * [`devices::DeviceStore`]: registered devices, sessions, refresh tokens (one macro body).
//! * [`plans::PlanStore`]: what the planner and the visit-frequency report read (one macro
//!   body, `plans_sql`, which also holds the plan projection's writes).
//! * [`expenses::ExpenseStore`]: each tenant's expense budget and a person's documents of a
//!   month for the expense rule (one macro body, `expenses_sql`, which also holds the expense
//!   projection's writes).
//! * [`sales::SalesStore`]: orders and expenses of many people over a month and the sale
//!   facts of the manager's monthly report (one macro body, `sales_sql`).
//! * [`deliveries::DeliveryStore`]: the monthly report's counts of orders due and delivered
//!   on time or late per person (one macro body, `deliveries_sql`).
//! * [`targets::TargetStore`]: sales targets and their change requests (one macro body,
//!   `targets_sql`).
//! * [`promotions::PromotionStore`]: promotions and display agreements (one macro body,
//!   `promotions_sql`).
//! * [`success::SuccessStore`]: pictures of success (one macro body, `success_sql`).
//! * [`agreements::AgreementStore`]: annual agreements (one macro body, `agreements_sql`).
//! * [`verdicts::VerdictStore`]: findings of the server's rules and flags, and the master rows
//!   a submission is judged against (one macro body, `verdicts_sql`).
//!
//! [`Store`] is all of them; `Arc<dyn Store>` is what handlers hold. [`sqlite::SqliteStore`] is the
//! embedded default, [`postgres::PgStore`] the one for scale (chosen with a `postgres://`
//! `DATABASE_URL`). The conformance tests in `server/tests/documents_store.rs` and
//! `server/tests/directory_store.rs` run against both.

pub mod agreements;
mod agreements_sql;
pub mod competitors;
mod competitors_sql;
mod decode;
pub mod deliveries;
mod deliveries_sql;
pub mod devices;
pub mod directory;
mod directory_sql;
pub mod documents;
mod documents_rows;
mod documents_sql;
pub mod expenses;
mod expenses_sql;
pub mod organisation;
pub mod photo_hashes;
mod photo_hashes_sql;
pub mod photos;
mod photos_sql;
pub mod plans;
mod plans_sql;
pub mod postgres;
pub mod promotions;
mod promotions_sql;
pub mod sales;
mod sales_sql;
mod sql_fragments;
pub mod sqlite;
pub mod success;
mod success_sql;
pub mod targets;
mod targets_sql;
pub mod verdicts;
mod verdicts_sql;

pub use agreements::AgreementStore;
pub use competitors::CompetitorStore;
pub use deliveries::DeliveryStore;
pub use devices::DeviceStore;
pub use directory::DirectoryStore;
pub use documents::DocumentStore;
pub use expenses::ExpenseStore;
pub use organisation::OrganisationStore;
pub use photo_hashes::PhotoHashStore;
pub use photos::PhotoStore;
pub use plans::PlanStore;
pub use promotions::PromotionStore;
pub use sales::SalesStore;
pub use success::SuccessStore;
pub use targets::TargetStore;
pub use verdicts::VerdictStore;

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
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e.to_string()),
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(db.message().to_string())
            }
            sqlx::Error::Database(db) if is_transient(db.as_ref()) => {
                StoreError::Unavailable(db.message().to_string())
            }
            sqlx::Error::RowNotFound => StoreError::NotFound("row"),
            _ => StoreError::Database(e),
        }
    }
}

/// Database errors that say "not now" rather than "never": the API answers them with 503 and
/// `Retry-After`, not 500.
fn is_transient(db: &dyn sqlx::error::DatabaseError) -> bool {
    if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        return pg_sqlstate_is_transient(pg.code());
    }
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        // SQLITE_BUSY (5) and SQLITE_LOCKED (6), also as extended codes (low byte).
        return db
            .code()
            .and_then(|c| c.parse::<i32>().ok())
            .is_some_and(|c| matches!(c & 0xff, 5 | 6));
    }
    false
}

/// PostgreSQL SQLSTATEs after which the same request may succeed later.
pub(crate) fn pg_sqlstate_is_transient(code: &str) -> bool {
    code.starts_with("08") // connection exception
        || code.starts_with("53") // insufficient resources (too many connections, disk full, out of memory)
        || code.starts_with("57P") // admin/crash shutdown, cannot connect now, database dropped
        || matches!(
            code,
            "57014" // query_canceled: statement_timeout
                | "40001" // serialization_failure
                | "40P01" // deadlock_detected
                | "55P03" // lock_not_available: lock_timeout
                | "25006" // read_only_sql_transaction: connected to a standby during failover
        )
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Everything the server needs from its relational database.
pub trait Store:
    DocumentStore
    + CompetitorStore
    + DirectoryStore
    + PhotoStore
    + PhotoHashStore
    + OrganisationStore
    + DeviceStore
    + VerdictStore
    + PlanStore
    + ExpenseStore
    + SalesStore
    + DeliveryStore
    + TargetStore
    + PromotionStore
    + SuccessStore
    + AgreementStore
    + Send
    + Sync
    + 'static
{
}
impl<T> Store for T where
    T: DocumentStore
        + CompetitorStore
        + DirectoryStore
        + PhotoStore
        + PhotoHashStore
        + OrganisationStore
        + DeviceStore
        + VerdictStore
        + PlanStore
        + ExpenseStore
        + SalesStore
        + DeliveryStore
        + TargetStore
        + PromotionStore
        + SuccessStore
        + AgreementStore
        + Send
        + Sync
        + 'static
{
}
