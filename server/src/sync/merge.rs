//! Merging one pushed document into its stored state. Pure and CPU-bound: no I/O, run under
//! `spawn_blocking` by [`super::push`].
//!
//! Stages, in order (each a function):
//! 1. [`open_loaded`]: the stored document (or a new one); another tenant's id, a kind
//!    mismatch or an unreadable copy refuse the document.
//! 2. [`check_access`]: the principal must see the stored document (read scope); an
//!    invisible one is answered exactly like another tenant's id.
//! 3. [`not_yet_present`]: only changes the server lacks are new; none new is a replay.
//! 4. [`check_actors`]: every new change must be authored by the pushing device's actor.
//! 5. apply, [`check_limits`], [`hydrate_checked`]: no missing dependencies, the document
//!    keeps within the document limits (`fieldsync_shared::limits`: depth, objects,
//!    operations, text, size; unknown fields are welcome within them), the schema holds, the
//!    id matches; a creation must be for a store or owner the principal sees.
//! 6. [`super::policy::enforce`]: the write policies, with a compensating change of the
//!    server where they refuse an effect.
//! 7. [`super::upgrade::upgrade`]: a visit written by an older app gets what the current
//!    schema adds (the list of notes), as a change of the server's.
//! 8. [`verdicts::is_submission`]: a submission keeps its merged document for the server's
//!    verdict, which the push asks for next (it needs the master data).
//!
//! Only if every stage passes is anything written: the device's new changes, the server's
//! compensation and upgrade (if any), and the projection of the result.

use std::collections::HashSet;

use automerge::{ActorId, AutoCommit, Automerge, Change, ChangeHash, LoadOptions};
use fieldsync_shared::document::{
    hydrate_any, is_plan_skeleton, AnyDocument, DocKind, PLAN_SKELETON_ACTOR, TEXT_ENCODING,
};
use fieldsync_shared::limits::{self, DocumentLimits, LimitExceeded};
use fieldsync_shared::protocol::RefusedEdit;
use fieldsync_shared::values::DocId;

use super::policy::{self, owner_and_store, PolicyVerdict};
use super::projection::project;
use super::upgrade::upgrade;
use crate::auth::receipts;
use crate::scope::ReadScope;
use crate::store::documents::{
    ChangeOrigin, ExpectedVersion, LoadedDocument, NewChange, Projection, StoredDocument,
};
use crate::verdicts;

/// Who pushes, as the merge needs to know it.
#[derive(Debug, Clone, Copy)]
pub struct Pusher<'a> {
    /// The Automerge actor bound to the pushing device: every new change must be its own.
    pub actor: &'a ActorId,
    /// What the principal may see, with its place in the organisation (for the policies).
    pub scope: &'a ReadScope,
    /// The shape every pushed document must keep.
    pub limits: &'a DocumentLimits,
    /// The heads of the document's receipt, if the push carried one that this server signed
    /// (`crate::auth::receipts`); empty otherwise.
    pub vouched_heads: &'a [ChangeHash],
}

/// What to do with one pushed document.
#[derive(Debug, Clone, PartialEq)]
pub enum MergeVerdict {
    /// New changes to store (the device's, then the server's compensation if any), with the
    /// projection of the resulting document and the effects the policy refused.
    Write {
        expected: ExpectedVersion,
        changes: Vec<NewChange>,
        projection: Projection,
        /// The document's heads after the changes.
        heads: Vec<[u8; 32]>,
        refused_edits: Vec<RefusedEdit>,
        /// The push submits the document: the server's verdict comes next (`verdicts`).
        submission: Option<Box<Submission>>,
    },
    /// Every pushed change is already stored: answer `Stored { new_changes: 0 }` with the
    /// refusals of the first answer, which the device did not receive.
    Replay { refused_edits: Vec<RefusedEdit> },
    /// Some pushed change depends on a change the server lacks.
    MissingDeps,
    /// Refused as a whole; nothing of it is stored.
    Refused {
        reason: &'static str,
        message: String,
    },
}

/// A merged document the push submits, kept for the verdict: the editable document (a hold
/// is written into it as a change of the server's), its state before the push and now.
#[derive(Debug, Clone)]
pub struct Submission {
    pub doc: AutoCommit,
    pub before: Option<AnyDocument>,
    pub document: AnyDocument,
}

/// Two submissions are the same when they judge the same states (`doc` is their carrier).
impl PartialEq for Submission {
    fn eq(&self, other: &Self) -> bool {
        self.before == other.before && self.document == other.document
    }
}

impl MergeVerdict {
    fn refused(reason: &'static str, message: impl Into<String>) -> Self {
        Refused::new(reason, message).into()
    }
}

/// A stage's refusal of the whole document (becomes [`MergeVerdict::Refused`]).
#[derive(Debug, Clone, PartialEq)]
struct Refused {
    reason: &'static str,
    message: String,
}

impl Refused {
    fn new(reason: &'static str, message: impl Into<String>) -> Self {
        Refused {
            reason,
            message: message.into(),
        }
    }

    /// The answer for an id the principal may not use: another tenant's document, or one
    /// outside the read scope. The same words either way: never say whose it is.
    fn unavailable() -> Self {
        Refused::new(
            reasons::DOCUMENT_UNAVAILABLE,
            "this document id cannot be used",
        )
    }
}

impl From<Refused> for MergeVerdict {
    fn from(r: Refused) -> Self {
        MergeVerdict::Refused {
            reason: r.reason,
            message: r.message,
        }
    }
}

/// Reason codes of [`MergeVerdict::Refused`] (the device matches on them).
pub mod reasons {
    pub const DOCUMENT_UNAVAILABLE: &str = "document_unavailable";
    pub const KIND_MISMATCH: &str = "kind_mismatch";
    pub const MALFORMED_CHANGE: &str = "malformed_change";
    pub const SCHEMA_VIOLATION: &str = "schema_violation";
    pub const DOCUMENT_UNREADABLE: &str = "document_unreadable";
    /// A new change is authored by an actor that is not the pushing device's.
    pub const FOREIGN_ACTOR: &str = "foreign_actor";
    /// A write policy refused the batch as a whole (a creation the principal may not make).
    pub const FORBIDDEN: &str = "forbidden";
    /// The document would pass a document limit (the message says which).
    pub const OVER_LIMITS: &str = "document_over_limits";
}

/// The refusal when a compensation could not be computed (a server fault, logged).
const NOT_UNDONE: &str =
    "the changes have effects this user may not make, and the server could not undo them";

/// Merges `pushed` (raw change bytes) for document `doc_id` of `kind` into `loaded`.
pub fn merge_document(
    doc_id: DocId,
    kind: DocKind,
    pushed: &[impl AsRef<[u8]>],
    loaded: &LoadedDocument,
    pusher: Pusher<'_>,
) -> MergeVerdict {
    let (mut doc, expected, before) = match open_loaded(doc_id, kind, loaded) {
        Ok(opened) => opened,
        Err(refused) => return refused.into(),
    };
    if let Some(before) = &before {
        if !check_access(pusher.scope, before) {
            return Refused::unavailable().into();
        }
    }

    let changes = match parse_changes(pushed) {
        Ok(changes) => changes,
        Err(message) => return MergeVerdict::refused(reasons::MALFORMED_CHANGE, message),
    };
    let (new_changes, present) = not_yet_present(&mut doc, changes);
    // Changes stored before come again when the answer to their push was lost: that answer's
    // refusals are told again (from the compensations built on them).
    let present: Vec<ChangeHash> = present.iter().map(Change::hash).collect();
    let earlier_refusals = policy::earlier_refusals(&mut doc, &present);
    if new_changes.is_empty() && expected != ExpectedVersion::New {
        return MergeVerdict::Replay {
            refused_edits: earlier_refusals,
        };
    }
    // Changes a receipt of the server's vouches for were accepted before (a restore from a
    // backup lost them): taken back whoever made them, and judged as the state the device's own
    // changes start from.
    let vouched = receipts::vouched(&new_changes, pusher.vouched_heads);
    if let Err(message) = check_actors(kind, &new_changes, &vouched, pusher.actor) {
        return MergeVerdict::refused(reasons::FOREIGN_ACTOR, message);
    }
    let (restored, own): (Vec<Change>, Vec<Change>) = new_changes
        .iter()
        .cloned()
        .partition(|c| vouched.contains(&c.hash()));
    let before = if restored.is_empty() {
        before
    } else {
        if let Err(verdict) = apply(&mut doc, &restored) {
            return verdict;
        }
        let restored = match hydrate_checked(doc_id, kind, &doc) {
            Ok(restored) => restored,
            Err(refused) => return refused.into(),
        };
        if !check_access(pusher.scope, &restored) {
            return Refused::unavailable().into();
        }
        Some(restored)
    };
    if let Err(verdict) = apply(&mut doc, &own) {
        return verdict;
    }
    if let Err(over) = check_limits(&mut doc, loaded, &new_changes, pusher.limits) {
        return MergeVerdict::refused(reasons::OVER_LIMITS, over.to_string());
    }
    let after = match hydrate_checked(doc_id, kind, &doc) {
        Ok(after) => after,
        Err(refused) => return refused.into(),
    };
    if before.is_none() && !check_access(pusher.scope, &after) {
        return Refused::unavailable().into();
    }
    if let Err(message) = check_plan_skeleton(&after, &new_changes) {
        return MergeVerdict::refused(reasons::FOREIGN_ACTOR, message);
    }

    let (mut document, compensation, mut refused_edits) =
        match policy::enforce(&mut doc, &own, &pusher.scope.org, before.as_ref(), after) {
            Ok(PolicyVerdict::Allowed { document, refused }) => (document, None, refused),
            Ok(PolicyVerdict::Compensated {
                document,
                change,
                refused,
            }) => (document, Some(change), refused),
            Ok(PolicyVerdict::Refused { refused }) => {
                return MergeVerdict::refused(reasons::FORBIDDEN, policy::refusal_message(&refused))
            }
            Err(e) => {
                tracing::error!(%doc_id, error = %e, "compensating a refused edit failed");
                return MergeVerdict::refused(reasons::FORBIDDEN, NOT_UNDONE);
            }
        };
    refused_edits.splice(0..0, earlier_refusals);
    let upgrade = match upgrade(&mut doc, &mut document) {
        Ok(change) => change,
        Err(e) => {
            tracing::error!(%doc_id, error = %e, "upgrading a document failed");
            return MergeVerdict::refused(reasons::SCHEMA_VIOLATION, e.to_string());
        }
    };
    let projection = match project(&document) {
        Ok(p) => p,
        Err(e) => return MergeVerdict::refused(reasons::SCHEMA_VIOLATION, e.to_string()),
    };
    let heads = doc.get_heads().into_iter().map(|h| h.0).collect();
    let submission = verdicts::is_submission(before.as_ref(), &document).then(|| {
        Box::new(Submission {
            doc,
            before,
            document,
        })
    });
    let changes = new_changes
        .iter()
        .map(|c| new_change(c, ChangeOrigin::Device))
        .chain(
            compensation
                .iter()
                .chain(&upgrade)
                .map(|c| new_change(c, ChangeOrigin::Server)),
        )
        .collect();
    MergeVerdict::Write {
        expected,
        changes,
        projection,
        heads,
        refused_edits,
        submission,
    }
}

/// The document to merge into, the version the write will expect, and its state before the
/// push (`None`: the push creates it).
fn open_loaded(
    doc_id: DocId,
    kind: DocKind,
    loaded: &LoadedDocument,
) -> Result<(AutoCommit, ExpectedVersion, Option<AnyDocument>), Refused> {
    let stored = match loaded {
        LoadedDocument::OtherTenant => return Err(Refused::unavailable()),
        LoadedDocument::Absent => {
            return Ok((
                AutoCommit::new_with_encoding(TEXT_ENCODING),
                ExpectedVersion::New,
                None,
            ))
        }
        LoadedDocument::Found(stored) => stored,
    };
    if stored.kind != kind {
        return Err(Refused::new(
            reasons::KIND_MISMATCH,
            format!(
                "the document is a {}, not a {}",
                stored.kind.as_str(),
                kind.as_str()
            ),
        ));
    }
    let unreadable = |e: String| {
        tracing::error!(%doc_id, error = %e, "stored document does not load");
        Refused::new(
            reasons::DOCUMENT_UNREADABLE,
            "the server cannot read its copy of this document",
        )
    };
    let doc = open_stored_editable(stored).map_err(unreadable)?;
    let before = hydrate_any(kind, &doc).map_err(|e| unreadable(e.to_string()))?;
    Ok((doc, ExpectedVersion::Existing(stored.version), Some(before)))
}

/// Applies `changes` to `doc`; all their dependencies must be present afterwards.
#[allow(clippy::result_large_err)] // the verdict of the document, built once
fn apply(doc: &mut AutoCommit, changes: &[Change]) -> Result<(), MergeVerdict> {
    if changes.is_empty() {
        return Ok(());
    }
    // Automerge asserts on some malformed changes instead of returning an error (found by the
    // `sync_push` fuzz target): such a panic is the pusher's bad input, refused like any
    // other; the half-applied document is this request's own copy and is dropped with it.
    let applied = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        doc.apply_changes(changes.iter().cloned())
    }));
    match applied {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            return Err(MergeVerdict::refused(
                reasons::MALFORMED_CHANGE,
                format!("changes do not apply: {e}"),
            ))
        }
        Err(_) => {
            return Err(MergeVerdict::refused(
                reasons::MALFORMED_CHANGE,
                "changes do not apply: their history is inconsistent".to_string(),
            ))
        }
    }
    // Changes whose dependencies are absent sit in Automerge's queue; storing them would leave
    // the document incomplete for every other device.
    if !doc.get_missing_deps(&[]).is_empty() {
        return Err(MergeVerdict::MissingDeps);
    }
    Ok(())
}

/// May the principal see (and so, policies permitting, write) this document?
fn check_access(scope: &ReadScope, doc: &AnyDocument) -> bool {
    let (owner, store) = owner_and_store(doc);
    scope.can_see(store, owner)
}

/// Every new change must be the pushing device's own. Changes the server already has are
/// not new (a device re-sending another device's changes after `MissingDeps` is fine);
/// changes a receipt vouches for (`vouched`) were the server's before a restore and may be
/// anyone's; the server's actor is otherwise never a device's. A plan's first change, its
/// skeleton, has an actor of its own: it is checked byte for byte once the document is read
/// ([`check_plan_skeleton`]).
fn check_actors(
    kind: DocKind,
    new_changes: &[Change],
    vouched: &HashSet<ChangeHash>,
    device_actor: &ActorId,
) -> Result<(), String> {
    let server = fieldsync_shared::document::server_actor();
    let skeleton = ActorId::from(PLAN_SKELETON_ACTOR);
    match new_changes.iter().find(|c| {
        let skeleton_of_a_plan = kind == DocKind::Plan && *c.actor_id() == skeleton;
        let foreign =
            (c.actor_id() != device_actor && !skeleton_of_a_plan) || *c.actor_id() == server;
        foreign && !vouched.contains(&c.hash())
    }) {
        None => Ok(()),
        Some(c) => Err(format!(
            "change {} is authored by actor {}, not by this device: changes must be authored by \
             the device that sends them; nothing of this document was stored",
            c.hash(),
            c.actor_id()
        )),
    }
}

/// A change of the plan skeleton's actor must be exactly the skeleton of the plan it creates
/// (`document::new_plan_document`): anything else under that actor is a foreign change.
fn check_plan_skeleton(after: &AnyDocument, new_changes: &[Change]) -> Result<(), String> {
    let skeleton = ActorId::from(PLAN_SKELETON_ACTOR);
    let AnyDocument::Plan(plan) = after else {
        return Ok(());
    };
    match new_changes
        .iter()
        .find(|c| *c.actor_id() == skeleton && !is_plan_skeleton(c, plan.person_id, plan.week))
    {
        None => Ok(()),
        Some(c) => Err(format!(
            "change {} is authored by the plan skeleton's actor but is not the skeleton of this \
             plan; nothing of this document was stored",
            c.hash()
        )),
    }
}

/// The merged document against the limits: its structure now, the operations of its whole
/// history, and its stored bytes with the new changes.
fn check_limits(
    doc: &mut AutoCommit,
    loaded: &LoadedDocument,
    new_changes: &[Change],
    limits: &DocumentLimits,
) -> Result<(), LimitExceeded> {
    let stored = match loaded {
        LoadedDocument::Found(s) => stored_bytes(s),
        _ => 0,
    };
    let added: usize = new_changes.iter().map(|c| c.raw_bytes().len()).sum();
    let ops = limits::count_ops(&doc.get_changes_meta(&[]));
    limits::check(doc, ops, stored + added, limits)
}

/// Bytes a stored document takes: its snapshot and its changes since.
pub fn stored_bytes(stored: &StoredDocument) -> usize {
    stored.snapshot.as_ref().map_or(0, Vec::len)
        + stored.changes.iter().map(Vec::len).sum::<usize>()
}

/// The merged document, hydrated: the schema holds and its id is the pushed id.
fn hydrate_checked(doc_id: DocId, kind: DocKind, doc: &AutoCommit) -> Result<AnyDocument, Refused> {
    let hydrated = hydrate_any(kind, doc)
        .map_err(|e| Refused::new(reasons::SCHEMA_VIOLATION, e.to_string()))?;
    if hydrated_id(&hydrated) != doc_id {
        return Err(Refused::new(
            reasons::SCHEMA_VIOLATION,
            format!("the document's id field is not {doc_id}"),
        ));
    }
    Ok(hydrated)
}

pub(super) fn new_change(change: &Change, origin: ChangeOrigin) -> NewChange {
    NewChange {
        hash: change.hash().0,
        bytes: change.raw_bytes().to_vec(),
        origin,
    }
}

/// Rebuilds the Automerge document from its snapshot and the changes stored after it, with the
/// shared text encoding (so the server reads text exactly as devices write it).
pub fn open_stored(stored: &StoredDocument) -> Result<Automerge, String> {
    let mut doc = match &stored.snapshot {
        Some(snapshot) => {
            Automerge::load_with_options(snapshot, LoadOptions::new().text_encoding(TEXT_ENCODING))
                .map_err(|e| format!("snapshot: {e}"))?
        }
        None => Automerge::new_with_encoding(TEXT_ENCODING),
    };
    doc.apply_changes(stored_changes(stored)?)
        .map_err(|e| format!("stored changes: {e}"))?;
    Ok(doc)
}

/// [`open_stored`] as an `AutoCommit`, which the server can also write into (compensations).
pub fn open_stored_editable(stored: &StoredDocument) -> Result<AutoCommit, String> {
    let mut doc = match &stored.snapshot {
        Some(snapshot) => {
            AutoCommit::load_with_options(snapshot, LoadOptions::new().text_encoding(TEXT_ENCODING))
                .map_err(|e| format!("snapshot: {e}"))?
        }
        None => AutoCommit::new_with_encoding(TEXT_ENCODING),
    };
    doc.apply_changes(stored_changes(stored)?)
        .map_err(|e| format!("stored changes: {e}"))?;
    Ok(doc)
}

fn stored_changes(stored: &StoredDocument) -> Result<Vec<Change>, String> {
    stored
        .changes
        .iter()
        .map(|bytes| Change::from_bytes(bytes.clone()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("stored change: {e}"))
}

fn parse_changes(pushed: &[impl AsRef<[u8]>]) -> Result<Vec<Change>, String> {
    pushed
        .iter()
        .enumerate()
        .map(|(i, bytes)| {
            Change::from_bytes(bytes.as_ref().to_vec())
                .map_err(|e| format!("change {i} is not an Automerge change: {e}"))
        })
        .collect()
}

/// The changes `doc` does not have yet, each once, in push order; and the newest of the pushed
/// changes `doc` already has (those no other such change builds on): what a lost answer was
/// about. Older stored changes come again too when a device sends whole histories.
fn not_yet_present(doc: &mut AutoCommit, changes: Vec<Change>) -> (Vec<Change>, Vec<Change>) {
    let mut seen = HashSet::new();
    let (present, new): (Vec<Change>, Vec<Change>) = changes
        .into_iter()
        .filter(|c| seen.insert(c.hash()))
        .partition(|c| doc.get_change_meta_by_hash(&c.hash()).is_some());
    let built_on: HashSet<ChangeHash> = present.iter().flat_map(|c| c.deps().to_vec()).collect();
    let newest_present = present
        .into_iter()
        .filter(|c| !built_on.contains(&c.hash()))
        .collect();
    (new, newest_present)
}

fn hydrated_id(doc: &AnyDocument) -> DocId {
    match doc {
        AnyDocument::Visit(v) => v.id,
        AnyDocument::Order(o) => o.id,
        AnyDocument::Plan(p) => p.id,
        AnyDocument::Expense(e) => e.id,
    }
}
