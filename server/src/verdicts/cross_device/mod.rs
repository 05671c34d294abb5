//! Cross-device flags: the checks only the server can make, with every device's data together
//! (docs/verdicts.md, "Cross-device flags"). Each is a finding of kind `cross_device` and source
//! `server`, with its evidence in `inputs`. The rules themselves stay in `shared::rules`: this
//! module only gathers what no single phone can see and feeds it to them; where no shared rule
//! exists (travel speed, visit length, duplicate orders) the check is here.
//!
//! * [`credit`]: `credit_combined`, every rep's open orders against one customer's allowance;
//! * [`duplicates`]: `order_duplicate`, the same order submitted twice;
//! * [`photos`]: `photo_reused`, one photo on visits of different stores or days;
//! * [`travel`]: `impossible_travel`, `visit_too_short` and `overlapping_visit`, one person's
//!   visits against each other.

pub mod credit;
pub mod duplicates;
pub mod photos;
pub mod travel;

use fieldsync_shared::order::Order;
use fieldsync_shared::rules::Finding;
use fieldsync_shared::values::{Sha256, TenantId};
use fieldsync_shared::visit::Visit;

pub use credit::OpenOrders;

use crate::config::VerdictSettings;
use crate::store::verdicts::{FindingOutcome, FindingSource, PhotoUse};
use crate::verdicts::judge::Judged;

/// The bounds the checks run with, for one tenant (`config::VerdictSettings`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub max_travel_kmh: f64,
    /// 0: no shortest visit.
    pub min_visit_ms: i64,
}

impl Limits {
    pub fn for_tenant(settings: &VerdictSettings, tenant: TenantId) -> Self {
        Limits {
            max_travel_kmh: settings.max_travel_kmh(tenant),
            min_visit_ms: i64::from(settings.min_visit_minutes) * 60_000,
        }
    }
}

impl Default for Limits {
    /// The defaults of `VerdictSettings`.
    fn default() -> Self {
        let defaults = VerdictSettings::default();
        Limits {
            max_travel_kmh: defaults.max_travel_kmh,
            min_visit_ms: i64::from(defaults.min_visit_minutes) * 60_000,
        }
    }
}

/// What the server holds of other documents when it judges one: what no phone can see.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Elsewhere {
    /// An order's store's other open orders, split by owner (credit).
    pub open: OpenOrders,
    /// The same orders (duplicates).
    pub open_orders: Vec<Order>,
    /// A visit's photos attached to other visits.
    pub photo_uses: Vec<PhotoUse>,
    /// The visit's person's other visits of the days around it.
    pub person_visits: Vec<Visit>,
}

impl From<OpenOrders> for Elsewhere {
    fn from(open: OpenOrders) -> Self {
        Elsewhere {
            open,
            ..Elsewhere::default()
        }
    }
}

impl Elsewhere {
    /// The photos of `visit` attached to a visit of another store or another day: what the
    /// photo rule (`shared::rules::photos`) is given as "seen elsewhere".
    pub fn reused_photos(&self, visit: &Visit) -> Vec<Sha256> {
        let mut found: Vec<Sha256> = self
            .photo_uses
            .iter()
            .filter(|u| photos::elsewhere(visit, u))
            .map(|u| u.sha256)
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }
}

/// A finding of a server-only check, flagged for the supervisor (never a hold).
fn flagged(check: &'static str, finding: Finding) -> Judged {
    Judged {
        source: FindingSource::Server,
        check: Some(check),
        finding,
        outcome: FindingOutcome::Flagged,
        data_version: None,
    }
}

#[cfg(test)]
mod tests;
