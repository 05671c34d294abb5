//! Reports the phone shows offline from its own documents, computed by the same shared code
//! as the server's (`fieldsync_shared::report`): the rep's weekly report.

use std::collections::HashMap;

use fieldsync_shared::order::Order;
use fieldsync_shared::plan::IsoWeek;
use fieldsync_shared::report::rep_weekly::{rep_weekly, RepWeekly, WeekInputs};
use fieldsync_shared::visit::Visit;

use super::Device;
use crate::edits;
use crate::error::Result;
use crate::store;

impl Device {
    /// The signed-in user's report of `week` from what this phone holds: their plan, visits
    /// and orders of the week, and the products' master data. Needs no network; after a sync
    /// it equals the server's `GET /v1/reports/rep-weekly` for the user.
    pub fn rep_weekly_report(&self, week: IsoWeek) -> Result<RepWeekly> {
        let me = store::require_profile(&self.db.lock())?.id;
        let plan = self.own_plan(week)?;
        let visits: Vec<Visit> = edits::read_all(&self.db)?;
        let orders: Vec<Order> = edits::read_all(&self.db)?;
        let products: HashMap<_, _> = self
            .products()?
            .into_iter()
            .map(|p| (p.sku.clone(), p))
            .collect();
        Ok(rep_weekly(&WeekInputs {
            week,
            person: me,
            plan: plan.as_ref(),
            visits: &visits,
            orders: &orders,
            products: &products,
        }))
    }
}
