//! A merchandiser and a rep edit the same visit offline at the same time; whatever order they
//! sync in, both devices, the server and a supervisor see one visit with every edit kept.

use fieldsync_client::{AuditInput, GeoFix};
use fieldsync_e2e::{photo_file, TestDevice, TestServer};
use fieldsync_shared::visit::{Visit, VisitStep};
use fieldsync_shared::{Date, DocId, Money, Timestamp};

enum First {
    Rep,
    Merchandiser,
}

fn today() -> Date {
    Timestamp::now().utc_date()
}

fn concurrent_edits_converge(first: First) {
    let server = TestServer::start();
    let rep = TestDevice::login(&server, "rep1");
    let merch = TestDevice::login(&server, "merch1");

    let store = rep
        .stores()
        .expect("stores")
        .into_iter()
        .next()
        .expect("a demo store");
    let products = rep.products().expect("products");
    assert!(products.len() >= 4, "demo data has products");

    // The rep plans and starts the visit, syncs; the merchandiser receives it.
    let visit = rep.start_visit(store.id, today()).expect("start visit");
    let at_store = GeoFix {
        lat: store.location.lat(),
        lon: store.location.lon(),
        accuracy_m: 8.0,
        mocked: false,
    };
    rep.check_in(visit, at_store, Timestamp::now())
        .expect("check in");
    rep.sync().expect("rep sync");
    merch.sync().expect("merch sync");
    assert_eq!(merch.visit(visit).expect("merch has the visit").id, visit);

    // Offline, concurrently: the merchandiser photographs and audits the shelf...
    let p1 = merch
        .attach_photo(
            visit,
            &photo_file(merch.dir.path(), "a.jpg", 3),
            Some(VisitStep::StoreCheck),
        )
        .expect("photo 1");
    let p2 = merch
        .attach_photo(
            visit,
            &photo_file(merch.dir.path(), "b.jpg", 7),
            Some(VisitStep::Merchandise),
        )
        .expect("photo 2");
    let line = |sku: &str, location: &str, facings: u32| AuditInput {
        sku: sku.to_string(),
        location: location.to_string(),
        facings,
        on_shelf: true,
        shelf_price: Some(Money(350)),
        oldest_production_date: None,
    };
    merch
        .record_audit_line(visit, line(products[0].sku.as_str(), "MAIN-SHELF", 6))
        .expect("merch audit 1");
    merch
        .record_audit_line(visit, line(products[1].sku.as_str(), "ENDCAP-1", 4))
        .expect("merch audit 2");
    merch
        .append_note(visit, "Endcap rebuilt to picture of success.")
        .expect("merch note");

    // ...while the rep audits other shelves and writes notes.
    rep.record_audit_line(visit, line(products[2].sku.as_str(), "MAIN-SHELF", 3))
        .expect("rep audit 1");
    rep.record_audit_line(visit, line(products[3].sku.as_str(), "BACKROOM", 0))
        .expect("rep audit 2");
    rep.record_step(visit, VisitStep::Greet, None)
        .expect("rep step");
    rep.append_note(visit, "Store manager asks for more facings.")
        .expect("rep note");

    match first {
        First::Rep => {
            rep.sync().expect("rep sync");
            merch.sync().expect("merch sync");
            rep.sync().expect("rep sync again");
        }
        First::Merchandiser => {
            merch.sync().expect("merch sync");
            rep.sync().expect("rep sync");
            merch.sync().expect("merch sync again");
        }
    }

    let on_rep = rep.visit(visit).expect("rep visit");
    let on_merch = merch.visit(visit).expect("merch visit");
    assert_eq!(on_rep, on_merch, "both devices hold the same visit");
    assert_eq!(
        rep.document_heads(visit).unwrap(),
        merch.document_heads(visit).unwrap(),
        "both devices hold the same history"
    );

    // Every edit is there.
    assert_eq!(
        on_rep.audit.len(),
        4,
        "four audit lines: {:?}",
        on_rep.audit.keys()
    );
    assert!(on_rep.photos.contains_key(&p1.to_hex()) && on_rep.photos.contains_key(&p2.to_hex()));
    assert!(on_rep.steps.contains_key(VisitStep::Greet.as_str()));
    assert!(on_rep.check_in.is_some());
    let notes = on_rep.notes_text();
    assert!(
        notes.contains("Endcap rebuilt") && notes.contains("more facings"),
        "notes: {notes}"
    );

    // The server's copy, as a supervisor querying it sees it, is the same visit.
    let sup_token = server.token("sup1");
    let served = server.get_json(&sup_token, &format!("/v1/visits/{visit}"));
    let served: Visit = serde_json::from_value(served["document"].clone()).expect("visit JSON");
    assert_eq!(served, on_rep, "the server's visit equals the devices'");

    // And a supervisor's device that syncs from scratch receives the identical history.
    let sup = TestDevice::login(&server, "sup1");
    assert_eq!(
        sup.document_heads(visit).unwrap(),
        rep.document_heads(visit).unwrap()
    );

    // The photos themselves reached the server and are downloadable by the supervisor.
    for p in [p1, p2] {
        let resp = fieldsync_e2e::http()
            .get(&format!("{}/v1/photos/{}", server.url, p.to_hex()))
            .header("Authorization", &format!("Bearer {sup_token}"))
            .call()
            .expect("photo GET");
        assert_eq!(resp.status(), 200, "photo {p} stored on the server");
    }
    let _: DocId = visit;
}

#[test]
fn concurrent_offline_edits_converge_when_rep_syncs_first() {
    concurrent_edits_converge(First::Rep);
}

#[test]
fn concurrent_offline_edits_converge_when_merchandiser_syncs_first() {
    concurrent_edits_converge(First::Merchandiser);
}
