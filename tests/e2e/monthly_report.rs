//! The manager's monthly report (docs/reports.md) over a generated set with known answers: for
//! rep1 and rep2, orders (raw pushes dated in this month, the three before it, four months
//! before and the same month last year), targets imported as CSV, and expenses; checked figure
//! by figure in the API's JSON, CSV and XLSX (read back by openpyxl), on SQLite and on
//! PostgreSQL (`_postgres`), within each read scope (rep: own row; supervisor: the team;
//! manager: the region; another team's supervisor: nothing); and in the console in headless
//! Chromium (the chart's bars with their figures, the table per team, the download read back by
//! openpyxl, the screenshot `monthly.png`).
//!
//! Every order is 24 x COLA-330 cases at the list price (72.00 a case). The set:
//!
//! | rep  | month M                                   | M-1          | M-2      | M-3      | M-4      | M-12     |
//! |------|-------------------------------------------|--------------|----------|----------|----------|----------|
//! | rep1 | NKA-001 5 cases, NKA-002 2 (new), a draft | NKA-001 2    | RKA-001 1 (dormant) |   |          | NKA-004 1 |
//! | rep2 | LKA-001 3 (new), LKA-005 1                | LKA-003 2 (dormant) | | OTH-001 1 (dormant) | OTH-002 1 (too early) | LKA-005 1 |
//!
//! Targets: rep1 M 720.00/240, M-1 120.00/120, M-12 96.00/24; rep2 M 240.00/120, M-12
//! 72.00/24. Expenses: rep1 M 50.40, M-1 28.80, M-12 7.20; rep2 M 72.00 (and a draft of 99.00,
//! not counted), M-1 28.80.

use automerge::AutoCommit;
use serde_json::{json, Value};

use fieldsync_e2e::{http, DeviceToken, TestDevice, TestServer};
use fieldsync_server::reports::format::XLSX_TYPE;
use fieldsync_server::targets::Period;
use fieldsync_shared::document::{
    hydrate_order, load_document, new_document, reconcile_expense, reconcile_order, DocKind,
};
use fieldsync_shared::expense::{Expense, ExpenseStatus, ExpenseType};
use fieldsync_shared::order::{Order, OrderNumber, OrderStatus};
use fieldsync_shared::protocol::PushResult;
use fieldsync_shared::{Date, DocId, Money, PersonCode, Timestamp, UserId};

use crate::console_reports::read_workbook;
use crate::verdicts::{local_draft_order, start};
use crate::write_policies::{push_raw, today};

/// The report's month and the months around it.
struct Months {
    this: Period,
    back: Vec<Period>,
}

impl Months {
    fn now() -> Months {
        let this = Period::parse(&today().to_string()[..7]).unwrap();
        let back = (0..=12).map(|n| this.month_before(n).unwrap()).collect();
        Months { this, back }
    }
    /// The first day of the month `n` months back (0: this month).
    fn day(&self, n: usize) -> Date {
        self.back[n].start()
    }
    fn name(&self, n: usize) -> &str {
        self.back[n].as_str()
    }
}

/// A draft order of `username` as a document value to copy sales from, made on a device of its
/// own that never syncs again (so the draft never reaches the server).
pub(crate) fn template(server: &TestServer, username: &str, store: &str) -> Order {
    let device = TestDevice::login(server, username);
    let id = local_draft_order(&device, store);
    hydrate_order(&load_document(&device.document_save(id).unwrap()).unwrap()).unwrap()
}

/// A sale: a new order of `cases` of COLA-330 at `store`, dated `date` and submitted, created
/// and pushed whole by the rep's raw client (an order's date is fixed at creation).
pub(crate) fn sale(
    server: &TestServer,
    parts: (&TestDevice, &DeviceToken, &Order),
    store: &str,
    cases: u32,
    date: Date,
    seq: u32,
) {
    // After the lead time from today (the server judges the submission today), and each its
    // own: the same lines and delivery date for a store would be flagged.
    let back = (today().naive() - date.naive()).num_days();
    sold_order(
        server,
        parts,
        (store, cases),
        date,
        seq,
        today().add_days(5 + back),
    );
}

/// [`sale`] with the delivery requested for `requested`; the order's id.
fn sold_order(
    server: &TestServer,
    (rep, raw, template): (&TestDevice, &DeviceToken, &Order),
    (store, cases): (&str, u32),
    date: Date,
    seq: u32,
    requested: Date,
) -> DocId {
    // Through JSON: a fresh notes text, not one tied to the template document's history.
    let mut o: Order = serde_json::from_value(serde_json::to_value(template).unwrap()).unwrap();
    let code = PersonCode::parse(template.number.as_str().split('-').next().unwrap()).unwrap();
    o.id = DocId::new_random();
    o.number = OrderNumber::generate(&code, date, &raw.device_id, seq);
    o.store_id = rep.store_by_code(store).expect("store").id;
    o.order_date = date;
    o.requested_delivery = requested;
    o.lines.get_mut("COLA-330").expect("the line").quantity = 24 * cases;
    o.status = OrderStatus::Submitted;
    o.created_at = Timestamp::now();
    o.submitted_at = Some(Timestamp::now());
    let mut doc: AutoCommit = new_document(raw.actor.clone());
    reconcile_order(&mut doc, &o).expect("reconcile");
    doc.commit();
    let changes = doc
        .get_changes(&[])
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    let resp = push_raw(server, raw, o.id, DocKind::Order, changes);
    let PushResult::Stored { findings, .. } = &resp.outcomes[0].result else {
        panic!("stored expected: {:?}", resp.outcomes);
    };
    assert!(findings.is_empty(), "{store} {date}: {findings:?}");
    o.id
}

/// An expense of `amount` dated `date` in `status`, through the raw client.
fn expense(
    server: &TestServer,
    raw: &DeviceToken,
    person: UserId,
    amount: &str,
    date: Date,
    status: ExpenseStatus,
) {
    let mut e = Expense::new(
        person,
        ExpenseType::Travel,
        Money::parse(amount).unwrap(),
        date,
        Timestamp::now(),
    );
    e.status = status;
    if status == ExpenseStatus::Submitted {
        e.submitted_at = Some(Timestamp::now());
    }
    let mut doc: AutoCommit = new_document(raw.actor.clone());
    reconcile_expense(&mut doc, &e).expect("reconcile");
    doc.commit();
    let changes = doc
        .get_changes(&[])
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    let resp = push_raw(server, raw, e.id, DocKind::Expense, changes);
    let PushResult::Stored { findings, .. } = &resp.outcomes[0].result else {
        panic!("stored expected: {:?}", resp.outcomes);
    };
    assert!(findings.is_empty(), "{amount} {date}: {findings:?}");
}

/// The generated set; the ids of rep1 and rep2.
fn seed(server: &TestServer, m: &Months) -> (UserId, UserId) {
    let rep1 = TestDevice::login(server, "rep1");
    let rep2 = TestDevice::login(server, "rep2");
    let (raw1, raw2) = (server.device_token("rep1"), server.device_token("rep2"));
    let id1 = rep1.org_view().unwrap().user_id;
    let id2 = rep2.org_view().unwrap().user_id;

    let (t1, t2) = (
        template(server, "rep1", "NKA-001"),
        template(server, "rep2", "LKA-001"),
    );
    for (seq, (store, cases, back)) in (1..).zip([
        ("NKA-001", 5, 0),
        ("NKA-002", 2, 0),
        ("NKA-001", 2, 1),
        ("RKA-001", 1, 2),
        ("NKA-004", 1, 12),
    ]) {
        sale(server, (&rep1, &raw1, &t1), store, cases, m.day(back), seq);
    }
    // A draft of this month: no sale.
    local_draft_order(&rep1, "NKA-002");
    rep1.sync().unwrap();
    for (seq, (store, cases, back)) in (1..).zip([
        ("LKA-001", 3, 0),
        ("LKA-005", 1, 0),
        ("LKA-003", 2, 1),
        ("OTH-001", 1, 3),
        ("OTH-002", 1, 4),
        ("LKA-005", 1, 12),
    ]) {
        sale(server, (&rep2, &raw2, &t2), store, cases, m.day(back), seq);
    }

    let csv = format!(
        "period,rep,category,amount,volume\n\
         {},rep1,,720.00,240\n{},rep1,,120.00,120\n{},rep1,,96.00,24\n\
         {},rep2,,240.00,120\n{},rep2,,72.00,24\n\
         {},rep1,beverages,9999.00,9999\n",
        m.name(0),
        m.name(1),
        m.name(12),
        m.name(0),
        m.name(12),
        m.name(0),
    );
    let mut resp = http()
        .post(&format!("{}/v1/admin/import/targets", server.url))
        .header(
            "Authorization",
            &format!("Bearer {}", server.token("admin")),
        )
        .header("Content-Type", "text/csv")
        .send(csv.as_bytes())
        .expect("import");
    assert_eq!(
        resp.status(),
        200,
        "{}",
        resp.body_mut().read_to_string().unwrap()
    );

    use ExpenseStatus::{Draft, Submitted};
    for (raw, id, amount, back, status) in [
        (&raw1, id1, "50.40", 0, Submitted),
        (&raw1, id1, "28.80", 1, Submitted),
        (&raw1, id1, "7.20", 12, Submitted),
        (&raw2, id2, "72.00", 0, Submitted),
        (&raw2, id2, "99.00", 0, Draft),
        (&raw2, id2, "28.80", 1, Submitted),
    ] {
        expense(server, raw, id, amount, m.day(back), status);
    }
    (id1, id2)
}

/// The figures of a row that the table above gives, in the JSON's form.
#[allow(clippy::too_many_arguments)]
fn figures(
    sales: [i64; 4],
    achievement: [Option<i64>; 2],
    stores: [u32; 2],
    expense: (i64, Option<i64>),
    last_month: (&str, i64, Option<i64>, Option<i64>),
    last_year: (&str, i64, Option<i64>, Option<i64>),
) -> Value {
    json!({
        "sales_amount": sales[0], "sales_volume": sales[1],
        "target_amount": sales[2], "target_volume": sales[3],
        "achievement_bp": achievement[0], "volume_achievement_bp": achievement[1],
        "new_stores": stores[0], "dormant_stores": stores[1],
        "expense_amount": expense.0, "expense_ratio_bp": expense.1,
        "last_month": {"month": last_month.0, "sales_amount": last_month.1,
                       "achievement_bp": last_month.2, "expense_ratio_bp": last_month.3,
                       "on_time_bp": null},
        "last_year": {"month": last_year.0, "sales_amount": last_year.1,
                      "achievement_bp": last_year.2, "expense_ratio_bp": last_year.3,
                      "on_time_bp": null},
    })
}

/// The expected figures of rep1, rep2 and their team (worked out in the module's table).
fn expected(m: &Months) -> (Value, Value, Value) {
    let (lm, ly) = (m.name(1), m.name(12));
    let rep1 = figures(
        [50_400, 168, 72_000, 240],
        [Some(7_000), Some(7_000)],
        [1, 1],
        (5_040, Some(1_000)),
        (lm, 14_400, Some(12_000), Some(2_000)),
        (ly, 7_200, Some(7_500), Some(1_000)),
    );
    let rep2 = figures(
        [28_800, 96, 24_000, 120],
        [Some(12_000), Some(8_000)],
        [1, 2],
        (7_200, Some(2_500)),
        (lm, 14_400, None, Some(2_000)),
        (ly, 7_200, Some(10_000), Some(0)),
    );
    let team = figures(
        [79_200, 264, 96_000, 360],
        [Some(8_250), Some(7_333)],
        [2, 3],
        (12_240, Some(1_545)),
        (lm, 28_800, Some(24_000), Some(2_000)),
        (ly, 14_400, Some(8_571), Some(500)),
    );
    (rep1, rep2, team)
}

/// `row` without the fields that name it.
fn figures_of(row: &Value) -> Value {
    let mut row = row.clone();
    // Order on-time delivery has a set of its own (`delivery_known_answers`).
    for key in [
        "level",
        "team_id",
        "team_name",
        "person_id",
        "person_name",
        "delivery",
    ] {
        row.as_object_mut().unwrap().remove(key);
    }
    row
}

fn get(server: &TestServer, user: &str, path: &str) -> (u16, String, Vec<u8>) {
    let mut resp = http()
        .get(&format!("{}{path}", server.url))
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
    let (status, _, body) = get(server, user, &format!("/v1/reports/monthly?{query}"));
    let body = String::from_utf8(body).unwrap();
    assert_eq!(status, 200, "{query}: {body}");
    serde_json::from_str(&body).unwrap()
}

fn row_of(report: &Value, person: UserId) -> &Value {
    report["reps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["person_id"] == person.to_string())
        .unwrap_or_else(|| panic!("{person} in {report}"))
}

/// The workbook's rows, from a percentage or amount cell back to the JSON's integers.
fn bp(cell: &Value) -> Value {
    cell.as_f64()
        .map_or(Value::Null, |pct| json!((pct * 100.0).round() as i64))
}
fn minor(cell: &Value) -> Value {
    json!((cell.as_f64().expect("an amount") * 100.0).round() as i64)
}

/// A workbook row's figures (from column `at`) in the JSON's form.
fn sheet_figures(row: &[Value], at: usize, m: &Months) -> Value {
    let c = &row[at..];
    let n = |v: &Value| json!(v.as_f64().expect("a number") as i64);
    json!({
        "sales_amount": minor(&c[0]), "sales_volume": n(&c[1]),
        "target_amount": minor(&c[2]), "target_volume": n(&c[3]),
        "achievement_bp": bp(&c[4]), "volume_achievement_bp": bp(&c[5]),
        "new_stores": n(&c[6]), "dormant_stores": n(&c[7]),
        "expense_amount": minor(&c[8]), "expense_ratio_bp": bp(&c[9]),
        "last_month": {"month": m.name(1), "sales_amount": minor(&c[10]),
                       "achievement_bp": bp(&c[11]), "expense_ratio_bp": bp(&c[12]),
                       "on_time_bp": bp(&c[21])},
        "last_year": {"month": m.name(12), "sales_amount": minor(&c[13]),
                      "achievement_bp": bp(&c[14]), "expense_ratio_bp": bp(&c[15]),
                      "on_time_bp": bp(&c[22])},
    })
}

/// A workbook row's on-time delivery (from column `at`) in the JSON's form.
fn sheet_delivery(row: &[Value], at: usize) -> Value {
    let c = &row[at + 16..];
    let n = |v: &Value| json!(v.as_f64().expect("a number") as i64);
    json!({
        "due_orders": n(&c[0]), "delivered_on_time": n(&c[1]), "delivered_late": n(&c[2]),
        "not_recorded": n(&c[3]), "on_time_bp": bp(&c[4]),
    })
}

fn known_answers(postgres: bool) {
    let (server, _db) = start(postgres);
    let m = Months::now();
    let (rep1, rep2) = seed(&server, &m);
    let (e1, e2, team) = expected(&m);
    let month = m.this.as_str().to_string();
    let query = format!("month={month}");

    // The supervisor: both reps, their team (merch1 has no figures: no row) and the total.
    let sup = report(&server, "sup1", &query);
    assert_eq!(
        (&sup["month"], &sup["last_month"], &sup["last_year"]),
        (&json!(month), &json!(m.name(1)), &json!(m.name(12)))
    );
    assert_eq!(sup["reps"].as_array().unwrap().len(), 2, "{sup}");
    assert_eq!(figures_of(row_of(&sup, rep1)), e1);
    assert_eq!(figures_of(row_of(&sup, rep2)), e2);
    assert_eq!(row_of(&sup, rep1)["level"], "rep");
    let teams = sup["teams"].as_array().unwrap();
    assert_eq!(teams.len(), 1, "{sup}");
    assert_eq!(teams[0]["team_name"], fieldsync_server::demo::DEMO_TEAM);
    assert_eq!(
        teams[0]["team_id"],
        fieldsync_server::demo::demo_team_id().to_string()
    );
    assert_eq!(figures_of(&teams[0]), team);
    assert_eq!(figures_of(&sup["total"]), team);
    assert_eq!(sup["total"]["level"], "total");

    // Read scopes: the manager sees the region (the same); a rep their own row; another
    // team's supervisor nothing; a rep asking for another rep nothing.
    assert_eq!(report(&server, "mgr1", &query), sup);
    assert_eq!(report(&server, "admin", &query), sup);
    let own = report(&server, "rep1", &query);
    assert_eq!(own["reps"].as_array().unwrap().len(), 1);
    assert_eq!(figures_of(row_of(&own, rep1)), e1);
    assert_eq!(
        figures_of(&own["teams"][0]),
        e1,
        "rep1's team is rep1 alone"
    );
    assert_eq!(figures_of(&own["total"]), e1);
    let other = report(&server, "rep1", &format!("{query}&person_id={rep2}"));
    assert_eq!(other["reps"], json!([]));
    assert_eq!(other["total"]["sales_amount"], 0);
    let one = report(&server, "sup1", &format!("{query}&person_id={rep2}"));
    assert_eq!(one["reps"].as_array().unwrap().len(), 1);
    assert_eq!(figures_of(&one["total"]), e2);
    crate::security_ids::other_team_supervisor(&server);
    let none = report(&server, "sup9", &query);
    assert_eq!((&none["reps"], &none["teams"]), (&json!([]), &json!([])));
    assert_eq!(none["total"]["sales_amount"], 0);
    assert_eq!(none["total"]["new_stores"], 0);

    // CSV: the reps, the team and the total, amounts in major units.
    let (status, content_type, csv) = get(
        &server,
        "sup1",
        &format!("/v1/reports/monthly?{query}&format=csv"),
    );
    let csv = String::from_utf8(csv).unwrap();
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 5, "{csv}");
    assert_eq!(lines[0], "level,team_id,team,person_id,person,sales_amount,sales_volume,target_amount,target_volume,achievement_bp,volume_achievement_bp,new_stores,dormant_stores,expense_amount,expense_ratio_bp,last_month_sales_amount,last_month_achievement_bp,last_month_expense_ratio_bp,last_year_sales_amount,last_year_achievement_bp,last_year_expense_ratio_bp,due_orders,delivered_on_time,delivered_late,delivery_not_recorded,on_time_bp,last_month_on_time_bp,last_year_on_time_bp");
    // The figures before the on-time delivery's (checked by `delivery_known_answers`).
    let lines: Vec<String> = lines
        .iter()
        .map(|l| l.rsplitn(8, ',').last().unwrap().to_string())
        .collect();
    let line_of = |who: &str| {
        lines
            .iter()
            .find(|l| l.contains(who))
            .unwrap_or_else(|| panic!("{who} in {csv}"))
    };
    assert!(line_of(&rep1.to_string()).starts_with("rep,"));
    assert!(
        line_of(&rep1.to_string()).ends_with(
            ",504.00,168,720.00,240,7000,7000,1,1,50.40,1000,144.00,12000,2000,72.00,7500,1000"
        ),
        "{csv}"
    );
    assert!(
        line_of(&rep2.to_string()).ends_with(
            ",288.00,96,240.00,120,12000,8000,1,2,72.00,2500,144.00,,2000,72.00,10000,0"
        ),
        "{csv}"
    );
    assert!(lines[3].starts_with("team,"), "{csv}");
    assert!(
        lines[3].ends_with(
            ",792.00,264,960.00,360,8250,7333,2,3,122.40,1545,288.00,24000,2000,144.00,8571,500"
        ),
        "{csv}"
    );
    assert!(
        lines[4]
            .starts_with("total,,Total 合计,,,792.00,264,960.00,360,8250,7333,2,3,122.40,1545,"),
        "{csv}"
    );

    // XLSX: the same figures, read back by openpyxl.
    let (status, content_type, bytes) = get(
        &server,
        "sup1",
        &format!("/v1/reports/monthly?{query}&format=xlsx"),
    );
    assert_eq!((status, content_type.as_str()), (200, XLSX_TYPE));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("monthly.xlsx");
    std::fs::write(&file, &bytes).unwrap();
    let book = read_workbook(&file);
    let teams = book["Teams 团队"].as_array().expect("the teams sheet");
    assert_eq!(
        teams.len(),
        3,
        "a header, the team and the total: {teams:?}"
    );
    assert_eq!(teams[0][0], "month");
    assert_eq!(teams[1][1], fieldsync_server::demo::DEMO_TEAM);
    assert_eq!(sheet_figures(teams[1].as_array().unwrap(), 2, &m), team);
    assert_eq!(teams[2][1], "Total 合计");
    assert_eq!(sheet_figures(teams[2].as_array().unwrap(), 2, &m), team);
    let reps = book["Reps 人员"].as_array().expect("the reps sheet");
    assert_eq!(reps.len(), 3, "a header and two reps: {reps:?}");
    for (id, e) in [(rep1, &e1), (rep2, &e2)] {
        let row = reps
            .iter()
            .find(|r| r[2] == id.to_string())
            .expect("the rep's row");
        assert_eq!(&sheet_figures(row.as_array().unwrap(), 4, &m), e);
    }

    // Bad filters: status, reason, a message naming the parameter.
    for (q, needle) in [
        ("", "month"),
        ("month=2026-13", "month"),
        ("month=2026-Q4", "month"),
        ("month=2026", "month"),
        ("month=0000-06", "month"),
        ("month=2026-11&person_id=me", "person_id"),
        ("month=2026-11&format=pdf", "format"),
    ] {
        let (status, _, body) = get(&server, "sup1", &format!("/v1/reports/monthly?{q}"));
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(status, 400, "{q}: {body}");
        assert_eq!(body["reason"], "invalid_query", "{q}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains(needle),
            "{q}: {body}"
        );
    }
    let unsigned = http()
        .get(&format!("{}/v1/reports/monthly?{query}", server.url))
        .call()
        .expect("request");
    assert_eq!(unsigned.status(), 401);
}

#[test]
fn monthly_report_has_the_known_answers_within_read_scopes() {
    known_answers(false);
}

#[test]
fn monthly_report_has_the_known_answers_within_read_scopes_postgres() {
    known_answers(true);
}

/// The console page in headless Chromium over the same set: a bar per rep and series with its
/// figure, the table per team with its reps, the download read back by openpyxl.
#[test]
fn monthly_report_in_the_console_with_chart_table_and_xlsx() {
    use fieldsync_e2e::webdriver::{screenshot_dir, Browser};

    use crate::console::{sign_in, HEIGHT, WIDTH};

    let server = TestServer::start();
    let m = Months::now();
    let (rep1, rep2) = seed(&server, &m);
    let (_, e2, team) = expected(&m);
    let names: std::collections::HashMap<String, String> = server.get_json(
        &server.token("sup1"),
        &format!("/v1/reports/monthly?month={}", m.this.as_str()),
    )["reps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["person_id"].as_str().unwrap().to_string(),
                r["person_name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let (name1, name2) = (&names[&rep1.to_string()], &names[&rep2.to_string()]);

    let shots = screenshot_dir("console-screenshots");
    let browser = Browser::start(WIDTH, HEIGHT);
    sign_in(&browser, &server, "sup1");
    browser.click(&browser.wait_for("nav a[href='/console/reports/monthly']"));
    browser.wait_for("figure.chart svg rect.bar");

    // Sales and target per rep, in whole units, each bar titled with its figure.
    let titles = browser.run(
        "return [...document.querySelectorAll('figure.chart rect.bar title')].map(t => t.textContent)",
        json!([]),
    );
    let mut titles: Vec<String> = serde_json::from_value(titles).unwrap();
    titles.sort();
    let mut expected_titles = vec![
        format!("{name1} · Sales 销售额: 504"),
        format!("{name1} · Target 目标: 720"),
        format!("{name2} · Sales 销售额: 288"),
        format!("{name2} · Target 目标: 240"),
    ];
    expected_titles.sort();
    assert_eq!(titles, expected_titles);

    // The table: the team's row with its two reps, and the total.
    assert_eq!(browser.find_all("table.monthly tbody tr.team").len(), 1);
    assert_eq!(browser.find_all("table.monthly tbody tr.rep").len(), 2);
    let cells = |selector: &str| {
        browser.run(
            "return [...document.querySelectorAll(arguments[0] + ' td')].map(t => t.textContent)",
            json!([selector]),
        )
    };
    // The on-time delivery's six cells last: nothing recorded in this set, so no rate and
    // nothing late, every due order not recorded.
    let split = |cells: Value| {
        let mut cells: Vec<Value> = serde_json::from_value(cells).unwrap();
        let delivery = cells.split_off(cells.len() - 6);
        assert_eq!(
            delivery[1..],
            [
                json!("0"),
                delivery[0].clone(),
                json!("–"),
                json!("–"),
                json!("–")
            ],
            "{delivery:?}"
        );
        json!(cells)
    };
    let rep2_cells = split(cells(&format!(
        "table.monthly tr.rep[data-person='{rep2}']"
    )));
    // name, sales, volume, target, target volume, achievement, new, dormant, expenses, ratio,
    // last month sales, achievement, ratio, last year sales, achievement, ratio
    assert_eq!(
        rep2_cells,
        json!([
            name2, "288.00", "96", "240.00", "120", "120.0 %", "1", "2", "72.00", "25.0 %",
            "144.00", "–", "20.0 %", "72.00", "100.0 %", "0.0 %"
        ])
    );
    assert_eq!(e2["achievement_bp"], 12_000);
    let team_cells = split(cells("table.monthly tr.team"));
    assert_eq!(
        team_cells,
        json!([
            "792.00", "264", "960.00", "360", "82.5 %", "2", "3", "122.40", "15.4 %", "288.00",
            "240.0 %", "20.0 %", "144.00", "85.7 %", "5.0 %"
        ])
    );
    assert_eq!(team["expense_ratio_bp"], 1_545);
    let total = browser.text(&browser.wait_for("table.monthly tr.total"));
    assert!(
        total.contains("Total 合计") && total.contains("792.00"),
        "{total}"
    );
    let note = browser.text(&browser.wait_for("#report p.note"));
    assert!(
        note.contains("On-time delivery") && note.contains("准时"),
        "{note}"
    );
    let heads = browser.text(&browser.wait_for("table.monthly thead"));
    assert!(heads.contains("On-time delivery 准时交付"), "{heads}");
    browser.full_page_screenshot(&shots.join("monthly.png"), WIDTH);
    // The table scrolled to its end: the on-time delivery's columns.
    browser.run(
        "const t = document.querySelector('.table-scroll'); t.scrollLeft = t.scrollWidth; return 1",
        json!([]),
    );
    browser.full_page_screenshot(&shots.join("monthly-delivery.png"), WIDTH);

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
        href.contains("/console/reports/monthly.xlsx?month="),
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
    let teams = book["Teams 团队"].as_array().expect("the teams sheet");
    assert_eq!(sheet_figures(teams[1].as_array().unwrap(), 2, &m), team);
    assert_eq!(book["Reps 人员"].as_array().unwrap().len(), 3);

    // The rep filter: rep2 alone, swapped in place.
    browser.run(
        "const s = document.querySelector('select[name=person]'); s.value = arguments[0]; \
         s.dispatchEvent(new Event('change', {bubbles: true})); return 1",
        json!([rep2.to_string()]),
    );
    browser.wait_for(&format!("table.monthly tr.rep[data-person='{rep2}']"));
    for _ in 0..50 {
        if browser.find_all("table.monthly tr.rep").len() == 1 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(browser.find_all("table.monthly tr.rep").len(), 1);
    assert_eq!(browser.find_all("figure.chart svg rect.bar").len(), 2);

    // rep1 signed in sees their own figures only.
    sign_in(&browser, &server, "rep1");
    browser.goto(&format!("{}/console/reports/monthly", server.url));
    browser.wait_for("figure.chart svg rect.bar");
    assert_eq!(browser.find_all("table.monthly tr.rep").len(), 1);
    assert_eq!(
        browser
            .find_all(&format!("table.monthly tr.rep[data-person='{rep1}']"))
            .len(),
        1
    );
    eprintln!("console screenshots: {}", shots.display());
}

/// Order on-time delivery over a set of its own, in the month before this one (whole days in
/// the past, whatever today is): P is that month, P+n its (n+1)-th day.
///
/// | order | rep  | store   | ordered | requested | delivered           | in P     |
/// |-------|------|---------|---------|-----------|---------------------|----------|
/// | A     | rep1 | NKA-005 | P       | P+5       | P+4 (rep1's phone)  | on time  |
/// | B     | rep1 | NKA-002 | P       | P+7       | P+7 (rep1's phone)  | on time  |
/// | C     | rep1 | NKA-004 | P       | P+9       | P+12 (rep1's phone) | late     |
/// | D     | rep1 | NKA-001 | P       | P+11      | refused 3 times     | not recorded |
/// | E     | rep1 | RKA-001 | P-1     | P+2       | P+1 (rep1's phone)  | on time  |
/// | F     | rep1 | RKA-002 | P       | P+1 month | -                   | not due  |
/// | H     | rep2 | LKA-001 | P       | P+4       | P+9 (sup1's phone)  | late     |
/// | I     | rep2 | LKA-003 | P-1     | P-1 +6    | P-1 +6 (sup1)       | last month, on time |
/// | J     | rep2 | LKA-005 | P-12    | P-12 +5   | P-12 +8 (sup1)      | last year, late |
///
/// rep1: 5 due, 3 on time, 1 late, 1 not recorded: 7500 bp (3 of the 4 recorded). rep2: 1 due,
/// late: 0 bp; last month 10000 bp, last year 0 bp. The team: 6 due, 3 on time, 2 late, 1 not
/// recorded: 6000 bp.
fn delivery_known_answers(postgres: bool) {
    use fieldsync_shared::order::Delivery;

    use crate::write_policies::copy_for;

    let (server, _db) = start(postgres);
    let now = Months::now();
    let p = now.back[1].clone();
    let day = |months_back: u32, n: i64| p.month_before(months_back).unwrap().start().add_days(n);
    let rep1 = TestDevice::login(&server, "rep1");
    let rep2 = TestDevice::login(&server, "rep2");
    let sup = TestDevice::login(&server, "sup1");
    let (raw1, raw2) = (server.device_token("rep1"), server.device_token("rep2"));
    let (id1, id2) = (
        rep1.org_view().unwrap().user_id,
        rep2.org_view().unwrap().user_id,
    );
    let (t1, t2) = (
        template(&server, "rep1", "NKA-001"),
        template(&server, "rep2", "LKA-001"),
    );
    let mut seq = 0;
    let mut order = |parts, store, ordered: Date, requested: Date| {
        seq += 1;
        sold_order(&server, parts, (store, 1), ordered, seq, requested)
    };
    let r1 = (&rep1, &raw1, &t1);
    let r2 = (&rep2, &raw2, &t2);
    let a = order(r1, "NKA-005", day(0, 0), day(0, 5));
    let b = order(r1, "NKA-002", day(0, 0), day(0, 7));
    let c = order(r1, "NKA-004", day(0, 0), day(0, 9));
    let d = order(r1, "NKA-001", day(0, 0), day(0, 11));
    let e = order(r1, "RKA-001", day(1, 0), day(0, 2));
    let _f = order(r1, "RKA-002", day(0, 0), now.this.start().add_days(3));
    let h = order(r2, "LKA-001", day(0, 0), day(0, 4));
    let i = order(r2, "LKA-003", day(1, 0), day(1, 6));
    let j = order(r2, "LKA-005", day(12, 0), day(12, 5));

    // rep1's phone, offline: pulls its orders, records four deliveries, syncs once.
    rep1.sync().unwrap();
    for (id, on) in [
        (a, day(0, 4)),
        (b, day(0, 7)),
        (c, day(0, 12)),
        (e, day(0, 1)),
    ] {
        rep1.record_delivery(id, on)
            .expect("rep1 records the delivery");
    }
    // The supervisor records rep2's from the distributor's word.
    sup.sync().unwrap();
    for (id, on) in [(h, day(0, 9)), (i, day(1, 6)), (j, day(12, 8))] {
        sup.record_delivery(id, on)
            .expect("sup1 records the delivery");
    }
    rep1.sync().unwrap();
    sup.sync().unwrap();
    let delivered = |id: DocId| {
        server.get_json(&server.token("admin"), &format!("/v1/orders/{id}"))["document"]["delivery"]
            .clone()
    };
    assert_eq!(delivered(a)["delivered_on"], day(0, 4).to_string());
    assert_eq!(delivered(a)["recorded_by"], id1.to_string());
    assert_eq!(
        delivered(h)["recorded_by"],
        sup.org_view().unwrap().user_id.to_string()
    );

    // Refused on the server, told to the one who pushed: D delivered tomorrow, before it was
    // ordered, and by a colleague at the store (merch1). D stays not recorded.
    let merch = server.device_token("merch1");
    let merch_id = TestDevice::login(&server, "merch1")
        .org_view()
        .unwrap()
        .user_id;
    for (raw, by, on, code) in [
        (&raw1, id1, today().add_days(1), "delivery_date_invalid"),
        (&raw1, id1, day(1, 20), "delivery_date_invalid"),
        (&merch, merch_id, day(0, 12), "not_author_or_supervisor"),
    ] {
        // rep1's phone holds every change of D so far (raw1's earlier ones included).
        rep1.sync().unwrap();
        let mut doc = copy_for(&rep1, d, &raw.actor);
        let heads = doc.get_heads();
        let mut o = hydrate_order(&doc).unwrap();
        o.delivery = Some(Delivery {
            delivered_on: on,
            recorded_by: by,
            recorded_at: Timestamp::now(),
        });
        reconcile_order(&mut doc, &o).unwrap();
        doc.commit();
        let changes = doc
            .get_changes(&heads)
            .iter()
            .map(|c| c.raw_bytes().to_vec())
            .collect();
        let resp = push_raw(&server, raw, d, DocKind::Order, changes);
        let PushResult::Stored { refused_edits, .. } = &resp.outcomes[0].result else {
            panic!("stored with a refused edit expected: {:?}", resp.outcomes);
        };
        assert_eq!(refused_edits.len(), 1, "{on}: {refused_edits:?}");
        assert_eq!(
            (
                refused_edits[0].field.as_str(),
                refused_edits[0].code.as_str()
            ),
            ("delivery", code),
            "{on}: {refused_edits:?}"
        );
        assert!(!refused_edits[0].message.is_empty());
        assert_eq!(delivered(d), Value::Null, "{on}");
    }
    // And on rep1's phone: recorded once.
    rep1.sync().unwrap();
    assert!(matches!(
        rep1.record_delivery(a, day(0, 5)),
        Err(fieldsync_client::DeviceError::Forbidden { ref code, .. }) if code == "delivery_recorded"
    ));
    assert_eq!(rep1.order(d).unwrap().delivery, None);

    let figures = |due: i64, on_time: i64, late: i64, not_recorded: i64, bp: Option<i64>| {
        json!({"due_orders": due, "delivered_on_time": on_time, "delivered_late": late,
               "not_recorded": not_recorded, "on_time_bp": bp})
    };
    let (e1, e2, team) = (
        figures(5, 3, 1, 1, Some(7_500)),
        figures(1, 0, 1, 0, Some(0)),
        figures(6, 3, 2, 1, Some(6_000)),
    );
    let comparisons = |row: &Value| {
        (
            row["last_month"]["on_time_bp"].clone(),
            row["last_year"]["on_time_bp"].clone(),
        )
    };
    let query = format!("month={}", p.as_str());
    let r = report(&server, "sup1", &query);
    assert_eq!(row_of(&r, id1)["delivery"], e1, "{r}");
    assert_eq!(row_of(&r, id2)["delivery"], e2, "{r}");
    assert_eq!(r["teams"][0]["delivery"], team);
    assert_eq!(r["total"]["delivery"], team);
    assert_eq!(comparisons(row_of(&r, id1)), (Value::Null, Value::Null));
    assert_eq!(comparisons(row_of(&r, id2)), (json!(10_000), json!(0)));
    assert_eq!(comparisons(&r["total"]), (json!(10_000), json!(0)));
    // Within read scopes: rep1 sees only their own.
    let own = report(&server, "rep1", &query);
    assert_eq!(own["total"]["delivery"], e1);

    // CSV: the on-time delivery's seven columns last.
    let (status, _, csv) = get(
        &server,
        "sup1",
        &format!("/v1/reports/monthly?{query}&format=csv"),
    );
    assert_eq!(status, 200);
    let csv = String::from_utf8(csv).unwrap();
    let line_of = |who: &str| {
        csv.lines()
            .find(|l| l.contains(who))
            .unwrap_or_else(|| panic!("{who} in {csv}"))
            .to_string()
    };
    assert!(
        line_of(&id1.to_string()).ends_with(",5,3,1,1,7500,,"),
        "{csv}"
    );
    assert!(
        line_of(&id2.to_string()).ends_with(",1,0,1,0,0,10000,0"),
        "{csv}"
    );
    assert!(
        line_of("total,").ends_with(",6,3,2,1,6000,10000,0"),
        "{csv}"
    );

    // XLSX: the same, in percent.
    let (status, _, bytes) = get(
        &server,
        "sup1",
        &format!("/v1/reports/monthly?{query}&format=xlsx"),
    );
    assert_eq!(status, 200);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("delivery.xlsx");
    std::fs::write(&file, &bytes).unwrap();
    let book = read_workbook(&file);
    let teams = book["Teams 团队"].as_array().expect("the teams sheet");
    assert_eq!(teams[0][18 + 4], "on_time_pct");
    assert_eq!(sheet_delivery(teams[1].as_array().unwrap(), 2), team);
    assert_eq!(sheet_delivery(teams[2].as_array().unwrap(), 2), team);
    assert_eq!(teams[2][2 + 21].as_f64(), Some(100.0), "last month's rate");
    let reps = book["Reps 人员"].as_array().expect("the reps sheet");
    for (id, e) in [(id1, &e1), (id2, &e2)] {
        let row = reps
            .iter()
            .find(|r| r[2] == id.to_string())
            .expect("the rep's row");
        assert_eq!(&sheet_delivery(row.as_array().unwrap(), 4), e);
    }
}

#[test]
fn monthly_report_counts_on_time_deliveries_recorded_offline() {
    delivery_known_answers(false);
}

#[test]
fn monthly_report_counts_on_time_deliveries_recorded_offline_postgres() {
    delivery_known_answers(true);
}
