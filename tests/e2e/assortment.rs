//! The must-carry range end to end (docs/assortment.md): a CSV import with refused rows naming
//! row and column, then a good one; the range reaches the devices of the store's territory
//! only; offline, the device shows the expected and missing SKUs of a visit, and the findings
//! its submitted visit records are the server's findings for that visit (flagged, not held).
//! On both engines.

use fieldsync_client::{AuditInput, VisitStatus, VisitStep};
use fieldsync_e2e::{photo_file, TestDevice, TestServer};
use fieldsync_server::demo::demo_store_id;
use fieldsync_shared::Timestamp;
use serde_json::Value;

use crate::verdicts::start;
use crate::write_policies::at;

fn import(server: &TestServer, csv: &str) -> (u16, Value) {
    import_kind(server, "assortment", csv)
}

/// NKA-001 (rep1's territory) carries COLA-330 (48 held) and TEA-500; every NKA store
/// COLA-330 (12) and COLA-500 (12); Walmart's NKA stores COLA-1250 (6); LKA-001 (rep2's)
/// JUICE-APPLE-450; every LKA store WATER-550.
const RANGE: &str = "store_code,chain,channel,sku,safety_stock
NKA-001,,,COLA-330,48
NKA-001,,,TEA-500,
,,nka,COLA-330,12
,,nka,COLA-500,12
,Walmart,nka,COLA-1250,6
LKA-001,,,JUICE-APPLE-450,
,,LKA,WATER-550,
";

/// NKA-001 as in the demo, with its chain.
const WALMART: &str = "code,name,channel,grade,address,lat,lon,geofence_radius_m,delivery_lead_days,chain
NKA-001,沃尔玛 光谷店 Walmart Guanggu,nka,A,\"洪山区 珞喻路 889号 / 889 Luoyu Rd, Hongshan, 武汉 Wuhan\",30.5028,114.2175,200,3,Walmart
";

fn import_kind(server: &TestServer, kind: &str, csv: &str) -> (u16, Value) {
    let mut resp = fieldsync_e2e::http()
        .post(&format!("{}/v1/admin/import/{kind}", server.url))
        .header(
            "Authorization",
            &format!("Bearer {}", server.token("admin")),
        )
        .header("Content-Type", "text/csv")
        .send(csv.as_bytes())
        .expect("import");
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_json().unwrap_or(Value::Null))
}

/// The assortment rows of the user's master page, as `scope sku` strings, sorted.
fn delivered(server: &TestServer, user: &str) -> Vec<String> {
    let page = server.get_json(&server.token(user), "/v1/master");
    let mut rows: Vec<String> = page["assortment"]
        .as_array()
        .unwrap_or_else(|| panic!("no assortment in {page}"))
        .iter()
        .map(|r| {
            let scope = match (
                &r["scope"]["store"],
                &r["scope"]["chain"],
                &r["scope"]["channel"],
            ) {
                (Value::String(id), _, _) => format!("store:{id}"),
                (_, Value::Object(c), _) => format!("chain:{}/{}", c["chain"], c["channel"]),
                (_, _, Value::String(c)) => format!("channel:{c}"),
                _ => panic!("scope of {r}"),
            };
            format!("{scope} {}", r["sku"].as_str().unwrap())
        })
        .collect();
    rows.sort();
    rows
}

fn a_bad_file_is_refused_and_a_good_one_reaches_the_stores_territory(postgres: bool) {
    let (server, _db) = start(postgres);
    let bad = "store_code,chain,channel,sku,safety_stock
NKA-001,,,COLA-330,48
NKA-999,,,COLA-330,
,,,TEA-500,
NKA-001,,nka,COLA-500,
NKA-001,,,NO-SUCH-SKU,
NKA-001,,,COLA-500,-3
NKA-001,,,COLA-330,
,,kiosk,COLA-330,
,Walmart,,COLA-330,
NKA-001,Walmart,,COLA-500,
";
    let (status, body) = import(&server, bad);
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["reason"], "invalid_rows");
    let refused: Vec<(u64, &str)> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_u64().unwrap(), e["column"].as_str().unwrap()))
        .collect();
    assert_eq!(
        refused,
        [
            (3, "store_code"),
            (4, "store_code"),
            (5, "channel"),
            (6, "sku"),
            (7, "safety_stock"),
            (8, "sku"),
            (9, "channel"),
            (10, "channel"),
            (11, "chain"),
        ],
        "{body}"
    );
    // Nothing of it was stored: the first page has no range.
    assert_eq!(delivered(&server, "rep1"), Vec::<String>::new());

    // NKA-001 is a Walmart store.
    let (status, body) = import_kind(&server, "stores", WALMART);
    assert_eq!((status, &body["updated"]), (200, &Value::from(1)), "{body}");
    let (status, body) = import(&server, RANGE);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (
            &body["kind"],
            &body["rows"],
            &body["created"],
            &body["updated"]
        ),
        (
            &Value::from("assortment"),
            &Value::from(7),
            &Value::from(7),
            &Value::from(0)
        )
    );

    let nka = format!("store:{}", demo_store_id("NKA-001"));
    let lka = format!("store:{}", demo_store_id("LKA-001"));
    let channels = [
        "chain:\"Walmart\"/\"nka\" COLA-1250",
        "channel:lka WATER-550",
        "channel:nka COLA-330",
        "channel:nka COLA-500",
    ];
    // rep1 sees NKA-001, not LKA-001: its store rows only, and the channels'.
    let mut rep1: Vec<String> = channels.iter().map(|s| s.to_string()).collect();
    rep1.extend([format!("{nka} COLA-330"), format!("{nka} TEA-500")]);
    rep1.sort();
    assert_eq!(delivered(&server, "rep1"), rep1);
    let mut rep2: Vec<String> = channels.iter().map(|s| s.to_string()).collect();
    rep2.push(format!("{lka} JUICE-APPLE-450"));
    rep2.sort();
    assert_eq!(delivered(&server, "rep2"), rep2);

    // A device pulls it with its master data: rep1's visit of NKA-001 expects the store's
    // rows, its chain's and its channel's, the store's safety stock before the channel's.
    let rep = TestDevice::login(&server, "rep1");
    let store = rep.store_by_code("NKA-001").unwrap();
    let visit = rep
        .start_visit(store.id, Timestamp::now().utc_date())
        .unwrap();
    let expected: Vec<(String, Option<u32>, bool)> = rep
        .expected_range(visit)
        .unwrap()
        .into_iter()
        .map(|e| (e.sku.to_string(), e.safety_stock, e.on_shelf))
        .collect();
    assert_eq!(
        expected,
        [
            ("COLA-1250".to_string(), Some(6), false),
            ("COLA-330".to_string(), Some(48), false),
            ("COLA-500".to_string(), Some(12), false),
            ("TEA-500".to_string(), None, false),
        ]
    );
    // Another NKA store, of no chain: the channel's rows only.
    let nka2 = rep.store_by_code("NKA-002").unwrap();
    let second = rep
        .start_visit(nka2.id, Timestamp::now().utc_date())
        .unwrap();
    let skus: Vec<String> = rep
        .expected_range(second)
        .unwrap()
        .into_iter()
        .map(|e| e.sku.to_string())
        .collect();
    assert_eq!(skus, ["COLA-330", "COLA-500"]);
    // A visit of an RKA store has no range.
    let rka = rep.store_by_code("RKA-001").unwrap();
    let other = rep
        .start_visit(rka.id, Timestamp::now().utc_date())
        .unwrap();
    assert!(rep.expected_range(other).unwrap().is_empty());

    // Importing the file again updates every row; a file with the header alone empties the
    // range, and the device drops it at its next sync.
    let (status, body) = import(&server, RANGE);
    assert_eq!((status, &body["updated"]), (200, &Value::from(7)), "{body}");
    let (status, body) = import(&server, "store_code,channel,sku,safety_stock\n");
    assert_eq!(status, 200, "{body}");
    rep.sync().expect("sync");
    assert!(rep.expected_range(visit).unwrap().is_empty());
}

fn offline_the_device_shows_what_is_missing_and_its_findings_are_the_servers(postgres: bool) {
    let (server, _db) = start(postgres);
    let (status, body) = import(&server, RANGE);
    assert_eq!(status, 200, "{body}");
    let rep = TestDevice::login(&server, "rep1");
    let store = rep.store_by_code("NKA-001").unwrap();

    // From here until the sync the device works alone.
    let visit = rep
        .start_visit(store.id, Timestamp::now().utc_date())
        .unwrap();
    rep.check_in(visit, at(&store), Timestamp::now()).unwrap();
    let line = |sku: &str, location: &str, facings: u32| AuditInput {
        sku: sku.into(),
        location: location.into(),
        facings,
        on_shelf: facings > 0,
        shelf_price: None,
        oldest_production_date: None,
    };
    rep.record_audit_line(visit, line("COLA-330", "MAIN-SHELF", 4))
        .unwrap();
    rep.record_audit_line(visit, line("COLA-330", "END-CAP", 2))
        .unwrap();
    rep.record_audit_line(visit, line("TEA-500", "MAIN-SHELF", 0))
        .unwrap();
    // Not in the range: present, and no concern of the rule.
    rep.record_audit_line(visit, line("WATER-550", "MAIN-SHELF", 3))
        .unwrap();
    let shown: Vec<(String, String, bool, u32)> = rep
        .expected_range(visit)
        .unwrap()
        .into_iter()
        .map(|e| (e.sku.to_string(), e.name, e.on_shelf, e.facings))
        .collect();
    assert_eq!(
        shown,
        [
            ("COLA-330".into(), "可乐 Cola 330ml can".into(), true, 6),
            ("COLA-500".into(), "可乐 Cola 500ml PET".into(), false, 0),
            (
                "TEA-500".into(),
                "冰红茶 Iced lemon tea 500ml".into(),
                false,
                0
            ),
        ]
    );

    for step in VisitStep::ALL {
        rep.record_step(visit, *step, None).unwrap();
    }
    rep.attach_photo(
        visit,
        &photo_file(rep.dir.path(), "shelf.jpg", 11),
        Some(VisitStep::Merchandise),
    )
    .unwrap();
    rep.check_out(visit, at(&store), Timestamp::now()).unwrap();
    rep.submit_visit(visit).unwrap();
    let recorded: Vec<(String, String, String)> = rep
        .visit(visit)
        .unwrap()
        .findings
        .into_iter()
        .filter(|f| f.rule == "assortment")
        .map(|f| (f.code, f.field.unwrap_or_default(), f.message))
        .collect();
    assert_eq!(
        recorded
            .iter()
            .map(|(c, f, _)| (c.as_str(), f.as_str()))
            .collect::<Vec<_>>(),
        [
            ("assortment_missing", "assortment.COLA-500"),
            ("assortment_missing", "assortment.TEA-500")
        ]
    );

    let report = rep.sync().expect("sync");
    assert!(
        report.refused_edits.is_empty(),
        "{:?}",
        report.refused_edits
    );
    let item = server.get_json(&server.token("sup1"), &format!("/v1/visits/{visit}"));
    assert_eq!(
        item["document"]["status"], "submitted",
        "flagged, never held"
    );
    let mut judged: Vec<(String, String, String)> = item["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "assortment")
        .map(|f| {
            assert_eq!(
                (&f["severity"], &f["outcome"]),
                (&Value::from("flag"), &Value::from("flagged")),
                "{f}"
            );
            (
                f["code"].as_str().unwrap().to_string(),
                f["field"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    judged.sort();
    assert_eq!(judged, recorded, "the phone's findings are the server's");
    assert_eq!(rep.visit(visit).unwrap().status, VisitStatus::Submitted);
    // The listing filters by the flag.
    let flagged: Vec<String> = server
        .get_json(&server.token("sup1"), "/v1/visits?flag=assortment_missing")["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(flagged, [visit.to_string()]);
}

#[test]
fn a_bad_file_is_refused_and_a_good_one_reaches_the_stores_territory_sqlite() {
    a_bad_file_is_refused_and_a_good_one_reaches_the_stores_territory(false);
}

#[test]
fn a_bad_file_is_refused_and_a_good_one_reaches_the_stores_territory_postgres() {
    a_bad_file_is_refused_and_a_good_one_reaches_the_stores_territory(true);
}

#[test]
fn offline_the_device_shows_what_is_missing_and_its_findings_are_the_servers_sqlite() {
    offline_the_device_shows_what_is_missing_and_its_findings_are_the_servers(false);
}

#[test]
fn offline_the_device_shows_what_is_missing_and_its_findings_are_the_servers_postgres() {
    offline_the_device_shows_what_is_missing_and_its_findings_are_the_servers(true);
}

/// The suggested order (docs/assortment.md): offline, the rep counts stock at NKA-001 (COLA-330
/// held 48 and sold by the case of 24; COLA-500 held 12, sold in units; TEA-500 no safety
/// stock), reads the suggestion, recounts one product, and makes the suggestion a draft order
/// to edit. After the sync the server holds the counts and the order.
fn counted_stock_suggests_an_order_the_rep_edits(postgres: bool) {
    let (server, _db) = start(postgres);
    let (status, body) = import(&server, RANGE);
    assert_eq!(status, 200, "{body}");
    let rep = TestDevice::login(&server, "rep1");
    let store = rep.store_by_code("NKA-001").unwrap();
    let today = Timestamp::now().utc_date();
    let visit = rep.start_visit(store.id, today).unwrap();

    assert!(
        rep.suggested_order(visit).unwrap().is_empty(),
        "nothing counted"
    );
    rep.record_stock_count(visit, "COLA-330", 10, 5).unwrap();
    rep.record_stock_count(visit, "COLA-500", 4, 2).unwrap();
    rep.record_stock_count(visit, "TEA-500", 0, 0).unwrap();
    let suggested = |rep: &TestDevice| -> Vec<(String, u32, u32, u32)> {
        rep.suggested_order(visit)
            .unwrap()
            .into_iter()
            .map(|l| (l.sku.to_string(), l.safety_stock, l.on_hand, l.quantity))
            .collect()
    };
    assert_eq!(
        suggested(&rep),
        [
            // 33 short: two cases of 24.
            ("COLA-330".to_string(), 48, 15, 48),
            ("COLA-500".to_string(), 12, 6, 6),
        ]
    );
    // Counting again replaces the count: 40 on hand, 8 short, one case.
    rep.record_stock_count(visit, "COLA-330", 30, 10).unwrap();
    assert_eq!(suggested(&rep)[0], ("COLA-330".to_string(), 48, 40, 24));
    assert_eq!(rep.stock_counts(visit).unwrap().len(), 3);

    let delivery = today.add_days(i64::from(store.delivery_lead_days) + 1);
    let (order, _) = rep
        .create_suggested_order(visit, delivery, fieldsync_client::PaymentMethod::Cash)
        .unwrap();
    let lines: Vec<(String, u32)> = rep
        .order(order)
        .unwrap()
        .lines
        .values()
        .map(|l| (l.sku.to_string(), l.quantity))
        .collect();
    assert_eq!(
        lines,
        [("COLA-330".to_string(), 24), ("COLA-500".to_string(), 6)]
    );
    assert_eq!(rep.order(order).unwrap().visit_id, Some(visit));
    // The rep edits the pre-filled order like any other.
    rep.set_order_line(order, "COLA-500", 12, None).unwrap();

    let report = rep.sync().expect("sync");
    assert!(report.refused.is_empty(), "{:?}", report.refused);
    let sup = server.token("sup1");
    let item = server.get_json(&sup, &format!("/v1/visits/{visit}"));
    let counts = &item["document"]["stock_counts"];
    assert_eq!(counts["COLA-330"]["shelf_units"], 30, "{counts}");
    assert_eq!(counts["COLA-330"]["backroom_units"], 10, "{counts}");
    assert_eq!(counts.as_object().unwrap().len(), 3, "{counts}");
    let order = server.get_json(&sup, &format!("/v1/orders/{order}"));
    assert_eq!(
        order["document"]["lines"]["COLA-500"]["quantity"], 12,
        "{order}"
    );

    // Nothing below safety stock any more: no order to make.
    rep.record_stock_count(visit, "COLA-330", 48, 0).unwrap();
    rep.record_stock_count(visit, "COLA-500", 12, 0).unwrap();
    let err = rep
        .create_suggested_order(visit, delivery, fieldsync_client::PaymentMethod::Cash)
        .unwrap_err();
    assert_eq!(err.reason(), "wrong_state", "{err}");
}

#[test]
fn counted_stock_suggests_an_order_the_rep_edits_sqlite() {
    counted_stock_suggests_an_order_the_rep_edits(false);
}

#[test]
fn counted_stock_suggests_an_order_the_rep_edits_postgres() {
    counted_stock_suggests_an_order_the_rep_edits(true);
}
