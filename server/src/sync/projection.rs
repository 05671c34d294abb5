//! The query projection of a hydrated document: the columns `GET /v1/visits`, `/v1/orders` and
//! `/v1/plans` filter on, plus the document as JSON (what those endpoints return); for a plan
//! also its entries (the planned visits the visit-frequency report counts); for an expense
//! (`/v1/expenses`) also its amount, approver and receipt.

use fieldsync_shared::document::AnyDocument;
use fieldsync_shared::rules::sales;

use crate::store::documents::{
    ExpenseProjection, OrderProjection, PlanEntryRow, PlanProjection, Projection, VisitProjection,
};

/// Builds the projection row of `doc`.
pub fn project(doc: &AnyDocument) -> Result<Projection, serde_json::Error> {
    Ok(match doc {
        AnyDocument::Visit(v) => Projection::Visit(VisitProjection {
            store_id: v.store_id,
            person_id: v.person_id,
            planned_date: v.planned_date,
            status: v.status.as_str(),
            document_json: serde_json::to_string(v)?,
        }),
        AnyDocument::Order(o) => Projection::Order(OrderProjection {
            store_id: o.store_id,
            person_id: o.person_id,
            order_date: o.order_date,
            status: o.status.as_str(),
            number: o.number.as_str().to_string(),
            amount: sales::sale_amount(o),
            units: sales::sale_units(o),
            requested_delivery: o.requested_delivery,
            delivered_on: o.delivery.as_ref().map(|d| d.delivered_on),
            document_json: serde_json::to_string(o)?,
        }),
        AnyDocument::Plan(p) => Projection::Plan(PlanProjection {
            person_id: p.person_id,
            week: p.week.to_string(),
            week_start: p.week.monday(),
            status: p.status.as_str(),
            entries: p
                .entries
                .values()
                .map(|e| PlanEntryRow {
                    store_id: e.store_id,
                    day: e.day,
                    seq: e.seq,
                    reason: e.reason.as_str(),
                    pinned: e.pinned,
                })
                .collect(),
            document_json: serde_json::to_string(p)?,
        }),
        AnyDocument::Expense(e) => Projection::Expense(ExpenseProjection {
            person_id: e.person_id,
            store_id: e.store_id,
            date: e.date,
            expense_type: e.expense_type.as_str(),
            amount: e.amount,
            status: e.status.as_str(),
            approver: e.approver.map(|a| a.as_str()),
            receipt: e.receipt.as_ref().map(|r| r.sha256.to_hex()),
            document_json: serde_json::to_string(e)?,
        }),
    })
}
