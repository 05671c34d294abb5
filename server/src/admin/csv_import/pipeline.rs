//! The row pipeline every import kind runs through: read the file (BOM, header, cell counts,
//! row limit), check each row with the kind's [`RowImport::check`], and only when no row
//! failed, prepare and write in one store call. Reports every failing row, in file order, up
//! to [`MAX_REPORTED_ERRORS`].

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::body::Bytes;
use serde::{Deserialize, Serialize};

use fieldsync_shared::{StoreCode, StoreId, TenantId, UserId};
use uuid::Uuid;

use super::{
    agreements, assortment, credit, products, promotions, stores, success_pictures, targets,
    territories, users, ImportKind,
};
use crate::http::ApiError;
use crate::store::organisation::ImportCounts;
use crate::store::{Store as DataStore, StoreError};

/// Most data rows one import takes.
pub const MAX_IMPORT_ROWS: usize = 100_000;
/// Most row errors reported (the first ones in file order).
pub const MAX_REPORTED_ERRORS: usize = 1_000;

/// The header of a kind's file: columns every file has, and columns it may have.
#[derive(Debug, Clone, Copy)]
pub struct Columns {
    pub required: &'static [&'static str],
    pub optional: &'static [&'static str],
}

impl Columns {
    fn all(self) -> impl Iterator<Item = &'static str> {
        self.required.iter().chain(self.optional.iter()).copied()
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

/// What the rows an import creates get that the file does not say: their ids and the
/// password of a new user without one.
#[async_trait::async_trait]
pub trait NewRows: Send + Sync {
    fn store_id(&self, code: &StoreCode) -> StoreId;
    fn user_id(&self, username: &str) -> UserId;
    fn territory_id(&self, name: &str) -> Uuid;
    /// The password hash of the new users whose row has no password.
    async fn password_hash(&self) -> Result<String, ApiError>;
}

/// A customer's file: random ids; a new user without a password gets the hash of a random
/// one nobody knows, so nobody signs in as them until an administrator sets one.
pub struct FreshRows;

#[async_trait::async_trait]
impl NewRows for FreshRows {
    fn store_id(&self, _: &StoreCode) -> StoreId {
        StoreId::new_random()
    }

    fn user_id(&self, _: &str) -> UserId {
        UserId::new_random()
    }

    fn territory_id(&self, _: &str) -> Uuid {
        Uuid::new_v4()
    }

    async fn password_hash(&self) -> Result<String, ApiError> {
        crate::admin::unusable_password_hash().await
    }
}

/// No progress output (the HTTP endpoint).
pub struct Silent;
impl Progress for Silent {
    fn rows_read(&self, _: u64) {}
    fn phase(&self, _: &str) {}
}

/// The row errors of one file, the first [`MAX_REPORTED_ERRORS`] kept.
#[derive(Default)]
pub(super) struct Errors(Vec<RowError>);

impl Errors {
    pub(super) fn add(&mut self, row: u64, column: &str, message: impl Into<String>) {
        if self.0.len() < MAX_REPORTED_ERRORS {
            self.0.push(RowError {
                row,
                column: column.to_string(),
                message: message.into(),
            });
        }
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One data row: its number in the file and its cells by column name (trimmed).
pub(super) struct Row {
    pub(super) n: u64,
    cells: HashMap<&'static str, String>,
}

impl Row {
    fn get(&self, col: &str) -> &str {
        self.cells.get(col).map(String::as_str).unwrap_or("")
    }

    /// `Some` when the column is in the file.
    pub(super) fn opt(&self, col: &str) -> Option<&str> {
        self.cells.get(col).map(String::as_str)
    }

    /// The cell parsed by `f`; a refusal is recorded against this row and column.
    pub(super) fn parse<T, E: std::fmt::Display>(
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

/// What a kind does with its rows. [`check`](Self::check) parses every row and resolves
/// its references, recording refusals in `errors`; the pipeline calls
/// [`prepare`](Self::prepare) and [`write`](Self::write) only when no row failed.
#[async_trait::async_trait]
pub(super) trait RowImport: Sized + Send {
    async fn check(
        store: &dyn DataStore,
        tenant: TenantId,
        rows: &[Row],
        new: &dyn NewRows,
        errors: &mut Errors,
    ) -> Result<Self, ImportError>;

    /// Slow work on valid rows only (hashing passwords).
    async fn prepare(
        &mut self,
        _new: &dyn NewRows,
        _progress: &dyn Progress,
    ) -> Result<(), ImportError> {
        Ok(())
    }

    /// Writes every row in one transaction.
    async fn write(
        self,
        store: &dyn DataStore,
        tenant: TenantId,
    ) -> Result<ImportCounts, ImportError>;
}

/// Checked rows to upsert by their business key, and how many of them exist already.
pub(super) struct Upserts<T> {
    pub(super) rows: Vec<T>,
    pub(super) counts: ImportCounts,
}

impl<T> Default for Upserts<T> {
    fn default() -> Self {
        Upserts {
            rows: Vec::new(),
            counts: ImportCounts::default(),
        }
    }
}

impl<T> Upserts<T> {
    pub(super) fn push(&mut self, row: T, existed: bool) {
        if existed {
            self.counts.updated += 1;
        } else {
            self.counts.created += 1;
        }
        self.rows.push(row);
    }
}

/// Remembers the first row of each business key; a repeat is an error.
pub(super) fn first_seen<K: Ord>(
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

/// Reads the header and every row; checks columns. Blocking (CPU) work.
fn read_table(
    kind: ImportKind,
    bytes: &[u8],
    progress: &dyn Progress,
) -> Result<Vec<Row>, Vec<RowError>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes); // Excel's UTF-8 BOM
    let mut errors = Errors::default();
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
    let columns = kind.columns();
    let mut index: Vec<Option<&'static str>> = Vec::new();
    for name in header.iter() {
        let name = name.trim().to_ascii_lowercase();
        let known = columns.all().find(|c| *c == name);
        if known.is_none() {
            errors.add(
                1,
                &name,
                format!(
                    "unknown column; a {} file has the columns {}",
                    kind.as_str(),
                    columns.all().collect::<Vec<_>>().join(", ")
                ),
            );
        } else if index.contains(&known) {
            errors.add(1, &name, "column given twice");
        }
        index.push(known);
    }
    for col in columns.required {
        if !index.contains(&Some(col)) {
            errors.add(1, col, "required column missing from the header row");
        }
    }
    if header.is_empty() || header.iter().all(|h| h.trim().is_empty()) {
        errors.add(1, "", "the file has no header row");
    }
    if !errors.is_empty() {
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
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors.0)
    }
}

/// Imports `bytes` as a `kind` file into `tenant`: all rows or none; rows it creates get
/// what `new` gives them.
pub async fn run_import(
    store: &dyn DataStore,
    tenant: TenantId,
    kind: ImportKind,
    bytes: Bytes,
    new: &dyn NewRows,
    progress: Arc<dyn Progress>,
) -> Result<ImportReport, ImportError> {
    progress.phase("reading");
    let p = progress.clone();
    let rows = tokio::task::spawn_blocking(move || read_table(kind, &bytes, p.as_ref()))
        .await
        .map_err(ApiError::internal)?
        .map_err(ImportError::Invalid)?;
    progress.phase("validating");
    let run = Run {
        store,
        tenant,
        rows: &rows,
        new,
        progress: &*progress,
    };
    let counts = match kind {
        ImportKind::Stores => run.kind::<stores::StoreRows>().await?,
        ImportKind::Products => run.kind::<products::ProductRows>().await?,
        ImportKind::Credit => run.kind::<credit::CreditRows>().await?,
        ImportKind::Users => run.kind::<users::UserRows>().await?,
        ImportKind::Territories => run.kind::<territories::TerritoryRows>().await?,
        ImportKind::Targets => run.kind::<targets::TargetRows>().await?,
        ImportKind::Assortment => run.kind::<assortment::AssortmentRows>().await?,
        ImportKind::Promotions => run.kind::<promotions::PromotionRows>().await?,
        ImportKind::SuccessPictures => run.kind::<success_pictures::SuccessPictureRows>().await?,
        ImportKind::Agreements => run.kind::<agreements::AgreementRows>().await?,
    };
    progress.phase("done");
    Ok(ImportReport {
        kind: kind.as_str().to_string(),
        rows: rows.len() as u64,
        created: counts.created,
        updated: counts.updated,
    })
}

/// The rows of one file on their way to the store.
struct Run<'a> {
    store: &'a dyn DataStore,
    tenant: TenantId,
    rows: &'a [Row],
    new: &'a dyn NewRows,
    progress: &'a dyn Progress,
}

impl Run<'_> {
    async fn kind<K: RowImport>(&self) -> Result<ImportCounts, ImportError> {
        let mut errors = Errors::default();
        let mut checked =
            K::check(self.store, self.tenant, self.rows, self.new, &mut errors).await?;
        if !errors.is_empty() {
            return Err(ImportError::Invalid(errors.0));
        }
        checked.prepare(self.new, self.progress).await?;
        self.progress.phase("writing");
        checked.write(self.store, self.tenant).await
    }
}
