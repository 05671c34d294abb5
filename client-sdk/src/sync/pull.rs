//! The pull side of a round, and the outcomes of its push: acknowledgements, refusals,
//! pulled documents, evictions and the new cursor, recorded in one transaction.

use std::collections::HashSet;

use fieldsync_shared::protocol::{DocPayload, PushResult, SyncResponse};
use fieldsync_shared::{DocId, DocKind, Timestamp};
use rusqlite::Connection;
use serde_bytes::ByteBuf;

use super::push::PushItem;
use super::report::{FindingReport, RefusedDoc, SyncReport};
use crate::error::Result;
use crate::store::{self, Database, RefusedEditReport};

/// Records the outcomes and the pull page in one transaction. Returns whether another round
/// is needed for the pull side (`more` or `reset`).
pub(super) fn apply_response(
    db: &Database,
    batch: &[PushItem],
    resp: SyncResponse,
    skip: &mut HashSet<DocId>,
    report: &mut SyncReport,
) -> Result<bool> {
    let mut conn = db.lock();
    let tx = conn.transaction()?;
    for outcome in resp.outcomes {
        let Some(item) = batch.iter().find(|b| b.push.doc_id == outcome.doc_id) else {
            continue;
        };
        match outcome.result {
            PushResult::Stored {
                refused_edits,
                findings,
                ..
            } => {
                store::set_synced_heads(&tx, item.push.doc_id, &item.acked_heads)?;
                report.docs_pushed += 1;
                report.changes_pushed += item.push.changes.len() as u32;
                // Stored, but some effects were undone by the server's compensating change
                // (it arrives with the pull below, like any other device's change).
                let at = Timestamp::now();
                let mut refused: Vec<RefusedEditReport> = refused_edits
                    .into_iter()
                    .map(|e| RefusedEditReport {
                        doc_id: item.push.doc_id,
                        field: e.field,
                        code: e.code,
                        message: e.message,
                        at,
                    })
                    .collect();
                // A submission the server's rules held is a refused edit too: the rep sees
                // why, where refused edits show (docs/verdicts.md).
                let findings = FindingReport::from_push(item.push.doc_id, findings);
                refused.extend(findings.iter().filter_map(|f| f.held(at)));
                report.findings.extend(findings);
                store::record_refused_edits(&tx, &refused)?;
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
            apply_payload(db, &tx, payload, true, report)?;
        }
        if !page.evict.is_empty() {
            // The user may no longer see these (docs/read-scopes.md).
            let me = store::require_profile(&tx)?.id;
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
        if let Err(e) = std::fs::remove_file(db.dir().join(&path)) {
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
    db: &Database,
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
        Some(row) => match row.load(db.actor()) {
            Ok(doc) => (doc, row.is_pending()),
            Err(e) => {
                report
                    .warnings
                    .push(format!("document {id} is unreadable here: {e}"));
                return Ok(());
            }
        },
        None => (
            fieldsync_shared::document::new_document(db.actor().clone()),
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
    let unchanged = store::encode_heads(&heads) == heads_before;
    if !unchanged {
        store::save_doc(conn, id, payload.kind, &mut doc)?;
    }
    if let Some(receipt) = &payload.receipt {
        store::set_receipt(conn, id, receipt)?;
    }
    if unchanged {
        return Ok(());
    }
    if from_server && !pending_before {
        // Everything we hold came from (or was acknowledged by) the server.
        store::set_synced_heads(conn, id, &heads)?;
    }
    report.docs_received += 1;
    Ok(())
}

/// Loads Automerge bytes (a `save()` or changes) received outside of a sync into the local
/// copy of a document, creating it if new: the pull path, for tests and for device-to-device
/// transfer.
pub(crate) fn receive(db: &Database, id: DocId, kind: DocKind, data: &[u8]) -> Result<SyncReport> {
    let mut report = SyncReport::default();
    let mut conn = db.lock();
    let tx = conn.transaction()?;
    let payload = DocPayload {
        doc_id: id,
        kind,
        data: vec![ByteBuf::from(data.to_vec())],
        receipt: None,
    };
    // Not from the server: nothing here is acknowledged, so it stays pending for the next sync.
    apply_payload(db, &tx, payload, false, &mut report)?;
    tx.commit()?;
    Ok(report)
}
