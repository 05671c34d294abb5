//! The demo tenant on both engines: its CSV files import cleanly through the customer's
//! import pipeline, give the data the docs describe (ids derived from names, the overdue,
//! stale and at-limit stores, the organisation), and a second seed changes nothing.
//! PostgreSQL needs `FIELDSYNC_TEST_DATABASE_URL` (`scripts/with-postgres.sh`).

use fieldsync_server::demo::{self, SeedOutcome};
use fieldsync_server::store::Store;
use fieldsync_shared::{Position, StoreId, Timestamp};

mod support;

async fn seeds_the_documented_demo(store: &dyn Store) {
    assert_eq!(demo::seed(store).await.unwrap(), SeedOutcome::Created);
    let tenant = demo::demo_tenant_id();
    let today = Timestamp::now().utc_date();

    let page = store.master_page(tenant, 0).await.unwrap();
    assert_eq!(page.stores.len(), 30);
    let centre = Position::new(30.5928, 114.3055).unwrap();
    for s in &page.stores {
        assert_eq!(s.id, demo::demo_store_id(s.code.as_str()));
        assert!(
            s.location.distance_m(&centre) < 15_000.0,
            "{} too far",
            s.code
        );
        assert!((80..=200).contains(&s.geofence_radius_m));
        assert!((1..=3).contains(&s.delivery_lead_days));
    }
    assert!(page
        .stores
        .iter()
        .any(|s| s.name == "沃尔玛 光谷店 Walmart Guanggu"));
    assert_eq!(page.products.len(), 50);
    for p in &page.products {
        assert!([6, 12, 24].contains(&p.case_pack));
        assert!((90..=720).contains(&p.shelf_life_days));
        assert!(p.floor_price.0 * 100 / p.list_price.0 >= 84);
    }

    assert_eq!(page.credit.len(), 30);
    let code_of = |id: StoreId| {
        page.stores
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.code.as_str().to_string())
            .unwrap()
    };
    let mut overdue: Vec<String> = page
        .credit
        .iter()
        .filter(|c| c.overdue.0 > 0)
        .map(|c| code_of(c.store_id))
        .collect();
    overdue.sort();
    let mut expected: Vec<String> = demo::OVERDUE_STORES.iter().map(|c| c.to_string()).collect();
    expected.sort();
    assert_eq!(overdue, expected);
    for c in &page.credit {
        let code = code_of(c.store_id);
        let days = if code == demo::STALE_CREDIT_STORE {
            demo::STALE_DAYS
        } else {
            1
        };
        assert_eq!(c.as_of, today.add_days(-days), "{code}");
        if code == demo::AT_LIMIT_STORE {
            assert_eq!(c.receivables.0, c.credit_limit.0 * 98 / 100);
            assert_eq!(c.overdue.0, 0);
        }
    }

    let users = store.list_org_users(tenant).await.unwrap();
    let names: Vec<&str> = users.iter().map(|u| u.profile.username.as_str()).collect();
    assert_eq!(names, ["admin", "merch1", "mgr1", "rep1", "rep2", "sup1"]);
    for u in &users {
        assert_eq!(u.profile.id, demo::demo_user_id(&u.profile.username));
        let in_team = ["rep1", "rep2", "merch1"].contains(&u.profile.username.as_str());
        assert_eq!(
            u.team_id,
            in_team.then(demo::demo_team_id),
            "{}",
            u.profile.username
        );
    }
    let rep1 = store
        .find_user_by_username(tenant, "rep1")
        .await
        .unwrap()
        .unwrap();
    assert!(fieldsync_server::auth::verify_password(
        demo::DEMO_PASSWORD.to_string(),
        Some(rep1.password_hash)
    )
    .await
    .unwrap());

    let region = store
        .get_region(tenant, demo::demo_region_id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (region.name.as_str(), region.manager_id),
        (demo::DEMO_REGION, Some(demo::demo_user_id("mgr1")))
    );
    let team = store
        .get_team(tenant, demo::demo_team_id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(team.name, demo::DEMO_TEAM);
    assert_eq!(team.supervisor_id, Some(demo::demo_user_id("sup1")));
    assert_eq!(team.region_id, Some(demo::demo_region_id()));
    let territories = store.list_territories(tenant).await.unwrap();
    assert_eq!(territories.len(), demo::DEMO_TERRITORIES.len());
    for (name, stores, user) in [
        ("rep1 NKA+RKA", 16, "rep1"),
        ("rep2 LKA+OTH", 14, "rep2"),
        ("merch1 NKA", 8, "merch1"),
    ] {
        let t = territories.iter().find(|t| t.name == name).unwrap();
        assert_eq!(t.id, demo::demo_territory_id(name));
        assert_eq!(t.store_ids.len(), stores, "{name}");
        assert_eq!(t.user_ids, [demo::demo_user_id(user)], "{name}");
    }

    // This year's agreements, one per store, so that the console's page is not empty.
    let year: i32 = today.to_string()[..4].parse().unwrap();
    let agreements = store.agreements(tenant, year).await.unwrap();
    let codes: Vec<String> = agreements.iter().map(|a| a.code.to_string()).collect();
    assert_eq!(
        codes,
        [format!("NKA-001-{year}"), format!("RKA-001-{year}")]
    );
    assert_eq!(
        agreements[0].scope,
        fieldsync_shared::master::AssortmentScope::Store(demo::demo_store_id("NKA-001"))
    );
    assert_eq!(agreements[0].total_fee().0, 1_280_000);

    // A second seed writes nothing: the master data version stays.
    assert_eq!(
        demo::seed(store).await.unwrap(),
        SeedOutcome::AlreadyPresent
    );
    let again = store.master_page(tenant, 0).await.unwrap();
    assert_eq!(again.version, page.version);
    assert_eq!(again.stores, page.stores);
    assert_eq!(store.list_org_users(tenant).await.unwrap(), users);
}

#[tokio::test]
async fn the_demo_imports_on_sqlite_and_a_second_seed_is_a_no_op() {
    let fixture = support::sqlite().await;
    seeds_the_documented_demo(&fixture.store).await;
    fixture.finish().await;
}

#[tokio::test]
async fn the_demo_imports_on_postgres_and_a_second_seed_is_a_no_op() {
    let fixture = support::postgres().await;
    seeds_the_documented_demo(&fixture.store).await;
    fixture.finish().await;
}
