//! Fixtures shared by the unit tests.

use std::collections::BTreeMap;

use crate::master::{Channel, CreditSnapshot, Grade, Product, Store};
use crate::order::{
    Order, OrderLine, OrderNumber, OrderStatus, PaymentMethod, ORDER_SCHEMA_VERSION,
};
use crate::values::*;
use crate::visit::{AuditLine, GeoStamp, PhotoRef, StepRecord, Visit, VisitStep};

pub fn date(s: &str) -> Date {
    Date::parse(s).unwrap()
}

pub fn pos(lat: f64, lon: f64) -> Position {
    Position::new(lat, lon).unwrap()
}

pub fn sku(s: &str) -> Sku {
    Sku::parse(s).unwrap()
}

pub fn money(s: &str) -> Money {
    Money::parse(s).unwrap()
}

/// People's Square, Shanghai.
pub const STORE_LAT: f64 = 31.2304;
pub const STORE_LON: f64 = 121.4737;

pub fn store() -> Store {
    Store {
        id: StoreId::new_random(),
        code: StoreCode::parse("NKA-0001").unwrap(),
        name: "Hypermarket".into(),
        channel: Channel::Nka,
        grade: Grade::A,
        address: "1 People's Square".into(),
        location: pos(STORE_LAT, STORE_LON),
        geofence_radius_m: 100,
        delivery_lead_days: 2,
        monthly_potential: None,
        chain: None,
    }
}

pub fn product() -> Product {
    Product {
        sku: sku("COLA-330"),
        name: "Cola 330 ml".into(),
        case_pack: 24,
        sold_by_case: true,
        shelf_life_days: 270,
        list_price: money("4.00"),
        floor_price: money("3.00"),
    }
}

pub fn credit(limit: &str, receivables: &str, overdue: &str, as_of: &str) -> CreditSnapshot {
    CreditSnapshot {
        store_id: StoreId::new_random(),
        credit_limit: money(limit),
        receivables: money(receivables),
        overdue: money(overdue),
        as_of: date(as_of),
    }
}

pub fn stamp(at: i64, position: Position) -> GeoStamp {
    GeoStamp {
        at: Timestamp(at),
        position,
        accuracy_m: 10.0,
        mocked: false,
    }
}

pub fn visit() -> Visit {
    Visit::new(
        DocId::new_random(),
        StoreId::new_random(),
        UserId::new_random(),
        date("2026-11-22"),
    )
}

pub fn step(step: VisitStep, by: UserId, skipped_reason: Option<&str>) -> StepRecord {
    StepRecord {
        step,
        at: Timestamp(1_000),
        by,
        skipped_reason: skipped_reason.map(|r| ShortText::parse(r).unwrap()),
    }
}

pub fn audit_line(sku_code: &str, location: &str, facings: u32, by: UserId) -> AuditLine {
    AuditLine {
        sku: sku(sku_code),
        location: ShelfLocation::parse(location).unwrap(),
        facings,
        on_shelf: facings > 0,
        shelf_price: None,
        oldest_production_date: None,
        recorded_by: by,
        recorded_at: Timestamp(2_000),
    }
}

pub fn photo(content: &[u8], taken_at: i64, by: UserId) -> PhotoRef {
    PhotoRef {
        sha256: Sha256::digest(content),
        size_bytes: content.len() as u64,
        content_type: "image/jpeg".into(),
        step: Some(VisitStep::Merchandise),
        taken_at: Timestamp(taken_at),
        taken_by: by,
        position: Some(pos(STORE_LAT, STORE_LON)),
        capture: None,
    }
}

/// Adds `line` under its derived key.
pub fn add_line(visit: &mut Visit, line: AuditLine) {
    visit.audit.insert(line.key(), line);
}

pub fn add_photo(visit: &mut Visit, photo: PhotoRef) {
    visit.photos.insert(photo.sha256.to_hex(), photo);
}

/// A visit checked in at `check_in` with every step done and one photo, not checked out.
pub fn complete_visit(check_in: i64) -> Visit {
    let mut v = visit();
    v.check_in = Some(stamp(check_in, pos(STORE_LAT, STORE_LON)));
    for s in VisitStep::ALL {
        v.steps
            .insert(s.as_str().to_string(), step(*s, v.person_id, None));
    }
    let shelf = photo(b"shelf", check_in + 1, v.person_id);
    add_photo(&mut v, shelf);
    v
}

pub fn order() -> Order {
    let device = DeviceId::new_random();
    Order {
        schema: ORDER_SCHEMA_VERSION,
        id: DocId::new_random(),
        number: OrderNumber::generate(
            &PersonCode::parse("R001").unwrap(),
            date("2026-11-22"),
            &device,
            1,
        ),
        store_id: StoreId::new_random(),
        person_id: UserId::new_random(),
        visit_id: None,
        order_date: date("2026-11-22"),
        requested_delivery: date("2026-11-25"),
        payment: PaymentMethod::Credit,
        status: OrderStatus::Draft,
        lines: BTreeMap::new(),
        notes: autosurgeon::Text::with_value(""),
        created_at: Timestamp(1_000),
        submitted_at: None,
        evaluated_against: None,
        findings: Vec::new(),
        delivery: None,
    }
}

pub fn order_line(sku_code: &str, quantity: u32, unit_price: &str) -> OrderLine {
    OrderLine {
        sku: sku(sku_code),
        quantity,
        unit_price: money(unit_price),
    }
}
