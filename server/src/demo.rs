//! The demo tenant (`fieldsync-server --demo`, `fieldsync-server seed-demo`).
//!
//! Its data are the CSV files in `server/demo/`, in the formats of a customer's import, and go
//! through the same import pipeline ([`crate::admin::csv_import`]), so the demo also proves the
//! import. What the files cannot say is here: the tenant, the password, the region and the team
//! (no import kind has them), and the ids, derived from names so that docs and tests can name
//! rows. `credit.csv` dates its snapshots `{today-N}`, N days before the seed.
//!
//! * Tenant slug `demo` ("Demo Beverages Co. (Wuhan)"), id [`demo_tenant_id`].
//! * Users (`users.csv`), all with password `demo1234`: `sup1` (supervisor, S001), `rep1`
//!   (rep, R001), `rep2` (rep, R002), `merch1` (merchandiser, M001), `mgr1` (manager, M100),
//!   `admin` (admin, A001).
//! * 30 stores in Wuhan (`stores.csv`), within about 13 km of 30.5928 N 114.3055 E:
//!   `NKA-001`..`NKA-008`, `RKA-001`..`RKA-008`, `LKA-001`..`LKA-008`, `OTH-001`..`OTH-006`;
//!   geofences 80-200 m, delivery lead 1-3 days.
//! * 50 products (`products.csv`), SKUs such as `COLA-330`, `TEA-500`, `WATER-550`; floor
//!   price 85 % of list.
//! * A credit snapshot for every store (`credit.csv`), as of the day before seeding, except:
//!   - **overdue debt** (orders blocked): `NKA-003`, `RKA-005`, `LKA-002`, `OTH-004`;
//!   - **stale snapshot** (as of 45 days before seeding; orders go to approval): `LKA-006`;
//!   - **at its credit limit** (receivables 98 % of limit, no overdue): `OTH-006`.
//! * Approval tiers ([`demo_tiers`]): discounts a rep 10 %, a supervisor 15 %, a manager 25 %;
//!   orders a rep alone up to 5,000.00, a supervisor up to 20,000.00, a manager any; expenses
//!   a rep up to 200.00, a supervisor up to 1,000.00, a manager any.
//! * Organisation: region `武汉 Wuhan` (manager `mgr1`); team `武汉KA一组 Wuhan KA Team 1`
//!   in that region, supervisor `sup1`, members `rep1`, `rep2`, `merch1`; territories
//!   (`territories.csv`) `rep1 NKA+RKA` (`NKA-*`, `RKA-*`; rep1), `rep2 LKA+OTH` (`LKA-*`,
//!   `OTH-*`; rep2) and `merch1 NKA` (`NKA-*`; merch1). Ids from [`demo_region_id`],
//!   [`demo_team_id`], [`demo_territory_id`].
//! * Annual agreements of the seed's year (`agreements.csv`, `{year}` replaced): `NKA-001`
//!   (three listed SKUs, 12 display weeks, 4 promotions) and `RKA-001` (one listed SKU, 26
//!   shelf-position weeks), so the console's agreements page has something to show.

use std::sync::Arc;

use axum::body::Bytes;
use fieldsync_shared::tiers::{ApprovalTiers, RoleLimits};
use fieldsync_shared::{Date, Money, StoreCode, StoreId, TenantId, Timestamp, UserId};
use sha2::Digest;
use uuid::Uuid;

use crate::admin::approval_tiers::{self, SaveError};
use crate::admin::csv_import::{run_import, ImportError, ImportKind, NewRows, Silent};
use crate::http::ApiError;
use crate::store::directory::Tenant;
use crate::store::organisation::{Region, Team};
use crate::store::{Store as DataStore, StoreError};

pub const DEMO_TENANT: &str = "demo";
pub const DEMO_PASSWORD: &str = "demo1234";
/// Store codes with overdue receivables.
pub const OVERDUE_STORES: &[&str] = &["NKA-003", "RKA-005", "LKA-002", "OTH-004"];
/// Store code whose credit snapshot is stale.
pub const STALE_CREDIT_STORE: &str = "LKA-006";
/// Store code whose receivables are at 98 % of its credit limit.
pub const AT_LIMIT_STORE: &str = "OTH-006";
/// Days before seeding of the stale snapshot.
pub const STALE_DAYS: i64 = 45;
pub const DEMO_REGION: &str = "武汉 Wuhan";
pub const DEMO_TEAM: &str = "武汉KA一组 Wuhan KA Team 1";
/// The territories of `territories.csv`.
pub const DEMO_TERRITORIES: &[&str] = &["rep1 NKA+RKA", "rep2 LKA+OTH", "merch1 NKA"];

// The files, in import order: stores before the credit and territories that name them,
// users before the territories they cover.
const STORES_CSV: &str = include_str!("../demo/stores.csv");
const PRODUCTS_CSV: &str = include_str!("../demo/products.csv");
const CREDIT_CSV: &str = include_str!("../demo/credit.csv");
const USERS_CSV: &str = include_str!("../demo/users.csv");
const TERRITORIES_CSV: &str = include_str!("../demo/territories.csv");
const AGREEMENTS_CSV: &str = include_str!("../demo/agreements.csv");

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the demo {kind} file does not import: {source}")]
    Import {
        kind: &'static str,
        source: ImportError,
    },
    #[error("the demo approval tiers are refused: {0}")]
    Tiers(#[from] SaveError),
}

/// What [`seed`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedOutcome {
    Created,
    AlreadyPresent,
}

/// A stable UUID (version 8) derived from `name`.
fn demo_uuid(name: &str) -> Uuid {
    let digest = sha2::Sha256::digest(format!("fieldsync-demo/{name}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

pub fn demo_tenant_id() -> TenantId {
    TenantId(demo_uuid("tenant"))
}

pub fn demo_user_id(username: &str) -> UserId {
    UserId(demo_uuid(&format!("user/{username}")))
}

/// The id of the demo store with `code`, e.g. `NKA-001`.
pub fn demo_store_id(code: &str) -> StoreId {
    StoreId(demo_uuid(&format!("store/{code}")))
}

/// The demo tenant's approval tiers (amounts in fen).
pub fn demo_tiers() -> ApprovalTiers {
    ApprovalTiers {
        discount_bp: RoleLimits {
            rep: Some(1000),
            supervisor: Some(1500),
            manager: Some(2500),
        },
        order_amount: RoleLimits {
            rep: Some(Money(500_000)),
            supervisor: Some(Money(2_000_000)),
            manager: None,
        },
        expense_amount: RoleLimits {
            rep: Some(Money(20_000)),
            supervisor: Some(Money(100_000)),
            manager: None,
        },
    }
}

pub fn demo_region_id() -> Uuid {
    demo_uuid("region/wuhan")
}

pub fn demo_team_id() -> Uuid {
    demo_uuid("team/sup1")
}

/// The id of the demo territory named `name` (see [`DEMO_TERRITORIES`]).
pub fn demo_territory_id(name: &str) -> Uuid {
    demo_uuid(&format!("territory/{name}"))
}

/// The demo's rows get ids derived from their names, and its users the demo password.
struct DemoRows;

#[async_trait::async_trait]
impl NewRows for DemoRows {
    fn store_id(&self, code: &StoreCode) -> StoreId {
        demo_store_id(code.as_str())
    }

    fn user_id(&self, username: &str) -> UserId {
        demo_user_id(username)
    }

    fn territory_id(&self, name: &str) -> Uuid {
        demo_territory_id(name)
    }

    async fn password_hash(&self) -> Result<String, ApiError> {
        crate::auth::hash_password(DEMO_PASSWORD.to_string()).await
    }
}

/// `credit.csv` with each `{today-N}` replaced by the date N days before `today`.
fn credit_csv(today: Date) -> String {
    const OPEN: &str = "{today-";
    let mut out = String::with_capacity(CREDIT_CSV.len());
    let mut rest = CREDIT_CSV;
    while let Some(start) = rest.find(OPEN) {
        out.push_str(&rest[..start]);
        let tail = &rest[start + OPEN.len()..];
        match tail
            .split_once('}')
            .and_then(|(n, after)| Some((n.parse::<i64>().ok()?, after)))
        {
            Some((days, after)) => {
                out.push_str(&today.add_days(-days).to_string());
                rest = after;
            }
            // Left as it is: the import refuses the cell and says where.
            None => {
                out.push_str(OPEN);
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Creates the demo tenant and its data. Does nothing if a previous seed completed (the
/// territories, imported last in one transaction, exist); a seed interrupted half-way is
/// completed (the imports upsert, the tiers are set again).
pub async fn seed(store: &dyn DataStore) -> Result<SeedOutcome, DemoError> {
    let tenant_id = demo_tenant_id();
    let existing = store.find_tenant_by_slug(DEMO_TENANT).await?;
    let a_territory = demo_territory_id(DEMO_TERRITORIES[0]);
    if existing.is_some() && store.get_territory(tenant_id, a_territory).await?.is_some() {
        return Ok(SeedOutcome::AlreadyPresent);
    }
    if existing.is_none() {
        let tenant = Tenant {
            id: tenant_id,
            slug: DEMO_TENANT.to_string(),
            name: "Demo Beverages Co. (Wuhan)".to_string(),
        };
        match store.create_tenant(&tenant).await {
            // Another process seeding at the same time: carry on idempotently.
            Ok(()) | Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let credit = credit_csv(Timestamp::now().utc_date());
    import(store, ImportKind::Stores, STORES_CSV).await?;
    import(store, ImportKind::Products, PRODUCTS_CSV).await?;
    import(store, ImportKind::Credit, &credit).await?;
    import(store, ImportKind::Users, USERS_CSV).await?;
    seed_region_and_team(store).await?;
    approval_tiers::save(store, tenant_id, &demo_tiers()).await?;
    let year = Timestamp::now().utc_date().to_string()[..4].to_string();
    import(
        store,
        ImportKind::Agreements,
        &AGREEMENTS_CSV.replace("{year}", &year),
    )
    .await?;
    import(store, ImportKind::Territories, TERRITORIES_CSV).await?;
    tracing::info!(tenant = DEMO_TENANT, "demo tenant seeded");
    Ok(SeedOutcome::Created)
}

/// Imports one demo file into the demo tenant, as an administrator's import would.
async fn import(store: &dyn DataStore, kind: ImportKind, csv: &str) -> Result<(), DemoError> {
    let csv = Bytes::copy_from_slice(csv.as_bytes());
    let run = |csv| {
        run_import(
            store,
            demo_tenant_id(),
            kind,
            csv,
            &DemoRows,
            Arc::new(Silent),
        )
    };
    let done = match run(csv.clone()).await {
        // Another process seeding at the same time created a row first: now it is updated.
        Err(ImportError::Store(StoreError::Conflict(_))) => run(csv).await,
        done => done,
    };
    done.map(drop).map_err(|source| DemoError::Import {
        kind: kind.as_str(),
        source,
    })
}

/// The demo region and team (no import kind has them), each created if absent; a concurrent
/// seeder's row is accepted.
async fn seed_region_and_team(store: &dyn DataStore) -> Result<(), DemoError> {
    let tenant_id = demo_tenant_id();
    let created = |r: Result<(), StoreError>| match r {
        Ok(()) | Err(StoreError::Conflict(_)) => Ok(()),
        Err(e) => Err(DemoError::Store(e)),
    };
    if store
        .get_region(tenant_id, demo_region_id())
        .await?
        .is_none()
    {
        created(
            store
                .create_region(&Region {
                    id: demo_region_id(),
                    tenant_id,
                    name: DEMO_REGION.to_string(),
                    manager_id: Some(demo_user_id("mgr1")),
                })
                .await,
        )?;
    }
    if store.get_team(tenant_id, demo_team_id()).await?.is_none() {
        let mut members: Vec<UserId> = ["rep1", "rep2", "merch1"]
            .iter()
            .map(|u| demo_user_id(u))
            .collect();
        members.sort();
        created(
            store
                .create_team(&Team {
                    id: demo_team_id(),
                    tenant_id,
                    name: DEMO_TEAM.to_string(),
                    supervisor_id: Some(demo_user_id("sup1")),
                    region_id: Some(demo_region_id()),
                    members,
                })
                .await,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credit_dates_count_back_from_the_seed() {
        let today = Date::parse("2026-03-10").unwrap();
        let csv = credit_csv(today);
        assert!(!csv.contains('{'), "every placeholder replaced");
        assert_eq!(csv.lines().count(), 31);
        for line in csv.lines().skip(1) {
            let (code, as_of) = (&line[..7], line.rsplit(',').next().unwrap());
            let expected = if code == STALE_CREDIT_STORE {
                today.add_days(-STALE_DAYS)
            } else {
                today.add_days(-1)
            };
            assert_eq!(as_of, expected.to_string(), "{line}");
        }
    }

    #[test]
    fn the_demo_tiers_are_valid() {
        assert_eq!(demo_tiers().validate(), Ok(()));
    }

    #[test]
    fn ids_are_stable() {
        assert_eq!(demo_store_id("NKA-001"), demo_store_id("NKA-001"));
        assert_ne!(demo_store_id("NKA-001"), demo_store_id("NKA-002"));
        assert_eq!(demo_tenant_id(), demo_tenant_id());
    }
}
