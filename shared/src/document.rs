//! Document kinds and the bridge between Automerge documents and the typed structs.

// `DocumentError` holds automerge's and autosurgeon's errors by value (part of the crate's
// contract); they are large, but these functions are not on a hot path.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;

use automerge::{ActorId, AutoCommit, ChangeHash, LoadOptions, TextEncoding};
use autosurgeon::ReadDoc;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::expense::Expense;
use crate::order::Order;
use crate::plan::Plan;
use crate::visit::Visit;

/// The kinds of CRDT document Fieldsync syncs. Wire name: [`DocKind::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    Visit,
    Order,
    /// A rep's weekly visit plan.
    Plan,
    /// One expense of one person.
    Expense,
}

impl DocKind {
    pub const ALL: &'static [DocKind] = &[
        DocKind::Visit,
        DocKind::Order,
        DocKind::Plan,
        DocKind::Expense,
    ];
    pub fn as_str(&self) -> &'static str {
        match self {
            DocKind::Visit => "visit",
            DocKind::Order => "order",
            DocKind::Plan => "plan",
            DocKind::Expense => "expense",
        }
    }
    /// `None` for a name this version does not know.
    pub fn parse(s: &str) -> Option<DocKind> {
        match s {
            "visit" => Some(DocKind::Visit),
            "order" => Some(DocKind::Order),
            "plan" => Some(DocKind::Plan),
            "expense" => Some(DocKind::Expense),
            _ => None,
        }
    }
}

#[derive(Debug, Error)]
pub enum DocumentError {
    /// The document's content does not match its schema (missing field, bad value).
    #[error("document does not match the {kind} schema: {source}")]
    Schema {
        kind: &'static str,
        #[source]
        source: autosurgeon::HydrateError,
    },
    #[error("could not write the document: {0}")]
    Reconcile(#[from] autosurgeon::ReconcileError),
    #[error("automerge: {0}")]
    Automerge(#[from] automerge::AutomergeError),
}

/// A hydrated document of any kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AnyDocument {
    Visit(Visit),
    Order(Order),
    Plan(Plan),
    Expense(Expense),
}

impl AnyDocument {
    pub fn kind(&self) -> DocKind {
        match self {
            AnyDocument::Visit(_) => DocKind::Visit,
            AnyDocument::Order(_) => DocKind::Order,
            AnyDocument::Plan(_) => DocKind::Plan,
            AnyDocument::Expense(_) => DocKind::Expense,
        }
    }
}

/// How Automerge counts positions in text. autosurgeon's [`autosurgeon::Text::splice`] (and
/// `Text::update`) take byte offsets into the Rust string and hand them to Automerge unchanged,
/// so documents must index text by UTF-8 code unit. With Automerge's default (code points) an
/// edit after Chinese characters in the notes fails with `InvalidIndex` or lands in the wrong
/// place. The setting is not stored in the document: a document edited on a device must be
/// created with [`new_document`] or loaded with [`load_document`], never `AutoCommit::new/load`.
pub const TEXT_ENCODING: TextEncoding = TextEncoding::Utf8CodeUnit;

/// The bytes of [`server_actor`]: 16 bytes of `fieldsync-server`.
pub const SERVER_ACTOR: [u8; 16] = *b"fieldsync-server";

/// The Automerge actor of the server's own changes (the compensations that undo effects a
/// write policy refused). It is never bound to a device, so a change a device authors under it
/// is refused like any other actor that is not the device's own.
pub fn server_actor() -> ActorId {
    ActorId::from(SERVER_ACTOR)
}

/// A new, empty document edited by `actor` (a device's actor id), using [`TEXT_ENCODING`].
pub fn new_document(actor: ActorId) -> AutoCommit {
    AutoCommit::new_with_encoding(TEXT_ENCODING).with_actor(actor)
}

/// The bytes of the actor of every plan's first change, its skeleton ([`new_plan_document`]).
pub const PLAN_SKELETON_ACTOR: [u8; 16] = *b"fieldsync-plansk";

/// A new plan document for `person` and `week`, for `actor` to fill: its first change is the
/// plan's skeleton (the empty draft: identity, status and empty maps), the same bytes wherever
/// it is made (a fixed actor, time and message). A plan's id is its person's and week's, so
/// two phones of one rep, or a phone and the server, may each create it offline; with one
/// common first change their entries land in the same maps and merge entry by entry, where
/// two unrelated creations would each make their own maps and one would hide the other.
pub fn new_plan_document(
    person: crate::values::UserId,
    week: crate::plan::IsoWeek,
    actor: ActorId,
) -> Result<AutoCommit, DocumentError> {
    let mut doc = new_document(ActorId::from(PLAN_SKELETON_ACTOR));
    reconcile_plan(&mut doc, &Plan::new(person, week))?;
    doc.commit_with(
        automerge::transaction::CommitOptions::default()
            .with_message("plan".to_string())
            .with_time(0),
    );
    Ok(doc.with_actor(actor))
}

/// Is `change` the skeleton of the plan of `person` and `week`, byte for byte? The only change
/// not authored by its device that a server accepts from one.
pub fn is_plan_skeleton(
    change: &automerge::Change,
    person: crate::values::UserId,
    week: crate::plan::IsoWeek,
) -> bool {
    let Ok(skeleton) = new_plan_document(person, week, ActorId::from(PLAN_SKELETON_ACTOR)) else {
        return false;
    };
    skeleton.get_heads() == [change.hash()]
}

/// Loads a saved document (`AutoCommit::save`, or concatenated changes) using
/// [`TEXT_ENCODING`]. The loaded document gets a random actor; a device that will edit it sets
/// its own with `with_actor`.
pub fn load_document(bytes: &[u8]) -> Result<AutoCommit, DocumentError> {
    Ok(AutoCommit::load_with_options(
        bytes,
        LoadOptions::new().text_encoding(TEXT_ENCODING),
    )?)
}

/// Raw bytes (`Change::raw_bytes`) of the changes in `doc` that are not ancestors of `heads`,
/// in causal order: what a [`crate::protocol::DocPush`] carries. With `heads` empty: the whole
/// history.
pub fn changes_since(doc: &mut AutoCommit, heads: &[ChangeHash]) -> Vec<Vec<u8>> {
    doc.get_changes(heads)
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect()
}

/// Reads a visit out of an Automerge document. Besides every value parsing, each collection
/// key must be the one derived from its entry (step name, `SKU@LOCATION`, SHA-256 hex), so a
/// mis-keyed entry cannot sit next to the real one and be counted twice.
pub fn hydrate_visit<D: ReadDoc>(doc: &D) -> Result<Visit, DocumentError> {
    let schema = |source| DocumentError::Schema {
        kind: "visit",
        source,
    };
    let visit: Visit = autosurgeon::hydrate(doc).map_err(schema)?;
    check_keys("steps", &visit.steps, |s| s.step.as_str().to_string()).map_err(schema)?;
    check_keys("audit", &visit.audit, |l| l.key()).map_err(schema)?;
    check_keys("photos", &visit.photos, |p| p.sha256.to_hex()).map_err(schema)?;
    if let Some(sightings) = &visit.competitor_sightings {
        check_keys("competitor_sightings", sightings, |s| s.id.to_string()).map_err(schema)?;
    }
    if let Some(counts) = &visit.stock_counts {
        check_keys("stock_counts", counts, |c| c.sku.to_string()).map_err(schema)?;
    }
    if let Some(checks) = &visit.promotion_checks {
        crate::promotion::check_codes(checks).map_err(schema)?;
    }
    if let Some(scores) = &visit.success_scores {
        crate::success::check_point_codes(scores).map_err(schema)?;
    }
    Ok(visit)
}

/// Reads an order out of an Automerge document; order lines must be keyed by their SKU.
pub fn hydrate_order<D: ReadDoc>(doc: &D) -> Result<Order, DocumentError> {
    let schema = |source| DocumentError::Schema {
        kind: "order",
        source,
    };
    let order: Order = autosurgeon::hydrate(doc).map_err(schema)?;
    check_keys("lines", &order.lines, |l| l.sku.to_string()).map_err(schema)?;
    Ok(order)
}

/// Reads a plan out of an Automerge document; entries and removed stores must be keyed by the
/// store id, days by the date.
pub fn hydrate_plan<D: ReadDoc>(doc: &D) -> Result<Plan, DocumentError> {
    let schema = |source| DocumentError::Schema {
        kind: "plan",
        source,
    };
    let plan: Plan = autosurgeon::hydrate(doc).map_err(schema)?;
    check_keys("entries", &plan.entries, |e| e.store_id.to_string()).map_err(schema)?;
    check_keys("removed", &plan.removed, |s| s.to_string()).map_err(schema)?;
    check_keys("days", &plan.days, |d| d.day.to_string()).map_err(schema)?;
    Ok(plan)
}

/// Reads an expense out of an Automerge document.
pub fn hydrate_expense<D: ReadDoc>(doc: &D) -> Result<Expense, DocumentError> {
    autosurgeon::hydrate(doc).map_err(|source| DocumentError::Schema {
        kind: "expense",
        source,
    })
}

fn check_keys<T>(
    collection: &str,
    map: &BTreeMap<String, T>,
    key_of: impl Fn(&T) -> String,
) -> Result<(), autosurgeon::HydrateError> {
    for (key, value) in map {
        let expected = key_of(value);
        if *key != expected {
            return Err(autosurgeon::HydrateError::unexpected(
                format!("{collection} entry keyed {expected:?}"),
                format!("key {key:?}"),
            ));
        }
    }
    Ok(())
}

/// Reads a document of the given kind.
pub fn hydrate_any<D: ReadDoc>(kind: DocKind, doc: &D) -> Result<AnyDocument, DocumentError> {
    Ok(match kind {
        DocKind::Visit => AnyDocument::Visit(hydrate_visit(doc)?),
        DocKind::Order => AnyDocument::Order(hydrate_order(doc)?),
        DocKind::Plan => AnyDocument::Plan(hydrate_plan(doc)?),
        DocKind::Expense => AnyDocument::Expense(hydrate_expense(doc)?),
    })
}

/// Writes `value` into `doc` as the minimal set of Automerge operations (does not commit).
pub fn reconcile_visit(doc: &mut AutoCommit, value: &Visit) -> Result<(), DocumentError> {
    Ok(autosurgeon::reconcile(doc, value)?)
}

pub fn reconcile_order(doc: &mut AutoCommit, value: &Order) -> Result<(), DocumentError> {
    Ok(autosurgeon::reconcile(doc, value)?)
}

pub fn reconcile_plan(doc: &mut AutoCommit, value: &Plan) -> Result<(), DocumentError> {
    Ok(autosurgeon::reconcile(doc, value)?)
}

pub fn reconcile_expense(doc: &mut AutoCommit, value: &Expense) -> Result<(), DocumentError> {
    Ok(autosurgeon::reconcile(doc, value)?)
}

/// Writes `target` into `doc`, whose state hydrates to `current`, by its changed top-level
/// fields only ([`crate::changed_fields`]): the same operations as reconciling the whole of
/// `target`, without reading the unchanged fields back. Does not commit. Documents of two
/// kinds are reconciled whole.
pub fn reconcile_changes(
    doc: &mut AutoCommit,
    current: &AnyDocument,
    target: &AnyDocument,
) -> Result<(), DocumentError> {
    use crate::changed_fields::ChangedFields;
    match (current, target) {
        (AnyDocument::Visit(c), AnyDocument::Visit(t)) => Visit::reconcile_changed(doc, c, t)?,
        (AnyDocument::Order(c), AnyDocument::Order(t)) => Order::reconcile_changed(doc, c, t)?,
        (AnyDocument::Plan(c), AnyDocument::Plan(t)) => Plan::reconcile_changed(doc, c, t)?,
        (AnyDocument::Expense(c), AnyDocument::Expense(t)) => {
            Expense::reconcile_changed(doc, c, t)?
        }
        (_, AnyDocument::Visit(t)) => reconcile_visit(doc, t)?,
        (_, AnyDocument::Order(t)) => reconcile_order(doc, t)?,
        (_, AnyDocument::Plan(t)) => reconcile_plan(doc, t)?,
        (_, AnyDocument::Expense(t)) => reconcile_expense(doc, t)?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::{ObjId, ROOT};

    use super::*;
    use crate::order::{OrderLine, OrderStatus};
    use crate::testkit::*;
    use crate::values::{Money, UserId};
    use crate::visit::{VisitStatus, VisitStep};

    fn commit_visit(doc: &mut AutoCommit, visit: &Visit) {
        reconcile_visit(doc, visit).unwrap();
        doc.commit();
    }

    fn commit_order(doc: &mut AutoCommit, order: &Order) {
        reconcile_order(doc, order).unwrap();
        doc.commit();
    }

    /// Byte offset of the end of a text, for appending with `Text::splice`.
    fn end(t: &autosurgeon::Text) -> usize {
        t.as_str().len()
    }

    fn sorted(mut heads: Vec<ChangeHash>) -> Vec<ChangeHash> {
        heads.sort();
        heads
    }

    /// Merges each replica into the other and checks that they converged.
    fn merge_both_ways(a: &mut AutoCommit, b: &mut AutoCommit) {
        a.merge(b).unwrap();
        b.merge(a).unwrap();
        assert_eq!(sorted(a.get_heads()), sorted(b.get_heads()));
    }

    fn obj(doc: &AutoCommit, parent: &ObjId, key: &str) -> ObjId {
        automerge::ReadDoc::get(doc, parent, key)
            .unwrap()
            .unwrap()
            .1
    }

    #[test]
    fn concurrent_visit_edits_merge_without_loss() {
        let rep = UserId::new_random();
        let merch = UserId::new_random();
        let mut base = visit();
        base.status = VisitStatus::InProgress;
        base.check_in = Some(stamp(1_000, pos(STORE_LAT, STORE_LON)));
        add_line(&mut base, audit_line("COLA-330", "MAIN-SHELF", 4, rep));
        base.notes = autosurgeon::Text::with_value("货架整洁");
        let mut doc = new_document(ActorId::random());
        commit_visit(&mut doc, &base);

        let mut a = doc.fork().with_actor(ActorId::random());
        let mut b = doc.fork().with_actor(ActorId::random());

        // The rep, offline.
        let mut va = hydrate_visit(&a).unwrap();
        add_line(&mut va, audit_line("FANTA-330", "MAIN-SHELF", 2, rep));
        add_line(&mut va, audit_line("SPRITE-330", "ENDCAP-1", 3, rep));
        add_photo(&mut va, photo(b"shelf-a", 1_500, rep));
        add_photo(&mut va, photo(b"shelf-b", 1_600, rep));
        va.audit.get_mut("COLA-330@MAIN-SHELF").unwrap().facings = 6;
        va.steps
            .insert("greet".into(), step(VisitStep::Greet, rep, None));
        let e = end(&va.notes);
        va.notes.splice(e, 0, "，可乐缺货");
        commit_visit(&mut a, &va);

        // The merchandiser, offline at the same time.
        let mut vb = hydrate_visit(&b).unwrap();
        add_line(&mut vb, audit_line("PEPSI-330", "COOLER", 5, merch));
        add_line(&mut vb, audit_line("SPRITE-330", "ENDCAP-1", 7, merch));
        vb.audit.get_mut("COLA-330@MAIN-SHELF").unwrap().shelf_price = Some(Money(399));
        vb.notes.splice(0, 0, "下午：");
        commit_visit(&mut b, &vb);

        merge_both_ways(&mut a, &mut b);
        let merged = hydrate_visit(&a).unwrap();
        assert_eq!(merged, hydrate_visit(&b).unwrap());

        let keys: Vec<_> = merged.audit.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "COLA-330@MAIN-SHELF",
                "FANTA-330@MAIN-SHELF",
                "PEPSI-330@COOLER",
                "SPRITE-330@ENDCAP-1"
            ]
        );
        // A line both created offline appears once: one replica's version wins as a whole.
        let sprite = &merged.audit["SPRITE-330@ENDCAP-1"];
        assert!(
            (sprite.facings, sprite.recorded_by) == (3, rep)
                || (sprite.facings, sprite.recorded_by) == (7, merch),
            "{sprite:?}"
        );
        // A line that existed before the fork merges field by field.
        let cola = &merged.audit["COLA-330@MAIN-SHELF"];
        assert_eq!((cola.facings, cola.shelf_price), (6, Some(Money(399))));
        assert_eq!(merged.photos.len(), 2);
        assert!(merged.steps.contains_key("greet"));
        // Both note edits survive, each where it was typed (byte offsets into Chinese text).
        assert_eq!(merged.notes.as_str(), "下午：货架整洁，可乐缺货");
        assert_eq!(merged.status, VisitStatus::InProgress);
    }

    #[test]
    fn save_load_and_incremental_changes_round_trip() {
        let mut v = complete_visit(1_000);
        v.notes = autosurgeon::Text::with_value("第一行");
        let mut doc = new_document(ActorId::random());
        commit_visit(&mut doc, &v);
        let synced = doc.get_heads();

        let mut device = load_document(&doc.save())
            .unwrap()
            .with_actor(ActorId::random());
        assert_eq!(hydrate_visit(&device).unwrap(), v);

        let mut edited = hydrate_visit(&device).unwrap();
        let e = end(&edited.notes);
        edited.notes.splice(e, 0, "\n第二行");
        add_line(
            &mut edited,
            audit_line("COLA-330", "BACKROOM", 0, v.person_id),
        );
        commit_visit(&mut device, &edited);

        let pending = changes_since(&mut device, &synced);
        assert_eq!(pending.len(), 1);
        let heads = device.get_heads();
        assert!(changes_since(&mut device, &heads).is_empty());
        for change in &pending {
            doc.load_incremental(change).unwrap();
        }
        assert_eq!(doc.get_heads(), device.get_heads());
        assert_eq!(hydrate_visit(&doc).unwrap(), edited);
        // A whole history replays into an empty document.
        let mut replica = new_document(ActorId::random());
        for change in changes_since(&mut device, &[]) {
            replica.load_incremental(&change).unwrap();
        }
        assert_eq!(hydrate_visit(&replica).unwrap(), edited);
    }

    fn assert_schema_error(result: Result<impl std::fmt::Debug, DocumentError>, needle: &str) {
        match result {
            Err(e @ DocumentError::Schema { .. }) => {
                assert!(
                    e.to_string().contains(needle),
                    "{e} does not mention {needle}"
                )
            }
            other => panic!("expected a schema error, got {other:?}"),
        }
    }

    #[test]
    fn unknown_status_is_a_schema_error() {
        let mut doc = new_document(ActorId::random());
        commit_visit(&mut doc, &visit());
        doc.put(ROOT, "status", "teleported").unwrap();
        assert_schema_error(hydrate_visit(&doc), "teleported");
        assert_schema_error(hydrate_any(DocKind::Visit, &doc), "visit");
    }

    #[test]
    fn invalid_sku_is_a_schema_error() {
        let mut v = visit();
        let line = audit_line("COLA-330", "MAIN-SHELF", 4, v.person_id);
        add_line(&mut v, line);
        let mut doc = new_document(ActorId::random());
        commit_visit(&mut doc, &v);
        let audit = obj(&doc, &ROOT, "audit");
        let line = obj(&doc, &audit, "COLA-330@MAIN-SHELF");
        doc.put(&line, "sku", "cola 330!").unwrap();
        assert_schema_error(hydrate_visit(&doc), "SKU");
    }

    #[test]
    fn missing_field_and_out_of_range_position_are_schema_errors() {
        let mut v = visit();
        v.check_in = Some(stamp(1_000, pos(STORE_LAT, STORE_LON)));
        let mut doc = new_document(ActorId::random());
        commit_visit(&mut doc, &v);
        let check_in = obj(&doc, &ROOT, "check_in");
        let position = obj(&doc, &check_in, "position");
        doc.put(&position, "lon", 181.0).unwrap();
        assert_schema_error(hydrate_visit(&doc), "longitude");
        doc.delete(ROOT, "store_id").unwrap();
        assert!(matches!(
            hydrate_visit(&doc),
            Err(DocumentError::Schema { .. })
        ));
    }

    #[test]
    fn entries_under_a_key_not_derived_from_them_are_schema_errors() {
        let mut v = visit();
        let line = audit_line("COLA-330", "MAIN-SHELF", 4, v.person_id);
        v.audit.insert("COLA-330@BACKROOM".into(), line);
        let mut doc = new_document(ActorId::random());
        commit_visit(&mut doc, &v);
        assert_schema_error(hydrate_visit(&doc), "COLA-330@BACKROOM");

        let mut v = visit();
        let p = photo(b"x", 1, v.person_id);
        v.photos.insert(p.sha256.to_hex().to_uppercase(), p);
        let mut doc = new_document(ActorId::random());
        commit_visit(&mut doc, &v);
        assert_schema_error(hydrate_visit(&doc), "photos");

        let mut v = visit();
        v.steps
            .insert("admin".into(), step(VisitStep::Greet, v.person_id, None));
        let mut doc = new_document(ActorId::random());
        commit_visit(&mut doc, &v);
        assert_schema_error(hydrate_visit(&doc), "steps");

        let mut o = order();
        o.lines
            .insert("FANTA-330".into(), order_line("COLA-330", 24, "4.00"));
        let mut doc = new_document(ActorId::random());
        commit_order(&mut doc, &o);
        assert_schema_error(hydrate_order(&doc), "lines");
    }

    #[test]
    fn concurrent_order_edits_merge_without_loss() {
        let mut base = order();
        base.lines
            .insert("COLA-330".into(), order_line("COLA-330", 24, "4.00"));
        base.notes = autosurgeon::Text::with_value("送货前电话");
        let mut doc = new_document(ActorId::random());
        commit_order(&mut doc, &base);
        let mut a = doc.fork().with_actor(ActorId::random());
        let mut b = doc.fork().with_actor(ActorId::random());

        let mut oa = hydrate_order(&a).unwrap();
        oa.lines
            .insert("FANTA-330".into(), order_line("FANTA-330", 48, "3.80"));
        oa.lines
            .insert("SPRITE-330".into(), order_line("SPRITE-330", 24, "3.90"));
        oa.lines.get_mut("COLA-330").unwrap().quantity = 48;
        let e = end(&oa.notes);
        oa.notes.splice(e, 0, "，后门卸货");
        commit_order(&mut a, &oa);

        let mut ob = hydrate_order(&b).unwrap();
        ob.lines
            .insert("PEPSI-330".into(), order_line("PEPSI-330", 24, "3.70"));
        ob.lines
            .insert("SPRITE-330".into(), order_line("SPRITE-330", 72, "3.85"));
        ob.lines.get_mut("COLA-330").unwrap().unit_price = Money(390);
        ob.requested_delivery = date("2026-11-28");
        ob.notes.splice(0, 0, "急：");
        commit_order(&mut b, &ob);

        merge_both_ways(&mut a, &mut b);
        let merged = hydrate_order(&a).unwrap();
        assert_eq!(merged, hydrate_order(&b).unwrap());
        let keys: Vec<_> = merged.lines.keys().map(String::as_str).collect();
        assert_eq!(keys, ["COLA-330", "FANTA-330", "PEPSI-330", "SPRITE-330"]);
        assert_eq!(
            merged.lines["COLA-330"],
            OrderLine {
                sku: sku("COLA-330"),
                quantity: 48,
                unit_price: Money(390)
            }
        );
        let sprite = &merged.lines["SPRITE-330"];
        assert!(sprite.quantity == 24 || sprite.quantity == 72, "{sprite:?}");
        assert_eq!(merged.requested_delivery, date("2026-11-28"));
        assert_eq!(merged.notes.as_str(), "急：送货前电话，后门卸货");
        assert_eq!(merged.number, base.number);
    }

    #[test]
    fn malformed_order_values_are_schema_errors() {
        let mut doc = new_document(ActorId::random());
        commit_order(&mut doc, &order());
        doc.put(ROOT, "number", "R001-261122").unwrap();
        assert_schema_error(hydrate_order(&doc), "order number");

        let mut doc = new_document(ActorId::random());
        commit_order(&mut doc, &order());
        doc.put(ROOT, "status", "shipped").unwrap();
        assert_schema_error(hydrate_any(DocKind::Order, &doc), "shipped");

        let mut doc = new_document(ActorId::random());
        let mut o = order();
        o.status = OrderStatus::Submitted;
        commit_order(&mut doc, &o);
        assert_eq!(
            hydrate_any(DocKind::Order, &doc).unwrap(),
            AnyDocument::Order(o)
        );
    }

    #[test]
    fn plans_round_trip_and_check_their_keys() {
        use crate::plan::{EntryReason, IsoWeek, Plan, PlanDay, PlanEntry};
        let week = IsoWeek::parse("2026-W50").unwrap();
        let mut plan = Plan::new(UserId::new_random(), week);
        let entry = |store: crate::values::StoreId| PlanEntry {
            store_id: store,
            day: week.monday(),
            seq: 1,
            reason: EntryReason::Due,
            pinned: false,
        };
        let route = PlanDay {
            day: week.monday(),
            stops: 1,
            length_km: 2.5,
        };
        let store = crate::values::StoreId::new_random();
        plan.apply(vec![entry(store)], vec![route], crate::values::Timestamp(1));
        let mut doc = new_document(ActorId::random());
        reconcile_plan(&mut doc, &plan).unwrap();
        doc.commit();
        assert_eq!(
            hydrate_any(DocKind::Plan, &doc).unwrap(),
            AnyDocument::Plan(plan.clone())
        );

        let mut miskeyed = plan.clone();
        miskeyed.entries.insert(
            "not-the-store".into(),
            entry(crate::values::StoreId::new_random()),
        );
        let mut doc = new_document(ActorId::random());
        reconcile_plan(&mut doc, &miskeyed).unwrap();
        doc.commit();
        assert_schema_error(hydrate_plan(&doc), "entries");
    }

    #[test]
    fn doc_kind_names_round_trip() {
        for kind in DocKind::ALL {
            assert_eq!(DocKind::parse(kind.as_str()), Some(*kind));
        }
        assert_eq!(DocKind::parse("invoice"), None);
    }

    #[test]
    fn documents_serialise_to_json_with_plain_notes() {
        let mut v = visit();
        v.notes = autosurgeon::Text::with_value("ok");
        let json = serde_json::to_value(AnyDocument::Visit(v.clone())).unwrap();
        assert_eq!(json["kind"], "visit");
        assert_eq!(json["notes"], "ok");
        assert_eq!(json["status"], "planned");
        let back: Visit = serde_json::from_value(json).unwrap();
        assert_eq!(back, v);
    }

    /// Two phones of one rep each create the week's plan offline and add a different store: both
    /// start from the same skeleton, so after the merge the plan holds both stores, and the fields
    /// the skeleton set were written once (no conflicting `status` for the policy to see).
    #[test]
    fn two_creations_of_one_plan_merge_entry_by_entry() {
        use crate::plan::{IsoWeek, PlanStatus};
        use automerge::ReadDoc;

        let week = || IsoWeek::parse("2026-W50").unwrap();
        let id = |n: u8| crate::values::StoreId(uuid::Uuid::from_bytes([n; 16]));

        let person = crate::values::UserId::new_random();
        let create = |actor: u8, store: u8| {
            let mut doc = new_plan_document(person, week(), ActorId::from([actor; 16])).unwrap();
            let mut plan = Plan::new(person, week());
            plan.add_entry(id(store), week().monday(), 1).unwrap();
            reconcile_plan(&mut doc, &plan).unwrap();
            doc.commit();
            doc
        };
        let (mut a, mut b) = (create(1, 1), create(2, 2));
        let first = |doc: &mut automerge::AutoCommit| doc.get_changes(&[])[0].clone();
        assert_eq!(first(&mut a).hash(), first(&mut b).hash(), "one skeleton");
        assert!(is_plan_skeleton(&first(&mut a), person, week()));
        let next_week = IsoWeek::parse("2026-W51").unwrap();
        assert!(!is_plan_skeleton(&first(&mut a), person, next_week));
        assert!(!is_plan_skeleton(
            &a.get_changes(&[])[1].clone(),
            person,
            week()
        ));

        a.merge(&mut b).unwrap();
        let merged = hydrate_plan(&a).unwrap();
        let stores: Vec<u8> = merged
            .entries
            .values()
            .map(|e| e.store_id.0.as_bytes()[0])
            .collect();
        assert_eq!(stores, [1, 2]);
        assert_eq!(a.get_all(ROOT, "status").unwrap().len(), 1);
        assert_eq!(merged.status, PlanStatus::Draft);
    }
}

#[cfg(test)]
mod changed_fields_tests {
    use automerge::transaction::Transactable;
    use automerge::{ActorId, AutoCommit};

    use super::{hydrate_visit, new_document, reconcile_changes, reconcile_visit, AnyDocument};
    use crate::testkit::*;
    use crate::values::Timestamp;
    use crate::visit::{NoteEntry, Visit, VisitStatus};

    /// A document at `start`, then the same edit of its state (hydrated, as the server holds
    /// it) written by a whole reconcile and by the changed fields: both leave the document at
    /// the edited state; the operations each wrote.
    fn both_ways(start: &Visit, edit: impl Fn(&mut Visit)) -> (usize, usize) {
        let mut base = new_document(ActorId::random());
        reconcile_visit(&mut base, start).unwrap();
        base.commit();
        let current = hydrate_visit(&base).unwrap();
        let mut target = current.clone();
        edit(&mut target);

        let mut whole = base.fork();
        reconcile_visit(&mut whole, &target).unwrap();
        let mut changed = base.fork();
        reconcile_changes(
            &mut changed,
            &AnyDocument::Visit(current),
            &AnyDocument::Visit(target.clone()),
        )
        .unwrap();
        let ops = |doc: &mut AutoCommit| {
            let n = doc.pending_ops();
            doc.commit();
            n
        };
        let (whole_ops, changed_ops) = (ops(&mut whole), ops(&mut changed));
        assert_eq!(hydrate_visit(&whole).unwrap(), target);
        assert_eq!(hydrate_visit(&changed).unwrap(), target);
        (whole_ops, changed_ops)
    }

    #[test]
    fn writes_what_a_whole_reconcile_writes() {
        let mut start = complete_visit(1_000);
        let rep = start.person_id;
        for i in 0..30 {
            add_line(
                &mut start,
                audit_line(&format!("SKU{i:03}"), "shelf", 3, rep),
            );
        }
        // A hold: the status alone.
        let held = |v: &mut Visit| v.status = VisitStatus::InProgress;
        assert_eq!(both_ways(&start, held), (1, 1));

        // Several fields at once: nested maps, the note list and the earlier notes' text.
        let edited = |v: &mut Visit| {
            v.status = VisitStatus::CheckedOut;
            v.audit.values_mut().next().unwrap().facings = 9;
            v.note_entries.as_mut().unwrap().push(NoteEntry {
                by: v.person_id,
                by_name: "Rep".into(),
                at: Timestamp(5),
                text: "manager away".into(),
            });
            v.notes.update("earlier note");
        };
        let (whole, changed) = both_ways(&start, edited);
        assert_eq!(whole, changed);
        assert!(changed > 3, "{changed} operations");

        // Maps reconciled entry by entry: an entry added, one changed, one removed, in the
        // audit lines, the steps and the photos.
        let entries = |v: &mut Visit| {
            add_line(v, audit_line("SKU999", "endcap-1", 2, rep));
            let first = v.audit.keys().next().unwrap().clone();
            v.audit.remove(&first);
            v.audit.values_mut().last().unwrap().on_shelf = false;
            let step = v.steps.keys().next().unwrap().clone();
            v.steps.remove(&step);
            v.photos.clear();
        };
        let (whole, changed) = both_ways(&start, entries);
        assert_eq!(whole, changed);
        assert!(changed > 3, "{changed} operations");

        // Nothing changed: nothing written.
        assert_eq!(both_ways(&start, |_| {}), (0, 0));
    }
}
