//! CSV imports of users, stores, territories, products and credit snapshots:
//! `POST /v1/admin/import/{kind}` (`Content-Type: text/csv`) and
//! `fieldsync-server import <kind> <file.csv> --tenant <slug>`.
//!
//! All or nothing: the header is checked, every row is parsed into typed values and its
//! references resolved (teams, stores, users) BEFORE anything is written; if any row fails,
//! every failing row is reported (`row` counts the header as row 1, as a spreadsheet shows it)
//! and nothing is stored. Otherwise all rows are upserted by their business key in one
//! transaction (stores, products and credit each in the master-data transaction that gives the
//! rows one new master version, so devices pick them up with `GET /v1/master`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use fieldsync_shared::master::{Channel, CreditSnapshot, Grade, Product, Role, Store};
use fieldsync_shared::{Date, Money, PersonCode, Position, Sku, StoreCode, StoreId, TenantId};

use super::{require_admin, Name, Password, Username, MAX_IMPORT_BYTES};
use crate::auth::Principal;
use crate::http::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::devices::RevokeReason;
use crate::store::organisation::{ImportCounts, TerritoryImport, UserImport};
use crate::store::{Store as DataStore, StoreError};

/// Most data rows one import takes.
pub const MAX_IMPORT_ROWS: usize = 100_000;
/// Most row errors reported (the first ones in file order).
pub const MAX_REPORTED_ERRORS: usize = 1_000;

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImportKind {
    Users,
    Stores,
    Territories,
    Products,
    Credit,
}

impl ImportKind {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "users" => Some(Self::Users),
            "stores" => Some(Self::Stores),
            "territories" => Some(Self::Territories),
            "products" => Some(Self::Products),
            "credit" => Some(Self::Credit),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Users => "users",
            Self::Stores => "stores",
            Self::Territories => "territories",
            Self::Products => "products",
            Self::Credit => "credit",
        }
    }
    /// (required columns, optional columns)
    pub fn columns(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            Self::Users => (
                &["username", "display_name", "role", "code"],
                &["team", "password"],
            ),
            Self::Stores => (
                &[
                    "code",
                    "name",
                    "channel",
                    "grade",
                    "address",
                    "lat",
                    "lon",
                    "geofence_radius_m",
                    "delivery_lead_days",
                ],
                &[],
            ),
            Self::Territories => (&["territory"], &["store_code", "username"]),
            Self::Products => (
                &[
                    "sku",
                    "name",
                    "case_pack",
                    "sold_by_case",
                    "shelf_life_days",
                    "list_price",
                    "floor_price",
                ],
                &[],
            ),
            Self::Credit => (
                &[
                    "store_code",
                    "credit_limit",
                    "receivables",
                    "overdue",
                    "as_of",
                ],
                &[],
            ),
        }
    }
}

/// One refused cell (or row, or header).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RowError {
    /// Row in the file, the header being row 1.
    pub row: u64,
    /// The column's header name (empty when the whole row is refused).
    pub column: String,
    pub message: String,
}

/// 422 answer of a refused file.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InvalidRows {
    /// `invalid_rows`
    pub reason: String,
    pub message: String,
    pub errors: Vec<RowError>,
}

/// What an import did.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub kind: String,
    /// Data rows read (the header not counted).
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{} row error(s); nothing was imported", .0.len())]
    Invalid(Vec<RowError>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Api(#[from] ApiError),
}

/// Called with the number of rows read so far (every 1 000 rows and at the end) and with the
/// phase being entered.
pub trait Progress: Send + Sync {
    fn rows_read(&self, rows: u64);
    fn phase(&self, phase: &str);
}

/// No progress output (the HTTP endpoint).
pub struct Silent;
impl Progress for Silent {
    fn rows_read(&self, _: u64) {}
    fn phase(&self, _: &str) {}
}

struct Errors(Vec<RowError>);

impl Errors {
    fn add(&mut self, row: u64, column: &str, message: impl Into<String>) {
        if self.0.len() < MAX_REPORTED_ERRORS {
            self.0.push(RowError {
                row,
                column: column.to_string(),
                message: message.into(),
            });
        }
    }
}

/// One data row: its number in the file and its cells by column name (trimmed).
struct Row {
    n: u64,
    cells: HashMap<&'static str, String>,
}

impl Row {
    fn get(&self, col: &str) -> &str {
        self.cells.get(col).map(String::as_str).unwrap_or("")
    }
    /// `Some` when the column is in the file.
    fn opt(&self, col: &str) -> Option<&str> {
        self.cells.get(col).map(String::as_str)
    }
    fn parse<T, E: std::fmt::Display>(
        &self,
        errors: &mut Errors,
        col: &str,
        f: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        match f(self.get(col)) {
            Ok(v) => Some(v),
            Err(e) => {
                errors.add(self.n, col, e.to_string());
                None
            }
        }
    }
}

/// Reads the header and every row; checks columns. Blocking (CPU) work.
fn read_table(
    kind: ImportKind,
    bytes: &[u8],
    progress: &dyn Progress,
) -> Result<Vec<Row>, Vec<RowError>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes); // Excel's UTF-8 BOM
    let mut errors = Errors(Vec::new());
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes);
    let header = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            errors.add(1, "", format!("the header row does not read: {e}"));
            return Err(errors.0);
        }
    };
    let (required, optional) = kind.columns();
    let mut index: Vec<Option<&'static str>> = Vec::new();
    for name in header.iter() {
        let name = name.trim().to_ascii_lowercase();
        let known = required
            .iter()
            .chain(optional.iter())
            .find(|c| **c == name)
            .copied();
        if known.is_none() {
            errors.add(
                1,
                &name,
                format!(
                    "unknown column; a {} file has the columns {}",
                    kind.as_str(),
                    required
                        .iter()
                        .chain(optional.iter())
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        } else if index.contains(&known) {
            errors.add(1, &name, "column given twice");
        }
        index.push(known);
    }
    for col in required {
        if !index.contains(&Some(col)) {
            errors.add(1, col, "required column missing from the header row");
        }
    }
    if header.is_empty() || header.iter().all(|h| h.trim().is_empty()) {
        errors.add(1, "", "the file has no header row");
    }
    if !errors.0.is_empty() {
        return Err(errors.0);
    }
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let n = i as u64 + 2;
        if rows.len() >= MAX_IMPORT_ROWS {
            errors.add(
                n,
                "",
                format!("more than {MAX_IMPORT_ROWS} rows: split the file"),
            );
            break;
        }
        match record {
            Ok(record) => {
                if record.iter().all(|c| c.trim().is_empty()) {
                    continue; // blank line
                }
                if record.len() != index.len() {
                    errors.add(
                        n,
                        "",
                        format!(
                            "{} cells, but the header has {} columns",
                            record.len(),
                            index.len()
                        ),
                    );
                    continue;
                }
                let cells = index
                    .iter()
                    .zip(record.iter())
                    .filter_map(|(col, v)| col.map(|c| (c, v.trim().to_string())))
                    .collect();
                rows.push(Row { n, cells });
            }
            Err(e) => errors.add(n, "", format!("the row does not read: {e}")),
        }
        if (i + 1) % 1000 == 0 {
            progress.rows_read(i as u64 + 1);
        }
    }
    progress.rows_read(rows.len() as u64);
    if errors.0.is_empty() {
        Ok(rows)
    } else {
        Err(errors.0)
    }
}

fn required(s: &str) -> Result<&str, String> {
    if s.is_empty() {
        Err("must not be empty".into())
    } else {
        Ok(s)
    }
}

fn parse_u32(s: &str) -> Result<u32, String> {
    required(s)?
        .parse::<u32>()
        .map_err(|_| format!("{s:?} is not a whole number >= 0"))
}

fn parse_f64(s: &str) -> Result<f64, String> {
    required(s)?
        .parse::<f64>()
        .map_err(|_| format!("{s:?} is not a number"))
}

fn parse_bool(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" => Ok(true),
        "false" | "no" | "n" | "0" => Ok(false),
        _ => Err(format!("{s:?} is not true/false (or yes/no, 1/0)")),
    }
}

fn parse_channel(s: &str) -> Result<Channel, String> {
    match s.to_ascii_lowercase().as_str() {
        "nka" => Ok(Channel::Nka),
        "rka" => Ok(Channel::Rka),
        "lka" => Ok(Channel::Lka),
        "other" => Ok(Channel::Other),
        _ => Err(format!("{s:?} is not one of nka, rka, lka, other")),
    }
}

fn parse_grade(s: &str) -> Result<Grade, String> {
    match s.to_ascii_uppercase().as_str() {
        "A" => Ok(Grade::A),
        "B" => Ok(Grade::B),
        "C" => Ok(Grade::C),
        _ => Err(format!("{s:?} is not one of A, B, C")),
    }
}

fn parse_money(s: &str) -> Result<Money, String> {
    let m = Money::parse(s).map_err(|e| e.to_string())?;
    if m.minor() < 0 {
        return Err(format!("{s:?} is negative"));
    }
    Ok(m)
}

/// Remembers the first row of each business key; a repeat is an error.
fn first_seen<K: Ord>(
    seen: &mut BTreeMap<K, u64>,
    errors: &mut Errors,
    key: K,
    row: u64,
    col: &str,
) -> bool {
    if let Some(first) = seen.get(&key) {
        errors.add(
            row,
            col,
            format!("the same {col} is already on row {first}"),
        );
        false
    } else {
        seen.insert(key, row);
        true
    }
}

/// Imports `bytes` as a `kind` file into `tenant`: all rows or none.
pub async fn run_import(
    store: &dyn DataStore,
    tenant: TenantId,
    kind: ImportKind,
    bytes: Bytes,
    progress: Arc<dyn Progress>,
) -> Result<ImportReport, ImportError> {
    progress.phase("reading");
    let p = progress.clone();
    let rows = tokio::task::spawn_blocking(move || read_table(kind, &bytes, p.as_ref()))
        .await
        .map_err(ApiError::internal)?
        .map_err(ImportError::Invalid)?;
    progress.phase("validating");
    let mut errors = Errors(Vec::new());
    let count = rows.len() as u64;
    let counts = match kind {
        ImportKind::Stores => import_stores(store, tenant, &rows, &mut errors, &*progress).await?,
        ImportKind::Products => {
            import_products(store, tenant, &rows, &mut errors, &*progress).await?
        }
        ImportKind::Credit => import_credit(store, tenant, &rows, &mut errors, &*progress).await?,
        ImportKind::Users => import_users(store, tenant, &rows, &mut errors, &*progress).await?,
        ImportKind::Territories => {
            import_territories(store, tenant, &rows, &mut errors, &*progress).await?
        }
    };
    let Some(counts) = counts else {
        return Err(ImportError::Invalid(errors.0));
    };
    progress.phase("done");
    Ok(ImportReport {
        kind: kind.as_str().to_string(),
        rows: count,
        created: counts.created,
        updated: counts.updated,
    })
}

/// `None` (nothing written) when `errors` has any.
type Outcome = Result<Option<ImportCounts>, ImportError>;

async fn existing_store_ids(
    store: &dyn DataStore,
    tenant: TenantId,
) -> Result<HashMap<StoreCode, StoreId>, StoreError> {
    let page = store.master_page(tenant, 0).await?;
    Ok(page.stores.into_iter().map(|s| (s.code, s.id)).collect())
}

async fn import_stores(
    store: &dyn DataStore,
    tenant: TenantId,
    rows: &[Row],
    errors: &mut Errors,
    progress: &dyn Progress,
) -> Outcome {
    let existing = existing_store_ids(store, tenant).await?;
    let mut seen = BTreeMap::new();
    let mut out = Vec::new();
    let mut counts = ImportCounts::default();
    for r in rows {
        let code = r.parse(errors, "code", StoreCode::parse);
        let name = r.parse(errors, "name", Name::parse);
        let channel = r.parse(errors, "channel", parse_channel);
        let grade = r.parse(errors, "grade", parse_grade);
        let address = r.parse(errors, "address", |s| required(s).map(str::to_string));
        let lat = r.parse(errors, "lat", parse_f64);
        let lon = r.parse(errors, "lon", parse_f64);
        let radius = r.parse(errors, "geofence_radius_m", parse_u32);
        let lead = r.parse(errors, "delivery_lead_days", parse_u32);
        let location = match (lat, lon) {
            (Some(lat), Some(lon)) => r.parse(errors, "lat", |_| Position::new(lat, lon)),
            _ => None,
        };
        if let Some(c) = &code {
            if !first_seen(&mut seen, errors, c.clone(), r.n, "code") {
                continue;
            }
        }
        if let (Some(code), Some(name), Some(channel), Some(grade), Some(address)) =
            (code, name, channel, grade, address)
        {
            if let (Some(location), Some(radius), Some(lead)) = (location, radius, lead) {
                let id = match existing.get(&code) {
                    Some(id) => {
                        counts.updated += 1;
                        *id
                    }
                    None => {
                        counts.created += 1;
                        StoreId::new_random()
                    }
                };
                out.push(Store {
                    id,
                    code,
                    name: name.as_str().to_string(),
                    channel,
                    grade,
                    address,
                    location,
                    geofence_radius_m: radius,
                    delivery_lead_days: lead,
                });
            }
        }
    }
    if !errors.0.is_empty() {
        return Ok(None);
    }
    progress.phase("writing");
    store.upsert_stores(tenant, &out).await?;
    Ok(Some(counts))
}

async fn import_products(
    store: &dyn DataStore,
    tenant: TenantId,
    rows: &[Row],
    errors: &mut Errors,
    progress: &dyn Progress,
) -> Outcome {
    let page = store.master_page(tenant, 0).await?;
    let existing: std::collections::HashSet<Sku> =
        page.products.into_iter().map(|p| p.sku).collect();
    let mut seen = BTreeMap::new();
    let mut out = Vec::new();
    let mut counts = ImportCounts::default();
    for r in rows {
        let sku = r.parse(errors, "sku", Sku::parse);
        let name = r.parse(errors, "name", Name::parse);
        let case_pack = r.parse(errors, "case_pack", |s| {
            parse_u32(s).and_then(|n| {
                if n == 0 {
                    Err("must be at least 1".to_string())
                } else {
                    Ok(n)
                }
            })
        });
        let sold_by_case = r.parse(errors, "sold_by_case", parse_bool);
        let shelf_life = r.parse(errors, "shelf_life_days", parse_u32);
        let list = r.parse(errors, "list_price", parse_money);
        let floor = r.parse(errors, "floor_price", parse_money);
        if let (Some(list), Some(floor)) = (list, floor) {
            if floor > list {
                errors.add(r.n, "floor_price", "higher than list_price");
            }
        }
        if let Some(s) = &sku {
            if !first_seen(&mut seen, errors, s.clone(), r.n, "sku") {
                continue;
            }
        }
        if let (Some(sku), Some(name), Some(case_pack), Some(sold_by_case), Some(shelf)) =
            (sku, name, case_pack, sold_by_case, shelf_life)
        {
            if let (Some(list_price), Some(floor_price)) = (list, floor) {
                if existing.contains(&sku) {
                    counts.updated += 1;
                } else {
                    counts.created += 1;
                }
                out.push(Product {
                    sku,
                    name: name.as_str().to_string(),
                    case_pack,
                    sold_by_case,
                    shelf_life_days: shelf,
                    list_price,
                    floor_price,
                });
            }
        }
    }
    if !errors.0.is_empty() {
        return Ok(None);
    }
    progress.phase("writing");
    store.upsert_products(tenant, &out).await?;
    Ok(Some(counts))
}

async fn import_credit(
    store: &dyn DataStore,
    tenant: TenantId,
    rows: &[Row],
    errors: &mut Errors,
    progress: &dyn Progress,
) -> Outcome {
    let page = store.master_page(tenant, 0).await?;
    let with_credit: std::collections::HashSet<StoreId> =
        page.credit.iter().map(|c| c.store_id).collect();
    let stores: HashMap<StoreCode, StoreId> =
        page.stores.into_iter().map(|s| (s.code, s.id)).collect();
    let mut seen = BTreeMap::new();
    let mut out = Vec::new();
    let mut counts = ImportCounts::default();
    for r in rows {
        let store_id = r.parse(errors, "store_code", |s| {
            let code = StoreCode::parse(s).map_err(|e| e.to_string())?;
            stores
                .get(&code)
                .copied()
                .ok_or_else(|| format!("no store with code {code}: import the stores first"))
        });
        let limit = r.parse(errors, "credit_limit", parse_money);
        let receivables = r.parse(errors, "receivables", parse_money);
        let overdue = r.parse(errors, "overdue", parse_money);
        let as_of = r.parse(errors, "as_of", Date::parse);
        if let (Some(rec), Some(ov)) = (receivables, overdue) {
            if ov > rec {
                errors.add(r.n, "overdue", "higher than receivables");
            }
        }
        if let Some(id) = store_id {
            if !first_seen(&mut seen, errors, id, r.n, "store_code") {
                continue;
            }
        }
        if let (Some(store_id), Some(credit_limit), Some(receivables), Some(overdue), Some(as_of)) =
            (store_id, limit, receivables, overdue, as_of)
        {
            if with_credit.contains(&store_id) {
                counts.updated += 1;
            } else {
                counts.created += 1;
            }
            out.push(CreditSnapshot {
                store_id,
                credit_limit,
                receivables,
                overdue,
                as_of,
            });
        }
    }
    if !errors.0.is_empty() {
        return Ok(None);
    }
    progress.phase("writing");
    store.upsert_credit(tenant, &out).await?;
    Ok(Some(counts))
}

async fn import_users(
    store: &dyn DataStore,
    tenant: TenantId,
    rows: &[Row],
    errors: &mut Errors,
    progress: &dyn Progress,
) -> Outcome {
    let users = store.list_org_users(tenant).await?;
    let code_owner: HashMap<String, String> = users
        .iter()
        .map(|u| (u.profile.code.to_string(), u.profile.username.clone()))
        .collect();
    let teams: HashMap<String, uuid::Uuid> = store
        .list_teams(tenant)
        .await?
        .into_iter()
        .map(|t| (t.name, t.id))
        .collect();
    let mut seen_names = BTreeMap::new();
    let mut seen_codes = BTreeMap::new();
    let mut parsed = Vec::new();
    for r in rows {
        let username = r.parse(errors, "username", Username::parse);
        let name = r.parse(errors, "display_name", Name::parse);
        let role = r.parse(errors, "role", |s| Role::parse(&s.to_ascii_lowercase()));
        let code = r.parse(errors, "code", PersonCode::parse);
        let team: Option<Option<Option<uuid::Uuid>>> = match r.opt("team") {
            None => Some(None),
            Some("") => Some(Some(None)),
            Some(t) => match teams.get(t) {
                Some(id) => Some(Some(Some(*id))),
                None => {
                    errors.add(r.n, "team", format!("no team named {t:?}: create it first"));
                    None
                }
            },
        };
        let password = match r.opt("password") {
            None | Some("") => Some(None),
            Some(p) => r
                .parse(errors, "password", |_| Password::parse(p))
                .map(Some),
        };
        if let (Some(role), Some(Some(Some(_)))) = (role, team) {
            if !matches!(role, Role::Rep | Role::Merchandiser) {
                errors.add(
                    r.n,
                    "team",
                    format!(
                        "a {} is not a team member (only reps and merchandisers are)",
                        role.as_str()
                    ),
                );
            }
        }
        if let (Some(u), Some(c)) = (&username, &code) {
            if let Some(owner) = code_owner.get(c.as_str()) {
                if owner != u.as_str() {
                    errors.add(r.n, "code", format!("code {c} belongs to user `{owner}`"));
                }
            }
        }
        if let Some(u) = &username {
            if !first_seen(
                &mut seen_names,
                errors,
                u.as_str().to_string(),
                r.n,
                "username",
            ) {
                continue;
            }
        }
        if let Some(c) = &code {
            if !first_seen(&mut seen_codes, errors, c.to_string(), r.n, "code") {
                continue;
            }
        }
        if let (Some(u), Some(n), Some(role), Some(code), Some(team), Some(password)) =
            (username, name, role, code, team, password)
        {
            parsed.push((u, n, role, code, team, password));
        }
    }
    if !errors.0.is_empty() {
        return Ok(None);
    }
    progress.phase("hashing passwords");
    // One unknowable hash serves every new user without a password: nobody knows its password.
    let unusable = super::unusable_password_hash().await?;
    let mut out = Vec::with_capacity(parsed.len());
    for (username, name, role, code, team, password) in parsed {
        let password_hash = match password {
            Some(p) => Some(crate::auth::hash_password(p.expose().to_string()).await?),
            None => None,
        };
        out.push(UserImport {
            username: username.as_str().to_string(),
            display_name: name.as_str().to_string(),
            role,
            code,
            password_hash,
            unusable_hash: unusable.clone(),
            team,
        });
    }
    progress.phase("writing");
    let counts = store.import_users(tenant, &out).await?;
    // As for a password set through the API: a new password ends the user's sessions (their
    // devices stay registered and sign in again).
    let with_password: Vec<&str> = out
        .iter()
        .filter(|u| u.password_hash.is_some())
        .map(|u| u.username.as_str())
        .collect();
    if !with_password.is_empty() {
        for user in store.list_org_users(tenant).await? {
            if with_password.contains(&user.profile.username.as_str()) {
                store
                    .revoke_user_sessions(tenant, user.profile.id, RevokeReason::PasswordChanged)
                    .await?;
            }
        }
    }
    Ok(Some(counts))
}

async fn import_territories(
    store: &dyn DataStore,
    tenant: TenantId,
    rows: &[Row],
    errors: &mut Errors,
    progress: &dyn Progress,
) -> Outcome {
    let stores = existing_store_ids(store, tenant).await?;
    let users: HashMap<String, (fieldsync_shared::UserId, Role)> = store
        .list_org_users(tenant)
        .await?
        .into_iter()
        .map(|u| (u.profile.username, (u.profile.id, u.profile.role)))
        .collect();
    // Territory name -> (stores, users), in first-seen order.
    let mut order: Vec<String> = Vec::new();
    let mut by_name: HashMap<String, TerritoryImport> = HashMap::new();
    for r in rows {
        let Some(name) = r.parse(errors, "territory", Name::parse) else {
            continue;
        };
        let name = name.as_str().to_string();
        let entry = by_name.entry(name.clone()).or_insert_with(|| {
            order.push(name.clone());
            TerritoryImport {
                name,
                store_ids: Vec::new(),
                user_ids: Vec::new(),
            }
        });
        match r.opt("store_code") {
            None | Some("") => {}
            Some(s) => {
                if let Some(id) = r.parse(errors, "store_code", |_| {
                    let code = StoreCode::parse(s).map_err(|e| e.to_string())?;
                    stores
                        .get(&code)
                        .copied()
                        .ok_or_else(|| format!("no store with code {code}"))
                }) {
                    entry.store_ids.push(id);
                }
            }
        }
        match r.opt("username") {
            None | Some("") => {}
            Some(u) => {
                if let Some(id) = r.parse(errors, "username", |_| {
                    let name = crate::auth::normalize_username(u);
                    match users.get(&name) {
                        None => Err(format!("no user named `{name}`")),
                        Some((id, Role::Rep | Role::Merchandiser)) => Ok(*id),
                        Some((_, role)) => Err(format!(
                            "`{name}` is a {}: only reps and merchandisers cover territories",
                            role.as_str()
                        )),
                    }
                }) {
                    entry.user_ids.push(id);
                }
            }
        }
    }
    if !errors.0.is_empty() {
        return Ok(None);
    }
    let out: Vec<TerritoryImport> = order
        .into_iter()
        .filter_map(|n| by_name.remove(&n))
        .map(|mut t| {
            t.store_ids.sort();
            t.store_ids.dedup();
            t.user_ids.sort();
            t.user_ids.dedup();
            t
        })
        .collect();
    progress.phase("writing");
    Ok(Some(store.import_territories(tenant, &out).await?))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/admin/import/{kind}", post(import))
        .layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES))
}

/// A refused file: 422 with every failing row.
fn invalid_rows(errors: Vec<RowError>) -> Response {
    let message = format!(
        "{} error(s) in the file; nothing was imported{}",
        errors.len(),
        if errors.len() >= MAX_REPORTED_ERRORS {
            " (only the first ones are listed)"
        } else {
            ""
        }
    );
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(InvalidRows {
            reason: "invalid_rows".into(),
            message,
            errors,
        }),
    )
        .into_response()
}

/// Imports a CSV file: all rows or none.
#[utoipa::path(post, path = "/v1/admin/import/{kind}", tag = "admin", security(("bearer" = [])),
    params(("kind" = String, Path, description = "users, stores, territories, products or credit")),
    request_body(content = String, content_type = "text/csv", description = "UTF-8 CSV with a header row; columns in docs/http-api.md"),
    responses(
        (status = 200, description = "Every row imported in one transaction", body = ImportReport),
        (status = 403, description = "`forbidden`", body = crate::http::ErrorBody),
        (status = 404, description = "`not_found`: unknown kind", body = crate::http::ErrorBody),
        (status = 413, description = "`body_too_large` (10 MiB)", body = crate::http::ErrorBody),
        (status = 415, description = "`unsupported_media_type`: not text/csv", body = crate::http::ErrorBody),
        (status = 422, description = "`invalid_rows`: nothing imported; `errors` lists row, column, message", body = InvalidRows),
    ))]
#[tracing::instrument(skip(state, principal, headers, body), fields(tenant = %principal.tenant_id, bytes = body.len()))]
pub async fn import(
    State(state): State<AppState>,
    principal: Principal,
    Path(kind): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    require_admin(&principal)?;
    let kind = ImportKind::parse(&kind).ok_or(ApiError::NotFound("import kind"))?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type
        .trim()
        .to_ascii_lowercase()
        .starts_with("text/csv")
    {
        return Err(ApiError::UnsupportedMediaType(
            "send the file with Content-Type: text/csv".into(),
        ));
    }
    match run_import(
        state.store.as_ref(),
        principal.tenant_id,
        kind,
        body,
        Arc::new(Silent),
    )
    .await
    {
        Ok(report) => {
            tracing::info!(
                kind = kind.as_str(),
                rows = report.rows,
                created = report.created,
                updated = report.updated,
                "imported"
            );
            Ok(Json(report).into_response())
        }
        Err(ImportError::Invalid(errors)) => Ok(invalid_rows(errors)),
        Err(ImportError::Store(e)) => Err(e.into()),
        Err(ImportError::Api(e)) => Err(e),
    }
}
