//! The write-policy stage of a push: judge the effect of a pushed batch with
//! `shared::policy::check` and neutralise refused effects with a compensating change of the
//! server's own. Pure and CPU-bound like the rest of the merge (run under `spawn_blocking`).
//!
//! Changes cannot be removed from an Automerge history, so a refused effect is undone by a
//! new change, authored by [`server_actor`], that puts the refused fields back as they were
//! before the batch. Every replica that merges it converges on the allowed state.
//!
//! Sequence numbers of the server actor: Automerge numbers an actor's changes per document
//! (1, 2, ...), and two different changes with the same actor and number would break every
//! replica that receives both. The server computes each compensation on the fully loaded
//! document (all of its earlier compensations included) and stores it under the optimistic
//! version check of `commit_push`: a concurrent push that computed the same number for the
//! same document loses the version race and is recomputed from a fresh load. So the numbers
//! stay unique without any coordination between instances.

// `DocumentError` holds automerge's and autosurgeon's errors by value (the shared crate's
// contract); it is large, but these functions run once per pushed document.
#![allow(clippy::result_large_err)]

use automerge::transaction::CommitOptions;
use automerge::{AutoCommit, Change, ChangeHash, ObjId, ReadDoc, ROOT};
use autosurgeon::Text;
use fieldsync_shared::document::{
    hydrate_any, reconcile_changes, server_actor, AnyDocument, DocumentError,
};
use fieldsync_shared::org::{Editor, OrgView};
use fieldsync_shared::policy::{self, Refusal};
use fieldsync_shared::protocol::RefusedEdit;
use fieldsync_shared::values::{StoreId, Timestamp, UserId};

/// What the policy made of one batch. Every variant but `Refused` may also come with refused
/// edits that needed no undoing (a decision overtaken by one stored first, see [`enforce`]).
// One value per pushed document, moved once: boxing the documents would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum PolicyVerdict {
    /// Every effect is allowed (or refused without anything to undo: `refused`); `document`
    /// is the merged document as pushed.
    Allowed {
        document: AnyDocument,
        refused: Vec<RefusedEdit>,
    },
    /// Some effects were refused and undone by `change`, which the server stores after the
    /// device's changes; `document` is the result with the compensation applied.
    Compensated {
        document: AnyDocument,
        change: Change,
        refused: Vec<RefusedEdit>,
    },
    /// Refused as a whole: a creation the policy refuses (a creation cannot be compensated),
    /// or refused effects the compensation could not undo.
    Refused { refused: Vec<Refusal> },
}

/// The owner (`person_id`) and store of a document: what relations are computed from. A plan
/// has no store, and an expense is judged by its owner alone: [`NO_STORE`], in no scope's or territory's stores, so its owner alone counts.
pub fn owner_and_store(doc: &AnyDocument) -> (UserId, StoreId) {
    match doc {
        AnyDocument::Visit(v) => (v.person_id, v.store_id),
        AnyDocument::Order(o) => (o.person_id, o.store_id),
        AnyDocument::Plan(p) => (p.person_id, NO_STORE),
        AnyDocument::Expense(e) => (e.person_id, NO_STORE),
    }
}

/// The store of a document that has none (a plan): the nil id, which no store has.
pub const NO_STORE: StoreId = StoreId(uuid::Uuid::nil());

/// The editor the pushing user is for this document: owner and store as stored before the
/// batch (`after` only when the batch creates the document), so a batch cannot change its
/// relation to the document by rewriting the owner.
pub fn editor_for(org: &OrgView, before: Option<&AnyDocument>, after: &AnyDocument) -> Editor {
    let (owner, store) = owner_and_store(before.unwrap_or(after));
    org.editor_for(owner, store)
}

/// Runs the policy on the effect `before -> after` of a batch (`new_changes`) already applied
/// to `doc`, and compensates refused effects in `doc` (with the server's actor) where it can.
///
/// A batch whose decision (`status`) is concurrent with one already stored is overtaken
/// (`policy::overtaken`): the stored decision stands whichever Automerge's tie-break shows.
pub fn enforce(
    doc: &mut AutoCommit,
    new_changes: &[Change],
    org: &OrgView,
    before: Option<&AnyDocument>,
    after: AnyDocument,
) -> Result<PolicyVerdict, DocumentError> {
    let editor = editor_for(org, before, &after);
    let mut refusals = policy::check(&editor, before, &after);
    let mut told = Vec::new();
    if let Some(before) = before.filter(|_| decided_concurrently(doc, new_changes)) {
        let overtaken = policy::overtaken(before, &after);
        // Said as what happened (a concurrent decision), not as the move it looks like
        // from the stored state (e.g. "from rejected to approved").
        refusals.retain(|r| !overtaken.undo.iter().any(|o| o.field == r.field));
        refusals.extend(overtaken.undo);
        told = overtaken.tell.iter().map(refused_edit).collect();
    }
    if refusals.is_empty() {
        return Ok(PolicyVerdict::Allowed {
            document: after,
            refused: told,
        });
    }
    let Some(before) = before else {
        return Ok(PolicyVerdict::Refused { refused: refusals });
    };
    let Some(change) = compensating_change(doc, before, &after, &refusals)? else {
        tracing::error!(
            refused = ?refusals,
            "policy refused effects that the compensation does not change"
        );
        return Ok(PolicyVerdict::Refused { refused: refusals });
    };
    let document = hydrate_any(after.kind(), doc).map_err(|e| {
        tracing::error!(error = %e, "a compensated document does not hydrate");
        e
    })?;
    // The compensation must leave nothing refused; otherwise nothing of the batch is stored.
    let left = policy::check(&editor, Some(before), &document);
    if !left.is_empty() {
        tracing::error!(refused = ?left, "the compensation left refused effects");
        return Ok(PolicyVerdict::Refused { refused: refusals });
    }
    Ok(PolicyVerdict::Compensated {
        document,
        change,
        refused: refusals.iter().map(refused_edit).chain(told).collect(),
    })
}

/// The document's `status` holds a value set by `new_changes` next to a concurrent value
/// that was stored before them: two decisions made without seeing each other.
fn decided_concurrently(doc: &AutoCommit, new_changes: &[Change]) -> bool {
    let Ok(values) = doc.get_all(ROOT, "status") else {
        return false;
    };
    if values.len() < 2 {
        return false;
    }
    // Automerge names an operation (here: the one that set a value) like an object.
    let pushed = |id: &ObjId| match id {
        ObjId::Id(counter, actor, _) => new_changes
            .iter()
            .any(|c| c.actor_id() == actor && (c.start_op().get()..=c.max_op()).contains(counter)),
        ObjId::Root => false,
    };
    let from_batch = values.iter().filter(|(_, id)| pushed(id)).count();
    from_batch > 0 && from_batch < values.len()
}

/// Reconciles `policy::compensate(before, after, refused)` into `doc` as one change of the
/// server's actor. `None` if that writes nothing.
fn compensating_change(
    doc: &mut AutoCommit,
    before: &AnyDocument,
    after: &AnyDocument,
    refused: &[Refusal],
) -> Result<Option<Change>, DocumentError> {
    let target = policy::compensate(before, after, refused);
    Ok(server_change(doc, after, target, commit_message(refused))?.map(|(change, _)| change))
}

/// Writes `target` into `doc` (whose state is `after`) as one change of the server's actor
/// with `message`: the change and the document's state after it; `None` if that writes
/// nothing. Every change the server authors goes through here: the compensations above, the
/// upgrades and the holds of the server's verdicts.
pub fn server_change(
    doc: &mut AutoCommit,
    after: &AnyDocument,
    target: AnyDocument,
    message: String,
) -> Result<Option<(Change, AnyDocument)>, DocumentError> {
    let target = keep_text_objects(after, target);
    doc.set_actor(server_actor());
    // `after` is the document's state: only the fields the target changes are written.
    reconcile_changes(doc, after, &target)?;
    // Seconds, like the devices' changes.
    let options = CommitOptions::default()
        .with_message(message)
        .with_time(Timestamp::now().millis() / 1000);
    let Some(hash) = doc.commit_with(options) else {
        return Ok(None);
    };
    let Some(change) = doc.get_change_by_hash(&hash) else {
        return Ok(None);
    };
    // The written target is the document's state: no need to read it back. Debug builds (the
    // tests) check that claim on every change the server writes.
    debug_assert_eq!(hydrate_any(target.kind(), doc).ok().as_ref(), Some(&target));
    Ok(Some((change, target)))
}

/// `target` with its notes written as edits of `after`'s notes. Notes are Automerge Text:
/// reconciling a Text hydrated from another state (`before`) fails on its stale heads, and a
/// fresh Text would replace the whole text object, dropping what others type into it
/// concurrently. Editing the merged text object into the wanted content keeps it.
fn keep_text_objects(after: &AnyDocument, mut target: AnyDocument) -> AnyDocument {
    match (after, &mut target) {
        (AnyDocument::Visit(a), AnyDocument::Visit(t)) => t.notes = edited(&a.notes, &t.notes),
        (AnyDocument::Order(a), AnyDocument::Order(t)) => t.notes = edited(&a.notes, &t.notes),
        _ => {}
    }
    target
}

fn edited(live: &Text, wanted: &Text) -> Text {
    let mut text = live.clone();
    if text.as_str() != wanted.as_str() {
        text.update(wanted.as_str());
    }
    text
}

/// The compensating change's message, read in the document's history (audit trail):
/// `fieldsync-server: refused notes (visit_frozen), status (status_transition_not_allowed)`.
pub fn commit_message(refused: &[Refusal]) -> String {
    let parts: Vec<String> = refused
        .iter()
        .map(|r| format!("{} ({})", r.field.as_str(), r.code))
        .collect();
    format!("{COMPENSATION_PREFIX}{}", parts.join(", "))
}

/// The refusal code of a creation for a store the tenant does not have (field `identity`);
/// checked by the push against the master data, which the shared rules cannot see.
pub const UNKNOWN_STORE: &str = "unknown_store";

/// How every compensating change's message starts.
pub const COMPENSATION_PREFIX: &str = "fieldsync-server: refused ";

/// The refusals the server answered when it first stored `pushed` (changes it already has:
/// a device sending them again never received that answer), read back from the compensating
/// changes that build on them: their messages name each field and code ([`commit_message`]).
/// Refusals that needed no compensation (a decision overtaken without undoing) are not
/// recovered.
pub fn earlier_refusals(doc: &mut AutoCommit, pushed: &[ChangeHash]) -> Vec<RefusedEdit> {
    if pushed.is_empty() {
        return Vec::new();
    }
    let server = server_actor();
    let mut out = Vec::new();
    for change in doc.get_changes(&[]) {
        let Some(refused) = change
            .message()
            .and_then(|m| m.strip_prefix(COMPENSATION_PREFIX))
        else {
            continue;
        };
        if change.actor_id() != &server || !change.deps().iter().any(|d| pushed.contains(d)) {
            continue;
        }
        for part in refused.split(", ") {
            let Some((field, code)) = part.strip_suffix(')').and_then(|p| p.split_once(" ("))
            else {
                continue;
            };
            out.push(RefusedEdit {
                field: field.to_string(),
                code: code.to_string(),
                message: policy::codes::describe(code).to_string(),
            });
        }
    }
    out
}

/// The wire form of a refusal.
pub fn refused_edit(r: &Refusal) -> RefusedEdit {
    RefusedEdit {
        field: r.field.as_str().to_string(),
        code: r.code.clone(),
        message: r.message.clone(),
    }
}

/// One message for a batch refused as a whole: the refusals' messages, joined.
pub fn refusal_message(refused: &[Refusal]) -> String {
    refused
        .iter()
        .map(|r| format!("{}: {}", r.field.as_str(), r.message))
        .collect::<Vec<_>>()
        .join("; ")
}
