//! Work on this device the server does not have yet: documents with unacknowledged changes
//! and queued photos.

use automerge::{AutoCommit, ChangeHash};
use fieldsync_shared::{DocId, DocKind};
use rusqlite::Connection;
use serde::Serialize;

use crate::error::Result;
use crate::store;

/// Work on this device the server does not have yet.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Pending {
    /// Documents with changes the server has not acknowledged.
    pub documents: u32,
    /// Number of such changes, over all documents.
    pub changes: u32,
    /// Photos queued for upload (not yet confirmed stored by the server).
    pub photos: u32,
    /// Photos that cannot be uploaded as they are (see `Device::retry_failed_photos`); not
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

/// What is pending on this device, as `Device::pending` reports it.
pub(crate) fn pending(conn: &Connection, actor: &automerge::ActorId) -> Result<Pending> {
    let mut pending = Pending::default();
    for row in store::pending_docs(conn)? {
        let changes = match row.load(actor) {
            Ok(mut doc) => {
                let synced = known_heads(&mut doc, &row.synced_heads);
                doc.get_changes(&synced).len() as u32
            }
            Err(_) => 0,
        };
        pending.documents += 1;
        pending.changes += changes;
        pending.docs.push(PendingDoc {
            doc_id: row.id,
            kind: row.kind,
            changes,
        });
    }
    (pending.photos, pending.photos_failed) = store::photo_counts(conn)?;
    Ok(pending)
}

/// The subset of `heads` the document actually contains (a hash it does not know cannot be
/// used as a "have" set).
pub(super) fn known_heads(doc: &mut AutoCommit, heads: &[ChangeHash]) -> Vec<ChangeHash> {
    heads
        .iter()
        .filter(|h| doc.get_change_by_hash(h).is_some())
        .copied()
        .collect()
}
