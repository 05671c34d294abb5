//! `GET /v1/visits`, `/v1/visits/{id}`, `/v1/orders`, `/v1/orders/{id}`, `/v1/plans`,
//! `/v1/plans/{id}`, `/v1/expenses`, `/v1/expenses/{id}`: filtered reads of the
//! hydrated documents, from the projections the sync commit maintains. Every read is bound to
//! the principal's tenant and read scope (`crate::scope`): listings hold only documents the
//! principal may see, and another tenant's or another territory's document is answered 404,
//! like an absent one.
//!
//! Listings are newest date first (visit: planned date, order: order date, plan: the week's
//! Monday, expense: the day it was spent), then by id, with
//! keyset pagination: `next` is an opaque cursor to pass back as `after`.
//!
//! Every document comes with its findings (the server's verdicts, `store::verdicts`);
//! `flagged=true` keeps the documents a verdict held or flagged, `flag=<code>` those with
//! that code (docs/verdicts.md).

use std::collections::HashMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use fieldsync_shared::document::DocKind;
use fieldsync_shared::expense::ExpenseStatus;
use fieldsync_shared::order::OrderStatus;
use fieldsync_shared::plan::PlanStatus;
use fieldsync_shared::values::{Date, DocId, ParseError, StoreId, TenantId, UserId};
use fieldsync_shared::visit::VisitStatus;
use serde::{Deserialize, Serialize};

use crate::auth::Principal;
use crate::http::{ApiError, ApiResult, ErrorBody};
use crate::scope;
use crate::scope::named::{InScope, VisibleExpense, VisibleOrder, VisiblePlan, VisibleVisit};
use crate::state::AppState;
use crate::store::documents::{ProjectedDocument, ProjectionFilter, ProjectionKey};
use crate::store::verdicts::FindingRecord;

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
        .route("/v1/plans", get(list_plans))
        .route("/v1/plans/{id}", get(get_plan))
        .route("/v1/expenses", get(list_expenses))
        .route("/v1/expenses/{id}", get(get_expense))
}

/// OpenAPI description of the query endpoints (merged into the served spec by `openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        list_visits,
        get_visit,
        list_orders,
        get_order,
        list_plans,
        get_plan,
        list_expenses,
        get_expense
    ),
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
    /// `true`: only documents the server's verdicts held or flagged (docs/verdicts.md).
    flagged: Option<String>,
    /// Only documents held or flagged with this finding code, e.g. `overdue_receivables`.
    flag: Option<String>,
}

/// Which flagged documents a listing keeps (`flagged`, `flag`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct FlagFilter {
    code: Option<String>,
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
    /// What the server's rules found on the document (oldest first): rule, rule version,
    /// severity, code, message, field, inputs, data version, source (`device_basis`,
    /// `server_data`, `server`), outcome (`held`, `flagged`, `noted`), heads, created at.
    #[schema(value_type = Vec<Object>)]
    #[serde(default)]
    pub findings: Vec<FindingRecord>,
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
    /// The flag filter: `None` unless `flagged=true` or a `flag` code is given.
    fn flag_filter(&self) -> ApiResult<Option<FlagFilter>> {
        let flagged = match self.flagged.as_deref().map(str::trim) {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(invalid(
                    "flagged",
                    format!("{other:?} is not true or false"),
                ))
            }
        };
        let code = self.flag.as_deref().map(str::trim).map(str::to_string);
        if let Some(code) = &code {
            let valid = !code.is_empty()
                && code.len() <= 64
                && code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !valid {
                return Err(invalid(
                    "flag",
                    "not a finding code such as overdue_receivables",
                ));
            }
        }
        Ok((flagged || code.is_some()).then_some(FlagFilter { code }))
    }

    /// The store filter for a listing of `kind`.
    fn parse(&self, kind: DocKind) -> ApiResult<ProjectionFilter> {
        let status = match kind {
            DocKind::Visit => {
                parse_opt("status", self.status.as_deref(), VisitStatus::parse)?.map(|s| s.as_str())
            }
            DocKind::Order => {
                parse_opt("status", self.status.as_deref(), OrderStatus::parse)?.map(|s| s.as_str())
            }
            DocKind::Plan => {
                parse_opt("status", self.status.as_deref(), PlanStatus::parse)?.map(|s| s.as_str())
            }
            DocKind::Expense => parse_opt("status", self.status.as_deref(), ExpenseStatus::parse)?
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

fn item(row: ProjectedDocument, findings: Vec<FindingRecord>) -> ApiResult<DocumentItem> {
    let document = serde_json::from_str(&row.document_json).map_err(ApiError::internal)?;
    Ok(DocumentItem {
        id: row.doc_id,
        updated_seq: row.updated_seq,
        document,
        findings,
    })
}

/// The items of `rows`, each with its findings (one read for the page).
async fn items(
    state: &AppState,
    tenant: TenantId,
    rows: Vec<ProjectedDocument>,
) -> ApiResult<Vec<DocumentItem>> {
    let ids: Vec<DocId> = rows.iter().map(|r| r.doc_id).collect();
    let mut by_doc: HashMap<DocId, Vec<FindingRecord>> = HashMap::new();
    for f in state.store.findings_of(tenant, &ids).await? {
        by_doc.entry(f.doc_id).or_default().push(f);
    }
    rows.into_iter()
        .map(|r| {
            let findings = by_doc.remove(&r.doc_id).unwrap_or_default();
            item(r, findings)
        })
        .collect()
}

/// Up to `filter.limit` rows that carry a held or flagged finding (`flags`), reading the
/// listing page by page: flags are few, and the listing's order and cursor stay as they are.
async fn flagged_rows(
    state: &AppState,
    tenant: TenantId,
    kind: DocKind,
    filter: &ProjectionFilter,
    flags: &FlagFilter,
) -> ApiResult<Vec<ProjectedDocument>> {
    let mut page = filter.clone();
    page.limit = MAX_LIMIT;
    let mut out = Vec::new();
    loop {
        let rows = state.store.list_projected(tenant, kind, &page).await?;
        let ids: Vec<DocId> = rows.iter().map(|r| r.doc_id).collect();
        let flagged = state
            .store
            .flagged_among(tenant, &ids, flags.code.as_deref())
            .await?;
        let last = rows.last().map(ProjectedDocument::key);
        let full = rows.len() == page.limit as usize;
        out.extend(rows.into_iter().filter(|r| flagged.contains(&r.doc_id)));
        if out.len() >= filter.limit as usize || !full {
            out.truncate(filter.limit as usize);
            return Ok(out);
        }
        page.after = last;
    }
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
    let flags = params.flag_filter()?;
    filter.visible = scope::read_scope(state.store.as_ref(), principal)
        .await?
        .visibility();
    let limit = filter.limit;
    // One extra row tells whether there is a next page.
    filter.limit = limit + 1;
    let tenant = principal.tenant_id;
    let mut rows = match &flags {
        Some(flags) => flagged_rows(state, tenant, kind, &filter, flags).await?,
        None => state.store.list_projected(tenant, kind, &filter).await?,
    };
    let next = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|r| encode_after(r.key()))
    } else {
        None
    };
    let items = items(state, tenant, rows).await?;
    Ok(Json(DocumentList { items, next }))
}

/// List visits (filters: store, person, planned date range, status, flagged, flag code).
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
pub async fn get_visit(
    State(state): State<AppState>,
    visit: InScope<VisibleVisit>,
) -> ApiResult<Json<DocumentItem>> {
    let tenant = visit.principal.tenant_id;
    one(&state, tenant, visit.object.0).await
}

/// One document with its findings.
async fn one(
    state: &AppState,
    tenant: TenantId,
    row: ProjectedDocument,
) -> ApiResult<Json<DocumentItem>> {
    let mut items = items(state, tenant, vec![row]).await?;
    items
        .pop()
        .map(Json)
        .ok_or_else(|| ApiError::internal("no item"))
}

/// List orders (filters: store, person, order date range, status, flagged, flag code).
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
pub async fn get_order(
    State(state): State<AppState>,
    order: InScope<VisibleOrder>,
) -> ApiResult<Json<DocumentItem>> {
    let tenant = order.principal.tenant_id;
    one(&state, tenant, order.object.0).await
}

/// List weekly visit plans (filters: person, week range by its Monday, status). A plan has no
/// store: `store_id` matches none.
#[utoipa::path(
    get, path = "/v1/plans", tag = "queries",
    params(ListParams),
    responses(
        (status = 200, description = "one page of the plans the caller may see (own; team; region), newest week first", body = DocumentList),
        (status = 400, description = "invalid_query: a parameter does not parse", body = ErrorBody),
        (status = 401, description = "missing or invalid token", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(tenant = %principal.tenant_id, user = %principal.user_id))]
pub async fn list_plans(
    State(state): State<AppState>,
    principal: Principal,
    params: Result<Query<ListParams>, QueryRejection>,
) -> ApiResult<Json<DocumentList>> {
    list(&state, &principal, DocKind::Plan, params).await
}

/// One weekly visit plan.
#[utoipa::path(
    get, path = "/v1/plans/{id}", tag = "queries",
    params(("id" = uuid::Uuid, Path, description = "plan document id (uuid)")),
    responses(
        (status = 200, description = "the plan", body = DocumentItem),
        (status = 400, description = "invalid_query: the id is not a uuid", body = ErrorBody),
        (status = 401, description = "missing or invalid token", body = ErrorBody),
        (status = 404, description = "absent, another tenant's, or outside the caller's read scope", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(tenant = %plan.principal.tenant_id, user = %plan.principal.user_id, id = %plan.object.0.doc_id))]
pub async fn get_plan(
    State(state): State<AppState>,
    plan: InScope<VisiblePlan>,
) -> ApiResult<Json<DocumentItem>> {
    let tenant = plan.principal.tenant_id;
    one(&state, tenant, plan.object.0).await
}

/// List expenses (filters: person, date range, status). Read scopes judge an expense by its
/// owner alone: `store_id` matches none.
#[utoipa::path(
    get, path = "/v1/expenses", tag = "queries",
    params(ListParams),
    responses(
        (status = 200, description = "one page of the expenses the caller may see (own; team; region), newest first", body = DocumentList),
        (status = 400, description = "invalid_query: a parameter does not parse", body = ErrorBody),
        (status = 401, description = "missing or invalid token", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(tenant = %principal.tenant_id, user = %principal.user_id))]
pub async fn list_expenses(
    State(state): State<AppState>,
    principal: Principal,
    params: Result<Query<ListParams>, QueryRejection>,
) -> ApiResult<Json<DocumentList>> {
    list(&state, &principal, DocKind::Expense, params).await
}

/// One expense.
#[utoipa::path(
    get, path = "/v1/expenses/{id}", tag = "queries",
    params(("id" = uuid::Uuid, Path, description = "expense document id (uuid)")),
    responses(
        (status = 200, description = "the expense", body = DocumentItem),
        (status = 400, description = "invalid_query: the id is not a uuid", body = ErrorBody),
        (status = 401, description = "missing or invalid token", body = ErrorBody),
        (status = 404, description = "absent, another tenant's, or outside the caller's read scope", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(tenant = %expense.principal.tenant_id, user = %expense.principal.user_id, id = %expense.object.0.doc_id))]
pub async fn get_expense(
    State(state): State<AppState>,
    expense: InScope<VisibleExpense>,
) -> ApiResult<Json<DocumentItem>> {
    let tenant = expense.principal.tenant_id;
    one(&state, tenant, expense.object.0).await
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
                "flagged" => p.flagged = v,
                "flag" => p.flag = v,
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
    fn flag_filters_parse() {
        assert_eq!(params(&[]).flag_filter().unwrap(), None);
        assert_eq!(params(&[("flagged", "false")]).flag_filter().unwrap(), None);
        assert_eq!(
            params(&[("flagged", "true")]).flag_filter().unwrap(),
            Some(FlagFilter { code: None })
        );
        assert_eq!(
            params(&[("flag", "overdue_receivables")])
                .flag_filter()
                .unwrap(),
            Some(FlagFilter {
                code: Some("overdue_receivables".into())
            })
        );
        for (name, value) in [("flagged", "yes"), ("flag", "Robert'); DROP")] {
            let err = params(&[(name, value)]).flag_filter().unwrap_err();
            let (reason, message) = reason_and_message(err);
            assert_eq!(reason, "invalid_query");
            assert!(message.contains(name), "{message:?}");
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
