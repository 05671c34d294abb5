//! The organisation, one module per aggregate: users with their team ([`users`]), managers'
//! regions ([`regions`]), supervisors' teams ([`teams`]), territories, the stores reps and
//! merchandisers cover ([`territories`]), and the read scope they add up to ([`scope`]).
//! [`OrganisationStore`] is all of them.
//!
//! Both engines run the same SQL (`$N` placeholders work on SQLite too), so each aggregate's
//! implementations are one macro body instantiated for [`SqliteStore`] and [`PgStore`]; the
//! steps their writes share are in `writes`. Every statement is bound to a tenant; references
//! to rows of another tenant are refused with `NotFound` inside the writing transaction, and
//! every write takes the next master data version (`org_changed`) as its first statement.
//!
//! [`SqliteStore`]: super::sqlite::SqliteStore
//! [`PgStore`]: super::postgres::PgStore

pub mod regions;
pub mod scope;
pub mod teams;
pub mod territories;
pub mod users;
mod writes;

pub use regions::{Region, RegionStore};
pub use scope::{DeviceScopeRow, ScopeRows, ScopeStore};
pub use teams::{Team, TeamStore};
pub use territories::{Territory, TerritoryImport, TerritoryStore};
pub use users::{OrgUser, OrgUserStore, UserImport};

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ImportCounts {
    pub created: u64,
    pub updated: u64,
}

/// The whole organisation: every aggregate's store.
pub trait OrganisationStore:
    ScopeStore + OrgUserStore + RegionStore + TeamStore + TerritoryStore
{
}

impl<T: ScopeStore + OrgUserStore + RegionStore + TeamStore + TerritoryStore> OrganisationStore
    for T
{
}
