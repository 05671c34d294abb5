//! One store's shelf as recorded at a past visit (docs/reports.md, "The shelf at a past
//! visit"), over the store-opportunity test's three weeks (`store_opportunity::seed`):
//! NKA-001 audited in W0 (COLA 6, TEA out, a competitor's RIVAL 10) and W2 (COLA 8, TEA 4),
//! a must-carry range of COLA and TEA. The API on both engines, within the read scopes, with
//! its bad queries; the console page in headless Chromium.

use serde_json::{json, Value};

use fieldsync_e2e::{http, TestDevice, TestServer};
use fieldsync_shared::StoreId;

use crate::store_opportunity::{import, seed, weeks};
use crate::verdicts::start;

fn shelf(server: &TestServer, user: &str, store: &str, query: &str) -> (u16, Value) {
    let mut resp = http()
        .get(&format!("{}/v1/stores/{store}/shelf?{query}", server.url))
        .header("Authorization", &format!("Bearer {}", server.token(user)))
        .call()
        .expect("request");
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_json().expect("JSON"))
}

fn store_id(server: &TestServer, code: &str) -> StoreId {
    TestDevice::login(server, "rep1")
        .store_by_code(code)
        .expect("store")
        .id
}

/// `(sku, facings, on_shelf)` of some lines.
fn lines(lines: &Value) -> Value {
    Value::Array(
        lines
            .as_array()
            .expect("lines")
            .iter()
            .map(|l| json!([l["sku"], l["facings"], l["on_shelf"]]))
            .collect(),
    )
}

fn known_shelves(postgres: bool) {
    let (server, _db) = start(postgres);
    seed(&server);
    // A picture of success for the NKA channel, which none of the audits scored.
    import(
        &server,
        "success-pictures",
        "code,title,store_code,chain,channel,point,label,kind,weight,sku,reference_photos\n\
         NKA-POS,NKA shelf,,,nka,BLOCK,Brand block,shelf_blocking,3,,\n\
         NKA-POS,NKA shelf,,,nka,EYE,Cola at eye level,eye_level,1,COLA-330,\n",
    );
    let [w0, w1, w2] = weeks();
    let nka1 = store_id(&server, "NKA-001").to_string();

    // Mid W1: W0's audit stood; W2's is next.
    let mid_w1 = w1.monday().add_days(2);
    let (status, body) = shelf(&server, "sup1", &nka1, &format!("at={mid_w1}"));
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (&body["store_code"], &body["chain"], &body["at"]),
        (
            &json!("NKA-001"),
            &json!("Walmart"),
            &json!(mid_w1.to_string())
        )
    );
    let dates: Vec<&Value> = body["audits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["date"])
        .collect();
    assert_eq!(dates, [&json!(w0.monday().to_string())]);
    assert_eq!(body["next"]["date"], w2.monday().to_string());
    let s = &body["shelf"];
    assert_eq!(s["visit_date"], w0.monday().to_string());
    assert_eq!(
        lines(&s["own_lines"]),
        json!([["COLA-330", 6, true], ["TEA-500", 0, false]])
    );
    assert_eq!(s["own_lines"][0]["product"], "可乐 Cola 330ml can");
    assert_eq!(
        lines(&s["competitor_lines"]),
        json!([["RIVAL-COLA-330", 10, true]])
    );
    assert_eq!(s["competitor_lines"][0]["product"], Value::Null);
    let expected: Vec<Value> = s["expected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| json!([e["sku"], e["on_shelf"]]))
        .collect();
    assert_eq!(
        expected,
        [json!(["COLA-330", true]), json!(["TEA-500", false])]
    );
    assert_eq!(
        (&s["distribution_bp"], &s["out_of_stock_bp"]),
        (&json!(5000), &json!(5000))
    );
    assert_eq!(s["agreements"], json!([]));
    assert_eq!(s["success_picture"], "NKA shelf");
    let points: Vec<Value> = s["success_points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| json!([p["code"], p["weight"], p["status"]]))
        .collect();
    assert_eq!(
        points,
        [json!(["BLOCK", 3, null]), json!(["EYE", 1, null])],
        "in the picture's order, not scored"
    );
    assert_eq!(s["success_score_bp"], 0);

    // On W2's Monday: W2's audit, both listed newest first, nothing after.
    let (_, body) = shelf(&server, "sup1", &nka1, &format!("at={}", w2.monday()));
    assert_eq!(body["audits"].as_array().unwrap().len(), 2);
    assert_eq!(body["audits"][0]["date"], w2.monday().to_string());
    assert_eq!(body["next"], Value::Null);
    assert_eq!(
        lines(&body["shelf"]["own_lines"]),
        json!([["COLA-330", 8, true], ["TEA-500", 4, true]])
    );
    assert_eq!(body["shelf"]["distribution_bp"], 10_000);

    // Before the first audit: no shelf, the first audit next.
    let before = w0.monday().add_days(-1);
    let (status, body) = shelf(&server, "sup1", &nka1, &format!("at={before}"));
    assert_eq!(status, 200);
    assert_eq!(
        (&body["shelf"], &body["audits"]),
        (&Value::Null, &json!([]))
    );
    assert_eq!(body["next"]["date"], w0.monday().to_string());

    // Read scopes: rep1's territory and the manager's region see it; rep2 (LKA) does not,
    // nor a store id that names nothing.
    let at = format!("at={mid_w1}");
    let sup = shelf(&server, "sup1", &nka1, &at).1;
    assert_eq!(shelf(&server, "rep1", &nka1, &at), (200, sup.clone()));
    assert_eq!(shelf(&server, "mgr1", &nka1, &at), (200, sup));
    for (user, store) in [
        ("rep2", nka1.clone()),
        ("sup1", StoreId::new_random().to_string()),
    ] {
        let (status, body) = shelf(&server, user, &store, &at);
        assert_eq!(
            (status, &body["reason"]),
            (404, &json!("not_found")),
            "{user}: {body}"
        );
    }

    // Bad queries: status, reason, the parameter named.
    for (store, query, needle) in [
        (nka1.as_str(), "at=yesterday", "at"),
        (nka1.as_str(), "at=2026-02-30", "at"),
        ("NKA-001", "", "id"),
    ] {
        let (status, body) = shelf(&server, "sup1", store, query);
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["reason"], "invalid_query", "{query}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains(needle),
            "{query}: {body}"
        );
    }
}

#[test]
fn the_shelf_at_a_past_visit_within_read_scopes() {
    known_shelves(false);
}

#[test]
fn the_shelf_at_a_past_visit_within_read_scopes_postgres() {
    known_shelves(true);
}

/// The page in headless Chromium: from the store-opportunity drill-down to the shelf of W0's
/// audit, its missing SKU marked, one step later to W2's.
#[test]
fn the_shelf_at_a_past_visit_in_the_console() {
    use fieldsync_e2e::webdriver::{screenshot_dir, Browser};

    use crate::console::{sign_in, HEIGHT, WIDTH};

    let (server, _db) = start(false);
    seed(&server);
    let [w0, _, w2] = weeks();
    let nka1 = store_id(&server, "NKA-001");

    let shots = screenshot_dir("console-screenshots");
    let browser = Browser::start(WIDTH, HEIGHT);
    sign_in(&browser, &server, "sup1");
    browser.goto(&format!(
        "{}/console/reports/store-opportunity?from={w0}&to={w2}&store={nka1}",
        server.url
    ));
    browser.click(&browser.wait_for("section.drill a.shelf"));
    browser.wait_for("main.shelf table.audit.own");
    let text = browser.text_of_page();
    assert!(text.contains(&w0.monday().to_string()), "{text}");
    assert_eq!(
        browser
            .find_all("table.audit.own tr[data-sku='TEA-500'].finding")
            .len(),
        1,
        "TEA out of stock"
    );
    assert_eq!(
        browser.find_all("ul.range li.missing").len(),
        1,
        "TEA missing from the range"
    );
    assert_eq!(
        browser
            .find_all("table.audit.rivals tr[data-sku='RIVAL-COLA-330']")
            .len(),
        1
    );
    browser.full_page_screenshot(&shots.join("store-shelf.png"), WIDTH);

    browser.click(&browser.wait_for("a.step.later"));
    browser.wait_until(
        "W2's audit",
        &format!(
            "return document.querySelector('p.meta strong')?.textContent === '{}'",
            w2.monday()
        ),
    );
    assert!(browser.find_all("ul.range li.missing").is_empty());
    assert_eq!(browser.find_all("a.step.earlier").len(), 1);
}
