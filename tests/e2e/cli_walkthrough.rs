//! The README walkthrough, driven through the real `fieldsync` CLI binary: two phones record one
//! visit offline, a rule refuses bad input on the phone, both sync, a supervisor queries it,
//! then approves it on a third phone and the visit freezes on the rep's phone.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use fieldsync_e2e::{workspace_binary, TestServer};
use fieldsync_shared::Timestamp;

/// One phone: the CLI binary with its own data directory.
struct Phone {
    bin: PathBuf,
    dir: tempfile::TempDir,
}

impl Phone {
    fn new() -> Phone {
        Phone {
            bin: workspace_binary("fieldsync"),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(&self.bin)
            .arg("--data-dir")
            .arg(self.dir.path())
            .args(args)
            .env_remove("FIELDSYNC_PASSWORD")
            .output()
            .expect("run fieldsync")
    }

    /// Runs a command that must succeed; returns its trimmed stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "fieldsync {args:?} failed ({:?}):\n{}\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// Runs a command that must fail with `code`; returns stdout + stderr.
    fn fails(&self, code: i32, args: &[&str]) -> String {
        let out = self.run(args);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(code), "fieldsync {args:?}:\n{text}");
        text
    }
}

fn write_photo(dir: &Path) -> String {
    let path = dir.join("shelf.jpg");
    std::fs::write(&path, b"shelf photo bytes").unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn the_readme_walkthrough_works() {
    let server = TestServer::start();
    let (rep, merch) = (Phone::new(), Phone::new());
    let login = |phone: &Phone, user: &str, stores: &str| {
        let out = phone.ok(&[
            "login",
            "--server",
            &server.url,
            "--tenant",
            "demo",
            "--username",
            user,
            "--password",
            "demo1234",
        ]);
        // rep1 covers the NKA and RKA stores, merch1 the NKA ones (read scopes).
        assert!(
            out.contains(stores),
            "login brings the user's master data: {out}"
        );
    };
    login(&rep, "rep1", "16 store(s)");
    login(&merch, "merch1", "8 store(s)");
    assert!(rep.ok(&["stores"]).contains("NKA-001"));

    let visit = rep.ok(&["visit", "start", "--store", "NKA-001"]);
    assert_eq!(visit.len(), 36, "visit start prints the id: {visit:?}");
    let v = visit.as_str();
    rep.ok(&[
        "visit",
        "check-in",
        v,
        "--lat",
        "30.5029",
        "--lon",
        "114.2176",
        "--accuracy",
        "8",
    ]);
    rep.ok(&["sync"]);
    merch.ok(&["sync"]);

    // Offline, concurrently.
    let photo = write_photo(merch.dir.path());
    merch.ok(&["visit", "photo", v, &photo, "--step", "merchandise"]);
    merch.ok(&[
        "visit",
        "audit",
        v,
        "--sku",
        "COLA-330",
        "--location",
        "MAIN-SHELF",
        "--facings",
        "6",
        "--price",
        "3.50",
    ]);
    merch.ok(&[
        "visit",
        "note",
        v,
        "Endcap rebuilt to the picture of success",
    ]);
    rep.ok(&[
        "visit",
        "audit",
        v,
        "--sku",
        "TEA-500",
        "--location",
        "ENDCAP-1",
        "--facings",
        "4",
        "--oldest",
        "2026-09-01",
    ]);
    rep.ok(&["visit", "note", v, "Store manager asks for more facings"]);
    rep.ok(&["visit", "step", v, "--all"]);

    // The photo is on the other phone: check-out refused by the visit rule, exit code 3.
    let refused = rep.fails(
        3,
        &[
            "visit",
            "check-out",
            v,
            "--lat",
            "30.5029",
            "--lon",
            "114.2176",
        ],
    );
    assert!(refused.contains("photos_missing"), "{refused}");

    let delivery = Timestamp::now().utc_date().add_days(5).to_string();
    let order = rep.ok(&[
        "order",
        "create",
        "--store",
        "NKA-001",
        "--delivery",
        &delivery,
    ]);
    assert_eq!(order.len(), 36, "order create prints the id: {order:?}");
    let refused = rep.fails(
        3,
        &["order", "line", &order, "--sku", "COLA-330", "--qty", "0"],
    );
    assert!(refused.contains("quantity_zero"), "{refused}");
    rep.ok(&["order", "line", &order, "--sku", "COLA-330", "--qty", "24"]);
    rep.ok(&["order", "submit", &order]);
    // Delivered the same day (van sales): recorded offline, not for tomorrow.
    let tomorrow = Timestamp::now().utc_date().add_days(1).to_string();
    let refused = rep.fails(6, &["order", "deliver", &order, "--on", &tomorrow]);
    assert!(refused.contains("delivery_date_invalid"), "{refused}");
    let today = Timestamp::now().utc_date().to_string();
    rep.ok(&["order", "deliver", &order, "--on", &today]);

    // Back online.
    merch.ok(&["sync"]);
    rep.ok(&["sync"]);
    merch.ok(&["sync"]);
    let shown = rep.ok(&["visit", "show", v]);
    for expected in [
        "COLA-330@MAIN-SHELF",
        "TEA-500@ENDCAP-1",
        "Endcap rebuilt",
        "more facings",
    ] {
        assert!(
            shown.contains(expected),
            "{expected} missing from:\n{shown}"
        );
    }
    rep.ok(&[
        "visit",
        "check-out",
        v,
        "--lat",
        "30.5029",
        "--lon",
        "114.2176",
    ]);
    rep.ok(&["visit", "submit", v]);
    rep.ok(&["sync"]);

    // Both phones hold the same visit; the supervisor's query shows it with every edit.
    merch.ok(&["sync"]);
    let rep_json: serde_json::Value =
        serde_json::from_str(&rep.ok(&["--json", "visit", "show", v])).unwrap();
    let merch_json: serde_json::Value =
        serde_json::from_str(&merch.ok(&["--json", "visit", "show", v])).unwrap();
    assert_eq!(rep_json, merch_json, "both phones show the same visit");

    let token = server.token("sup1");
    let submitted = server.get_json(&token, "/v1/visits?status=submitted");
    let items = submitted["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    let doc = &items[0]["document"];
    assert_eq!(doc["audit"].as_object().unwrap().len(), 2);
    assert_eq!(doc["photos"].as_object().unwrap().len(), 1);
    let notes: Vec<&str> = doc["note_entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["text"].as_str().unwrap())
        .collect();
    assert!(
        notes.iter().any(|n| n.contains("Endcap rebuilt"))
            && notes.iter().any(|n| n.contains("more facings")),
        "{notes:?}"
    );

    let served_order = server.get_json(&token, &format!("/v1/orders/{order}"));
    assert_eq!(served_order["document"]["status"], "submitted");
    assert_eq!(
        served_order["document"]["delivery"]["delivered_on"],
        today.as_str()
    );
    assert_eq!(
        served_order["document"]["lines"]["COLA-330"]["quantity"],
        24
    );

    // The supervisor reviews on a third phone; the approved visit freezes on the rep's phone.
    let sup = Phone::new();
    login(&sup, "sup1", "store(s)");
    let listed = sup.ok(&["review", "list"]);
    assert!(listed.contains(v), "{listed}");
    let refused = sup.fails(6, &["review", "reject", v]);
    assert!(refused.contains("comment_required"), "{refused}");
    sup.ok(&["review", "approve", v, "--comment", "good shelf"]);
    sup.ok(&["sync"]);
    rep.ok(&["sync"]);
    let shown = rep.ok(&["visit", "show", v]);
    assert!(
        shown.contains("approved") && shown.contains("good shelf"),
        "{shown}"
    );
    let refused = rep.fails(6, &["visit", "note", v, "one more thing"]);
    assert!(refused.contains("visit_frozen"), "{refused}");
}
