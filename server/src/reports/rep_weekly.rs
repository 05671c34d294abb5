//! The rep's weekly report, `GET /v1/reports/rep-weekly` (docs/reports.md): per rep in the
//! caller's read scope, the figures of `fieldsync_shared::report::rep_weekly`, computed by the
//! same function the phone runs offline, over the documents the projections hold for the
//! week (`visits`, `orders`, `plans`: the JSON stored with each projection row, never an
//! Automerge document hydrated per request).
//!
//! One rule, one evaluation: the findings (stale stock, out of stock, price below floor) are
//! judged per audit line against the product master as it is now, which only the visit's
//! document holds the lines for; counts kept apart in SQL would be a second copy of the rule.
//! The documents are read in one query per kind over the (tenant, person, date) index for the
//! people of the scope (who are visible by definition), not in pages of the listing, and each
//! rep's function call gets that rep's documents only.

use std::collections::HashMap;

use axum::http::HeaderMap;
use fieldsync_shared::document::DocKind;
use fieldsync_shared::master::{Role, Store};
use fieldsync_shared::order::Order;
use fieldsync_shared::plan::{IsoWeek, Plan};
use fieldsync_shared::report::rep_weekly::{self, RepWeekly, WeekInputs};
use fieldsync_shared::values::{Date, StoreId, UserId};
use fieldsync_shared::visit::Visit;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::format::{csv_field, ReportFormat};
use super::xlsx::{Cell, Sheet};
use super::{invalid, parse_person};
use crate::auth::Principal;
use crate::http::{ApiError, ApiResult};
use crate::scope::read_scope;
use crate::state::AppState;

/// Most documents of one kind a week of the report may read (a region's week is ~23 000
/// visits); beyond it, ask for one rep.
pub const MAX_DOCUMENTS: u32 = 100_000;

/// Filters of the rep's weekly report.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RepWeeklyParams {
    /// The ISO week, e.g. `2026-W47` (required).
    pub week: Option<String>,
    /// Only this rep (uuid).
    pub person_id: Option<String>,
    /// `json` (default), `csv` or `xlsx`; or by `Accept`.
    pub format: Option<String>,
}

/// The parsed filters.
#[derive(Debug, Clone)]
pub struct RepWeeklyQuery {
    pub week: IsoWeek,
    pub person: Option<UserId>,
    pub format: ReportFormat,
}

impl RepWeeklyParams {
    pub fn parse(&self, headers: &HeaderMap) -> ApiResult<RepWeeklyQuery> {
        let week = self
            .week
            .as_deref()
            .ok_or_else(|| invalid("week", "required, e.g. 2026-W47"))?;
        let week = IsoWeek::parse(week).map_err(|e| invalid("week", e))?;
        let person = parse_person(&self.person_id)?;
        let format = ReportFormat::parse(self.format.as_deref(), headers)?;
        Ok(RepWeeklyQuery {
            week,
            person,
            format,
        })
    }
}

/// One rep's week with their name.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RepWeeklyRow {
    pub person_name: String,
    /// `week`, `person_id`, `planned`, `done`, `planned_done`, `unplanned`, `orders`,
    /// `amount` (minor units), `findings` (code -> audit lines), `open_issues` (`date`,
    /// `kind`, `doc_id`, `store_id`).
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub report: RepWeekly,
}

/// The rep's weekly report as JSON.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RepWeeklyReport {
    pub week: String,
    /// One per rep or merchandiser in the scope, by name.
    pub reps: Vec<RepWeeklyRow>,
}

/// What the report needs of the master data: store names for the open issues.
pub struct Computed {
    pub rows: Vec<RepWeeklyRow>,
    pub stores: HashMap<StoreId, Store>,
}

/// The reports of the reps and merchandisers in the caller's read scope (or `query.person`
/// alone, if in it), by name.
pub async fn rep_weekly_reports(
    state: &AppState,
    principal: &Principal,
    query: &RepWeeklyQuery,
) -> ApiResult<Computed> {
    let tenant = principal.tenant_id;
    let scope = read_scope(state.store.as_ref(), principal).await?;
    let users = state.store.list_org_users(tenant).await?;
    let field_role = |r: Role| matches!(r, Role::Rep | Role::Merchandiser);
    let mut people: Vec<(UserId, String)> = users
        .into_iter()
        .map(|u| u.profile)
        .filter(|p| scope.whole_tenant || scope.people.contains(&p.id))
        .filter(|p| match query.person {
            Some(only) => p.id == only,
            None => field_role(p.role),
        })
        .map(|p| (p.id, p.display_name))
        .collect();
    people.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    let ids: Vec<UserId> = people.iter().map(|(id, _)| *id).collect();
    let (monday, sunday) = (query.week.monday(), query.week.sunday());
    let visits: HashMap<UserId, Vec<Visit>> = documents(
        state,
        tenant,
        DocKind::Visit,
        &ids,
        monday,
        sunday,
        |v: &Visit| v.person_id,
    )
    .await?;
    let orders: HashMap<UserId, Vec<Order>> = documents(
        state,
        tenant,
        DocKind::Order,
        &ids,
        monday,
        sunday,
        |o: &Order| o.person_id,
    )
    .await?;
    let plans: HashMap<UserId, Vec<Plan>> = documents(
        state,
        tenant,
        DocKind::Plan,
        &ids,
        monday,
        monday,
        |p: &Plan| p.person_id,
    )
    .await?;
    let master = state.store.master_page(tenant, 0).await?;
    let products = master
        .products
        .into_iter()
        .map(|p| (p.sku.clone(), p))
        .collect();
    let rows = people
        .into_iter()
        .map(|(person, person_name)| {
            let plan = plans
                .get(&person)
                .and_then(|p| p.iter().find(|p| p.week == query.week));
            let report = rep_weekly::rep_weekly(&WeekInputs {
                week: query.week,
                person,
                plan,
                visits: visits.get(&person).map_or(&[][..], Vec::as_slice),
                orders: orders.get(&person).map_or(&[][..], Vec::as_slice),
                products: &products,
            });
            RepWeeklyRow {
                person_name,
                report,
            }
        })
        .collect();
    Ok(Computed {
        rows,
        stores: master.stores.into_iter().map(|s| (s.id, s)).collect(),
    })
}

/// The documents of `kind` of `people` dated `from..=to` (a plan by its week's Monday), from
/// the projection rows, by owner (`person_of`). More than [`MAX_DOCUMENTS`]: `too_many_rows`.
async fn documents<T: DeserializeOwned>(
    state: &AppState,
    tenant: fieldsync_shared::values::TenantId,
    kind: DocKind,
    people: &[UserId],
    from: Date,
    to: Date,
    person_of: impl Fn(&T) -> UserId,
) -> ApiResult<HashMap<UserId, Vec<T>>> {
    let mut out: HashMap<UserId, Vec<T>> = HashMap::new();
    if people.is_empty() {
        return Ok(out);
    }
    let rows = state
        .store
        .people_documents_of(tenant, kind, people, from, to, MAX_DOCUMENTS + 1)
        .await?;
    if rows.len() > MAX_DOCUMENTS as usize {
        return Err(ApiError::unprocessable(
            "too_many_rows",
            format!(
                "more than {MAX_DOCUMENTS} {}s in the week: choose one rep (person_id)",
                kind.as_str()
            ),
        ));
    }
    for json in &rows {
        let doc: T = serde_json::from_str(json).map_err(ApiError::internal)?;
        out.entry(person_of(&doc)).or_default().push(doc);
    }
    Ok(out)
}

const CSV_HEADER: &str = "week,person_id,person,planned,done,planned_done,unplanned,orders,amount,stale_stock,out_of_stock,shelf_price_below_floor,open_issues";

fn finding(r: &RepWeekly, code: &str) -> u32 {
    r.findings.get(code).copied().unwrap_or(0)
}

/// The reps' rows as CSV (RFC 4180): one line per rep, the findings as one column per code.
pub fn csv(rows: &[RepWeeklyRow]) -> String {
    let mut out = format!("{CSV_HEADER}\r\n");
    for row in rows {
        let r = &row.report;
        let fields = [
            r.week.to_string(),
            r.person_id.to_string(),
            row.person_name.clone(),
            r.planned.to_string(),
            r.done.to_string(),
            r.planned_done.to_string(),
            r.unplanned.to_string(),
            r.orders.to_string(),
            r.amount.to_string(),
            finding(r, rep_weekly::STALE_STOCK).to_string(),
            finding(r, rep_weekly::OUT_OF_STOCK).to_string(),
            finding(r, rep_weekly::SHELF_PRICE_BELOW_FLOOR).to_string(),
            r.open_issues.len().to_string(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

/// The report as workbook sheets: the reps, their findings, their open issues.
pub fn sheets(computed: &Computed) -> Vec<Sheet> {
    let store = |id: &StoreId| -> (Cell, Cell) {
        match computed.stores.get(id) {
            Some(s) => (s.code.to_string().into(), s.name.clone().into()),
            None => (id.to_string().into(), Cell::Empty),
        }
    };
    let amount = |r: &RepWeekly| Cell::Number(r.amount.0 as f64 / 100.0);
    let reps = Sheet {
        name: "Reps 人员".into(),
        header: CSV_HEADER.split(',').collect(),
        rows: computed
            .rows
            .iter()
            .map(|row| {
                let r = &row.report;
                vec![
                    r.week.to_string().into(),
                    r.person_id.to_string().into(),
                    row.person_name.clone().into(),
                    r.planned.into(),
                    r.done.into(),
                    r.planned_done.into(),
                    r.unplanned.into(),
                    r.orders.into(),
                    amount(r),
                    finding(r, rep_weekly::STALE_STOCK).into(),
                    finding(r, rep_weekly::OUT_OF_STOCK).into(),
                    finding(r, rep_weekly::SHELF_PRICE_BELOW_FLOOR).into(),
                    (r.open_issues.len() as u32).into(),
                ]
            })
            .collect(),
    };
    let findings = Sheet {
        name: "Findings 问题".into(),
        header: vec!["person", "code", "audit_lines"],
        rows: computed
            .rows
            .iter()
            .flat_map(|row| {
                row.report.findings.iter().map(|(code, n)| {
                    vec![
                        row.person_name.clone().into(),
                        code.clone().into(),
                        (*n).into(),
                    ]
                })
            })
            .collect(),
    };
    let issues = Sheet {
        name: "Open issues 待办".into(),
        header: vec![
            "person",
            "date",
            "kind",
            "store_code",
            "store_name",
            "doc_id",
        ],
        rows: computed
            .rows
            .iter()
            .flat_map(|row| {
                row.report.open_issues.iter().map(|i| {
                    let (code, name) = store(&i.store_id);
                    vec![
                        row.person_name.clone().into(),
                        i.date.to_string().into(),
                        i.kind.clone().into(),
                        code,
                        name,
                        i.doc_id.to_string().into(),
                    ]
                })
            })
            .collect(),
    };
    vec![reps, findings, issues]
}
