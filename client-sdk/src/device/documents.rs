//! The local documents as Automerge sees them: for replica comparison, export and tooling.

use automerge::ChangeHash;
use fieldsync_shared::{DocId, DocKind};

use super::Device;
use crate::error::{DeviceError, Result};
use crate::store::{self, DocRow};

impl Device {
    /// The document's Automerge `save()` bytes (for replica comparison and export).
    pub fn document_save(&self, id: DocId) -> Result<Vec<u8>> {
        Ok(self.document_row(id)?.load(self.db.actor())?.save())
    }

    /// The document's current heads, sorted.
    pub fn document_heads(&self, id: DocId) -> Result<Vec<ChangeHash>> {
        let mut heads = self.document_row(id)?.heads;
        heads.sort();
        Ok(heads)
    }

    /// The kind of a local document.
    pub fn document_kind(&self, id: DocId) -> Result<DocKind> {
        Ok(self.document_row(id)?.kind)
    }

    /// Ids of all local documents (of one kind, or all).
    pub fn document_ids(&self, kind: Option<DocKind>) -> Result<Vec<DocId>> {
        store::doc_ids(&self.db.lock(), kind)
    }

    fn document_row(&self, id: DocId) -> Result<DocRow> {
        store::load_doc(&self.db.lock(), id)?.ok_or_else(|| DeviceError::not_found("document", id))
    }
}
