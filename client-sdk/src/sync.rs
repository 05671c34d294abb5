//! The sync engine. One `sync()`:
//!
//! 1. refreshes master data (`GET /v1/master?since=`),
//! 2. runs rounds of `POST /v1/sync`: each pushes a batch of pending changes (within the
//!    protocol limits) and pulls a page of what the device lacks, until nothing is pending and
//!    the server has no more pages (bounded),
//! 3. sends the thumbnails of all queued photos, then uploads the photos (resumable,
//!    `uploads.rs`; a photo that does not go through is a warning and stays queued). Documents
//!    go first: they are small, and the server lets a device send a thumbnail only for a photo
//!    a visit it holds references (the one the documents just pushed).
//!
//! Per document the device remembers the heads the server acknowledged (`synced_heads`);
//! pending changes are `get_changes(synced_heads)`. Acknowledgements are stored only after the
//! server answered `Stored`, and pulled changes are saved in the same transaction as the new
//! cursor, so an interrupted sync is simply retried: the server treats re-sent changes as
//! no-ops and re-pulled changes load idempotently.

use std::collections::{BTreeSet, HashSet};

use automerge::{Change, ChangeHash};
use fieldsync_shared::protocol::{
    DocPayload, DocPush, Limits, PullRequest, PushResult, SyncRequest, SyncResponse,
    PROTOCOL_VERSION,
};
use fieldsync_shared::{DocId, DocKind, Timestamp};
use rusqlite::Connection;
use serde::Serialize;
use serde_bytes::ByteBuf;

use crate::device::{import_master_page, known_heads, Device};
use crate::error::Result;
use crate::refused_edits;
use crate::refused_edits::RefusedEditReport;
use crate::store;

/// What one [`Device::sync`] did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SyncReport {
    /// `POST /v1/sync` round trips.
    pub rounds: u32,
    /// Documents whose pushed changes the server stored.
    pub docs_pushed: u32,
    /// Changes sent in those documents.
    pub changes_pushed: u32,
    /// Documents received (or updated) from the server.
    pub docs_received: u32,
    /// Documents deleted because the user may no longer see them (a store moved to another
    /// territory, the user changed team; docs/read-scopes.md). The user's own documents are
    /// never deleted.
    pub evicted: u32,
    pub photos_uploaded: u32,
    /// Documents the server refused; their local data is kept.
    pub refused: Vec<RefusedDoc>,
    /// Effects of this device's edits that the server's write policies refused: the edits
    /// were stored, and undone by a change of the server's that this sync also pulled. Kept on
    /// the device too ([`Device::refused_edits`]).
    pub refused_edits: Vec<RefusedEditReport>,
    /// The server did not recognise our cursor (e.g. restored from a backup): everything was
    /// pushed and pulled again.
    pub reset: bool,
    /// Things that did not go through: photos that stay queued (offline, server errors, file
    /// missing) or failed (corrupt file, refused by the server), documents that could not be
    /// read.
    pub warnings: Vec<String>,
}

/// A document the server refused as a whole (nothing of it stored there).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RefusedDoc {
    pub doc_id: DocId,
    pub reason: String,
    pub message: String,
}

/// Work on this device the server does not have yet.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Pending {
    /// Documents with changes the server has not acknowledged.
    pub documents: u32,
    /// Number of such changes, over all documents.
    pub changes: u32,
    /// Photos queued for upload (not yet confirmed stored by the server).
    pub photos: u32,
    /// Photos that cannot be uploaded as they are (see [`Device::retry_failed_photos`]); not
    /// counted in `photos`, and not retried by `sync()`.
    pub photos_failed: u32,
    /// The pending documents.
    pub docs: Vec<PendingDoc>,
}

impl Pending {
    /// Nothing left to sync.
    pub fn is_empty(&self) -> bool {
        self.documents == 0 && self.photos == 0
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PendingDoc {
    pub doc_id: DocId,
    pub kind: DocKind,
    pub changes: u32,
}

/// Upper bound of round trips in one `sync()`; whatever is left is picked up by the next one.
const MAX_ROUNDS: u32 = 50;
/// Pull page size the device asks for.
const PULL_MAX_BYTES: u32 = 4 * 1024 * 1024;
/// Raw change bytes pushed per request. Well under `max_body_bytes` so that a request fits
/// even when its changes do not compress at all.
const PUSH_BUDGET_BYTES: usize = 6 * 1024 * 1024;

/// One document's part of a push, with the heads to record if the server stores it.
struct PushItem {
    push: DocPush,
    /// Heads of (what the server had ∪ what this push sends).
    acked_heads: Vec<ChangeHash>,
}

impl Device {
    /// Synchronises with the server: master data, documents, thumbnails, photos. Requires a
    /// login.
    /// Returns what was done; fails with `Offline` / `Unauthorized` / `Server` without losing
    /// anything (retry later).
    pub fn sync(&self) -> Result<SyncReport> {
        // Refreshes the session on the first 401 (an access token that expired offline).
        let http = self.session_http()?;
        let mut report = SyncReport::default();

        let since = store::master_version(&self.lock())?;
        let page = http.master(since)?;
        {
            let mut conn = self.lock();
            let tx = conn.transaction()?;
            import_master_page(&tx, &page)?;
            tx.commit()?;
        }

        // Documents refused in this sync (by the server or because they cannot be sent) are
        // not offered again until the next sync.
        let mut skip: HashSet<DocId> = HashSet::new();
        while report.rounds < MAX_ROUNDS {
            let batch = self.build_push(&mut skip, &mut report)?;
            let cursor = store::cursor(&self.lock())?;
            let req = SyncRequest {
                protocol: PROTOCOL_VERSION,
                device_id: self.device_id(),
                push: batch.iter().map(|b| b.push.clone()).collect(),
                pull: Some(PullRequest {
                    cursor,
                    max_bytes: PULL_MAX_BYTES,
                }),
            };
            let resp = http.sync(&req)?;
            report.rounds += 1;
            let more = self.apply_response(&batch, resp, &mut skip, &mut report)?;
            if !more && !self.has_pending(&skip)? {
                break;
            }
        }

        report.photos_uploaded = self.upload_photos(&http, &mut report.warnings)?;
        Ok(report)
    }

    /// Pending changes of pending documents, oldest edit first, within the request limits.
    fn build_push(
        &self,
        skip: &mut HashSet<DocId>,
        report: &mut SyncReport,
    ) -> Result<Vec<PushItem>> {
        let conn = self.lock();
        let limits = Limits::default();
        let mut budget = PUSH_BUDGET_BYTES;
        let mut items: Vec<PushItem> = Vec::new();
        for row in store::pending_docs(&conn)? {
            if skip.contains(&row.id) {
                continue;
            }
            if items.len() >= limits.max_docs_per_request || budget == 0 {
                break;
            }
            let mut doc = match row.load(&self.actor) {
                Ok(doc) => doc,
                Err(e) => {
                    skip.insert(row.id);
                    report
                        .warnings
                        .push(format!("document {} is unreadable here: {e}", row.id));
                    continue;
                }
            };
            let synced = known_heads(&mut doc, &row.synced_heads);
            let changes = doc.get_changes(&synced);
            if changes.is_empty() {
                // Heads differ only by hashes the document does not hold: nothing to send.
                store::set_synced_heads(&conn, row.id, &row.heads)?;
                continue;
            }
            if let Some(big) = changes
                .iter()
                .find(|c| c.raw_bytes().len() > limits.max_change_bytes)
            {
                skip.insert(row.id);
                report.refused.push(RefusedDoc {
                    doc_id: row.id,
                    reason: "change_too_large".into(),
                    message: format!(
                        "a change of {} bytes exceeds the protocol limit of {} bytes; it stays on this device",
                        big.raw_bytes().len(),
                        limits.max_change_bytes
                    ),
                });
                continue;
            }
            let mut taken: Vec<&Change> = Vec::new();
            for c in &changes {
                let len = c.raw_bytes().len();
                let first_of_request = items.is_empty() && taken.is_empty();
                if taken.len() >= limits.max_changes_per_doc || (len > budget && !first_of_request)
                {
                    break;
                }
                budget = budget.saturating_sub(len);
                taken.push(c);
            }
            if taken.is_empty() {
                break;
            }
            items.push(PushItem {
                acked_heads: heads_after(&synced, &taken),
                push: DocPush {
                    doc_id: row.id,
                    kind: row.kind.as_str().to_string(),
                    changes: taken
                        .iter()
                        .map(|c| ByteBuf::from(c.raw_bytes().to_vec()))
                        .collect(),
                },
            });
        }
        Ok(items)
    }

    /// Records the outcomes and the pull page in one transaction. Returns whether another round
    /// is needed for the pull side (`more` or `reset`).
    fn apply_response(
        &self,
        batch: &[PushItem],
        resp: SyncResponse,
        skip: &mut HashSet<DocId>,
        report: &mut SyncReport,
    ) -> Result<bool> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        for outcome in resp.outcomes {
            let Some(item) = batch.iter().find(|b| b.push.doc_id == outcome.doc_id) else {
                continue;
            };
            match outcome.result {
                PushResult::Stored { refused_edits, .. } => {
                    store::set_synced_heads(&tx, item.push.doc_id, &item.acked_heads)?;
                    report.docs_pushed += 1;
                    report.changes_pushed += item.push.changes.len() as u32;
                    // Stored, but some effects were undone by the server's compensating change
                    // (it arrives with the pull below, like any other device's change).
                    let at = Timestamp::now();
                    let refused: Vec<RefusedEditReport> = refused_edits
                        .into_iter()
                        .map(|e| RefusedEditReport {
                            doc_id: item.push.doc_id,
                            field: e.field,
                            code: e.code,
                            message: e.message,
                            at,
                        })
                        .collect();
                    refused_edits::record(&tx, &refused)?;
                    report.refused_edits.extend(refused);
                }
                // The server lacks what these changes build on: send the whole history next.
                PushResult::MissingDeps => store::set_synced_heads(&tx, item.push.doc_id, &[])?,
                // Kept locally: the user's work is never thrown away by a refusal.
                PushResult::Refused { reason, message } => {
                    skip.insert(item.push.doc_id);
                    report.refused.push(RefusedDoc {
                        doc_id: item.push.doc_id,
                        reason,
                        message,
                    });
                }
            }
        }
        let mut again = false;
        let mut evicted_files = Vec::new();
        if let Some(page) = resp.pull {
            for payload in page.docs {
                self.apply_payload(&tx, payload, true, report)?;
            }
            if !page.evict.is_empty() {
                // The user may no longer see these (docs/read-scopes.md).
                let me = Self::require_profile(&tx)?.id;
                for id in &page.evict {
                    let Some(gone) = store::delete_evicted(&tx, *id, me)? else {
                        continue;
                    };
                    report.evicted += 1;
                    if gone.had_unsynced {
                        report.warnings.push(format!(
                            "document {id} was removed with changes the server had not stored: its user may no longer see it"
                        ));
                    }
                    evicted_files.extend(gone.photo_files);
                }
            }
            if page.reset {
                // The server does not know our cursor (restored from a backup, or another
                // server): it may lack anything we sent, so push and pull everything again.
                store::clear_all_synced_heads(&tx)?;
                store::set_cursor(&tx, None)?;
                report.reset = true;
                again = true;
            } else {
                store::set_cursor(&tx, Some(&page.cursor))?;
                again = page.more;
            }
        }
        tx.commit()?;
        // Only after the commit: a file whose row is still there must not be gone.
        for path in evicted_files {
            if let Err(e) = std::fs::remove_file(self.dir.join(&path)) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    report
                        .warnings
                        .push(format!("photo file {path} of an evicted document: {e}"));
                }
            }
        }
        Ok(again)
    }

    /// Loads a pulled document's changes (or saved snapshot) into the local copy.
    fn apply_payload(
        &self,
        conn: &Connection,
        payload: DocPayload,
        from_server: bool,
        report: &mut SyncReport,
    ) -> Result<()> {
        let id = payload.doc_id;
        let existing = store::load_doc(conn, id)?;
        let (mut doc, pending_before) = match &existing {
            Some(row) if row.kind != payload.kind => {
                report.warnings.push(format!(
                    "document {id} arrived as a {} but is a {} here; ignored",
                    payload.kind.as_str(),
                    row.kind.as_str()
                ));
                return Ok(());
            }
            Some(row) => match row.load(&self.actor) {
                Ok(doc) => (doc, row.is_pending()),
                Err(e) => {
                    report
                        .warnings
                        .push(format!("document {id} is unreadable here: {e}"));
                    return Ok(());
                }
            },
            None => (
                fieldsync_shared::document::new_document(self.actor.clone()),
                false,
            ),
        };
        let heads_before = store::encode_heads(&doc.get_heads());
        for data in &payload.data {
            if let Err(e) = doc.load_incremental(data) {
                report.warnings.push(format!(
                    "document {id}: the server sent unreadable data: {e}"
                ));
                return Ok(());
            }
        }
        let heads = doc.get_heads();
        if store::encode_heads(&heads) == heads_before {
            return Ok(());
        }
        store::save_doc(conn, id, payload.kind, &mut doc)?;
        if from_server && !pending_before {
            // Everything we hold came from (or was acknowledged by) the server.
            store::set_synced_heads(conn, id, &heads)?;
        }
        report.docs_received += 1;
        Ok(())
    }

    /// Loads Automerge bytes (a `save()` or changes) received outside of `sync()` into the
    /// local copy of a document, creating it if new: the pull path, for tests and for
    /// device-to-device transfer.
    #[doc(hidden)]
    pub fn receive_document(&self, id: DocId, kind: DocKind, data: &[u8]) -> Result<SyncReport> {
        let mut report = SyncReport::default();
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let payload = DocPayload {
            doc_id: id,
            kind,
            data: vec![ByteBuf::from(data.to_vec())],
        };
        // Not from the server: nothing here is acknowledged, so it stays pending for the next sync.
        self.apply_payload(&tx, payload, false, &mut report)?;
        tx.commit()?;
        Ok(report)
    }

    fn has_pending(&self, skip: &HashSet<DocId>) -> Result<bool> {
        Ok(store::pending_docs(&self.lock())?
            .iter()
            .any(|row| !skip.contains(&row.id)))
    }
}

/// Heads of the union of the history below `synced` and the `sent` changes (which extend it
/// causally): every hash that no sent change depends on.
fn heads_after(synced: &[ChangeHash], sent: &[&Change]) -> Vec<ChangeHash> {
    let deps: HashSet<ChangeHash> = sent.iter().flat_map(|c| c.deps().iter().copied()).collect();
    let all: BTreeSet<ChangeHash> = synced
        .iter()
        .copied()
        .chain(sent.iter().map(|c| c.hash()))
        .collect();
    all.into_iter().filter(|h| !deps.contains(h)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;
    use automerge::AutoCommit;

    #[test]
    fn heads_after_a_prefix_of_the_history() {
        let mut doc = AutoCommit::new();
        let mut hashes = Vec::new();
        for i in 0..4 {
            doc.put(automerge::ROOT, "n", i as i64).unwrap();
            hashes.push(doc.commit().unwrap());
        }
        let changes = doc.get_changes(&[]);
        let refs: Vec<&Change> = changes.iter().collect();
        // Nothing acknowledged, first two sent: the head is the second change.
        assert_eq!(heads_after(&[], &refs[..2]), vec![hashes[1]]);
        // Second acknowledged, the rest sent: the head is the last change.
        assert_eq!(heads_after(&[hashes[1]], &refs[2..]), vec![hashes[3]]);
        // Nothing sent: unchanged.
        assert_eq!(heads_after(&[hashes[1]], &[]), vec![hashes[1]]);
    }
}
