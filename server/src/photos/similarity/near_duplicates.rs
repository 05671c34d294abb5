//! Given a visit's photo, the near-duplicates attached to other visits: another store, or the
//! same store another day (the same shelf photographed again the same day is no finding).

use fieldsync_shared::{Date, DocId, Sha256, StoreId, TenantId, Timestamp};
use serde::Serialize;

use super::{hash::ALGORITHM, NEAR_DUPLICATE_DISTANCE};
use crate::photo_index::multi_index::Neighbour;
use crate::state::AppState;
use crate::store::photo_hashes::PhotoVisit;
use crate::store::StoreResult;

/// One near-duplicate of a visit's photo: the evidence a supervisor needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NearDuplicate {
    /// The other photo.
    pub sha256: Sha256,
    /// Differing hash bits (0 = the same picture as far as the hash can tell).
    pub distance: u32,
    /// The visit it is attached to, its store and date.
    pub visit: DocId,
    pub store_id: StoreId,
    pub date: Date,
    /// When the server stored the other photo.
    pub stored_at: Timestamp,
}

/// The near-duplicates of `sha256` (a photo of `visit`) attached to visits of another store or
/// another day, nearest first. Empty when the photo has no hash (not decodable, or not
/// hashed yet).
pub async fn of_visit_photo(
    state: &AppState,
    tenant: TenantId,
    visit: &PhotoVisit,
    sha256: &Sha256,
) -> StoreResult<Vec<NearDuplicate>> {
    let Some(own) = state.store.photo_hash(tenant, ALGORITHM, sha256).await? else {
        return Ok(Vec::new());
    };
    let neighbours = state
        .photo_index
        .within(
            state.store.as_ref(),
            tenant,
            super::hash::PhotoHash(own.hash),
            NEAR_DUPLICATE_DISTANCE,
            Timestamp::now(),
        )
        .await?;
    let mut found = Vec::new();
    for neighbour in neighbours {
        if neighbour.photo.sha256 == *sha256 {
            continue;
        }
        let visits = state
            .store
            .visits_with_photo(tenant, &neighbour.photo.sha256)
            .await?;
        found.extend(elsewhere(visit, &neighbour, &visits));
    }
    Ok(found)
}

/// The visits among `visits` (those of one neighbouring photo) that are not `visit`'s store
/// and day.
fn elsewhere(
    visit: &PhotoVisit,
    neighbour: &Neighbour,
    visits: &[PhotoVisit],
) -> Vec<NearDuplicate> {
    visits
        .iter()
        .filter(|other| {
            other.visit != visit.visit
                && (other.store_id != visit.store_id || other.date != visit.date)
        })
        .map(|other| NearDuplicate {
            sha256: neighbour.photo.sha256,
            distance: neighbour.distance,
            visit: other.visit,
            store_id: other.store_id,
            date: other.date,
            stored_at: Timestamp(neighbour.photo.stored_at),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::photo_index::multi_index::IndexedPhoto;
    use crate::photos::similarity::hash::PhotoHash;

    fn visit(store: StoreId, date: &str) -> PhotoVisit {
        PhotoVisit {
            visit: DocId::new_random(),
            store_id: store,
            date: Date::parse(date).unwrap(),
        }
    }

    #[test]
    fn only_visits_of_another_store_or_day_count() {
        let (store, other_store) = (StoreId::new_random(), StoreId::new_random());
        let own = visit(store, "2026-03-02");
        let neighbour = Neighbour {
            photo: IndexedPhoto {
                sha256: Sha256::digest(b"older"),
                hash: PhotoHash(1),
                stored_at: 5,
            },
            distance: 3,
        };
        let same_shelf_same_day = visit(store, "2026-03-02");
        let same_store_other_day = visit(store, "2026-01-15");
        let other_store_same_day = visit(other_store, "2026-03-02");
        let found = elsewhere(
            &own,
            &neighbour,
            &[
                own,
                same_shelf_same_day,
                same_store_other_day,
                other_store_same_day,
            ],
        );
        let visits: Vec<DocId> = found.iter().map(|f| f.visit).collect();
        assert_eq!(
            visits,
            vec![same_store_other_day.visit, other_store_same_day.visit]
        );
        assert!(found
            .iter()
            .all(|f| f.distance == 3 && f.stored_at == Timestamp(5)));
    }
}
