//! Merging one pushed document into its stored state. Pure and CPU-bound: no I/O, run under
//! `spawn_blocking` by [`super::push`].
//!
//! The merge works on the stored document plus the pushed changes and decides what, if anything,
//! to write: only changes the server does not have yet, and only if the result is complete
//! (no missing dependencies) and still matches the document's schema.

use std::collections::HashSet;

use automerge::{Automerge, Change, LoadOptions, ReadDoc};
use fieldsync_shared::document::{hydrate_any, AnyDocument, DocKind, TEXT_ENCODING};
use fieldsync_shared::values::DocId;

use super::projection::project;
use crate::store::documents::{
    ExpectedVersion, LoadedDocument, NewChange, Projection, StoredDocument,
};

/// What to do with one pushed document.
#[derive(Debug, Clone, PartialEq)]
pub enum MergeVerdict {
    /// New changes to store, with the projection of the merged document.
    Write {
        expected: ExpectedVersion,
        changes: Vec<NewChange>,
        projection: Projection,
    },
    /// Every pushed change is already stored: answer `Stored { new_changes: 0 }`.
    Replay,
    /// Some pushed change depends on a change the server lacks.
    MissingDeps,
    /// Refused as a whole; nothing of it is stored.
    Refused {
        reason: &'static str,
        message: String,
    },
}

impl MergeVerdict {
    fn refused(reason: &'static str, message: impl Into<String>) -> Self {
        MergeVerdict::Refused {
            reason,
            message: message.into(),
        }
    }
}

/// Reason codes of [`MergeVerdict::Refused`] (the device matches on them).
pub mod reasons {
    pub const DOCUMENT_UNAVAILABLE: &str = "document_unavailable";
    pub const KIND_MISMATCH: &str = "kind_mismatch";
    pub const MALFORMED_CHANGE: &str = "malformed_change";
    pub const SCHEMA_VIOLATION: &str = "schema_violation";
    pub const DOCUMENT_UNREADABLE: &str = "document_unreadable";
}

/// Merges `pushed` (raw change bytes) for document `doc_id` of `kind` into `loaded`.
pub fn merge_document(
    doc_id: DocId,
    kind: DocKind,
    pushed: &[impl AsRef<[u8]>],
    loaded: &LoadedDocument,
) -> MergeVerdict {
    let (mut doc, expected) = match loaded {
        // Same answer as for any document the principal may not write: never say whose it is.
        LoadedDocument::OtherTenant => {
            return MergeVerdict::refused(
                reasons::DOCUMENT_UNAVAILABLE,
                "this document id cannot be used",
            )
        }
        LoadedDocument::Found(stored) if stored.kind != kind => {
            return MergeVerdict::refused(
                reasons::KIND_MISMATCH,
                format!(
                    "the document is a {}, not a {}",
                    stored.kind.as_str(),
                    kind.as_str()
                ),
            )
        }
        LoadedDocument::Found(stored) => match open_stored(stored) {
            Ok(doc) => (doc, ExpectedVersion::Existing(stored.version)),
            Err(e) => {
                tracing::error!(%doc_id, error = %e, "stored document does not load");
                return MergeVerdict::refused(
                    reasons::DOCUMENT_UNREADABLE,
                    "the server cannot read its copy of this document",
                );
            }
        },
        LoadedDocument::Absent => (
            Automerge::new_with_encoding(TEXT_ENCODING),
            ExpectedVersion::New,
        ),
    };

    let changes = match parse_changes(pushed) {
        Ok(changes) => changes,
        Err(message) => return MergeVerdict::refused(reasons::MALFORMED_CHANGE, message),
    };
    let new_changes = not_yet_present(&doc, changes);
    if new_changes.is_empty() && expected != ExpectedVersion::New {
        return MergeVerdict::Replay;
    }

    if let Err(e) = doc.apply_changes(new_changes.iter().cloned()) {
        return MergeVerdict::refused(
            reasons::MALFORMED_CHANGE,
            format!("changes do not apply: {e}"),
        );
    }
    // Changes whose dependencies are absent sit in Automerge's queue; storing them would leave
    // the document incomplete for every other device.
    if !doc.get_missing_deps(&[]).is_empty() {
        return MergeVerdict::MissingDeps;
    }

    let hydrated = match hydrate_any(kind, &doc) {
        Ok(h) => h,
        Err(e) => return MergeVerdict::refused(reasons::SCHEMA_VIOLATION, e.to_string()),
    };
    if hydrated_id(&hydrated) != doc_id {
        return MergeVerdict::refused(
            reasons::SCHEMA_VIOLATION,
            format!("the document's id field is not {doc_id}"),
        );
    }
    let projection = match project(&hydrated) {
        Ok(p) => p,
        Err(e) => return MergeVerdict::refused(reasons::SCHEMA_VIOLATION, e.to_string()),
    };
    MergeVerdict::Write {
        expected,
        changes: new_changes
            .into_iter()
            .map(|c| NewChange {
                hash: c.hash().0,
                bytes: c.raw_bytes().to_vec(),
            })
            .collect(),
        projection,
    }
}

/// Rebuilds the Automerge document from its snapshot and the changes stored after it, with the
/// shared text encoding (so the server reads text exactly as devices write it).
pub fn open_stored(stored: &StoredDocument) -> Result<Automerge, String> {
    let mut doc = match &stored.snapshot {
        Some(snapshot) => {
            Automerge::load_with_options(snapshot, LoadOptions::new().text_encoding(TEXT_ENCODING))
                .map_err(|e| format!("snapshot: {e}"))?
        }
        None => Automerge::new_with_encoding(TEXT_ENCODING),
    };
    let changes = stored
        .changes
        .iter()
        .map(|bytes| Change::from_bytes(bytes.clone()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("stored change: {e}"))?;
    doc.apply_changes(changes)
        .map_err(|e| format!("stored changes: {e}"))?;
    Ok(doc)
}

fn parse_changes(pushed: &[impl AsRef<[u8]>]) -> Result<Vec<Change>, String> {
    pushed
        .iter()
        .enumerate()
        .map(|(i, bytes)| {
            Change::from_bytes(bytes.as_ref().to_vec())
                .map_err(|e| format!("change {i} is not an Automerge change: {e}"))
        })
        .collect()
}

/// The changes `doc` does not have yet, each once, in push order.
fn not_yet_present(doc: &Automerge, changes: Vec<Change>) -> Vec<Change> {
    let mut seen = HashSet::new();
    changes
        .into_iter()
        .filter(|c| seen.insert(c.hash()) && doc.get_change_meta_by_hash(&c.hash()).is_none())
        .collect()
}

fn hydrated_id(doc: &AnyDocument) -> DocId {
    match doc {
        AnyDocument::Visit(v) => v.id,
        AnyDocument::Order(o) => o.id,
    }
}
