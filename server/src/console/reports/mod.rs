//! The managers' reports in the console (docs/reports.md), one page each, read through the
//! API's own computations (`crate::reports`), so the caller's read scope applies as in the
//! API: a rep sees their own figures, a supervisor the team's, a manager the region's.
//!
//! * [`visit_frequency`]: visit-frequency compliance per week and rep, with a drill-down to
//!   the stores, and its XLSX download.
//! * [`rep_weekly`]: the reps' weekly reports, and their XLSX download.
//! * [`monthly`]: the manager's monthly report per team and rep, and its XLSX download.
//! * [`store_opportunity`]: the key-account stores' shelf, distribution and orders against
//!   potential, with a drill-down to each store's weeks, and its XLSX download.
//! * [`agreements`]: the annual agreement self-check, a bar per term, and its XLSX download.

pub mod agreements;
pub mod monthly;
pub mod rep_weekly;
pub mod store_opportunity;
pub mod visit_frequency;

use std::collections::HashMap;

use fieldsync_shared::values::UserId;

use crate::console::auth::ConsoleUser;
use crate::console::error::ConsoleResult;
use crate::scope::read_scope;
use crate::state::AppState;

/// The people the user may see, by name: a report's person filter.
async fn people_in_scope<'a>(
    state: &AppState,
    user: &ConsoleUser,
    names: &'a HashMap<UserId, String>,
) -> ConsoleResult<Vec<(&'a UserId, &'a String)>> {
    let scope = read_scope(state.store.as_ref(), &user.principal).await?;
    let mut people: Vec<(&UserId, &String)> = names
        .iter()
        .filter(|(id, _)| scope.whole_tenant || scope.people.contains(id))
        .collect();
    people.sort_by(|a, b| a.1.cmp(b.1));
    Ok(people)
}

/// A person's name, or their id for someone no longer in the directory.
fn name_of(names: &HashMap<UserId, String>, id: UserId) -> String {
    names.get(&id).cloned().unwrap_or_else(|| id.to_string())
}
