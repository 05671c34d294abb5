//! The visit-frequency report in the console, in a real headless Chromium: rep1 (with a plan)
//! and rep2 (without) each visit one store; sup1 opens the report for the week and sees the
//! chart drawn as SVG (one bar per figure, each titled with it), the figures per rep, and the
//! stores behind rep1's figures after a click (swapped in place); the XLSX download, fetched by
//! the browser with its own session, is read back by openpyxl (installed by
//! `scripts/xlsx-check-tools.sh`) with the same figures as the API's `format=xlsx`. The weekly
//! report page draws a bar per figure and rep and rep1's row. rep1 signed in sees only their
//! own row. Screenshots are written to `<target dir>/console-screenshots/`.

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

use fieldsync_e2e::webdriver::{screenshot_dir, Browser};
use fieldsync_e2e::{http, TestDevice, TestServer};
use fieldsync_server::reports::format::XLSX_TYPE;
use fieldsync_shared::plan::IsoWeek;

use crate::bindgen::workspace_root;
use crate::console::{sign_in, HEIGHT, WIDTH};
use crate::write_policies::{submitted_visit, today};

/// Reads every sheet of a workbook: `{sheet name: [[cell, ...], ...]}` as JSON.
const READ_WORKBOOK: &str = "import json, sys, openpyxl\n\
wb = openpyxl.load_workbook(sys.argv[1], read_only=True)\n\
print(json.dumps({ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}, default=str))\n";

/// The workbook at `path` as openpyxl reads it.
pub(crate) fn read_workbook(path: &Path) -> Value {
    let script = workspace_root().join("scripts/xlsx-check-tools.sh");
    let out = Command::new(&script)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", script.display()));
    assert!(
        out.status.success(),
        "{} failed:\n{}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let python = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let out = Command::new(python)
        .arg("-c")
        .arg(READ_WORKBOOK)
        .arg(path)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "openpyxl could not read {}:\n{}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON from the workbook reader")
}

/// A row's cells as numbers where they are numbers.
fn numbers(row: &Value, columns: std::ops::Range<usize>) -> Vec<f64> {
    columns
        .map(|c| {
            row[c]
                .as_f64()
                .unwrap_or_else(|| panic!("column {c} of {row}"))
        })
        .collect()
}

#[test]
fn visit_frequency_report_in_the_console_with_chart_drill_down_and_xlsx() {
    let server = TestServer::start();
    let week = IsoWeek::of(today());
    let rep1 = TestDevice::login(&server, "rep1");
    let rep2 = TestDevice::login(&server, "rep2");
    let rep1_id = rep1.profile().unwrap().unwrap().id;
    let mut resp = http()
        .post(&format!("{}/v1/plans/generate", server.url))
        .header("Authorization", &format!("Bearer {}", server.token("rep1")))
        .send_json(json!({"week": week.to_string(), "daily_capacity": 4}))
        .unwrap();
    assert_eq!(
        resp.status(),
        200,
        "{}",
        resp.body_mut().read_to_string().unwrap()
    );
    submitted_visit(&rep1, &rep1.store_by_code("NKA-001").unwrap());
    rep1.sync().unwrap();
    submitted_visit(&rep2, &rep2.store_by_code("LKA-001").unwrap());
    rep2.sync().unwrap();

    let shots = screenshot_dir("console-screenshots");
    let browser = Browser::start(WIDTH, HEIGHT);
    sign_in(&browser, &server, "sup1");
    browser.click(&browser.wait_for("nav a[href='/console/reports/visit-frequency']"));
    browser.wait_for("figure.chart svg rect.bar");
    let page = format!(
        "{}/console/reports/visit-frequency?from={week}&to={week}",
        server.url
    );
    browser.goto(&page);

    // The chart: one bar per figure of the week, each titled with its figure.
    browser.wait_for("figure.chart svg rect.bar");
    assert_eq!(browser.find_all("figure.chart svg rect.bar").len(), 4);
    let titles = browser.run(
        "return [...document.querySelectorAll('figure.chart rect.bar title')].map(t => t.textContent)",
        json!([]),
    );
    assert_eq!(
        titles,
        json!([
            format!("{week} · Required 应访: 38"),
            format!("{week} · Planned 计划: 16"),
            format!("{week} · Done 已访: 2"),
            format!("{week} · Overdue 逾期: 35"),
        ])
    );
    assert!(browser
        .run(
            "return document.querySelector('figure.chart svg').getAttribute('aria-label')",
            json!([])
        )
        .as_str()
        .is_some_and(|l| l.starts_with("Visits required, planned and done")));

    // Per rep and week: rep1, rep2 and merch1 cover stores.
    assert_eq!(browser.find_all("table.per-rep tbody tr").len(), 3);
    let rep1_row = format!("table.per-rep tr[data-person='{rep1_id}']");
    let cells = browser.run(
        "return [...document.querySelectorAll(arguments[0] + ' td')].map(t => t.textContent)",
        json!([rep1_row]),
    );
    // stores, required, planned, done, unplanned, overdue, compliance
    assert_eq!(
        cells.as_array().unwrap()[2..9],
        ["16", "16", "16", "1", "0", "15", "6 %"].map(Value::from)
    );

    // Drill-down: the stores behind rep1's figures, swapped in without a reload.
    browser.run("window.notReloaded = true; return 1", json!([]));
    browser.click(&browser.wait_for(&format!("{rep1_row} a.drill")));
    browser.wait_for("#drill table.stores tbody tr");
    assert_eq!(browser.find_all("#drill table.stores tbody tr").len(), 16);
    assert_eq!(
        browser
            .find_all("#drill table.stores tbody tr.overdue")
            .len(),
        15
    );
    let drill = browser.text(&browser.wait_for("#drill"));
    assert!(drill.contains("NKA-001"), "{drill}");
    assert_eq!(
        browser.run("return window.notReloaded === true", json!([])),
        true,
        "the drill-down was swapped in place"
    );
    browser.full_page_screenshot(&shots.join("reports.png"), WIDTH);

    // The download, fetched by the browser with its own session (bytes through a binary string).
    let href = browser
        .run(
            "return document.querySelector('a.download').href",
            json!([]),
        )
        .as_str()
        .expect("the download link")
        .to_string();
    assert!(href.contains(".xlsx?"), "{href}");
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
    assert_eq!(&bytes[..2], b"PK", "an XLSX file is a zip archive");
    let dir = tempfile::tempdir().expect("temp dir");
    let console_file = dir.path().join("console.xlsx");
    std::fs::write(&console_file, &bytes).expect("write the download");
    let book = read_workbook(&console_file);

    let weeks = &book["Weeks 周汇总"];
    assert_eq!(
        weeks[0],
        json!([
            "week",
            "required",
            "planned",
            "done",
            "unplanned",
            "overdue"
        ])
    );
    assert_eq!(weeks[1][0], week.to_string());
    assert_eq!(numbers(&weeks[1], 1..6), [38.0, 16.0, 2.0, 1.0, 35.0]);
    let reps = book["Reps 人员"].as_array().expect("the reps sheet");
    assert_eq!(reps.len(), 4, "a header and three reps: {reps:?}");
    let rep1_sheet_row = reps
        .iter()
        .find(|r| r[1] == rep1_id.to_string())
        .expect("rep1's row");
    assert_eq!(
        numbers(rep1_sheet_row, 3..10),
        [16.0, 16.0, 16.0, 1.0, 0.0, 15.0, 6.0]
    );
    let stores = book["Stores 门店"].as_array().expect("the stores sheet");
    assert_eq!(stores.len(), 39, "a header and 38 rows");
    let visited: Vec<&Value> = stores.iter().filter(|r| r[9] == json!(1)).collect();
    assert_eq!(visited.len(), 2, "two stores visited");

    // The API's format=xlsx has the same content.
    let mut resp = http()
        .get(&format!(
            "{}/v1/reports/visit-frequency?from={week}&to={week}",
            server.url
        ))
        .header("Authorization", &format!("Bearer {}", server.token("sup1")))
        .header("Accept", XLSX_TYPE)
        .call()
        .expect("the API's workbook");
    assert_eq!(resp.status(), 200);
    let disposition = resp
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        disposition,
        format!("attachment; filename=\"visit-frequency-{week}-{week}.xlsx\"")
    );
    let api_file = dir.path().join("api.xlsx");
    std::fs::write(
        &api_file,
        resp.body_mut().read_to_vec().expect("the workbook's bytes"),
    )
    .expect("write");
    assert_eq!(read_workbook(&api_file), book);

    // The weekly report: a bar per figure and rep (rep1, rep2, merch1), and rep1's row.
    browser.click(&browser.wait_for("nav a[href='/console/reports/rep-weekly']"));
    browser.wait_for("figure.chart svg rect.bar");
    assert_eq!(browser.find_all("figure.chart svg rect.bar").len(), 12);
    let cells = browser.run(
        "return [...document.querySelectorAll(arguments[0] + ' td')].map(t => t.textContent)",
        json!([format!("table.weekly tr[data-person='{rep1_id}']")]),
    );
    // planned, done, unplanned, orders, amount
    assert_eq!(
        cells.as_array().unwrap()[1..6],
        ["16", "1", "0", "0", "0.00"].map(Value::from)
    );
    browser.full_page_screenshot(&shots.join("weekly.png"), WIDTH);

    // rep1 signed in sees their own figures only.
    sign_in(&browser, &server, "rep1");
    browser.goto(&page);
    browser.wait_for("figure.chart svg rect.bar");
    assert_eq!(browser.find_all("table.per-rep tbody tr").len(), 1);
    assert_eq!(browser.find_all(&rep1_row).len(), 1);
    eprintln!("console screenshots: {}", shots.display());
}
