//! The workload, generated once and sent as the same bytes to every server: per device a
//! rep-day of the demo tenant's `rep1` (its 16 NKA/RKA stores), built as Automerge documents
//! with the shared crate's schema exactly as the device SDK writes them (so Fieldsync's schema,
//! policies and rules accept them), one commit per edit:
//!
//! * 25 visits of 12 commits: plan, check in, the 8 steps two at a time, 30 audit lines ten at a
//!   time, a note, check out, submit;
//! * 10 orders of 3 commits: draft, five lines, submit (cash, so no credit hold).
//!
//! Every device is its own installation (device id, Automerge actor) and records its day on a
//! different date, so that no two devices' visits overlap (one person's overlapping visits are
//! a finding of the server's rules).

use std::collections::BTreeMap;

use automerge::transaction::CommitOptions;
use automerge::{ActorId, AutoCommit, ChangeHash};
use fieldsync_server::demo::{demo_store_id, demo_user_id, OVERDUE_STORES};
use fieldsync_shared::document::{new_document, reconcile_order, reconcile_visit};
use fieldsync_shared::order::{
    Order, OrderLine, OrderNumber, OrderStatus, PaymentMethod, ORDER_SCHEMA_VERSION,
};
use fieldsync_shared::visit::{AuditLine, GeoStamp, StepRecord, Visit, VisitStatus, VisitStep};
use fieldsync_shared::{
    Date, DeviceId, DocId, DocKind, Money, PersonCode, Position, ShelfLocation, Sku, StoreId,
    Timestamp, UserId,
};

/// The demo's master data the documents name (the server's own seed files).
const STORES_CSV: &str = include_str!("../../../server/demo/stores.csv");
const PRODUCTS_CSV: &str = include_str!("../../../server/demo/products.csv");

pub const VISITS: usize = 25;
pub const ORDERS: usize = 10;
pub const DOCS_PER_DEVICE: usize = VISITS + ORDERS;
const AUDIT_LINES: usize = 30;
const ORDER_LINES: usize = 5;
/// The demo user every device signs in as, and their person code (order numbers).
pub const USERNAME: &str = "rep1";
const PERSON_CODE: &str = "R001";

/// One document of a device's day: its change bytes (`Change::raw_bytes`, causal order) and
/// what a server must end up holding.
pub struct Document {
    pub id: DocId,
    pub kind: DocKind,
    pub changes: Vec<Vec<u8>>,
    pub heads: Vec<ChangeHash>,
    /// `AutoCommit::save` of the finished document.
    pub saved_bytes: usize,
}

/// One phone's installation and its day.
pub struct Device {
    pub device_id: DeviceId,
    pub actor: ActorId,
    pub docs: Vec<Document>,
}

impl Device {
    pub fn saved_bytes(&self) -> usize {
        self.docs.iter().map(|d| d.saved_bytes).sum()
    }
}

struct StoreRow {
    code: String,
    id: StoreId,
    position: Position,
}

struct ProductRow {
    sku: Sku,
    case_pack: u32,
    list_price: Money,
}

struct MasterData {
    /// rep1's territory.
    stores: Vec<StoreRow>,
    products: Vec<ProductRow>,
}

fn master_data() -> MasterData {
    let mut stores = Vec::new();
    for row in csv::Reader::from_reader(STORES_CSV.as_bytes()).records() {
        let row = row.expect("demo stores.csv");
        let code = row[0].to_string();
        if !(code.starts_with("NKA-") || code.starts_with("RKA-")) {
            continue;
        }
        let (lat, lon) = (row[5].parse().unwrap(), row[6].parse().unwrap());
        stores.push(StoreRow {
            id: demo_store_id(&code),
            position: Position::new(lat, lon).expect("demo store position"),
            code,
        });
    }
    let mut products = Vec::new();
    for row in csv::Reader::from_reader(PRODUCTS_CSV.as_bytes()).records() {
        let row = row.expect("demo products.csv");
        products.push(ProductRow {
            sku: Sku::parse(&row[0]).expect("demo SKU"),
            case_pack: row[2].parse().expect("case pack"),
            list_price: Money::parse(&row[5]).expect("list price"),
        });
    }
    MasterData { stores, products }
}

/// The days of `devices` phones.
pub fn generate(devices: usize) -> Vec<Device> {
    let master = master_data();
    let rep = Rep {
        person: demo_user_id(USERNAME),
        code: PersonCode::parse(PERSON_CODE).expect("person code"),
    };
    let today = Timestamp::now().utc_date();
    (0..devices)
        .map(|i| {
            let date = today.add_days(-(i as i64));
            device_day(
                &master,
                &rep,
                date,
                DeviceId::new_random(),
                ActorId::random(),
            )
        })
        .collect()
}

/// Who records a day: the user, and their person code (in order numbers).
pub struct Rep {
    pub person: UserId,
    pub code: PersonCode,
}

/// One rep-day of `rep` on `date`, recorded by the installation `device_id` with `actor`
/// (for a device that exists already, e.g. the device SDK's).
pub fn day(rep: &Rep, date: Date, device_id: DeviceId, actor: ActorId) -> Device {
    device_day(&master_data(), rep, date, device_id, actor)
}

/// Commits the typed value as one change, like one edit on the device.
struct Writer {
    doc: AutoCommit,
    clock: i64,
}

impl Writer {
    fn new(actor: &ActorId, clock: i64) -> Self {
        Writer {
            doc: new_document(actor.clone()),
            clock,
        }
    }

    fn commit_visit(&mut self, visit: &Visit, message: &str) {
        reconcile_visit(&mut self.doc, visit).expect("reconcile visit");
        self.commit(message);
    }

    fn commit_order(&mut self, order: &Order, message: &str) {
        reconcile_order(&mut self.doc, order).expect("reconcile order");
        self.commit(message);
    }

    fn commit(&mut self, message: &str) {
        self.clock += 1;
        self.doc.commit_with(
            CommitOptions::default()
                .with_message(message.to_string())
                .with_time(self.clock / 1000),
        );
    }

    fn finish(mut self, id: DocId, kind: DocKind) -> Document {
        Document {
            id,
            kind,
            changes: self
                .doc
                .get_changes(&[])
                .iter()
                .map(|c| c.raw_bytes().to_vec())
                .collect(),
            heads: self.doc.get_heads(),
            saved_bytes: self.doc.save().len(),
        }
    }
}

fn device_day(
    master: &MasterData,
    rep: &Rep,
    date: Date,
    device_id: DeviceId,
    actor: ActorId,
) -> Device {
    let person = rep.person;
    let day_start = date
        .naive()
        .and_hms_opt(8, 0, 0)
        .expect("08:00")
        .and_utc()
        .timestamp_millis();
    let mut docs = Vec::with_capacity(DOCS_PER_DEVICE);
    for (k, store) in master.stores.iter().cycle().take(VISITS).enumerate() {
        // Fifteen minutes per visit, ten of them in the store.
        let check_in = day_start + k as i64 * 900_000;
        docs.push(visit(
            master,
            &actor,
            person,
            date,
            store,
            check_in,
            check_in + 600_000,
        ));
    }
    let order_stores = master
        .stores
        .iter()
        .filter(|s| !OVERDUE_STORES.contains(&s.code.as_str()));
    for (k, store) in order_stores.cycle().take(ORDERS).enumerate() {
        let at = day_start + k as i64 * 900_000 + 300_000;
        docs.push(order(master, &actor, &device_id, rep, date, store, at, k));
    }
    Device {
        device_id,
        actor,
        docs,
    }
}

fn stamp(at: i64, position: Position) -> GeoStamp {
    GeoStamp {
        at: Timestamp(at),
        position,
        accuracy_m: 8.0,
        mocked: false,
    }
}

fn visit(
    master: &MasterData,
    actor: &ActorId,
    person: UserId,
    date: Date,
    store: &StoreRow,
    check_in: i64,
    check_out: i64,
) -> Document {
    let id = DocId::new_random();
    let mut w = Writer::new(actor, check_in - 3_600_000);
    let mut v = Visit::new(id, store.id, person, date);
    w.commit_visit(&v, "plan visit");

    w.clock = check_in;
    v.status = VisitStatus::InProgress;
    v.check_in = Some(stamp(check_in, store.position));
    w.commit_visit(&v, "check in");

    for pair in VisitStep::ALL.chunks(2) {
        for step in pair {
            let record = StepRecord {
                step: *step,
                at: Timestamp(w.clock + 60_000),
                by: person,
                skipped_reason: None,
            };
            v.steps.insert(step.as_str().to_string(), record);
        }
        w.clock += 60_000;
        w.commit_visit(&v, "record steps");
    }

    let shelf = ShelfLocation::parse("MAIN-SHELF").expect("location");
    for batch in master.products[..AUDIT_LINES].chunks(10) {
        for (j, product) in batch.iter().enumerate() {
            let line = AuditLine {
                sku: product.sku.clone(),
                location: shelf.clone(),
                facings: 2 + (j as u32 % 4),
                on_shelf: j % 7 != 6,
                shelf_price: Some(product.list_price),
                oldest_production_date: Some(date.add_days(-20)),
                recorded_by: person,
                recorded_at: Timestamp(w.clock + 30_000),
            };
            v.audit.insert(line.key(), line);
        }
        w.clock += 60_000;
        w.commit_visit(&v, "record audit lines");
    }

    v.notes.splice(
        0,
        0,
        "货架已整理，端架按成功图像陈列。Endcap restocked, price tags fixed.",
    );
    w.commit_visit(&v, "note");

    w.clock = check_out;
    v.status = VisitStatus::CheckedOut;
    v.check_out = Some(stamp(check_out, store.position));
    w.commit_visit(&v, "check out");

    v.status = VisitStatus::Submitted;
    w.commit_visit(&v, "submit visit");
    w.finish(id, DocKind::Visit)
}

#[allow(clippy::too_many_arguments)]
fn order(
    master: &MasterData,
    actor: &ActorId,
    device: &DeviceId,
    rep: &Rep,
    date: Date,
    store: &StoreRow,
    at: i64,
    seq: usize,
) -> Document {
    let person = rep.person;
    let id = DocId::new_random();
    let mut w = Writer::new(actor, at);
    let mut o = Order {
        schema: ORDER_SCHEMA_VERSION,
        id,
        number: OrderNumber::generate(&rep.code, date, device, seq as u32 + 1),
        store_id: store.id,
        person_id: person,
        visit_id: None,
        order_date: date,
        requested_delivery: date.add_days(7),
        payment: PaymentMethod::Cash,
        status: OrderStatus::Draft,
        lines: BTreeMap::new(),
        notes: autosurgeon::Text::with_value(""),
        created_at: Timestamp(at),
        submitted_at: None,
        evaluated_against: None,
        findings: Vec::new(),
        delivery: None,
    };
    w.commit_order(&o, "draft order");

    for product in master.products.iter().skip(10 + seq % 5).take(ORDER_LINES) {
        let line = OrderLine {
            sku: product.sku.clone(),
            quantity: product.case_pack * 2,
            unit_price: product.list_price,
        };
        o.lines.insert(product.sku.to_string(), line);
    }
    w.clock += 120_000;
    w.commit_order(&o, "order lines");

    w.clock += 60_000;
    o.status = OrderStatus::Submitted;
    o.submitted_at = Some(Timestamp(w.clock));
    w.commit_order(&o, "submit order");
    w.finish(id, DocKind::Order)
}
