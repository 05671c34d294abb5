//! docs/document-encoding.md against the shared crate: every field a visit, an order or a plan
//! writes,
//! with its Automerge type and whether it may be null, is a row of the page, and every row is
//! a field. A field added to the schema without its row (or with another type) fails here.

use std::collections::BTreeMap;

use automerge::{AutoCommit, ObjId, ObjType, ReadDoc, ScalarValue, Value, ROOT};
use autosurgeon::Text;
use fieldsync_shared::document::{new_document, reconcile_order, reconcile_plan, reconcile_visit};
use fieldsync_shared::evaluation::{CreditBasis, RulesBasis, ShownFinding};
use fieldsync_shared::order::{
    Delivery, Order, OrderLine, OrderNumber, OrderStatus, PaymentMethod, ORDER_SCHEMA_VERSION,
};
use fieldsync_shared::plan::{
    EntryReason, IsoWeek, Plan, PlanDay, PlanDecision, PlanEntry, PlanReview, PlanStatus,
};
use fieldsync_shared::values::{
    Date, DeviceId, DocId, Money, PersonCode, Position, Sha256, ShelfLocation, ShortText, Sku,
    StoreId, Timestamp, UserId,
};
use fieldsync_shared::visit::{
    AuditLine, CompetitorDisplay, CompetitorSighting, GeoStamp, PhotoCapture, PhotoRef, Review,
    ReviewDecision, SightingId, StepRecord, Visit, VisitStep,
};

/// Maps whose keys are data (an entry's identity), written `*` in the page.
const COLLECTIONS: &[&str] = &[
    "steps",
    "audit",
    "photos",
    "lines",
    "entries",
    "removed",
    "days",
    "competitor_sightings",
    "promotion_checks",
    "stock_counts",
    "success_scores",
];

/// One row of the page: type and nullable.
type Rows = BTreeMap<String, (String, bool)>;

fn page() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/document-encoding.md");
    std::fs::read_to_string(path).expect("docs/document-encoding.md")
}

/// The field table under the heading `## {section}`.
fn rows(section: &str) -> Rows {
    let page = page();
    let heading = format!("## {section}\n");
    let start = page
        .find(&heading)
        .unwrap_or_else(|| panic!("no {heading:?}"));
    let body = &page[start + heading.len()..];
    let body = &body[..body.find("\n## ").unwrap_or(body.len())];
    let mut rows = Rows::new();
    for line in body.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let unquote = |c: &str| c.trim_matches('`').to_string();
        let nullable = match cells[3] {
            "yes" => true,
            "no" => false,
            other => panic!("nullable is yes or no, not {other:?}: {line}"),
        };
        let previous = rows.insert(unquote(cells[1]), (unquote(cells[2]), nullable));
        assert!(previous.is_none(), "a field listed twice: {line}");
    }
    assert!(!rows.is_empty(), "no field rows under {heading:?}");
    rows
}

fn type_name(value: &Value<'_>) -> &'static str {
    match value {
        Value::Object(ObjType::Map | ObjType::Table) => "map",
        Value::Object(ObjType::List) => "list",
        Value::Object(ObjType::Text) => "text",
        Value::Scalar(s) => match s.as_ref() {
            ScalarValue::Uint(_) => "uint",
            ScalarValue::Int(_) => "int",
            ScalarValue::F64(_) => "f64",
            ScalarValue::Boolean(_) => "bool",
            ScalarValue::Str(_) => "string",
            ScalarValue::Null => "null",
            other => panic!("unexpected scalar {other:?}"),
        },
    }
}

/// Every path in `doc` with the type of its value (`null` for null).
fn fields(doc: &AutoCommit) -> BTreeMap<String, &'static str> {
    fn walk(doc: &AutoCommit, obj: &ObjId, prefix: &str, out: &mut BTreeMap<String, &'static str>) {
        let collection = COLLECTIONS.contains(&prefix);
        for key in doc.keys(obj) {
            let (value, id) = doc.get(obj, key.as_str()).unwrap().unwrap();
            let name = if collection { "*" } else { key.as_str() };
            let path = if prefix.is_empty() {
                name.to_string()
            } else {
                format!("{prefix}.{name}")
            };
            let ty = type_name(&value);
            if ty == "map" {
                walk(doc, &id, &path, out);
            }
            out.insert(path, ty);
        }
    }
    let mut out = BTreeMap::new();
    walk(doc, &ROOT, "", &mut out);
    out
}

fn user() -> UserId {
    UserId::new_random()
}

fn at() -> Timestamp {
    Timestamp(1_700_000_000_000)
}

fn position() -> Position {
    Position::new(30.58, 114.27).unwrap()
}

/// A visit with one entry in every collection; optional values set when `full`, and a
/// review (without a comment) when `reviewed` and not `full`.
fn visit(full: bool, reviewed: bool) -> AutoCommit {
    let mut visit = Visit::new(
        DocId::new_random(),
        StoreId::new_random(),
        user(),
        Date::parse("2026-11-22").unwrap(),
    );
    let stamp = GeoStamp {
        at: at(),
        position: position(),
        accuracy_m: 8.5,
        mocked: false,
    };
    visit.check_in = full.then_some(stamp.clone());
    visit.check_out = full.then_some(stamp);
    visit.steps.insert(
        "greet".into(),
        StepRecord {
            step: VisitStep::Greet,
            at: at(),
            by: user(),
            skipped_reason: full.then_some(ShortText::parse("closed").unwrap()),
        },
    );
    let line = AuditLine {
        sku: Sku::parse("COLA-330").unwrap(),
        location: ShelfLocation::parse("MAIN-SHELF").unwrap(),
        facings: 3,
        on_shelf: true,
        shelf_price: full.then_some(Money(350)),
        oldest_production_date: full.then_some(Date::parse("2026-10-01").unwrap()),
        recorded_by: user(),
        recorded_at: at(),
    };
    visit.audit.insert(line.key(), line);
    let sha = Sha256::digest(b"shelf");
    visit.photos.insert(
        sha.to_hex(),
        PhotoRef {
            sha256: sha,
            size_bytes: 1234,
            content_type: "image/jpeg".into(),
            step: full.then_some(VisitStep::StoreCheck),
            taken_at: at(),
            taken_by: user(),
            position: full.then_some(position()),
            // Full: the camera's time and place; the reviewed sparse visit: a capture record
            // without either (a file with no EXIF time or GPS); the other: no record (older app).
            capture: (full || reviewed).then(|| PhotoCapture {
                at: full.then(at),
                zone_known: full,
                position: full.then(position),
            }),
        },
    );
    visit.notes = Text::with_value("note");
    visit.evaluated_against = basis(full, reviewed);
    visit.findings = findings(full);
    visit.plan_id = full.then(DocId::new_random);
    let sighting = CompetitorSighting {
        id: SightingId::new_random(),
        competitor: ShortText::parse("PepsiCo").unwrap(),
        seen: full.then(|| ShortText::parse("Pepsi 330ml").unwrap()),
        shelf_price: full.then_some(Money(250)),
        promotion: full.then(|| ShortText::parse("buy 2 get 1").unwrap()),
        display: full.then_some(CompetitorDisplay::Endcap),
        photos: vec![sha],
        note: String::new(),
        by: user(),
        by_name: "rep".into(),
        at: at(),
    };
    visit
        .competitor_sightings
        .as_mut()
        .unwrap()
        .insert(sighting.id.to_string(), sighting);
    visit.promotion_checks.as_mut().unwrap().insert(
        "CNY-ENDCAP".into(),
        fieldsync_shared::promotion::PromotionCheck {
            status: fieldsync_shared::promotion::CheckStatus::NotInPlace,
            photos: vec![sha],
            seen_price: full.then_some(Money(290)),
            note: full.then_some(ShortText::parse("endcap taken").unwrap()),
            by: user(),
            at: at(),
        },
    );
    visit.success_scores.as_mut().unwrap().insert(
        "COLA-BLOCK".into(),
        fieldsync_shared::success::SuccessScore {
            status: fieldsync_shared::success::ScoreStatus::NotMet,
            photos: vec![sha],
            note: full.then_some(ShortText::parse("block broken").unwrap()),
            by: user(),
            at: at(),
        },
    );
    visit.stock_counts.as_mut().unwrap().insert(
        "COLA-330".into(),
        fieldsync_shared::visit::StockCount {
            sku: fieldsync_shared::values::Sku::parse("COLA-330").unwrap(),
            shelf_units: 12,
            backroom_units: 24,
            counted_by: user(),
            counted_at: at(),
        },
    );
    visit.review = (full || reviewed).then(|| Review {
        decision: ReviewDecision::Rejected,
        comment: full.then_some(ShortText::parse("redo").unwrap()),
        by: user(),
        at: at(),
    });
    let mut doc = new_document(automerge::ActorId::random());
    reconcile_visit(&mut doc, &visit).unwrap();
    doc.commit();
    doc
}

/// The rules basis: with a credit snapshot when `full`, without one when only `evaluated`.
fn basis(full: bool, evaluated: bool) -> Option<RulesBasis> {
    (full || evaluated).then(|| RulesBasis {
        rules_version: 1,
        master_version: 7,
        evaluated_at: at(),
        credit: full.then(|| CreditBasis {
            as_of: Date::parse("2026-11-20").unwrap(),
            credit_limit: Money(100_000),
            receivables: Money(20_000),
            overdue: Money(0),
            open_orders: Money(5_000),
        }),
    })
}

/// One finding shown to the rep when `full`.
fn findings(full: bool) -> Vec<ShownFinding> {
    full.then(|| ShownFinding {
        rule: "geofence".into(),
        rule_version: 1,
        severity: "flag".into(),
        code: "outside_geofence".into(),
        message: "far".into(),
        field: None,
        at: at(),
    })
    .into_iter()
    .collect()
}

/// An order with one line; optional values set when `full`, a rules basis without credit
/// when only `evaluated`.
fn order(full: bool, evaluated: bool) -> AutoCommit {
    let date = Date::parse("2026-11-22").unwrap();
    let sku = Sku::parse("COLA-330").unwrap();
    let order = Order {
        schema: ORDER_SCHEMA_VERSION,
        id: DocId::new_random(),
        number: OrderNumber::generate(
            &PersonCode::parse("R001").unwrap(),
            date,
            &DeviceId::new_random(),
            1,
        ),
        store_id: StoreId::new_random(),
        person_id: user(),
        visit_id: full.then(DocId::new_random),
        order_date: date,
        requested_delivery: date.add_days(2),
        payment: PaymentMethod::Credit,
        status: OrderStatus::Submitted,
        lines: [(
            sku.to_string(),
            OrderLine {
                sku,
                quantity: 24,
                unit_price: Money(250),
            },
        )]
        .into(),
        notes: Text::with_value("call first"),
        created_at: at(),
        submitted_at: full.then(at),
        evaluated_against: basis(full, evaluated),
        findings: findings(full),
        delivery: full.then(|| Delivery {
            delivered_on: date.add_days(3),
            recorded_by: user(),
            recorded_at: at(),
        }),
    };
    let mut doc = new_document(automerge::ActorId::random());
    reconcile_order(&mut doc, &order).unwrap();
    doc.commit();
    doc
}

/// The page's rows of `section` are exactly the fields of the full document, with their
/// types, and a field is nullable exactly when one of the sparse documents holds null there.
fn assert_page_matches(section: &str, full: &AutoCommit, sparse: &[AutoCommit]) {
    let rows = rows(section);
    let full = fields(full);
    let documented: BTreeMap<String, String> = rows
        .iter()
        .map(|(path, (ty, _))| (path.clone(), ty.clone()))
        .collect();
    let written: BTreeMap<String, String> = full
        .iter()
        .map(|(path, ty)| (path.clone(), ty.to_string()))
        .collect();
    for (path, ty) in &written {
        assert_eq!(
            documented.get(path),
            Some(ty),
            "{section} field `{path}` is written as `{ty}`: docs/document-encoding.md must say so"
        );
    }
    for path in documented.keys() {
        assert!(
            written.contains_key(path),
            "docs/document-encoding.md lists `{path}`, which a {section} does not have"
        );
    }
    let nulls: std::collections::BTreeSet<&String> = sparse
        .iter()
        .flat_map(fields)
        .filter(|(_, ty)| *ty == "null")
        .map(|(path, _)| rows.get_key_value(&path).expect("a documented field").0)
        .collect();
    let nullable: std::collections::BTreeSet<&String> = rows
        .iter()
        .filter(|(_, (_, nullable))| *nullable)
        .map(|(path, _)| path)
        .collect();
    assert_eq!(
        nullable, nulls,
        "{section}: the fields marked nullable are the ones that can be null"
    );
}

#[test]
fn the_visit_encoding_is_documented() {
    assert_page_matches(
        "Visit",
        &visit(true, false),
        &[visit(false, false), visit(false, true)],
    );
}

/// A plan with every field set (`full`) or as sparse as it gets (with a review without a
/// comment when `reviewed`).
fn plan(full: bool, reviewed: bool) -> AutoCommit {
    let week = IsoWeek::parse("2026-W50").unwrap();
    let mut plan = Plan::new(user(), week);
    let store = StoreId::new_random();
    let entry = PlanEntry {
        store_id: store,
        day: week.monday(),
        seq: 1,
        reason: EntryReason::Overdue,
        pinned: false,
    };
    let day = PlanDay {
        day: week.monday(),
        stops: 1,
        length_km: 3.25,
    };
    plan.apply(vec![entry], vec![day], at());
    let removed = StoreId::new_random();
    plan.removed.insert(removed.to_string(), removed);
    if full {
        plan.status = PlanStatus::Returned;
        plan.submitted_at = Some(at());
        plan.review = Some(PlanReview {
            decision: PlanDecision::Returned,
            comment: Some(ShortText::parse("add store 12").unwrap()),
            by: user(),
            at: at(),
        });
    } else {
        plan.generated_at = None;
        plan.review = reviewed.then(|| PlanReview {
            decision: PlanDecision::Approved,
            comment: None,
            by: user(),
            at: at(),
        });
    }
    let mut doc = new_document(automerge::ActorId::random());
    reconcile_plan(&mut doc, &plan).unwrap();
    doc.commit();
    doc
}

#[test]
fn the_plan_encoding_is_documented() {
    assert_page_matches(
        "Plan",
        &plan(true, false),
        &[plan(false, false), plan(false, true)],
    );
}

#[test]
fn the_order_encoding_is_documented() {
    assert_page_matches(
        "Order",
        &order(true, true),
        &[order(false, false), order(false, true)],
    );
}
