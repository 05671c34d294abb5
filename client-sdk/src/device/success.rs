//! The picture of success in a visit (docs/picture-of-success.md), offline: the store's picture
//! (from master data) with the visit's score of each checklist point and the current score,
//! and scoring a point. The rule (`rules::success`) runs at submission with the other rules
//! (`submit_visit`); the view here uses the same rule for its score.

use fieldsync_shared::master::{SuccessPicture, SuccessPoint};
use fieldsync_shared::rules::success;
use fieldsync_shared::success::{ScoreStatus, SuccessScore};
use fieldsync_shared::visit::Visit;
use fieldsync_shared::{DocId, ParseError, PointCode, Sha256, ShortText, Timestamp};
use serde::Serialize;

use super::visits::store_of;
use super::Device;
use crate::edits;
use crate::error::{DeviceError, Result};
use crate::store;

/// Most evidence photos one score names.
const MAX_PHOTOS: usize = 20;

/// One checklist point and the visit's score of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoredPoint {
    pub point: SuccessPoint,
    /// `None`: not scored yet.
    pub score: Option<SuccessScore>,
}

/// The store's picture of success as one visit sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuccessView {
    /// The picture (its checklist and reference photos).
    pub picture: SuccessPicture,
    /// The checklist in the picture's order, each point with its score.
    pub points: Vec<ScoredPoint>,
    /// The weighted score so far, basis points (the rule's: met 1, partly 1/2, else 0).
    pub score_bp: u32,
}

impl Device {
    /// The picture of success of the visit's store (the most specific one held from master
    /// data), each point with the visit's score of it, and the score so far; `None` when the
    /// store has none. Offline.
    pub fn success_picture(&self, visit: DocId) -> Result<Option<SuccessView>> {
        let v: Visit = edits::read(&self.db, visit)?;
        let conn = self.db.lock();
        let store = store_of(&conn, &v)?;
        let pictures = store::success_pictures(&conn)?;
        let Some(picture) = success::picture_for(&store, &pictures) else {
            return Ok(None);
        };
        let scores = v.success_scores.clone().unwrap_or_default();
        let result = success::check(Some(picture), &scores);
        Ok(Some(SuccessView {
            picture: picture.clone(),
            points: result
                .items
                .into_iter()
                .map(|i| ScoredPoint {
                    point: i.point,
                    score: i.score,
                })
                .collect(),
            score_bp: result.score_bp.unwrap_or(0),
        }))
    }

    /// The bytes of a reference photo of a picture of success, held offline (downloaded by the
    /// sync); `None`: not (yet) held.
    pub fn reference_photo(&self, sha: &Sha256) -> Result<Option<Vec<u8>>> {
        store::read_reference_photo(self.db.dir(), sha)
    }

    /// Records the score of one checklist point of the store's picture: met, partly or not
    /// met, with evidence photos (photos of this visit) and a note. A re-score replaces the
    /// earlier one whole. Refused (`InvalidInput`) for a point the store's picture does not
    /// have or a photo not attached to the visit; `WrongState` on a visit written by an older
    /// app that the server has not upgraded yet (sync first).
    pub fn score_success_point(
        &self,
        visit: DocId,
        point: &str,
        status: ScoreStatus,
        photos: &[Sha256],
        note: Option<&str>,
    ) -> Result<()> {
        let point = PointCode::parse(point)?;
        if photos.len() > MAX_PHOTOS {
            return Err(ParseError::new(
                "photos",
                format!("more than {MAX_PHOTOS} evidence photos"),
            )
            .into());
        }
        let note = note
            .filter(|n| !n.trim().is_empty())
            .map(ShortText::parse)
            .transpose()?;
        self.edit_visit(visit, "score success point", |conn, profile, v| {
            let store = store_of(conn, v)?;
            let pictures = store::success_pictures(conn)?;
            let known = success::picture_for(&store, &pictures)
                .is_some_and(|p| p.points.iter().any(|pt| pt.code == point));
            if !known {
                return Err(ParseError::new(
                    "point",
                    format!(
                        "{point} is not a point of this store's picture of success (sync to \
                         receive new pictures)"
                    ),
                )
                .into());
            }
            if let Some(missing) = photos.iter().find(|h| !v.photos.contains_key(&h.to_hex())) {
                return Err(ParseError::new(
                    "photos",
                    format!("{missing} is not a photo of this visit: attach it first"),
                )
                .into());
            }
            let mut next = v.clone();
            let Some(scores) = next.success_scores.as_mut() else {
                return Err(DeviceError::wrong_state(
                    "this visit was written by an older app: sync it once before scoring the \
                     picture of success",
                ));
            };
            let mut evidence = photos.to_vec();
            evidence.sort();
            evidence.dedup();
            scores.insert(
                point.to_string(),
                SuccessScore {
                    status,
                    photos: evidence,
                    note,
                    by: profile.id,
                    at: Timestamp::now(),
                },
            );
            edits::authorize(conn, profile, Some(v), &next)?;
            *v = next;
            Ok(())
        })
    }
}
