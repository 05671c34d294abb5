//! Rows of the document tables as the shared SQL of [`documents_sql`](super::documents_sql)
//! selects them, decoded into the store's types. A row that does not decode is `Corrupt` (a
//! bug or a damaged database), never a client's error.

use fieldsync_shared::document::DocKind;
use fieldsync_shared::values::{Date, DocId, StoreId, UserId};

use super::documents::{FeedEntry, ProjectedDocument, ScopeChangeItem};
use super::{StoreError, StoreResult};

pub(crate) fn parse_doc_id(s: &str) -> StoreResult<DocId> {
    DocId::parse(s).map_err(|e| StoreError::Corrupt(format!("documents.id {s:?}: {e}")))
}

pub(crate) fn parse_kind(s: &str) -> StoreResult<DocKind> {
    DocKind::parse(s).ok_or_else(|| StoreError::Corrupt(format!("documents.kind {s:?}")))
}

/// A feed row: seq, mark, doc_id, kind.
pub(crate) type FeedRow = (i64, i64, String, String);

pub(crate) fn feed_entry_from_row((seq, mark, doc_id, kind): FeedRow) -> StoreResult<FeedEntry> {
    Ok(FeedEntry {
        seq,
        mark,
        doc_id: parse_doc_id(&doc_id)?,
        kind: parse_kind(&kind)?,
    })
}

/// A scope change row: doc_id, kind, gained.
pub(crate) type ScopeChangeRow = (String, String, bool);

pub(crate) fn scope_item_from_row(
    (doc_id, kind, gained): ScopeChangeRow,
) -> StoreResult<ScopeChangeItem> {
    Ok(ScopeChangeItem {
        doc_id: parse_doc_id(&doc_id)?,
        kind: parse_kind(&kind)?,
        gained,
    })
}

/// A projection row: doc_id, store_id, person_id, updated_seq, date, document.
pub(crate) type ProjectedRow = (String, String, String, i64, String, String);

pub(crate) fn projected_from_row(
    (doc_id, store_id, person_id, updated_seq, date, document_json): ProjectedRow,
) -> StoreResult<ProjectedDocument> {
    let corrupt = |what: &str, e: fieldsync_shared::values::ParseError| {
        StoreError::Corrupt(format!("projection {what}: {e}"))
    };
    Ok(ProjectedDocument {
        doc_id: parse_doc_id(&doc_id)?,
        store_id: StoreId::parse(&store_id).map_err(|e| corrupt("store_id", e))?,
        person_id: UserId::parse(&person_id).map_err(|e| corrupt("person_id", e))?,
        updated_seq,
        date: Date::parse(&date).map_err(|e| corrupt("date", e))?,
        document_json,
    })
}

/// Heads as stored in `documents.heads`: the 32-byte hashes concatenated (`None`: none known).
pub(crate) fn join_heads(heads: &[[u8; 32]]) -> Option<Vec<u8>> {
    (!heads.is_empty()).then(|| heads.concat())
}

/// The hashes of a stored `documents.heads`; empty when unknown or not whole hashes.
pub(crate) fn split_heads(stored: Option<&[u8]>) -> Vec<[u8; 32]> {
    match stored {
        Some(bytes) if bytes.len() % 32 == 0 => bytes
            .chunks_exact(32)
            .map(|c| <[u8; 32]>::try_from(c).expect("chunks of 32"))
            .collect(),
        _ => Vec::new(),
    }
}
