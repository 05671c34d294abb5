//! The picture of success in a visit, for apps (docs/picture-of-success.md): the store's
//! picture (checklist, reference photos) with the visit's score of each point and the score so
//! far, and scoring a point (met, partly, not met; evidence photos of the visit; a note).
//! Offline; thin wrappers over `fieldsync_client::Device`.

use fieldsync_client as client;
use fieldsync_shared::master::{self as shared_master, AssortmentScope};
use fieldsync_shared::success as shared_success;
use fieldsync_shared::Sha256;

use crate::device::{doc_id, FieldsyncDevice};
use crate::error::Result;
use crate::mirror::mirror_enum;

mirror_enum!(
    /// What one checklist point looks at.
    SuccessPointKind = shared_master::PointKind {
        ShelfBlocking, EyeLevel, PriceTag, PosMaterial, Other,
    }
);

mirror_enum!(
    /// What the merchandiser found of one checklist point.
    SuccessScoreStatus = shared_success::ScoreStatus { Met, Partly, NotMet }
);

/// The visit's score of one checklist point.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SuccessScore {
    pub status: SuccessScoreStatus,
    /// SHA-256s (hex) of the evidence photos, photos of the visit.
    pub photo_sha256s: Vec<String>,
    pub note: Option<String>,
    pub by: String,
    pub at_ms: i64,
}

/// One point of the checklist, with the visit's score.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SuccessPoint {
    pub code: String,
    pub label: String,
    pub kind: SuccessPointKind,
    /// 1 to 100: the point's share of the score.
    pub weight: u32,
    /// The SKU an eye-level point names.
    pub sku: Option<String>,
    /// `None`: not scored yet.
    pub score: Option<SuccessScore>,
}

/// The store's picture of success as one visit sees it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SuccessPicture {
    pub code: String,
    pub title: String,
    /// `store`, `chain` or `channel`: whom the picture is for.
    pub scope: String,
    /// SHA-256s (hex) of the reference photos.
    pub reference_photo_sha256s: Vec<String>,
    /// The checklist, in order.
    pub points: Vec<SuccessPoint>,
    /// The weighted score so far, basis points (met 1, partly 1/2, else 0).
    pub score_bp: u32,
}

impl From<client::SuccessView> for SuccessPicture {
    fn from(v: client::SuccessView) -> Self {
        let p = v.picture;
        SuccessPicture {
            code: p.code.to_string(),
            title: p.title,
            scope: match p.scope {
                AssortmentScope::Store(_) => "store",
                AssortmentScope::Chain { .. } => "chain",
                AssortmentScope::Channel(_) => "channel",
            }
            .to_string(),
            reference_photo_sha256s: p.reference_photos.iter().map(|h| h.to_hex()).collect(),
            points: v
                .points
                .into_iter()
                .map(|sp| SuccessPoint {
                    code: sp.point.code.to_string(),
                    label: sp.point.label,
                    kind: sp.point.kind.into(),
                    weight: sp.point.weight,
                    sku: sp.point.sku.map(|s| s.to_string()),
                    score: sp.score.map(|s| SuccessScore {
                        status: s.status.into(),
                        photo_sha256s: s.photos.iter().map(|h| h.to_hex()).collect(),
                        note: s.note.map(|n| n.as_str().to_string()),
                        by: s.by.to_string(),
                        at_ms: s.at.millis(),
                    }),
                })
                .collect(),
            score_bp: v.score_bp,
        }
    }
}

#[uniffi::export]
impl FieldsyncDevice {
    /// The picture of success of the visit's store with the visit's score of each point and
    /// the score so far; `None` when the store has none (offline).
    pub fn success_picture(&self, visit_id: String) -> Result<Option<SuccessPicture>> {
        Ok(self
            .device
            .success_picture(doc_id("visit_id", &visit_id)?)?
            .map(SuccessPicture::from))
    }

    /// The bytes (JPEG) of a reference photo of a picture of success, held offline: the sync
    /// downloads those of the pictures held; `None`: not (yet) downloaded.
    pub fn reference_photo(&self, sha256: String) -> Result<Option<Vec<u8>>> {
        let sha = Sha256::parse(sha256.trim())?;
        Ok(self.device.reference_photo(&sha)?)
    }

    /// Records the visit's score of one checklist point (a re-score replaces it): the evidence
    /// photos must be photos of the visit (`attach_photo` first); a point the store's picture
    /// does not have is `Invalid`.
    #[uniffi::method(default(note = None))]
    pub fn score_success_point(
        &self,
        visit_id: String,
        point: String,
        status: SuccessScoreStatus,
        photo_sha256s: Vec<String>,
        note: Option<String>,
    ) -> Result<()> {
        let visit = doc_id("visit_id", &visit_id)?;
        let photos = photo_sha256s
            .iter()
            .map(|h| Sha256::parse(h.trim()))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(self.device.score_success_point(
            visit,
            &point,
            status.into(),
            &photos,
            note.as_deref(),
        )?)
    }
}
