//! Rule 4: freshness. Stock on shelf must not be older than one third of its shelf life:
//! oldest production date + shelf_life/3 >= audit date, else a finding.

use super::Verdict;
use crate::master::Product;
use crate::values::Date;
use crate::visit::AuditLine;

/// Flag finding `stale_stock` (field `audit.<key>.oldest_production_date`) when the line's
/// oldest production date plus a third of the product's shelf life (whole days, rounded down)
/// is before `audit_date`. A line without a production date yields nothing.
pub fn check_line(line: &AuditLine, product: &Product, audit_date: Date) -> Verdict {
    todo!("{line:?} {product:?} {audit_date}")
}
