//! Devices and servers lose state: an app is reinstalled, a phone replaced, a server restored
//! from an older backup. Syncing again brings every replica back to the same documents.

use fieldsync_client::GeoFix;
use fieldsync_e2e::{TestDevice, TestServer};
use fieldsync_shared::order::PaymentMethod;
use fieldsync_shared::visit::VisitStep;
use fieldsync_shared::Timestamp;

fn ids<T, I: Ord + Clone>(items: &[T], id: impl Fn(&T) -> I) -> Vec<I> {
    let mut v: Vec<I> = items.iter().map(id).collect();
    v.sort();
    v
}

#[test]
fn a_reinstalled_device_gets_everything_back() {
    let server = TestServer::start();
    let old = TestDevice::login(&server, "rep1");
    let stores = old.stores().unwrap();
    let today = Timestamp::now().utc_date();
    let mut visits = Vec::new();
    for store in stores.iter().take(3) {
        let v = old.start_visit(store.id, today).unwrap();
        old.record_step(v, VisitStep::Prepare, None).unwrap();
        old.append_note(v, &format!("Visit at {}", store.name))
            .unwrap();
        visits.push(v);
    }
    let sku = old.products().unwrap()[0].clone();
    for store in stores.iter().take(2) {
        let (o, _) = old
            .create_order(store.id, today.add_days(7), PaymentMethod::Cash, None)
            .unwrap();
        old.set_order_line(o, sku.sku.as_str(), sku.case_pack, None)
            .unwrap();
    }
    old.sync().unwrap();

    // The app is reinstalled: a new, empty data directory and therefore a new device and actor.
    let new = TestDevice::login(&server, "rep1");
    assert_ne!(new.device_id(), old.device_id());
    assert_eq!(
        ids(&new.visits().unwrap(), |v| v.id),
        ids(&old.visits().unwrap(), |v| v.id)
    );
    assert_eq!(
        ids(&new.orders().unwrap(), |o| o.id),
        ids(&old.orders().unwrap(), |o| o.id)
    );
    for v in &visits {
        assert_eq!(new.visit(*v).unwrap(), old.visit(*v).unwrap());
        assert_eq!(
            new.document_heads(*v).unwrap(),
            old.document_heads(*v).unwrap()
        );
    }

    // The new installation keeps working on the same documents, and the old one sees it.
    new.append_note(visits[0], " Follow-up on Friday.").unwrap();
    new.sync().unwrap();
    old.sync().unwrap();
    assert!(old
        .visit(visits[0])
        .unwrap()
        .notes_text()
        .contains("Follow-up on Friday."));
    assert_eq!(
        old.document_heads(visits[0]).unwrap(),
        new.document_heads(visits[0]).unwrap()
    );
}

#[test]
fn a_server_restored_from_an_older_backup_converges_with_devices() {
    let server = TestServer::start();
    let rep = TestDevice::login(&server, "rep1");
    let store = rep.stores().unwrap()[0].clone();
    let today = Timestamp::now().utc_date();
    let early = rep.start_visit(store.id, today).unwrap();
    rep.sync().unwrap();
    let backup = server.backup();

    // After the backup: more work reaches the server, which then dies and is restored.
    let fix = GeoFix {
        lat: store.location.lat(),
        lon: store.location.lon(),
        accuracy_m: 5.0,
        mocked: false,
    };
    rep.check_in(early, fix, Timestamp::now()).unwrap();
    let late = rep.start_visit(rep.stores().unwrap()[1].id, today).unwrap();
    rep.sync().unwrap();
    drop(server);

    let restored = TestServer::start_in(backup);
    let token = restored.token("sup1");
    let before = restored.get_json(&token, "/v1/visits");
    assert_eq!(
        before["items"].as_array().unwrap().len(),
        1,
        "the backup predates the second visit"
    );

    // The device syncs with the restored server: its cursor is unknown there, so it re-sends
    // what the server lacks and the server catches up.
    rep.login(
        &restored.url,
        fieldsync_e2e::DEMO_TENANT,
        "rep1",
        fieldsync_e2e::DEMO_PASSWORD,
    )
    .unwrap();
    rep.sync().unwrap();
    let after = restored.get_json(&token, "/v1/visits");
    assert_eq!(
        after["items"].as_array().unwrap().len(),
        2,
        "both visits are back: {after}"
    );
    let served = restored.get_json(&token, &format!("/v1/visits/{early}"));
    assert!(
        served["document"]["check_in"].is_object(),
        "the check-in made after the backup is back"
    );
    let _ = late;

    // A fresh device sees exactly what the rep's device has.
    let sup = TestDevice::login(&restored, "sup1");
    for v in [early, late] {
        assert_eq!(
            sup.document_heads(v).unwrap(),
            rep.document_heads(v).unwrap()
        );
    }
}
