//! Near-duplicate photos (docs/photo-uploads.md): a rep attaches a shelf photo to a visit of
//! one store, and a brightened copy of it to a visit of another store; a third visit gets a
//! photo of a different shelf of the same chain. Once the photos are uploaded, the server has
//! hashed their thumbnails, finds the copy's original on the other store's visit and has
//! flagged the copy's visit (`photo_near_duplicate`, with the evidence), and finds no
//! near-duplicate of the different shelf.

use fieldsync_client::GeoFix;
use fieldsync_e2e::{write_file, TestDevice, TestServer};
use fieldsync_server::demo::demo_tenant_id;
use fieldsync_server::photos::similarity::near_duplicates::{of_visit_photo, NearDuplicate};
use fieldsync_server::photos::similarity::synthetic_shelves::{
    edited, photo_bytes, shelf, Edit, Rng, Style,
};
use fieldsync_server::photos::similarity::NEAR_DUPLICATE_DISTANCE;
use fieldsync_shared::visit::VisitStep;
use fieldsync_shared::{Sha256, Timestamp};

#[test]
fn a_reused_shelf_photo_is_found_on_another_stores_visit() {
    let server = TestServer::start();
    let rep = TestDevice::login(&server, "rep1");
    let stores = rep.stores().unwrap();
    let today = Timestamp::now().utc_date();

    let style = Style::new(3);
    let original = photo_bytes(&shelf(&style, 1));
    let copy = edited(&original, Edit::Brighten(1.2), &mut Rng::new(2));
    let other_shelf = photo_bytes(&shelf(&style, 4));
    let mut visits = Vec::new();
    for (i, (bytes, store)) in [
        (&original, &stores[0]),
        (&copy, &stores[1]),
        (&other_shelf, &stores[1]),
    ]
    .into_iter()
    .enumerate()
    {
        let visit = rep.start_visit(store.id, today).unwrap();
        let at = GeoFix {
            lat: store.location.lat(),
            lon: store.location.lon(),
            accuracy_m: 6.0,
            mocked: false,
        };
        // Visits of one day must not overlap.
        let start = Timestamp(Timestamp::now().millis() - (3 - i as i64) * 600_000);
        rep.check_in(visit, at, start).unwrap();
        let file = write_file(rep.dir.path(), &format!("shelf-{i}.jpg"), bytes);
        rep.attach_photo(visit, &file, Some(VisitStep::Merchandise))
            .unwrap();
        visits.push((visit, Sha256::digest(bytes)));
    }
    rep.sync().expect("sync documents and photos");

    let tenant = demo_tenant_id();
    let state = server.state();
    let near_duplicates_of = |sha: Sha256| -> Vec<NearDuplicate> {
        server.block_on(async {
            let visit = state.store.visits_with_photo(tenant, &sha).await.unwrap();
            assert_eq!(visit.len(), 1, "one visit references the photo");
            of_visit_photo(state, tenant, &visit[0], &sha)
                .await
                .unwrap()
        })
    };

    let found = near_duplicates_of(visits[1].1);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].sha256, visits[0].1);
    assert_eq!(found[0].visit, visits[0].0);
    assert_eq!(found[0].store_id, stores[0].id);
    assert_eq!(found[0].date, today);
    assert!(found[0].distance <= NEAR_DUPLICATE_DISTANCE);
    // And the other way round: the original has a copy elsewhere.
    assert_eq!(near_duplicates_of(visits[0].1).len(), 1);
    // A different shelf of the same chain is no near-duplicate.
    assert_eq!(near_duplicates_of(visits[2].1), vec![]);

    // The copy arrived after the original (photos are uploaded oldest first): its visit is
    // flagged, with the evidence; the other shelf's visit is not.
    let flags_of = |visit| {
        server
            .block_on(state.store.findings_of(tenant, &[visit]))
            .unwrap()
            .into_iter()
            .filter(|f| f.code == "photo_near_duplicate")
            .collect::<Vec<_>>()
    };
    let flags = flags_of(visits[1].0);
    assert_eq!(flags.len(), 1, "{flags:?}");
    let evidence = &flags[0].inputs;
    assert_eq!(evidence["photo"], visits[1].1.to_hex());
    assert_eq!(evidence["other_photo"], visits[0].1.to_hex());
    assert_eq!(evidence["other_visit"], visits[0].0.to_string());
    assert_eq!(evidence["other_store"], stores[0].id.to_string());
    assert_eq!(evidence["other_date"], today.to_string());
    assert!(evidence["distance"].as_u64().unwrap() <= u64::from(NEAR_DUPLICATE_DISTANCE));
    assert!(!flags[0].doc_heads.is_empty());
    assert!(flags_of(visits[2].0).is_empty());
}
