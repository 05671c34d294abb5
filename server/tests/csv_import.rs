//! CSV imports on both engines: over HTTP (`POST /v1/admin/import/{kind}`) and with the real
//! `fieldsync-server import` binary. A good file of each kind imports and is visible; a file
//! with one bad row imports nothing and names the row, the column and what is wrong.

use std::process::Command;

use fieldsync_server::demo;
use serde_json::Value;

mod admin_support;
use admin_support::{spawn, TestApp};

const STORES: &str = "\
code,name,channel,grade,address,lat,lon,geofence_radius_m,delivery_lead_days
NEW-001,\"沃尔玛, 汉街店 Walmart, Han Street\",nka,A,\"武昌区 楚河汉街 1号, 武汉\",30.5531,114.3432,150,2
NEW-002,\"He said \"\"hi\"\" 便利店\",other,C,江岸区 1号,30.6001,114.3002,80,1
NKA-001,沃尔玛 光谷店 (renamed),nka,A,洪山区,30.5,114.4,200,3
";

fn stores_in_master(app: &TestApp, token: &str) -> Vec<Value> {
    let page = app.get("/v1/master?since=0", token);
    assert_eq!(page.status, 200, "{}", page.text());
    page.json()["stores"].as_array().unwrap().clone()
}

fn good_files_of_every_kind_import(app: &TestApp) {
    // Master data is read with the admin's token: its read scope is the whole tenant.
    let admin = app.token("admin");

    // Stores: quoted commas, doubled quotes, Chinese; two new, one updated.
    let a = app.post_csv("stores", &admin, STORES);
    assert_eq!(a.status, 200, "{}", a.text());
    let r = a.json();
    assert_eq!(
        (
            r["rows"].as_u64(),
            r["created"].as_u64(),
            r["updated"].as_u64()
        ),
        (Some(3), Some(2), Some(1))
    );
    let stores = stores_in_master(app, &admin);
    assert_eq!(stores.len(), 32);
    let new1 = stores.iter().find(|s| s["code"] == "NEW-001").unwrap();
    assert_eq!(new1["name"], "沃尔玛, 汉街店 Walmart, Han Street");
    assert_eq!(new1["address"], "武昌区 楚河汉街 1号, 武汉");
    assert_eq!(new1["channel"], "nka");
    let new2 = stores.iter().find(|s| s["code"] == "NEW-002").unwrap();
    assert_eq!(new2["name"], "He said \"hi\" 便利店");
    let nka1 = stores.iter().find(|s| s["code"] == "NKA-001").unwrap();
    assert_eq!(nka1["name"], "沃尔玛 光谷店 (renamed)");
    assert_eq!(
        nka1["id"],
        demo::demo_store_id("NKA-001").to_string(),
        "updated in place"
    );

    // Products, columns in another order, a BOM and CRLF line ends.
    let products =
        "\u{feff}SKU,name,list_price,floor_price,case_pack,sold_by_case,shelf_life_days\r\n\
                    NEW-SKU-1,\"新品, 柚子茶 Pomelo tea\",4.50,3.80,24,yes,270\r\n\
                    COLA-330,可乐 Cola 330ml can,3.20,2.70,24,true,360\r\n";
    let a = app.post_csv("products", &admin, products);
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(
        (a.json()["created"].as_u64(), a.json()["updated"].as_u64()),
        (Some(1), Some(1))
    );
    let page = app.get("/v1/master?since=0", &admin).json();
    let p = page["products"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["sku"] == "NEW-SKU-1")
        .cloned()
        .unwrap();
    assert_eq!(
        (p["list_price"].as_i64(), p["floor_price"].as_i64()),
        (Some(450), Some(380))
    );
    assert_eq!(p["name"], "新品, 柚子茶 Pomelo tea");

    // Credit for a new store and a demo store.
    let credit = "store_code,credit_limit,receivables,overdue,as_of\n\
                  NEW-001,100000.00,2500.50,0,2026-11-20\n\
                  nka-002,500000,1000,100,2026-11-21\n";
    let a = app.post_csv("credit", &admin, credit);
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(
        (a.json()["created"].as_u64(), a.json()["updated"].as_u64()),
        (Some(1), Some(1))
    );
    let page = app.get("/v1/master?since=0", &admin).json();
    let new1_id = new1["id"].as_str().unwrap();
    let c = page["credit"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["store_id"] == new1_id)
        .cloned()
        .unwrap();
    assert_eq!(
        (c["credit_limit"].as_i64(), c["receivables"].as_i64()),
        (Some(10_000_000), Some(250_050))
    );

    // Users: a team by name, a password, none, a Chinese name with a comma.
    let users = format!(
        "username,display_name,role,code,team,password\n\
         rep3,\"周杰, Zhou Jie\",rep,R003,{},rep3-password\n\
         Merch2,孙丽 Sun Li,merchandiser,M002,,\n\
         rep1,李娜 Li Na (senior),rep,R001,{},\n",
        demo::DEMO_TEAM,
        demo::DEMO_TEAM
    );
    let a = app.post_csv("users", &admin, &users);
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(
        (a.json()["created"].as_u64(), a.json()["updated"].as_u64()),
        (Some(2), Some(1))
    );
    let list = app.get("/v1/admin/users", &admin).json();
    let rep3 = list
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "rep3")
        .cloned()
        .unwrap();
    assert_eq!(rep3["display_name"], "周杰, Zhou Jie");
    assert_eq!(rep3["team_id"], demo::demo_team_id().to_string());
    assert_eq!(app.login_in("demo", "rep3", "rep3-password").status, 200);
    // No password in the file: merch2 cannot sign in yet; rep1 keeps theirs.
    assert_eq!(app.login_in("demo", "merch2", "").status, 401);
    assert_eq!(app.login_in("demo", "rep1", "demo1234").status, 200);

    // Territories: one row per store or person; the file replaces each named territory.
    let territories = "territory,store_code,username\n\
                       汉街 Han Street,NEW-001,rep3\n\
                       汉街 Han Street,NEW-002,\n\
                       汉街 Han Street,,merch2\n\
                       rep1 NKA+RKA,NKA-001,rep1\n";
    let a = app.post_csv("territories", &admin, territories);
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(
        (a.json()["created"].as_u64(), a.json()["updated"].as_u64()),
        (Some(1), Some(1))
    );
    let list = app.get("/v1/admin/territories", &admin).json();
    let han = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "汉街 Han Street")
        .cloned()
        .unwrap();
    assert_eq!(han["store_ids"].as_array().unwrap().len(), 2);
    assert_eq!(han["user_ids"].as_array().unwrap().len(), 2);
    let rep1t = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "rep1 NKA+RKA")
        .cloned()
        .unwrap();
    assert_eq!(rep1t["store_ids"].as_array().unwrap().len(), 1, "replaced");
}

fn a_bad_row_imports_nothing(app: &TestApp) {
    let admin = app.token("admin");
    let before = stores_in_master(app, &admin);

    let bad = "code,name,channel,grade,address,lat,lon,geofence_radius_m,delivery_lead_days\n\
               BAD-001,Good one,nka,A,addr,30.1,114.1,100,1\n\
               BAD-002,\"Bad, lat\",nka,A,addr,95.5,114.1,100,1\n\
               BAD-003,Good too,rka,B,addr,30.2,114.2,100,2\n\
               BAD-004,Bad grade,lka,Z,addr,30.2,114.2,-5,2\n\
               BAD-001,Duplicate,nka,A,addr,30.1,114.1,100,1\n";
    let a = app.post_csv("stores", &admin, bad);
    assert_eq!(a.status, 422, "{}", a.text());
    let body = a.json();
    assert_eq!(body["reason"], "invalid_rows");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("nothing was imported"));
    let errors: Vec<(u64, String)> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert!(!e["message"].as_str().unwrap().is_empty());
            (
                e["row"].as_u64().unwrap(),
                e["column"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        vec![
            (3, "lat".to_string()),
            (5, "grade".to_string()),
            (5, "geofence_radius_m".to_string()),
            (6, "code".to_string()),
        ]
    );
    let lat = &body["errors"][0]["message"];
    assert!(lat.as_str().unwrap().contains("latitude"), "{lat}");
    assert_eq!(stores_in_master(app, &admin), before, "nothing stored");

    // Users: a bad role among good rows; the good ones are not created either.
    let users = "username,display_name,role,code\n\
                 good1,Good One,rep,G001\n\
                 bad1,Bad One,boss,G002\n";
    let a = app.post_csv("users", &admin, users);
    assert_eq!(a.status, 422, "{}", a.text());
    assert_eq!(a.json()["errors"][0]["row"], 3);
    assert_eq!(a.json()["errors"][0]["column"], "role");
    let list = app.get("/v1/admin/users", &admin).json();
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["username"] != "good1"));

    // Credit for a store that does not exist; a product with a bad price.
    let a = app.post_csv(
        "credit",
        &admin,
        "store_code,credit_limit,receivables,overdue,as_of\nNKA-001,1,0,0,2026-01-01\nNOPE-1,1,0,0,2026-01-01\n",
    );
    assert_eq!(a.status, 422);
    assert_eq!(
        (
            a.json()["errors"][0]["row"].as_u64(),
            a.json()["errors"][0]["column"].as_str()
        ),
        (Some(3), Some("store_code"))
    );
    let a = app.post_csv(
        "products",
        &admin,
        "sku,name,case_pack,sold_by_case,shelf_life_days,list_price,floor_price\nX-1,X,6,no,90,1.234,1\n",
    );
    assert_eq!(a.status, 422);
    assert_eq!(a.json()["errors"][0]["column"], "list_price");
    // Territories naming a supervisor.
    let a = app.post_csv("territories", &admin, "territory,username\nT,sup1\n");
    assert_eq!(a.status, 422);
    assert_eq!(a.json()["errors"][0]["column"], "username");

    // Header problems are row 1.
    let a = app.post_csv("stores", &admin, "code,name,colour\nX,Y,red\n");
    assert_eq!(a.status, 422);
    let errs = a.json()["errors"].as_array().unwrap().clone();
    assert!(errs.iter().all(|e| e["row"] == 1));
    assert!(errs.iter().any(|e| e["column"] == "colour"));
    assert!(errs.iter().any(|e| e["column"] == "lat"));
    // Not CSV, unknown kind.
    let a = app.send_json(
        "POST",
        "/v1/admin/import/stores",
        &admin,
        serde_json::json!({}),
    );
    assert_eq!(a.status, 415);
    assert_eq!(app.post_csv("orders", &admin, "a\n").status, 404);
    // Larger than 10 MiB.
    let huge = format!("territory\n{}", "x\n".repeat(5_500_000));
    let a = app.post_csv("territories", &admin, &huge);
    assert_eq!((a.status, a.reason().as_str()), (413, "body_too_large"));
    assert_eq!(
        stores_in_master(app, &admin),
        before,
        "still nothing stored"
    );
}

fn the_cli_imports_with_progress_and_reports_bad_rows(app: &TestApp) {
    let bin = env!("CARGO_BIN_EXE_fieldsync-server");
    let data = app.dir.path();
    let run = |kind: &str, csv: &str| {
        let file = data.join(format!("{kind}-{}.csv", csv.len()));
        std::fs::write(&file, csv).unwrap();
        let mut cmd = Command::new(bin);
        cmd.args(["import", kind])
            .arg(&file)
            .args(["--tenant", "demo", "--log", "warn", "--data-dir"])
            .arg(data)
            .env_remove("DATABASE_URL");
        if let Some(url) = &app.database_url {
            cmd.env("DATABASE_URL", url);
        }
        cmd.output().unwrap()
    };

    // 2 500 products: progress every 1 000 rows on stderr, the summary on stdout.
    let mut csv =
        String::from("sku,name,case_pack,sold_by_case,shelf_life_days,list_price,floor_price\n");
    for i in 0..2500 {
        csv.push_str(&format!(
            "BULK-{i:05},\"批量 Bulk, #{i}\",12,false,180,5.00,4.25\n"
        ));
    }
    let out = run("products", &csv);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("read 1000 rows") && stderr.contains("read 2000 rows"),
        "{stderr}"
    );
    assert!(stderr.contains("writing"), "{stderr}");
    assert!(
        stdout.contains("imported 2500 products rows") && stdout.contains("2500 created"),
        "{stdout}"
    );
    let admin = app.token("admin");
    let page = app.get("/v1/master?since=0", &admin).json();
    assert_eq!(page["products"].as_array().unwrap().len(), 50 + 2500);

    // A bad row: exit failure, one line per failing row, nothing stored.
    let out = run(
        "stores",
        "code,name,channel,grade,address,lat,lon,geofence_radius_m,delivery_lead_days\n\
         CLI-001,Fine,nka,A,addr,30.1,114.1,100,1\n\
         CLI-002,Broken,nka,A,addr,30.1,east,100,1\n",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("row 3, column lon:"), "{stderr}");
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    let page = app.get("/v1/master?since=0", &admin).json();
    assert!(page["stores"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["code"] != "CLI-001"));

    // Unknown tenant.
    let file = data.join("t.csv");
    std::fs::write(&file, "territory\nX\n").unwrap();
    let mut cmd = Command::new(bin);
    cmd.args(["import", "territories"])
        .arg(&file)
        .args(["--tenant", "nobody", "--log", "warn", "--data-dir"])
        .arg(data)
        .env_remove("DATABASE_URL");
    if let Some(url) = &app.database_url {
        cmd.env("DATABASE_URL", url);
    }
    let out = cmd.output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no tenant `nobody`"));
}

macro_rules! import_suite {
    ($engine:ident) => {
        mod $engine {
            fn app() -> crate::TestApp {
                crate::spawn(stringify!($engine))
            }

            #[test]
            fn good_files_of_every_kind_import() {
                super::good_files_of_every_kind_import(&app());
            }

            #[test]
            fn a_bad_row_imports_nothing() {
                super::a_bad_row_imports_nothing(&app());
            }

            #[test]
            fn the_cli_imports_with_progress_and_reports_bad_rows() {
                super::the_cli_imports_with_progress_and_reports_bad_rows(&app());
            }
        }
    };
}

import_suite!(sqlite);
import_suite!(postgres);
