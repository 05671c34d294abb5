//! Fieldsync device SDK: what runs on a phone (and in the `fieldsync` CLI, which acts as one).
//!
//! * [`Device`]: one installation: an SQLite database (`device.db`, WAL) in a data directory,
//!   holding Automerge documents (visits, orders), offline master data and the photo queue.
//! * Edit operations ([`Device::check_in`], [`Device::set_order_line`], ...) run the shared
//!   business rules (`fieldsync_shared::rules`) on the would-be state and commit only if nothing
//!   blocks; the change is durable in SQLite before the call returns.
//! * [`Device::sync`] exchanges changes with the server (`POST /v1/sync`, CBOR), uploads photos
//!   and refreshes master data. A failed sync loses nothing and can be retried.
//!
//! The library is synchronous (no async runtime) so that it can be wrapped with uniffi for
//! Kotlin and Swift; every method takes `&self` and `Device` is `Send + Sync`.

mod background;
mod device;
mod error;
mod http;
mod orders;
mod photos;
mod refused_edits;
mod review;
mod schema;
mod store;
mod sync;
mod uploads;
mod visits;

pub use background::{BackgroundSync, SyncObserver, SyncSchedule, SyncState};
pub use device::Device;
pub use error::DeviceError;
pub use schema::SCHEMA_VERSION;
pub use store::PhotoState;
pub use uploads::{PhotoUpload, ThumbnailState};

// Re-exported so that callers (the CLI, tests, bindings) use the same types as the API.
pub use fieldsync_shared::master::{CreditSnapshot, MasterDataPage, Product, Store, UserProfile};
pub use fieldsync_shared::order::{Order, OrderNumber, OrderStatus, PaymentMethod};
pub use fieldsync_shared::org::{OrgView, Relation};
pub use fieldsync_shared::policy::{Field, Refusal};
pub use fieldsync_shared::rules::{Finding, Severity, Verdict};
pub use fieldsync_shared::visit::{Visit, VisitStatus, VisitStep};
pub use fieldsync_shared::{Date, DeviceId, DocId, DocKind, Money, Sha256, StoreId, Timestamp};

use serde::Serialize;

/// A location fix as the phone's OS reports it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GeoFix {
    pub lat: f64,
    pub lon: f64,
    /// Reported horizontal accuracy, metres.
    pub accuracy_m: f64,
    /// The OS says the fix came from a mock location provider.
    pub mocked: bool,
}

/// One shelf observation as the user enters it (strings are parsed by the device).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditInput {
    pub sku: String,
    pub location: String,
    pub facings: u32,
    pub on_shelf: bool,
    pub shelf_price: Option<Money>,
    pub oldest_production_date: Option<Date>,
}

/// What one [`Device::sync`] did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SyncReport {
    /// `POST /v1/sync` round trips.
    pub rounds: u32,
    /// Documents whose pushed changes the server stored.
    pub docs_pushed: u32,
    /// Changes sent in those documents.
    pub changes_pushed: u32,
    /// Documents received (or updated) from the server.
    pub docs_received: u32,
    /// Documents deleted because the user may no longer see them (a store moved to another
    /// territory, the user changed team; docs/read-scopes.md). The user's own documents are
    /// never deleted.
    pub evicted: u32,
    pub photos_uploaded: u32,
    /// Documents the server refused; their local data is kept.
    pub refused: Vec<RefusedDoc>,
    /// Effects of this device's edits that the server's write policies refused: the edits
    /// were stored, and undone by a change of the server's that this sync also pulled. Kept on
    /// the device too ([`Device::refused_edits`]).
    pub refused_edits: Vec<RefusedEditReport>,
    /// The server did not recognise our cursor (e.g. restored from a backup): everything was
    /// pushed and pulled again.
    pub reset: bool,
    /// Things that did not go through: photos that stay queued (offline, server errors, file
    /// missing) or failed (corrupt file, refused by the server), documents that could not be
    /// read.
    pub warnings: Vec<String>,
}

/// A document the server refused as a whole (nothing of it stored there).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RefusedDoc {
    pub doc_id: DocId,
    pub reason: String,
    pub message: String,
}

/// One effect of this device's edits that a write policy on the server refused and undid,
/// e.g. a note added to a visit its supervisor approved meanwhile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RefusedEditReport {
    pub doc_id: DocId,
    /// The part of the document: `status`, `notes`, `audit`, ... (`shared::policy::Field`).
    pub field: String,
    /// Stable code, e.g. `visit_frozen`.
    pub code: String,
    /// For the person holding the phone.
    pub message: String,
    /// When this device learned of it.
    pub at: Timestamp,
}

/// Work on this device the server does not have yet.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Pending {
    /// Documents with changes the server has not acknowledged.
    pub documents: u32,
    /// Number of such changes, over all documents.
    pub changes: u32,
    /// Photos queued for upload (not yet confirmed stored by the server).
    pub photos: u32,
    /// Photos that cannot be uploaded as they are (see [`Device::retry_failed_photos`]); not
    /// counted in `photos`, and not retried by `sync()`.
    pub photos_failed: u32,
    /// The pending documents.
    pub docs: Vec<PendingDoc>,
}

impl Pending {
    /// Nothing left to sync.
    pub fn is_empty(&self) -> bool {
        self.documents == 0 && self.photos == 0
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PendingDoc {
    pub doc_id: DocId,
    pub kind: DocKind,
    pub changes: u32,
}
