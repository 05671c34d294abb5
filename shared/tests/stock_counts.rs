//! Stock counts of a visit (docs/assortment.md, "Suggested order"): a recount replaces the
//! count; two people counting one SKU at once leave one whole count; a visit written before
//! counts existed gets the map from the server only (write policy).

use fieldsync_shared::document::{hydrate_visit, new_document, reconcile_visit};
use fieldsync_shared::master::Role;
use fieldsync_shared::org::{Editor, Relation};
use fieldsync_shared::policy::{check_visit, codes, Field};
use fieldsync_shared::values::{Date, DocId, Sku, StoreId, Timestamp, UserId};
use fieldsync_shared::visit::stock::{StockCountProblem, MAX_COUNTED_UNITS};
use fieldsync_shared::visit::{StockCount, Visit, VisitStatus};

use automerge::ActorId;

fn new_visit(owner: UserId) -> Visit {
    let mut v = Visit::new(
        DocId::new_random(),
        StoreId::new_random(),
        owner,
        Date::parse("2026-12-07").unwrap(),
    );
    v.status = VisitStatus::InProgress;
    v
}

fn count(by: UserId, at: i64, shelf_units: u32, backroom_units: u32) -> StockCount {
    StockCount {
        sku: Sku::parse("COLA-330").unwrap(),
        shelf_units,
        backroom_units,
        counted_by: by,
        counted_at: Timestamp(at),
    }
}

#[test]
fn a_recount_replaces_the_count_and_limits_hold() {
    let rep = UserId::new_random();
    let mut v = new_visit(rep);
    v.record_stock_count(count(rep, 1, 10, 5)).unwrap();
    v.record_stock_count(count(rep, 2, 30, 10)).unwrap();
    let counts = v.stock_counts.as_ref().unwrap();
    assert_eq!(counts.len(), 1);
    assert_eq!(counts["COLA-330"].on_hand(), 40);
    assert_eq!(
        v.record_stock_count(count(rep, 3, MAX_COUNTED_UNITS + 1, 0)),
        Err(StockCountProblem::TooMany)
    );
    let mut older = new_visit(rep);
    older.stock_counts = None;
    assert_eq!(
        older.record_stock_count(count(rep, 1, 1, 1)),
        Err(StockCountProblem::NoMap)
    );
}

#[test]
fn two_people_counting_one_sku_at_once_leave_one_whole_count() {
    let (rep, merch) = (UserId::new_random(), UserId::new_random());
    let visit = new_visit(rep);
    let mut a = new_document(ActorId::from(vec![1; 16]));
    reconcile_visit(&mut a, &visit).unwrap();
    a.commit();
    let mut b = a.fork().with_actor(ActorId::from(vec![2; 16]));
    for (doc, c) in [
        (&mut a, count(rep, 10, 10, 5)),
        (&mut b, count(merch, 11, 3, 40)),
    ] {
        let mut v = hydrate_visit(doc).unwrap();
        v.record_stock_count(c).unwrap();
        reconcile_visit(doc, &v).unwrap();
        doc.commit();
    }
    a.merge(&mut b).unwrap();
    b.merge(&mut a).unwrap();
    let (va, vb) = (hydrate_visit(&a).unwrap(), hydrate_visit(&b).unwrap());
    assert_eq!(va, vb);
    let kept = &va.stock_counts.unwrap()["COLA-330"];
    let whole = [(rep, 10, 5), (merch, 3, 40)];
    assert!(
        whole.contains(&(kept.counted_by, kept.shelf_units, kept.backroom_units)),
        "a mix of two counts: {kept:?}"
    );
}

#[test]
fn the_map_of_an_older_visit_is_the_servers_to_add() {
    let (rep, merch, other) = (
        UserId::new_random(),
        UserId::new_random(),
        UserId::new_random(),
    );
    let editor = |user, relation| Editor {
        user_id: user,
        role: Role::Merchandiser,
        relation,
    };
    let before = new_visit(rep);
    let mut after = before.clone();
    after.record_stock_count(count(merch, 1, 1, 1)).unwrap();
    // The people working the visit count; anyone else may not.
    assert!(check_visit(&editor(merch, Relation::Colleague), Some(&before), &after).is_empty());
    let refused: Vec<(Field, String)> =
        check_visit(&editor(other, Relation::Other), Some(&before), &after)
            .into_iter()
            .map(|r| (r.field, r.code))
            .collect();
    assert_eq!(
        refused,
        [(Field::Audit, codes::NOT_AUTHOR_OR_COLLEAGUE.to_string())]
    );
    // A visit written before counts existed: no device creates the map.
    let mut older = before.clone();
    older.stock_counts = None;
    let refused: Vec<(Field, String)> =
        check_visit(&editor(rep, Relation::Author), Some(&older), &after)
            .into_iter()
            .map(|r| (r.field, r.code))
            .collect();
    assert_eq!(
        refused,
        [(Field::Audit, codes::NOT_ALLOWED_TO_CREATE.to_string())]
    );
}
