//! The key-account store opportunity report (docs/reports.md) over a generated three weeks
//! with known answers, on SQLite and on PostgreSQL (`_postgres`): rep1's audits (raw pushes of
//! submitted visits dated in the weeks) at three KA stores, a sale, a stores file that gives
//! two of them a chain and a monthly potential, and a must-carry range per channel; checked
//! in the API's JSON, CSV and XLSX (read back by openpyxl), with its filters, within each
//! read scope (rep own territory, supervisor the team's, manager the region's) and its bad
//! queries.
//!
//! Weeks W0 (two weeks ago), W1, W2 (this week); every visit on the week's Monday. Range:
//! NKA COLA-330 and TEA-500, RKA COLA-330. `RIVAL-COLA-330` is a competitor's (not in the
//! catalogue).
//!
//! | store   | W0                                   | W1                     | W2                  |
//! |---------|--------------------------------------|------------------------|---------------------|
//! | NKA-001 | COLA 6, TEA out, RIVAL 10: 6/16 = 37.5 %, oos 50 %, dist 50 % | sale 5 cases (360.00) | COLA 8, TEA 4: no share, oos 0, dist 100 % |
//! | NKA-002 |                                      | COLA 5, RIVAL 15: 25 %, dist 50 % |         |
//! | RKA-001 | COLA 3: dist 100 %                   |                        |                     |
//!
//! Potentials: NKA-001 10 000.00 a month (21 days: 6 904.10; 360.00 is 521 bp), NKA-002
//! 5 000.00 (3 452.05; 0 bp), RKA-001 none.

use automerge::AutoCommit;
use serde_json::{json, Value};

use fieldsync_e2e::{http, DeviceToken, TestDevice, TestServer};
use fieldsync_server::reports::format::XLSX_TYPE;
use fieldsync_shared::document::{
    hydrate_visit, load_document, new_document, reconcile_visit, DocKind,
};
use fieldsync_shared::master::Store;
use fieldsync_shared::plan::IsoWeek;
use fieldsync_shared::protocol::PushResult;
use fieldsync_shared::visit::{AuditLine, Visit, VisitStatus};
use fieldsync_shared::{Date, DocId, ShelfLocation, Sku, Timestamp};

use crate::console_reports::read_workbook;
use crate::monthly_report::{sale, template};
use crate::verdicts::start;
use crate::write_policies::{push_raw, submitted_visit, today};

/// A submitted visit of rep1 on a device of its own that never syncs: the value new visits
/// are copied from.
fn visit_template(server: &TestServer, store: &Store) -> Visit {
    let device = TestDevice::login(server, "rep1");
    let id = submitted_visit(&device, store);
    hydrate_visit(&load_document(&device.document_save(id).unwrap()).unwrap()).unwrap()
}

/// A submitted visit of `store` dated `date` whose audit holds `lines` (SKU, facings; 0: not on
/// the shelf), pushed whole by rep1's raw client.
fn audit(
    server: &TestServer,
    (raw, template): (&DeviceToken, &Visit),
    store: &Store,
    date: Date,
    lines: &[(&str, u32)],
) {
    let mut v: Visit = serde_json::from_value(serde_json::to_value(template).unwrap()).unwrap();
    v.id = DocId::new_random();
    v.store_id = store.id;
    v.planned_date = date;
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

pub(crate) fn import(server: &TestServer, kind: &str, csv: &str) {
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
    assert_eq!(
        status,
        200,
        "{kind}: {}",
        resp.body_mut().read_to_string().unwrap()
    );
}

/// The demo's stores file line of `code`, with a chain and a monthly potential.
fn store_line(code: &str, chain: &str, potential: &str) -> String {
    let demo = include_str!("../../server/demo/stores.csv");
    let line = demo
        .lines()
        .find(|l| l.starts_with(&format!("{code},")))
        .expect("a demo store");
    format!("{line},{chain},{potential}\n")
}

/// The weeks of the report: two weeks ago, last week, this week.
pub(crate) fn weeks() -> [IsoWeek; 3] {
    let w0 = IsoWeek::of(today().add_days(-14));
    [w0, w0.next(), w0.next().next()]
}

pub(crate) fn seed(server: &TestServer) {
    let header = "code,name,channel,grade,address,lat,lon,geofence_radius_m,delivery_lead_days,chain,monthly_potential\n";
    let stores = format!(
        "{header}{}{}{}",
        store_line("NKA-001", "Walmart", "10000.00"),
        store_line("NKA-002", "Carrefour", "5000.00"),
        store_line("RKA-001", "", ""),
    );
    import(server, "stores", &stores);
    import(
        server,
        "assortment",
        "store_code,chain,channel,sku,safety_stock\n,,nka,COLA-330,\n,,nka,TEA-500,\n,,rka,COLA-330,\n",
    );
    let rep1 = TestDevice::login(server, "rep1");
    rep1.sync().unwrap();
    let raw = server.device_token("rep1");
    let store = |code: &str| rep1.store_by_code(code).expect("store");
    let (nka1, nka2, rka1) = (store("NKA-001"), store("NKA-002"), store("RKA-001"));
    assert_eq!(
        nka1.monthly_potential.map(|m| m.0),
        Some(1_000_000),
        "the potential reaches the device"
    );
    let t = visit_template(server, &nka1);
    let [w0, w1, w2] = weeks();
    let rival = "RIVAL-COLA-330";
    audit(
        server,
        (&raw, &t),
        &nka1,
        w0.monday(),
        &[("COLA-330", 6), ("TEA-500", 0), (rival, 10)],
    );
    audit(
        server,
        (&raw, &t),
        &nka1,
        w2.monday(),
        &[("COLA-330", 8), ("TEA-500", 4)],
    );
    audit(
        server,
        (&raw, &t),
        &nka2,
        w1.monday(),
        &[("COLA-330", 5), (rival, 15)],
    );
    audit(server, (&raw, &t), &rka1, w0.monday(), &[("COLA-330", 3)]);
    let order = template(server, "rep1", "NKA-001");
    sale(server, (&rep1, &raw, &order), "NKA-001", 5, w1.monday(), 1);
}

fn get(server: &TestServer, user: &str, query: &str) -> (u16, String, Vec<u8>) {
    let mut resp = http()
        .get(&format!(
            "{}/v1/reports/store-opportunity?{query}",
            server.url
        ))
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

fn store_of<'a>(report: &'a Value, code: &str) -> &'a Value {
    report["stores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["store_code"] == code)
        .unwrap_or_else(|| panic!("{code} in {report}"))
}

fn codes(report: &Value) -> Vec<String> {
    report["stores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["store_code"].as_str().unwrap().to_string())
        .collect()
}

/// A week's figures: own facings, all facings, share, out of stock, distribution.
fn week_figures(week: &Value) -> Value {
    json!([
        week["own_facings"],
        week["all_facings"],
        week["shelf_share_bp"],
        week["out_of_stock_bp"],
        week["distribution_bp"]
    ])
}

fn known_answers(postgres: bool) {
    let (server, _db) = start(postgres);
    seed(&server);
    let [w0, _, w2] = weeks();
    let query = format!("from={w0}&to={w2}");

    let sup = report(&server, "sup1", &query);
    assert_eq!(
        (&sup["from"], &sup["to"]),
        (&json!(w0.to_string()), &json!(w2.to_string()))
    );
    // The team covers every NKA, RKA and LKA store (24), none of OTH.
    assert_eq!(sup["stores"].as_array().unwrap().len(), 24, "{sup}");
    assert!(codes(&sup).iter().all(|c| !c.starts_with("OTH")));

    let n1 = store_of(&sup, "NKA-001");
    assert_eq!(
        (&n1["chain"], &n1["channel"]),
        (&json!("Walmart"), &json!("nka"))
    );
    assert_eq!(n1["monthly_potential"], 1_000_000);
    let w = n1["weeks"].as_array().unwrap();
    assert_eq!(week_figures(&w[0]), json!([6, 16, 3750, 5000, 5000]));
    assert_eq!(w[1]["visit_id"], Value::Null);
    assert_eq!(week_figures(&w[1]), json!([null, null, null, null, null]));
    assert_eq!(week_figures(&w[2]), json!([12, 12, null, 0, 10000]));
    assert_eq!(w[2]["visit_date"], w2.monday().to_string());
    assert_eq!(
        json!([n1["first_facings"], n1["last_facings"], n1["facings_slope"]]),
        json!([6, 12, 3.0])
    );
    assert_eq!(
        json!([
            n1["orders"],
            n1["order_amount"],
            n1["potential"],
            n1["potential_bp"]
        ]),
        json!([1, 36_000, 690_410, 521])
    );
    assert_eq!(n1["promotion_compliance_bp"], Value::Null);
    assert_eq!(n1["display_compliance_bp"], Value::Null);

    // Per chain: Carrefour and Walmart (one store each), then the 22 stores of no chain.
    let chains = sup["chains"].as_array().expect("chains");
    let names: Vec<&Value> = chains.iter().map(|c| &c["chain"]).collect();
    assert_eq!(
        names,
        [&json!("Carrefour"), &json!("Walmart"), &Value::Null]
    );
    let walmart = &chains[1];
    assert_eq!(walmart["stores"], 1);
    assert_eq!(
        json!([
            walmart["orders"],
            walmart["order_amount"],
            walmart["potential"],
            walmart["potential_bp"]
        ]),
        json!([1, 36_000, 690_410, 521])
    );
    let ww = walmart["weeks"].as_array().unwrap();
    assert_eq!(
        json!([
            ww[0]["audited_stores"],
            ww[0]["own_facings"],
            ww[0]["all_facings"],
            ww[0]["out_of_stock_bp"],
            ww[0]["distribution_bp"]
        ]),
        json!([1, 6, 16, 5000, 5000])
    );
    assert_eq!(ww[1]["audited_stores"], 0);
    assert_eq!(
        walmart["distribution_bp"], 7500,
        "mean of W0's 50 % and W2's 100 %"
    );
    let independent = &chains[2];
    assert_eq!(independent["stores"], 22);
    // W0: RKA-001 alone audited among them (COLA 3 of its range of one).
    assert_eq!(
        json!([
            independent["weeks"][0]["audited_stores"],
            independent["weeks"][0]["own_facings"],
            independent["weeks"][0]["distribution_bp"]
        ]),
        json!([1, 3, 10_000])
    );
    assert_eq!(independent["potential"], Value::Null);

    let n2 = store_of(&sup, "NKA-002");
    let w = n2["weeks"].as_array().unwrap();
    assert_eq!(week_figures(&w[1]), json!([5, 20, 2500, 0, 5000]));
    assert_eq!(
        json!([n2["first_facings"], n2["last_facings"], n2["facings_slope"]]),
        json!([5, 5, null])
    );
    assert_eq!(
        json!([
            n2["orders"],
            n2["order_amount"],
            n2["potential"],
            n2["potential_bp"]
        ]),
        json!([0, 0, 345_205, 0])
    );
    let r1 = store_of(&sup, "RKA-001");
    assert_eq!(week_figures(&r1["weeks"][0]), json!([3, 3, null, 0, 10000]));
    assert_eq!(
        (&r1["chain"], &r1["potential"]),
        (&Value::Null, &Value::Null)
    );
    let idle = store_of(&sup, "LKA-001");
    assert_eq!(idle["first_facings"], Value::Null);

    // Read scopes: the manager and the admin see the team's; rep1 NKA and RKA (16), rep2 LKA
    // (8), and rep2 asking for rep1's store nothing.
    assert_eq!(report(&server, "mgr1", &query), sup);
    assert_eq!(
        report(&server, "admin", &query)["stores"]
            .as_array()
            .unwrap()
            .len(),
        24
    );
    let own = report(&server, "rep1", &query);
    assert_eq!(own["stores"].as_array().unwrap().len(), 16);
    assert_eq!(store_of(&own, "NKA-001"), n1);
    let rep2 = report(&server, "rep2", &query);
    assert_eq!(rep2["stores"].as_array().unwrap().len(), 8);
    assert!(codes(&rep2).iter().all(|c| c.starts_with("LKA")));
    let nka1_id = n1["store_id"].as_str().unwrap();
    let none = report(&server, "rep2", &format!("{query}&store_id={nka1_id}"));
    assert_eq!(none["stores"], json!([]));
    crate::security_ids::other_team_supervisor(&server);
    assert_eq!(report(&server, "sup9", &query)["stores"], json!([]));

    // Filters.
    let walmart = report(&server, "sup1", &format!("{query}&chain=Walmart"));
    assert_eq!(codes(&walmart), ["NKA-001"]);
    let rka = report(&server, "sup1", &format!("{query}&channel=rka"));
    assert_eq!(rka["stores"].as_array().unwrap().len(), 8);
    assert!(codes(&rka).iter().all(|c| c.starts_with("RKA")));
    let one = report(&server, "sup1", &format!("{query}&store_id={nka1_id}"));
    assert_eq!(codes(&one), ["NKA-001"]);

    // CSV: one line per store and week.
    let (status, content_type, csv) = get(
        &server,
        "sup1",
        &format!("{query}&chain=Walmart&format=csv"),
    );
    let csv = String::from_utf8(csv).unwrap();
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert_eq!(lines[0], "week,store_id,store_code,store,chain,channel,visit_id,visit_date,own_facings,all_facings,shelf_share_bp,out_of_stock_bp,distribution_bp,first_facings,last_facings,facings_slope,orders,order_amount,potential,potential_bp,promotion_compliance_bp,display_compliance_bp,competitor_sightings,week_promotion_compliance_bp,week_display_compliance_bp,week_competitor_sightings,success_score_bp,week_success_score_bp");
    assert!(
        lines[1].starts_with(&format!("{w0},{nka1_id},NKA-001,")),
        "{csv}"
    );
    let visit = n1["weeks"][0]["visit_id"].as_str().unwrap();
    assert!(
        lines[1].ends_with(&format!(
            ",Walmart,nka,{visit},{},6,16,3750,5000,5000,6,12,3,1,360.00,6904.10,521,,,0,,,0,,",
            w0.monday()
        )),
        "{csv}"
    );
    assert!(
        lines[2].contains(",,,,,,,6,12,3,1,360.00,"),
        "no audit in W1: {csv}"
    );

    // XLSX: the same figures, read back by openpyxl.
    let (status, content_type, bytes) = get(&server, "sup1", &format!("{query}&format=xlsx"));
    assert_eq!((status, content_type.as_str()), (200, XLSX_TYPE));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("store-opportunity.xlsx");
    std::fs::write(&file, &bytes).unwrap();
    let book = read_workbook(&file);
    let stores = book["Stores 门店"].as_array().expect("the stores sheet");
    assert_eq!(stores.len(), 25, "a header and 24 stores");
    let row = stores
        .iter()
        .find(|r| r[0] == "NKA-001")
        .expect("NKA-001's row");
    assert_eq!(
        row.as_array().unwrap()[2..],
        [
            json!("Walmart"),
            json!("nka"),
            json!(6),
            json!(12),
            json!(3),
            json!(1),
            json!(360),
            json!(6904.1),
            json!(5.21),
            Value::Null,
            Value::Null,
            json!(0),
            Value::Null
        ]
    );
    let weeks_sheet = book["Weeks 周"].as_array().expect("the weeks sheet");
    assert_eq!(weeks_sheet.len(), 1 + 24 * 3);
    let first = weeks_sheet
        .iter()
        .find(|r| r[0] == "NKA-001" && r[2] == w0.to_string())
        .expect("NKA-001's first week");
    assert_eq!(
        first.as_array().unwrap()[4..],
        [
            json!(6),
            json!(16),
            json!(37.5),
            json!(50),
            json!(50),
            Value::Null,
            Value::Null,
            json!(0),
            Value::Null
        ]
    );
    // The chains sheet: a line per chain and week, Walmart's first week as its one store's.
    let chains_sheet = book["Chains 连锁"].as_array().expect("the chains sheet");
    assert_eq!(
        chains_sheet.len(),
        1 + 3 * 3,
        "Carrefour, Walmart, no chain"
    );
    let walmart = chains_sheet
        .iter()
        .find(|r| r[0] == "Walmart" && r[1] == w0.to_string())
        .expect("Walmart's first week");
    assert_eq!(
        walmart.as_array().unwrap()[2..8],
        [
            json!(1),
            json!(1),
            json!(6),
            json!(16),
            json!(50),
            json!(50)
        ]
    );

    // Bad queries: status, reason, a message naming the parameter.
    for (q, needle) in [
        (String::new(), "from"),
        (format!("from={w0}"), "to"),
        (format!("from={w2}&to={w0}"), "to"),
        ("from=2026-W01&to=2026-W40".to_string(), "to"),
        (format!("{query}&channel=other"), "channel"),
        (format!("{query}&store_id=NKA-001"), "store_id"),
        (format!("{query}&format=pdf"), "format"),
    ] {
        let (status, _, body) = get(&server, "sup1", &q);
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(status, 400, "{q}: {body}");
        assert_eq!(body["reason"], "invalid_query", "{q}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains(needle),
            "{q}: {body}"
        );
    }
    let unsigned = http()
        .get(&format!(
            "{}/v1/reports/store-opportunity?{query}",
            server.url
        ))
        .call()
        .expect("request");
    assert_eq!(unsigned.status(), 401);
}

#[test]
fn store_opportunity_has_the_known_answers_within_read_scopes() {
    known_answers(false);
}

#[test]
fn store_opportunity_has_the_known_answers_within_read_scopes_postgres() {
    known_answers(true);
}

/// The console page in headless Chromium over the same set (eight weeks by default): a bar
/// per week and series with its figure, the table per store, the download read back by
/// openpyxl, the drill-down to a store's weeks with links to its audits, and a rep's scope.
#[test]
fn store_opportunity_in_the_console_with_chart_table_drill_down_and_xlsx() {
    use fieldsync_e2e::webdriver::{screenshot_dir, Browser};

    use crate::console::{sign_in, HEIGHT, WIDTH};

    let (server, _db) = start(false);
    seed(&server);
    let [w0, w1, w2] = weeks();

    let shots = screenshot_dir("console-screenshots");
    let browser = Browser::start(WIDTH, HEIGHT);
    sign_in(&browser, &server, "sup1");
    browser.click(&browser.wait_for("nav a[href='/console/reports/store-opportunity']"));
    browser.wait_for("figure.chart svg rect.bar");

    // Own and all facings per week, summed over the stores' audits.
    let titles = browser.run(
        "return [...document.querySelectorAll('figure.chart rect.bar title')].map(t => t.textContent)",
        json!([]),
    );
    let titles: Vec<String> = serde_json::from_value(titles).unwrap();
    assert_eq!(titles.len(), 16, "8 weeks, 2 series: {titles:?}");
    for (week, own, all) in [(w0, 9, 19), (w1, 5, 20), (w2, 12, 12)] {
        assert!(
            titles.contains(&format!("{week} · Own 本品排面: {own}")),
            "{week}: {titles:?}"
        );
        assert!(
            titles.contains(&format!("{week} · All 总排面: {all}")),
            "{week}: {titles:?}"
        );
    }

    // The table: the team's 24 KA stores; NKA-001's figures (over 56 days, the potential is
    // 18 410.95 and the 360.00 ordered 1.9 % of it).
    assert_eq!(browser.find_all("table.opportunity tbody tr").len(), 24);
    let cells = browser.run(
        "return [...document.querySelectorAll(\"table.opportunity tr[data-store='NKA-001'] td\")].map(t => t.textContent)",
        json!([]),
    );
    assert_eq!(
        cells,
        json!([
            "Walmart", "NKA", "6", "12", "3", "–", "0.0 %", "100.0 %", "360.00", "18410.95",
            "1.9 %", "–", "–", "0", "–"
        ])
    );

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
        href.contains("/console/reports/store-opportunity.xlsx?from="),
        "{href}"
    );
    let fetched = browser.run(
        "const r = new XMLHttpRequest(); r.open('GET', arguments[0], false); \
         r.overrideMimeType('text/plain; charset=x-user-defined'); r.send(); \
         return [r.status, r.getResponseHeader('content-type'), r.responseText];",
        json!([href]),
    );
    assert_eq!(fetched[0], 200);
    assert_eq!(fetched[1], XLSX_TYPE);
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
    assert_eq!(book["Stores 门店"].as_array().unwrap().len(), 25);
    assert_eq!(book["Chains 连锁"].as_array().unwrap().len(), 1 + 3 * 8);
    assert_eq!(book["Weeks 周"].as_array().unwrap().len(), 1 + 24 * 8);

    // The chains table: Walmart's row, its link filtering the page to its stores.
    let cells = browser.run(
        "return [...document.querySelectorAll(\"table.chains tr[data-chain='Walmart'] td\")].map(t => t.textContent)",
        json!([]),
    );
    assert_eq!(
        cells,
        json!([
            "1", "1", "25.0 %", "75.0 %", "–", "–", "–", "0", "360.00", "18410.95", "1.9 %"
        ])
    );
    assert_eq!(browser.find_all("table.chains tbody tr").len(), 3);
    browser.full_page_screenshot(&shots.join("store-opportunity-all.png"), WIDTH);

    // The drill-down: NKA-001's weeks, its two audits linking to their visits.
    browser.click(&browser.wait_for("table.opportunity tr[data-store='NKA-001'] a.drill"));
    browser.wait_for("section.drill table.opportunity-weeks");
    assert_eq!(browser.find_all("table.opportunity tbody tr").len(), 1);
    assert_eq!(
        browser
            .find_all("section.drill a[href^='/console/visits/']")
            .len(),
        2
    );
    browser.full_page_screenshot(&shots.join("store-opportunity.png"), WIDTH);

    // rep2 signed in sees their territory's LKA stores only.
    sign_in(&browser, &server, "rep2");
    browser.goto(&format!("{}/console/reports/store-opportunity", server.url));
    browser.wait_for("figure.chart svg rect.bar");
    assert_eq!(browser.find_all("table.opportunity tbody tr").len(), 8);
    assert!(browser
        .find_all("table.opportunity tr[data-store='NKA-001']")
        .is_empty());
    eprintln!("console screenshots: {}", shots.display());
}
