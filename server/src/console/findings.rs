//! What a visit is flagged for: from what its document holds, the shared rules' geofence
//! (outside the fence, mock location) and freshness findings and shelf prices below the
//! price-list floor; and the server's verdicts recorded at submission (`verdicts`). The
//! console shows them; it decides nothing with them.

use fieldsync_shared::master::Store;
use fieldsync_shared::rules::{freshness, geofence, Finding, RuleId, Severity};
use fieldsync_shared::values::Date;
use fieldsync_shared::visit::{AuditLine, GeoStamp, Visit};

use std::collections::HashMap;

use fieldsync_shared::values::{DocId, TenantId};

use super::directory::Directory;
use super::error::ConsoleResult;
use crate::state::AppState;
use crate::store::verdicts::{FindingOutcome, FindingRecord};

/// The flags the queue filters by, with their labels.
pub const FLAGS: &[(&str, &str)] = &[
    ("outside_geofence", "Outside geofence 不在范围"),
    ("mock_location", "Mock location 虚拟定位"),
    ("stale_stock", "Stale stock 货龄超标"),
    (SHELF_PRICE_BELOW_FLOOR, "Price below floor 价格低于底价"),
];

/// The code of an audit line whose shelf price is below the product's floor price.
pub const SHELF_PRICE_BELOW_FLOOR: &str = "shelf_price_below_floor";

/// The label of a finding's code.
pub fn label(code: &str) -> &str {
    FLAGS
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(code, |(_, label)| label)
}

/// Every finding of a visit, check-in and check-out first, then its audit lines.
pub fn of_visit(visit: &Visit, directory: &Directory) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let Some(store) = directory.store(visit.store_id) {
        for stamp in [&visit.check_in, &visit.check_out].into_iter().flatten() {
            findings.extend(of_stamp(store, stamp));
        }
    }
    for line in visit.audit.values() {
        findings.extend(of_line(line, audit_date(visit), directory));
    }
    findings
}

/// Findings of one check-in or check-out fix.
pub fn of_stamp(store: &Store, stamp: &GeoStamp) -> Vec<Finding> {
    geofence::check_position(store, stamp, geofence::GeofenceTolerance::default()).findings
}

/// Findings of one audit line: freshness, and a shelf price below the floor.
pub fn of_line(line: &AuditLine, audit_date: Date, directory: &Directory) -> Vec<Finding> {
    let Some(product) = directory.product(&line.sku) else {
        return Vec::new();
    };
    let mut findings = freshness::check_line(line, product, audit_date).findings;
    if let Some(price) = line.shelf_price {
        if price < product.floor_price {
            findings.push(
                Finding::new(
                    RuleId::Pricing,
                    Severity::Flag,
                    SHELF_PRICE_BELOW_FLOOR,
                    format!(
                        "{} on {} is priced {price}, below the floor price {}",
                        line.sku, line.location, product.floor_price
                    ),
                )
                .field(format!("audit.{}.shelf_price", line.key())),
            );
        }
    }
    findings
}

/// The day the audit was taken: the check-in's, else the planned date.
pub fn audit_date(visit: &Visit) -> Date {
    visit
        .check_in
        .as_ref()
        .and_then(|c| {
            chrono::DateTime::from_timestamp_millis(c.at.millis())
                .and_then(|d| Date::parse(&d.format("%Y-%m-%d").to_string()).ok())
        })
        .unwrap_or(visit.planned_date)
}

/// Metres from the store's geofence centre to the check-in (`None` without either).
pub fn check_in_distance_m(visit: &Visit, directory: &Directory) -> Option<f64> {
    let store = directory.store(visit.store_id)?;
    let stamp = visit.check_in.as_ref()?;
    Some(store.location.distance_m(&stamp.position))
}

/// The server's verdicts on `docs` (`verdicts`: the shared rules run at submission, and the
/// server-only checks) that held or flagged something, one per code, by document.
pub async fn server_verdicts(
    state: &AppState,
    tenant: TenantId,
    docs: &[DocId],
) -> ConsoleResult<HashMap<DocId, Vec<FindingRecord>>> {
    let mut by_doc: HashMap<DocId, Vec<FindingRecord>> = HashMap::new();
    if docs.is_empty() {
        return Ok(by_doc);
    }
    for f in state.store.findings_of(tenant, docs).await? {
        if f.outcome == FindingOutcome::Noted {
            continue;
        }
        let list = by_doc.entry(f.doc_id).or_default();
        // Oldest first: a later finding of the same code replaces the earlier one.
        list.retain(|g| g.code != f.code);
        list.push(f);
    }
    Ok(by_doc)
}

/// The codes a visit is flagged with: its document's findings and the server's verdicts.
pub fn codes<'a>(local: &'a [Finding], server: &'a [FindingRecord]) -> Vec<(&'a str, &'a str)> {
    let mut codes: Vec<(&str, &str)> = local
        .iter()
        .map(|f| (f.code.as_str(), f.message.as_str()))
        .collect();
    for f in server {
        if !codes.iter().any(|(c, _)| *c == f.code) {
            codes.push((f.code.as_str(), f.message.as_str()));
        }
    }
    codes
}
