//! Visit operations. Each one loads the visit document, computes the new typed state, runs the
//! shared write policy and business rules on it and commits only if nothing refuses or blocks
//! (see `edits::edit`). The write policy (`fieldsync_shared::policy`) alone decides who
//! may change what in which status; the checks here only give better messages for no-ops.

use std::collections::BTreeMap;

use fieldsync_shared::document::reconcile_visit;
use fieldsync_shared::master::UserProfile;
use fieldsync_shared::rules::geofence::{self, GeofenceTolerance};
use fieldsync_shared::rules::submission::{self, RuleSettings, VisitData};
use fieldsync_shared::rules::visit_timing::{self, VisitRequirements};
use fieldsync_shared::rules::{assortment, freshness, promotion, success, RuleId, Verdict};
use fieldsync_shared::visit::{
    AuditLine, GeoStamp, NoteEntry, StepRecord, Visit, VisitStatus, VisitStep,
};
use fieldsync_shared::{
    Date, DocId, DocKind, Money, ParseError, Position, ShelfLocation, ShortText, Sku, StoreId,
    Timestamp,
};
use rusqlite::Connection;
use serde::Serialize;

use super::Device;
use crate::edits;
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

/// One SKU of the visit's store's must-carry range, as the audit screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpectedSku {
    pub sku: Sku,
    /// The product's name (the SKU when the catalogue does not have it).
    pub name: String,
    /// At least one facing recorded on the shelf; `false`: expected but missing.
    pub on_shelf: bool,
    /// Facings recorded on the shelf, every location together.
    pub facings: u32,
    /// Units agreed to be held, if any.
    pub safety_stock: Option<u32>,
}

/// Longest text one `append_note` accepts, in characters.
const MAX_NOTE_CHARS: usize = 10_000;

impl Device {
    /// Plans a visit of `store` for the signed-in user. Creates the visit document: this is
    /// the only place a visit's root fields are written from scratch; every other device gets
    /// the document through sync and edits that same document.
    pub fn start_visit(&self, store: StoreId, planned_date: Date) -> Result<DocId> {
        let mut conn = self.db.lock();
        let profile = store::require_profile(&conn)?;
        if store::store(&conn, store)?.is_none() {
            return Err(DeviceError::not_found("store", store));
        }
        let id = DocId::new_random();
        let visit = Visit::new(id, store, profile.id, planned_date);
        edits::authorize(&conn, &profile, None, &visit)?;
        let mut doc = fieldsync_shared::document::new_document(self.db.actor().clone());
        reconcile_visit(&mut doc, &visit)?;
        edits::commit(
            &mut conn,
            id,
            DocKind::Visit,
            &mut doc,
            "start visit",
            |_, _| Ok(()),
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
            edits::authorize(conn, profile, Some(v), &next)?;
            let verdict = geofence::check_position(&store, &stamp, GeofenceTolerance::default());
            edits::refuse_if_blocked(&verdict)?;
            next.findings
                .extend(submission::shown(&verdict, Timestamp::now()));
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
            edits::authorize(conn, profile, Some(v), &next)?;
            edits::refuse_if_blocked(&verdict)?;
            next.findings.extend(submission::shown(&verdict, now));
            *v = next;
            Ok(verdict)
        })
    }

    /// Adds a note to the visit: one entry (author, time, text) appended to the visit's list of
    /// notes, so notes added at once on two devices are both kept as separate entries. A visit
    /// written before notes were entries takes the note as a line of its earlier notes until
    /// the server has added the list ([`Visit::add_note`]).
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
        self.edit_visit(visit, "append note", |_, profile, v| {
            v.add_note(NoteEntry {
                by: profile.id,
                by_name: profile.display_name.clone(),
                at: Timestamp::now(),
                text: text.to_string(),
            });
            Ok(())
        })
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
            edits::authorize(conn, profile, Some(v), &next)?;
            let mut verdict = visit_timing::check_out(v, at, &VisitRequirements::default());
            let store = store_of(conn, v)?;
            verdict.extend(geofence::check_position(
                &store,
                &stamp,
                GeofenceTolerance::default(),
            ));
            edits::refuse_if_blocked(&verdict)?;
            next.findings
                .extend(submission::shown(&verdict, Timestamp::now()));
            *v = next;
            Ok(verdict)
        })
    }

    /// Submits a visit (checked out, or rejected and reworked) for review. After this, only
    /// its notes can change until the supervisor decides. The rules run through
    /// `submission::evaluate_visit` (the call the server makes too): Block findings refuse;
    /// the visit records the master data it was judged against.
    pub fn submit_visit(&self, visit: DocId) -> Result<()> {
        self.edit_visit(visit, "submit visit", |conn, profile, v| {
            if v.status == VisitStatus::Submitted {
                return Err(DeviceError::wrong_state("the visit is already submitted"));
            }
            let mut next = v.clone();
            next.status = VisitStatus::Submitted;
            edits::authorize(conn, profile, Some(v), &next)?;
            let store = store_of(conn, v)?;
            let mut products = BTreeMap::new();
            for line in v.audit.values() {
                if let Some(product) = store::product(conn, &line.sku)? {
                    products.insert(line.sku.as_str().to_string(), product);
                }
            }
            let range = assortment::range_of(&store, &store::assortment(conn)?);
            let running = promotion::active_at(&store, v.planned_date, &store::promotions(conn)?);
            let pictures = store::success_pictures(conn)?;
            // Photo reuse was judged (and recorded) when each photo was attached.
            let data = VisitData {
                store: &store,
                products: &products,
                photos_elsewhere: &[],
                range: &range,
                promotions: &running,
                success_picture: success::picture_for(&store, &pictures),
            };
            let verdict = submission::evaluate_visit(v, &data, &RuleSettings::default());
            edits::refuse_if_blocked(&verdict)?;
            // The range, the promotions and the picture of success are judged on the visit as
            // submitted: their findings are recorded now (the others were when their check-in,
            // line or photo was recorded).
            let at_submission = Verdict::from_findings(
                verdict
                    .findings
                    .into_iter()
                    .filter(|f| {
                        matches!(
                            f.rule,
                            RuleId::Assortment | RuleId::Promotion | RuleId::Success
                        )
                    })
                    .collect(),
            );
            next.findings
                .extend(submission::shown(&at_submission, Timestamp::now()));
            next.evaluated_against = Some(submission::basis(
                store::master_version(conn)?,
                Timestamp::now(),
                None,
            ));
            *v = next;
            Ok(())
        })
    }

    /// The visit's store's must-carry range against the visit's audit as recorded so far,
    /// by SKU (offline: the range held from master data). Empty when the store has none.
    pub fn expected_range(&self, visit: DocId) -> Result<Vec<ExpectedSku>> {
        let v: Visit = edits::read(&self.db, visit)?;
        let conn = self.db.lock();
        let store = store_of(&conn, &v)?;
        let range = assortment::range_of(&store, &store::assortment(&conn)?);
        let check = assortment::check(&range, &v.audit);
        check
            .items
            .into_iter()
            .map(|i| {
                let name = store::product(&conn, &i.sku)?
                    .map_or_else(|| i.sku.as_str().to_string(), |p| p.name);
                Ok(ExpectedSku {
                    sku: i.sku,
                    name,
                    on_shelf: i.on_shelf,
                    facings: i.facings,
                    safety_stock: i.safety_stock,
                })
            })
            .collect()
    }

    pub fn visit(&self, id: DocId) -> Result<Visit> {
        edits::read(&self.db, id)
    }

    /// Every visit on this device (own and received), by planned date. A document that cannot
    /// be read as a visit (e.g. still missing changes) is left out.
    pub fn visits(&self) -> Result<Vec<Visit>> {
        let mut visits: Vec<Visit> = edits::read_all(&self.db)?;
        visits.sort_by_key(|v| (v.planned_date, v.id));
        Ok(visits)
    }

    /// The frame of every visit edit (`edits::edit`).
    pub(super) fn edit_visit<T>(
        &self,
        id: DocId,
        message: &str,
        edit: impl FnOnce(&Connection, &UserProfile, &mut Visit) -> Result<T>,
    ) -> Result<T> {
        edits::edit(&self.db, id, message, edit, |_| Ok(()))
    }
}

pub(super) fn store_of(conn: &Connection, v: &Visit) -> Result<fieldsync_shared::master::Store> {
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
