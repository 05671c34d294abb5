//! `GET /v1/visits`, `/v1/visits/{id}`, `/v1/orders`, `/v1/orders/{id}`: filtered reads of the
//! hydrated documents, from the projections the sync commit maintains. Every read is bound to
//! the principal's tenant and read scope (`crate::scope`): listings hold only documents the
//! principal may see, and another tenant's or another territory's document is answered 404,
//! like an absent one.
//!
//! Listings are newest date first (visit: planned date, order: order date), then by id, with
//! keyset pagination: `next` is an opaque cursor to pass back as `after`.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use fieldsync_shared::document::DocKind;
use fieldsync_shared::order::OrderStatus;
use fieldsync_shared::values::{Date, DocId, ParseError, StoreId, UserId};
use fieldsync_shared::visit::VisitStatus;
use serde::{Deserialize, Serialize};

use crate::auth::Principal;
use crate::http::{ApiError, ApiResult, ErrorBody};
use crate::scope;
use crate::scope::named::{InScope, VisibleOrder, VisibleVisit};
use crate::state::AppState;
use crate::store::documents::{ProjectedDocument, ProjectionFilter, ProjectionKey};

/// Page size when `limit` is absent.
pub const DEFAULT_LIMIT: u32 = 100;
/// Largest page; bigger `limit`s are clamped to it.
pub const MAX_LIMIT: u32 = 500;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/visits", get(list_visits))
        .route("/v1/visits/{id}", get(get_visit))
        .route("/v1/orders", get(list_orders))
        .route("/v1/orders/{id}", get(get_order))
}

/// OpenAPI description of the query endpoints (merged into the served spec by `openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(list_visits, get_visit, list_orders, get_order),
    components(schemas(DocumentItem, DocumentList, ErrorBody))
)]
pub struct QueriesApi;

/// Query parameters of a listing, as sent; parsed by [`ListParams::parse`].
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only this store's documents (uuid).
    store_id: Option<String>,
    /// Only this person's documents (uuid).
    person_id: Option<String>,
    /// Earliest date, inclusive (YYYY-MM-DD).
    from: Option<String>,
    /// Latest date, inclusive (YYYY-MM-DD).
    to: Option<String>,
    /// Only documents in this status (visit or order status name).
    status: Option<String>,
    /// Page size, 1..=500 (clamped), default 100.
    limit: Option<String>,
    /// The `next` cursor of the previous page.
    after: Option<String>,
}

/// One document in a query answer.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DocumentItem {
    /// Document id (uuid).
    #[schema(value_type = String, format = Uuid)]
    pub id: DocId,
    /// Feed seq of the write that produced this state.
    pub updated_seq: i64,
    /// The hydrated document (`shared::visit::Visit` or `shared::order::Order`).
    #[schema(value_type = Object)]
    pub document: serde_json::Value,
}

/// One page of a listing.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DocumentList {
    pub items: Vec<DocumentItem>,
    /// Pass as `after` for the next page; `null` on the last page.
    pub next: Option<String>,
}

fn invalid(param: &str, reason: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(
        "invalid_query",
        format!("query parameter {param}: {reason}"),
    )
}

/// Parses an optional parameter with its newtype's `parse`, naming the parameter on failure.
fn parse_opt<T>(
    param: &str,
    raw: Option<&str>,
    parse: impl Fn(&str) -> Result<T, ParseError>,
) -> ApiResult<Option<T>> {
    raw.map(|s| parse(s).map_err(|e| invalid(param, e)))
        .transpose()
}

impl ListParams {
    /// The store filter for a listing of `kind`.
    fn parse(&self, kind: DocKind) -> ApiResult<ProjectionFilter> {
        let status =
            match kind {
                DocKind::Visit => parse_opt("status", self.status.as_deref(), VisitStatus::parse)?
                    .map(|s| s.as_str()),
                DocKind::Order => parse_opt("status", self.status.as_deref(), OrderStatus::parse)?
                    .map(|s| s.as_str()),
            };
        Ok(ProjectionFilter {
            store_id: parse_opt("store_id", self.store_id.as_deref(), StoreId::parse)?,
            person_id: parse_opt("person_id", self.person_id.as_deref(), UserId::parse)?,
            from: parse_opt("from", self.from.as_deref(), Date::parse)?,
            to: parse_opt("to", self.to.as_deref(), Date::parse)?,
            status,
            after: self.after.as_deref().map(decode_after).transpose()?,
            limit: parse_limit(self.limit.as_deref())?,
            visible: None,
        })
    }
}

/// `limit`: an integer, clamped to 1..=[`MAX_LIMIT`].
fn parse_limit(raw: Option<&str>) -> ApiResult<u32> {
    let Some(raw) = raw else {
        return Ok(DEFAULT_LIMIT);
    };
    let n: i64 = raw
        .trim()
        .parse()
        .map_err(|_| invalid("limit", format!("{raw:?} is not an integer")))?;
    Ok(n.clamp(1, i64::from(MAX_LIMIT)) as u32)
}

/// The opaque `after`/`next` cursor: hex of `<date>/<doc id>`.
fn encode_after(key: ProjectionKey) -> String {
    hex::encode(format!("{}/{}", key.date, key.doc_id))
}

fn decode_after(raw: &str) -> ApiResult<ProjectionKey> {
    let bad = || invalid("after", "not a cursor returned by this endpoint");
    let bytes = hex::decode(raw.trim()).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (date, id) = text.split_once('/').ok_or_else(bad)?;
    Ok(ProjectionKey {
        date: Date::parse(date).map_err(|_| bad())?,
        doc_id: DocId::parse(id).map_err(|_| bad())?,
    })
}

fn item(row: ProjectedDocument) -> ApiResult<DocumentItem> {
    let document = serde_json::from_str(&row.document_json).map_err(ApiError::internal)?;
    Ok(DocumentItem {
        id: row.doc_id,
        updated_seq: row.updated_seq,
        document,
    })
}

async fn list(
    state: &AppState,
    principal: &Principal,
    kind: DocKind,
    params: Result<Query<ListParams>, QueryRejection>,
) -> ApiResult<Json<DocumentList>> {
    let Query(params) = params.map_err(|e| {
        ApiError::bad_request("invalid_query", format!("query string: {}", e.body_text()))
    })?;
    let mut filter = params.parse(kind)?;
    filter.visible = scope::read_scope(state.store.as_ref(), principal)
        .await?
        .visibility();
    let limit = filter.limit;
    // One extra row tells whether there is a next page.
    filter.limit = limit + 1;
    let mut rows = state
        .store
        .list_projected(principal.tenant_id, kind, &filter)
        .await?;
    let next = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|r| encode_after(r.key()))
    } else {
        None
    };
    let items = rows.into_iter().map(item).collect::<ApiResult<_>>()?;
    Ok(Json(DocumentList { items, next }))
}

/// List visits (filters: store, person, planned date range, status).
#[utoipa::path(
    get, path = "/v1/visits", tag = "queries",
    params(ListParams),
    responses(
        (status = 200, description = "one page of the visits the caller may see, newest planned date first", body = DocumentList),
        (status = 400, description = "invalid_query: a parameter does not parse", body = ErrorBody),
        (status = 401, description = "missing or invalid token", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(tenant = %principal.tenant_id, user = %principal.user_id))]
pub async fn list_visits(
    State(state): State<AppState>,
    principal: Principal,
    params: Result<Query<ListParams>, QueryRejection>,
) -> ApiResult<Json<DocumentList>> {
    list(&state, &principal, DocKind::Visit, params).await
}

/// One visit.
#[utoipa::path(
    get, path = "/v1/visits/{id}", tag = "queries",
    params(("id" = uuid::Uuid, Path, description = "visit document id (uuid)")),
    responses(
        (status = 200, description = "the visit", body = DocumentItem),
        (status = 400, description = "invalid_query: the id is not a uuid", body = ErrorBody),
        (status = 401, description = "missing or invalid token", body = ErrorBody),
        (status = 404, description = "absent, another tenant's, or outside the caller's read scope", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(tenant = %visit.principal.tenant_id, user = %visit.principal.user_id, id = %visit.object.0.doc_id))]
pub async fn get_visit(visit: InScope<VisibleVisit>) -> ApiResult<Json<DocumentItem>> {
    Ok(Json(item(visit.object.0)?))
}

/// List orders (filters: store, person, order date range, status).
#[utoipa::path(
    get, path = "/v1/orders", tag = "queries",
    params(ListParams),
    responses(
        (status = 200, description = "one page of the orders the caller may see, newest order date first", body = DocumentList),
        (status = 400, description = "invalid_query: a parameter does not parse", body = ErrorBody),
        (status = 401, description = "missing or invalid token", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(tenant = %principal.tenant_id, user = %principal.user_id))]
pub async fn list_orders(
    State(state): State<AppState>,
    principal: Principal,
    params: Result<Query<ListParams>, QueryRejection>,
) -> ApiResult<Json<DocumentList>> {
    list(&state, &principal, DocKind::Order, params).await
}

/// One order.
#[utoipa::path(
    get, path = "/v1/orders/{id}", tag = "queries",
    params(("id" = uuid::Uuid, Path, description = "order document id (uuid)")),
    responses(
        (status = 200, description = "the order", body = DocumentItem),
        (status = 400, description = "invalid_query: the id is not a uuid", body = ErrorBody),
        (status = 401, description = "missing or invalid token", body = ErrorBody),
        (status = 404, description = "absent, another tenant's, or outside the caller's read scope", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(tenant = %order.principal.tenant_id, user = %order.principal.user_id, id = %order.object.0.doc_id))]
pub async fn get_order(order: InScope<VisibleOrder>) -> ApiResult<Json<DocumentItem>> {
    Ok(Json(item(order.object.0)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> ListParams {
        let mut p = ListParams::default();
        for (k, v) in pairs {
            let v = Some(v.to_string());
            match *k {
                "store_id" => p.store_id = v,
                "person_id" => p.person_id = v,
                "from" => p.from = v,
                "to" => p.to = v,
                "status" => p.status = v,
                "limit" => p.limit = v,
                "after" => p.after = v,
                other => panic!("unknown test parameter {other}"),
            }
        }
        p
    }

    fn reason_and_message(e: ApiError) -> (&'static str, String) {
        match e {
            ApiError::BadRequest { reason, message } => (reason, message),
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn bad_values_name_their_parameter() {
        for (name, value) in [
            ("store_id", "not-a-uuid"),
            ("person_id", "42"),
            ("from", "2026-13-01"),
            ("to", "yesterday"),
            ("status", "finished"),
            ("limit", "ten"),
            ("after", "zz"),
        ] {
            let err = params(&[(name, value)]).parse(DocKind::Visit).unwrap_err();
            let (reason, message) = reason_and_message(err);
            assert_eq!(reason, "invalid_query");
            assert!(message.contains(name), "{message:?} should name {name}");
        }
    }

    #[test]
    fn status_is_parsed_per_kind() {
        let p = params(&[("status", "pending_approval")]);
        assert_eq!(
            p.parse(DocKind::Order).unwrap().status,
            Some("pending_approval")
        );
        assert!(
            p.parse(DocKind::Visit).is_err(),
            "pending_approval is not a visit status"
        );
    }

    #[test]
    fn limit_is_clamped_and_defaulted() {
        assert_eq!(
            params(&[]).parse(DocKind::Visit).unwrap().limit,
            DEFAULT_LIMIT
        );
        assert_eq!(
            params(&[("limit", "0")])
                .parse(DocKind::Visit)
                .unwrap()
                .limit,
            1
        );
        assert_eq!(
            params(&[("limit", "-5")])
                .parse(DocKind::Visit)
                .unwrap()
                .limit,
            1
        );
        assert_eq!(
            params(&[("limit", "100000")])
                .parse(DocKind::Visit)
                .unwrap()
                .limit,
            MAX_LIMIT
        );
        assert_eq!(
            params(&[("limit", "7")])
                .parse(DocKind::Visit)
                .unwrap()
                .limit,
            7
        );
    }

    #[test]
    fn after_cursor_round_trips() {
        let key = ProjectionKey {
            date: Date::parse("2026-11-22").unwrap(),
            doc_id: DocId::new_random(),
        };
        let encoded = encode_after(key);
        let filter = params(&[("after", &encoded)])
            .parse(DocKind::Order)
            .unwrap();
        assert_eq!(filter.after, Some(key));
    }

    #[test]
    fn filters_parse_into_newtypes() {
        let store = StoreId::new_random();
        let f = params(&[
            ("store_id", &store.to_string()),
            ("from", "2026-01-01"),
            ("to", "2026-01-31"),
        ])
        .parse(DocKind::Visit)
        .unwrap();
        assert_eq!(f.store_id, Some(store));
        assert_eq!(f.from, Some(Date::parse("2026-01-01").unwrap()));
        assert_eq!(f.to, Some(Date::parse("2026-01-31").unwrap()));
        assert_eq!(f.person_id, None);
    }
}
