//! The sync engine. One `sync()`:
//!
//! 1. refreshes master data (`GET /v1/master?since=`),
//! 2. runs rounds of `POST /v1/sync`: each pushes a batch of pending changes (within the
//!    protocol limits) and pulls a page of what the device lacks, until nothing is pending and
//!    the server has no more pages (bounded),
//! 3. hands over to the send queue (`send_queue`: thumbnails first, then the photos; a photo
//!    that does not go through is a warning and stays queued), which needs the documents
//!    pushed first,
//! 4. downloads the reference photos of the pictures of success it lacks (`reference_photos`,
//!    bounded; what is left comes with the next sync).
//!
//! `push.rs` builds a round's push, `pull.rs` records its answer, `pending.rs` counts what the
//! server does not have yet, `report.rs` holds what a sync tells the app.
//!
//! Per document the device remembers the heads the server acknowledged (`synced_heads`);
//! pending changes are `get_changes(synced_heads)`. Acknowledgements are stored only after the
//! server answered `Stored`, and pulled changes are saved in the same transaction as the new
//! cursor, so an interrupted sync is simply retried: the server treats re-sent changes as
//! no-ops and re-pulled changes load idempotently.

mod pending;
mod pull;
mod push;
mod reference_photos;
mod report;

use std::collections::HashSet;

use fieldsync_shared::protocol::{PullRequest, SyncRequest, PROTOCOL_VERSION};
use fieldsync_shared::DocId;

use crate::error::Result;
use crate::http::Http;
use crate::send_queue;
use crate::store::{self, Database};

pub(crate) use pending::pending;
pub use pending::{Pending, PendingDoc};
pub(crate) use pull::receive;
pub use report::{FindingReport, RefusedDoc, SyncReport};

/// Upper bound of round trips in one `sync()`; whatever is left is picked up by the next one.
const MAX_ROUNDS: u32 = 50;
/// Pull page size the device asks for.
const PULL_MAX_BYTES: u32 = 4 * 1024 * 1024;

/// One sync with the server through `http`: master data, documents, then the send queue
/// (thumbnails, photos). Fails with `Offline` / `Unauthorized` / `Server` without losing
/// anything (retry later).
pub(crate) fn run(db: &Database, http: &Http) -> Result<SyncReport> {
    let mut report = SyncReport::default();

    let since = store::master_version(&db.lock())?;
    let page = http.master(since)?;
    {
        let mut conn = db.lock();
        let tx = conn.transaction()?;
        store::import_page(&tx, &page)?;
        tx.commit()?;
    }

    // Documents refused in this sync (by the server or because they cannot be sent) are
    // not offered again until the next sync.
    let mut skip: HashSet<DocId> = HashSet::new();
    while report.rounds < MAX_ROUNDS {
        let batch = push::build_push(db, &mut skip, &mut report)?;
        let cursor = store::cursor(&db.lock())?;
        let req = SyncRequest {
            protocol: PROTOCOL_VERSION,
            device_id: db.device_id(),
            push: batch.iter().map(|b| b.push.clone()).collect(),
            pull: Some(PullRequest {
                cursor,
                max_bytes: PULL_MAX_BYTES,
            }),
        };
        let resp = http.sync(&req)?;
        report.rounds += 1;
        let more = pull::apply_response(db, &batch, resp, &mut skip, &mut report)?;
        if !more && !has_pending(db, &skip)? {
            break;
        }
    }

    // Documents first: the send queue's photos depend on them (see `send_queue`).
    report.photos_uploaded = send_queue::send(db, http, &mut report.warnings)?;
    reference_photos::download(db, http, &mut report.warnings)?;
    Ok(report)
}

fn has_pending(db: &Database, skip: &HashSet<DocId>) -> Result<bool> {
    Ok(store::pending_docs(&db.lock())?
        .iter()
        .any(|row| !skip.contains(&row.id)))
}
