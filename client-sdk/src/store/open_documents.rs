//! The documents edited last, kept open in memory with their typed value, so that an edit costs
//! what it changes rather than the size of the document: no load, no hydrate, no whole `save()`.
//! The edit's change is appended to the stored bytes (Automerge loads a saved document
//! followed by change chunks) and the whole document is saved again every
//! [`CHUNKS_BEFORE_FULL_SAVE`] edits.
//!
//! An open document is used only while the stored row still has the heads it was kept with:
//! the same heads are the same changes, so a row written by anything else (a pull merging the
//! server's changes, an eviction, a reset) is simply read again. Nothing has to remember to
//! invalidate it.

use std::any::Any;

use automerge::{AutoCommit, ChangeHash};
use fieldsync_shared::{DocId, DocKind, Timestamp};
use rusqlite::{params, Connection, OptionalExtension};

use super::documents::{encode_heads, save_doc};
use crate::error::Result;

/// How many documents stay open: the visit being recorded, an order taken during it, and a
/// few more a supervisor reviews in turn.
const CAPACITY: usize = 4;

/// Edits appended as change chunks before the document is saved whole again: bounds both the
/// stored bytes and the load time of a document read back from the database.
pub const CHUNKS_BEFORE_FULL_SAVE: u32 = 64;

/// A document as the device last stored it, open for the next edit.
pub struct OpenDocument {
    pub id: DocId,
    pub kind: DocKind,
    pub doc: AutoCommit,
    /// The typed value the document hydrates to (`Visit`, `Order`, …).
    pub typed: Box<dyn Any + Send>,
    /// The heads the stored row has: the document's heads when it was last stored.
    stored_heads: Vec<ChangeHash>,
    /// Change chunks appended to the stored bytes since they were last saved whole; `None`
    /// when the document was read from the database (unknown: the next store saves it whole).
    chunks: Option<u32>,
}

impl OpenDocument {
    /// A document just read from its stored row (whose heads it has).
    pub fn read(id: DocId, kind: DocKind, mut doc: AutoCommit, typed: Box<dyn Any + Send>) -> Self {
        let stored_heads = doc.get_heads();
        OpenDocument {
            id,
            kind,
            doc,
            typed,
            stored_heads,
            chunks: None,
        }
    }

    /// Stores the document's changes since it was last stored, in the caller's transaction:
    /// appended as one change chunk, or the whole document every [`CHUNKS_BEFORE_FULL_SAVE`]
    /// chunks (and the first time after it was read).
    pub fn store(&mut self, conn: &Connection) -> Result<()> {
        let heads = self.doc.get_heads();
        match self.chunks {
            Some(n) if n < CHUNKS_BEFORE_FULL_SAVE => {
                let chunk = self.doc.save_after(&self.stored_heads);
                // `||` makes text of the bytes (unchanged in a UTF-8 database, NULs included);
                // the cast keeps the column a blob.
                let updated = conn.execute(
                    "UPDATE documents SET data = CAST(data || ?2 AS BLOB), heads = ?3, updated_at = ?4
                     WHERE doc_id = ?1 AND heads = ?5",
                    params![
                        self.id.to_string(),
                        chunk,
                        encode_heads(&heads),
                        Timestamp::now().millis(),
                        encode_heads(&self.stored_heads),
                    ],
                )?;
                if updated != 1 {
                    // The row is not what this document was read from: store it whole.
                    save_doc(conn, self.id, self.kind, &mut self.doc)?;
                    self.chunks = Some(0);
                } else {
                    self.chunks = Some(n + 1);
                }
            }
            _ => {
                save_doc(conn, self.id, self.kind, &mut self.doc)?;
                self.chunks = Some(0);
            }
        }
        self.stored_heads = heads;
        Ok(())
    }
}

/// The open documents, the most recently used last.
#[derive(Default)]
pub struct OpenDocuments {
    docs: Vec<OpenDocument>,
}

impl OpenDocuments {
    /// Takes the open document `id` out if the stored row still has its heads (`conn` is the
    /// connection the caller holds, so the row cannot change until it is put back).
    pub fn take(&mut self, conn: &Connection, id: DocId) -> Result<Option<OpenDocument>> {
        let Some(i) = self.docs.iter().position(|d| d.id == id) else {
            return Ok(None);
        };
        let open = self.docs.remove(i);
        let stored: Option<Vec<u8>> = conn
            .query_row(
                "SELECT heads FROM documents WHERE doc_id = ?1",
                [id.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        Ok((stored == Some(encode_heads(&open.stored_heads))).then_some(open))
    }

    /// Keeps `open` as the most recently used, closing the least recently used past capacity.
    pub fn put(&mut self, open: OpenDocument) {
        self.docs.retain(|d| d.id != open.id);
        if self.docs.len() == CAPACITY {
            self.docs.remove(0);
        }
        self.docs.push(open);
    }
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::{ReadDoc, ROOT};
    use fieldsync_shared::document::new_document;

    use super::*;
    use crate::store::load_doc;

    fn stored(conn: &Connection, id: DocId) -> AutoCommit {
        load_doc(conn, id)
            .unwrap()
            .unwrap()
            .load(&automerge::ActorId::random())
            .unwrap()
    }

    /// A visit with one change (`k0` = 0), stored in the device's database.
    fn stored_visit(conn: &Connection) -> (DocId, AutoCommit) {
        let id = DocId::new_random();
        let mut doc = new_document(automerge::ActorId::random());
        doc.put(ROOT, "k0", 0).unwrap();
        doc.commit();
        save_doc(conn, id, DocKind::Visit, &mut doc).unwrap();
        (id, doc)
    }

    fn edit(open: &mut OpenDocument, conn: &Connection, n: i64) {
        open.doc.put(ROOT, format!("k{n}"), n).unwrap();
        open.doc.commit();
        open.store(conn).unwrap();
    }

    #[test]
    fn appended_changes_and_whole_saves_read_back_as_the_same_document() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::schema::open(&dir.path().join("device.db")).unwrap();
        let (id, doc) = stored_visit(&conn);

        let mut open = OpenDocument::read(id, DocKind::Visit, doc, Box::new(()));
        let whole_len = || -> i64 {
            conn.query_row("SELECT length(data) FROM documents", [], |r| r.get(0))
                .unwrap()
        };
        edit(&mut open, &conn, 1); // first store after a read: whole
        let after_whole = whole_len();
        edit(&mut open, &conn, 2); // appended
        assert!(whole_len() > after_whole, "the change is appended");
        let column_type: String = conn
            .query_row("SELECT typeof(data) FROM documents", [], |r| r.get(0))
            .unwrap();
        assert_eq!(column_type, "blob");
        let edits = i64::from(CHUNKS_BEFORE_FULL_SAVE) + 5;
        for n in 3..edits {
            edit(&mut open, &conn, n);
        }
        let mut back = stored(&conn, id);
        assert_eq!(back.get_heads(), open.doc.get_heads());
        for n in 0..edits {
            assert_eq!(
                back.get(ROOT, format!("k{n}")).unwrap().unwrap().0.as_i64(),
                Some(n)
            );
        }
        // Saved whole again past the threshold: smaller than all those chunks would be.
        let all_chunks = open.doc.save_after(&[]).len() as i64;
        assert!(whole_len() < all_chunks, "{} vs {all_chunks}", whole_len());
    }

    #[test]
    fn an_open_document_is_not_used_once_its_row_was_written_by_something_else() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::schema::open(&dir.path().join("device.db")).unwrap();
        let (id, mut doc) = stored_visit(&conn);
        let mut open_docs = OpenDocuments::default();
        open_docs.put(OpenDocument::read(
            id,
            DocKind::Visit,
            doc.fork(),
            Box::new(()),
        ));

        // A pull merges another device's change into the row.
        let mut other = stored(&conn, id).with_actor(automerge::ActorId::random());
        other.put(ROOT, "theirs", 1).unwrap();
        other.commit();
        save_doc(&conn, id, DocKind::Visit, &mut other).unwrap();
        assert!(open_docs.take(&conn, id).unwrap().is_none());

        // Kept again with the row's heads, it is used.
        open_docs.put(OpenDocument::read(id, DocKind::Visit, other, Box::new(())));
        assert!(open_docs.take(&conn, id).unwrap().is_some());
        assert!(
            open_docs.take(&conn, id).unwrap().is_none(),
            "taken out until put back"
        );
    }

    #[test]
    fn the_least_recently_used_is_closed_past_capacity() {
        let mut open_docs = OpenDocuments::default();
        let ids: Vec<DocId> = (0..=CAPACITY).map(|_| DocId::new_random()).collect();
        for id in &ids {
            open_docs.put(OpenDocument::read(
                *id,
                DocKind::Order,
                new_document(automerge::ActorId::random()),
                Box::new(()),
            ));
        }
        let kept: Vec<DocId> = open_docs.docs.iter().map(|d| d.id).collect();
        assert_eq!(kept, ids[1..]);
    }
}
