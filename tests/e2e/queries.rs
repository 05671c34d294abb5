//! The query API: a supervisor filters visits and orders by store, person, date and status.

use fieldsync_e2e::{TestDevice, TestServer};
use fieldsync_shared::order::PaymentMethod;
use fieldsync_shared::{Date, Timestamp};

#[test]
fn visits_and_orders_are_filtered_by_store_person_date_and_status() {
    let server = TestServer::start();
    // rep1 and merch1 both cover NKA-001 (read scopes); sup1 supervises both.
    let rep1 = TestDevice::login(&server, "rep1");
    let merch1 = TestDevice::login(&server, "merch1");
    let s0 = rep1.store_by_code("NKA-001").unwrap();
    let s1 = rep1.store_by_code("RKA-001").unwrap();
    let d1 = Date::parse("2026-03-02").unwrap();
    let d2 = Date::parse("2026-03-09").unwrap();

    let v1 = rep1.start_visit(s0.id, d1).unwrap();
    let _v2 = rep1.start_visit(s1.id, d2).unwrap();
    let v3 = merch1.start_visit(s0.id, d2).unwrap();
    let product = rep1.products().unwrap()[0].clone();
    let (o1, _) = rep1
        .create_order(
            s0.id,
            Timestamp::now().utc_date().add_days(7),
            PaymentMethod::Cash,
            Some(v1),
        )
        .unwrap();
    rep1.set_order_line(o1, product.sku.as_str(), product.case_pack, None)
        .unwrap();
    rep1.submit_order(o1).unwrap();
    rep1.sync().unwrap();
    merch1.sync().unwrap();

    let token = server.token("sup1");
    let ids = |q: &str| -> Vec<String> {
        let mut v: Vec<String> = server.get_json(&token, q)["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };

    assert_eq!(ids("/v1/visits").len(), 3);
    assert_eq!(
        ids(&format!("/v1/visits?store_id={}", s0.id)),
        sorted(vec![v1.to_string(), v3.to_string()])
    );
    let merch1_id = merch1.profile().unwrap().unwrap().id;
    assert_eq!(
        ids(&format!("/v1/visits?person_id={merch1_id}")),
        vec![v3.to_string()]
    );
    assert_eq!(
        ids("/v1/visits?from=2026-03-01&to=2026-03-02"),
        vec![v1.to_string()]
    );
    assert_eq!(
        ids(&format!(
            "/v1/visits?store_id={}&from=2026-03-09&to=2026-03-09",
            s0.id
        )),
        vec![v3.to_string()]
    );
    assert_eq!(ids("/v1/visits?status=planned").len(), 3);
    assert!(ids("/v1/visits?status=approved").is_empty());

    assert_eq!(ids("/v1/orders?status=submitted"), vec![o1.to_string()]);
    assert!(ids("/v1/orders?status=draft").is_empty());
    let order = server.get_json(&token, &format!("/v1/orders/{o1}"));
    assert_eq!(
        order["document"]["visit_id"],
        serde_json::json!(v1.to_string())
    );

    // Pagination: one item per page walks all three visits exactly once.
    let mut seen = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let q = match &next {
            Some(after) => format!("/v1/visits?limit=1&after={after}"),
            None => "/v1/visits?limit=1".to_string(),
        };
        let page = server.get_json(&token, &q);
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 1);
        seen.extend(items.iter().map(|i| i["id"].as_str().unwrap().to_string()));
        match page["next"].as_str() {
            Some(n) => next = Some(n.to_string()),
            None => break,
        }
        assert!(seen.len() <= 3, "pagination must terminate");
    }
    assert_eq!(sorted(seen), ids("/v1/visits"));

    // Bad filters are refused with a reason naming the parameter.
    let resp = fieldsync_e2e::http()
        .get(&format!("{}/v1/visits?from=yesterday", server.url))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap();
    assert_eq!(resp.status(), 400);
}
