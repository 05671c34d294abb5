//! Rule 7: requested delivery date not before the order date plus the lead time.

use super::Verdict;
use crate::values::Date;

/// Block finding `delivery_too_early` (field `requested_delivery`) when
/// `requested < order_date + lead_days`.
pub fn check_delivery_date(order_date: Date, requested: Date, lead_days: u32) -> Verdict {
    todo!("{order_date} {requested} {lead_days}")
}
