//! `success-pictures` files: the tenant's pictures of success (docs/picture-of-success.md), one
//! row a checklist point: the picture's `code`, `title` and scope (one store: `store_code`; a
//! chain's stores in a channel: `chain` and `channel`; every store of a channel: `channel`, as
//! the must-carry range), the point's code (`point`), `label`, `kind`, `weight` (1 to 100) and,
//! for an eye-level point, its `sku`; `reference_photos` (SHA-256s separated by spaces or `;`)
//! on any of the picture's rows. The rows of one picture repeat its title and scope. The file
//! replaces the pictures as a whole: a picture left out is gone (a file with the header alone
//! empties them).

use std::collections::{BTreeMap, BTreeSet, HashSet};

use fieldsync_shared::master::{
    AssortmentScope, PointKind, SuccessPicture, SuccessPoint, MAX_POINT_WEIGHT,
};
use fieldsync_shared::values::{Name, PictureCode, PointCode, Sha256};
use fieldsync_shared::{Sku, TenantId};

use super::assortment::scope_of;
use super::cells::parse_u32;
use super::pipeline::{Columns, Errors, ImportError, NewRows, Row, RowImport, Upserts};
use super::stores::ids_by_code;
use crate::store::organisation::ImportCounts;
use crate::store::Store as DataStore;

pub const COLUMNS: Columns = Columns {
    required: &["code", "title", "point", "label", "kind", "weight"],
    optional: &["store_code", "chain", "channel", "sku", "reference_photos"],
};

/// Most checklist points one picture has.
pub const MAX_POINTS: usize = 50;
/// Most reference photos one picture names.
pub const MAX_REFERENCE_PHOTOS: usize = 20;

/// The checked rows: the pictures to store.
#[derive(Default)]
pub(super) struct SuccessPictureRows {
    upserts: Upserts<SuccessPicture>,
}

/// A picture being read: its first row and what its rows said so far.
struct Building {
    first_row: u64,
    picture: SuccessPicture,
    photos: BTreeSet<Sha256>,
}

/// The cell's SHA-256s, separated by spaces or `;` (none: empty).
fn photos_of(cell: &str) -> Result<Vec<Sha256>, String> {
    cell.split([' ', ';'])
        .filter(|s| !s.is_empty())
        .map(|s| Sha256::parse(s).map_err(|e| e.to_string()))
        .collect()
}

/// The column a scope is named by, for a refusal about it.
fn scope_column(scope: &AssortmentScope) -> &'static str {
    match scope {
        AssortmentScope::Store(_) => "store_code",
        AssortmentScope::Chain { .. } | AssortmentScope::Channel(_) => "channel",
    }
}

#[async_trait::async_trait]
impl RowImport for SuccessPictureRows {
    async fn check(
        store: &dyn DataStore,
        tenant: TenantId,
        rows: &[Row],
        _new: &dyn NewRows,
        errors: &mut Errors,
    ) -> Result<Self, ImportError> {
        let stores = ids_by_code(store, tenant).await?;
        let products: HashSet<Sku> = store
            .master_page(tenant, 0)
            .await?
            .products
            .into_iter()
            .map(|p| p.sku)
            .collect();
        let before: HashSet<PictureCode> = store
            .success_pictures(tenant)
            .await?
            .0
            .into_iter()
            .map(|p| p.code)
            .collect();
        let mut pictures: BTreeMap<PictureCode, Building> = BTreeMap::new();
        for r in rows {
            let code = r.parse(errors, "code", PictureCode::parse);
            let title = r.parse(errors, "title", Name::parse);
            let point = r.parse(errors, "point", PointCode::parse);
            let label = r.parse(errors, "label", Name::parse);
            let kind = r.parse(errors, "kind", PointKind::parse);
            let weight = r.parse(errors, "weight", |s| {
                let w = parse_u32(s)?;
                if (1..=MAX_POINT_WEIGHT).contains(&w) {
                    Ok(w)
                } else {
                    Err(format!("{w} is not a weight from 1 to {MAX_POINT_WEIGHT}"))
                }
            });
            let sku = match r.opt("sku").filter(|s| !s.is_empty()) {
                None => None,
                Some(_) if kind.is_some_and(|k| k != PointKind::EyeLevel) => {
                    errors.add(
                        r.n,
                        "sku",
                        "only an eye_level point names a SKU: leave the cell empty",
                    );
                    continue;
                }
                Some(_) => match r.parse(errors, "sku", |s| {
                    let sku = Sku::parse(s).map_err(|e| e.to_string())?;
                    if products.contains(&sku) {
                        Ok(sku)
                    } else {
                        Err(format!(
                            "no product with SKU {sku}: import the products first"
                        ))
                    }
                }) {
                    Some(sku) => Some(sku),
                    None => continue,
                },
            };
            let photos = r.parse(errors, "reference_photos", photos_of);
            let scope = scope_of(r, errors, &stores);
            let (
                Some(code),
                Some(title),
                Some(point),
                Some(label),
                Some(kind),
                Some(weight),
                Some(photos),
                Some(scope),
            ) = (code, title, point, label, kind, weight, photos, scope)
            else {
                continue;
            };
            let building = pictures.entry(code.clone()).or_insert_with(|| Building {
                first_row: r.n,
                picture: SuccessPicture {
                    code: code.clone(),
                    title: title.as_str().to_string(),
                    scope: scope.clone(),
                    points: Vec::new(),
                    reference_photos: Vec::new(),
                },
                photos: BTreeSet::new(),
            });
            let first = building.first_row;
            if building.picture.title != title.as_str() {
                errors.add(
                    r.n,
                    "title",
                    format!("picture {code} has another title on row {first}: repeat it"),
                );
                continue;
            }
            if building.picture.scope != scope {
                errors.add(
                    r.n,
                    scope_column(&scope),
                    format!("picture {code} is for other stores on row {first}: repeat its scope"),
                );
                continue;
            }
            if let Some(i) = building.picture.points.iter().position(|p| p.code == point) {
                errors.add(
                    r.n,
                    "point",
                    format!(
                        "picture {code} already has point {point} (its row {})",
                        i + 1
                    ),
                );
                continue;
            }
            if building.picture.points.len() == MAX_POINTS {
                errors.add(
                    r.n,
                    "point",
                    format!("picture {code} has more than {MAX_POINTS} points"),
                );
                continue;
            }
            building.photos.extend(photos);
            if building.photos.len() > MAX_REFERENCE_PHOTOS {
                errors.add(
                    r.n,
                    "reference_photos",
                    format!(
                        "picture {code} names more than {MAX_REFERENCE_PHOTOS} reference photos"
                    ),
                );
                continue;
            }
            building.picture.points.push(SuccessPoint {
                code: point,
                label: label.as_str().to_string(),
                kind,
                weight,
                sku,
            });
        }
        // One picture per scope: a store's picture is the most specific one naming it, and
        // two of one scope would leave the choice to their codes.
        let mut scopes: BTreeMap<AssortmentScope, PictureCode> = BTreeMap::new();
        let mut out = SuccessPictureRows::default();
        for (code, b) in pictures {
            let mut picture = b.picture;
            if let Some(other) = scopes.get(&picture.scope) {
                errors.add(
                    b.first_row,
                    scope_column(&picture.scope),
                    format!("picture {other} is already for these stores: one picture per store, chain or channel"),
                );
                continue;
            }
            scopes.insert(picture.scope.clone(), code.clone());
            picture.reference_photos = b.photos.into_iter().collect();
            out.upserts.push(picture, before.contains(&code));
        }
        Ok(out)
    }

    async fn write(
        self,
        store: &dyn DataStore,
        tenant: TenantId,
    ) -> Result<ImportCounts, ImportError> {
        store
            .replace_success_pictures(tenant, &self.upserts.rows)
            .await?;
        Ok(self.upserts.counts)
    }
}
