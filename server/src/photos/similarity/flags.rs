//! The `photo_near_duplicate` flag: when the server has hashed a photo's thumbnail, every visit
//! that references the photo and has near-duplicates on other visits (another store, or another
//! day) gets a cross-device finding per near-duplicate, flagged for the supervisor, with the
//! evidence: the other photo, its visit, store and date, and the distance (docs/verdicts.md,
//! docs/photo-uploads.md "Near-duplicate photos"). Documents are pushed before their photos,
//! so the visits are there when the photo arrives.

use std::collections::BTreeMap;

use fieldsync_shared::document::DocKind;
use fieldsync_shared::rules::Severity;
use fieldsync_shared::{DocId, Sha256, TenantId, Timestamp};
use serde_json::json;

use super::near_duplicates::{of_visit_photo, NearDuplicate};
use crate::state::AppState;
use crate::store::documents::LoadedDocument;
use crate::store::photo_hashes::PhotoVisit;
use crate::store::verdicts::{FindingKind, FindingOutcome, FindingRecord, FindingSource};
use crate::store::{StoreError, StoreResult};
use crate::sync::merge::open_stored;

/// The finding's code (and check name).
pub const CODE: &str = "photo_near_duplicate";
/// Version of the check: the hash and threshold it ran with may change.
pub const VERSION: u32 = 1;

/// Flags the visits of `sha256` that have near-duplicates elsewhere; how many findings were
/// stored.
pub async fn flag_visits_of(
    state: &AppState,
    tenant: TenantId,
    sha256: &Sha256,
) -> StoreResult<usize> {
    let mut stored = 0;
    for visit in state.store.visits_with_photo(tenant, sha256).await? {
        let found = of_visit_photo(state, tenant, &visit, sha256).await?;
        if found.is_empty() {
            continue;
        }
        let heads = heads_of(state, tenant, visit.visit).await?;
        let records: Vec<FindingRecord> = found
            .iter()
            .map(|other| finding(&visit, sha256, other, heads.clone(), Timestamp::now()))
            .collect();
        state.store.insert_findings(tenant, &records).await?;
        for r in &records {
            state
                .metrics
                .record_finding(&r.code, r.severity.as_str(), r.source.as_str());
        }
        stored += records.len();
        tracing::info!(%tenant, visit = %visit.visit, sha256 = %sha256, near_duplicates = records.len(), "photo_near_duplicate flagged");
    }
    Ok(stored)
}

/// The visit's current heads (hex change hashes).
async fn heads_of(state: &AppState, tenant: TenantId, visit: DocId) -> StoreResult<Vec<String>> {
    let loaded = state.store.load_documents(tenant, &[visit]).await?;
    match loaded.into_iter().next() {
        Some((_, LoadedDocument::Found(stored))) => {
            let doc = open_stored(&stored).map_err(StoreError::Corrupt)?;
            Ok(doc.get_heads().iter().map(ToString::to_string).collect())
        }
        _ => Err(StoreError::NotFound("visit")),
    }
}

fn finding(
    visit: &PhotoVisit,
    sha256: &Sha256,
    other: &NearDuplicate,
    heads: Vec<String>,
    at: Timestamp,
) -> FindingRecord {
    let inputs: BTreeMap<String, serde_json::Value> = [
        ("photo", json!(sha256.to_hex())),
        ("other_photo", json!(other.sha256.to_hex())),
        ("other_visit", json!(other.visit.to_string())),
        ("other_store", json!(other.store_id.to_string())),
        ("other_date", json!(other.date.to_string())),
        ("distance", json!(other.distance)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    FindingRecord {
        doc_id: visit.visit,
        doc_kind: DocKind::Visit,
        doc_heads: heads,
        kind: FindingKind::CrossDevice,
        source: FindingSource::Server,
        rule: CODE.to_string(),
        rule_version: VERSION,
        severity: Severity::Flag,
        code: CODE.to_string(),
        message: format!(
            "this photo looks like a photo of the visit of {} at store {} ({} of 64 hash bits differ)",
            other.date, other.store_id, other.distance
        ),
        field: Some(format!("photos.{}", sha256.to_hex())),
        inputs,
        data_version: None,
        outcome: FindingOutcome::Flagged,
        created_at: at,
    }
}
