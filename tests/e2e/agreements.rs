//! The annual agreement self-check (docs/agreements.md) on SQLite and on PostgreSQL
//! (`_postgres`): a bad agreements file refused with row and column; a Walmart NKA chain
//! agreement whose visits (raw pushes of submitted visits of rep1) recorded displays in place
//! in 3 weeks and 1 promotion, checked on 31 March 2025 (90 of 365 days) in the report's JSON,
//! CSV and XLSX; read scopes (rep, supervisor, another team's supervisor, admin); a re-import
//! replacing the year's agreements; bad and unknown years.
//!
//! Stores: NKA-001 and NKA-002 of Walmart (nka, rep1's), LKA-001 (rep2's), OTH-099 (a new store
//! in no territory: no team's).
//! Promotions running all 2025: ENDCAP (endcap, Walmart nka), CUT (price cut, Walmart nka),
//! GIFT (gift, every nka store).
//!
//! | day (ISO week)   | store   | audit          | checks                        |
//! |------------------|---------|----------------|-------------------------------|
//! | 2025-01-06 (W02) | NKA-001 | COLA 4, TEA 2  | ENDCAP in place               |
//! | 2025-01-08 (W02) | NKA-002 |                | ENDCAP partly                 |
//! | 2025-02-03 (W06) | NKA-002 | COLA 3, TEA 0  | ENDCAP in place, CUT in place |
//! | 2025-03-03 (W10) | NKA-001 | COLA 5, TEA 1  | ENDCAP in place, GIFT not     |
//! | 2025-04-07 (W15) | NKA-001 |                | ENDCAP in place (after the day) |
//!
//! WALMART-2025: listing COLA-330 and TEA-500 for 2 000.00: the latest audits show 2 + 1 of
//! 4, a mean of 1.5, behind, 500.00 at risk. Display 20 weeks for 3 650.00: W02, W06, W10 =
//! 3 against 20 × 90/365 = 4.93, behind, 365 000 × (3 600 − 2 190) / 14 600 = 35 250 (352.50)
//! at risk. Promotions 2 for 1 000.00: CUT = 1 against 0.49, on track. LKA-2025 (LKA-001, 4
//! display weeks, 400.00): nothing recorded, 40 000 × 720 / 2 920 = 9 863 (98.63) at risk.

use automerge::AutoCommit;
use serde_json::{json, Value};

use fieldsync_e2e::{http, DeviceToken, TestDevice, TestServer};
use fieldsync_server::reports::format::XLSX_TYPE;
use fieldsync_shared::document::{
    hydrate_visit, load_document, new_document, reconcile_visit, DocKind,
};
use fieldsync_shared::master::Store;
use fieldsync_shared::promotion::{CheckStatus, PromotionCheck};
use fieldsync_shared::protocol::PushResult;
use fieldsync_shared::visit::{AuditLine, Visit, VisitStatus};
use fieldsync_shared::{Date, DocId, ShelfLocation, Sku, Timestamp};

use crate::console_reports::read_workbook;
use crate::verdicts::start;
use crate::write_policies::{push_raw, submitted_visit};

fn post_csv(server: &TestServer, kind: &str, csv: &str) -> (u16, Value) {
    let mut resp = http()
        .post(&format!("{}/v1/admin/import/{kind}", server.url))
        .header(
            "Authorization",
            &format!("Bearer {}", server.token("admin")),
        )
        .header("Content-Type", "text/csv")
        .send(csv.as_bytes())
        .expect("import");
    let status = resp.status().as_u16();
    let body = resp.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

fn import(server: &TestServer, kind: &str, csv: &str) -> Value {
    let (status, body) = post_csv(server, kind, csv);
    assert_eq!(status, 200, "{kind}: {body}");
    body
}

/// The demo's stores file line of `code`, with a chain.
fn store_line(code: &str, chain: &str) -> String {
    let demo = include_str!("../../server/demo/stores.csv");
    let line = demo
        .lines()
        .find(|l| l.starts_with(&format!("{code},")))
        .expect("a demo store");
    format!("{line},{chain}\n")
}

const AGREEMENTS: &str = "code,title,year,store_code,chain,channel,listed_skus,listing_fee,display_weeks,display_fee,shelf_position_weeks,shelf_position_fee,promotions,promotion_fee
WALMART-2025,沃尔玛 2025 Walmart,2025,,Walmart,nka,COLA-330;TEA-500,2000.00,20,3650.00,,,2,1000.00
LKA-2025,LKA-001 2025,2025,LKA-001,,,,,4,400.00,,,,
OTH-2025,OTH-099 2025,2025,OTH-099,,,,,,,,,1,100.00
";

/// A submitted visit of `store` on `day` with an audit (SKU, facings) and promotion checks,
/// pushed whole by rep1's raw client.
fn visit(
    server: &TestServer,
    (raw, template): (&DeviceToken, &Visit),
    store: &Store,
    day: &str,
    lines: &[(&str, u32)],
    checks: &[(&str, CheckStatus)],
) {
    let mut v: Visit = serde_json::from_value(serde_json::to_value(template).unwrap()).unwrap();
    v.id = DocId::new_random();
    v.store_id = store.id;
    v.planned_date = Date::parse(day).unwrap();
    v.status = VisitStatus::Submitted;
    v.photos.clear();
    v.audit.clear();
    for (i, (sku, facings)) in lines.iter().enumerate() {
        let line = AuditLine {
            sku: Sku::parse(sku).unwrap(),
            location: ShelfLocation::parse("MAIN").unwrap(),
            facings: *facings,
            on_shelf: *facings > 0,
            shelf_price: None,
            oldest_production_date: None,
            recorded_by: v.person_id,
            recorded_at: Timestamp(1_000 + i as i64),
        };
        v.audit.insert(line.key(), line);
    }
    let mut map = std::collections::BTreeMap::new();
    for (code, status) in checks {
        map.insert(
            code.to_string(),
            PromotionCheck {
                status: *status,
                photos: Vec::new(),
                seen_price: None,
                note: None,
                by: v.person_id,
                at: Timestamp(2_000),
            },
        );
    }
    v.promotion_checks = Some(map);
    let mut doc: AutoCommit = new_document(raw.actor.clone());
    reconcile_visit(&mut doc, &v).expect("reconcile");
    doc.commit();
    let changes = doc
        .get_changes(&[])
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    let resp = push_raw(server, raw, v.id, DocKind::Visit, changes);
    assert!(
        matches!(resp.outcomes[0].result, PushResult::Stored { .. }),
        "{:?}",
        resp.outcomes
    );
}

pub(crate) fn seed(server: &TestServer) {
    let header =
        "code,name,channel,grade,address,lat,lon,geofence_radius_m,delivery_lead_days,chain\n";
    let stores = format!(
        "{header}{}{}OTH-099,无团队 No team,other,C,1 Nowhere Rd,30.5,114.3,200,3,\n",
        store_line("NKA-001", "Walmart"),
        store_line("NKA-002", "Walmart"),
    );
    import(server, "stores", &stores);
    import(
        server,
        "promotions",
        "code,title,from,to,store_code,chain,channel,skus,mechanic,promotion_price,fee\n\
         ENDCAP,Endcap,2025-01-01,2025-12-31,,Walmart,nka,COLA-330,endcap,,\n\
         CUT,Cut,2025-01-01,2025-12-31,,Walmart,nka,COLA-330,price_cut,2.50,\n\
         GIFT,Gift,2025-01-01,2025-12-31,,,nka,TEA-500,gift,,\n",
    );
    let report = import(server, "agreements", AGREEMENTS);
    assert_eq!(
        (&report["rows"], &report["created"]),
        (&json!(3), &json!(3))
    );
    let rep1 = TestDevice::login(server, "rep1");
    rep1.sync().unwrap();
    let raw = server.device_token("rep1");
    let store = |code: &str| rep1.store_by_code(code).expect("store");
    let (n1, n2) = (store("NKA-001"), store("NKA-002"));
    let id = submitted_visit(&rep1, &n1);
    let t = hydrate_visit(&load_document(&rep1.document_save(id).unwrap()).unwrap()).unwrap();
    let t = (&raw, &t);
    use CheckStatus::*;
    let both = [("COLA-330", 4), ("TEA-500", 2)];
    visit(server, t, &n1, "2025-01-06", &both, &[("ENDCAP", InPlace)]);
    visit(server, t, &n2, "2025-01-08", &[], &[("ENDCAP", Partly)]);
    visit(
        server,
        t,
        &n2,
        "2025-02-03",
        &[("COLA-330", 3), ("TEA-500", 0)],
        &[("ENDCAP", InPlace), ("CUT", InPlace)],
    );
    visit(
        server,
        t,
        &n1,
        "2025-03-03",
        &[("COLA-330", 5), ("TEA-500", 1)],
        &[("ENDCAP", InPlace), ("GIFT", NotInPlace)],
    );
    visit(server, t, &n1, "2025-04-07", &[], &[("ENDCAP", InPlace)]);
}

fn get(server: &TestServer, user: &str, query: &str) -> (u16, String, Vec<u8>) {
    let mut resp = http()
        .get(&format!("{}/v1/reports/agreements?{query}", server.url))
        .header("Authorization", &format!("Bearer {}", server.token(user)))
        .call()
        .expect("request");
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status, content_type, resp.body_mut().read_to_vec().unwrap())
}

fn report(server: &TestServer, user: &str, query: &str) -> Value {
    let (status, _, body) = get(server, user, query);
    let body = String::from_utf8(body).unwrap();
    assert_eq!(status, 200, "{query}: {body}");
    serde_json::from_str(&body).unwrap()
}

fn codes(report: &Value) -> Vec<&str> {
    report["agreements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect()
}

fn agreement<'a>(report: &'a Value, code: &str) -> &'a Value {
    report["agreements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["code"] == code)
        .unwrap_or_else(|| panic!("{code} in {report}"))
}

/// A term's figures: agreed, recorded, expected, recorded_bp, expected_bp, status, fee, at risk.
fn term(agreement: &Value, name: &str) -> Value {
    let t = agreement["terms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["term"] == name)
        .unwrap_or_else(|| panic!("{name} in {agreement}"));
    json!([
        t["agreed"],
        t["recorded"],
        t["expected"],
        t["recorded_bp"],
        t["expected_bp"],
        t["status"],
        t["fee"],
        t["fee_at_risk"]
    ])
}

fn refused_rows(server: &TestServer) {
    let bad = "code,title,year,store_code,chain,channel,listed_skus,listing_fee,display_weeks,display_fee,shelf_position_weeks,shelf_position_fee,promotions,promotion_fee
OK-1,Good,2025,NKA-001,,,COLA-330,10.00,,,,,,
BAD YEAR,Bad,20x6,NKA-001,,,,,2,,,,,
NOSTORE,Bad,2025,NKA-999,,,,,2,,,,,
CHANNEL,Bad,2025,,,nka,,,2,,,,,
FEE,Bad,2025,NKA-001,,,,,,,,5.00,1,
NOTERM,Bad,2025,NKA-001,,,,,,,,,,
SKU,Bad,2025,NKA-001,,,NOPE-1,,,,,,,
WEEKS,Bad,2025,NKA-001,,,,,60,,0,,,
OK-1,Again,2025,NKA-002,,,,,1,,,,,
NEG,Bad,2025,NKA-001,,,,,1,-1.00,,,,
";
    let (status, body) = post_csv(server, "agreements", bad);
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["reason"], "invalid_rows");
    let errors: Vec<(u64, String)> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap(),
                e["column"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected: Vec<(u64, String)> = [
        (3, "code"),
        (3, "year"),
        (4, "store_code"),
        (5, "chain"),
        (6, "shelf_position_fee"),
        (7, "listed_skus"),
        (8, "listed_skus"),
        (9, "display_weeks"),
        (9, "shelf_position_weeks"),
        (10, "code"),
        (11, "display_fee"),
    ]
    .iter()
    .map(|(r, c)| (*r, c.to_string()))
    .collect();
    assert_eq!(errors, expected, "{body}");
    // Nothing stored: the year is still unknown.
    let (status, _, body) = get(server, "admin", "year=2025&on=2025-03-31");
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((status, &body["reason"]), (422, &json!("unknown_year")));
}

fn known_answers(postgres: bool) {
    let (server, _db) = start(postgres);
    refused_rows(&server);
    seed(&server);
    let query = "year=2025&on=2025-03-31";

    let sup = report(&server, "sup1", query);
    assert_eq!(
        (&sup["year"], &sup["day"]),
        (&json!(2025), &json!("2025-03-31"))
    );
    assert_eq!(
        codes(&sup),
        ["LKA-2025", "WALMART-2025"],
        "not OTH-099's: {sup}"
    );
    let w = agreement(&sup, "WALMART-2025");
    assert_eq!(
        json!([
            w["scope"],
            w["chain"],
            w["channel"],
            w["store_codes"],
            w["stores_total"]
        ]),
        json!(["chain", "Walmart", "nka", ["NKA-001", "NKA-002"], 2])
    );
    assert_eq!(
        json!([
            w["days_elapsed"],
            w["days_in_year"],
            w["stores_audited"],
            w["visits"]
        ]),
        json!([90, 365, 2, 4]),
        "the visit after the day does not count"
    );
    assert_eq!(
        term(w, "listing"),
        json!([2, 1.5, 2.0, 7500, 10000, "behind", 200_000, 50_000])
    );
    assert_eq!(
        term(w, "display_weeks"),
        json!([20, 3.0, 4.93, 1500, 2465, "behind", 365_000, 35_250])
    );
    assert_eq!(
        term(w, "promotions"),
        json!([2, 1.0, 0.49, 5000, 2465, "on_track", 100_000, 0])
    );
    assert_eq!(
        w["terms"].as_array().unwrap().len(),
        3,
        "no shelf term agreed"
    );
    assert_eq!(
        (&w["fee"], &w["fee_at_risk"]),
        (&json!(665_000), &json!(85_250))
    );
    let l = agreement(&sup, "LKA-2025");
    assert_eq!(
        json!([l["scope"], l["store_code"], l["chain"]]),
        json!(["store", "LKA-001", null])
    );
    assert_eq!(
        term(l, "display_weeks"),
        json!([4, 0.0, 0.98, 0, 2465, "not_recorded", 40_000, 9_863])
    );

    // Read scopes: the manager as the supervisor; the admin every agreement; rep1 its
    // stores' and rep2 its; another team's supervisor none (the year is known: an empty list).
    assert_eq!(report(&server, "mgr1", query), sup);
    assert_eq!(
        codes(&report(&server, "admin", query)),
        ["LKA-2025", "OTH-2025", "WALMART-2025"]
    );
    let rep1 = report(&server, "rep1", query);
    assert_eq!(codes(&rep1), ["WALMART-2025"]);
    assert_eq!(agreement(&rep1, "WALMART-2025"), w);
    assert_eq!(codes(&report(&server, "rep2", query)), ["LKA-2025"]);
    crate::security_ids::other_team_supervisor(&server);
    assert_eq!(report(&server, "sup9", query)["agreements"], json!([]));

    // CSV: one line per agreement and term.
    let (status, content_type, csv) = get(&server, "rep1", &format!("{query}&format=csv"));
    let csv = String::from_utf8(csv).unwrap();
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert_eq!(lines[0], "year,day,code,title,scope,store_code,chain,channel,stores,stores_total,stores_audited,visits,term,agreed,recorded,expected,recorded_bp,expected_bp,status,fee,fee_at_risk");
    assert_eq!(
        lines[2],
        "2025,2025-03-31,WALMART-2025,沃尔玛 2025 Walmart,chain,,Walmart,nka,2,2,2,4,display_weeks,20,3,4.93,1500,2465,behind,3650.00,352.50"
    );

    // XLSX: the same figures, read back by openpyxl.
    let (status, content_type, bytes) = get(&server, "sup1", &format!("{query}&format=xlsx"));
    assert_eq!((status, content_type.as_str()), (200, XLSX_TYPE));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("agreements.xlsx");
    std::fs::write(&file, &bytes).unwrap();
    let book = read_workbook(&file);
    let sheet = book["Agreements 协议"]
        .as_array()
        .expect("the agreements sheet");
    assert_eq!(sheet.len(), 3, "a header and 2 agreements");
    let row = sheet.iter().find(|r| r[0] == "WALMART-2025").unwrap();
    assert_eq!(row.as_array().unwrap()[10..], [json!(6650), json!(852.5)]);
    let terms = book["Terms 条款"].as_array().expect("the terms sheet");
    let display = terms
        .iter()
        .find(|r| r[0] == "WALMART-2025" && r[1] == "display_weeks")
        .unwrap();
    assert_eq!(
        display.as_array().unwrap()[2..],
        [
            json!(20),
            json!(3),
            json!(4.93),
            json!(15),
            json!(24.65),
            json!("behind"),
            json!(3650),
            json!(352.5)
        ]
    );

    // A re-import replaces the year's agreements; another year's file leaves 2025 alone.
    let again = import(
        &server,
        "agreements",
        &AGREEMENTS.lines().take(2).collect::<Vec<_>>().join("\n"),
    );
    assert_eq!(
        (&again["created"], &again["updated"]),
        (&json!(0), &json!(1))
    );
    import(
        &server,
        "agreements",
        "code,title,year,store_code,display_weeks\nNEXT,Next,2024,NKA-001,2\n",
    );
    assert_eq!(codes(&report(&server, "admin", query)), ["WALMART-2025"]);
    assert_eq!(codes(&report(&server, "admin", "year=2024")), ["NEXT"]);

    // Bad and unknown years: status, reason, a message naming the parameter.
    for (q, status, reason, needle) in [
        ("", 400, "invalid_query", "year"),
        ("year=20x6", 400, "invalid_query", "year"),
        ("year=26", 400, "invalid_query", "year"),
        ("year=1999", 400, "invalid_query", "year"),
        ("year=2025&on=2026-01-01", 400, "invalid_query", "on"),
        ("year=2025&on=31.03.2025", 400, "invalid_query", "on"),
        ("year=2025&format=pdf", 400, "invalid_query", "format"),
        ("year=2031", 422, "unknown_year", "2031"),
    ] {
        let (got, _, body) = get(&server, "sup1", q);
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(got, status, "{q}: {body}");
        assert_eq!(body["reason"], reason, "{q}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains(needle),
            "{q}: {body}"
        );
    }
    let unsigned = http()
        .get(&format!("{}/v1/reports/agreements?{query}", server.url))
        .call()
        .expect("request");
    assert_eq!(unsigned.status(), 401);
}

#[test]
fn agreements_report_has_the_known_answers_within_read_scopes() {
    known_answers(false);
}

#[test]
fn agreements_report_has_the_known_answers_within_read_scopes_postgres() {
    known_answers(true);
}

/// The console page in headless Chromium over the same set on 31 March 2025: reached from the
/// reports menu, a bar per term with its status and fee at risk, the download read back by
/// openpyxl, a rep's scope, a year without agreements; the screenshot
/// `console-screenshots/agreements.png`.
#[test]
fn agreements_in_the_console_with_bars_status_and_xlsx() {
    use fieldsync_e2e::webdriver::{screenshot_dir, Browser};

    use crate::console::{sign_in, HEIGHT, WIDTH};

    let (server, _db) = start(false);
    seed(&server);
    let shots = screenshot_dir("console-screenshots");
    let browser = Browser::start(WIDTH, HEIGHT);
    sign_in(&browser, &server, "sup1");
    browser.click(&browser.wait_for("nav a[href='/console/reports/agreements']"));
    browser.wait_for("main.report form.filters");
    // This year by default.
    browser.wait_for("#report");
    let year = browser.run(
        "return document.querySelector(\"input[name='year']\").value",
        json!([]),
    );
    assert_eq!(year, json!(Timestamp::now().utc_date().to_string()[..4]));
    // A year without agreements is said so, not an error page.
    browser.goto(&format!(
        "{}/console/reports/agreements?year=2099",
        server.url
    ));
    browser.wait_for("#report p.empty");
    browser.goto(&format!(
        "{}/console/reports/agreements?year=2025&on=2025-03-31",
        server.url
    ));
    browser.wait_for("article.agreement svg.term-bar");
    let agreements = browser.run(
        "return [...document.querySelectorAll('article.agreement')].map(a => a.dataset.agreement)",
        json!([]),
    );
    assert_eq!(agreements, json!(["LKA-2025", "WALMART-2025"]));
    let cells = browser.run(
        "return [...document.querySelectorAll(\"article[data-agreement='WALMART-2025'] tr[data-term='display_weeks'] td\")].map(t => t.textContent.trim())",
        json!([]),
    );
    assert_eq!(
        cells,
        json!([
            "20",
            "3",
            "4.93",
            "Display weeks 陈列周数: 3 of 20 recorded, 4.93 expected by the day 15.0 %",
            "Behind 落后",
            "3650.00",
            "352.50"
        ])
    );
    let titles = browser.run(
        "return [...document.querySelectorAll(\"article[data-agreement='WALMART-2025'] svg.term-bar title\")].map(t => t.textContent)",
        json!([]),
    );
    assert_eq!(
        titles,
        json!([
            "Listed SKUs 进场单品: 1.5 of 2 recorded, 2 expected by the day",
            "Display weeks 陈列周数: 3 of 20 recorded, 4.93 expected by the day",
            "Promotions 促销档期: 1 of 2 recorded, 0.49 expected by the day"
        ])
    );
    let total = browser.run(
        "return document.querySelector(\"article[data-agreement='WALMART-2025'] tfoot\").textContent",
        json!([]),
    );
    assert!(
        total.as_str().unwrap().contains("6650.00") && total.as_str().unwrap().contains("852.50"),
        "{total}"
    );
    browser.full_page_screenshot(&shots.join("agreements.png"), WIDTH);

    // The download, fetched by the browser with its own session.
    let href = browser
        .run(
            "return document.querySelector('a.download').href",
            json!([]),
        )
        .as_str()
        .expect("the download link")
        .to_string();
    assert!(
        href.contains("/console/reports/agreements.xlsx?year=2025&on=2025-03-31"),
        "{href}"
    );
    let fetched = browser.run(
        "const r = new XMLHttpRequest(); r.open('GET', arguments[0], false); \
         r.overrideMimeType('text/plain; charset=x-user-defined'); r.send(); \
         return [r.status, r.getResponseHeader('content-type'), r.responseText];",
        json!([href]),
    );
    assert_eq!((&fetched[0], &fetched[1]), (&json!(200), &json!(XLSX_TYPE)));
    let bytes: Vec<u8> = fetched[2]
        .as_str()
        .expect("the body")
        .chars()
        .map(|c| (c as u32 & 0xff) as u8)
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("console.xlsx");
    std::fs::write(&file, &bytes).unwrap();
    let book = read_workbook(&file);
    assert_eq!(book["Agreements 协议"].as_array().unwrap().len(), 3);
    assert_eq!(book["Terms 条款"].as_array().unwrap().len(), 1 + 3 + 1);

    // rep2 signed in sees LKA-001's agreement only.
    sign_in(&browser, &server, "rep2");
    browser.goto(&format!(
        "{}/console/reports/agreements?year=2025&on=2025-03-31",
        server.url
    ));
    browser.wait_for("article.agreement");
    assert_eq!(browser.find_all("article.agreement").len(), 1);
    assert_eq!(
        browser.find_all("article[data-agreement='LKA-2025']").len(),
        1
    );
    eprintln!("console screenshots: {}", shots.display());
}
