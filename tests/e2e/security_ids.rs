//! Every route that takes an id, as the served OpenAPI description lists them, called with
//! rep1's ids by another rep of the same team (rep2), the supervisor of another team and the
//! administrator of another tenant: each answers exactly as for an absent id of the same shape
//! (404 `not_found` for every lookup), never 200 and never 403 — an id reveals nothing.
//! The routes come from `/openapi.json`, so a new route is covered the day it is added; a
//! path parameter this test has no id for fails it.
//!
//! The only answers that are not 404: `/v1/admin/...` to non-administrators is 403 for any id
//! (the role is checked before any id is read), and `PUT /v1/photos/{sha256}` is an upload of
//! bytes named by their hash, answered like the upload of a photo the server does not hold (as
//! is `PUT /v1/admin/reference-photos/{sha256}` for another tenant's administrator).
//! rep1 (and the administrator, for administration routes) still reads every object.

use std::collections::BTreeMap;

use fieldsync_client::NewExpense;
use fieldsync_e2e::process::PgDatabase;
use fieldsync_e2e::{http, png_bytes, write_file, TestDevice, TestServer, DEMO_PASSWORD};
use fieldsync_server::config::Secret;
use fieldsync_server::demo::{demo_region_id, demo_team_id, demo_territory_id, demo_user_id};
use fieldsync_shared::expense::ExpenseType;
use fieldsync_shared::master::Role;
use fieldsync_shared::order::PaymentMethod;
use fieldsync_shared::{DocId, Money, PersonCode, Sha256, TenantId, Timestamp, UserId};
use serde_json::{json, Value};

#[test]
fn other_peoples_ids_are_404_on_every_route_sqlite() {
    every_route_with_an_id(false);
}

#[test]
fn other_peoples_ids_are_404_on_every_route_postgres() {
    every_route_with_an_id(true);
}

/// What a route answered: status and error reason.
#[derive(Debug, Clone, PartialEq)]
struct Answer {
    status: u16,
    reason: Option<String>,
}

fn call(server: &TestServer, token: &str, method: &str, path: &str) -> Answer {
    let url = format!("{}{path}", server.url);
    let auth = format!("Bearer {token}");
    let agent = http();
    let result = match method {
        "get" => agent.get(&url).header("Authorization", &auth).call(),
        "head" => agent.head(&url).header("Authorization", &auth).call(),
        "delete" => agent.delete(&url).header("Authorization", &auth).call(),
        "post" => agent
            .post(&url)
            .header("Authorization", &auth)
            .send_json(json!({})),
        "put" => agent
            .put(&url)
            .header("Authorization", &auth)
            .send_json(json!({})),
        "patch" => agent
            .patch(&url)
            .header("Authorization", &auth)
            .send_json(json!({})),
        other => panic!("method {other} of {path}"),
    };
    let mut resp = result.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let status = resp.status().as_u16();
    let body: Value = resp.body_mut().read_json().unwrap_or(Value::Null);
    Answer {
        status,
        reason: body["reason"].as_str().map(str::to_string),
    }
}

/// rep1's objects, one per kind of id.
struct Victim {
    store: String,
    visit: String,
    order: String,
    upload: String,
    photo: String,
    /// A reference photo of the tenant's pictures of success (uploaded by its administrator).
    reference_photo: String,
    user: String,
    device: String,
    plan: String,
    expense: String,
    target: String,
    target_change: String,
}

impl Victim {
    /// The id of rep1's object that `param` of `route` names; `None`: this test has no id
    /// for it (a new kind of id: add it here).
    fn id_for(&self, route: &str, param: &str) -> Option<String> {
        let id = match (route, param) {
            (r, "id") if r.starts_with("/v1/stores/") => &self.store,
            (r, "id") if r.starts_with("/v1/visits/") => &self.visit,
            (r, "id") if r.starts_with("/v1/orders/") => &self.order,
            (r, "id") if r.starts_with("/v1/documents/") => &self.visit,
            (r, "id") if r.starts_with("/v1/plans/") => &self.plan,
            (r, "id") if r.starts_with("/v1/expenses/") => &self.expense,
            (r, "id") if r.starts_with("/v1/targets/") => &self.target,
            (r, "id") if r.starts_with("/v1/target-changes/") => &self.target_change,
            (_, "upload_id") => &self.upload,
            (r, "sha256") if r.contains("/reference-photos/") => &self.reference_photo,
            (_, "sha256") => &self.photo,
            (r, "id") if r.starts_with("/v1/admin/users/") => &self.user,
            (r, "id") if r.starts_with("/v1/admin/devices/") => &self.device,
            (r, "id") if r.starts_with("/v1/admin/teams/") => {
                return Some(demo_team_id().to_string())
            }
            (r, "id") if r.starts_with("/v1/admin/regions/") => {
                return Some(demo_region_id().to_string())
            }
            (r, "id") if r.starts_with("/v1/admin/territories/") => {
                return Some(demo_territory_id("rep1 NKA+RKA").to_string())
            }
            _ => return None,
        };
        Some(id.clone())
    }
}

/// An id of the same shape that names nothing.
fn absent_id(param: &str) -> String {
    match param {
        "sha256" => Sha256::digest(DocId::new_random().to_string().as_bytes()).to_hex(),
        _ => DocId::new_random().to_string(),
    }
}

/// Path parameters that are not ids, with a valid value.
fn not_an_id(param: &str) -> Option<&'static str> {
    match param {
        "n" => Some("1"),
        "kind" => Some("users"),
        _ => None,
    }
}

fn params_of(route: &str) -> Vec<String> {
    route
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
        .map(str::to_string)
        .collect()
}

fn fill(route: &str, values: &BTreeMap<String, String>) -> String {
    values.iter().fold(route.to_string(), |path, (k, v)| {
        path.replace(&format!("{{{k}}}"), v)
    })
}

fn every_route_with_an_id(postgres: bool) {
    let db = postgres.then(PgDatabase::create);
    let server = TestServer::start_with(|c| {
        if let Some(db) = &db {
            c.database_url = Some(Secret::new(db.url()));
        }
    });
    let victim = rep1_objects(&server);
    let rep1 = server.token("rep1");
    let admin = server.token("admin");
    let attackers = [
        ("another rep (rep2)", server.token("rep2")),
        ("another team's supervisor", other_team_supervisor(&server)),
        (
            "another tenant's administrator",
            other_tenant_admin(&server),
        ),
    ];

    let spec: Value = http()
        .get(&format!("{}/openapi.json", server.ops_url))
        .call()
        .expect("GET /openapi.json")
        .body_mut()
        .read_json()
        .expect("OpenAPI JSON");
    let paths = spec["paths"].as_object().expect("paths");
    let (mut checked, mut uncovered, mut failures) = (0, Vec::new(), Vec::new());
    for (route, ops) in paths {
        let params = params_of(route);
        let ids: Vec<&String> = params.iter().filter(|p| not_an_id(p).is_none()).collect();
        if ids.is_empty() {
            continue;
        }
        let (mut theirs, mut absent) = (BTreeMap::new(), BTreeMap::new());
        for p in &params {
            if let Some(v) = not_an_id(p) {
                theirs.insert(p.clone(), v.to_string());
                absent.insert(p.clone(), v.to_string());
                continue;
            }
            match victim.id_for(route, p) {
                Some(id) => {
                    theirs.insert(p.clone(), id);
                    absent.insert(p.clone(), absent_id(p));
                }
                None => uncovered.push(format!("{route} {{{p}}}")),
            }
        }
        if theirs.len() != params.len() {
            continue;
        }
        let admin_route = route.starts_with("/v1/admin/");
        for method in ops.as_object().expect("operations").keys() {
            let (their_path, absent_path) = (fill(route, &theirs), fill(route, &absent));
            let content_upload = method == "put"
                && (route == "/v1/photos/{sha256}"
                    || route == "/v1/admin/reference-photos/{sha256}");
            for (who, token) in &attackers {
                let got = call(&server, token, method, &their_path);
                let expected = call(&server, token, method, &absent_path);
                checked += 1;
                // A reference photo is the tenant's, not rep1's: its other users read it too
                // (another tenant's administrator does not: above, 404 like an absent one).
                if route == "/v1/reference-photos/{sha256}" && !who.contains("another tenant") {
                    if got.status != 200 {
                        failures.push(format!("GET {route} as {who}, same tenant: {got:?}"));
                    }
                    continue;
                }
                let role_gate = admin_route && !who.contains("administrator");
                let wanted_status = if role_gate {
                    403
                } else if content_upload {
                    expected.status
                } else {
                    404
                };
                if got != expected || got.status != wanted_status {
                    failures.push(format!(
                        "{} {route} as {who}: got {got:?}, for an absent id {expected:?}",
                        method.to_uppercase()
                    ));
                }
            }
            // The honest path: the owner (the administrator for administration) reaches it
            // (a part URL of a single upload is 400 `not_multipart`: found, wrong kind).
            if method == "get" || method == "head" {
                let owner = if admin_route { &admin } else { &rep1 };
                let got = call(&server, owner, method, &their_path);
                let found = got.status == 200 || got.reason.as_deref() == Some("not_multipart");
                if !found {
                    failures.push(format!(
                        "{} {route} by its owner: {got:?}",
                        method.to_uppercase()
                    ));
                }
            }
        }
    }
    assert!(
        uncovered.is_empty(),
        "routes whose ids this test cannot fill (add them to Victim::id_for): {uncovered:?}"
    );
    assert!(
        failures.is_empty(),
        "ids that told something:\n{}",
        failures.join("\n")
    );
    // Visits, orders, plans, expenses, history, uploads (5), photos (6), targets (3) and
    // administration (9), each by three.
    assert!(
        checked >= 3 * 25,
        "only {checked} calls: is the description complete?"
    );
}

/// rep1's visit with a photo (stored and referenced), an order, an open upload, a plan, an
/// expense, a month target with a change request (by rep1's supervisor), rep1's user and
/// device.
fn rep1_objects(server: &TestServer) -> Victim {
    let rep1 = TestDevice::login(server, "rep1");
    let store = rep1.store_by_code("NKA-001").unwrap();
    let today = Timestamp::now().utc_date();
    let visit = rep1.start_visit(store.id, today).unwrap();
    let file = write_file(rep1.dir.path(), "shelf.png", &png_bytes(64, 48, 7));
    let photo = rep1.attach_photo(visit, &file, None).unwrap();
    let (order, _) = rep1
        .create_order(
            store.id,
            today.add_days(7),
            PaymentMethod::Cash,
            Some(visit),
        )
        .unwrap();
    let expense = rep1
        .record_expense(NewExpense {
            expense_type: ExpenseType::Travel,
            amount: Money(3_500),
            date: today,
            store_id: Some(store.id),
            visit_id: Some(visit),
            description: Some("taxi to the store".into()),
        })
        .unwrap();
    rep1.sync().unwrap();

    let token = server.token("rep1");
    let bytes = png_bytes(32, 32, 9);
    let sha = Sha256::digest(&bytes).to_hex();
    let mut resp = http()
        .post(&format!("{}/v1/photos/uploads", server.url))
        .header("Authorization", &format!("Bearer {token}"))
        .send_json(json!({"sha256": sha, "size_bytes": bytes.len(), "content_type": "image/png"}))
        .expect("declare");
    assert_eq!(resp.status(), 201);
    let declared: Value = resp.body_mut().read_json().unwrap();

    let mut resp = http()
        .post(&format!("{}/v1/plans/generate", server.url))
        .header("Authorization", &format!("Bearer {token}"))
        .send_json(json!({"week": "2026-W50", "daily_capacity": 4}))
        .expect("generate a plan");
    assert_eq!(resp.status(), 200);
    let plan: Value = resp.body_mut().read_json().unwrap();

    let (target, target_change) = rep1_target_with_a_change(server);

    let reference = fieldsync_e2e::jpeg_bytes(40, 30, 5);
    let reference_sha = Sha256::digest(&reference).to_hex();
    let resp = http()
        .put(&format!(
            "{}/v1/admin/reference-photos/{reference_sha}",
            server.url
        ))
        .header(
            "Authorization",
            &format!("Bearer {}", server.token("admin")),
        )
        .header("Content-Type", "image/jpeg")
        .send(&reference[..])
        .expect("upload a reference photo");
    assert_eq!(resp.status(), 201);

    let devices = server.get_json(&server.token("admin"), "/v1/admin/devices");
    let rep1_id = demo_user_id("rep1").to_string();
    let device = devices["devices"]
        .as_array()
        .expect("device list")
        .iter()
        .find(|d| d["user_id"].as_str() == Some(rep1_id.as_str()))
        .and_then(|d| d["id"].as_str())
        .expect("a device of rep1")
        .to_string();
    Victim {
        store: store.id.to_string(),
        visit: visit.to_string(),
        order: order.to_string(),
        upload: declared["upload_id"].as_str().unwrap().to_string(),
        photo: photo.to_hex(),
        reference_photo: reference_sha,
        user: rep1_id,
        device,
        plan: plan["plan"]["id"]
            .as_str()
            .expect("the plan's id")
            .to_string(),
        expense: expense.to_string(),
        target,
        target_change,
    }
}

/// rep1's target for this month (imported by the administrator) and a change of it that
/// rep1's supervisor requested: (target id, change request id).
fn rep1_target_with_a_change(server: &TestServer) -> (String, String) {
    let month = &Timestamp::now().utc_date().to_string()[..7];
    let csv = format!("period,rep,category,amount,volume\n{month},rep1,,2000.00,200\n");
    let mut resp = http()
        .post(&format!("{}/v1/admin/import/targets", server.url))
        .header(
            "Authorization",
            &format!("Bearer {}", server.token("admin")),
        )
        .header("Content-Type", "text/csv")
        .send(csv.as_bytes())
        .expect("import targets");
    assert_eq!(resp.status(), 200, "{:?}", resp.body_mut().read_to_string());
    let targets = server.get_json(&server.token("rep1"), "/v1/targets");
    let target = targets.as_array().expect("targets")[0]["id"]
        .as_str()
        .expect("the target's id")
        .to_string();
    let mut resp = http()
        .post(&format!("{}/v1/targets/{target}/changes", server.url))
        .header("Authorization", &format!("Bearer {}", server.token("sup1")))
        .send_json(
            json!({"reason": "store closed for renovation", "amount": 150_000, "volume": 150}),
        )
        .expect("request a change");
    assert_eq!(resp.status(), 201);
    let change: Value = resp.body_mut().read_json().unwrap();
    let change = change["id"].as_str().expect("the change's id").to_string();
    (target, change)
}

/// A supervisor of a team of their own (no members, no territory), signed in.
pub(crate) fn other_team_supervisor(server: &TestServer) -> String {
    let admin = server.token("admin");
    let post = |path: &str, body: Value| -> Value {
        let mut resp = http()
            .post(&format!("{}{path}", server.url))
            .header("Authorization", &format!("Bearer {admin}"))
            .send_json(&body)
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        let status = resp.status().as_u16();
        let body: Value = resp.body_mut().read_json().unwrap_or(Value::Null);
        assert_eq!(status, 201, "POST {path}: {body}");
        body
    };
    let user = post(
        "/v1/admin/users",
        json!({"username": "sup9", "display_name": "Other supervisor", "role": "supervisor",
               "code": "S009", "password": DEMO_PASSWORD}),
    );
    post(
        "/v1/admin/teams",
        json!({"name": "Team 9", "supervisor_id": user["id"]}),
    );
    server.token("sup9")
}

/// The administrator of a second tenant, with a token issued by the server's key.
pub(crate) fn other_tenant_admin(server: &TestServer) -> String {
    use fieldsync_server::store::directory::Tenant;
    use fieldsync_shared::master::UserProfile;
    let tenant = Tenant {
        id: TenantId::new_random(),
        slug: "other".into(),
        name: "Other tenant".into(),
    };
    let profile = UserProfile {
        id: UserId::new_random(),
        tenant_id: tenant.id,
        username: "admin".into(),
        display_name: "Other administrator".into(),
        role: Role::Admin,
        code: PersonCode::parse("A001").unwrap(),
    };
    let store = server.state().store.clone();
    server.block_on(async {
        store.create_tenant(&tenant).await.unwrap();
        store.create_user(&profile, "unused").await.unwrap();
    });
    server.state().tokens.issue(&profile).unwrap().token
}
