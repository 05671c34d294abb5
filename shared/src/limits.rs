//! Limits on the shape of a document, checked the same way by the server on every push and
//! by a device before it commits an edit.
//!
//! A few kilobytes of Automerge changes can describe thousands of nested objects; bytes alone
//! bound nothing, so the structure is bounded: nesting depth, objects, operations, the length
//! of each text or string, and the document's stored size. Unknown fields (written by newer
//! apps) are welcome within the limits; the defaults are far above what a visit or an order
//! needs (a full visit: depth 4, about 200 objects, a few thousand operations).
//!
//! [`check`] stops as soon as a limit is passed, so checking an oversized document costs no
//! more than checking one at the limit.

use automerge::{ObjId, ObjType, ReadDoc, ScalarValueRef, ValueRef, ROOT};

/// The limits (docs/security.md, "Limits and timeouts").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentLimits {
    /// Objects nested in objects below the root (the root's own fields are depth 1).
    pub max_depth: usize,
    /// Maps, lists and texts in the document's current state.
    pub max_objects: usize,
    /// Operations in the whole history (every change's operations).
    pub max_ops: usize,
    /// Bytes of one text object or string value (UTF-8).
    pub max_text_bytes: usize,
    /// Bytes of the stored document (its changes, or snapshot and changes).
    pub max_document_bytes: usize,
}

impl Default for DocumentLimits {
    fn default() -> Self {
        DocumentLimits {
            max_depth: 16,
            max_objects: 10_000,
            max_ops: 500_000,
            max_text_bytes: 64 * 1024,
            max_document_bytes: 8 * 1024 * 1024,
        }
    }
}

/// Which limit a document passed, with what was found (at least) and the limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitExceeded {
    #[error("objects are nested deeper than {limit} levels")]
    Depth { limit: usize },
    #[error("the document has more than {limit} objects (maps, lists, texts)")]
    Objects { limit: usize },
    #[error("the document's history has {found} operations, more than {limit}")]
    Ops { found: usize, limit: usize },
    #[error("a text or string at {path} has {found} bytes, more than {limit}")]
    TextBytes {
        path: String,
        found: usize,
        limit: usize,
    },
    #[error("the document takes {found} bytes, more than {limit}")]
    DocumentBytes { found: usize, limit: usize },
}

impl LimitExceeded {
    /// The limit's short name (metrics label, log field): `depth`, `objects`, `ops`,
    /// `text_bytes`, `document_bytes`.
    pub fn limit(&self) -> &'static str {
        match self {
            LimitExceeded::Depth { .. } => "depth",
            LimitExceeded::Objects { .. } => "objects",
            LimitExceeded::Ops { .. } => "ops",
            LimitExceeded::TextBytes { .. } => "text_bytes",
            LimitExceeded::DocumentBytes { .. } => "document_bytes",
        }
    }
}

/// Checks `doc` (whose stored form takes `stored_bytes`) against `limits`.
pub fn check(
    doc: &impl ReadDoc,
    ops: usize,
    stored_bytes: usize,
    limits: &DocumentLimits,
) -> Result<(), LimitExceeded> {
    if stored_bytes > limits.max_document_bytes {
        return Err(LimitExceeded::DocumentBytes {
            found: stored_bytes,
            limit: limits.max_document_bytes,
        });
    }
    // Operations first: they bound the walk below (every value was written by one).
    if ops > limits.max_ops {
        return Err(LimitExceeded::Ops {
            found: ops,
            limit: limits.max_ops,
        });
    }
    let mut walk = Walk {
        limits,
        objects: 0,
        // (object, its type, depth, path) still to visit; depth-first.
        stack: vec![(ROOT, ObjType::Map, 0, String::new())],
    };
    while let Some((obj, kind, depth, path)) = walk.stack.pop() {
        // One pass over each object's entries, key and value together; a path is only put
        // together for an object, or for a string found over the limit.
        match kind {
            ObjType::Text => {
                let bytes = doc.text(&obj).map(|t| t.len()).unwrap_or(0);
                check_text(&path, bytes, limits)?;
            }
            ObjType::Map | ObjType::Table => {
                for item in doc.map_range(&obj, ..) {
                    walk.child(&path, depth, &item.key, &item.value, || item.id())?;
                }
            }
            ObjType::List => {
                for item in doc.list_range(&obj, ..) {
                    let index = item.index.to_string();
                    walk.child(&path, depth, &index, &item.value, || item.id())?;
                }
            }
        }
    }
    Ok(())
}

/// The state of [`check`]'s walk over the document.
struct Walk<'l> {
    limits: &'l DocumentLimits,
    objects: usize,
    stack: Vec<(ObjId, ObjType, usize, String)>,
}

impl Walk<'_> {
    /// Checks the value at `key` of the object at `path` (nested `depth` deep), and queues it
    /// if it is an object.
    fn child(
        &mut self,
        path: &str,
        depth: usize,
        key: &str,
        value: &ValueRef<'_>,
        id: impl FnOnce() -> ObjId,
    ) -> Result<(), LimitExceeded> {
        match value {
            ValueRef::Object(kind) => {
                self.objects += 1;
                if self.objects > self.limits.max_objects {
                    return Err(LimitExceeded::Objects {
                        limit: self.limits.max_objects,
                    });
                }
                if depth + 1 > self.limits.max_depth {
                    return Err(LimitExceeded::Depth {
                        limit: self.limits.max_depth,
                    });
                }
                self.stack.push((id(), *kind, depth + 1, join(path, key)));
            }
            ValueRef::Scalar(ScalarValueRef::Str(text))
                if text.len() > self.limits.max_text_bytes =>
            {
                check_text(&join(path, key), text.len(), self.limits)?;
            }
            ValueRef::Scalar(_) => {}
        }
        Ok(())
    }
}

/// Operations in every change of a document's history, from the changes' metadata
/// (`get_changes_meta(&[])`): read from the change graph, where `get_changes` would encode
/// every change again. A change numbers its operations `start_op..=max_op`.
pub fn count_ops(changes: &[automerge::ChangeMetadata<'_>]) -> usize {
    changes
        .iter()
        .map(|c| usize::try_from((c.max_op + 1).saturating_sub(c.start_op)).unwrap_or(usize::MAX))
        .fold(0, usize::saturating_add)
}

fn check_text(path: &str, bytes: usize, limits: &DocumentLimits) -> Result<(), LimitExceeded> {
    if bytes > limits.max_text_bytes {
        return Err(LimitExceeded::TextBytes {
            path: path.to_string(),
            found: bytes,
            limit: limits.max_text_bytes,
        });
    }
    Ok(())
}

fn join(path: &str, key: &str) -> String {
    // Paths only name where a limit was passed; a long key is shortened.
    let key: String = key.chars().take(64).collect();
    if path.is_empty() {
        key
    } else {
        format!("{path}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ObjType, ROOT};

    use super::*;

    fn ops(doc: &mut AutoCommit) -> usize {
        count_ops(&doc.get_changes_meta(&[]))
    }

    fn checked(doc: &mut AutoCommit, limits: &DocumentLimits) -> Result<(), LimitExceeded> {
        doc.commit();
        let n = ops(doc);
        let bytes = doc.save().len();
        check(doc, n, bytes, limits)
    }

    #[test]
    fn operations_are_counted_from_the_metadata_as_in_the_changes() {
        let mut doc = AutoCommit::new();
        let list = doc.put_object(ROOT, "lines", ObjType::List).unwrap();
        for i in 0..5 {
            doc.insert(&list, i, i as i64).unwrap();
        }
        doc.commit();
        doc.delete(&list, 0).unwrap();
        doc.put(ROOT, "status", "submitted").unwrap();
        doc.commit();
        doc.commit(); // an empty commit is no change
        let from_changes: usize = doc.get_changes(&[]).iter().map(|c| c.len()).sum();
        assert_eq!(from_changes, 8);
        assert_eq!(ops(&mut doc), from_changes);
    }

    #[test]
    fn nesting_objects_and_text_are_bounded() {
        let limits = DocumentLimits {
            max_depth: 4,
            max_objects: 20,
            max_ops: 1000,
            max_text_bytes: 10,
            max_document_bytes: 100_000,
        };
        // Within the limits, unknown fields included.
        let mut doc = AutoCommit::new();
        let a = doc.put_object(ROOT, "future_field", ObjType::Map).unwrap();
        let b = doc.put_object(&a, "inner", ObjType::List).unwrap();
        doc.insert(&b, 0, "short").unwrap();
        let t = doc.put_object(ROOT, "notes", ObjType::Text).unwrap();
        doc.splice_text(&t, 0, 0, "hello").unwrap();
        assert_eq!(checked(&mut doc, &limits), Ok(()));

        // 2,000 nested maps: refused at the depth limit.
        let mut deep = AutoCommit::new();
        let mut obj = ROOT;
        for _ in 0..2000 {
            obj = deep.put_object(&obj, "x", ObjType::Map).unwrap();
        }
        assert_eq!(
            checked(
                &mut deep,
                &DocumentLimits {
                    max_ops: 10_000,
                    ..limits
                }
            ),
            Err(LimitExceeded::Depth { limit: 4 })
        );

        // Wide: many objects side by side.
        let mut wide = AutoCommit::new();
        for i in 0..50 {
            wide.put_object(ROOT, format!("k{i}"), ObjType::Map)
                .unwrap();
        }
        assert_eq!(
            checked(&mut wide, &limits),
            Err(LimitExceeded::Objects { limit: 20 })
        );

        // A long text, and a long string.
        let mut long = AutoCommit::new();
        let t = long.put_object(ROOT, "notes", ObjType::Text).unwrap();
        long.splice_text(&t, 0, 0, "0123456789ab").unwrap();
        assert!(matches!(
            checked(&mut long, &limits),
            Err(LimitExceeded::TextBytes { found: 12, .. })
        ));
        let mut long = AutoCommit::new();
        long.put(ROOT, "name", "0123456789ab").unwrap();
        assert!(matches!(
            checked(&mut long, &limits),
            Err(LimitExceeded::TextBytes { ref path, .. }) if path == "name"
        ));
        // In a list in a map: the path names where.
        let mut nested = AutoCommit::new();
        let lines = nested.put_object(ROOT, "lines", ObjType::Map).unwrap();
        let items = nested.put_object(&lines, "items", ObjType::List).unwrap();
        nested.insert(&items, 0, "short").unwrap();
        nested.insert(&items, 1, "0123456789ab").unwrap();
        assert!(matches!(
            checked(&mut nested, &limits),
            Err(LimitExceeded::TextBytes { ref path, found: 12, .. }) if path == "lines.items.1"
        ));

        // Operations and size.
        let mut many = AutoCommit::new();
        for i in 0..2000 {
            many.put(ROOT, "n", i as i64).unwrap();
        }
        assert!(matches!(
            checked(&mut many, &limits),
            Err(LimitExceeded::Ops { found: 2000, .. })
        ));
        assert!(matches!(
            check(&many, 0, 200_000, &limits),
            Err(LimitExceeded::DocumentBytes { found: 200_000, .. })
        ));
    }
}
