//! Picture of success (docs/picture-of-success.md): the store's picture against what the
//! visit scored of its checklist. The score weighs each point by its weight and counts a `met`
//! point 1, `partly` one half, `not_met` and not scored 0, in basis points rounded down. Every
//! finding is a Flag (information for the supervisor, never a block):
//!
//! * `success_point_missed`: a point scored not met, with the evidence photos;
//! * `success_not_scored`: a point of the picture the visit did not score.

use std::collections::BTreeMap;

use super::{Finding, RuleId, Severity, Verdict};
use crate::master::{Store, SuccessPicture, SuccessPoint};
use crate::success::{ScoreStatus, SuccessScore};

pub const POINT_MISSED: &str = "success_point_missed";
pub const NOT_SCORED: &str = "success_not_scored";

/// The picture of success of `store`: the most specific one whose scope names it (its own,
/// else its chain's in its channel, else its channel's); among equally specific ones (an
/// import refuses them) the lowest code. `None`: the store has none.
pub fn picture_for<'a>(
    store: &Store,
    pictures: &'a [SuccessPicture],
) -> Option<&'a SuccessPicture> {
    pictures
        .iter()
        .filter_map(|p| p.scope.level_for(store).map(|level| (level, p)))
        // Highest level first, then the lowest code.
        .min_by(|(la, a), (lb, b)| lb.cmp(la).then_with(|| a.code.cmp(&b.code)))
        .map(|(_, p)| p)
}

/// One checklist point and the visit's score of it.
#[derive(Debug, Clone, PartialEq)]
pub struct PointStatus {
    pub point: SuccessPoint,
    /// `None`: not scored yet.
    pub score: Option<SuccessScore>,
}

/// The store's picture against one visit.
#[derive(Debug, Clone, PartialEq)]
pub struct SuccessResult {
    /// Every point of the picture, in the picture's order (none without a picture).
    pub items: Vec<PointStatus>,
    /// The weighted score in basis points (met 1, partly 1/2, else 0; rounded down); `None`
    /// when the store has no picture.
    pub score_bp: Option<u32>,
    pub verdict: Verdict,
}

/// Halves of a point's value: met 2, partly 1, not met and not scored 0.
fn halves(score: Option<&SuccessScore>) -> u64 {
    match score.map(|s| s.status) {
        Some(ScoreStatus::Met) => 2,
        Some(ScoreStatus::Partly) => 1,
        Some(ScoreStatus::NotMet) | None => 0,
    }
}

/// Judges the visit's `scores` (keyed by point code) against the store's `picture`
/// ([`picture_for`]). Scores of codes the picture does not have (a point removed since) are
/// ignored.
pub fn check(
    picture: Option<&SuccessPicture>,
    scores: &BTreeMap<String, SuccessScore>,
) -> SuccessResult {
    let Some(picture) = picture else {
        return SuccessResult {
            items: Vec::new(),
            score_bp: None,
            verdict: Verdict::default(),
        };
    };
    let items: Vec<PointStatus> = picture
        .points
        .iter()
        .map(|p| PointStatus {
            point: p.clone(),
            score: scores.get(p.code.as_str()).cloned(),
        })
        .collect();
    let total: u64 = items.iter().map(|i| u64::from(i.point.weight)).sum();
    let earned: u64 = items
        .iter()
        .map(|i| u64::from(i.point.weight) * halves(i.score.as_ref()))
        .sum();
    let score_bp = (total > 0).then(|| (earned * 10_000 / (2 * total)) as u32);
    let bp = score_bp.unwrap_or(0);

    let mut findings = Vec::new();
    for item in &items {
        let p = &item.point;
        let finding = |code: &str, message: String| {
            Finding::new(RuleId::Success, Severity::Flag, code, message)
                .field(format!("success.{}", p.code))
                .input("picture", &picture.code)
                .input("point", &p.code)
                .input("kind", p.kind)
                .input("weight", p.weight)
                .input("score_bp", bp)
        };
        match &item.score {
            None => findings.push(finding(
                NOT_SCORED,
                format!(
                    "{} ({}) of {} was not scored",
                    p.code, p.label, picture.code
                ),
            )),
            Some(s) if s.status == ScoreStatus::NotMet => {
                let photos: Vec<String> = s.photos.iter().map(|h| h.to_string()).collect();
                findings.push(
                    finding(
                        POINT_MISSED,
                        format!(
                            "{} ({}) of {} is not met ({} evidence photo(s))",
                            p.code,
                            p.label,
                            picture.code,
                            photos.len()
                        ),
                    )
                    .input("photos", photos.join(","))
                    .input("scored_by", s.by)
                    .input("scored_at", s.at.0),
                );
            }
            Some(_) => {}
        }
    }
    SuccessResult {
        items,
        score_bp,
        verdict: Verdict::from_findings(findings),
    }
}

#[cfg(test)]
mod tests;
