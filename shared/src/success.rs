//! What a visit records of the store's picture of success (docs/picture-of-success.md): a
//! [`SuccessScore`] per checklist point, in `Visit::success_scores` keyed by the point's code.
//! The pictures themselves are master data (`master::SuccessPicture`); the shared rule that
//! scores them is `rules::success`.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::values::{string_enum, PointCode, Sha256, ShortText, Timestamp, UserId};

string_enum!(
    /// What the merchandiser found of one checklist point on the shelf.
    ScoreStatus, "success score status" {
        Met = "met",
        Partly = "partly",
        NotMet = "not_met",
    }
);

/// One score of one checklist point in a visit. A re-score replaces the record as a whole (its
/// `at` is the record's key, as for audit lines): two people scoring the same point at once
/// leave one whole score, never a mix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct SuccessScore {
    pub status: ScoreStatus,
    /// Evidence: SHA-256s of photos of the visit.
    pub photos: Vec<Sha256>,
    pub note: Option<ShortText>,
    pub by: UserId,
    #[key]
    pub at: Timestamp,
}

/// Writes the visit's map of scores when it has one; writes nothing when it has none, so that
/// reconciling a visit read without the map never creates it (see `Visit::success_scores`).
pub(crate) fn reconcile_scores<R: autosurgeon::Reconciler>(
    scores: &Option<BTreeMap<String, SuccessScore>>,
    reconciler: R,
) -> Result<(), R::Error> {
    match scores {
        Some(scores) => scores.reconcile(reconciler),
        None => Ok(()),
    }
}

/// Every key of a visit's scores is a point code as [`PointCode::parse`] writes it.
pub(crate) fn check_point_codes(
    scores: &BTreeMap<String, SuccessScore>,
) -> Result<(), autosurgeon::HydrateError> {
    for key in scores.keys() {
        if PointCode::parse(key).map(|c| c.as_str() == key) != Ok(true) {
            return Err(autosurgeon::HydrateError::unexpected(
                "success_scores keyed by point code",
                format!("key {key:?}"),
            ));
        }
    }
    Ok(())
}
