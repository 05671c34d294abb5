//! Removing a document the server no longer lets this device hold, with the queue rows of its
//! photos that nothing else needs.

use std::collections::HashSet;

use fieldsync_shared::document::AnyDocument;
use fieldsync_shared::{DocId, DocKind, Sha256, UserId};
use rusqlite::{Connection, OptionalExtension};

use super::documents::{list_docs, load_doc};
use crate::error::Result;

/// What evicting one document removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evicted {
    /// The document held changes the server had not acknowledged (they are gone).
    pub had_unsynced: bool,
    /// Device-relative paths of photo files whose queue rows were deleted: remove them once
    /// the transaction committed.
    pub photo_files: Vec<String>,
}

/// Deletes a document the server says this device may no longer hold (`PullPage::evict`),
/// with the queue rows of its photos that are already uploaded (a photo still queued is this
/// user's work and stays). Never deletes a document owned by `me`: the server never evicts
/// those, and one that does not hydrate here cannot be checked, so it stays too. `None`:
/// nothing deleted (absent, own, or unreadable).
pub fn delete_evicted(conn: &Connection, id: DocId, me: UserId) -> Result<Option<Evicted>> {
    let Some(row) = load_doc(conn, id)? else {
        return Ok(None);
    };
    let Ok(doc) = fieldsync_shared::document::load_document(&row.data) else {
        return Ok(None);
    };
    let (owner, photos): (UserId, Vec<Sha256>) =
        match fieldsync_shared::document::hydrate_any(row.kind, &doc) {
            Ok(AnyDocument::Visit(v)) => {
                (v.person_id, v.photos.values().map(|p| p.sha256).collect())
            }
            Ok(AnyDocument::Order(o)) => (o.person_id, Vec::new()),
            Ok(AnyDocument::Plan(p)) => (p.person_id, Vec::new()),
            Ok(AnyDocument::Expense(e)) => {
                (e.person_id, e.receipt.iter().map(|r| r.sha256).collect())
            }
            Err(_) => return Ok(None),
        };
    if owner == me {
        return Ok(None);
    }
    conn.execute("DELETE FROM documents WHERE doc_id = ?1", [id.to_string()])?;
    // A photo file is shared by content hash: keep it while a remaining visit uses it.
    let still_used = if photos.is_empty() {
        HashSet::new()
    } else {
        photos_referenced_by_visits(conn)?
    };
    let mut photo_files = Vec::new();
    for sha in photos.iter().filter(|sha| !still_used.contains(*sha)) {
        let path: Option<String> = conn
            .query_row(
                "DELETE FROM photos WHERE sha256 = ?1 AND state = 'uploaded' RETURNING path",
                [sha.to_hex()],
                |r| r.get(0),
            )
            .optional()?;
        photo_files.extend(path);
    }
    Ok(Some(Evicted {
        had_unsynced: row.is_pending(),
        photo_files,
    }))
}

/// Hashes of the photos referenced by the visits on this device.
fn photos_referenced_by_visits(conn: &Connection) -> Result<HashSet<Sha256>> {
    let mut used = HashSet::new();
    for row in list_docs(conn, Some(DocKind::Visit))? {
        let Ok(doc) = fieldsync_shared::document::load_document(&row.data) else {
            continue;
        };
        if let Ok(visit) = fieldsync_shared::document::hydrate_visit(&doc) {
            used.extend(visit.photos.values().map(|p| p.sha256));
        }
    }
    Ok(used)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use fieldsync_shared::document::{new_document, reconcile_order, reconcile_visit};
    use fieldsync_shared::order::{
        Order, OrderNumber, OrderStatus, PaymentMethod, ORDER_SCHEMA_VERSION,
    };
    use fieldsync_shared::visit::{PhotoRef, Visit};
    use fieldsync_shared::{Date, DeviceId, PersonCode, StoreId, Timestamp};

    use super::*;
    use crate::store::{all_photos, insert_photo, mark_photo_uploaded, save_doc, NewPhoto};

    fn photo(n: u8) -> (Sha256, PhotoRef) {
        let sha = Sha256::digest(&[n; 8]);
        let photo = PhotoRef {
            sha256: sha,
            size_bytes: 8,
            content_type: "image/jpeg".into(),
            step: None,
            taken_at: Timestamp::now(),
            taken_by: UserId::new_random(),
            position: None,
            capture: None,
        };
        (sha, photo)
    }

    fn queue(conn: &Connection, sha: Sha256, uploaded: bool) {
        insert_photo(
            conn,
            &NewPhoto {
                sha256: sha,
                path: format!("photos/{sha}.jpg"),
                size_bytes: 8,
                content_type: "image/jpeg".into(),
            },
        )
        .unwrap();
        if uploaded {
            mark_photo_uploaded(conn, &sha).unwrap();
        }
    }

    fn save_visit(conn: &Connection, owner: UserId, photos: &[(Sha256, PhotoRef)]) -> DocId {
        let id = DocId::new_random();
        let mut visit = Visit::new(
            id,
            StoreId::new_random(),
            owner,
            Date::parse("2026-11-22").unwrap(),
        );
        visit.photos = photos
            .iter()
            .map(|(sha, p)| (sha.to_hex(), p.clone()))
            .collect::<BTreeMap<_, _>>();
        let mut doc = new_document(automerge::ActorId::random());
        reconcile_visit(&mut doc, &visit).unwrap();
        doc.commit();
        save_doc(conn, id, DocKind::Visit, &mut doc).unwrap();
        id
    }

    #[test]
    fn eviction_deletes_others_documents_and_only_their_uploaded_photos() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::schema::open(&dir.path().join("device.db")).unwrap();
        let (me, colleague) = (UserId::new_random(), UserId::new_random());
        let (uploaded, queued) = (photo(1), photo(2));
        queue(&conn, uploaded.0, true);
        queue(&conn, queued.0, false);
        let theirs = save_visit(&conn, colleague, &[uploaded.clone(), queued.clone()]);
        let mine = save_visit(&conn, me, &[]);

        let gone = delete_evicted(&conn, theirs, me).unwrap().expect("deleted");
        assert!(gone.had_unsynced, "never acknowledged by a server");
        assert_eq!(gone.photo_files, vec![format!("photos/{}.jpg", uploaded.0)]);
        assert!(load_doc(&conn, theirs).unwrap().is_none());
        let left: Vec<Sha256> = all_photos(&conn)
            .unwrap()
            .iter()
            .map(|p| p.sha256)
            .collect();
        assert_eq!(left, vec![queued.0], "a photo still to upload stays queued");

        // The user's own documents are never deleted, nor are absent ones reported.
        assert_eq!(delete_evicted(&conn, mine, me).unwrap(), None);
        assert!(load_doc(&conn, mine).unwrap().is_some());
        assert_eq!(
            delete_evicted(&conn, DocId::new_random(), me).unwrap(),
            None
        );

        // Orders too.
        let order_id = DocId::new_random();
        let date = Date::parse("2026-11-22").unwrap();
        let order = Order {
            schema: ORDER_SCHEMA_VERSION,
            id: order_id,
            number: OrderNumber::generate(
                &PersonCode::parse("R001").unwrap(),
                date,
                &DeviceId::new_random(),
                1,
            ),
            store_id: StoreId::new_random(),
            person_id: colleague,
            visit_id: None,
            order_date: date,
            requested_delivery: date.add_days(3),
            payment: PaymentMethod::Cash,
            status: OrderStatus::Draft,
            lines: BTreeMap::new(),
            notes: autosurgeon::Text::with_value(""),
            created_at: Timestamp::now(),
            submitted_at: None,
            evaluated_against: None,
            findings: Vec::new(),
            delivery: None,
        };
        let mut doc = new_document(automerge::ActorId::random());
        reconcile_order(&mut doc, &order).unwrap();
        doc.commit();
        save_doc(&conn, order_id, DocKind::Order, &mut doc).unwrap();
        assert!(delete_evicted(&conn, order_id, me).unwrap().is_some());
        assert!(load_doc(&conn, order_id).unwrap().is_none());
    }
}
