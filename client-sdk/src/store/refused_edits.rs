//! The `refused_edits` table: effects of this device's edits that a write policy on the server
//! refused. The server stored the edits and undid those effects with a change of its own
//! (which the same sync pulls); the device keeps the server's explanations so that an app can
//! show them after the fact ("your note was not kept: the visit had been approved").

use fieldsync_shared::{DocId, Timestamp};
use rusqlite::{params, Connection};
use serde::Serialize;

use crate::error::{DeviceError, Result};

/// One effect of this device's edits that a write policy on the server refused and undid,
/// e.g. a note added to a visit its supervisor approved meanwhile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RefusedEditReport {
    pub doc_id: DocId,
    /// The part of the document: `status`, `notes`, `audit`, ... (`shared::policy::Field`).
    pub field: String,
    /// Stable code, e.g. `visit_frozen`.
    pub code: String,
    /// For the person holding the phone.
    pub message: String,
    /// When this device learned of it.
    pub at: Timestamp,
}

/// Refused edits kept on the device; older ones are dropped when new ones arrive.
pub const KEPT_REFUSED_EDITS: u32 = 200;

/// The most recent refused edits (at most [`KEPT_REFUSED_EDITS`]), newest first.
pub fn refused_edits(conn: &Connection) -> Result<Vec<RefusedEditReport>> {
    let mut stmt = conn.prepare(
        "SELECT doc_id, field, code, message, at FROM refused_edits
         ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([KEPT_REFUSED_EDITS], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, i64>(4)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (doc_id, field, code, message, at) = row?;
        out.push(RefusedEditReport {
            doc_id: DocId::parse(&doc_id).map_err(|e| {
                DeviceError::Storage(format!("refused_edits.doc_id {doc_id:?}: {e}"))
            })?,
            field,
            code,
            message,
            at: Timestamp(at),
        });
    }
    Ok(out)
}

/// Stores `edits` (in the caller's transaction) and drops all but the newest
/// [`KEPT_REFUSED_EDITS`].
pub fn record_refused_edits(conn: &Connection, edits: &[RefusedEditReport]) -> Result<()> {
    if edits.is_empty() {
        return Ok(());
    }
    let mut insert = conn.prepare_cached(
        "INSERT INTO refused_edits (doc_id, field, code, message, at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for e in edits {
        insert.execute(params![
            e.doc_id.to_string(),
            e.field,
            e.code,
            e.message,
            e.at.millis()
        ])?;
    }
    conn.execute(
        "DELETE FROM refused_edits
         WHERE id <= (SELECT id FROM refused_edits ORDER BY id DESC LIMIT 1 OFFSET ?1)",
        [KEPT_REFUSED_EDITS],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(doc_id: DocId, n: i64) -> RefusedEditReport {
        RefusedEditReport {
            doc_id,
            field: "notes".into(),
            code: "visit_frozen".into(),
            message: format!("refusal {n}"),
            at: Timestamp(n),
        }
    }

    #[test]
    fn refused_edits_are_kept_newest_first_and_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::schema::open(&dir.path().join("device.db")).unwrap();
        assert!(refused_edits(&conn).unwrap().is_empty());
        let doc = DocId::new_random();
        let total = i64::from(KEPT_REFUSED_EDITS) + 5;
        let all: Vec<_> = (1..=total).map(|n| edit(doc, n)).collect();
        record_refused_edits(&conn, &all[..10]).unwrap();
        record_refused_edits(&conn, &all[10..]).unwrap();
        let kept = refused_edits(&conn).unwrap();
        assert_eq!(kept.len(), KEPT_REFUSED_EDITS as usize);
        assert_eq!(kept[0], edit(doc, total), "newest first");
        assert_eq!(
            kept.last().unwrap().message,
            "refusal 6",
            "oldest five dropped"
        );
    }
}
