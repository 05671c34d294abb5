//! Combined credit exposure: the open orders of every rep against one customer. Each phone
//! counts only its own open orders (two reps ordering offline the same day each stay within
//! the allowance), so the server evaluates the same credit rule again with all of them.

use fieldsync_shared::document::AnyDocument;
use fieldsync_shared::order::{Order, OrderStatus};
use fieldsync_shared::rules::{Finding, RuleId, Severity, Verdict};
use fieldsync_shared::values::{DocId, Money};

use crate::store::verdicts::{FindingOutcome, FindingSource};
use crate::verdicts::decision;
use crate::verdicts::judge::{Judged, Judgement};

/// The flag's code.
pub const CREDIT_COMBINED: &str = "credit_combined";

/// The credit rule's code for an exposure over the limit (`shared::rules::credit`).
const OVER_LIMIT: &str = "credit_limit_exceeded";

/// The store's other open orders (submitted, pending approval, approved) by the server's
/// projections.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OpenOrders {
    /// The total of the order owner's own other open orders (what the phone counts too).
    pub own: Money,
    /// Other reps' open orders of the store: id and total.
    pub others: Vec<(DocId, Money)>,
    /// Every open order counted, the owner's and others' (the flag's evidence).
    pub ids: Vec<DocId>,
}

impl OpenOrders {
    /// Splits the store's open orders into `person`'s and everyone else's.
    pub fn split(order: &Order, open: impl IntoIterator<Item = Order>) -> Self {
        let mut split = OpenOrders::default();
        for o in open {
            if o.id == order.id
                || !matches!(
                    o.status,
                    OrderStatus::Submitted | OrderStatus::PendingApproval | OrderStatus::Approved
                )
            {
                continue;
            }
            let Some(total) = o.total() else { continue };
            split.ids.push(o.id);
            if o.person_id == order.person_id {
                split.own = saturating_add(split.own, total);
            } else {
                split.others.push((o.id, total));
            }
        }
        split
    }

    /// Every rep's open orders together.
    pub fn combined(&self) -> Money {
        self.others
            .iter()
            .fold(self.own, |acc, (_, t)| saturating_add(acc, *t))
    }
}

/// Saturating like the phone's sum (an overflow is over any limit).
fn saturating_add(a: Money, b: Money) -> Money {
    a.checked_add(b).unwrap_or(Money(i64::MAX))
}

/// The open orders the phone counted: those it recorded in its basis, else (no basis) the
/// owner's own as the server knows them.
pub fn counted_by_phone(order: &Order, open: &OpenOrders) -> Money {
    order
        .evaluated_against
        .as_ref()
        .and_then(|b| b.credit.as_ref())
        .map_or(open.own, |c| c.open_orders)
}

/// Adds `credit_combined` to `judgement` when `combined` (the order's verdict on the server's
/// data counting every open order of the store) exceeds the limit where `counted` (the same
/// data with only the open orders the phone counted) does not: orders the phone could not see
/// (another rep's, or its owner's on another device) used the allowance first. A submitted
/// order is held in `pending_approval` (a supervisor decides which order the customer gets);
/// one already there is flagged. Where the credit rule itself holds the order, nothing is
/// added.
pub fn flag_combined_credit(
    order: &Order,
    open: &OpenOrders,
    counted: &Verdict,
    combined: &Verdict,
    master_version: i64,
    judgement: &mut Judgement,
) {
    let rule_holds = judgement.findings.iter().any(|j| {
        j.source == FindingSource::ServerData
            && j.finding.code == OVER_LIMIT
            && j.outcome == FindingOutcome::Held
    });
    let seen_over = counted.findings.iter().any(|f| f.code == OVER_LIMIT);
    let Some(over) = combined.findings.iter().find(|f| f.code == OVER_LIMIT) else {
        return;
    };
    if rule_holds || seen_over {
        return;
    }
    let mut flag = Finding::new(
        RuleId::Credit,
        Severity::NeedsApproval,
        CREDIT_COMBINED,
        "the open orders of all reps for this customer exceed its credit limit; a supervisor \
         must approve",
    );
    flag.inputs = over.inputs.clone();
    let others: Vec<String> = open.ids.iter().map(ToString::to_string).collect();
    let flag = flag
        .input("counted_by_phone", counted_by_phone(order, open))
        .input("own_open_orders", open.own)
        .input("other_orders", others.join(","));
    let outcome = if order.status == OrderStatus::Submitted {
        FindingOutcome::Held
    } else {
        FindingOutcome::Flagged
    };
    if outcome == FindingOutcome::Held {
        let landing = match &judgement.held {
            Some(AnyDocument::Order(h)) => {
                decision::stricter(h.status, OrderStatus::PendingApproval)
            }
            _ => OrderStatus::PendingApproval,
        };
        let mut held = match &judgement.held {
            Some(AnyDocument::Order(h)) => h.clone(),
            _ => order.clone(),
        };
        held.status = landing;
        judgement.held = Some(AnyDocument::Order(held));
    }
    judgement.findings.push(Judged {
        source: FindingSource::Server,
        check: None,
        finding: flag,
        outcome,
        data_version: Some(master_version),
    });
}
