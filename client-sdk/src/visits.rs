//! Visit operations. Each one loads the visit document, computes the new typed state, runs the
//! shared write policy and business rules on it and commits only if nothing refuses or blocks
//! (see `Device::commit_doc`). The write policy (`fieldsync_shared::policy`) alone decides who
//! may change what in which status; the checks here only give better messages for no-ops.

use automerge::transaction::Transactable;
use automerge::{ObjType, ReadDoc, Value, ROOT};
use fieldsync_shared::document::{hydrate_visit, reconcile_visit};
use fieldsync_shared::master::UserProfile;
use fieldsync_shared::policy::{self, Refusal};
use fieldsync_shared::rules::geofence::{self, GeofenceTolerance};
use fieldsync_shared::rules::visit_timing::{self, VisitRequirements};
use fieldsync_shared::rules::{freshness, Verdict};
use fieldsync_shared::visit::{AuditLine, GeoStamp, StepRecord, Visit, VisitStatus, VisitStep};
use fieldsync_shared::{
    Date, DocId, DocKind, Money, ParseError, Position, Sha256, ShelfLocation, ShortText, Sku,
    StoreId, Timestamp,
};
use rusqlite::{Connection, Transaction};
use serde::Serialize;

use crate::device::{org_view_for, Device};
use crate::error::{DeviceError, Result};
use crate::store;

/// A location fix as the phone's OS reports it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GeoFix {
    pub lat: f64,
    pub lon: f64,
    /// Reported horizontal accuracy, metres.
    pub accuracy_m: f64,
    /// The OS says the fix came from a mock location provider.
    pub mocked: bool,
}

/// One shelf observation as the user enters it (strings are parsed by the device).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditInput {
    pub sku: String,
    pub location: String,
    pub facings: u32,
    pub on_shelf: bool,
    pub shelf_price: Option<Money>,
    pub oldest_production_date: Option<Date>,
}

/// Longest text one `append_note` accepts, in characters.
const MAX_NOTE_CHARS: usize = 10_000;

impl Device {
    /// Plans a visit of `store` for the signed-in user. Creates the visit document: this is
    /// the only place a visit's root fields are written from scratch; every other device gets
    /// the document through sync and edits that same document.
    pub fn start_visit(&self, store: StoreId, planned_date: Date) -> Result<DocId> {
        let mut conn = self.lock();
        let profile = Self::require_profile(&conn)?;
        if store::store(&conn, store)?.is_none() {
            return Err(DeviceError::not_found("store", store));
        }
        let id = DocId::new_random();
        let visit = Visit::new(id, store, profile.id, planned_date);
        authorize_visit(&conn, &profile, None, &visit)?;
        let mut doc = fieldsync_shared::document::new_document(self.actor.clone());
        reconcile_visit(&mut doc, &visit)?;
        Self::commit_doc(
            &mut conn,
            id,
            DocKind::Visit,
            &mut doc,
            "start visit",
            |_| Ok(()),
        )?;
        Ok(id)
    }

    /// Checks in at the store. A fix outside the geofence or from a mock provider is recorded
    /// and returned as Flag findings, never blocked.
    pub fn check_in(&self, visit: DocId, fix: GeoFix, at: Timestamp) -> Result<Verdict> {
        self.edit_visit(visit, "check in", |conn, profile, v| {
            if matches!(v.status, VisitStatus::InProgress | VisitStatus::CheckedOut) {
                return Err(DeviceError::wrong_state("the visit is already checked in"));
            }
            let store = store_of(conn, v)?;
            let stamp = geo_stamp(fix, at)?;
            let mut next = v.clone();
            next.check_in = Some(stamp.clone());
            next.status = VisitStatus::InProgress;
            // Who may check in, and when, before what the check-in looks like.
            authorize_visit(conn, profile, Some(v), &next)?;
            let verdict = geofence::check_position(&store, &stamp, GeofenceTolerance::default());
            refuse_if_blocked(&verdict)?;
            *v = next;
            Ok(verdict)
        })
    }

    /// Records one of the standard steps as done (`skipped_reason: None`) or skipped.
    pub fn record_step(
        &self,
        visit: DocId,
        step: VisitStep,
        skipped_reason: Option<&str>,
    ) -> Result<()> {
        let reason = skipped_reason.map(ShortText::parse).transpose()?;
        self.edit_visit(visit, "record step", |_, profile, v| {
            v.steps.insert(
                step.as_str().to_string(),
                StepRecord {
                    step,
                    at: Timestamp::now(),
                    by: profile.id,
                    skipped_reason: reason,
                },
            );
            Ok(())
        })
    }

    /// Records (or replaces) the audit line for `sku` at `location`. Stale stock is returned as
    /// a Flag finding of the freshness rule.
    pub fn record_audit_line(&self, visit: DocId, line: AuditInput) -> Result<Verdict> {
        let sku = Sku::parse(&line.sku)?;
        let location = ShelfLocation::parse(&line.location)?;
        self.edit_visit(visit, "record audit line", |conn, profile, v| {
            let now = Timestamp::now();
            let audit = AuditLine {
                sku,
                location,
                facings: line.facings,
                on_shelf: line.on_shelf,
                shelf_price: line.shelf_price,
                oldest_production_date: line.oldest_production_date,
                recorded_by: profile.id,
                recorded_at: now,
            };
            // Competitors' SKUs are not in the product list: nothing to check them against.
            let verdict = match store::product(conn, &audit.sku)? {
                Some(product) => freshness::check_line(&audit, &product, now.utc_date()),
                None => Verdict::default(),
            };
            let mut next = v.clone();
            next.audit.insert(audit.key(), audit);
            authorize_visit(conn, profile, Some(v), &next)?;
            refuse_if_blocked(&verdict)?;
            *v = next;
            Ok(verdict)
        })
    }

    /// Appends to the visit's notes. Notes are Automerge Text and the text is spliced in at the
    /// end, so notes appended concurrently on two devices are both kept.
    pub fn append_note(&self, visit: DocId, text: &str) -> Result<()> {
        if text.trim().is_empty() {
            return Err(ParseError::new("note", "must not be empty").into());
        }
        if text.chars().count() > MAX_NOTE_CHARS {
            return Err(ParseError::new(
                "note",
                format!("longer than {MAX_NOTE_CHARS} characters"),
            )
            .into());
        }
        let mut conn = self.lock();
        let profile = Self::require_profile(&conn)?;
        let row = Self::load_row(&conn, visit, DocKind::Visit)?;
        let mut doc = row.load(&self.actor)?;
        let before = hydrate_visit(&doc)?;
        let notes = match doc.get(ROOT, "notes")? {
            Some((Value::Object(ObjType::Text), id)) => id,
            _ => return Err(DeviceError::Document("the visit has no notes text".into())),
        };
        let existing = doc.text(&notes)?;
        // One note per line; positions are in the document's own text units (`length`), so
        // any script (Chinese included) splices at the right place.
        let insert = if existing.is_empty() || existing.ends_with('\n') {
            text.to_string()
        } else {
            format!("\n{text}")
        };
        let end = doc.length(&notes);
        doc.splice_text(&notes, end, 0, &insert)?;
        // Refused: the uncommitted splice is dropped with `doc`.
        authorize_visit(&conn, &profile, Some(&before), &hydrate_visit(&doc)?)?;
        Self::commit_doc(
            &mut conn,
            visit,
            DocKind::Visit,
            &mut doc,
            "append note",
            |_| Ok(()),
        )
    }

    /// Checks out. Blocked (`Invalid`) when not checked in, stamped before the check-in, or
    /// when mandatory steps or photos are missing; geofence findings are flags.
    pub fn check_out(&self, visit: DocId, fix: GeoFix, at: Timestamp) -> Result<Verdict> {
        self.edit_visit(visit, "check out", |conn, profile, v| {
            if v.status == VisitStatus::CheckedOut {
                return Err(DeviceError::wrong_state("the visit is already checked out"));
            }
            let stamp = geo_stamp(fix, at)?;
            let mut next = v.clone();
            next.check_out = Some(stamp.clone());
            next.status = VisitStatus::CheckedOut;
            authorize_visit(conn, profile, Some(v), &next)?;
            let mut verdict = visit_timing::check_out(v, at, &VisitRequirements::default());
            let store = store_of(conn, v)?;
            verdict.extend(geofence::check_position(
                &store,
                &stamp,
                GeofenceTolerance::default(),
            ));
            refuse_if_blocked(&verdict)?;
            *v = next;
            Ok(verdict)
        })
    }

    /// Submits a visit (checked out, or rejected and reworked) for review. After this, only
    /// its notes can change until the supervisor decides.
    pub fn submit_visit(&self, visit: DocId) -> Result<()> {
        self.edit_visit(visit, "submit visit", |conn, profile, v| {
            if v.status == VisitStatus::Submitted {
                return Err(DeviceError::wrong_state("the visit is already submitted"));
            }
            let mut next = v.clone();
            next.status = VisitStatus::Submitted;
            authorize_visit(conn, profile, Some(v), &next)?;
            let verdict = visit_timing::submit(v, &VisitRequirements::default());
            refuse_if_blocked(&verdict)?;
            *v = next;
            Ok(())
        })
    }

    pub fn visit(&self, id: DocId) -> Result<Visit> {
        let conn = self.lock();
        let row = Self::load_row(&conn, id, DocKind::Visit)?;
        Ok(hydrate_visit(&row.load(&self.actor)?)?)
    }

    /// Every visit on this device (own and received), by planned date. A document that cannot
    /// be read as a visit (e.g. still missing changes) is left out.
    pub fn visits(&self) -> Result<Vec<Visit>> {
        let conn = self.lock();
        let mut visits: Vec<Visit> = store::list_docs(&conn, Some(DocKind::Visit))?
            .iter()
            .filter_map(|row| row.load(&self.actor).ok())
            .filter_map(|doc| hydrate_visit(&doc).ok())
            .collect();
        visits.sort_by_key(|v| (v.planned_date, v.id));
        Ok(visits)
    }

    /// Hashes of the photos attached to visits (other than `except`), for the reuse rule.
    pub(crate) fn photo_hashes_elsewhere(
        &self,
        conn: &Connection,
        except: DocId,
    ) -> Result<Vec<Sha256>> {
        let mut out = Vec::new();
        for row in store::list_docs(conn, Some(DocKind::Visit))? {
            if row.id == except {
                continue;
            }
            if let Some(v) = row
                .load(&self.actor)
                .ok()
                .and_then(|d| hydrate_visit(&d).ok())
            {
                out.extend(v.photos.values().map(|p| p.sha256));
            }
        }
        Ok(out)
    }

    /// Load, edit the typed visit, reconcile, commit, save: the frame of every visit edit.
    pub(crate) fn edit_visit<T>(
        &self,
        id: DocId,
        message: &str,
        edit: impl FnOnce(&Connection, &UserProfile, &mut Visit) -> Result<T>,
    ) -> Result<T> {
        self.edit_visit_with(id, message, edit, |_| Ok(()))
    }

    /// Like `edit_visit`, with extra bookkeeping written in the same transaction.
    pub(crate) fn edit_visit_with<T>(
        &self,
        id: DocId,
        message: &str,
        edit: impl FnOnce(&Connection, &UserProfile, &mut Visit) -> Result<T>,
        extra: impl FnOnce(&Transaction<'_>) -> Result<()>,
    ) -> Result<T> {
        let mut conn = self.lock();
        let profile = Self::require_profile(&conn)?;
        let row = Self::load_row(&conn, id, DocKind::Visit)?;
        let mut doc = row.load(&self.actor)?;
        let before = hydrate_visit(&doc)?;
        let mut visit = before.clone();
        let out = edit(&conn, &profile, &mut visit)?;
        authorize_visit(&conn, &profile, Some(&before), &visit)?;
        // Reconciling the hydrated-then-edited struct writes only the fields that changed.
        reconcile_visit(&mut doc, &visit)?;
        Self::commit_doc(&mut conn, id, DocKind::Visit, &mut doc, message, extra)?;
        Ok(out)
    }
}

/// Runs the write policy on a visit edit as the signed-in user (`before: None`: creation) and
/// refuses it with [`DeviceError::Forbidden`] (the first refusal) if the policy refuses any of
/// it. The owner and store are taken from the stored visit, not from the edit.
pub(crate) fn authorize_visit(
    conn: &Connection,
    profile: &UserProfile,
    before: Option<&Visit>,
    after: &Visit,
) -> Result<()> {
    let owner = before.unwrap_or(after);
    let editor = org_view_for(conn, profile)?.editor_for(owner.person_id, owner.store_id);
    refuse_if_forbidden(policy::check_visit(&editor, before, after))
}

/// The first refusal of a policy check as the error of the edit.
pub(crate) fn refuse_if_forbidden(refusals: Vec<Refusal>) -> Result<()> {
    match refusals.into_iter().next() {
        Some(refusal) => Err(refusal.into()),
        None => Ok(()),
    }
}

fn store_of(conn: &Connection, v: &Visit) -> Result<fieldsync_shared::master::Store> {
    store::store(conn, v.store_id)?.ok_or_else(|| DeviceError::not_found("store", v.store_id))
}

fn geo_stamp(fix: GeoFix, at: Timestamp) -> Result<GeoStamp> {
    let position = Position::new(fix.lat, fix.lon)?;
    if !fix.accuracy_m.is_finite() || fix.accuracy_m < 0.0 {
        return Err(ParseError::new(
            "accuracy",
            format!("{} is not a distance in metres", fix.accuracy_m),
        )
        .into());
    }
    Ok(GeoStamp {
        at,
        position,
        accuracy_m: fix.accuracy_m,
        mocked: fix.mocked,
    })
}

pub(crate) fn refuse_if_blocked(verdict: &Verdict) -> Result<()> {
    if verdict.is_blocked() {
        // Only what blocked: the caller must fix exactly these.
        Err(DeviceError::Invalid {
            findings: verdict.blocking().cloned().collect(),
        })
    } else {
        Ok(())
    }
}
