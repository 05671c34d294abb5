//! Bringing documents written by older apps up to the current schema, once, with a change of
//! the server's own (like a compensation, see [`super::policy`]). Pure and CPU-bound, run in
//! the merge.
//!
//! A visit written before notes were entries has no list of notes. Devices never create that
//! list on an existing visit (two devices creating it at once would make two lists under one
//! key, and the entries of the losing one would be hidden): the server creates it the first
//! time it stores the visit, under the optimistic version check of the commit, so there is
//! only ever one list. Until a device receives it, its notes go to the earlier notes text.
//! Competitor sightings and stock counts (schema 2) likewise: the server adds their maps to a
//! visit that lacks them; until a device receives them, the device refuses to record a
//! sighting or a count (sync first).

#![allow(clippy::result_large_err)]

use automerge::{AutoCommit, Change};
use fieldsync_shared::document::{AnyDocument, DocumentError};

use super::policy::server_change;

/// The message of the server's upgrade change, read in the document's history.
pub const UPGRADE_MESSAGE: &str =
    "fieldsync-server: visit upgraded (lists of the current schema added)";

/// Adds what `document` (the state of `doc`) lacks of the current schema to `doc`, as one
/// change of the server's actor; `None` when nothing is missing. `document` is updated.
pub fn upgrade(
    doc: &mut AutoCommit,
    document: &mut AnyDocument,
) -> Result<Option<Change>, DocumentError> {
    let AnyDocument::Visit(visit) = document else {
        return Ok(None);
    };
    if visit.note_entries.is_some()
        && visit.competitor_sightings.is_some()
        && visit.stock_counts.is_some()
    {
        return Ok(None);
    }
    let mut upgraded = visit.clone();
    upgraded.note_entries.get_or_insert_with(Vec::new);
    upgraded
        .competitor_sightings
        .get_or_insert_with(Default::default);
    upgraded.stock_counts.get_or_insert_with(Default::default);
    let upgraded = AnyDocument::Visit(upgraded);
    let change = server_change(doc, document, upgraded.clone(), UPGRADE_MESSAGE.into())?;
    *document = upgraded;
    Ok(change)
}
