//! Rule 5: credit. Block submission when the customer's overdue amount > 0, or when
//! receivables + open orders + this order > limit, using the dated credit snapshot. A stale
//! snapshot (older than `max_age_days`) sends the order to approval instead of blocking.

use super::Verdict;
use crate::master::CreditSnapshot;
use crate::values::{Date, Money};

#[derive(Debug, Clone, PartialEq)]
pub struct CreditCheck<'a> {
    /// `None`: no snapshot known for the store -> needs approval (`credit_unknown`).
    pub snapshot: Option<&'a CreditSnapshot>,
    /// Other open (submitted, not yet invoiced) orders of the store.
    pub open_orders: Money,
    pub this_order: Money,
    pub today: Date,
    pub max_age_days: u32,
}

/// Findings: Block `overdue_receivables` / `credit_limit_exceeded` when the snapshot is fresh;
/// NeedsApproval `credit_snapshot_stale` (with what it would have said) when it is stale;
/// NeedsApproval `credit_unknown` without a snapshot. Cash orders should not be checked at all
/// (the caller decides).
pub fn check_order(input: &CreditCheck<'_>) -> Verdict {
    todo!("{input:?}")
}
