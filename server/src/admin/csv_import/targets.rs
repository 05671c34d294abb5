//! `targets` files: one row a sales target, upserted by (period, rep, category). A row
//! without `rep` is the company's own target; without `category`, all products. The split is
//! the file's: a year, its quarters, its months and each rep's month are rows of their own
//! (docs/targets.md).

use std::collections::{BTreeMap, HashMap, HashSet};

use fieldsync_shared::master::Role;
use fieldsync_shared::{TenantId, Timestamp, UserId};
use uuid::Uuid;

use super::cells::{parse_money, parse_u32};
use super::pipeline::{first_seen, Columns, Errors, ImportError, NewRows, Row, RowImport, Upserts};
use crate::store::organisation::ImportCounts;
use crate::store::targets::{Target, TargetFilter};
use crate::store::Store as DataStore;
use crate::targets::Period;

pub const COLUMNS: Columns = Columns {
    required: &["period", "amount", "volume"],
    optional: &["rep", "category"],
};

pub(super) type TargetRows = Upserts<Target>;

/// A category: a short code such as `beverages` (letters, digits, `-`, `_`).
fn category(s: &str) -> Result<String, String> {
    let ok = s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(s.to_ascii_lowercase())
    } else {
        Err(format!(
            "{s:?} is not a category code (letters, digits, - and _, at most 64)"
        ))
    }
}

#[async_trait::async_trait]
impl RowImport for TargetRows {
    async fn check(
        store: &dyn DataStore,
        tenant: TenantId,
        rows: &[Row],
        _new: &dyn NewRows,
        errors: &mut Errors,
    ) -> Result<Self, ImportError> {
        let users: HashMap<String, (UserId, Role)> = store
            .list_org_users(tenant)
            .await?
            .into_iter()
            .map(|u| (u.profile.username, (u.profile.id, u.profile.role)))
            .collect();
        let all = TargetFilter {
            people: None,
            company: true,
            ..TargetFilter::default()
        };
        let existing: HashSet<(String, Option<UserId>, Option<String>)> = store
            .list_targets(tenant, &all)
            .await?
            .into_iter()
            .map(|t| (t.period, t.person_id, t.category))
            .collect();
        let now = Timestamp::now();
        let mut seen = BTreeMap::new();
        let mut out = Upserts::default();
        for r in rows {
            let period = r.parse(errors, "period", Period::parse);
            let amount = r.parse(errors, "amount", parse_money);
            let volume = r.parse(errors, "volume", parse_u32);
            let person = match r.opt("rep").filter(|s| !s.is_empty()) {
                None => Some(None),
                Some(u) => r
                    .parse(errors, "rep", |_| {
                        let name = crate::auth::normalize_username(u);
                        match users.get(&name) {
                            None => Err(format!("no user named `{name}`")),
                            Some((id, Role::Rep | Role::Merchandiser | Role::Supervisor)) => {
                                Ok(*id)
                            }
                            Some((_, role)) => Err(format!(
                                "`{name}` is a {}: targets are split to reps, merchandisers and supervisors",
                                role.as_str()
                            )),
                        }
                    })
                    .map(Some),
            };
            let category = match r.opt("category").filter(|s| !s.is_empty()) {
                None => Some(None),
                Some(_) => r.parse(errors, "category", category).map(Some),
            };
            let (Some(period), Some(amount), Some(volume), Some(person), Some(category)) =
                (period, amount, volume, person, category)
            else {
                continue;
            };
            let key = (period.as_str().to_string(), person, category.clone());
            if !first_seen(&mut seen, errors, key.clone(), r.n, "period") {
                continue;
            }
            out.push(
                Target {
                    id: Uuid::new_v4(),
                    period: period.as_str().to_string(),
                    period_start: period.start(),
                    period_end: period.end(),
                    person_id: person,
                    category,
                    amount,
                    volume: i64::from(volume),
                    updated_at: now,
                },
                existing.contains(&key),
            );
        }
        Ok(out)
    }

    async fn write(
        self,
        store: &dyn DataStore,
        tenant: TenantId,
    ) -> Result<ImportCounts, ImportError> {
        store.upsert_targets(tenant, &self.rows).await?;
        Ok(self.counts)
    }
}
