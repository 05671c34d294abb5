//! Devices and their sessions (docs/auth.md): the registry of devices ([`registry`]) and the
//! sessions with their refresh tokens ([`sessions`]) and the web console's sign-ins on top of
//! sessions ([`console`]). [`DeviceStore`] is all three.
//!
//! Both engines run the same SQL (`$N` placeholders work on SQLite too), so each part's two
//! implementations are one macro body instantiated for [`SqliteStore`] and [`PgStore`].
//!
//! [`SqliteStore`]: super::sqlite::SqliteStore
//! [`PgStore`]: super::postgres::PgStore

pub mod console;
pub mod registry;
pub mod sessions;

pub use console::{ConsoleSessionRecord, ConsoleSessionStore, NewConsoleSession};
pub use registry::{ActorOwner, DeviceRecord, DeviceRegistryStore};
pub use sessions::{
    capped_expiry, session_aged_out, DeviceRefusal, DeviceRegistration, NewRefreshToken,
    PurgeCounts, RefreshRefusal, RevokeReason, Rotation, SessionAuth, SessionInfo, SessionStore,
    PURGE_BATCH,
};

/// Devices, sessions and console sign-ins.
pub trait DeviceStore: DeviceRegistryStore + SessionStore + ConsoleSessionStore {}

impl<T: DeviceRegistryStore + SessionStore + ConsoleSessionStore> DeviceStore for T {}
