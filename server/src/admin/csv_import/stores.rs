//! `stores` files: one row a store, upserted by its code. The optional `chain` column names
//! the store's retail chain (an empty cell: none); a file without it keeps the chains stored.
//! So does the optional `monthly_potential` (what the store could buy in a month, in major
//! units like prices: `12000.00`; an empty cell: not estimated).

use std::collections::{BTreeMap, HashMap};

use fieldsync_shared::master::Store;
use fieldsync_shared::{Position, StoreCode, StoreId, TenantId};

use super::cells::{parse_channel, parse_f64, parse_grade, parse_money, parse_u32, required};
use super::pipeline::{first_seen, Columns, Errors, ImportError, NewRows, Row, RowImport, Upserts};
use crate::store::organisation::ImportCounts;
use crate::store::{Store as DataStore, StoreError};
use fieldsync_shared::values::Name;

pub const COLUMNS: Columns = Columns {
    required: &[
        "code",
        "name",
        "channel",
        "grade",
        "address",
        "lat",
        "lon",
        "geofence_radius_m",
        "delivery_lead_days",
    ],
    optional: &["chain", "monthly_potential"],
};

/// The tenant's stores by code: what `store_code` cells of other files refer to.
pub(super) async fn ids_by_code(
    store: &dyn DataStore,
    tenant: TenantId,
) -> Result<HashMap<StoreCode, StoreId>, StoreError> {
    let page = store.master_page(tenant, 0).await?;
    Ok(page.stores.into_iter().map(|s| (s.code, s.id)).collect())
}

pub(super) type StoreRows = Upserts<Store>;

#[async_trait::async_trait]
impl RowImport for StoreRows {
    async fn check(
        store: &dyn DataStore,
        tenant: TenantId,
        rows: &[Row],
        new: &dyn NewRows,
        errors: &mut Errors,
    ) -> Result<Self, ImportError> {
        let existing: HashMap<StoreCode, Store> = store
            .master_page(tenant, 0)
            .await?
            .stores
            .into_iter()
            .map(|s| (s.code.clone(), s))
            .collect();
        let mut seen = BTreeMap::new();
        let mut out = Upserts::default();
        for r in rows {
            let code = r.parse(errors, "code", StoreCode::parse);
            let name = r.parse(errors, "name", Name::parse);
            let channel = r.parse(errors, "channel", parse_channel);
            let grade = r.parse(errors, "grade", parse_grade);
            let address = r.parse(errors, "address", |s| required(s).map(str::to_string));
            let lat = r.parse(errors, "lat", parse_f64);
            let lon = r.parse(errors, "lon", parse_f64);
            let radius = r.parse(errors, "geofence_radius_m", parse_u32);
            let lead = r.parse(errors, "delivery_lead_days", parse_u32);
            // `None`: no chain column, the stored chain stays.
            let chain = match r.opt("chain") {
                None => None,
                Some("") => Some(None),
                Some(_) => r.parse(errors, "chain", |s| {
                    Name::parse(s).map(|n| Some(n.as_str().to_string()))
                }),
            };
            // `None`: no column, the stored potential stays.
            let potential = match r.opt("monthly_potential") {
                None => None,
                Some("") => Some(None),
                Some(_) => r.parse(errors, "monthly_potential", |s| parse_money(s).map(Some)),
            };
            let location = match (lat, lon) {
                (Some(lat), Some(lon)) => r.parse(errors, "lat", |_| Position::new(lat, lon)),
                _ => None,
            };
            if let Some(c) = &code {
                if !first_seen(&mut seen, errors, c.clone(), r.n, "code") {
                    continue;
                }
            }
            let (Some(code), Some(name), Some(channel), Some(grade), Some(address)) =
                (code, name, channel, grade, address)
            else {
                continue;
            };
            let (Some(location), Some(radius), Some(lead)) = (location, radius, lead) else {
                continue;
            };
            let before = existing.get(&code);
            let existed = before.is_some();
            let chain = chain.unwrap_or_else(|| before.and_then(|s| s.chain.clone()));
            let monthly_potential =
                potential.unwrap_or_else(|| before.and_then(|s| s.monthly_potential));
            out.push(
                Store {
                    id: before.map_or_else(|| new.store_id(&code), |s| s.id),
                    code,
                    name: name.as_str().to_string(),
                    channel,
                    grade,
                    address,
                    location,
                    geofence_radius_m: radius,
                    delivery_lead_days: lead,
                    chain,
                    monthly_potential,
                },
                existed,
            );
        }
        Ok(out)
    }

    async fn write(
        self,
        store: &dyn DataStore,
        tenant: TenantId,
    ) -> Result<ImportCounts, ImportError> {
        store.upsert_stores(tenant, &self.rows).await?;
        Ok(self.counts)
    }
}
