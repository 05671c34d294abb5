//! `Device`, the device SDK's API: one app installation. Its methods are thin and arranged by
//! capability, one file each; they call the logic below them (`edits`, `sync`, `send_queue`,
//! `store`) with the device's [`Database`].
//!
//! * `session.rs`: login, logout, the signed-in profile, the session's tokens.
//! * `master_data.rs`: stores, products, credit snapshots, the user's org view (offline).
//! * `documents.rs`: raw document access (save bytes, heads, kinds, ids).
//! * `visits.rs`, `orders.rs`, `review.rs`, `photos.rs`: the edit operations.
//! * `competitors.rs`: competitor sightings of a visit.
//! * `plans.rs`: weekly visit plans; `expenses.rs`: expenses; `reports.rs`: the rep's weekly
//!   report, offline.
//! * `sync.rs`: sync, pending work, refused edits, documents received outside sync.

mod competitors;
mod documents;
mod expenses;
mod master_data;
mod network;
mod orders;
mod photos;
mod plans;
mod promotions;
mod reports;
mod review;
mod session;
mod stock;
mod success;
mod sync;
mod visits;

use std::path::Path;

use fieldsync_shared::DeviceId;

use crate::error::Result;
use crate::store::Database;

pub use expenses::NewExpense;
pub use plans::PlanSettings;
pub use promotions::RunningPromotion;
pub use review::ReviewItem;
pub use stock::SuggestedLine;
pub use success::{ScoredPoint, SuccessView};
pub use visits::{AuditInput, ExpectedSku, GeoFix};

/// One installation of the app: a data directory with its SQLite database and photo folder.
///
/// All methods take `&self`; the single SQLite connection sits behind a mutex (SQLite has one
/// writer anyway), so a `Device` can be shared between threads (`Send + Sync`).
pub struct Device {
    db: Database,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("dir", &self.db.dir())
            .field("device_id", &self.db.device_id())
            .finish_non_exhaustive()
    }
}

impl Device {
    /// Opens the device stored in `dir` (created if needed). The device id and the Automerge
    /// actor id are generated once, when the database is created, and never change: a new
    /// database (a reinstall) is a new device and a new actor.
    pub fn open(dir: &Path) -> Result<Device> {
        Ok(Device {
            db: Database::open(dir)?,
        })
    }

    pub fn device_id(&self) -> DeviceId {
        self.db.device_id()
    }

    /// The Automerge actor of this installation's edits (the server binds it to the device
    /// at login): for tools that write a device's documents themselves, like load generators.
    pub fn actor_id(&self) -> automerge::ActorId {
        self.db.actor().clone()
    }

    /// The data directory this device lives in.
    pub fn data_dir(&self) -> &Path {
        self.db.dir()
    }

    /// The device database: for the background sync's live stream (its session and cursor)
    /// and for tests inside the crate.
    pub(crate) fn database(&self) -> &Database {
        &self.db
    }
}
