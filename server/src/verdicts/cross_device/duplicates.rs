//! `order_duplicate`: the same order twice, from two devices (two reps, or a rep's two phones)
//! or a submission retried as a new order: the same store, the same lines (SKUs and
//! quantities) and the same delivery date as another open order. Flagged for the supervisor,
//! never held: a customer may well want the same delivery twice.

use fieldsync_shared::order::Order;
use fieldsync_shared::rules::{Finding, RuleId, Severity};

use super::flagged;
use crate::verdicts::judge::Judgement;

/// The check's name and code.
pub const ORDER_DUPLICATE: &str = "order_duplicate";

/// Flags `order` once per other open order of its store (`open`) it duplicates.
pub fn flag_duplicates(order: &Order, open: &[Order], judgement: &mut Judgement) {
    for other in open.iter().filter(|o| duplicates(order, o)) {
        let finding = Finding::new(
            // The lines' rule family; stored under the check's name.
            RuleId::Pricing,
            Severity::Flag,
            ORDER_DUPLICATE,
            format!(
                "order {} has the same lines and delivery date for this store",
                other.number
            ),
        )
        .field("lines")
        .input("other_order", other.id)
        .input("other_number", &other.number)
        .input("other_person", other.person_id)
        .input("other_status", other.status)
        .input("requested_delivery", order.requested_delivery)
        .input("lines", order.lines.len());
        judgement.findings.push(flagged(ORDER_DUPLICATE, finding));
    }
}

/// Same store, same delivery date, same SKUs in the same quantities (prices may differ: a
/// retried order is the same order).
fn duplicates(order: &Order, other: &Order) -> bool {
    other.id != order.id
        && other.store_id == order.store_id
        && other.requested_delivery == order.requested_delivery
        && !order.lines.is_empty()
        && other.lines.len() == order.lines.len()
        && order.lines.values().all(|line| {
            other
                .lines
                .values()
                .any(|o| o.sku == line.sku && o.quantity == line.quantity)
        })
}
