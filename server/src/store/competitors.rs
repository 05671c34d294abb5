//! Competitor sightings as reports read them (migration 0022, docs/competitors.md): one row per
//! sighting of a visit, written with the visit's projection in the sync transaction
//! (`documents_sql`, `competitors_sql`), and counted per store and week. The SQL, the same
//! for both engines, is in `competitors_sql`.

use fieldsync_shared::values::{Date, StoreId, TenantId};
use fieldsync_shared::visit::CompetitorSighting;
use serde::Deserialize;

use super::documents::VisitProjection;
use super::StoreResult;

/// One sighting as projected.
#[derive(Debug, Clone, PartialEq)]
pub struct SightingRow {
    pub sighting_id: String,
    pub competitor: String,
    pub seen: Option<String>,
    pub shelf_price: Option<i64>,
    pub promotion: Option<String>,
    pub display: Option<&'static str>,
    pub photos: i64,
    pub by: String,
    pub at: i64,
}

/// What the projection reads of the hydrated visit.
#[derive(Deserialize)]
struct Sightings {
    #[serde(default)]
    competitor_sightings: Option<std::collections::BTreeMap<String, CompetitorSighting>>,
}

impl VisitProjection {
    /// The visit's sightings, read from `document_json` (the hydrated visit) like its photos,
    /// so the stores keep `competitor_sightings` in step with the projection.
    pub fn sighting_rows(&self) -> Vec<SightingRow> {
        let Ok(doc) = serde_json::from_str::<Sightings>(&self.document_json) else {
            return Vec::new();
        };
        doc.competitor_sightings
            .unwrap_or_default()
            .into_values()
            .map(|s| SightingRow {
                sighting_id: s.id.to_string(),
                competitor: s.competitor.as_str().to_string(),
                seen: s.seen.map(|t| t.as_str().to_string()),
                shelf_price: s.shelf_price.map(|p| p.0),
                promotion: s.promotion.map(|t| t.as_str().to_string()),
                display: s.display.map(|d| d.as_str()),
                photos: i64::try_from(s.photos.len()).unwrap_or(i64::MAX),
                by: s.by.to_string(),
                at: s.at.0,
            })
            .collect()
    }
}

/// The sightings recorded at one store in visits planned in one ISO week.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeeklySightings {
    pub store_id: StoreId,
    /// The Monday of the week.
    pub week_start: Date,
    pub sightings: u64,
    /// Of those, with a promotion noted.
    pub with_promotion: u64,
    /// Of those, with a display noted.
    pub with_display: u64,
}

#[async_trait::async_trait]
pub trait CompetitorStore: Send + Sync {
    /// Sightings per store and week of the visits of `stores` planned in weeks starting
    /// `from..=to` (Mondays), by week, then store. Stores without sightings are left out.
    async fn weekly_sightings(
        &self,
        tenant: TenantId,
        stores: &[StoreId],
        from: Date,
        to: Date,
    ) -> StoreResult<Vec<WeeklySightings>>;
}
