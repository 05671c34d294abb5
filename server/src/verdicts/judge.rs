//! The pure part of a verdict: evaluate a submitted document with `shared::rules::submission`
//! (the phone's own call) against the data the phone said it used and against the server's
//! current master data, and decide per finding what happens (`decision`).

use std::collections::BTreeMap;

use fieldsync_shared::document::AnyDocument;
use fieldsync_shared::expense::ExpenseStatus;
use fieldsync_shared::master::Product;
use fieldsync_shared::order::{Order, OrderStatus};
use fieldsync_shared::org::Role;
use fieldsync_shared::rules::submission::{self, OrderData, RuleSettings, VisitData};
use fieldsync_shared::rules::{assortment, promotion, success, Finding, RuleId, Verdict};
use fieldsync_shared::values::{Money, Timestamp};
use fieldsync_shared::visit::{Visit, VisitStatus};

use super::cross_device::{self, Elsewhere};
use super::decision::{self, PhoneView};
use crate::store::verdicts::{FindingOutcome, FindingSource, RuleData};

/// One finding with whose data it was computed and what the server did about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    pub source: FindingSource,
    /// The server-only check that raised it (stored as its rule), `None` for a shared rule's.
    pub check: Option<&'static str>,
    pub finding: Finding,
    pub outcome: FindingOutcome,
    /// The master version of the data used (`None`: unknown).
    pub data_version: Option<i64>,
}

/// The verdict on one submitted document.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Judgement {
    pub findings: Vec<Judged>,
    /// The state the server puts the document in (a hold), if it must undo the submission.
    pub held: Option<AnyDocument>,
}

/// Does the change `before -> after` submit something the server judges? An order moving to
/// `submitted`/`pending_approval`, or a submitted order whose lines, terms or store changed;
/// a visit moving to `submitted`; an expense moving to `submitted` or `pending_approval`. A replayed or unrelated edit (notes) judges nothing, so a
/// hold the device has pulled is never judged again.
pub fn is_submission(before: Option<&AnyDocument>, after: &AnyDocument) -> bool {
    match (before, after) {
        (before, AnyDocument::Order(o)) => {
            let submitted = matches!(
                o.status,
                OrderStatus::Submitted | OrderStatus::PendingApproval
            );
            submitted
                && match before {
                    Some(AnyDocument::Order(b)) => {
                        b.status != o.status
                            || b.lines != o.lines
                            || b.payment != o.payment
                            || b.requested_delivery != o.requested_delivery
                            || b.store_id != o.store_id
                    }
                    _ => true,
                }
        }
        (before, AnyDocument::Visit(v)) => {
            v.status == VisitStatus::Submitted
                && !matches!(before, Some(AnyDocument::Visit(b)) if b.status == VisitStatus::Submitted)
        }
        // No shared rule judges a plan.
        (_, AnyDocument::Plan(_)) => false,
        (before, AnyDocument::Expense(e)) => {
            matches!(
                e.status,
                ExpenseStatus::Submitted | ExpenseStatus::PendingApproval
            ) && !matches!(before, Some(AnyDocument::Expense(b)) if b.status == e.status)
        }
    }
}

/// The verdict on `doc` (as merged), with `data` read for it and what the server holds of
/// other documents (`elsewhere`: the store's other open orders, the owner's and other reps',
/// and the visit's photos on other visits). `before`: the document before the push (where a
/// held visit goes back to). `submitter`: the role of the person who submitted (an order's
/// author), whose approval tiers apply, as on their phone.
pub fn judge(
    before: Option<&AnyDocument>,
    doc: &AnyDocument,
    data: &RuleData,
    elsewhere: &Elsewhere,
    submitter: Role,
    now: Timestamp,
) -> Judgement {
    let open = &elsewhere.open;
    let Some(store) = &data.store else {
        // A document of an unknown store is refused before this (`refuse_unknown_stores`)
        // when created; one whose store was since deleted has nothing to be judged against.
        return Judgement::default();
    };
    let products: BTreeMap<String, Product> = data
        .products
        .iter()
        .map(|p| (p.value.sku.as_str().to_string(), p.value.clone()))
        .collect();
    let settings = RuleSettings::with_tiers(data.tiers(), submitter);
    match doc {
        // Expenses are judged by `verdicts::expense`, against no store.
        AnyDocument::Plan(_) | AnyDocument::Expense(_) => Judgement::default(),
        AnyDocument::Order(order) => {
            let server_data = |open_orders| OrderData {
                store: &store.value,
                products: &products,
                credit: data.credit.as_ref().map(|c| &c.value),
                open_orders,
                today: now.utc_date(),
            };
            let current = submission::evaluate_order(order, &server_data(open.own), &settings);
            let phone = PhoneBasis::of(order, data, &products, &settings);
            let mut judgement = judge_order(order, current, data.master_version, &phone);
            // The same call with the open orders the phone counted, and with every open order
            // of the store (all reps, all devices): what no phone can see.
            let counted = submission::evaluate_order(
                order,
                &server_data(cross_device::credit::counted_by_phone(order, open)),
                &settings,
            );
            let combined =
                submission::evaluate_order(order, &server_data(open.combined()), &settings);
            cross_device::credit::flag_combined_credit(
                order,
                open,
                &counted,
                &combined,
                data.master_version,
                &mut judgement,
            );
            judgement
        }
        AnyDocument::Visit(visit) => {
            // Photos the server finds on visits of other stores or days (any device's).
            let range = assortment::range_of(&store.value, &data.assortment);
            let running = promotion::active_at(&store.value, visit.planned_date, &data.promotions);
            let current = submission::evaluate_visit(
                visit,
                &VisitData {
                    store: &store.value,
                    products: &products,
                    photos_elsewhere: &elsewhere.reused_photos(visit),
                    range: &range,
                    promotions: &running,
                    success_picture: success::picture_for(&store.value, &data.success_pictures),
                },
                &settings,
            );
            judge_visit(before, visit, current, data.master_version)
        }
    }
}

/// The phone's evaluation, rebuilt from the basis it recorded where the server can.
struct PhoneBasis {
    /// `None`: no basis recorded.
    verdict: Option<Verdict>,
    master_version: Option<i64>,
    /// Rules whose master rows changed after the phone's version.
    not_reconstructable: Vec<RuleId>,
}

impl PhoneBasis {
    fn of(
        order: &Order,
        data: &RuleData,
        products: &BTreeMap<String, Product>,
        settings: &RuleSettings,
    ) -> Self {
        let Some(basis) = &order.evaluated_against else {
            return PhoneBasis {
                verdict: None,
                master_version: None,
                not_reconstructable: Vec::new(),
            };
        };
        let seen = |version: i64| version <= basis.master_version;
        let mut not_reconstructable = Vec::new();
        // Tiers set after the phone's version: it judged discounts and amounts by older ones.
        let tiers_seen = data.approval.as_ref().is_none_or(|t| seen(t.version));
        if !tiers_seen || !data.products.iter().all(|p| seen(p.version)) {
            not_reconstructable.push(RuleId::Pricing);
        }
        if !tiers_seen {
            not_reconstructable.push(RuleId::Approval);
        }
        if !data.store.as_ref().is_some_and(|s| seen(s.version)) {
            not_reconstructable.push(RuleId::DeliveryDate);
        }
        // The credit rule replays from the snapshot values the phone recorded.
        let store = data.store.as_ref().map(|s| &s.value);
        let verdict = store.map(|store| {
            let snapshot = basis
                .credit
                .as_ref()
                .map(|c| submission::recorded_snapshot(c, order.store_id));
            submission::evaluate_order(
                order,
                &OrderData {
                    store,
                    products,
                    credit: snapshot.as_ref(),
                    open_orders: basis.credit.as_ref().map_or(Money::ZERO, |c| c.open_orders),
                    today: basis.evaluated_at.utc_date(),
                },
                settings,
            )
        });
        PhoneBasis {
            verdict,
            master_version: Some(basis.master_version),
            not_reconstructable,
        }
    }

    fn view(&self, finding: &Finding) -> PhoneView {
        match &self.verdict {
            None => PhoneView::Unrecorded,
            Some(_) if self.not_reconstructable.contains(&finding.rule) => {
                PhoneView::NotReconstructable
            }
            Some(v) if v.findings.iter().any(|f| f.code == finding.code) => PhoneView::FoundToo,
            Some(_) => PhoneView::NotFound,
        }
    }

    /// What the server could make of the phone's basis for `rule`, said on every finding.
    fn describe(&self, rule: RuleId) -> String {
        match (
            self.master_version,
            self.not_reconstructable.contains(&rule),
        ) {
            (None, _) => "not recorded".into(),
            (Some(v), true) => format!("master version {v}: not reconstructable (changed since)"),
            (Some(v), false) => format!("master version {v}: reconstructed"),
        }
    }
}

fn judge_order(
    order: &Order,
    current: Verdict,
    master_version: i64,
    phone: &PhoneBasis,
) -> Judgement {
    let mut findings = Vec::new();
    let mut landing: Option<OrderStatus> = None;
    for finding in current.findings {
        let outcome = decision::order_outcome(&finding, order.status, phone.view(&finding));
        if outcome == FindingOutcome::Held {
            let status = decision::held_order_status(&finding);
            landing = Some(landing.map_or(status, |l| decision::stricter(l, status)));
        }
        let described = phone.describe(finding.rule);
        findings.push(Judged {
            source: FindingSource::ServerData,
            check: None,
            finding: finding.input("device_basis", described),
            outcome,
            data_version: Some(master_version),
        });
    }
    // The phone's own evaluation, replayed, for the record.
    if let Some(verdict) = &phone.verdict {
        for finding in &verdict.findings {
            if phone.not_reconstructable.contains(&finding.rule) {
                continue;
            }
            findings.push(Judged {
                source: FindingSource::DeviceBasis,
                check: None,
                finding: finding.clone(),
                outcome: FindingOutcome::Noted,
                data_version: phone.master_version,
            });
        }
    }
    let held = landing.filter(|l| *l != order.status).map(|status| {
        let mut held = order.clone();
        held.status = status;
        if status == OrderStatus::Draft {
            held.submitted_at = None;
        }
        AnyDocument::Order(held)
    });
    if held.is_none() {
        // Nothing to undo (the phone already put the order where the rules would): kept,
        // and flagged for the supervisor.
        for j in &mut findings {
            if j.outcome == FindingOutcome::Held {
                j.outcome = FindingOutcome::Flagged;
            }
        }
    }
    Judgement { findings, held }
}

fn judge_visit(
    before: Option<&AnyDocument>,
    visit: &Visit,
    current: Verdict,
    master_version: i64,
) -> Judgement {
    let findings: Vec<Judged> = current
        .findings
        .into_iter()
        .map(|finding| Judged {
            outcome: decision::visit_outcome(&finding),
            source: FindingSource::ServerData,
            check: None,
            finding,
            data_version: Some(master_version),
        })
        .collect();
    let held = findings
        .iter()
        .any(|j| j.outcome == FindingOutcome::Held)
        .then(|| {
            let mut held = visit.clone();
            held.status = match before {
                Some(AnyDocument::Visit(b)) if b.status != VisitStatus::Submitted => b.status,
                _ if visit.check_out.is_some() => VisitStatus::CheckedOut,
                _ if visit.check_in.is_some() => VisitStatus::InProgress,
                _ => VisitStatus::Planned,
            };
            AnyDocument::Visit(held)
        });
    Judgement { findings, held }
}

#[cfg(test)]
mod tests;
