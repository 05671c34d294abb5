//! A rule violation is refused on the device, before anything is committed, with a typed
//! error that names the rule; the document is left as it was.

use fieldsync_client::{DeviceError, GeoFix};
use fieldsync_e2e::{TestDevice, TestServer};
use fieldsync_shared::order::PaymentMethod;
use fieldsync_shared::rules::Finding;
use fieldsync_shared::Timestamp;

fn codes(err: DeviceError) -> Vec<String> {
    match err {
        DeviceError::Invalid { findings } => {
            findings.into_iter().map(|f: Finding| f.code).collect()
        }
        other => panic!("expected a rule violation, got {other:?}"),
    }
}

#[test]
fn an_order_line_with_quantity_zero_is_refused() {
    let server = TestServer::start();
    let rep = TestDevice::login(&server, "rep1");
    let store = rep.stores().unwrap()[0].clone();
    let product = rep.products().unwrap()[0].clone();
    let (order, _) = rep
        .create_order(
            store.id,
            Timestamp::now().utc_date().add_days(7),
            PaymentMethod::Cash,
            None,
        )
        .unwrap();
    let heads = rep.document_heads(order).unwrap();

    let err = rep
        .set_order_line(order, product.sku.as_str(), 0, None)
        .unwrap_err();
    assert_eq!(codes(err), vec!["quantity_zero".to_string()]);
    assert_eq!(
        rep.document_heads(order).unwrap(),
        heads,
        "nothing was committed"
    );
    assert!(rep.order(order).unwrap().lines.is_empty());
}

#[test]
fn checking_out_before_checking_in_is_refused() {
    let server = TestServer::start();
    let rep = TestDevice::login(&server, "rep1");
    let store = rep.stores().unwrap()[0].clone();
    let visit = rep
        .start_visit(store.id, Timestamp::now().utc_date())
        .unwrap();
    let fix = GeoFix {
        lat: store.location.lat(),
        lon: store.location.lon(),
        accuracy_m: 5.0,
        mocked: false,
    };

    // Not checked in at all.
    let err = rep.check_out(visit, fix, Timestamp::now()).unwrap_err();
    assert!(codes(err).contains(&"not_checked_in".to_string()));

    // Checked in, then a check-out stamped before the check-in.
    let check_in_at = Timestamp::now();
    rep.check_in(visit, fix, check_in_at).unwrap();
    let heads = rep.document_heads(visit).unwrap();
    let err = rep
        .check_out(visit, fix, Timestamp(check_in_at.millis() - 60_000))
        .unwrap_err();
    assert!(codes(err).contains(&"check_out_before_check_in".to_string()));
    assert_eq!(
        rep.document_heads(visit).unwrap(),
        heads,
        "nothing was committed"
    );
    assert!(rep.visit(visit).unwrap().check_out.is_none());
}

#[test]
fn a_check_in_outside_the_geofence_is_flagged_not_blocked() {
    let server = TestServer::start();
    let rep = TestDevice::login(&server, "rep1");
    let store = rep.stores().unwrap()[0].clone();
    let visit = rep
        .start_visit(store.id, Timestamp::now().utc_date())
        .unwrap();
    // ~1.1 km north of the store, with a mock provider.
    let far = GeoFix {
        lat: store.location.lat() + 0.01,
        lon: store.location.lon(),
        accuracy_m: 10.0,
        mocked: true,
    };
    let verdict = rep
        .check_in(visit, far, Timestamp::now())
        .expect("flagged, not blocked");
    let codes: Vec<_> = verdict.findings.iter().map(|f| f.code.as_str()).collect();
    assert!(
        codes.contains(&"outside_geofence") && codes.contains(&"mock_location"),
        "{codes:?}"
    );
    let v = rep.visit(visit).unwrap();
    assert!(
        v.check_in.as_ref().is_some_and(|c| c.mocked),
        "the fix is recorded with its mock flag"
    );
}
