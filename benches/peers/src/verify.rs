//! The honest completion signal: after a run, every document is read back from the server
//! through the server's own protocol by a reader that had none of them, and must hold the heads
//! the device ended its day with. A document that does not is an error of the run.
//!
//! The reader then syncs again with nothing new: the bytes of that exchange are the no-op sync
//! figure.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use automerge::{AutoCommit, ChangeHash};
use fieldsync_shared::document::new_document;
use fieldsync_shared::{DeviceId, DocId};

use crate::fieldsync;
use crate::repo_protocol::{document_id, DocSync, Goal, Peer};
use crate::wire::{Bytes, Proxy};
use crate::workload::Device;

/// Does `doc` hold every head in `heads`?
pub fn holds(doc: &mut AutoCommit, heads: &[ChangeHash]) -> bool {
    heads.iter().all(|h| doc.get_change_by_hash(h).is_some())
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Verified {
    /// Documents missing or without their heads.
    pub errors: usize,
    /// A sync with nothing new by the reader, holding every document.
    pub noop: Bytes,
    pub documents: usize,
}

const READ_TIMEOUT: Duration = Duration::from_secs(900);

/// Fieldsync: a new device of the same rep pulls everything, then syncs again.
pub fn fieldsync(proxy: &Proxy, devices: &[Device]) -> Result<Verified, String> {
    let addr: SocketAddr = proxy.addr;
    let reader_actor = automerge::ActorId::random();
    let reader = fieldsync::login(addr, DeviceId::new_random(), &reader_actor.to_hex_string())?;
    let mut pulled: HashMap<DocId, AutoCommit> = HashMap::new();
    let cursor = reader.pull_all(None, &mut pulled)?;
    let mut errors = 0;
    for doc in devices.iter().flat_map(|d| &d.docs) {
        let ok = pulled
            .get_mut(&doc.id)
            .is_some_and(|replica| holds(replica, &doc.heads));
        errors += usize::from(!ok);
    }
    let before = proxy.bytes();
    let mut nothing = HashMap::new();
    reader.pull_all(cursor, &mut nothing)?;
    if !nothing.is_empty() {
        return Err(format!(
            "a sync with nothing new brought {} documents",
            nothing.len()
        ));
    }
    Ok(Verified {
        errors,
        noop: proxy.bytes().since(before),
        documents: pulled.len(),
    })
}

/// automerge-repo and samod: a new peer requests every document, then syncs them all again on
/// a new connection.
pub fn repo(proxy: &Proxy, devices: &[Device]) -> Result<Verified, String> {
    let mut docs: Vec<DocSync> = devices
        .iter()
        .flat_map(|d| &d.docs)
        .map(|d| {
            let empty = new_document(automerge::ActorId::random());
            DocSync::new(document_id(d.id), empty, d.heads.clone())
        })
        .collect();
    let mut reader = Peer::connect(proxy.addr)?;
    let errors = reader.sync_all(&mut docs, Goal::WeHave, "request", 64, READ_TIMEOUT)?;
    reader.close();

    for d in &mut docs {
        d.reset();
    }
    let before = proxy.bytes();
    let mut again = Peer::connect(proxy.addr)?;
    let unsynced = again.sync_all(&mut docs, Goal::ServerHas, "sync", 64, READ_TIMEOUT)?;
    again.close();
    let noop = proxy.bytes().since(before);
    if unsynced > 0 {
        return Err(format!(
            "{unsynced} documents did not sync with nothing new"
        ));
    }
    Ok(Verified {
        errors,
        noop,
        documents: docs.len(),
    })
}
