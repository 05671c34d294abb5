//! Near-duplicate photos: the hash and threshold tell reused shelf photos from other shelves
//! (precision and recall on a drawn set), and the hash table with the per-tenant index behaves
//! the same on both engines (the PostgreSQL half needs `FIELDSYNC_TEST_DATABASE_URL`, which
//! `scripts/with-postgres.sh` sets).

use fieldsync_server::photo_index::tenants::TenantIndexes;
use fieldsync_server::photo_index::PhotoHash;
use fieldsync_server::photos::similarity::hash::{self, ALGORITHM};
use fieldsync_server::photos::similarity::synthetic_shelves::{precision_recall, test_set};
use fieldsync_server::photos::similarity::{NEAR_DUPLICATE_DISTANCE, WINDOW_DAYS};
use fieldsync_server::photos::thumbnails::render;
use fieldsync_server::store::photo_hashes::{PhotoHashRow, PhotoHashStore};
use fieldsync_server::store::photos::{PhotoMeta, PhotoStore};
use fieldsync_shared::{Sha256, TenantId, Timestamp, UserId};

mod support;

/// The hash the server records for a photo: that of its server thumbnail.
fn server_hash(photo: &[u8]) -> PhotoHash {
    let thumbnail = render(photo).expect("a decodable photo");
    hash::of_thumbnail(&thumbnail).expect("a decodable thumbnail")
}

#[test]
fn reused_shelf_photos_are_told_from_other_shelves() {
    // 250 shelves (25 styles) and an edited copy of each (50 each: re-encoded at quality
    // 30-75, resized to 40-80 %, cropped by 5 %, brightened by 10-25 %, all three at once):
    // 250 near-duplicate pairs, and 250 pairs of different shelves of the same style.
    let set = test_set(250, 20_261_206);
    let hashes: Vec<PhotoHash> = set.photos.iter().map(|p| server_hash(p)).collect();
    let distances: Vec<(bool, u32, &str)> = set
        .pairs
        .iter()
        .map(|&(a, b, edit)| {
            let kind = edit.map_or("other shelf", |e| e.name());
            (edit.is_some(), hashes[a].distance(hashes[b]), kind)
        })
        .collect();
    for kind in [
        "re-encoded",
        "resized",
        "cropped",
        "brightened",
        "combined",
        "other shelf",
    ] {
        let of_kind: Vec<u32> = distances
            .iter()
            .filter(|d| d.2 == kind)
            .map(|d| d.1)
            .collect();
        eprintln!(
            "{kind:12} {} pairs, distances {}..={}",
            of_kind.len(),
            of_kind.iter().min().unwrap(),
            of_kind.iter().max().unwrap()
        );
    }
    let labelled: Vec<(bool, u32)> = distances.iter().map(|d| (d.0, d.1)).collect();
    let (precision, recall) = precision_recall(&labelled, NEAR_DUPLICATE_DISTANCE);
    eprintln!(
        "at distance {NEAR_DUPLICATE_DISTANCE}: precision {precision:.3}, recall {recall:.3}"
    );
    assert!(precision >= 0.95, "precision {precision:.3}");
    assert!(recall >= 0.9, "recall {recall:.3}");
}

fn photo(tenant: TenantId, name: &str, created_at: Timestamp) -> PhotoMeta {
    PhotoMeta {
        tenant_id: tenant,
        sha256: Sha256::digest(name.as_bytes()),
        size_bytes: 10,
        content_type: "image/jpeg".into(),
        uploaded_by: UserId::new_random(),
        created_at,
    }
}

const DAY: i64 = 24 * 3600 * 1000;

async fn hashes_are_kept_per_tenant_and_found_by_the_index<S>(
    store: &S,
    tenant: TenantId,
    other: TenantId,
) where
    S: PhotoStore + PhotoHashStore,
{
    let now = Timestamp::now();
    let recent = photo(tenant, "recent", Timestamp(now.millis() - DAY));
    let old = photo(tenant, "old", Timestamp(now.millis() - 100 * DAY));
    let others = photo(other, "recent", Timestamp(now.millis() - DAY));
    for p in [&recent, &old, &others] {
        assert!(store.insert_photo_if_absent(p).await.unwrap());
    }
    let since = Timestamp(now.millis() - i64::from(WINDOW_DAYS) * DAY);

    // The backfill's pages: photos of the window without a hash, every tenant, one by one.
    let first = store
        .unhashed_photos(ALGORITHM, since, None, 1)
        .await
        .unwrap();
    let second = store
        .unhashed_photos(ALGORITHM, since, first.last().copied(), 1)
        .await
        .unwrap();
    let third = store
        .unhashed_photos(ALGORITHM, since, second.last().copied(), 1)
        .await
        .unwrap();
    let mut found: Vec<(TenantId, Sha256)> = first
        .iter()
        .chain(&second)
        .map(|p| (p.tenant_id, p.sha256))
        .collect();
    found.sort();
    let mut expected = vec![(tenant, recent.sha256), (other, others.sha256)];
    expected.sort();
    assert_eq!(found, expected);
    assert!(third.is_empty());

    let row = |meta: &PhotoMeta, hash: u64| PhotoHashRow {
        sha256: meta.sha256,
        hash,
        stored_at: meta.created_at,
        recorded_at: Timestamp(meta.created_at.millis() + 1),
    };
    // All 64 bits survive the signed column.
    let recent_hash = 0xF000_0000_0000_FF00;
    store
        .upsert_photo_hash(tenant, ALGORITHM, &row(&recent, recent_hash))
        .await
        .unwrap();
    store
        .upsert_photo_hash(other, ALGORITHM, &row(&others, recent_hash))
        .await
        .unwrap();
    store
        .upsert_photo_hash(tenant, ALGORITHM, &row(&old, recent_hash))
        .await
        .unwrap();
    assert_eq!(
        store
            .photo_hash(tenant, ALGORITHM, &recent.sha256)
            .await
            .unwrap(),
        Some(row(&recent, recent_hash))
    );
    assert_eq!(
        store
            .photo_hash(tenant, "another-algorithm", &recent.sha256)
            .await
            .unwrap(),
        None
    );
    assert!(store
        .unhashed_photos(ALGORITHM, since, None, 10)
        .await
        .unwrap()
        .is_empty());
    let page = store
        .photo_hashes_page(tenant, ALGORITHM, since, (Timestamp(i64::MIN), None), 10)
        .await
        .unwrap();
    assert_eq!(page, vec![row(&recent, recent_hash)]);

    // The index: the tenant's photos of the window only, loaded on the first lookup, then
    // kept current.
    let indexes = TenantIndexes::new(ALGORITHM, WINDOW_DAYS);
    let query = PhotoHash(recent_hash ^ 0b111);
    let near = indexes
        .within(store, tenant, query, NEAR_DUPLICATE_DISTANCE, now)
        .await
        .unwrap();
    assert_eq!(near.len(), 1);
    assert_eq!((near[0].photo.sha256, near[0].distance), (recent.sha256, 3));

    let newer = photo(tenant, "newer", now);
    store.insert_photo_if_absent(&newer).await.unwrap();
    store
        .upsert_photo_hash(tenant, ALGORITHM, &row(&newer, recent_hash ^ 1))
        .await
        .unwrap();
    indexes.insert(
        tenant,
        fieldsync_server::photo_index::multi_index::IndexedPhoto {
            sha256: newer.sha256,
            hash: PhotoHash(recent_hash ^ 1),
            stored_at: now.millis(),
        },
    );
    let near = indexes
        .within(store, tenant, query, NEAR_DUPLICATE_DISTANCE, now)
        .await
        .unwrap();
    let found: Vec<(Sha256, u32)> = near.iter().map(|n| (n.photo.sha256, n.distance)).collect();
    assert_eq!(found, vec![(newer.sha256, 2), (recent.sha256, 3)]);

    // A hash another instance recorded: read when the next lookup catches up.
    let elsewhere = photo(tenant, "recorded elsewhere", now);
    store.insert_photo_if_absent(&elsewhere).await.unwrap();
    store
        .upsert_photo_hash(tenant, ALGORITHM, &row(&elsewhere, recent_hash ^ 0b11))
        .await
        .unwrap();
    let near = indexes
        .within(store, tenant, query, NEAR_DUPLICATE_DISTANCE, now)
        .await
        .unwrap();
    let found: Vec<(Sha256, u32)> = near.iter().map(|n| (n.photo.sha256, n.distance)).collect();
    assert_eq!(
        found,
        vec![(elsewhere.sha256, 1), (newer.sha256, 2), (recent.sha256, 3)]
    );
    let far = indexes
        .within(
            store,
            tenant,
            PhotoHash(!recent_hash),
            NEAR_DUPLICATE_DISTANCE,
            now,
        )
        .await
        .unwrap();
    assert!(far.is_empty());
}

macro_rules! store_suite {
    ($engine:ident) => {
        mod $engine {
            #[tokio::test]
            async fn hashes_are_kept_per_tenant_and_found_by_the_index() {
                let f = crate::support::$engine().await;
                super::hashes_are_kept_per_tenant_and_found_by_the_index(
                    &f.store, f.tenant, f.other,
                )
                .await;
                f.finish().await;
            }
        }
    };
}

store_suite!(sqlite);
store_suite!(postgres);
