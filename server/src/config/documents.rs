//! Document limits (`fieldsync_shared::limits`): the shape every pushed document must keep.

use fieldsync_shared::limits::DocumentLimits;

/// Limits on pushed documents; a push past one is refused `document_over_limits`.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct DocumentLimitSettings {
    /// Deepest nesting of objects (maps, lists, texts) in a document.
    #[arg(long = "doc-max-depth", env = "FIELDSYNC_DOC_MAX_DEPTH", default_value_t = DocumentLimits::default().max_depth, global = true)]
    pub max_depth: usize,

    /// Most objects (maps, lists, texts) in a document's current state.
    #[arg(long = "doc-max-objects", env = "FIELDSYNC_DOC_MAX_OBJECTS", default_value_t = DocumentLimits::default().max_objects, global = true)]
    pub max_objects: usize,

    /// Most operations in a document's whole history.
    #[arg(long = "doc-max-ops", env = "FIELDSYNC_DOC_MAX_OPS", default_value_t = DocumentLimits::default().max_ops, global = true)]
    pub max_ops: usize,

    /// Longest text or string value, in UTF-8 bytes.
    #[arg(long = "doc-max-text-bytes", env = "FIELDSYNC_DOC_MAX_TEXT_BYTES", default_value_t = DocumentLimits::default().max_text_bytes, global = true)]
    pub max_text_bytes: usize,

    /// Largest stored document (all its changes), in bytes.
    #[arg(long = "doc-max-bytes", env = "FIELDSYNC_DOC_MAX_BYTES", default_value_t = DocumentLimits::default().max_document_bytes, global = true)]
    pub max_document_bytes: usize,
}

impl Default for DocumentLimitSettings {
    fn default() -> Self {
        let d = DocumentLimits::default();
        DocumentLimitSettings {
            max_depth: d.max_depth,
            max_objects: d.max_objects,
            max_ops: d.max_ops,
            max_text_bytes: d.max_text_bytes,
            max_document_bytes: d.max_document_bytes,
        }
    }
}

impl DocumentLimitSettings {
    pub fn limits(&self) -> DocumentLimits {
        DocumentLimits {
            max_depth: self.max_depth,
            max_objects: self.max_objects,
            max_ops: self.max_ops,
            max_text_bytes: self.max_text_bytes,
            max_document_bytes: self.max_document_bytes,
        }
    }
}
