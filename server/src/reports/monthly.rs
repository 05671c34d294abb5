//! The manager's monthly report, `GET /v1/reports/monthly` (docs/reports.md): per rep in the
//! caller's read scope, per team (the sum of its reps) and in total, the month's sales against
//! target, new and dormant stores and the expense ratio, with last month's and the same month
//! last year's sales, achievement and expense ratio.
//!
//! Everything is read from the projections (`orders`, `expenses`, `targets`): each person's
//! sales of the three months summed in SQL from the amount and units the `orders` projection
//! keeps of each order (`rules::sales::sale_amount`, `sale_units`, written by the sync
//! transaction), the new and dormant stores counted per person in SQL, and the month's
//! expense documents. What counts is decided by the shared rules, never here: a sale by
//! `rules::sales` (the SQL binds `SALE_STATUSES`; the targets' achievement and the expense
//! budget count the same orders), an expense by `rules::expense::month_expenses` (what the
//! budget counts), a month's target by `targets::month_targets`.
//!
//! Order on-time delivery (`delivery`): the orders due in each month counted by their recorded
//! delivery in SQL, apart from the rest (`DeliveryStore`).

use std::collections::{BTreeMap, HashMap};

use axum::http::HeaderMap;
use fieldsync_shared::expense::Expense;
use fieldsync_shared::master::Role;
use fieldsync_shared::order::Order;
use fieldsync_shared::rules::expense::month_expenses;
use fieldsync_shared::rules::sales::{self, SALE_STATUSES};
use fieldsync_shared::values::{Money, UserId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::format::{csv_field, ReportFormat};
use super::xlsx::{Cell, Sheet};
use super::{invalid, parse_person};
use crate::auth::Principal;
use crate::http::{ApiError, ApiResult};
use crate::scope::read_scope;
use crate::state::AppState;
use crate::store::sales::{PersonSales, StoreCounts};
use crate::store::targets::Target;
use crate::targets::{month_targets, Period};
use delivery::{Deliveries, DeliveryFigures};

/// Most documents one month of a report may read: expenses, and (separately) orders projected
/// before the projection kept their amount and units; beyond it, ask for one rep. The sales
/// themselves are summed in SQL, one row per person, whatever their number.
pub const MAX_DOCUMENTS: u32 = 100_000;
/// Months before the report's month in which a store's orders make it dormant when it orders
/// nothing in the month.
pub const DORMANT_MONTHS: u32 = 3;

/// Filters of the monthly report.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MonthlyParams {
    /// The month, e.g. `2026-11` (required).
    pub month: Option<String>,
    /// Only this rep (uuid).
    pub person_id: Option<String>,
    /// `json` (default), `csv` or `xlsx`; or by `Accept`.
    pub format: Option<String>,
}

/// The parsed filters.
#[derive(Debug, Clone)]
pub struct MonthlyQuery {
    pub month: Period,
    pub person: Option<UserId>,
    pub format: ReportFormat,
}

impl MonthlyParams {
    pub fn parse(&self, headers: &HeaderMap) -> ApiResult<MonthlyQuery> {
        let month = self
            .month
            .as_deref()
            .ok_or_else(|| invalid("month", "required, e.g. 2026-11"))?;
        let month = Period::parse(month)
            .ok()
            .filter(Period::is_month)
            .ok_or_else(|| invalid("month", format!("{month:?} is not a month such as 2026-11")))?;
        if month.month_before(12).is_none() {
            return Err(invalid(
                "month",
                "compared with a year before: year 0001 or later",
            ));
        }
        let person = parse_person(&self.person_id)?;
        let format = ReportFormat::parse(self.format.as_deref(), headers)?;
        Ok(MonthlyQuery {
            month,
            person,
            format,
        })
    }
}

/// A month a figure is compared with.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Comparison {
    /// The month, e.g. `2026-10`.
    pub month: String,
    /// Sales of that month (minor units).
    pub sales_amount: i64,
    /// Sales over that month's target, basis points; `None` without a target.
    pub achievement_bp: Option<i64>,
    /// Expenses over sales of that month, basis points; `None` without sales.
    pub expense_ratio_bp: Option<i64>,
    /// Order on-time delivery of that month ([`DeliveryFigures::on_time_bp`]).
    pub on_time_bp: Option<i64>,
}

/// One line of the report: a rep, a team or the total.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MonthlyRow {
    /// `rep`, `team` or `total`.
    pub level: String,
    /// The rep's team (a team's own id); `None` for a rep in no team, and the total.
    pub team_id: Option<String>,
    /// The team's name (`No team 无团队` for reps in none; `Total 合计` for the total).
    pub team_name: String,
    /// The rep (`None` for a team and the total).
    pub person_id: Option<String>,
    pub person_name: Option<String>,
    /// Orders of the month that are sales (submitted or approved), their total (minor units).
    pub sales_amount: i64,
    /// The units (line quantities) of the same orders.
    pub sales_volume: i64,
    /// The month's target for all products (minor units); 0 without one.
    pub target_amount: i64,
    pub target_volume: i64,
    /// `sales_amount` over `target_amount`, basis points (10000: 100 %), rounded down; `None`
    /// for a zero target.
    pub achievement_bp: Option<i64>,
    /// `sales_volume` over `target_volume`, basis points, rounded down; `None` for zero.
    pub volume_achievement_bp: Option<i64>,
    /// Stores whose first sale ever falls in the month (counted for the rep who took it).
    pub new_stores: u32,
    /// Stores with sales in the three months before and none in the month (counted for the
    /// rep of their latest sale).
    pub dormant_stores: u32,
    /// Expenses of the month as the expense budget counts them (minor units).
    pub expense_amount: i64,
    /// `expense_amount` over `sales_amount`, basis points, rounded down; `None` without sales.
    pub expense_ratio_bp: Option<i64>,
    /// Order on-time delivery: the orders due in the month by their recorded delivery.
    pub delivery: DeliveryFigures,
    pub last_month: Comparison,
    pub last_year: Comparison,
}

/// The monthly report as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MonthlyReport {
    pub month: String,
    pub last_month: String,
    pub last_year: String,
    /// One per rep or merchandiser in the scope with figures or a target in one of the three
    /// months; by team name, then name.
    pub reps: Vec<MonthlyRow>,
    /// One per team of those reps (their sums), by name.
    pub teams: Vec<MonthlyRow>,
    /// The sum of all the reps.
    pub total: MonthlyRow,
}

/// A person the report may have a row for.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: UserId,
    pub name: String,
    pub team: Option<(Uuid, String)>,
}

/// One month's figures of a rep, before the ratios.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Figures {
    pub sales: Money,
    pub volume: i64,
    pub target: Money,
    pub target_volume: i64,
    pub expenses: Money,
    pub deliveries: Deliveries,
}

fn add(a: Money, b: Money) -> Money {
    a.checked_add(b).unwrap_or(Money(i64::MAX))
}

impl Figures {
    fn plus(self, o: Figures) -> Figures {
        Figures {
            sales: add(self.sales, o.sales),
            volume: self.volume.saturating_add(o.volume),
            target: add(self.target, o.target),
            target_volume: self.target_volume.saturating_add(o.target_volume),
            expenses: add(self.expenses, o.expenses),
            deliveries: self.deliveries.plus(o.deliveries),
        }
    }
    fn is_empty(&self) -> bool {
        *self == Figures::default()
    }
    fn achievement_bp(&self) -> Option<i64> {
        sales::achievement_bp(self.sales, self.target)
    }
    fn volume_achievement_bp(&self) -> Option<i64> {
        // The same share in basis points, of units.
        sales::achievement_bp(Money(self.volume), Money(self.target_volume))
    }
    fn expense_ratio_bp(&self) -> Option<i64> {
        // Expenses as a share of sales, in basis points like achievement.
        sales::achievement_bp(self.expenses, self.sales)
    }
}

/// The three months of one rep (or a sum of reps): the report's, last month, a year before.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RepMonths {
    pub this: Figures,
    pub last_month: Figures,
    pub last_year: Figures,
    pub new_stores: u32,
    pub dormant_stores: u32,
}

impl RepMonths {
    fn plus(self, o: RepMonths) -> RepMonths {
        RepMonths {
            this: self.this.plus(o.this),
            last_month: self.last_month.plus(o.last_month),
            last_year: self.last_year.plus(o.last_year),
            new_stores: self.new_stores + o.new_stores,
            dormant_stores: self.dormant_stores + o.dormant_stores,
        }
    }
    fn is_empty(&self) -> bool {
        self.this.is_empty()
            && self.last_month.is_empty()
            && self.last_year.is_empty()
            && self.new_stores == 0
            && self.dormant_stores == 0
    }
}

/// One order of the month that is a sale (dated in the month, of a sale status: the store
/// reads only those), as the achieved sales count it (`rules::sales::sale_amount`,
/// `sale_units`): for an order whose projection keeps no amount (projected before migration
/// 0021), read from its document.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sale {
    pub person_id: UserId,
    pub amount: Money,
    pub units: i64,
}

impl Sale {
    /// The sale of `order`, by the shared rule.
    pub fn of(order: &Order) -> Sale {
        Sale {
            person_id: order.person_id,
            amount: sales::sale_amount(order),
            units: sales::sale_units(order),
        }
    }
}

/// A person's sales of a month, exactly (wider than the money type): what `figures` turns
/// into the achieved sales and volume, saturating as the shared rule does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SalesSum {
    pub amount: i128,
    pub units: i128,
}

/// Each person's sales of a month: the sums SQL made of the amounts and units the projection
/// keeps (`kept`), plus the orders read from their documents (`unkept`).
pub fn person_sales(kept: &[PersonSales], unkept: &[Sale]) -> HashMap<UserId, SalesSum> {
    let mut out: HashMap<UserId, SalesSum> = HashMap::new();
    for k in kept {
        let sum = out.entry(k.person_id).or_default();
        sum.amount += k.amount;
        sum.units += k.units;
    }
    for s in unkept {
        let sum = out.entry(s.person_id).or_default();
        sum.amount += i128::from(s.amount.0);
        sum.units += i128::from(s.units);
    }
    out
}

/// The sales, expenses and targets of one month.
#[derive(Debug, Default)]
pub struct MonthData {
    pub month: Option<Period>,
    pub sales: HashMap<UserId, SalesSum>,
    pub expenses: Vec<Expense>,
    pub targets: BTreeMap<UserId, Target>,
    /// Per person, the orders due in the month by delivery (`delivery::month_deliveries`).
    pub deliveries: HashMap<UserId, Deliveries>,
}

/// `person`'s figures of `data`'s month (`expenses`: theirs).
fn figures(data: &MonthData, expenses: &[&Expense], person: UserId) -> Figures {
    let Some(month) = &data.month else {
        return Figures::default();
    };
    let day = month.start();
    let target = data.targets.get(&person);
    let sold = data.sales.get(&person).copied().unwrap_or_default();
    Figures {
        sales: sales::amount_of_exact_sum(sold.amount),
        volume: sales::units_of_exact_sum(sold.units),
        target: target.map_or(Money::ZERO, |t| t.amount),
        target_volume: target.map_or(0, |t| t.volume),
        expenses: month_expenses(expenses.iter().copied(), person, day),
        deliveries: data.deliveries.get(&person).copied().unwrap_or_default(),
    }
}

/// Each person's figures of a month, grouping the expenses by person first.
fn month_figures(data: &MonthData, people: &[Person]) -> HashMap<UserId, Figures> {
    let mut expenses: HashMap<UserId, Vec<&Expense>> = HashMap::new();
    for e in &data.expenses {
        expenses.entry(e.person_id).or_default().push(e);
    }
    people
        .iter()
        .map(|p| {
            let e = expenses.get(&p.id).map_or(&[][..], Vec::as_slice);
            (p.id, figures(data, e, p.id))
        })
        .collect()
}

/// The new and dormant stores per person, as the report looks them up.
pub fn store_counts(counts: &[StoreCounts]) -> (HashMap<UserId, u32>, HashMap<UserId, u32>) {
    let pick = |f: fn(&StoreCounts) -> u32| {
        counts
            .iter()
            .filter(|c| f(c) > 0)
            .map(|c| (c.person_id, f(c)))
            .collect()
    };
    (pick(|c| c.new_stores), pick(|c| c.dormant_stores))
}

/// Everything the report is computed from.
pub struct Inputs<'a> {
    pub people: &'a [Person],
    /// The report's month, last month, the same month last year.
    pub months: [&'a MonthData; 3],
    pub new_stores: &'a HashMap<UserId, u32>,
    pub dormant_stores: &'a HashMap<UserId, u32>,
}

const NO_TEAM: &str = "No team 无团队";
const TOTAL: &str = "Total 合计";

fn comparison(month: &MonthData, f: &Figures) -> Comparison {
    Comparison {
        month: month
            .month
            .as_ref()
            .map_or(String::new(), |m| m.as_str().to_string()),
        sales_amount: f.sales.0,
        achievement_bp: f.achievement_bp(),
        expense_ratio_bp: f.expense_ratio_bp(),
        on_time_bp: f.deliveries.on_time_bp(),
    }
}

fn row(
    inputs: &Inputs<'_>,
    level: &str,
    team: (Option<String>, String),
    person: Option<&Person>,
    m: &RepMonths,
) -> MonthlyRow {
    let [_, last_month, last_year] = inputs.months;
    MonthlyRow {
        level: level.to_string(),
        team_id: team.0,
        team_name: team.1,
        person_id: person.map(|p| p.id.to_string()),
        person_name: person.map(|p| p.name.clone()),
        sales_amount: m.this.sales.0,
        sales_volume: m.this.volume,
        target_amount: m.this.target.0,
        target_volume: m.this.target_volume,
        achievement_bp: m.this.achievement_bp(),
        volume_achievement_bp: m.this.volume_achievement_bp(),
        new_stores: m.new_stores,
        dormant_stores: m.dormant_stores,
        expense_amount: m.this.expenses.0,
        expense_ratio_bp: m.this.expense_ratio_bp(),
        delivery: m.this.deliveries.figures(),
        last_month: comparison(last_month, &m.last_month),
        last_year: comparison(last_year, &m.last_year),
    }
}

fn team_of(p: &Person) -> (Option<String>, String) {
    match &p.team {
        Some((id, name)) => (Some(id.to_string()), name.clone()),
        None => (None, NO_TEAM.to_string()),
    }
}

/// The report: a row per person with figures or a target in one of the months, per team
/// (sums of its reps' figures, ratios of the sums) and the total.
pub fn report(inputs: &Inputs<'_>) -> MonthlyReport {
    let [this, last_month, last_year] = inputs.months;
    let per_month = [this, last_month, last_year].map(|m| month_figures(m, inputs.people));
    let of = |i: usize, p: UserId| per_month[i].get(&p).copied().unwrap_or_default();
    let mut people: Vec<(&Person, RepMonths)> = inputs
        .people
        .iter()
        .map(|p| {
            let m = RepMonths {
                this: of(0, p.id),
                last_month: of(1, p.id),
                last_year: of(2, p.id),
                new_stores: inputs.new_stores.get(&p.id).copied().unwrap_or(0),
                dormant_stores: inputs.dormant_stores.get(&p.id).copied().unwrap_or(0),
            };
            (p, m)
        })
        .filter(|(_, m)| !m.is_empty())
        .collect();
    people.sort_by(|a, b| {
        (team_of(a.0).1, &a.0.name, a.0.id).cmp(&(team_of(b.0).1, &b.0.name, b.0.id))
    });
    let mut teams: BTreeMap<(String, Option<String>), RepMonths> = BTreeMap::new();
    let mut total = RepMonths::default();
    for (p, m) in &people {
        let (id, name) = team_of(p);
        let sum = teams.entry((name, id)).or_default();
        *sum = sum.plus(*m);
        total = total.plus(*m);
    }
    MonthlyReport {
        month: this
            .month
            .as_ref()
            .map_or(String::new(), |m| m.as_str().into()),
        last_month: last_month
            .month
            .as_ref()
            .map_or(String::new(), |m| m.as_str().into()),
        last_year: last_year
            .month
            .as_ref()
            .map_or(String::new(), |m| m.as_str().into()),
        reps: people
            .iter()
            .map(|(p, m)| row(inputs, "rep", team_of(p), Some(*p), m))
            .collect(),
        teams: teams
            .into_iter()
            .map(|((name, id), m)| row(inputs, "team", (id, name), None, &m))
            .collect(),
        total: row(inputs, "total", (None, TOTAL.to_string()), None, &total),
    }
}

/// Fails with `too_many_rows` when a bounded read came back full.
fn bounded<T>(rows: Vec<T>, limit: u32, what: &str) -> ApiResult<Vec<T>> {
    if rows.len() > limit as usize {
        return Err(ApiError::unprocessable(
            "too_many_rows",
            format!("more than {limit} {what}: choose one rep (person_id)"),
        ));
    }
    Ok(rows)
}

fn sale_statuses() -> Vec<&'static str> {
    SALE_STATUSES.iter().map(|s| s.as_str()).collect()
}

/// The sales, expenses and targets of `month` for `people`.
async fn month_data(
    state: &AppState,
    principal: &Principal,
    people: &[UserId],
    month: Period,
) -> ApiResult<MonthData> {
    let (tenant, statuses) = (principal.tenant_id, sale_statuses());
    let kept = state
        .store
        .people_sales(tenant, Some(people), month.start(), month.end(), &statuses)
        .await?;
    let docs = state
        .store
        .people_documents(
            tenant,
            Some(people),
            month.start(),
            month.end(),
            &statuses,
            MAX_DOCUMENTS + 1,
        )
        .await?;
    // An order projected before the projection kept its amount and units is read from its
    // document, by the same rule.
    let unkept = bounded(
        docs.unkept_orders,
        MAX_DOCUMENTS,
        "unsummed orders in a month",
    )?
    .iter()
    .map(|json| {
        serde_json::from_str::<Order>(json)
            .map(|order| Sale::of(&order))
            .map_err(ApiError::internal)
    })
    .collect::<ApiResult<Vec<Sale>>>()?;
    let expenses = bounded(docs.expenses, MAX_DOCUMENTS, "expenses in a month")?
        .iter()
        .map(|json| serde_json::from_str(json).map_err(ApiError::internal))
        .collect::<ApiResult<Vec<Expense>>>()?;
    let targets = month_targets(state, principal, Some(people.to_vec()), &month).await?;
    Ok(MonthData {
        month: Some(month),
        sales: person_sales(&kept, &unkept),
        expenses,
        targets,
        deliveries: HashMap::new(),
    })
}

/// The reps and merchandisers of the caller's read scope (or `person` alone, if one of them),
/// with their teams.
async fn people_in_scope(
    state: &AppState,
    principal: &Principal,
    person: Option<UserId>,
) -> ApiResult<Vec<Person>> {
    let tenant = principal.tenant_id;
    let scope = read_scope(state.store.as_ref(), principal).await?;
    let teams: HashMap<Uuid, String> = state
        .store
        .list_teams(tenant)
        .await?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect();
    Ok(state
        .store
        .list_org_users(tenant)
        .await?
        .into_iter()
        .filter(|u| matches!(u.profile.role, Role::Rep | Role::Merchandiser))
        .filter(|u| scope.whole_tenant || scope.people.contains(&u.profile.id))
        .filter(|u| person.is_none_or(|p| p == u.profile.id))
        .map(|u| Person {
            id: u.profile.id,
            name: u.profile.display_name,
            team: u
                .team_id
                .and_then(|t| teams.get(&t).map(|name| (t, name.clone()))),
        })
        .collect())
}

/// The monthly report for `query`, within the caller's read scope.
pub async fn monthly_report(
    state: &AppState,
    principal: &Principal,
    query: &MonthlyQuery,
) -> ApiResult<MonthlyReport> {
    let tenant = principal.tenant_id;
    let month = &query.month;
    let months_before = |n: u32| {
        month
            .month_before(n)
            .ok_or_else(|| invalid("month", "too early to compare"))
    };
    let (last_month, last_year, dormant_from) = (
        months_before(1)?,
        months_before(12)?,
        months_before(DORMANT_MONTHS)?,
    );
    let people = people_in_scope(state, principal, query.person).await?;
    let ids: Vec<UserId> = people.iter().map(|p| p.id).collect();
    let (this, last, year_before) = if ids.is_empty() {
        Default::default()
    } else {
        (
            month_data(state, principal, &ids, month.clone()).await?,
            month_data(state, principal, &ids, last_month).await?,
            month_data(state, principal, &ids, last_year).await?,
        )
    };

    // New and dormant stores: every sale of the tenant in the month and the three before it
    // (a store is new or dormant whoever sold to it), counted in SQL per person; only the
    // people of the scope get a row.
    let (new_stores, dormant_stores) = if ids.is_empty() {
        Default::default()
    } else {
        let counts = state
            .store
            .store_counts(
                tenant,
                dormant_from.start(),
                month.start(),
                month.end(),
                &sale_statuses(),
            )
            .await?;
        store_counts(&counts)
    };
    // With nobody in the scope the months are empty, but still named.
    let (mut this, mut last, mut year_before) = (this, last, year_before);
    this.month = Some(month.clone());
    last.month = month.month_before(1);
    year_before.month = month.month_before(12);
    for data in [&mut this, &mut last, &mut year_before] {
        if let Some(m) = &data.month {
            data.deliveries = delivery::month_deliveries(state, tenant, &ids, m).await?;
        }
    }
    Ok(report(&Inputs {
        people: &people,
        months: [&this, &last, &year_before],
        new_stores: &new_stores,
        dormant_stores: &dormant_stores,
    }))
}

const CSV_HEADER: &str = "level,team_id,team,person_id,person,sales_amount,sales_volume,target_amount,target_volume,achievement_bp,volume_achievement_bp,new_stores,dormant_stores,expense_amount,expense_ratio_bp,last_month_sales_amount,last_month_achievement_bp,last_month_expense_ratio_bp,last_year_sales_amount,last_year_achievement_bp,last_year_expense_ratio_bp";

fn opt(v: Option<i64>) -> String {
    v.map_or(String::new(), |v| v.to_string())
}

/// Every row of the report, reps first, then the teams and the total.
pub fn all_rows(r: &MonthlyReport) -> impl Iterator<Item = &MonthlyRow> {
    r.reps
        .iter()
        .chain(&r.teams)
        .chain(std::iter::once(&r.total))
}

/// The report as CSV (RFC 4180): the reps, the teams and the total, one line each; amounts in
/// major units, ratios in basis points (empty where there is none).
pub fn csv(r: &MonthlyReport) -> String {
    let mut out = format!("{CSV_HEADER},{}\r\n", delivery::CSV_COLUMNS);
    for row in all_rows(r) {
        let fields = [
            row.level.clone(),
            row.team_id.clone().unwrap_or_default(),
            row.team_name.clone(),
            row.person_id.clone().unwrap_or_default(),
            row.person_name.clone().unwrap_or_default(),
            Money(row.sales_amount).to_string(),
            row.sales_volume.to_string(),
            Money(row.target_amount).to_string(),
            row.target_volume.to_string(),
            opt(row.achievement_bp),
            opt(row.volume_achievement_bp),
            row.new_stores.to_string(),
            row.dormant_stores.to_string(),
            Money(row.expense_amount).to_string(),
            opt(row.expense_ratio_bp),
            Money(row.last_month.sales_amount).to_string(),
            opt(row.last_month.achievement_bp),
            opt(row.last_month.expense_ratio_bp),
            Money(row.last_year.sales_amount).to_string(),
            opt(row.last_year.achievement_bp),
            opt(row.last_year.expense_ratio_bp),
        ];
        let delivery = delivery::csv_fields(
            &row.delivery,
            row.last_month.on_time_bp,
            row.last_year.on_time_bp,
        );
        let line: Vec<String> = fields
            .iter()
            .chain(&delivery)
            .map(|f| csv_field(f))
            .collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

/// Basis points as a percentage cell (12.5 for 1250 bp); empty where there is none.
fn pct(bp: Option<i64>) -> Cell {
    bp.map_or(Cell::Empty, |bp| Cell::Number(bp as f64 / 100.0))
}

fn major(minor: i64) -> Cell {
    Cell::Number(minor as f64 / 100.0)
}

const FIGURE_HEADER: [&str; 16] = [
    "sales_amount",
    "sales_volume",
    "target_amount",
    "target_volume",
    "achievement_pct",
    "volume_achievement_pct",
    "new_stores",
    "dormant_stores",
    "expense_amount",
    "expense_ratio_pct",
    "last_month_sales_amount",
    "last_month_achievement_pct",
    "last_month_expense_ratio_pct",
    "last_year_sales_amount",
    "last_year_achievement_pct",
    "last_year_expense_ratio_pct",
];

fn figure_cells(row: &MonthlyRow) -> Vec<Cell> {
    vec![
        major(row.sales_amount),
        Cell::Number(row.sales_volume as f64),
        major(row.target_amount),
        Cell::Number(row.target_volume as f64),
        pct(row.achievement_bp),
        pct(row.volume_achievement_bp),
        row.new_stores.into(),
        row.dormant_stores.into(),
        major(row.expense_amount),
        pct(row.expense_ratio_bp),
        major(row.last_month.sales_amount),
        pct(row.last_month.achievement_bp),
        pct(row.last_month.expense_ratio_bp),
        major(row.last_year.sales_amount),
        pct(row.last_year.achievement_bp),
        pct(row.last_year.expense_ratio_bp),
    ]
    .into_iter()
    .chain(delivery::cells(
        &row.delivery,
        row.last_month.on_time_bp,
        row.last_year.on_time_bp,
    ))
    .collect()
}

/// The report as workbook sheets: `Teams 团队` (the teams and the total) and `Reps 人员`;
/// amounts in major units, ratios in percent.
pub fn sheets(r: &MonthlyReport) -> Vec<Sheet> {
    let mut team_header = vec!["month", "team"];
    team_header.extend(FIGURE_HEADER);
    team_header.extend(delivery::XLSX_COLUMNS);
    let mut rep_header = vec!["month", "team", "person_id", "person"];
    rep_header.extend(FIGURE_HEADER);
    rep_header.extend(delivery::XLSX_COLUMNS);
    let teams = Sheet {
        name: "Teams 团队".into(),
        header: team_header,
        rows: r
            .teams
            .iter()
            .chain(std::iter::once(&r.total))
            .map(|row| {
                let mut cells = vec![r.month.clone().into(), row.team_name.clone().into()];
                cells.extend(figure_cells(row));
                cells
            })
            .collect(),
    };
    let reps = Sheet {
        name: "Reps 人员".into(),
        header: rep_header,
        rows: r
            .reps
            .iter()
            .map(|row| {
                let mut cells = vec![
                    r.month.clone().into(),
                    row.team_name.clone().into(),
                    row.person_id.clone().into(),
                    row.person_name.clone().into(),
                ];
                cells.extend(figure_cells(row));
                cells
            })
            .collect(),
    };
    vec![teams, reps]
}

pub mod delivery;

#[cfg(test)]
mod tests;
