//! `photo_reused`: the same photo (SHA-256) attached to visits of different stores or different
//! days. The photo rule (`shared::rules::photos::check_photo`, through `evaluate_visit`) decides
//! it, given the visit's photos the server finds on such visits ([`super::Elsewhere`]); this
//! module gives its finding the evidence only the server has (the earlier visit, its store,
//! date and person) and makes it a cross-device flag of the visit submitted later.

use fieldsync_shared::values::Sha256;
use fieldsync_shared::visit::Visit;

use crate::store::verdicts::{FindingOutcome, FindingSource, PhotoUse};
use crate::verdicts::judge::Judgement;

/// The photo rule's code, and the check's name.
pub const PHOTO_REUSED: &str = "photo_reused";

/// Whether `used`, a use of one of `visit`'s photos, is on a visit of another store or another
/// day (the same store's visit of the same day may share a photo: a second visit, a retake).
pub fn elsewhere(visit: &Visit, used: &PhotoUse) -> bool {
    used.visit != visit.id && (used.store_id != visit.store_id || used.date != visit.planned_date)
}

/// Gives each `photo_reused` finding of the server's evaluation of `visit` its evidence from
/// `uses` (ordered by date): the earliest other visit (`other_visit`, `other_store`,
/// `other_date`, `other_person`) and every other visit with the photo (`other_visits`).
pub fn add_evidence(visit: &Visit, uses: &[PhotoUse], judgement: &mut Judgement) {
    for j in &mut judgement.findings {
        if j.finding.code != PHOTO_REUSED || j.source != FindingSource::ServerData {
            continue;
        }
        let Some(sha256) = j
            .finding
            .inputs
            .get("sha256")
            .and_then(|s| Sha256::parse(s).ok())
        else {
            continue;
        };
        let others: Vec<&PhotoUse> = uses
            .iter()
            .filter(|u| u.sha256 == sha256 && elsewhere(visit, u))
            .collect();
        let Some(first) = others.first() else {
            continue;
        };
        let all: Vec<String> = others.iter().map(|u| u.visit.to_string()).collect();
        j.source = FindingSource::Server;
        j.check = Some(PHOTO_REUSED);
        j.outcome = FindingOutcome::Flagged;
        j.finding.message = format!(
            "the same photo is on the visit of {} at store {}",
            first.date, first.store_id
        );
        j.finding = j
            .finding
            .clone()
            .input("other_visit", first.visit)
            .input("other_store", first.store_id)
            .input("other_date", first.date)
            .input("other_person", first.person_id)
            .input("other_visits", all.join(","));
    }
}
