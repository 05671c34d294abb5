//! `/v1/admin/...` over real HTTP on both engines: administrators manage users, regions,
//! teams and territories; other roles get 403, other tenants' objects 404, unknown fields 422.

use fieldsync_server::demo;
use fieldsync_server::store::directory::Tenant;
use fieldsync_shared::master::{Role, UserProfile};
use fieldsync_shared::{PersonCode, TenantId, UserId};
use serde_json::{json, Value};

mod admin_support;
use admin_support::{spawn, TestApp};

fn ids(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

fn no_password_anywhere(a: &admin_support::Answer) {
    let text = a.text();
    assert!(
        !text.contains("password") && !text.contains("$argon2"),
        "a password leaked: {text}"
    );
}

fn admin_manages_the_organisation(app: &TestApp) {
    let admin = app.token("admin");

    // The demo organisation is there.
    let users = app.get("/v1/admin/users", &admin);
    assert_eq!(users.status, 200, "{}", users.text());
    no_password_anywhere(&users);
    assert_eq!(users.json().as_array().unwrap().len(), 6);
    let team_id = demo::demo_team_id().to_string();
    let rep1 = users
        .json()
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "rep1")
        .cloned()
        .unwrap();
    assert_eq!(rep1["team_id"], team_id.as_str());
    let team = app.get(&format!("/v1/admin/teams/{team_id}"), &admin);
    assert_eq!(team.status, 200, "{}", team.text());
    assert_eq!(
        team.json()["supervisor_id"],
        demo::demo_user_id("sup1").to_string()
    );
    assert_eq!(team.json()["member_ids"].as_array().unwrap().len(), 3);
    let territories = app.get("/v1/admin/territories", &admin).json();
    assert_eq!(territories.as_array().unwrap().len(), 3);

    // A manager, a region, a supervisor, a team, a rep in it, a territory.
    let created = app.send_json(
        "POST",
        "/v1/admin/users",
        &admin,
        json!({"username": " Mgr2 ", "display_name": "赵敏 Zhao Min", "role": "manager", "code": "m002", "password": "manager-pass"}),
    );
    assert_eq!(created.status, 201, "{}", created.text());
    no_password_anywhere(&created);
    let mgr = created.json();
    assert_eq!(
        (mgr["username"].as_str(), mgr["code"].as_str()),
        (Some("mgr2"), Some("M002"))
    );
    let mgr_id = mgr["id"].as_str().unwrap().to_string();
    // The new user signs in with the password the administrator set.
    assert_eq!(app.login_in("demo", "mgr2", "manager-pass").status, 200);

    let region = app.send_json(
        "POST",
        "/v1/admin/regions",
        &admin,
        json!({"name": "华中 Central", "manager_id": mgr_id}),
    );
    assert_eq!(region.status, 201, "{}", region.text());
    let region_id = region.json()["id"].as_str().unwrap().to_string();
    // Only a manager manages a region.
    let wrong = app.send_json(
        "POST",
        "/v1/admin/regions",
        &admin,
        json!({"name": "Other", "manager_id": demo::demo_user_id("rep1").to_string()}),
    );
    assert_eq!(
        (wrong.status, wrong.reason().as_str()),
        (422, "invalid_role")
    );

    let sup = app
        .send_json(
            "POST",
            "/v1/admin/users",
            &admin,
            json!({"username": "sup2", "display_name": "Sup Two", "role": "supervisor", "code": "S002"}),
        )
        .json();
    // No password given: nobody can sign in as sup2 until one is set.
    assert_eq!(app.login_in("demo", "sup2", "demo1234").status, 401);
    let sup_id = sup["id"].as_str().unwrap().to_string();
    let set = app.send_json(
        "PATCH",
        &format!("/v1/admin/users/{sup_id}"),
        &admin,
        json!({"password": "supervisor-2"}),
    );
    assert_eq!(set.status, 200, "{}", set.text());
    assert_eq!(app.login_in("demo", "sup2", "supervisor-2").status, 200);

    let rep2 = demo::demo_user_id("rep2").to_string();
    let team2 = app.send_json(
        "POST",
        "/v1/admin/teams",
        &admin,
        json!({"name": "Team 2", "supervisor_id": sup_id, "region_id": region_id, "member_ids": [rep2]}),
    );
    assert_eq!(team2.status, 201, "{}", team2.text());
    let team2_id = team2.json()["id"].as_str().unwrap().to_string();
    // rep2 moved from the demo team to team 2.
    let user = app.get(&format!("/v1/admin/users/{rep2}"), &admin).json();
    assert_eq!(user["team_id"], team2_id.as_str());
    let demo_team = app
        .get(&format!("/v1/admin/teams/{team_id}"), &admin)
        .json();
    assert_eq!(demo_team["member_ids"].as_array().unwrap().len(), 2);
    // A supervisor is not a team member.
    let bad = app.send_json(
        "PATCH",
        &format!("/v1/admin/teams/{team2_id}"),
        &admin,
        json!({"member_ids": [sup_id]}),
    );
    assert_eq!((bad.status, bad.reason().as_str()), (422, "invalid_member"));
    // Duplicate names conflict.
    let dup = app.send_json("POST", "/v1/admin/teams", &admin, json!({"name": "Team 2"}));
    assert_eq!((dup.status, dup.reason().as_str()), (409, "already_exists"));

    // Update a user: role change and leaving the team.
    let upd = app.send_json(
        "PATCH",
        &format!("/v1/admin/users/{rep2}"),
        &admin,
        json!({"team_id": null, "display_name": "王强 (Wang Qiang)"}),
    );
    assert_eq!(upd.status, 200, "{}", upd.text());
    assert_eq!(upd.json()["team_id"], Value::Null);
    assert_eq!(upd.json()["display_name"], "王强 (Wang Qiang)");
    assert_eq!(upd.json()["role"], "rep");

    // A territory: two stores, rep2.
    let s1 = demo::demo_store_id("NKA-001").to_string();
    let s2 = demo::demo_store_id("OTH-001").to_string();
    let terr = app.send_json(
        "POST",
        "/v1/admin/territories",
        &admin,
        json!({"name": "光谷 Guanggu", "store_ids": [s2, s1], "user_ids": [rep2]}),
    );
    assert_eq!(terr.status, 201, "{}", terr.text());
    let terr_id = terr.json()["id"].as_str().unwrap().to_string();
    let got = app
        .get(&format!("/v1/admin/territories/{terr_id}"), &admin)
        .json();
    let mut expected = vec![s1.clone(), s2.clone()];
    expected.sort();
    assert_eq!(ids(&got["store_ids"]), expected);
    assert_eq!(ids(&got["user_ids"]), vec![rep2.clone()]);
    let upd = app.send_json(
        "PATCH",
        &format!("/v1/admin/territories/{terr_id}"),
        &admin,
        json!({"store_ids": [s1]}),
    );
    assert_eq!(upd.status, 200, "{}", upd.text());
    assert_eq!(ids(&upd.json()["store_ids"]), vec![s1.clone()]);
    assert_eq!(ids(&upd.json()["user_ids"]), vec![rep2]);
    // An unknown store is not found.
    let bad = app.send_json(
        "PATCH",
        &format!("/v1/admin/territories/{terr_id}"),
        &admin,
        json!({"store_ids": [UserId::new_random().to_string()]}),
    );
    assert_eq!(bad.status, 404, "{}", bad.text());
}

fn other_roles_are_forbidden(app: &TestApp) {
    for who in ["rep1", "sup1", "merch1"] {
        let token = app.token(who);
        let a = app.get("/v1/admin/users", &token);
        assert_eq!((a.status, a.reason().as_str()), (403, "forbidden"), "{who}");
        let a = app.send_json("POST", "/v1/admin/teams", &token, json!({"name": "Mine"}));
        assert_eq!(a.status, 403, "{who}");
        let a = app.post_csv("stores", &token, "code,name\n");
        assert_eq!(a.status, 403, "{who}");
    }
    let a = app.get("/v1/admin/users", "not-a-token");
    assert_eq!(a.status, 401);
}

fn other_tenants_objects_are_not_found(app: &TestApp) {
    // A second tenant with its own administrator.
    let other = TenantId::new_random();
    app.rt.block_on(async {
        let store = &app.state.store;
        store
            .create_tenant(&Tenant {
                id: other,
                slug: "acme".into(),
                name: "Acme".into(),
            })
            .await
            .unwrap();
        let hash = fieldsync_server::auth::hash_password("acme-admin-pw".into())
            .await
            .unwrap();
        store
            .create_user(
                &UserProfile {
                    id: UserId::new_random(),
                    tenant_id: other,
                    username: "root".into(),
                    display_name: "Acme admin".into(),
                    role: Role::Admin,
                    code: PersonCode::parse("A001").unwrap(),
                },
                &hash,
            )
            .await
            .unwrap();
    });
    let acme = app.token_in("acme", "root", "acme-admin-pw");
    let rep1 = demo::demo_user_id("rep1").to_string();
    let team = demo::demo_team_id().to_string();
    let region = demo::demo_region_id().to_string();
    let territory = demo::demo_territory_id("rep1 NKA+RKA").to_string();
    for path in [
        format!("/v1/admin/users/{rep1}"),
        format!("/v1/admin/teams/{team}"),
        format!("/v1/admin/regions/{region}"),
        format!("/v1/admin/territories/{territory}"),
    ] {
        let a = app.get(&path, &acme);
        assert_eq!(
            (a.status, a.reason().as_str()),
            (404, "not_found"),
            "{path}"
        );
        let a = app.send_json("PATCH", &path, &acme, json!({}));
        assert_eq!(a.status, 404, "PATCH {path}");
    }
    // Nor can they be referenced.
    let a = app.send_json(
        "POST",
        "/v1/admin/teams",
        &acme,
        json!({"name": "Steal", "member_ids": [rep1]}),
    );
    assert_eq!(a.status, 404, "{}", a.text());
    let a = app.send_json(
        "POST",
        "/v1/admin/territories",
        &acme,
        json!({"name": "Steal", "store_ids": [demo::demo_store_id("NKA-001").to_string()]}),
    );
    assert_eq!(a.status, 404, "{}", a.text());
    // Acme's listing shows only acme.
    let users = app.get("/v1/admin/users", &acme).json();
    assert_eq!(users.as_array().unwrap().len(), 1);
    assert!(app
        .get("/v1/admin/teams", &acme)
        .json()
        .as_array()
        .unwrap()
        .is_empty());
}

fn unknown_fields_and_bad_values_are_refused(app: &TestApp) {
    let admin = app.token("admin");
    let rep1 = demo::demo_user_id("rep1").to_string();
    let cases = [
        (
            "POST",
            "/v1/admin/users".to_string(),
            json!({"username": "x", "display_name": "X", "role": "rep", "code": "X1", "password_hash": "$argon2id$..."}),
        ),
        (
            "POST",
            "/v1/admin/users".to_string(),
            json!({"username": "x", "display_name": "X", "role": "rep", "code": "X1", "tenant_id": TenantId::new_random().to_string()}),
        ),
        (
            "PATCH",
            format!("/v1/admin/users/{rep1}"),
            json!({"id": UserId::new_random().to_string()}),
        ),
        (
            "PATCH",
            format!("/v1/admin/users/{rep1}"),
            json!({"username": "renamed"}),
        ),
        (
            "POST",
            "/v1/admin/teams".to_string(),
            json!({"name": "T", "tenant_id": "x"}),
        ),
        (
            "POST",
            "/v1/admin/territories".to_string(),
            json!({"name": "T", "version": 3}),
        ),
        // Values are parsed with the newtypes.
        (
            "POST",
            "/v1/admin/users".to_string(),
            json!({"username": "x", "display_name": "X", "role": "king", "code": "X1"}),
        ),
        (
            "POST",
            "/v1/admin/users".to_string(),
            json!({"username": "x", "display_name": "X", "role": "rep", "code": "R 1"}),
        ),
        (
            "POST",
            "/v1/admin/users".to_string(),
            json!({"username": "x", "display_name": "X", "role": "rep", "code": "X1", "password": "short"}),
        ),
        (
            "POST",
            "/v1/admin/regions".to_string(),
            json!({"name": "   "}),
        ),
    ];
    for (method, path, body) in cases {
        let a = app.send_json(method, &path, &admin, body.clone());
        assert_eq!(
            (a.status, a.reason().as_str()),
            (422, "invalid_body"),
            "{method} {path} {body}: {}",
            a.text()
        );
    }
    // Nothing was created by the refused requests.
    let users = app.get("/v1/admin/users", &admin).json();
    assert!(users
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["username"] != "x"));
    assert_eq!(
        app.get(&format!("/v1/admin/users/{rep1}"), &admin).json()["username"],
        "rep1"
    );
    // A duplicate code conflicts.
    let a = app.send_json(
        "POST",
        "/v1/admin/users",
        &admin,
        json!({"username": "new", "display_name": "New", "role": "rep", "code": "R001"}),
    );
    assert_eq!((a.status, a.reason().as_str()), (409, "already_exists"));
    // A path that is not an id is simply not found.
    assert_eq!(app.get("/v1/admin/users/nope", &admin).status, 404);
}

macro_rules! admin_suite {
    ($engine:ident) => {
        mod $engine {
            fn app() -> crate::TestApp {
                crate::spawn(stringify!($engine))
            }

            #[test]
            fn admin_manages_the_organisation() {
                super::admin_manages_the_organisation(&app());
            }

            #[test]
            fn other_roles_are_forbidden() {
                super::other_roles_are_forbidden(&app());
            }

            #[test]
            fn other_tenants_objects_are_not_found() {
                super::other_tenants_objects_are_not_found(&app());
            }

            #[test]
            fn unknown_fields_and_bad_values_are_refused() {
                super::unknown_fields_and_bad_values_are_refused(&app());
            }
        }
    };
}

admin_suite!(sqlite);
admin_suite!(postgres);
