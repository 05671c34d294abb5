//! Document kinds and the bridge between Automerge documents and the typed structs.

use automerge::AutoCommit;
use autosurgeon::ReadDoc;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::order::Order;
use crate::visit::Visit;

/// The kinds of CRDT document Fieldsync syncs. Wire name: [`DocKind::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    Visit,
    Order,
}

impl DocKind {
    pub const ALL: &'static [DocKind] = &[DocKind::Visit, DocKind::Order];
    pub fn as_str(&self) -> &'static str {
        match self {
            DocKind::Visit => "visit",
            DocKind::Order => "order",
        }
    }
    /// `None` for a name this version does not know.
    pub fn parse(s: &str) -> Option<DocKind> {
        match s {
            "visit" => Some(DocKind::Visit),
            "order" => Some(DocKind::Order),
            _ => None,
        }
    }
}

#[derive(Debug, Error)]
pub enum DocumentError {
    /// The document's content does not match its schema (missing field, bad value).
    #[error("document does not match the {kind} schema: {source}")]
    Schema {
        kind: &'static str,
        #[source]
        source: autosurgeon::HydrateError,
    },
    #[error("could not write the document: {0}")]
    Reconcile(#[from] autosurgeon::ReconcileError),
    #[error("automerge: {0}")]
    Automerge(#[from] automerge::AutomergeError),
}

/// A hydrated document of either kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AnyDocument {
    Visit(Visit),
    Order(Order),
}

impl AnyDocument {
    pub fn kind(&self) -> DocKind {
        match self {
            AnyDocument::Visit(_) => DocKind::Visit,
            AnyDocument::Order(_) => DocKind::Order,
        }
    }
}

/// Reads a visit out of an Automerge document.
pub fn hydrate_visit<D: ReadDoc>(doc: &D) -> Result<Visit, DocumentError> {
    autosurgeon::hydrate(doc).map_err(|source| DocumentError::Schema { kind: "visit", source })
}

/// Reads an order out of an Automerge document.
pub fn hydrate_order<D: ReadDoc>(doc: &D) -> Result<Order, DocumentError> {
    autosurgeon::hydrate(doc).map_err(|source| DocumentError::Schema { kind: "order", source })
}

/// Reads a document of the given kind.
pub fn hydrate_any<D: ReadDoc>(kind: DocKind, doc: &D) -> Result<AnyDocument, DocumentError> {
    Ok(match kind {
        DocKind::Visit => AnyDocument::Visit(hydrate_visit(doc)?),
        DocKind::Order => AnyDocument::Order(hydrate_order(doc)?),
    })
}

/// Writes `value` into `doc` as the minimal set of Automerge operations (does not commit).
pub fn reconcile_visit(doc: &mut AutoCommit, value: &Visit) -> Result<(), DocumentError> {
    Ok(autosurgeon::reconcile(doc, value)?)
}

pub fn reconcile_order(doc: &mut AutoCommit, value: &Order) -> Result<(), DocumentError> {
    Ok(autosurgeon::reconcile(doc, value)?)
}

/// serde for autosurgeon's collaborative `Text`: a plain string in JSON.
pub mod text_serde {
    use autosurgeon::Text;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Text, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(t.as_str())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        Ok(Text::with_value(String::deserialize(d)?))
    }
}
