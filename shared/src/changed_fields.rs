//! Writing a document's new state by its changed top-level fields only.
//!
//! `autosurgeon::reconcile` of a whole document reads every field back from the Automerge
//! document to find what differs: for a submitted visit with its audit lines that is as much
//! work as hydrating it. When the caller already holds the document's current state as a
//! struct (the server does: it has just hydrated it), comparing the two structs finds the
//! changed fields without touching the document, and only those are reconciled. The operations
//! written are the ones a whole-document reconcile writes for those fields; the unchanged
//! fields are not visited at all.
//!
//! A map that grows entry by entry (a visit's audit lines, steps and photos) is marked
//! `[by entry]` in its table: only its entries that differ are written, and removed ones deleted,
//! so adding the 500th audit line does not read back the 499 before it.
//!
//! Each document type lists its fields once, next to its struct, in [`changed_fields!`]; the
//! table destructures the struct without `..`, so a field added to a document that is missing
//! from its table does not compile.

use std::collections::BTreeMap;

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjType, ReadDoc, Value, ROOT};
use autosurgeon::{HydrateError, Reconcile, ReconcileError};

/// A document type that can write its changed top-level fields (see the module docs).
pub trait ChangedFields {
    /// Writes into `doc`, whose state hydrates to `current`, the top-level fields of `target`
    /// that differ from `current`. Does not commit.
    fn reconcile_changed(
        doc: &mut AutoCommit,
        current: &Self,
        target: &Self,
    ) -> Result<(), ReconcileError>;

    /// Reads the collaborative texts (the fields marked `[text]`) of `value` again from `doc`.
    /// A hydrated `Text` remembers the heads it was read at and the edits made to it since;
    /// once `doc` has another commit, reconciling it is refused as stale (and its edits would
    /// be written twice). Call after a commit to keep `value` for the next edit.
    fn rehydrate_texts(value: &mut Self, doc: &AutoCommit) -> Result<(), HydrateError>;
}

/// Implements [`ChangedFields`] for a document struct from the list of its fields. A field
/// reconciled by a function of its own (`#[autosurgeon(reconcile = "...")]` on the struct) is
/// written `field: Type => function`, and is reconciled through that function, as the derive
/// does. A `BTreeMap<String, _>` field written `field [by entry]` is reconciled entry by entry
/// ([`reconcile_changed_entries`]); a collaborative text is written `field [text]`
/// ([`ChangedFields::rehydrate_texts`]).
macro_rules! changed_fields {
    (
        $doc:ident {
            $($field:ident $(: $ty:ty => $func:path)? $([$how:ident $($what:ident)?])?),* $(,)?
        }
    ) => {
        impl $crate::changed_fields::ChangedFields for $doc {
            fn reconcile_changed(
                doc: &mut ::automerge::AutoCommit,
                current: &Self,
                target: &Self,
            ) -> ::std::result::Result<(), ::autosurgeon::ReconcileError> {
                // Every field named: a field missing from the table is a compile error here.
                let $doc { $($field: _),* } = target;
                $(
                    if current.$field != target.$field {
                        $crate::changed_fields::changed_fields!(
                            @put doc, stringify!($field), &current.$field, &target.$field
                            $(, $ty, $func)? $(, [$how $($what)?])?
                        );
                    }
                )*
                Ok(())
            }

            #[allow(unused_variables)] // a document without texts reads nothing
            fn rehydrate_texts(
                value: &mut Self,
                doc: &::automerge::AutoCommit,
            ) -> ::std::result::Result<(), ::autosurgeon::HydrateError> {
                $(
                    $crate::changed_fields::changed_fields!(
                        @rehydrate value, doc, $field $(, [$how $($what)?])?
                    );
                )*
                Ok(())
            }
        }
    };
    (@rehydrate $value:ident, $doc:ident, $field:ident, [text]) => {
        $value.$field =
            ::autosurgeon::hydrate_prop($doc, ::automerge::ROOT, stringify!($field))?
    };
    (@rehydrate $value:ident, $doc:ident, $field:ident $(, [$($mode:tt)*])?) => {};
    (@put $doc:ident, $key:expr, $current:expr, $value:expr) => {
        ::autosurgeon::reconcile_prop($doc, ::automerge::ROOT, $key, $value)?
    };
    (@put $doc:ident, $key:expr, $current:expr, $value:expr, [by entry]) => {
        $crate::changed_fields::reconcile_changed_entries($doc, $key, $current, $value)?
    };
    (@put $doc:ident, $key:expr, $current:expr, $value:expr, [text]) => {
        ::autosurgeon::reconcile_prop($doc, ::automerge::ROOT, $key, $value)?
    };
    (@put $doc:ident, $key:expr, $current:expr, $value:expr, $ty:ty, $func:path) => {{
        /// The field with its own reconcile function, as the derive wraps it (no key).
        struct With<'a>(&'a $ty);
        impl ::autosurgeon::Reconcile for With<'_> {
            type Key<'k> = ::autosurgeon::reconcile::NoKey;
            fn reconcile<R: ::autosurgeon::Reconciler>(
                &self,
                reconciler: R,
            ) -> ::std::result::Result<(), R::Error> {
                $func(self.0, reconciler)
            }
        }
        ::autosurgeon::reconcile_prop($doc, ::automerge::ROOT, $key, With($value))?
    }};
}
pub(crate) use changed_fields;

/// Writes the map at `key` of the document's root, whose entries hydrate to `current`, as
/// `target`: the entries that differ are reconciled one by one and the ones `target` lacks are
/// deleted. These are the operations autosurgeon's reconcile of the whole map writes, without
/// reading back the entries that did not change. A document without the map gets it whole.
pub fn reconcile_changed_entries<V: Reconcile + PartialEq>(
    doc: &mut AutoCommit,
    key: &str,
    current: &BTreeMap<String, V>,
    target: &BTreeMap<String, V>,
) -> Result<(), ReconcileError> {
    let map = match doc.get(ROOT, key)? {
        Some((Value::Object(ObjType::Map), id)) => id,
        _ => return autosurgeon::reconcile_prop(doc, ROOT, key, target),
    };
    for (k, v) in target {
        if current.get(k) != Some(v) {
            autosurgeon::reconcile_prop(doc, &map, k.as_str(), v)?;
        }
    }
    for k in current.keys().filter(|k| !target.contains_key(*k)) {
        doc.delete(&map, k.as_str())?;
    }
    Ok(())
}
