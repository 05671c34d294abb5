//! The annual agreement self-check, `GET /v1/reports/agreements?year=YYYY`
//! (docs/agreements.md): per agreement of the year, its terms against what the visits of its
//! stores recorded so far (`fieldsync_shared::report::agreements`). Read scopes: an agreement is
//! shown when the caller reads at least one of its stores, and computed on the stores they read
//! (`stores` of `stores_total`); visits are read from the projection rows, as the
//! store-opportunity report reads them.

use axum::http::HeaderMap;
use fieldsync_shared::agreement::{Agreement, MAX_YEAR, MIN_YEAR};
use fieldsync_shared::document::DocKind;
use fieldsync_shared::master::{AssortmentScope, Channel, Store};
use fieldsync_shared::report::agreements::{self as rule, AgreementCheck};
use fieldsync_shared::values::Date;
use fieldsync_shared::visit::Visit;
use serde::{Deserialize, Serialize};

use super::format::{csv_field, major_units, ReportFormat};
use super::invalid;
use super::store_opportunity::documents;
use super::xlsx::{Cell, Sheet};
use crate::auth::Principal;
use crate::http::{ApiError, ApiResult};
use crate::scope::read_scope;
use crate::state::AppState;

/// Most stores one request computes on (all agreements together); beyond it, ask per chain.
pub const MAX_STORES: usize = 500;

/// Filters of the agreements report.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AgreementsParams {
    /// The agreements' year, e.g. `2027` (required; one the tenant has agreements of).
    pub year: Option<String>,
    /// The day of the check, `YYYY-MM-DD` in the year (default: today, UTC, at most 31
    /// December of the year).
    pub on: Option<String>,
    /// `json` (default), `csv` or `xlsx`; or by `Accept`.
    pub format: Option<String>,
}

/// The parsed filters.
#[derive(Debug, Clone)]
pub struct AgreementsQuery {
    pub year: i32,
    pub day: Date,
    pub format: ReportFormat,
}

impl AgreementsParams {
    pub fn parse(&self, headers: &HeaderMap) -> ApiResult<AgreementsQuery> {
        let raw = self
            .year
            .as_deref()
            .map(str::trim)
            .ok_or_else(|| invalid("year", "required, e.g. 2027"))?;
        let year = raw
            .parse::<i32>()
            .ok()
            .filter(|y| raw.len() == 4 && (MIN_YEAR..=MAX_YEAR).contains(y))
            .ok_or_else(|| {
                invalid(
                    "year",
                    format!("{raw:?} is not a year from {MIN_YEAR} to {MAX_YEAR}, e.g. 2027"),
                )
            })?;
        let last = Date::parse(&format!("{year}-12-31")).map_err(ApiError::internal)?;
        let day = match self.on.as_deref() {
            None => Date::from_naive(chrono::Utc::now().date_naive()).min(last),
            Some(raw) => {
                let day = Date::parse(raw).map_err(|e| invalid("on", e))?;
                if day.naive().format("%Y").to_string() != year.to_string() {
                    return Err(invalid("on", format!("{day} is not in {year}")));
                }
                day
            }
        };
        Ok(AgreementsQuery {
            year,
            day,
            format: ReportFormat::parse(self.format.as_deref(), headers)?,
        })
    }
}

/// One agreement and its check.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AgreementRow {
    pub code: String,
    pub title: String,
    /// `store` or `chain`.
    pub scope: String,
    /// The store of a store agreement.
    pub store_code: Option<String>,
    /// The chain and channel of a chain agreement.
    pub chain: Option<String>,
    pub channel: Option<String>,
    /// The agreement's stores in the tenant; the check covers those the caller reads
    /// (`stores`).
    pub stores_total: u32,
    /// The stores the check covers, by code.
    pub store_codes: Vec<String>,
    /// `day`, `days_elapsed`, `days_in_year`, `stores`, `stores_audited`, `visits`, `terms`
    /// (per term: `term` listing | display_weeks | shelf_position_weeks | promotions, `agreed`,
    /// `recorded`, `expected`, `recorded_bp`, `expected_bp`, `status` met | on_track | behind
    /// | not_recorded, `fee`, `fee_at_risk` in minor units), `fee`, `fee_at_risk`.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub check: AgreementCheck,
}

/// The agreements report as JSON.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AgreementsReport {
    pub year: i32,
    /// The day of the check.
    pub day: String,
    /// The agreements of the year with at least one store the caller reads, by code.
    pub agreements: Vec<AgreementRow>,
}

fn channel_str(c: Channel) -> &'static str {
    match c {
        Channel::Nka => "nka",
        Channel::Rka => "rka",
        Channel::Lka => "lka",
        Channel::Other => "other",
    }
}

/// The report of `query` for the caller: 422 `unknown_year` when the tenant has no agreement
/// of the year.
pub async fn agreements_report(
    state: &AppState,
    principal: &Principal,
    query: &AgreementsQuery,
) -> ApiResult<AgreementsReport> {
    let tenant = principal.tenant_id;
    let agreements: Vec<Agreement> = state.store.agreements(tenant, query.year).await?;
    if agreements.is_empty() {
        return Err(ApiError::unprocessable(
            "unknown_year",
            format!(
                "no agreements of {}: import them (POST /v1/admin/import/agreements)",
                query.year
            ),
        ));
    }
    let scope = read_scope(state.store.as_ref(), principal).await?;
    let master = state.store.master_page(tenant, 0).await?;
    let all: Vec<Store> = master.stores;
    let (promotions, _) = state.store.promotions(tenant).await?;
    // Each agreement's stores, and which of them the caller reads.
    let mut plan = Vec::new();
    let mut needed = std::collections::BTreeSet::new();
    for a in agreements {
        let mut theirs: Vec<&Store> = rule::stores_of(&a, &all);
        let total = theirs.len() as u32;
        theirs.retain(|s| scope.can_see_store(s.id));
        if theirs.is_empty() {
            continue;
        }
        theirs.sort_by(|x, y| x.code.cmp(&y.code));
        needed.extend(theirs.iter().map(|s| s.id));
        plan.push((a, total, theirs));
    }
    if needed.len() > MAX_STORES {
        return Err(ApiError::unprocessable(
            "too_many_rows",
            format!(
                "the agreements cover {} stores you read: at most {MAX_STORES} per request",
                needed.len()
            ),
        ));
    }
    let first = Date::parse(&format!("{}-01-01", query.year)).map_err(ApiError::internal)?;
    let mut visits: Vec<Visit> = Vec::new();
    let mut read = 0usize;
    for store in needed {
        visits.extend(
            documents::<Visit>(
                state,
                principal,
                DocKind::Visit,
                store,
                first,
                query.day,
                &mut read,
            )
            .await?,
        );
    }
    let rows = plan
        .into_iter()
        .map(|(a, total, theirs)| {
            let stores: Vec<Store> = theirs.iter().map(|s| (*s).clone()).collect();
            let check = rule::check(&a, &stores, &visits, &promotions, query.day);
            let (scope, store_code, chain, channel) = match &a.scope {
                AssortmentScope::Store(_) => (
                    "store",
                    stores.first().map(|s| s.code.to_string()),
                    None,
                    None,
                ),
                AssortmentScope::Chain { chain, channel } => (
                    "chain",
                    None,
                    Some(chain.clone()),
                    Some(channel_str(*channel).to_string()),
                ),
                AssortmentScope::Channel(c) => {
                    ("channel", None, None, Some(channel_str(*c).to_string()))
                }
            };
            AgreementRow {
                code: a.code.to_string(),
                title: a.title,
                scope: scope.to_string(),
                store_code,
                chain,
                channel,
                stores_total: total,
                store_codes: stores.iter().map(|s| s.code.to_string()).collect(),
                check,
            }
        })
        .collect();
    Ok(AgreementsReport {
        year: query.year,
        day: query.day.to_string(),
        agreements: rows,
    })
}

const CSV_HEADER: &str = "year,day,code,title,scope,store_code,chain,channel,stores,stores_total,stores_audited,visits,term,agreed,recorded,expected,recorded_bp,expected_bp,status,fee,fee_at_risk";

/// The report as CSV (RFC 4180): one line per agreement and term; fees in major units.
pub fn csv(report: &AgreementsReport) -> String {
    let mut out = format!("{CSV_HEADER}\r\n");
    for row in &report.agreements {
        let c = &row.check;
        for t in &c.terms {
            let fields = [
                report.year.to_string(),
                report.day.clone(),
                row.code.clone(),
                row.title.clone(),
                row.scope.clone(),
                row.store_code.clone().unwrap_or_default(),
                row.chain.clone().unwrap_or_default(),
                row.channel.clone().unwrap_or_default(),
                c.stores.to_string(),
                row.stores_total.to_string(),
                c.stores_audited.to_string(),
                c.visits.to_string(),
                t.term.to_string(),
                t.agreed.to_string(),
                t.recorded.to_string(),
                t.expected.to_string(),
                t.recorded_bp.to_string(),
                t.expected_bp.to_string(),
                t.status.to_string(),
                major_units(t.fee.0),
                major_units(t.fee_at_risk.0),
            ];
            let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
            out.push_str(&line.join(","));
            out.push_str("\r\n");
        }
    }
    out
}

fn money_cell(minor: i64) -> Cell {
    Cell::Number(minor as f64 / 100.0)
}

/// The report as workbook sheets: one row per agreement, one per agreement and term; fees in
/// major units, progress in percent.
pub fn sheets(report: &AgreementsReport) -> Vec<Sheet> {
    let agreements = Sheet {
        name: "Agreements 协议".into(),
        header: vec![
            "code",
            "title",
            "scope",
            "store_code",
            "chain",
            "channel",
            "stores",
            "stores_total",
            "stores_audited",
            "visits",
            "fee",
            "fee_at_risk",
        ],
        rows: report
            .agreements
            .iter()
            .map(|row| {
                let c = &row.check;
                vec![
                    row.code.clone().into(),
                    row.title.clone().into(),
                    row.scope.clone().into(),
                    row.store_code.clone().into(),
                    row.chain.clone().into(),
                    row.channel.clone().into(),
                    c.stores.into(),
                    row.stores_total.into(),
                    c.stores_audited.into(),
                    c.visits.into(),
                    money_cell(c.fee.0),
                    money_cell(c.fee_at_risk.0),
                ]
            })
            .collect(),
    };
    let terms = Sheet {
        name: "Terms 条款".into(),
        header: vec![
            "code",
            "term",
            "agreed",
            "recorded",
            "expected",
            "recorded_pct",
            "expected_pct",
            "status",
            "fee",
            "fee_at_risk",
        ],
        rows: report
            .agreements
            .iter()
            .flat_map(|row| {
                row.check.terms.iter().map(|t| {
                    vec![
                        row.code.clone().into(),
                        t.term.as_str().into(),
                        t.agreed.into(),
                        Cell::Number(t.recorded),
                        Cell::Number(t.expected),
                        Cell::Number(f64::from(t.recorded_bp) / 100.0),
                        Cell::Number(f64::from(t.expected_bp) / 100.0),
                        t.status.as_str().into(),
                        money_cell(t.fee.0),
                        money_cell(t.fee_at_risk.0),
                    ]
                })
            })
            .collect(),
    };
    vec![agreements, terms]
}
