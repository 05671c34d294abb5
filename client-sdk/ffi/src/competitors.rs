//! Competitor activity for apps: record, edit and remove one's own competitor sightings of a
//! visit, list them (offline). Thin wrappers over `fieldsync_client::Device`'s sighting
//! operations (docs/competitors.md).

use fieldsync_client as client;
use fieldsync_shared::visit::competitors as shared_competitors;
use fieldsync_shared::{Money, ParseError};

use crate::device::{doc_id, FieldsyncDevice};
use crate::error::Result;
use crate::mirror::mirror_enum;

mirror_enum!(
    /// The kind of display a competitor has in the store.
    CompetitorDisplay = shared_competitors::CompetitorDisplay {
        Endcap,
        FloorStand,
        ShelfPosition,
        Other,
    }
);

/// A competitor sighting as the app records it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CompetitorSightingInput {
    /// The competitor: brand or company (required, at most 100 characters).
    pub competitor: String,
    /// The SKU or brand seen.
    pub seen: Option<String>,
    /// The shelf price seen, minor units (cents).
    pub shelf_price_minor: Option<i64>,
    /// The promotion running: mechanic and price.
    pub promotion: Option<String>,
    pub display: Option<CompetitorDisplay>,
    /// SHA-256 (hex) of photos already attached to the visit.
    pub photo_sha256s: Vec<String>,
    pub note: String,
}

impl CompetitorSightingInput {
    fn parse(self) -> client::SightingInput {
        client::SightingInput {
            competitor: self.competitor,
            seen: self.seen,
            shelf_price: self.shelf_price_minor.map(Money),
            promotion: self.promotion,
            display: self.display.map(|d| {
                shared_competitors::CompetitorDisplay::from(d)
                    .as_str()
                    .to_string()
            }),
            photos: self.photo_sha256s,
            note: self.note,
        }
    }
}

/// A competitor sighting of a visit.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CompetitorSighting {
    pub id: String,
    pub competitor: String,
    pub seen: Option<String>,
    pub shelf_price_minor: Option<i64>,
    pub promotion: Option<String>,
    pub display: Option<CompetitorDisplay>,
    pub photo_sha256s: Vec<String>,
    pub note: String,
    /// Who recorded it (user id) and their name then.
    pub by_user_id: String,
    pub by_name: String,
    pub at_ms: i64,
}

impl From<client::CompetitorSighting> for CompetitorSighting {
    fn from(s: client::CompetitorSighting) -> Self {
        CompetitorSighting {
            id: s.id.to_string(),
            competitor: s.competitor.as_str().to_string(),
            seen: s.seen.map(|t| t.as_str().to_string()),
            shelf_price_minor: s.shelf_price.map(|m| m.minor()),
            promotion: s.promotion.map(|t| t.as_str().to_string()),
            display: s.display.map(CompetitorDisplay::from),
            photo_sha256s: s.photos.iter().map(|p| p.to_hex()).collect(),
            note: s.note,
            by_user_id: s.by.to_string(),
            by_name: s.by_name,
            at_ms: s.at.millis(),
        }
    }
}

fn sighting_id(s: &str) -> Result<client::SightingId> {
    client::SightingId::parse(s.trim()).map_err(|e| ParseError::new("sighting_id", e.reason).into())
}

#[uniffi::export]
impl FieldsyncDevice {
    /// Records a competitor sighting on the visit (offline); returns its id. Sightings added
    /// at once on two phones are both kept. A visit written by an older app must be synced
    /// once first (`WrongState`).
    pub fn add_competitor_sighting(
        &self,
        visit_id: String,
        input: CompetitorSightingInput,
    ) -> Result<String> {
        let visit = doc_id("visit_id", &visit_id)?;
        Ok(self
            .device
            .add_competitor_sighting(visit, &input.parse())?
            .to_string())
    }

    /// Replaces one's own sighting with `input`; someone else's is `Forbidden`.
    pub fn edit_competitor_sighting(
        &self,
        visit_id: String,
        sighting_id: String,
        input: CompetitorSightingInput,
    ) -> Result<()> {
        let visit = doc_id("visit_id", &visit_id)?;
        let id = self::sighting_id(&sighting_id)?;
        Ok(self
            .device
            .edit_competitor_sighting(visit, id, &input.parse())?)
    }

    /// Removes one's own sighting; someone else's is `Forbidden`.
    pub fn remove_competitor_sighting(&self, visit_id: String, sighting_id: String) -> Result<()> {
        let visit = doc_id("visit_id", &visit_id)?;
        let id = self::sighting_id(&sighting_id)?;
        Ok(self.device.remove_competitor_sighting(visit, id)?)
    }

    /// The visit's competitor sightings, by time (the same order on every phone).
    pub fn competitor_sightings(&self, visit_id: String) -> Result<Vec<CompetitorSighting>> {
        Ok(self
            .device
            .competitor_sightings(doc_id("visit_id", &visit_id)?)?
            .into_iter()
            .map(CompetitorSighting::from)
            .collect())
    }
}
