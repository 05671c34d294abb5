//! Devices and their sessions (docs/auth.md): the registry of devices ([`registry`]) and the
//! sessions with their refresh tokens ([`sessions`]). [`DeviceStore`] is both.
//!
//! Both engines run the same SQL (`$N` placeholders work on SQLite too), so each part's two
//! implementations are one macro body instantiated for [`SqliteStore`] and [`PgStore`].
//!
//! [`SqliteStore`]: super::sqlite::SqliteStore
//! [`PgStore`]: super::postgres::PgStore

pub mod registry;
pub mod sessions;

pub use registry::{ActorOwner, DeviceRecord, DeviceRegistryStore};
pub use sessions::{
    capped_expiry, session_aged_out, DeviceRefusal, DeviceRegistration, NewRefreshToken,
    PurgeCounts, RefreshRefusal, RevokeReason, Rotation, SessionAuth, SessionInfo, SessionStore,
    PURGE_BATCH,
};

/// Devices and sessions.
pub trait DeviceStore: DeviceRegistryStore + SessionStore {}

impl<T: DeviceRegistryStore + SessionStore> DeviceStore for T {}
