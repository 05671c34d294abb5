//! Conformance tests of [`DirectoryStore`] (tenants, users, master data, approval tiers) and [`PhotoStore`]
//! (photo metadata),
//! generic over the trait; `directory_suite!` at the end runs them on SQLite and PostgreSQL
//! (the latter needs `FIELDSYNC_TEST_DATABASE_URL`, which `scripts/with-postgres.sh` sets).

use fieldsync_server::store::directory::Tenant;
use fieldsync_server::store::photos::PhotoMeta;
use fieldsync_server::store::{DirectoryStore, PhotoStore, StoreError};
use fieldsync_shared::master::{
    AssortmentRow, AssortmentScope, Channel, CreditSnapshot, Grade, Product, Role, Store,
    UserProfile,
};
use fieldsync_shared::tiers::ApprovalTiers;
use fieldsync_shared::values::{
    Date, Money, PersonCode, Position, Sha256, Sku, StoreCode, StoreId, TenantId, Timestamp, UserId,
};

mod support;

// ---------------------------------------------------------------------------------------------
// Test data.

fn shop(code: &str, name: &str) -> Store {
    Store {
        id: StoreId::new_random(),
        code: StoreCode::parse(code).unwrap(),
        name: name.to_string(),
        channel: Channel::Nka,
        grade: Grade::A,
        address: "武汉市江汉区解放大道 688 号".to_string(),
        location: Position::new(30.583_123_456_789, 114.271_987_654_321).unwrap(),
        geofence_radius_m: 150,
        delivery_lead_days: 2,
        monthly_potential: None,
        chain: None,
    }
}

fn product(sku: &str) -> Product {
    Product {
        sku: Sku::parse(sku).unwrap(),
        name: format!("Product {sku}"),
        case_pack: 24,
        sold_by_case: true,
        shelf_life_days: 365,
        list_price: Money(350),
        floor_price: Money(300),
    }
}

fn credit(store_id: StoreId, limit: i64) -> CreditSnapshot {
    CreditSnapshot {
        store_id,
        credit_limit: Money(limit),
        receivables: Money(123_456),
        overdue: Money(0),
        as_of: Date::parse("2026-11-20").unwrap(),
    }
}

fn user(tenant: TenantId, username: &str, code: &str, role: Role) -> UserProfile {
    UserProfile {
        id: UserId::new_random(),
        tenant_id: tenant,
        username: username.to_string(),
        display_name: format!("User {username}"),
        role,
        code: PersonCode::parse(code).unwrap(),
    }
}

fn photo(tenant: TenantId, bytes: &[u8]) -> PhotoMeta {
    PhotoMeta {
        tenant_id: tenant,
        sha256: Sha256::digest(bytes),
        size_bytes: 3_000_000_000, // beyond u32
        content_type: "image/jpeg".to_string(),
        uploaded_by: UserId::new_random(),
        created_at: Timestamp(1_763_800_000_123),
    }
}

fn assert_conflict<T: std::fmt::Debug>(result: Result<T, StoreError>, what: &str) {
    assert!(
        matches!(result, Err(StoreError::Conflict(_))),
        "{what}: expected a conflict, got {result:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// The suite.

pub async fn ping_answers<S: DirectoryStore>(store: &S) {
    store.ping().await.expect("ping");
}

pub async fn tenants_are_unique_by_id_and_slug<S: DirectoryStore>(store: &S) {
    let acme = Tenant {
        id: TenantId::new_random(),
        slug: "acme".into(),
        name: "Acme Beverages".into(),
    };
    store.create_tenant(&acme).await.unwrap();
    assert_eq!(
        store.find_tenant_by_slug("acme").await.unwrap(),
        Some(acme.clone())
    );
    assert_eq!(store.find_tenant_by_slug("nobody").await.unwrap(), None);
    assert_eq!(
        store.find_tenant_by_slug("ACME").await.unwrap(),
        None,
        "slugs are matched exactly (callers lower-case them)"
    );

    assert_conflict(
        store
            .create_tenant(&Tenant {
                id: TenantId::new_random(),
                ..acme.clone()
            })
            .await,
        "same slug",
    );
    assert_conflict(
        store
            .create_tenant(&Tenant {
                slug: "acme2".into(),
                ..acme.clone()
            })
            .await,
        "same id",
    );
    assert_eq!(store.find_tenant_by_slug("acme2").await.unwrap(), None);
}

pub async fn users_are_per_tenant<S: DirectoryStore>(store: &S, tenant: TenantId, other: TenantId) {
    let li = user(tenant, "li", "R001", Role::Rep);
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo";
    store.create_user(&li, hash).await.unwrap();

    let found = store
        .find_user_by_username(tenant, "li")
        .await
        .unwrap()
        .expect("by username");
    assert_eq!(found.profile, li);
    assert_eq!(found.password_hash, hash);
    assert!(
        !format!("{found:?}").contains("argon2"),
        "the hash is redacted in Debug"
    );
    assert_eq!(
        store.find_user(tenant, li.id).await.unwrap(),
        Some(li.clone())
    );

    // Another tenant sees nothing of it.
    assert!(store
        .find_user_by_username(other, "li")
        .await
        .unwrap()
        .is_none());
    assert_eq!(store.find_user(other, li.id).await.unwrap(), None);
    assert_eq!(
        store.find_user(tenant, UserId::new_random()).await.unwrap(),
        None
    );

    // Username and code are unique within a tenant only.
    assert_conflict(
        store
            .create_user(&user(tenant, "li", "R002", Role::Rep), hash)
            .await,
        "same username",
    );
    assert_conflict(
        store
            .create_user(&user(tenant, "wang", "R001", Role::Rep), hash)
            .await,
        "same code",
    );
    let other_li = user(other, "li", "R001", Role::Supervisor);
    store.create_user(&other_li, hash).await.unwrap();
    assert_eq!(
        store
            .find_user_by_username(other, "li")
            .await
            .unwrap()
            .map(|u| u.profile),
        Some(other_li)
    );

    // Every role round-trips.
    for (i, role) in [
        Role::Merchandiser,
        Role::Rep,
        Role::Supervisor,
        Role::Manager,
        Role::Admin,
    ]
    .into_iter()
    .enumerate()
    {
        let u = user(tenant, &format!("u{i}"), &format!("X{i}"), role);
        store.create_user(&u, hash).await.unwrap();
        assert_eq!(store.find_user(tenant, u.id).await.unwrap(), Some(u));
    }
}

pub async fn master_data_versions_and_since<S: DirectoryStore>(
    store: &S,
    tenant: TenantId,
    other: TenantId,
) {
    let empty = store.master_page(tenant, 0).await.unwrap();
    assert_eq!(empty.version, 0);
    assert!(empty.stores.is_empty() && empty.products.is_empty() && empty.credit.is_empty());

    // Codes whose byte order differs from a natural-language collation's (which ignores
    // punctuation): pages are ordered by code in byte order on every engine.
    let mut stores = vec![
        shop("NKA1", "one"),
        shop("NKA-10", "ten"),
        shop("NKA_2", "two"),
        shop("NKA.5", "five"),
        shop("LKA-0001", "local"),
    ];
    stores[1].channel = Channel::Rka;
    stores[1].grade = Grade::B;
    stores[2].channel = Channel::Lka;
    stores[2].grade = Grade::C;
    stores[3].channel = Channel::Other;
    let v1 = store.upsert_stores(tenant, &stores).await.unwrap();
    assert_eq!(v1, 1);
    let products = vec![product("COLA-330"), product("COLA330"), product("COLA.500")];
    let v2 = store.upsert_products(tenant, &products).await.unwrap();
    assert_eq!(v2, 2);
    let v3 = store
        .upsert_credit(
            tenant,
            &[credit(stores[0].id, 500_000), credit(stores[1].id, 900_000)],
        )
        .await
        .unwrap();
    assert_eq!(v3, 3);

    let page = store.master_page(tenant, 0).await.unwrap();
    assert_eq!(page.version, 3);
    let mut by_code = stores.clone();
    by_code.sort_by(|a, b| a.code.as_str().as_bytes().cmp(b.code.as_str().as_bytes()));
    assert_eq!(
        page.stores, by_code,
        "every field round-trips, ordered by code"
    );
    let mut by_sku = products.clone();
    by_sku.sort_by(|a, b| a.sku.as_str().as_bytes().cmp(b.sku.as_str().as_bytes()));
    assert_eq!(page.products, by_sku);
    assert_eq!(page.credit.len(), 2);
    for c in &page.credit {
        let limit = if c.store_id == stores[0].id {
            500_000
        } else {
            900_000
        };
        assert_eq!(*c, credit(c.store_id, limit));
    }

    // `since` returns what changed after it.
    let since1 = store.master_page(tenant, 1).await.unwrap();
    assert!(since1.stores.is_empty());
    assert_eq!(since1.products.len(), 3);
    assert_eq!(since1.credit.len(), 2);
    let since3 = store.master_page(tenant, 3).await.unwrap();
    assert_eq!(since3.version, 3);
    assert!(since3.stores.is_empty() && since3.products.is_empty() && since3.credit.is_empty());

    // An update moves just that row to the new version.
    let mut renamed = stores[2].clone();
    renamed.name = "two, renamed".into();
    renamed.location = Position::new(-33.5, 151.25).unwrap();
    assert_eq!(
        store
            .upsert_stores(tenant, &[renamed.clone()])
            .await
            .unwrap(),
        4
    );
    let since3 = store.master_page(tenant, 3).await.unwrap();
    assert_eq!(since3.version, 4);
    assert_eq!(since3.stores, vec![renamed]);
    assert!(since3.products.is_empty() && since3.credit.is_empty());
    let mut cheaper = products[0].clone();
    cheaper.list_price = Money(299);
    cheaper.sold_by_case = false;
    assert_eq!(
        store
            .upsert_products(tenant, &[cheaper.clone()])
            .await
            .unwrap(),
        5
    );
    assert_eq!(
        store.master_page(tenant, 4).await.unwrap().products,
        vec![cheaper]
    );
    assert_eq!(
        store
            .upsert_credit(tenant, &[credit(stores[0].id, 1)])
            .await
            .unwrap(),
        6
    );
    assert_eq!(
        store.master_page(tenant, 5).await.unwrap().credit,
        vec![credit(stores[0].id, 1)]
    );

    // A `since` from elsewhere (newer than anything here, or negative) means everything.
    for since in [1_000, -1] {
        let all = store.master_page(tenant, since).await.unwrap();
        assert_eq!(all.version, 6);
        assert_eq!(
            (all.stores.len(), all.products.len(), all.credit.len()),
            (5, 3, 2)
        );
    }

    // Tenants are separate: own counter, own rows, same codes allowed.
    let other_page = store.master_page(other, 0).await.unwrap();
    assert_eq!(other_page.version, 0);
    assert!(other_page.stores.is_empty() && other_page.products.is_empty());
    assert_eq!(
        store
            .upsert_stores(other, &[shop("NKA1", "other's")])
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .upsert_products(other, &[product("COLA-330")])
            .await
            .unwrap(),
        2
    );
    assert_eq!(store.master_page(tenant, 0).await.unwrap().stores.len(), 5);
}

pub async fn known_stores_are_the_tenants_own<S: DirectoryStore>(
    store: &S,
    tenant: TenantId,
    other: TenantId,
) {
    let mine = shop("NKA-0100", "Mine");
    let theirs = shop("NKA-0100", "Theirs");
    store
        .upsert_stores(tenant, std::slice::from_ref(&mine))
        .await
        .unwrap();
    store
        .upsert_stores(other, std::slice::from_ref(&theirs))
        .await
        .unwrap();
    let unknown = StoreId::new_random();
    let known = store
        .known_stores(tenant, &[mine.id, theirs.id, unknown, mine.id])
        .await
        .unwrap();
    assert_eq!(known, std::collections::HashSet::from([mine.id]));
    assert!(store.known_stores(tenant, &[]).await.unwrap().is_empty());
}

pub async fn master_data_refusals<S: DirectoryStore>(store: &S, tenant: TenantId, other: TenantId) {
    let s = shop("NKA-0001", "mine");
    store
        .upsert_stores(tenant, std::slice::from_ref(&s))
        .await
        .unwrap();

    // A store id of another tenant is refused, not moved.
    assert_conflict(
        store.upsert_stores(other, std::slice::from_ref(&s)).await,
        "foreign id",
    );
    // A second store with a code this tenant already uses.
    assert_conflict(
        store
            .upsert_stores(tenant, &[shop("NKA-0001", "dup")])
            .await,
        "duplicate code",
    );
    // Credit for a store this tenant does not have.
    assert!(matches!(
        store.upsert_credit(other, &[credit(s.id, 1)]).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store
            .upsert_credit(tenant, &[credit(StoreId::new_random(), 1)])
            .await,
        Err(StoreError::NotFound(_))
    ));
    // An unknown tenant.
    let nobody = TenantId::new_random();
    assert!(matches!(
        store.upsert_products(nobody, &[product("X")]).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.master_page(nobody, 0).await,
        Err(StoreError::NotFound(_))
    ));

    // Refused writes changed nothing, counters included.
    let page = store.master_page(tenant, 0).await.unwrap();
    assert_eq!(page.version, 1);
    assert_eq!(page.stores, vec![s]);
    assert!(page.credit.is_empty());
    assert_eq!(store.master_page(other, 0).await.unwrap().version, 0);
}

/// A tenant's approval tiers: none until set; set at a new master version; on every master
/// page whatever its `since`; another tenant's are its own.
pub async fn approval_tiers_are_per_tenant_and_on_every_page<S: DirectoryStore>(
    store: &S,
    tenant: TenantId,
    other: TenantId,
) {
    assert_eq!(store.approval_tiers(tenant).await.unwrap(), None);
    assert_eq!(
        store.master_page(tenant, 0).await.unwrap().approval_tiers,
        None
    );
    let mut tiers = ApprovalTiers::default();
    tiers.discount_bp.supervisor = Some(1500);
    tiers.order_amount.rep = Some(Money(500_000));
    let before = store.master_page(tenant, 0).await.unwrap().version;
    let version = store.set_approval_tiers(tenant, &tiers).await.unwrap();
    assert_eq!(version, before + 1, "tiers take a master version");
    assert_eq!(store.approval_tiers(tenant).await.unwrap(), Some(tiers));
    let page = store.master_page(tenant, version).await.unwrap();
    assert_eq!((page.version, page.approval_tiers), (version, Some(tiers)));
    // Replaced, not added.
    tiers.discount_bp.manager = Some(2500);
    store.set_approval_tiers(tenant, &tiers).await.unwrap();
    assert_eq!(store.approval_tiers(tenant).await.unwrap(), Some(tiers));
    assert_eq!(store.approval_tiers(other).await.unwrap(), None);
    assert_eq!(
        store.master_page(other, 0).await.unwrap().approval_tiers,
        None
    );
}

/// The must-carry range: replaced whole at a new master version, on the master pages older
/// than that version only, emptied by an empty range; a row naming another tenant's store is
/// refused and changes nothing.
pub async fn the_range_is_replaced_whole_and_paged_by_version<S: DirectoryStore>(
    store: &S,
    tenant: TenantId,
    other: TenantId,
) {
    assert_eq!(store.assortment(tenant).await.unwrap(), (Vec::new(), 0));
    assert_eq!(store.master_page(tenant, 0).await.unwrap().assortment, None);
    // A store of a chain keeps its chain.
    let s = Store {
        chain: Some("沃尔玛 Walmart".into()),
        ..shop("NKA-0001", "mine")
    };
    store
        .upsert_stores(tenant, std::slice::from_ref(&s))
        .await
        .unwrap();
    assert_eq!(
        store.master_page(tenant, 0).await.unwrap().stores,
        vec![s.clone()]
    );
    let row = |scope, sku: &str, safety_stock| AssortmentRow {
        scope,
        sku: Sku::parse(sku).unwrap(),
        safety_stock,
    };
    let range = vec![
        row(AssortmentScope::Store(s.id), "COLA-330", Some(24)),
        row(AssortmentScope::Channel(Channel::Nka), "TEA-500", None),
        row(AssortmentScope::Channel(Channel::Lka), "COLA-330", Some(0)),
        row(
            AssortmentScope::Chain {
                chain: "沃尔玛 Walmart".into(),
                channel: Channel::Nka,
            },
            "COLA-500",
            Some(6),
        ),
    ];
    let version = store.replace_assortment(tenant, &range).await.unwrap();
    // Channel rows (no store, no chain) first, then chain rows, then by store.
    let stored = vec![
        range[2].clone(),
        range[1].clone(),
        range[3].clone(),
        range[0].clone(),
    ];
    assert_eq!(
        store.assortment(tenant).await.unwrap(),
        (stored.clone(), version)
    );
    assert_eq!(
        store
            .master_page(tenant, version - 1)
            .await
            .unwrap()
            .assortment,
        Some(stored)
    );
    assert_eq!(
        store.master_page(tenant, version).await.unwrap().assortment,
        None
    );

    // Another tenant's store: refused, nothing changed.
    let theirs = shop("NKA-0002", "theirs");
    store
        .upsert_stores(other, std::slice::from_ref(&theirs))
        .await
        .unwrap();
    assert!(matches!(
        store
            .replace_assortment(
                tenant,
                &[row(AssortmentScope::Store(theirs.id), "COLA-330", None)]
            )
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.assortment(tenant).await.unwrap().0.len(), 4);
    assert_eq!(store.assortment(other).await.unwrap(), (Vec::new(), 0));

    // Emptied: the pages before it say so with an empty range.
    let emptied = store.replace_assortment(tenant, &[]).await.unwrap();
    assert!(emptied > version);
    assert_eq!(
        store.assortment(tenant).await.unwrap(),
        (Vec::new(), emptied)
    );
    assert_eq!(
        store.master_page(tenant, version).await.unwrap().assortment,
        Some(Vec::new())
    );
}

/// Promotions: replaced whole at a new master version recorded as theirs, read back by code;
/// a store's are its own, its chain's in its channel and its channel's; one naming another
/// tenant's store is refused and changes nothing; emptied by an empty list.
pub async fn promotions_are_replaced_whole_and_read_per_store<
    S: DirectoryStore + fieldsync_server::store::PromotionStore,
>(
    store: &S,
    tenant: TenantId,
    other: TenantId,
) {
    use fieldsync_shared::master::{Mechanic, Promotion};
    use fieldsync_shared::values::PromotionCode;
    assert_eq!(store.promotions(tenant).await.unwrap(), (Vec::new(), 0));
    let walmart = Store {
        chain: Some("Walmart".into()),
        ..shop("NKA-0001", "walmart")
    };
    let plain = shop("NKA-0002", "plain");
    store
        .upsert_stores(tenant, &[walmart.clone(), plain.clone()])
        .await
        .unwrap();
    let promo = |code: &str, scope| Promotion {
        code: PromotionCode::parse(code).unwrap(),
        title: format!("{code} 促销"),
        from: Date::parse("2026-12-01").unwrap(),
        to: Date::parse("2026-12-31").unwrap(),
        scope,
        skus: vec![
            Sku::parse("COLA-330").unwrap(),
            Sku::parse("COLA-500").unwrap(),
        ],
        mechanic: Mechanic::PriceCut,
        promotion_price: Some(Money(250)),
        fee: None,
    };
    let all = vec![
        promo(
            "A-CHAIN",
            AssortmentScope::Chain {
                chain: "Walmart".into(),
                channel: Channel::Nka,
            },
        ),
        Promotion {
            mechanic: Mechanic::Endcap,
            promotion_price: None,
            fee: Some(Money(120_000)),
            skus: vec![Sku::parse("TEA-500").unwrap()],
            ..promo("B-STORE", AssortmentScope::Store(walmart.id))
        },
        promo("C-NKA", AssortmentScope::Channel(Channel::Nka)),
        promo("D-LKA", AssortmentScope::Channel(Channel::Lka)),
        promo("E-OTHER-STORE", AssortmentScope::Store(plain.id)),
    ];
    let version = store.replace_promotions(tenant, &all).await.unwrap();
    assert_eq!(
        store.promotions(tenant).await.unwrap(),
        (all.clone(), version)
    );
    let codes = |ps: Vec<Promotion>| -> Vec<String> {
        ps.into_iter().map(|p| p.code.to_string()).collect()
    };
    assert_eq!(
        codes(store.promotions_of_store(tenant, walmart.id).await.unwrap()),
        ["A-CHAIN", "B-STORE", "C-NKA"]
    );
    assert_eq!(
        codes(store.promotions_of_store(tenant, plain.id).await.unwrap()),
        ["C-NKA", "E-OTHER-STORE"]
    );
    // Not the tenant's store: none.
    assert!(store
        .promotions_of_store(other, walmart.id)
        .await
        .unwrap()
        .is_empty());

    // Another tenant's store: refused, nothing changed.
    let theirs = shop("NKA-0003", "theirs");
    store
        .upsert_stores(other, std::slice::from_ref(&theirs))
        .await
        .unwrap();
    assert!(matches!(
        store
            .replace_promotions(tenant, &[promo("X", AssortmentScope::Store(theirs.id))])
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.promotions(tenant).await.unwrap(), (all, version));
    assert_eq!(store.promotions(other).await.unwrap(), (Vec::new(), 0));

    let emptied = store.replace_promotions(tenant, &[]).await.unwrap();
    assert!(emptied > version);
    assert_eq!(
        store.promotions(tenant).await.unwrap(),
        (Vec::new(), emptied)
    );
}

/// Pictures of success: replaced whole at a new master version recorded as theirs, read back
/// by code with their points in order and their reference photos; a store's are its own, its
/// chain's in its channel and its channel's; one naming another tenant's store is refused and
/// changes nothing; emptied by an empty list.
pub async fn success_pictures_are_replaced_whole_and_read_per_store<
    S: DirectoryStore + fieldsync_server::store::SuccessStore,
>(
    store: &S,
    tenant: TenantId,
    other: TenantId,
) {
    use fieldsync_shared::master::{PointKind, SuccessPicture, SuccessPoint};
    use fieldsync_shared::values::{PictureCode, PointCode, Sha256};
    assert_eq!(
        store.success_pictures(tenant).await.unwrap(),
        (Vec::new(), 0)
    );
    let walmart = Store {
        chain: Some("Walmart".into()),
        ..shop("NKA-0001", "walmart")
    };
    let plain = shop("NKA-0002", "plain");
    store
        .upsert_stores(tenant, &[walmart.clone(), plain.clone()])
        .await
        .unwrap();
    let picture = |code: &str, scope| SuccessPicture {
        code: PictureCode::parse(code).unwrap(),
        title: format!("{code} 成功图像"),
        scope,
        // Not in code order: the file's order is kept.
        points: vec![
            SuccessPoint {
                code: PointCode::parse("Z-BLOCK").unwrap(),
                label: "Cola block".into(),
                kind: PointKind::ShelfBlocking,
                weight: 60,
                sku: None,
            },
            SuccessPoint {
                code: PointCode::parse("A-EYE").unwrap(),
                label: "Cola at eye level".into(),
                kind: PointKind::EyeLevel,
                weight: 40,
                sku: Some(Sku::parse("COLA-330").unwrap()),
            },
        ],
        reference_photos: vec![Sha256::digest(b"a"), Sha256::digest(b"b")],
    };
    let all = vec![
        picture(
            "A-CHAIN",
            AssortmentScope::Chain {
                chain: "Walmart".into(),
                channel: Channel::Nka,
            },
        ),
        SuccessPicture {
            reference_photos: Vec::new(),
            ..picture("B-STORE", AssortmentScope::Store(walmart.id))
        },
        picture("C-NKA", AssortmentScope::Channel(Channel::Nka)),
        picture("D-LKA", AssortmentScope::Channel(Channel::Lka)),
        picture("E-OTHER-STORE", AssortmentScope::Store(plain.id)),
    ];
    let version = store.replace_success_pictures(tenant, &all).await.unwrap();
    assert_eq!(
        store.success_pictures(tenant).await.unwrap(),
        (all.clone(), version)
    );
    let codes = |ps: Vec<SuccessPicture>| -> Vec<String> {
        ps.into_iter().map(|p| p.code.to_string()).collect()
    };
    assert_eq!(
        codes(
            store
                .success_pictures_of_store(tenant, walmart.id)
                .await
                .unwrap()
        ),
        ["A-CHAIN", "B-STORE", "C-NKA"]
    );
    assert_eq!(
        codes(
            store
                .success_pictures_of_store(tenant, plain.id)
                .await
                .unwrap()
        ),
        ["C-NKA", "E-OTHER-STORE"]
    );
    // Not the tenant's store: none.
    assert!(store
        .success_pictures_of_store(other, walmart.id)
        .await
        .unwrap()
        .is_empty());

    // Another tenant's store: refused, nothing changed.
    let theirs = shop("NKA-0003", "theirs");
    store
        .upsert_stores(other, std::slice::from_ref(&theirs))
        .await
        .unwrap();
    assert!(matches!(
        store
            .replace_success_pictures(tenant, &[picture("X", AssortmentScope::Store(theirs.id))])
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        store.success_pictures(tenant).await.unwrap(),
        (all, version)
    );
    assert_eq!(
        store.success_pictures(other).await.unwrap(),
        (Vec::new(), 0)
    );

    let emptied = store.replace_success_pictures(tenant, &[]).await.unwrap();
    assert!(emptied > version);
    assert_eq!(
        store.success_pictures(tenant).await.unwrap(),
        (Vec::new(), emptied)
    );
}

pub async fn agreements_are_replaced_per_year<
    S: DirectoryStore + fieldsync_server::store::AgreementStore,
>(
    store: &S,
    tenant: TenantId,
    other: TenantId,
) {
    use fieldsync_shared::agreement::Agreement;
    use fieldsync_shared::values::AgreementCode;
    assert!(store.agreements(tenant, 2027).await.unwrap().is_empty());
    let walmart = shop("NKA-0001", "walmart");
    store
        .upsert_stores(tenant, std::slice::from_ref(&walmart))
        .await
        .unwrap();
    let agreement = |code: &str, year: i32, scope| Agreement {
        code: AgreementCode::parse(code).unwrap(),
        title: format!("{code} 协议"),
        year,
        scope,
        listed_skus: vec![
            Sku::parse("COLA-330").unwrap(),
            Sku::parse("TEA-500").unwrap(),
        ],
        listing_fee: Some(Money(200_000)),
        display_weeks: Some(20),
        display_fee: Some(Money(365_000)),
        shelf_position_weeks: None,
        shelf_position_fee: None,
        promotions: Some(2),
        promotion_fee: None,
    };
    let chain = AssortmentScope::Chain {
        chain: "Walmart".into(),
        channel: Channel::Nka,
    };
    let mut bare = agreement("B-STORE", 2027, AssortmentScope::Store(walmart.id));
    bare.listed_skus.clear();
    bare.listing_fee = None;
    let y2027 = vec![agreement("A-CHAIN", 2027, chain.clone()), bare];
    let y2026 = vec![agreement("OLD", 2026, chain.clone())];
    store
        .replace_agreements(
            tenant,
            &[2026, 2027],
            &[y2026.clone(), y2027.clone()].concat(),
        )
        .await
        .unwrap();
    assert_eq!(store.agreements(tenant, 2027).await.unwrap(), y2027);
    assert_eq!(store.agreements(tenant, 2026).await.unwrap(), y2026);
    assert!(store.agreements(other, 2027).await.unwrap().is_empty());

    // A file of 2027 alone replaces 2027 and leaves 2026.
    let again = vec![agreement("C-NEW", 2027, chain.clone())];
    store
        .replace_agreements(tenant, &[2027], &again)
        .await
        .unwrap();
    assert_eq!(store.agreements(tenant, 2027).await.unwrap(), again);
    assert_eq!(store.agreements(tenant, 2026).await.unwrap(), y2026);

    // Another tenant's store: refused, nothing changed.
    let theirs = shop("NKA-0003", "theirs");
    store
        .upsert_stores(other, std::slice::from_ref(&theirs))
        .await
        .unwrap();
    assert!(matches!(
        store
            .replace_agreements(
                tenant,
                &[2027],
                &[agreement("X", 2027, AssortmentScope::Store(theirs.id))]
            )
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.agreements(tenant, 2027).await.unwrap(), again);
}

pub async fn photo_metadata_is_per_tenant<S: PhotoStore>(
    store: &S,
    tenant: TenantId,
    other: TenantId,
) {
    let p = photo(tenant, b"shelf photo");
    assert_eq!(store.get_photo(tenant, &p.sha256).await.unwrap(), None);
    assert!(store.insert_photo_if_absent(&p).await.unwrap(), "inserted");
    assert_eq!(
        store.get_photo(tenant, &p.sha256).await.unwrap(),
        Some(p.clone())
    );

    // The second insert keeps the first metadata.
    let again = PhotoMeta {
        size_bytes: 1,
        content_type: "image/png".into(),
        ..p.clone()
    };
    assert!(!store.insert_photo_if_absent(&again).await.unwrap());
    assert_eq!(
        store.get_photo(tenant, &p.sha256).await.unwrap(),
        Some(p.clone())
    );

    // Another tenant neither sees it nor is blocked by it.
    assert_eq!(store.get_photo(other, &p.sha256).await.unwrap(), None);
    let theirs = PhotoMeta {
        tenant_id: other,
        ..p.clone()
    };
    assert!(store.insert_photo_if_absent(&theirs).await.unwrap());
    assert_eq!(
        store.get_photo(other, &p.sha256).await.unwrap(),
        Some(theirs)
    );
}

// ---------------------------------------------------------------------------------------------
// The suite on every engine: `sqlite::<test>` and `postgres::<test>`.

macro_rules! directory_suite {
    ($engine:ident) => {
        mod $engine {
            async fn fixture() -> crate::support::Fixture<
                impl crate::support::TestStore
                    + super::DirectoryStore
                    + super::PhotoStore
                    + fieldsync_server::store::PromotionStore
                    + fieldsync_server::store::SuccessStore
                    + fieldsync_server::store::AgreementStore,
            > {
                crate::support::$engine().await
            }

            #[tokio::test]
            async fn ping_answers() {
                let f = fixture().await;
                super::ping_answers(&f.store).await;
                f.finish().await;
            }

            #[tokio::test]
            async fn tenants_are_unique_by_id_and_slug() {
                let f = fixture().await;
                super::tenants_are_unique_by_id_and_slug(&f.store).await;
                f.finish().await;
            }

            #[tokio::test]
            async fn users_are_per_tenant() {
                let f = fixture().await;
                super::users_are_per_tenant(&f.store, f.tenant, f.other).await;
                f.finish().await;
            }

            #[tokio::test]
            async fn known_stores_are_the_tenants_own() {
                let f = fixture().await;
                super::known_stores_are_the_tenants_own(&f.store, f.tenant, f.other).await;
                f.finish().await;
            }

            #[tokio::test]
            async fn master_data_versions_and_since() {
                let f = fixture().await;
                super::master_data_versions_and_since(&f.store, f.tenant, f.other).await;
                f.finish().await;
            }

            #[tokio::test]
            async fn master_data_refusals() {
                let f = fixture().await;
                super::master_data_refusals(&f.store, f.tenant, f.other).await;
                f.finish().await;
            }

            #[tokio::test]
            async fn approval_tiers_are_per_tenant_and_on_every_page() {
                let f = fixture().await;
                super::approval_tiers_are_per_tenant_and_on_every_page(&f.store, f.tenant, f.other)
                    .await;
                f.finish().await;
            }

            #[tokio::test]
            async fn the_range_is_replaced_whole_and_paged_by_version() {
                let f = fixture().await;
                super::the_range_is_replaced_whole_and_paged_by_version(
                    &f.store, f.tenant, f.other,
                )
                .await;
                f.finish().await;
            }

            #[tokio::test]
            async fn promotions_are_replaced_whole_and_read_per_store() {
                let f = fixture().await;
                super::promotions_are_replaced_whole_and_read_per_store(
                    &f.store, f.tenant, f.other,
                )
                .await;
                f.finish().await;
            }

            #[tokio::test]
            async fn success_pictures_are_replaced_whole_and_read_per_store() {
                let f = fixture().await;
                super::success_pictures_are_replaced_whole_and_read_per_store(
                    &f.store, f.tenant, f.other,
                )
                .await;
                f.finish().await;
            }

            #[tokio::test]
            async fn agreements_are_replaced_per_year() {
                let f = fixture().await;
                super::agreements_are_replaced_per_year(&f.store, f.tenant, f.other).await;
                f.finish().await;
            }

            #[tokio::test]
            async fn photo_metadata_is_per_tenant() {
                let f = fixture().await;
                super::photo_metadata_is_per_tenant(&f.store, f.tenant, f.other).await;
                f.finish().await;
            }
        }
    };
}

directory_suite!(sqlite);
directory_suite!(postgres);
