//! The query projection of a hydrated document: the columns `GET /v1/visits` and `/v1/orders`
//! filter on, plus the document as JSON (what those endpoints return).

use fieldsync_shared::document::AnyDocument;

use crate::store::documents::{OrderProjection, Projection, VisitProjection};

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
            document_json: serde_json::to_string(o)?,
        }),
    })
}
