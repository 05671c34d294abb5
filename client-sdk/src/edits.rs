//! The frame every edit of a visit or order goes through: load the document, let the
//! operation change the typed struct, run the shared write policy as the signed-in user,
//! reconcile, commit one Automerge change and save it in one SQLite transaction. When an edit
//! returns Ok it is durable. The write policy (`fieldsync_shared::policy`) alone decides who may
//! change what in which status; the business rules' blocking findings refuse an edit too.

use std::any::Any;

use automerge::transaction::CommitOptions;
use automerge::AutoCommit;
use fieldsync_shared::changed_fields::ChangedFields;
use fieldsync_shared::document::{
    hydrate_expense, hydrate_order, hydrate_plan, hydrate_visit, DocumentError,
};
use fieldsync_shared::expense::Expense;
use fieldsync_shared::limits::{self, DocumentLimits};
use fieldsync_shared::master::UserProfile;
use fieldsync_shared::order::Order;
use fieldsync_shared::org::{Editor, OrgView};
use fieldsync_shared::plan::Plan;
use fieldsync_shared::policy::{self, Refusal};
use fieldsync_shared::rules::Verdict;
use fieldsync_shared::visit::Visit;
use fieldsync_shared::{DocId, DocKind, ParseError, StoreId, Timestamp, UserId};
use rusqlite::{Connection, Transaction};

use crate::error::{DeviceError, Result};
use crate::store::{self, Database, DocRow, OpenDocument};

/// A document kind the device edits as a typed struct.
pub(crate) trait Document:
    ChangedFields + Clone + PartialEq + std::fmt::Debug + Sized + Send + 'static
{
    const KIND: DocKind;
    fn hydrate(doc: &AutoCommit) -> Result<Self>;
    /// Who the document belongs to and where: the write policy judges the editor's relation to
    /// them.
    fn owner(&self) -> (UserId, StoreId);
    fn check(editor: &Editor, before: Option<&Self>, after: &Self) -> Vec<Refusal>;
}

impl Document for Visit {
    const KIND: DocKind = DocKind::Visit;
    fn hydrate(doc: &AutoCommit) -> Result<Self> {
        Ok(hydrate_visit(doc)?)
    }
    fn owner(&self) -> (UserId, StoreId) {
        (self.person_id, self.store_id)
    }
    fn check(editor: &Editor, before: Option<&Self>, after: &Self) -> Vec<Refusal> {
        policy::check_visit(editor, before, after)
    }
}

impl Document for Order {
    const KIND: DocKind = DocKind::Order;
    fn hydrate(doc: &AutoCommit) -> Result<Self> {
        Ok(hydrate_order(doc)?)
    }
    fn owner(&self) -> (UserId, StoreId) {
        (self.person_id, self.store_id)
    }
    fn check(editor: &Editor, before: Option<&Self>, after: &Self) -> Vec<Refusal> {
        policy::check_order(editor, before, after)
    }
}

impl Document for Plan {
    const KIND: DocKind = DocKind::Plan;
    fn hydrate(doc: &AutoCommit) -> Result<Self> {
        Ok(hydrate_plan(doc)?)
    }
    /// A plan has no store: the nil id, in no territory, so its owner alone counts.
    fn owner(&self) -> (UserId, StoreId) {
        (self.person_id, StoreId(uuid::Uuid::nil()))
    }
    fn check(editor: &Editor, before: Option<&Self>, after: &Self) -> Vec<Refusal> {
        policy::check_plan(editor, before, after)
    }
}

impl Document for Expense {
    const KIND: DocKind = DocKind::Expense;
    fn hydrate(doc: &AutoCommit) -> Result<Self> {
        Ok(hydrate_expense(doc)?)
    }
    /// An expense is judged by its owner alone (the store it was for gives no one a say).
    fn owner(&self) -> (UserId, StoreId) {
        (self.person_id, StoreId(uuid::Uuid::nil()))
    }
    fn check(editor: &Editor, before: Option<&Self>, after: &Self) -> Vec<Refusal> {
        policy::check_expense(editor, before, after)
    }
}

/// Load, edit the typed document, check the policy, reconcile, commit, save; `extra` writes
/// bookkeeping in the same transaction. The document stays open for the next edit
/// (`store/open_documents.rs`): an edit of a document edited just before costs what it changes.
pub(crate) fn edit<D: Document, T>(
    db: &Database,
    id: DocId,
    message: &str,
    edit: impl FnOnce(&Connection, &UserProfile, &mut D) -> Result<T>,
    extra: impl FnOnce(&Transaction<'_>) -> Result<()>,
) -> Result<T> {
    let mut conn = db.lock();
    let profile = store::require_profile(&conn)?;
    let mut open = open_document::<D>(db, &conn, id)?;
    let before: &D = typed(&*open.typed);
    let mut after = before.clone();
    let out = edit(&conn, &profile, &mut after)?;
    authorize(&conn, &profile, Some(before), &after)?;
    // Only the fields the edit changed are written, and only they are read back. A failure
    // from here on leaves the open document ahead of the database: it is dropped (not put
    // back), and the next edit reads the document again.
    D::reconcile_changed(&mut open.doc, before, &after).map_err(DocumentError::from)?;
    let tx = conn.transaction()?;
    extra(&tx)?;
    commit_change(&mut open.doc, message)?;
    open.store(&tx)?;
    tx.commit()?;
    // The edit is durable: a failure here only costs keeping the document open.
    if D::rehydrate_texts(&mut after, &open.doc).is_ok() {
        // What is kept must be what reading the document gives (the whole test suite checks
        // it on every edit): a reconcile that wrote less than the value would show here.
        debug_assert_eq!(D::hydrate(&open.doc).ok().as_ref(), Some(&after));
        open.typed = Box::new(after);
        db.open_documents().put(open);
    }
    Ok(out)
}

/// A local document of kind `D`.
pub(crate) fn read<D: Document>(db: &Database, id: DocId) -> Result<D> {
    let conn = db.lock();
    let open = open_document::<D>(db, &conn, id)?;
    let value = typed::<D>(&*open.typed).clone();
    db.open_documents().put(open);
    Ok(value)
}

/// The document `id` of kind `D`, open: kept from the last edit if the stored row is still
/// what it was stored as, else read from the row and hydrated.
fn open_document<D: Document>(db: &Database, conn: &Connection, id: DocId) -> Result<OpenDocument> {
    if let Some(open) = db.open_documents().take(conn, id)? {
        if open.kind == D::KIND && open.typed.is::<D>() {
            return Ok(open);
        }
    }
    let row = load_row(conn, id, D::KIND)?;
    let doc = row.load(db.actor())?;
    let value = D::hydrate(&doc)?;
    Ok(OpenDocument::read(id, D::KIND, doc, Box::new(value)))
}

/// The typed value of an open document of kind `D` (checked when it was opened).
fn typed<D: 'static>(value: &(dyn Any + Send)) -> &D {
    value
        .downcast_ref::<D>()
        .expect("an open document holds the type it was opened as")
}

/// Every local document of kind `D` that reads as one: a document that cannot (e.g. still
/// missing changes) is left out.
pub(crate) fn read_all<D: Document>(db: &Database) -> Result<Vec<D>> {
    let conn = db.lock();
    Ok(store::list_docs(&conn, Some(D::KIND))?
        .iter()
        .filter_map(|row| row.load(db.actor()).ok())
        .filter_map(|doc| D::hydrate(&doc).ok())
        .collect())
}

/// Loads a local document of the given kind.
pub(crate) fn load_row(conn: &Connection, id: DocId, kind: DocKind) -> Result<DocRow> {
    match store::load_doc(conn, id)? {
        Some(row) if row.kind == kind => Ok(row),
        _ => Err(DeviceError::not_found(kind.as_str(), id)),
    }
}

/// Saves `doc` with its pending operations committed as one change under this device's actor,
/// in one SQLite transaction with what `within` writes (bookkeeping, or content that depends on
/// a value taken inside the transaction, like an order's sequence number): when this returns
/// Ok the edit is durable. For a new document, or one not kept open ([`edit`] keeps them open).
pub(crate) fn commit(
    conn: &mut Connection,
    id: DocId,
    kind: DocKind,
    doc: &mut AutoCommit,
    message: &str,
    within: impl FnOnce(&Transaction<'_>, &mut AutoCommit) -> Result<()>,
) -> Result<()> {
    let tx = conn.transaction()?;
    within(&tx, doc)?;
    commit_change(doc, message)?;
    store::save_doc(&tx, id, kind, doc)?;
    tx.commit()?;
    Ok(())
}

/// Commits the pending operations of `doc` as one change under this device's actor. The server
/// refuses a document past the document limits: the edit is refused here, before anything is
/// saved (the caller's transaction rolls back, and the document must not be used further).
fn commit_change(doc: &mut AutoCommit, message: &str) -> Result<()> {
    doc.commit_with(
        CommitOptions::default()
            .with_message(message.to_string())
            .with_time(Timestamp::now().millis() / 1000),
    );
    let ops = limits::count_ops(&doc.get_changes_meta(&[]));
    limits::check(doc, ops, 0, &DocumentLimits::default())
        .map_err(|over| ParseError::new("document", over.to_string()))?;
    Ok(())
}

/// Runs the write policy on an edit as the signed-in user (`before: None`: creation) and
/// refuses it with [`DeviceError::Forbidden`] (the first refusal) if the policy refuses any of
/// it. The owner and store are taken from the stored document, not from the edit.
pub(crate) fn authorize<D: Document>(
    conn: &Connection,
    profile: &UserProfile,
    before: Option<&D>,
    after: &D,
) -> Result<()> {
    let (owner, store) = before.unwrap_or(after).owner();
    let editor = org_view_for(conn, profile)?.editor_for(owner, store);
    match D::check(&editor, before, after).into_iter().next() {
        Some(refusal) => Err(refusal.into()),
        None => Ok(()),
    }
}

/// Refuses an edit whose rules found something blocking, with only what blocked: the caller
/// must fix exactly these.
pub(crate) fn refuse_if_blocked(verdict: &Verdict) -> Result<()> {
    if verdict.is_blocked() {
        Err(DeviceError::Invalid {
            findings: verdict.blocking().cloned().collect(),
        })
    } else {
        Ok(())
    }
}

/// The org view the write policies use on this device for `profile`: the one received with
/// master data if it is this user's, else the user alone (no team, region or territory).
pub(crate) fn org_view_for(conn: &Connection, profile: &UserProfile) -> Result<OrgView> {
    Ok(store::org_view(conn)?
        .filter(|org| org.user_id == profile.id)
        .unwrap_or_else(|| OrgView::solo(profile.id, profile.role)))
}
