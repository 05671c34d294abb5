//! Device behaviour without a server: rules refuse edits with typed errors, edits are durable,
//! state transitions hold, and two devices editing one document merge through Automerge.

use std::path::Path;

use fieldsync_client::{
    AuditInput, Date, Device, DeviceError, DocKind, GeoFix, Money, OrderStatus, PaymentMethod,
    Timestamp, VisitStatus, VisitStep,
};
use fieldsync_shared::master::{
    Channel, CreditSnapshot, Grade, MasterDataPage, Product, Role, Store, UserProfile,
};
use fieldsync_shared::org::OrgView;
use fieldsync_shared::{PersonCode, Position, Sku, StoreCode, StoreId, TenantId, UserId};
use tempfile::TempDir;

const LAT: f64 = 31.2304;
const LON: f64 = 121.4737;

fn store_id() -> StoreId {
    StoreId::parse("6f1c2a52-6a0e-4a57-9d1b-3c1f0f6f0001").unwrap()
}

fn tenant() -> TenantId {
    TenantId::parse("6f1c2a52-6a0e-4a57-9d1b-3c1f0f6f00aa").unwrap()
}

fn master() -> MasterDataPage {
    MasterDataPage {
        version: 3,
        stores: vec![Store {
            id: store_id(),
            code: StoreCode::parse("NKA-001").unwrap(),
            name: "Hypermarket Pudong".into(),
            channel: Channel::Nka,
            grade: Grade::A,
            address: "1 Century Ave".into(),
            location: Position::new(LAT, LON).unwrap(),
            geofence_radius_m: 150,
            delivery_lead_days: 2,
            monthly_potential: None,
            chain: None,
        }],
        products: vec![
            Product {
                sku: Sku::parse("COLA-330").unwrap(),
                name: "Cola 330 ml".into(),
                case_pack: 24,
                sold_by_case: true,
                shelf_life_days: 270,
                list_price: Money(350),
                floor_price: Money(300),
            },
            Product {
                sku: Sku::parse("WATER-500").unwrap(),
                name: "Water 500 ml".into(),
                case_pack: 12,
                sold_by_case: false,
                shelf_life_days: 90,
                list_price: Money(200),
                floor_price: Money(150),
            },
        ],
        credit: vec![CreditSnapshot {
            store_id: store_id(),
            credit_limit: Money(1_000_000),
            receivables: Money(0),
            overdue: Money(5_000),
            as_of: Timestamp::now().utc_date(),
        }],
        generated_at: Timestamp::now(),
        org: None,
        stores_complete: false,
        approval_tiers: None,
        expense_budget: None,
        assortment: None,
        promotions: None,
        success_pictures: None,
    }
}

fn profile(username: &str, code: &str) -> UserProfile {
    UserProfile {
        id: UserId::new_random(),
        tenant_id: tenant(),
        username: username.into(),
        display_name: username.to_uppercase(),
        role: Role::Rep,
        code: PersonCode::parse(code).unwrap(),
    }
}

/// A device with master data and a signed-in profile, no server.
fn device_in(dir: &Path, who: &UserProfile) -> Device {
    let device = Device::open(dir).unwrap();
    device.import_master(&master()).unwrap();
    device.import_profile(who).unwrap();
    device
}

fn new_device(who: &UserProfile) -> (TempDir, Device) {
    let dir = tempfile::tempdir().unwrap();
    let device = device_in(dir.path(), who);
    (dir, device)
}

fn at_store() -> GeoFix {
    GeoFix {
        lat: LAT,
        lon: LON,
        accuracy_m: 8.0,
        mocked: false,
    }
}

fn today() -> Date {
    Timestamp::now().utc_date()
}

fn codes(err: DeviceError) -> Vec<String> {
    match err {
        DeviceError::Invalid { findings } => findings.into_iter().map(|f| f.code).collect(),
        other => panic!("expected a rule violation, got {other:?}"),
    }
}

fn photo(dir: &Path, name: &str, seed: u8) -> std::path::PathBuf {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.extend((0..2048u32).map(|i| (i as u8).wrapping_mul(seed).wrapping_add(seed)));
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn edits_need_a_profile() {
    let dir = tempfile::tempdir().unwrap();
    let device = Device::open(dir.path()).unwrap();
    device.import_master(&master()).unwrap();
    assert!(matches!(
        device.start_visit(store_id(), today()),
        Err(DeviceError::NotLoggedIn)
    ));
    assert!(matches!(device.sync(), Err(DeviceError::NotLoggedIn)));
}

#[test]
fn an_order_line_with_quantity_zero_is_refused_and_nothing_is_committed() {
    let (_dir, device) = new_device(&profile("rep1", "R001"));
    let (order, number) = device
        .create_order(store_id(), today().add_days(7), PaymentMethod::Cash, None)
        .unwrap();
    assert!(number.as_str().starts_with("R001-"), "{number}");
    let heads = device.document_heads(order).unwrap();
    let err = device
        .set_order_line(order, "COLA-330", 0, None)
        .unwrap_err();
    assert_eq!(codes(err), vec!["quantity_zero".to_string()]);
    assert_eq!(device.document_heads(order).unwrap(), heads);
    assert!(device.order(order).unwrap().lines.is_empty());

    // Bad input names the field; an unknown product is a rule finding.
    match device.set_order_line(order, "not a sku!", 24, None) {
        Err(DeviceError::InvalidInput(e)) => assert_eq!(e.field, "SKU"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        codes(
            device
                .set_order_line(order, "NOPE-1", 24, None)
                .unwrap_err()
        ),
        vec!["unknown_product".to_string()]
    );
}

#[test]
fn order_lines_default_to_list_price_and_freeze_after_submit() {
    let (_dir, device) = new_device(&profile("rep1", "R001"));
    let (order, _) = device
        .create_order(store_id(), today().add_days(7), PaymentMethod::Cash, None)
        .unwrap();
    device.set_order_line(order, "cola-330", 48, None).unwrap();
    device
        .set_order_line(order, "WATER-500", 5, Some(Money(190)))
        .unwrap();
    device
        .set_order_line(order, "WATER-500", 6, Some(Money(190)))
        .unwrap();
    let o = device.order(order).unwrap();
    assert_eq!(o.lines["COLA-330"].unit_price, Money(350));
    assert_eq!(o.lines["WATER-500"].quantity, 6);
    assert_eq!(o.total(), Some(Money(48 * 350 + 6 * 190)));
    device.remove_order_line(order, "WATER-500").unwrap();
    assert!(matches!(
        device.remove_order_line(order, "WATER-500"),
        Err(DeviceError::NotFound { .. })
    ));

    let verdict = device.submit_order(order).unwrap();
    assert!(!verdict.is_blocked());
    assert_eq!(device.order(order).unwrap().status, OrderStatus::Submitted);
    let heads = device.document_heads(order).unwrap();
    assert!(matches!(
        device.set_order_line(order, "COLA-330", 24, None),
        Err(DeviceError::Forbidden { code, .. }) if code == "order_submitted"
    ));
    assert!(matches!(
        device.remove_order_line(order, "COLA-330"),
        Err(DeviceError::Forbidden { code, .. }) if code == "order_submitted"
    ));
    assert_eq!(device.document_heads(order).unwrap(), heads);
    assert!(matches!(
        device.submit_order(order),
        Err(DeviceError::WrongState { .. })
    ));
}

#[test]
fn order_rules_delivery_date_and_credit() {
    let (_dir, device) = new_device(&profile("rep1", "R001"));
    // Lead time is 2 days.
    let err = device
        .create_order(store_id(), today(), PaymentMethod::Cash, None)
        .unwrap_err();
    assert_eq!(codes(err), vec!["delivery_too_early".to_string()]);

    // The store has overdue receivables: a credit order is refused, a cash order is not.
    let (credit, _) = device
        .create_order(store_id(), today().add_days(3), PaymentMethod::Credit, None)
        .unwrap();
    device.set_order_line(credit, "COLA-330", 24, None).unwrap();
    let err = device.submit_order(credit).unwrap_err();
    assert!(codes(err).contains(&"overdue_receivables".to_string()));
    assert_eq!(device.order(credit).unwrap().status, OrderStatus::Draft);

    let (cash, _) = device
        .create_order(store_id(), today().add_days(3), PaymentMethod::Cash, None)
        .unwrap();
    device.set_order_line(cash, "COLA-330", 24, None).unwrap();
    device.submit_order(cash).unwrap();
}

#[test]
fn a_stale_credit_snapshot_sends_the_order_to_approval() {
    let (_dir, device) = new_device(&profile("rep1", "R001"));
    let mut page = master();
    page.credit[0].overdue = Money(0);
    page.credit[0].as_of = today().add_days(-30);
    device.import_master(&page).unwrap();
    let (order, _) = device
        .create_order(store_id(), today().add_days(3), PaymentMethod::Credit, None)
        .unwrap();
    device.set_order_line(order, "COLA-330", 24, None).unwrap();
    let verdict = device.submit_order(order).unwrap();
    assert!(verdict.needs_approval(), "{verdict:?}");
    assert_eq!(
        device.order(order).unwrap().status,
        OrderStatus::PendingApproval
    );
}

#[test]
fn order_numbers_are_unique_per_device_and_day() {
    let (_dir, device) = new_device(&profile("rep1", "R001"));
    let mut numbers = Vec::new();
    for _ in 0..3 {
        let (_, n) = device
            .create_order(store_id(), today().add_days(3), PaymentMethod::Cash, None)
            .unwrap();
        numbers.push(n);
    }
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 3);
}

#[test]
fn checking_out_before_checking_in_is_refused() {
    let (_dir, device) = new_device(&profile("rep1", "R001"));
    let visit = device.start_visit(store_id(), today()).unwrap();
    let err = device
        .check_out(visit, at_store(), Timestamp::now())
        .unwrap_err();
    assert!(codes(err).contains(&"not_checked_in".to_string()));

    let check_in_at = Timestamp::now();
    device.check_in(visit, at_store(), check_in_at).unwrap();
    let heads = device.document_heads(visit).unwrap();
    let err = device
        .check_out(visit, at_store(), Timestamp(check_in_at.millis() - 60_000))
        .unwrap_err();
    assert!(codes(err).contains(&"check_out_before_check_in".to_string()));
    assert_eq!(device.document_heads(visit).unwrap(), heads);
    assert!(device.visit(visit).unwrap().check_out.is_none());
}

#[test]
fn a_full_visit_follows_its_lifecycle() {
    let who = profile("rep1", "R001");
    let (dir, device) = new_device(&who);
    let visit = device.start_visit(store_id(), today()).unwrap();
    assert_eq!(device.visit(visit).unwrap().status, VisitStatus::Planned);

    // Outside the geofence with a mock provider: flagged, recorded, not blocked.
    let far = GeoFix {
        lat: LAT + 0.01,
        mocked: true,
        ..at_store()
    };
    let verdict = device.check_in(visit, far, Timestamp::now()).unwrap();
    let found: Vec<_> = verdict.findings.iter().map(|f| f.code.as_str()).collect();
    assert!(
        found.contains(&"outside_geofence") && found.contains(&"mock_location"),
        "{found:?}"
    );
    let v = device.visit(visit).unwrap();
    assert_eq!(v.status, VisitStatus::InProgress);
    assert!(v.check_in.as_ref().is_some_and(|c| c.mocked));
    assert!(matches!(
        device.check_in(visit, at_store(), Timestamp::now()),
        Err(DeviceError::WrongState { .. })
    ));

    // Missing steps and photos block the check-out.
    let err = device
        .check_out(visit, at_store(), Timestamp::now())
        .unwrap_err();
    let found = codes(err);
    assert!(found.contains(&"step_missing".to_string()), "{found:?}");
    assert!(found.contains(&"photos_missing".to_string()), "{found:?}");

    for step in VisitStep::ALL {
        let reason = (*step == VisitStep::PresentOrder).then_some("buyer absent");
        device.record_step(visit, *step, reason).unwrap();
    }
    let old = today().add_days(-200);
    let verdict = device
        .record_audit_line(
            visit,
            AuditInput {
                sku: "COLA-330".into(),
                location: "main-shelf".into(),
                facings: 6,
                on_shelf: true,
                shelf_price: Some(Money(350)),
                oldest_production_date: Some(old),
            },
        )
        .unwrap();
    assert!(
        verdict.findings.iter().any(|f| f.code == "stale_stock"),
        "{verdict:?}"
    );
    let sha = device
        .attach_photo(
            visit,
            &photo(dir.path(), "shelf.jpg", 3),
            Some(VisitStep::Merchandise),
        )
        .unwrap();
    device.append_note(visit, "Endcap rebuilt.").unwrap();
    device.append_note(visit, "货架已整理").unwrap();
    device
        .append_note(visit, "Manager wants more facings.")
        .unwrap();

    device
        .check_out(visit, at_store(), Timestamp::now())
        .unwrap();
    assert!(matches!(
        device.check_out(visit, at_store(), Timestamp::now()),
        Err(DeviceError::WrongState { .. })
    ));
    device.submit_visit(visit).unwrap();

    let v = device.visit(visit).unwrap();
    assert_eq!(v.status, VisitStatus::Submitted);
    assert_eq!(v.steps.len(), 8);
    assert_eq!(
        v.steps["present_order"]
            .skipped_reason
            .as_ref()
            .map(|r| r.as_str()),
        Some("buyer absent")
    );
    assert!(v.audit.contains_key("COLA-330@MAIN-SHELF"));
    assert_eq!(v.photos[&sha.to_hex()].content_type, "image/jpeg");
    assert_eq!(
        v.notes_text(),
        "Endcap rebuilt.\n货架已整理\nManager wants more facings."
    );
    // The photo bytes were copied into the device and queued.
    let stored = device.photo_path(&sha).unwrap().expect("photo path");
    assert!(stored.starts_with(dir.path()) && stored.exists());
    assert_eq!(device.pending().unwrap().photos, 1);

    // A submitted visit is frozen for the work itself (the write policy refuses)...
    let heads = device.document_heads(visit).unwrap();
    for result in [
        device.record_step(visit, VisitStep::Greet, None),
        device
            .attach_photo(visit, &photo(dir.path(), "late.jpg", 9), None)
            .map(|_| ()),
        device
            .check_out(visit, at_store(), Timestamp::now())
            .map(|_| ()),
    ] {
        assert!(
            matches!(&result, Err(DeviceError::Forbidden { code, .. }) if code == "visit_submitted"),
            "{result:?}"
        );
    }
    assert!(matches!(
        device.submit_visit(visit),
        Err(DeviceError::WrongState { .. })
    ));
    assert_eq!(device.document_heads(visit).unwrap(), heads);
    // ... but a word for the reviewer can still be added.
    device.append_note(visit, "late").unwrap();
    assert!(device
        .visit(visit)
        .unwrap()
        .notes_text()
        .ends_with("\nlate"));
}

#[test]
fn unknown_ids_and_wrong_kinds_are_not_found() {
    let (_dir, device) = new_device(&profile("rep1", "R001"));
    let (order, _) = device
        .create_order(store_id(), today().add_days(3), PaymentMethod::Cash, None)
        .unwrap();
    assert!(matches!(
        device.visit(order),
        Err(DeviceError::NotFound { .. })
    ));
    assert!(matches!(
        device.start_visit(StoreId::new_random(), today()),
        Err(DeviceError::NotFound { what: "store", .. })
    ));
    assert!(matches!(
        device.store_by_code("NKA-999"),
        Err(DeviceError::NotFound { .. })
    ));
    assert_eq!(device.store_by_code("nka-001").unwrap().id, store_id());
}

#[test]
fn everything_survives_closing_and_reopening_the_device() {
    let who = profile("rep1", "R001");
    let dir = tempfile::tempdir().unwrap();
    let (device_id, visit, order, sha, saved_visit, saved_order, pending) = {
        let device = device_in(dir.path(), &who);
        let visit = device.start_visit(store_id(), today()).unwrap();
        device
            .check_in(visit, at_store(), Timestamp::now())
            .unwrap();
        device.append_note(visit, "kept").unwrap();
        let sha = device
            .attach_photo(visit, &photo(dir.path(), "p.jpg", 5), None)
            .unwrap();
        let (order, _) = device
            .create_order(
                store_id(),
                today().add_days(3),
                PaymentMethod::Cash,
                Some(visit),
            )
            .unwrap();
        device.set_order_line(order, "COLA-330", 24, None).unwrap();
        (
            device.device_id(),
            visit,
            order,
            sha,
            device.document_save(visit).unwrap(),
            device.document_save(order).unwrap(),
            device.pending().unwrap(),
        )
    };
    let device = Device::open(dir.path()).unwrap();
    assert_eq!(device.device_id(), device_id);
    assert_eq!(device.profile().unwrap(), Some(who));
    assert_eq!(device.stores().unwrap(), master().stores);
    assert_eq!(device.products().unwrap().len(), 2);
    assert!(device.credit(store_id()).unwrap().is_some());
    assert_eq!(device.document_save(visit).unwrap(), saved_visit);
    assert_eq!(device.document_save(order).unwrap(), saved_order);
    assert_eq!(device.visit(visit).unwrap().notes_text(), "kept");
    assert!(device
        .visit(visit)
        .unwrap()
        .photos
        .contains_key(&sha.to_hex()));
    assert_eq!(device.pending().unwrap(), pending);
    assert_eq!(pending.documents, 2);
    assert_eq!(pending.photos, 1);

    // The same actor keeps editing after the restart (no second actor for one device).
    device.append_note(visit, "after restart").unwrap();
    let mut doc = automerge::AutoCommit::load(&device.document_save(visit).unwrap()).unwrap();
    let mut actors: Vec<_> = doc
        .get_changes(&[])
        .iter()
        .map(|c| c.actor_id().clone())
        .collect();
    actors.dedup();
    assert_eq!(actors.len(), 1);
}

#[test]
fn logout_keeps_unsynced_work() {
    let (_dir, device) = new_device(&profile("rep1", "R001"));
    let visit = device.start_visit(store_id(), today()).unwrap();
    device.logout().unwrap();
    assert!(!device.is_logged_in().unwrap());
    assert!(device.visit(visit).is_ok());
    assert_eq!(device.pending().unwrap().documents, 1);
    assert!(matches!(device.sync(), Err(DeviceError::NotLoggedIn)));
}

#[test]
fn an_unreachable_server_is_offline() {
    let dir = tempfile::tempdir().unwrap();
    let device = Device::open(dir.path()).unwrap();
    // Port 1 on loopback: nothing listens there.
    let err = device
        .login("http://127.0.0.1:1", "demo", "rep1", "pw")
        .unwrap_err();
    assert!(matches!(err, DeviceError::Offline(_)), "{err:?}");
    assert_eq!(device.profile().unwrap(), None);
}

#[test]
fn two_devices_editing_one_visit_merge() {
    let rep = profile("rep1", "R001");
    let merch = profile("merch1", "M001");
    let (_d1, a) = new_device(&rep);
    let (_d2, b) = new_device(&merch);
    // The merchandiser's territory covers the store: they work the rep's visit with them.
    let mut page = master();
    let mut org = OrgView::solo(merch.id, merch.role);
    org.territory_stores.insert(store_id());
    page.org = Some(org);
    b.import_master(&page).unwrap();
    let visit = a.start_visit(store_id(), today()).unwrap();
    a.check_in(visit, at_store(), Timestamp::now()).unwrap();
    a.append_note(visit, "Rep arrived.").unwrap();

    // B receives the document as created by A (never creates its own root).
    b.receive_document(visit, DocKind::Visit, &a.document_save(visit).unwrap())
        .unwrap();
    assert_eq!(b.visit(visit).unwrap(), a.visit(visit).unwrap());
    assert_eq!(
        b.pending().unwrap().documents,
        1,
        "received outside sync: not acknowledged"
    );

    // Concurrent edits.
    let line = |sku: &str, loc: &str| AuditInput {
        sku: sku.into(),
        location: loc.into(),
        facings: 4,
        on_shelf: true,
        shelf_price: None,
        oldest_production_date: None,
    };
    a.record_audit_line(visit, line("COLA-330", "MAIN-SHELF"))
        .unwrap();
    a.record_step(visit, VisitStep::Greet, None).unwrap();
    a.append_note(visit, "Manager asks for more facings.")
        .unwrap();
    b.record_audit_line(visit, line("WATER-500", "ENDCAP-1"))
        .unwrap();
    b.record_step(visit, VisitStep::Merchandise, None).unwrap();
    b.append_note(visit, "Endcap rebuilt.").unwrap();

    // Exchange in both directions.
    let from_a = a.document_save(visit).unwrap();
    let from_b = b.document_save(visit).unwrap();
    a.receive_document(visit, DocKind::Visit, &from_b).unwrap();
    b.receive_document(visit, DocKind::Visit, &from_a).unwrap();

    let (va, vb) = (a.visit(visit).unwrap(), b.visit(visit).unwrap());
    assert_eq!(va, vb);
    assert_eq!(
        a.document_heads(visit).unwrap(),
        b.document_heads(visit).unwrap()
    );
    assert_eq!(va.audit.len(), 2);
    assert!(va.steps.contains_key("greet") && va.steps.contains_key("merchandise"));
    assert_eq!(va.status, VisitStatus::InProgress);
    assert!(va.check_in.is_some());
    let notes = va.notes_text();
    assert!(notes.starts_with("Rep arrived.\n"), "{notes}");
    assert!(
        notes.contains("Manager asks for more facings.") && notes.contains("Endcap rebuilt."),
        "{notes}"
    );
}

#[test]
fn the_device_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Device>();
}

#[test]
fn the_range_comes_with_master_data_and_a_page_without_it_keeps_it() {
    use fieldsync_shared::master::{AssortmentRow, AssortmentScope};
    let who = profile("rep1", "R001");
    let (_dir, device) = new_device(&who);
    let visit = device.start_visit(store_id(), today()).unwrap();
    assert!(device.expected_range(visit).unwrap().is_empty());

    let row = |scope, sku: &str, safety_stock| AssortmentRow {
        scope,
        sku: Sku::parse(sku).unwrap(),
        safety_stock,
    };
    let page = MasterDataPage {
        assortment: Some(vec![
            row(AssortmentScope::Store(store_id()), "COLA-330", Some(24)),
            row(AssortmentScope::Channel(Channel::Nka), "TEA-500", None),
            row(AssortmentScope::Channel(Channel::Lka), "WATER-550", None),
            row(
                AssortmentScope::Store(StoreId::new_random()),
                "JUICE-1L",
                None,
            ),
        ]),
        ..master()
    };
    device.import_master(&page).unwrap();
    device
        .record_audit_line(
            visit,
            AuditInput {
                sku: "COLA-330".into(),
                location: "main-shelf".into(),
                facings: 6,
                on_shelf: true,
                shelf_price: None,
                oldest_production_date: None,
            },
        )
        .unwrap();
    let range = || -> Vec<(String, String, bool, u32, Option<u32>)> {
        device
            .expected_range(visit)
            .unwrap()
            .into_iter()
            .map(|e| {
                (
                    e.sku.to_string(),
                    e.name,
                    e.on_shelf,
                    e.facings,
                    e.safety_stock,
                )
            })
            .collect()
    };
    // The store's row and its channel's (NKA); a SKU missing from the catalogue shows its SKU.
    let expected = vec![
        ("COLA-330".into(), "Cola 330 ml".into(), true, 6, Some(24)),
        ("TEA-500".into(), "TEA-500".into(), false, 0, None),
    ];
    assert_eq!(range(), expected);

    // An older server's page has no `assortment` and its stores no `chain`: it loads, and the
    // range stays.
    let mut json = serde_json::to_value(master()).unwrap();
    json.as_object_mut().unwrap().remove("assortment");
    json["stores"][0].as_object_mut().unwrap().remove("chain");
    let older: MasterDataPage = serde_json::from_value(json).unwrap();
    assert_eq!((&older.assortment, &older.stores[0].chain), (&None, &None));
    device.import_master(&older).unwrap();
    assert_eq!(range(), expected);

    // A page with an empty range empties it.
    device
        .import_master(&MasterDataPage {
            assortment: Some(Vec::new()),
            ..master()
        })
        .unwrap();
    assert!(range().is_empty());
}

#[test]
fn promotions_come_with_master_data_and_the_visit_records_their_checks_offline() {
    use fieldsync_shared::document::{new_document, reconcile_visit};
    use fieldsync_shared::master::{AssortmentScope, Mechanic, Promotion};
    use fieldsync_shared::promotion::CheckStatus;
    use fieldsync_shared::values::{DocId, PromotionCode, Sha256};
    use fieldsync_shared::visit::Visit;

    let who = profile("rep1", "R001");
    let (dir, device) = new_device(&who);
    let visit = device.start_visit(store_id(), today()).unwrap();
    assert!(device.active_promotions(visit).unwrap().is_empty());

    let promo = |code: &str, scope, from: i64, to: i64| Promotion {
        code: PromotionCode::parse(code).unwrap(),
        title: code.to_lowercase(),
        from: today().add_days(from),
        to: today().add_days(to),
        scope,
        skus: vec![Sku::parse("COLA-330").unwrap()],
        mechanic: Mechanic::Endcap,
        promotion_price: None,
        fee: None,
    };
    device
        .import_master(&MasterDataPage {
            promotions: Some(vec![
                promo("ENDCAP", AssortmentScope::Store(store_id()), 0, 6),
                promo("NKA", AssortmentScope::Channel(Channel::Nka), -3, 0),
                promo("LATER", AssortmentScope::Store(store_id()), 1, 6),
                promo("LKA", AssortmentScope::Channel(Channel::Lka), -3, 3),
            ]),
            ..master()
        })
        .unwrap();
    let running = || -> Vec<(String, Option<CheckStatus>)> {
        device
            .active_promotions(visit)
            .unwrap()
            .into_iter()
            .map(|r| (r.promotion.code.to_string(), r.check.map(|c| c.status)))
            .collect()
    };
    assert_eq!(
        running(),
        [("ENDCAP".to_string(), None), ("NKA".to_string(), None)]
    );

    // A photo of no visit, a promotion not running, a negative price: refused, nothing kept.
    let reason = |e: DeviceError| e.reason().to_string();
    let stranger = Sha256::digest(b"not this visit's");
    for refused in [
        device.check_promotion(
            visit,
            "ENDCAP",
            CheckStatus::InPlace,
            &[stranger],
            None,
            None,
        ),
        device.check_promotion(visit, "LATER", CheckStatus::InPlace, &[], None, None),
        device.check_promotion(
            visit,
            "ENDCAP",
            CheckStatus::InPlace,
            &[],
            Some(Money(-1)),
            None,
        ),
        device.check_promotion(visit, "not a code", CheckStatus::InPlace, &[], None, None),
    ] {
        assert_eq!(reason(refused.unwrap_err()), "invalid_input");
    }
    assert_eq!(
        running(),
        [("ENDCAP".to_string(), None), ("NKA".to_string(), None)]
    );
    let sha = device
        .attach_photo(visit, &photo(dir.path(), "endcap.jpg", 3), None)
        .unwrap();
    device
        .check_promotion(
            visit,
            "endcap",
            CheckStatus::NotInPlace,
            &[sha, sha],
            None,
            Some("gone"),
        )
        .unwrap();
    assert_eq!(
        running(),
        [
            ("ENDCAP".to_string(), Some(CheckStatus::NotInPlace)),
            ("NKA".to_string(), None)
        ]
    );
    let check = &device.visit(visit).unwrap().promotion_checks.unwrap()["ENDCAP"];
    assert_eq!((check.photos.clone(), check.by), (vec![sha], who.id));

    // An older server's page has no `promotions`: the ones held stay.
    let mut json = serde_json::to_value(master()).unwrap();
    json.as_object_mut().unwrap().remove("promotions");
    let older: MasterDataPage = serde_json::from_value(json).unwrap();
    device.import_master(&older).unwrap();
    assert_eq!(running().len(), 2);

    // A visit of schema 1 the server has not upgraded yet: no check until it has.
    let old_id = DocId::new_random();
    let mut old = Visit::new(old_id, store_id(), who.id, today());
    old.schema = 1;
    old.promotion_checks = None;
    let mut doc = new_document(automerge::ActorId::random());
    reconcile_visit(&mut doc, &old).unwrap();
    doc.commit();
    device
        .receive_document(old_id, DocKind::Visit, &doc.save())
        .unwrap();
    let err = device
        .check_promotion(old_id, "ENDCAP", CheckStatus::InPlace, &[], None, None)
        .unwrap_err();
    assert_eq!(err.reason(), "wrong_state", "{err}");

    // An empty list empties them.
    device
        .import_master(&MasterDataPage {
            promotions: Some(Vec::new()),
            ..master()
        })
        .unwrap();
    assert!(running().is_empty());
}
