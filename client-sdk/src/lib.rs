//! Fieldsync device SDK: what runs on a phone (and in the `fieldsync` CLI, which acts as one).
//!
//! * [`Device`]: one installation: an SQLite database (`device.db`, WAL) in a data directory,
//!   holding Automerge documents (visits, orders), offline master data and the photo queue.
//! * Edit operations ([`Device::check_in`], [`Device::set_order_line`], ...) run the shared
//!   business rules (`fieldsync_shared::rules`) on the would-be state and commit only if nothing
//!   blocks; the change is durable in SQLite before the call returns.
//! * [`Device::sync`] refreshes master data, exchanges changes with the server (`POST /v1/sync`,
//!   CBOR), then sends the send queue (thumbnails first, then photos). A failed sync loses
//!   nothing and can be retried.
//!
//! The modules are layered (docs/architecture.md, "Layers of client-sdk"): `device/` is the API,
//! over `edits`, `sync/` and `send_queue/`, over `http/` and `store/`. This file only declares
//! them and re-exports the public types from the modules that own them.
//!
//! The library is synchronous (no async runtime) so that it can be wrapped with uniffi for
//! Kotlin and Swift; every method takes `&self` and `Device` is `Send + Sync`.

mod background;
mod device;
mod edits;
mod error;
mod http;
mod network_policy;
mod photo_capture;
mod schema;
mod send_queue;
mod store;
mod sync;
mod sync_status;

pub use background::{BackgroundSync, SyncObserver, SyncSchedule, SyncState};
pub use device::{
    AuditInput, Device, ExpectedSku, GeoFix, NewExpense, PlanSettings, ReviewItem,
    RunningPromotion, ScoredPoint, SuccessView, SuggestedLine,
};
pub use error::DeviceError;
pub use http::{LiveChange, LiveEvent};
pub use network_policy::{Connectivity, PhotoNetworks};
pub use schema::SCHEMA_VERSION;
pub use send_queue::PhotoUpload;
pub use store::{PhotoState, RefusedEditReport, ThumbnailState};
pub use sync::{FindingReport, Pending, PendingDoc, RefusedDoc, SyncReport};
pub use sync_status::{SyncFailure, SyncStatus};

// Re-exported so that callers (the CLI, tests, bindings) use the same types as the API.
pub use fieldsync_shared::expense::{Approver, Expense, ExpenseStatus, ExpenseType};
pub use fieldsync_shared::master::{CreditSnapshot, MasterDataPage, Product, Store, UserProfile};
pub use fieldsync_shared::order::{Order, OrderNumber, OrderStatus, PaymentMethod};
pub use fieldsync_shared::org::{OrgView, Relation};
pub use fieldsync_shared::policy::{Field, Refusal};
pub use fieldsync_shared::rules::{Finding, Severity, Verdict};
pub use fieldsync_shared::visit::{
    CompetitorDisplay, CompetitorSighting, SightingId, SightingInput, Visit, VisitStatus, VisitStep,
};
pub use fieldsync_shared::{Date, DeviceId, DocId, DocKind, Money, Sha256, StoreId, Timestamp};
