//! Tenants, users and master data (stores, products, credit snapshots, approval tiers).

use std::collections::HashSet;
use std::fmt;

use fieldsync_shared::master::{
    AssortmentRow, CreditSnapshot, MasterDataPage, Product, Store, UserProfile,
};
use fieldsync_shared::tiers::ApprovalTiers;
use fieldsync_shared::{StoreId, TenantId, Timestamp, UserId};

use super::StoreResult;

/// A customer company. `slug` is what people type at login (`demo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    pub slug: String,
    pub name: String,
}

/// A user as stored, with the password hash (never serialised, redacted in `Debug`).
#[derive(Clone)]
pub struct UserRecord {
    pub profile: UserProfile,
    /// PHC string of an argon2id hash.
    pub password_hash: String,
}

impl fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserRecord")
            .field("profile", &self.profile)
            .field("password_hash", &"[redacted]")
            .finish()
    }
}

/// Whether a new credit snapshot of a store changes what the credit rule decides, given the one
/// it replaces (`None`: its first): such a store's open orders are re-checked.
pub type CreditChanged = fn(Option<&CreditSnapshot>, &CreditSnapshot) -> bool;

/// Tenants, users, master data. Every query is bound to a tenant.
#[async_trait::async_trait]
pub trait DirectoryStore: Send + Sync {
    /// Cheap liveness probe for `/health`.
    async fn ping(&self) -> StoreResult<()>;

    /// Creates a tenant; `Conflict` if the id or slug is taken.
    async fn create_tenant(&self, tenant: &Tenant) -> StoreResult<()>;
    async fn find_tenant_by_slug(&self, slug: &str) -> StoreResult<Option<Tenant>>;

    /// Creates a user; `Conflict` if the username or code is taken in the tenant.
    async fn create_user(&self, user: &UserProfile, password_hash: &str) -> StoreResult<()>;
    async fn find_user_by_username(
        &self,
        tenant: TenantId,
        username: &str,
    ) -> StoreResult<Option<UserRecord>>;
    async fn find_user(&self, tenant: TenantId, user: UserId) -> StoreResult<Option<UserProfile>>;

    /// Inserts or updates stores by id (a store's code stays unique in its tenant). All rows
    /// get one new master version, which is returned.
    async fn upsert_stores(&self, tenant: TenantId, stores: &[Store]) -> StoreResult<i64>;
    /// Inserts or updates products by SKU; returns the new master version.
    async fn upsert_products(&self, tenant: TenantId, products: &[Product]) -> StoreResult<i64>;
    /// Inserts or replaces each store's credit snapshot; returns the new master version.
    /// `NotFound` if a snapshot names a store this tenant does not have. Queues no re-check.
    async fn upsert_credit(&self, tenant: TenantId, credit: &[CreditSnapshot]) -> StoreResult<i64> {
        self.import_credit(tenant, credit, |_, _| false, Timestamp::now())
            .await
    }
    /// [`upsert_credit`](Self::upsert_credit), and in the same transaction queues for a
    /// re-check of its open orders (`credit_rechecks`, at `at`, unless already waiting) every
    /// store whose new snapshot `changed` says changes its credit, against the snapshot it
    /// replaces as read in that transaction: a changed credit is never stored without its
    /// re-check, and a failure stores neither.
    async fn import_credit(
        &self,
        tenant: TenantId,
        credit: &[CreditSnapshot],
        changed: CreditChanged,
        at: Timestamp,
    ) -> StoreResult<i64>;
    /// Which of `stores` are stores of this tenant's master data.
    async fn known_stores(
        &self,
        tenant: TenantId,
        stores: &[StoreId],
    ) -> StoreResult<HashSet<StoreId>>;
    /// The tenant's approval tiers; `None`: it set none (the defaults apply).
    async fn approval_tiers(&self, tenant: TenantId) -> StoreResult<Option<ApprovalTiers>>;
    /// Replaces the tenant's approval tiers (validated by the caller) at a new master version,
    /// which is returned.
    async fn set_approval_tiers(&self, tenant: TenantId, tiers: &ApprovalTiers)
        -> StoreResult<i64>;
    /// Replaces the tenant's must-carry range with `rows` at a new master version, which is
    /// returned (and recorded as the range's version). `NotFound` if a row names a store this
    /// tenant does not have.
    async fn replace_assortment(
        &self,
        tenant: TenantId,
        rows: &[AssortmentRow],
    ) -> StoreResult<i64>;
    /// The tenant's must-carry range, and the master version it was last replaced at (0:
    /// never).
    async fn assortment(&self, tenant: TenantId) -> StoreResult<(Vec<AssortmentRow>, i64)>;
    /// Master rows with `version > since`. A `since` newer than anything this tenant has
    /// (restored database, other server) is answered with everything.
    async fn master_page(&self, tenant: TenantId, since: i64) -> StoreResult<MasterDataPage>;
}
