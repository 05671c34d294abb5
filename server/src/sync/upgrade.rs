//! Bringing documents written by older apps up to the current schema, once, with a change of
//! the server's own (like a compensation, see [`super::policy`]). Pure and CPU-bound, run in
//! the merge.
//!
//! A visit written before notes were entries has no list of notes. Devices never create that
//! list on an existing visit (two devices creating it at once would make two lists under one
//! key, and the entries of the losing one would be hidden): the server creates it the first
//! time it stores the visit, under the optimistic version check of the commit, so there is
//! only ever one list. Until a device receives it, its notes go to the earlier notes text.
//!
//! Schema 2 added three maps the same way: promotion checks (`Visit::promotion_checks`),
//! competitor sightings and stock counts; schema 3 the scores of the picture of success
//! (`Visit::success_scores`). The server adds the empty maps (and the notes list, if missing)
//! to a visit that lacks them and sets its schema to the current one, in one change. Until a
//! device receives them, it refuses to record a check, a sighting, a count or a score (sync
//! first).

#![allow(clippy::result_large_err)]

use automerge::{AutoCommit, Change};
use fieldsync_shared::document::{AnyDocument, DocumentError};
use fieldsync_shared::visit::VISIT_SCHEMA_VERSION;

use super::policy::server_change;

/// The message of the server's upgrade change, read in the document's history.
pub const UPGRADE_MESSAGE: &str = "fieldsync-server: visit upgraded to schema 3";

/// Adds what `document` (the state of `doc`) lacks of the current schema to `doc`, as one
/// change of the server's actor; `None` when nothing is missing. `document` is updated.
pub fn upgrade(
    doc: &mut AutoCommit,
    document: &mut AnyDocument,
) -> Result<Option<Change>, DocumentError> {
    let AnyDocument::Visit(visit) = document else {
        return Ok(None);
    };
    if visit.note_entries.is_some()
        && visit.promotion_checks.is_some()
        && visit.competitor_sightings.is_some()
        && visit.stock_counts.is_some()
        && visit.success_scores.is_some()
    {
        return Ok(None);
    }
    let mut upgraded = visit.clone();
    upgraded.note_entries.get_or_insert_with(Vec::new);
    upgraded
        .promotion_checks
        .get_or_insert_with(Default::default);
    upgraded
        .competitor_sightings
        .get_or_insert_with(Default::default);
    upgraded.stock_counts.get_or_insert_with(Default::default);
    upgraded.success_scores.get_or_insert_with(Default::default);
    upgraded.schema = upgraded.schema.max(VISIT_SCHEMA_VERSION);
    let Some((change, upgraded)) = server_change(
        doc,
        document,
        AnyDocument::Visit(upgraded),
        UPGRADE_MESSAGE.into(),
    )?
    else {
        return Ok(None);
    };
    *document = upgraded;
    Ok(Some(change))
}

#[cfg(test)]
mod tests {
    use automerge::{ActorId, ReadDoc, ROOT};
    use fieldsync_shared::document::{hydrate_visit, new_document, reconcile_visit};
    use fieldsync_shared::values::{Date, DocId, StoreId, Timestamp, UserId};
    use fieldsync_shared::visit::{NoteEntry, Visit};

    use super::*;

    /// A visit as the schema 1 app writes it: notes as entries, none of the maps of schema 2.
    fn schema_1(with_note_list: bool) -> (AutoCommit, AnyDocument) {
        let mut doc = new_document(ActorId::from([7; 16]));
        let mut visit = Visit::new(
            DocId::new_random(),
            StoreId::new_random(),
            UserId::new_random(),
            Date::parse("2026-12-07").unwrap(),
        );
        visit.schema = 1;
        visit.promotion_checks = None;
        visit.competitor_sightings = None;
        visit.stock_counts = None;
        visit.success_scores = None;
        if with_note_list {
            visit.add_note(NoteEntry {
                by: visit.person_id,
                by_name: "rep".into(),
                at: Timestamp(1_000),
                text: "endcap half empty".into(),
            });
        } else {
            visit.note_entries = None;
        }
        reconcile_visit(&mut doc, &visit).unwrap();
        doc.commit();
        let document = AnyDocument::Visit(hydrate_visit(&doc).unwrap());
        (doc, document)
    }

    #[test]
    fn a_schema_1_visit_gets_the_map_once_and_keeps_its_notes() {
        for with_note_list in [true, false] {
            let (mut doc, mut document) = schema_1(with_note_list);
            let before = hydrate_visit(&doc).unwrap();
            let change = upgrade(&mut doc, &mut document).unwrap().expect("a change");
            assert_eq!(change.message(), Some(UPGRADE_MESSAGE));
            let upgraded = hydrate_visit(&doc).unwrap();
            assert_eq!(AnyDocument::Visit(upgraded.clone()), document);
            assert_eq!(upgraded.schema, 3);
            assert_eq!(upgraded.promotion_checks, Some(Default::default()));
            assert_eq!(upgraded.competitor_sightings, Some(Default::default()));
            assert_eq!(upgraded.stock_counts, Some(Default::default()));
            assert_eq!(upgraded.success_scores, Some(Default::default()));
            for map in [
                "promotion_checks",
                "competitor_sightings",
                "stock_counts",
                "success_scores",
            ] {
                assert!(doc.get(ROOT, map).unwrap().is_some(), "{map}");
            }
            let notes = if with_note_list {
                before.note_entries.clone()
            } else {
                Some(Vec::new())
            };
            assert_eq!(upgraded.note_entries, notes);
            assert_eq!(
                (upgraded.status, upgraded.audit, upgraded.id),
                (before.status, before.audit, before.id)
            );
            // Once: the upgraded visit needs nothing.
            assert!(upgrade(&mut doc, &mut document).unwrap().is_none());
        }
        // A visit of this version needs nothing either.
        let mut doc = new_document(ActorId::from([8; 16]));
        let visit = Visit::new(
            DocId::new_random(),
            StoreId::new_random(),
            UserId::new_random(),
            Date::parse("2026-12-07").unwrap(),
        );
        reconcile_visit(&mut doc, &visit).unwrap();
        doc.commit();
        let mut document = AnyDocument::Visit(visit);
        assert!(upgrade(&mut doc, &mut document).unwrap().is_none());
    }

    /// A visit as the schema 2 app (the code before pictures of success) writes it: every map
    /// of schema 2, a promotion check, no scores.
    fn schema_2() -> (AutoCommit, AnyDocument) {
        use fieldsync_shared::promotion::{CheckStatus, PromotionCheck};
        let mut doc = new_document(ActorId::from([9; 16]));
        let mut visit = Visit::new(
            DocId::new_random(),
            StoreId::new_random(),
            UserId::new_random(),
            Date::parse("2026-12-07").unwrap(),
        );
        visit.schema = 2;
        visit.success_scores = None;
        visit.promotion_checks.as_mut().unwrap().insert(
            "CNY-ENDCAP".into(),
            PromotionCheck {
                status: CheckStatus::InPlace,
                photos: Vec::new(),
                seen_price: None,
                note: None,
                by: visit.person_id,
                at: Timestamp(5_000),
            },
        );
        reconcile_visit(&mut doc, &visit).unwrap();
        doc.commit();
        let document = AnyDocument::Visit(hydrate_visit(&doc).unwrap());
        (doc, document)
    }

    #[test]
    fn a_schema_2_visit_gets_the_scores_once_and_keeps_everything_else() {
        let (mut doc, mut document) = schema_2();
        assert!(doc.get(ROOT, "success_scores").unwrap().is_none());
        let before = hydrate_visit(&doc).unwrap();
        let change = upgrade(&mut doc, &mut document).unwrap().expect("a change");
        assert_eq!(change.message(), Some(UPGRADE_MESSAGE));
        let upgraded = hydrate_visit(&doc).unwrap();
        assert_eq!(AnyDocument::Visit(upgraded.clone()), document);
        assert_eq!(upgraded.schema, 3);
        assert!(doc.get(ROOT, "success_scores").unwrap().is_some());
        assert_eq!(upgraded.success_scores, Some(Default::default()));
        // Nothing else changes: the same visit but for the schema and the new map.
        let mut expected = before.clone();
        expected.schema = 3;
        expected.success_scores = Some(Default::default());
        assert_eq!(upgraded, expected);
        // Once.
        assert!(upgrade(&mut doc, &mut document).unwrap().is_none());
    }
}
