//! The push side of a round: pending changes of pending documents, within the protocol
//! limits, and the heads to record once the server stored them.

use std::collections::{BTreeSet, HashSet};

use automerge::{Change, ChangeHash};
use fieldsync_shared::protocol::{DocPush, Limits};
use fieldsync_shared::DocId;
use serde_bytes::ByteBuf;

use super::pending::known_heads;
use super::report::{RefusedDoc, SyncReport};
use crate::error::Result;
use crate::store::{self, Database};

/// Raw change bytes pushed per request. Well under `max_body_bytes` so that a request fits
/// even when its changes do not compress at all.
const PUSH_BUDGET_BYTES: usize = 6 * 1024 * 1024;

/// One document's part of a push, with the heads to record if the server stores it.
pub(super) struct PushItem {
    pub(super) push: DocPush,
    /// Heads of (what the server had ∪ what this push sends).
    pub(super) acked_heads: Vec<ChangeHash>,
}

/// Pending changes of pending documents, oldest edit first, within the request limits.
pub(super) fn build_push(
    db: &Database,
    skip: &mut HashSet<DocId>,
    report: &mut SyncReport,
) -> Result<Vec<PushItem>> {
    let conn = db.lock();
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
        let mut doc = match row.load(db.actor()) {
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
            if taken.len() >= limits.max_changes_per_doc || (len > budget && !first_of_request) {
                break;
            }
            budget = budget.saturating_sub(len);
            taken.push(c);
        }
        if taken.is_empty() {
            break;
        }
        // Others' changes go out again after a cursor reset (a restored server may have lost
        // them): the server's receipt lets it take them back (docs/protocol.md, "Receipts").
        let receipt = if taken.iter().any(|c| c.actor_id() != db.actor()) {
            store::receipt(&conn, row.id)?
        } else {
            None
        };
        items.push(PushItem {
            acked_heads: heads_after(&synced, &taken),
            push: DocPush {
                doc_id: row.id,
                kind: row.kind.as_str().to_string(),
                changes: taken
                    .iter()
                    .map(|c| ByteBuf::from(c.raw_bytes().to_vec()))
                    .collect(),
                receipt,
            },
        });
    }
    Ok(items)
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
