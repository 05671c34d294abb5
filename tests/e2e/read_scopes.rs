//! Read scopes (docs/read-scopes.md) with the demo organisation: rep1 covers the NKA and RKA
//! stores, rep2 LKA and OTH, merch1 NKA; sup1 supervises the three; mgr1 manages their region.
//! Devices hold exactly what their user may see; queries and photos answer 404 outside the
//! scope; moving a store or a person evicts from the devices that lost access and delivers to
//! those that gained it, also when the evicting response is lost.

use std::collections::BTreeSet;

use fieldsync_client::Device;
use fieldsync_e2e::process::PgDatabase;
use fieldsync_e2e::proxy::DroppingProxy;
use fieldsync_e2e::{http, photo_file, TestDevice, TestServer};
use fieldsync_server::config::Secret;
use fieldsync_server::demo::{demo_store_id, demo_team_id, demo_territory_id, demo_user_id};
use fieldsync_shared::{DocId, Timestamp};

/// Runs `test` against a server on SQLite, or on a fresh PostgreSQL database of the test
/// server `scripts/with-postgres.sh` starts (failing without it).
fn on(postgres: bool, test: impl FnOnce(&TestServer)) {
    let db = postgres.then(PgDatabase::create);
    let server = TestServer::start_with(|c| {
        if let Some(db) = &db {
            c.database_url = Some(Secret::new(db.url()));
        }
    });
    test(&server);
}

/// A visit of `dev`'s user at the store with `code`, planned today.
fn visit_at(dev: &Device, code: &str) -> DocId {
    let store = dev
        .store_by_code(code)
        .expect("the store is in the user's scope");
    dev.start_visit(store.id, Timestamp::now().utc_date())
        .expect("start visit")
}

fn held(dev: &Device) -> BTreeSet<DocId> {
    dev.document_ids(None).unwrap().into_iter().collect()
}

fn set(ids: &[DocId]) -> BTreeSet<DocId> {
    ids.iter().copied().collect()
}

fn store_codes(dev: &Device) -> BTreeSet<String> {
    dev.stores()
        .unwrap()
        .into_iter()
        .map(|s| s.code.as_str().to_string())
        .collect()
}

/// GET with a bearer token; the status and the JSON body (`null` when there is none).
fn get(server: &TestServer, token: &str, path: &str) -> (u16, serde_json::Value) {
    let mut resp = http()
        .get(&format!("{}{path}", server.url))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .read_json()
        .unwrap_or(serde_json::Value::Null);
    (status, body)
}

/// PATCH an administration resource as `admin`; panics unless 200.
fn patch(server: &TestServer, admin: &str, path: &str, body: serde_json::Value) {
    let mut resp = http()
        .patch(&format!("{}{path}", server.url))
        .header("Authorization", &format!("Bearer {admin}"))
        .send_json(&body)
        .unwrap_or_else(|e| panic!("PATCH {path}: {e}"));
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    assert_eq!(status, 200, "PATCH {path}: {text}");
}

fn post(server: &TestServer, admin: &str, path: &str, body: serde_json::Value) {
    let mut resp = http()
        .post(&format!("{}{path}", server.url))
        .header("Authorization", &format!("Bearer {admin}"))
        .send_json(&body)
        .unwrap_or_else(|e| panic!("POST {path}: {e}"));
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    assert_eq!(status, 201, "POST {path}: {text}");
}

/// The demo territory `name` with `remove` taken out of its stores and `add` put in.
fn move_stores(server: &TestServer, admin: &str, name: &str, remove: &[&str], add: &[&str]) {
    let path = format!("/v1/admin/territories/{}", demo_territory_id(name));
    let (status, territory) = get(server, admin, &path);
    assert_eq!(status, 200);
    let remove: Vec<String> = remove
        .iter()
        .map(|c| demo_store_id(c).to_string())
        .collect();
    let mut stores: Vec<String> = territory["store_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .filter(|s| !remove.contains(s))
        .collect();
    stores.extend(add.iter().map(|c| demo_store_id(c).to_string()));
    patch(
        server,
        admin,
        &path,
        serde_json::json!({ "store_ids": stores }),
    );
}

#[test]
fn each_device_holds_only_its_scope_and_queries_answer_404_outside_it() {
    on(false, each_device_holds_only_its_scope);
}

#[test]
fn each_device_holds_only_its_scope_and_queries_answer_404_outside_it_postgres() {
    on(true, each_device_holds_only_its_scope);
}

fn each_device_holds_only_its_scope(server: &TestServer) {
    let rep1 = TestDevice::login(server, "rep1");
    let rep2 = TestDevice::login(server, "rep2");
    let merch1 = TestDevice::login(server, "merch1");

    // Master data: each user's territory stores (the whole catalogue of products).
    assert_eq!(store_codes(&rep1).len(), 16);
    assert!(store_codes(&rep1)
        .iter()
        .all(|c| c.starts_with("NKA-") || c.starts_with("RKA-")));
    assert_eq!(store_codes(&rep2).len(), 14);
    assert_eq!(store_codes(&merch1).len(), 8);
    assert_eq!(rep2.products().unwrap().len(), 50);
    assert!(rep1.store_by_code("LKA-001").is_err());

    let r1_nka = visit_at(&rep1, "NKA-001");
    let r1_rka = visit_at(&rep1, "RKA-001");
    let r2_lka = visit_at(&rep2, "LKA-001");
    let photo = photo_file(rep2.dir.path(), "shelf.jpg", 7);
    let r2_photo = rep2.attach_photo(r2_lka, &photo, None).unwrap();
    let m1_nka = visit_at(&merch1, "NKA-002");
    for dev in [&rep1, &rep2, &merch1] {
        dev.sync().unwrap();
    }
    for dev in [&rep1, &rep2, &merch1] {
        dev.sync().unwrap();
    }

    // rep1: its own and merch1's visit at an NKA store; nothing of rep2's.
    assert_eq!(held(&rep1), set(&[r1_nka, r1_rka, m1_nka]));
    assert_eq!(held(&rep2), set(&[r2_lka]));
    // merch1: rep1's visit at an NKA store (a store of its territory), not the RKA one.
    assert_eq!(held(&merch1), set(&[r1_nka, m1_nka]));
    // sup1 and mgr1: the whole team; a new installation of rep1 gets the same as rep1.
    let everything = set(&[r1_nka, r1_rka, r2_lka, m1_nka]);
    let sup1 = TestDevice::login(server, "sup1");
    assert_eq!(held(&sup1), everything);
    assert_eq!(store_codes(&sup1).len(), 30);
    let mgr1 = TestDevice::login(server, "mgr1");
    assert_eq!(held(&mgr1), everything);
    let rep1_again = TestDevice::login(server, "rep1");
    assert_eq!(held(&rep1_again), set(&[r1_nka, r1_rka, m1_nka]));

    // Queries: another territory's document by id is 404, listings hold only the scope.
    let t_rep1 = server.token("rep1");
    let (status, body) = get(server, &t_rep1, &format!("/v1/visits/{r2_lka}"));
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["reason"], "not_found");
    let (status, _) = get(server, &t_rep1, &format!("/v1/visits/{m1_nka}"));
    assert_eq!(status, 200);
    let listed = |token: &str| -> BTreeSet<DocId> {
        let (status, body) = get(server, token, "/v1/visits");
        assert_eq!(status, 200);
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| DocId::parse(i["id"].as_str().unwrap()).unwrap())
            .collect()
    };
    assert_eq!(listed(&t_rep1), set(&[r1_nka, r1_rka, m1_nka]));
    assert_eq!(listed(&server.token("merch1")), set(&[r1_nka, m1_nka]));
    assert_eq!(listed(&server.token("sup1")), everything);
    assert_eq!(listed(&server.token("admin")), everything);
    let rep2_id = demo_user_id("rep2");
    let (_, body) = get(server, &t_rep1, &format!("/v1/visits?person_id={rep2_id}"));
    assert!(body["items"].as_array().unwrap().is_empty());

    // Photos: rep2's photo is 404 for rep1, there for rep2's supervisor and rep2.
    let photo_path = format!("/v1/photos/{}", r2_photo.to_hex());
    assert_eq!(get(server, &t_rep1, &photo_path).0, 404);
    assert_eq!(get(server, &t_rep1, &format!("{photo_path}/url")).0, 404);
    assert_eq!(get(server, &server.token("sup1"), &photo_path).0, 200);
    assert_eq!(get(server, &server.token("rep2"), &photo_path).0, 200);
}

#[test]
fn moving_a_store_evicts_from_those_who_lost_it_and_delivers_to_those_who_gained_it() {
    on(false, moving_a_store);
}

#[test]
fn moving_a_store_evicts_from_those_who_lost_it_and_delivers_to_those_who_gained_it_postgres() {
    on(true, moving_a_store);
}

fn moving_a_store(server: &TestServer) {
    let proxy = DroppingProxy::start(server.url.trim_start_matches("http://"));
    let rep1 = TestDevice::login_via(&proxy.url, "rep1");
    let rep2 = TestDevice::login(server, "rep2");
    let merch1 = TestDevice::login(server, "merch1");

    let r1_moved = visit_at(&rep1, "NKA-002");
    let r1_kept = visit_at(&rep1, "NKA-001");
    let m1_moved = visit_at(&merch1, "NKA-002");
    let m1_kept = visit_at(&merch1, "NKA-001");
    for dev in [&rep1, &merch1, &rep1, &rep2] {
        dev.sync().unwrap();
    }
    assert_eq!(held(&rep1), set(&[r1_moved, r1_kept, m1_moved, m1_kept]));
    assert!(held(&rep2).is_empty());

    // NKA-002 moves from rep1's territory to rep2's.
    let admin = server.token("admin");
    move_stores(server, &admin, "rep1 NKA+RKA", &["NKA-002"], &[]);
    move_stores(server, &admin, "rep2 LKA+OTH", &[], &["NKA-002"]);

    // rep1's evicting response is lost: nothing changes on the device...
    proxy.drop_next_sync_responses(1);
    assert!(rep1.sync().is_err(), "the response was swallowed");
    assert_eq!(proxy.dropped(), 1);
    assert!(held(&rep1).contains(&m1_moved));
    // ...and the next sync still evicts merch1's visit there; rep1's own stays.
    let report = rep1.sync().unwrap();
    assert_eq!(report.evicted, 1);
    assert_eq!(held(&rep1), set(&[r1_moved, r1_kept, m1_kept]));
    assert!(rep1.store_by_code("NKA-002").is_err(), "the store left");
    assert_eq!(store_codes(&rep1).len(), 15);
    assert_eq!(rep1.sync().unwrap().evicted, 0, "evicted once");

    // rep2 receives the store and both visits there, whole.
    let report = rep2.sync().unwrap();
    assert_eq!(report.evicted, 0);
    assert_eq!(held(&rep2), set(&[r1_moved, m1_moved]));
    assert!(rep2.store_by_code("NKA-002").is_ok());
    assert_eq!(
        rep2.document_heads(m1_moved).unwrap(),
        merch1.document_heads(m1_moved).unwrap()
    );
    assert_eq!(
        rep2.visit(r1_moved).unwrap().store_id,
        demo_store_id("NKA-002")
    );

    // merch1 still covers NKA-002: nothing changes there.
    let report = merch1.sync().unwrap();
    assert_eq!(report.evicted, 0);
    assert_eq!(held(&merch1), set(&[r1_moved, r1_kept, m1_moved, m1_kept]));

    // Later writes follow the new scope: merch1's note reaches rep2, not rep1.
    merch1.append_note(m1_moved, "补货 restocked").unwrap();
    merch1.sync().unwrap();
    rep2.sync().unwrap();
    rep1.sync().unwrap();
    assert!(rep2
        .visit(m1_moved)
        .unwrap()
        .notes_text()
        .contains("restocked"));
    assert!(!held(&rep1).contains(&m1_moved));
    let t_rep1 = server.token("rep1");
    assert_eq!(
        get(server, &t_rep1, &format!("/v1/visits/{m1_moved}")).0,
        404
    );
    assert_eq!(
        get(server, &t_rep1, &format!("/v1/visits/{r1_moved}")).0,
        200
    );
}

#[test]
fn a_person_changing_team_leaves_the_supervisors_scope() {
    on(false, changing_team);
}

#[test]
fn a_person_changing_team_leaves_the_supervisors_scope_postgres() {
    on(true, changing_team);
}

fn changing_team(server: &TestServer) {
    let admin = server.token("admin");
    // RKA-008 is covered by merch1 alone, so only merch1's team sees it.
    move_stores(server, &admin, "rep1 NKA+RKA", &["RKA-008"], &[]);
    move_stores(server, &admin, "merch1 NKA", &[], &["RKA-008"]);

    let merch1 = TestDevice::login(server, "merch1");
    let rep1 = TestDevice::login(server, "rep1");
    let m1_only = visit_at(&merch1, "RKA-008");
    let r1 = visit_at(&rep1, "RKA-001");
    merch1.sync().unwrap();
    rep1.sync().unwrap();
    let sup1 = TestDevice::login(server, "sup1");
    let mgr1 = TestDevice::login(server, "mgr1");
    assert_eq!(held(&sup1), set(&[m1_only, r1]));
    assert_eq!(held(&mgr1), set(&[m1_only, r1]));

    // merch1 moves to a new team outside the region: sup1 and mgr1 lose merch1's visit.
    post(
        server,
        &admin,
        "/v1/admin/teams",
        serde_json::json!({ "name": "Hankou merchandising", "member_ids": [demo_user_id("merch1")] }),
    );
    let (_, team) = get(
        server,
        &admin,
        &format!("/v1/admin/teams/{}", demo_team_id()),
    );
    assert_eq!(team["member_ids"].as_array().unwrap().len(), 2);
    let report = sup1.sync().unwrap();
    assert_eq!(report.evicted, 1);
    assert_eq!(held(&sup1), set(&[r1]));
    assert!(sup1.store_by_code("RKA-008").is_err());
    assert_eq!(mgr1.sync().unwrap().evicted, 1);
    assert_eq!(held(&mgr1), set(&[r1]));
    let t_sup1 = server.token("sup1");
    assert_eq!(
        get(server, &t_sup1, &format!("/v1/visits/{m1_only}")).0,
        404
    );
    // merch1 itself keeps its own visit.
    assert_eq!(merch1.sync().unwrap().evicted, 0);
    assert!(held(&merch1).contains(&m1_only));
}
