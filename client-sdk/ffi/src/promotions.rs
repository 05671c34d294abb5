//! Promotions and display agreements in a visit, for apps (docs/promotions.md): the promotions
//! running at the visit's store with the visit's check of each, and recording a check (in
//! place, partly, not; evidence photos of the visit; the shelf price seen). Offline; thin
//! wrappers over `fieldsync_client::Device`.

use fieldsync_client as client;
use fieldsync_shared::master::{self as shared_master, AssortmentScope};
use fieldsync_shared::promotion as shared_promotion;
use fieldsync_shared::{Money, Sha256};

use crate::device::{doc_id, FieldsyncDevice};
use crate::error::{FieldsyncError, Result};
use crate::mirror::mirror_enum;

mirror_enum!(
    /// What the chain agreed to do.
    PromotionMechanic = shared_master::Mechanic {
        PriceCut, Gift, Endcap, FloorStand, ShelfPosition,
    }
);

mirror_enum!(
    /// What the merchandiser found of one promotion in the store.
    PromotionCheckStatus = shared_promotion::CheckStatus { InPlace, Partly, NotInPlace }
);

/// The visit's check of one promotion.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PromotionCheck {
    pub status: PromotionCheckStatus,
    /// SHA-256s (hex) of the evidence photos, photos of the visit.
    pub photo_sha256s: Vec<String>,
    pub seen_price_minor: Option<i64>,
    pub note: Option<String>,
    pub by: String,
    pub at_ms: i64,
}

/// One promotion running at the visit's store on the visit's date, with the visit's check.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct RunningPromotion {
    pub code: String,
    pub title: String,
    /// First and last day (included), `YYYY-MM-DD`.
    pub from: String,
    pub to: String,
    /// `store`, `chain` or `channel`: whom the agreement was made with.
    pub scope: String,
    pub skus: Vec<String>,
    pub mechanic: PromotionMechanic,
    /// The shelf price a price cut must show, minor units.
    pub promotion_price_minor: Option<i64>,
    pub fee_minor: Option<i64>,
    /// `None`: not checked yet.
    pub check: Option<PromotionCheck>,
}

impl From<client::RunningPromotion> for RunningPromotion {
    fn from(r: client::RunningPromotion) -> Self {
        let p = r.promotion;
        RunningPromotion {
            code: p.code.to_string(),
            title: p.title,
            from: p.from.to_string(),
            to: p.to.to_string(),
            scope: match p.scope {
                AssortmentScope::Store(_) => "store",
                AssortmentScope::Chain { .. } => "chain",
                AssortmentScope::Channel(_) => "channel",
            }
            .to_string(),
            skus: p.skus.iter().map(|s| s.to_string()).collect(),
            mechanic: p.mechanic.into(),
            promotion_price_minor: p.promotion_price.map(|m| m.minor()),
            fee_minor: p.fee.map(|m| m.minor()),
            check: r.check.map(|c| PromotionCheck {
                status: c.status.into(),
                photo_sha256s: c.photos.iter().map(|h| h.to_hex()).collect(),
                seen_price_minor: c.seen_price.map(|m| m.minor()),
                note: c.note.map(|n| n.as_str().to_string()),
                by: c.by.to_string(),
                at_ms: c.at.millis(),
            }),
        }
    }
}

#[uniffi::export]
impl FieldsyncDevice {
    /// The promotions running at the visit's store on the visit's date, by code, each with the
    /// visit's check if any (offline).
    pub fn active_promotions(&self, visit_id: String) -> Result<Vec<RunningPromotion>> {
        Ok(self
            .device
            .active_promotions(doc_id("visit_id", &visit_id)?)?
            .into_iter()
            .map(RunningPromotion::from)
            .collect())
    }

    /// Records the visit's check of one running promotion (a re-check replaces it): the
    /// evidence photos must be photos of the visit (`attach_photo` first); a negative price is
    /// `Invalid` (code `negative`).
    #[uniffi::method(default(seen_price_minor = None, note = None))]
    pub fn check_promotion(
        &self,
        visit_id: String,
        code: String,
        status: PromotionCheckStatus,
        photo_sha256s: Vec<String>,
        seen_price_minor: Option<i64>,
        note: Option<String>,
    ) -> Result<()> {
        let visit = doc_id("visit_id", &visit_id)?;
        if let Some(p) = seen_price_minor.filter(|p| *p < 0) {
            return Err(FieldsyncError::negative("seen_price_minor", p));
        }
        let photos = photo_sha256s
            .iter()
            .map(|h| Sha256::parse(h.trim()))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(self.device.check_promotion(
            visit,
            &code,
            status.into(),
            &photos,
            seen_price_minor.map(Money),
            note.as_deref(),
        )?)
    }
}
