//! The visit document: one person's stay at one store. Edited offline on phones (often by a rep
//! and a merchandiser at once) and merged by Automerge.
//!
//! Collections are maps keyed by their natural identity (step name, `SKU@location`, photo
//! SHA-256), not lists: two devices recording the same audit line concurrently leave one line
//! instead of a duplicate, and since a recording replaces the line as a whole (its time is
//! the line's autosurgeon key) that line is one person's observation, never a mix. Notes are a
//! list of entries: two people adding a note at once both keep theirs, as separate entries.
//! Competitor sightings are a map keyed by a generated id ([`competitors`]).
//! docs/document-encoding.md says what every field does when two people edit it at once.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile, Text};
use serde::{Deserialize, Serialize};

use crate::evaluation::{RulesBasis, ShownFinding};
use crate::promotion::PromotionCheck;
use crate::success::SuccessScore;
use crate::values::{
    string_enum, Date, DocId, Money, Position, Sha256, ShelfLocation, ShortText, Sku, StoreId,
    Timestamp, UserId,
};

/// Version of the visit document schema, stored in the document.
/// 2: visits carry `promotion_checks`, `competitor_sightings` and `stock_counts` (created with
/// the visit; the server adds them to a visit of version 1, once, `server/src/sync/upgrade.rs`).
/// 3: visits carry `success_scores` (likewise, added once by the server to a visit of 1 or 2).
pub const VISIT_SCHEMA_VERSION: u64 = 3;

pub mod competitors;
pub mod stock;

pub use competitors::{CompetitorDisplay, CompetitorSighting, SightingId, SightingInput};
pub use stock::StockCount;

string_enum!(
    /// The standard daily visit routine ("8 steps").
    VisitStep, "visit step" {
        Prepare = "prepare",
        Greet = "greet",
        StoreCheck = "store_check",
        Merchandise = "merchandise",
        SuggestedOrder = "suggested_order",
        PresentOrder = "present_order",
        Debrief = "debrief",
        Admin = "admin",
    }
);

string_enum!(
    /// Lifecycle of a visit.
    VisitStatus, "visit status" {
        Planned = "planned",
        InProgress = "in_progress",
        CheckedOut = "checked_out",
        Submitted = "submitted",
        Approved = "approved",
        Rejected = "rejected",
    }
);

string_enum!(
    ReviewDecision, "review decision" {
        Approved = "approved",
        Rejected = "rejected",
    }
);

/// Where and when the device said it was (check-in, check-out). Device time, device fix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct GeoStamp {
    pub at: Timestamp,
    pub position: Position,
    /// Reported horizontal accuracy of the fix, metres.
    pub accuracy_m: f64,
    /// The OS reported a mock location provider.
    pub mocked: bool,
}

/// One step of the routine: done at a time, or skipped with a reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct StepRecord {
    pub step: VisitStep,
    /// The record's key: recording a step again replaces the record as a whole, so two
    /// people recording it at once leave one whole record, never a mix of both.
    #[key]
    pub at: Timestamp,
    pub by: UserId,
    /// `None`: done. `Some(reason)`: skipped.
    pub skipped_reason: Option<ShortText>,
}

/// One observation of one SKU (own or competitor) at one place in the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct AuditLine {
    pub sku: Sku,
    pub location: ShelfLocation,
    pub facings: u32,
    pub on_shelf: bool,
    pub shelf_price: Option<Money>,
    pub oldest_production_date: Option<Date>,
    pub recorded_by: UserId,
    /// The line's key: recording the line again replaces it as a whole, so two people
    /// recording it at once leave one whole observation, never a mix of both.
    #[key]
    pub recorded_at: Timestamp,
}

impl AuditLine {
    /// Map key of a line: `SKU@LOCATION`.
    pub fn key_for(sku: &Sku, location: &ShelfLocation) -> String {
        format!("{sku}@{location}")
    }
    pub fn key(&self) -> String {
        Self::key_for(&self.sku, &self.location)
    }
}

/// A shelf photo referenced by content hash; the bytes live in the blob store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct PhotoRef {
    pub sha256: Sha256,
    pub size_bytes: u64,
    pub content_type: String,
    pub step: Option<VisitStep>,
    /// When the photo was attached to the visit (the phone's clock), not when it was taken:
    /// that is [`PhotoRef::capture`].
    pub taken_at: Timestamp,
    pub taken_by: UserId,
    pub position: Option<Position>,
    /// When and where the camera says the photo was taken (its EXIF), as the phone read it
    /// when attaching. `None`: not read (photos attached by apps before this was recorded).
    #[autosurgeon(missing = "Option::default")]
    #[serde(default)]
    pub capture: Option<PhotoCapture>,
}

/// The capture time and place a photo's EXIF records. Both parts are optional: a screenshot
/// or an edited image often has neither, a camera without location access has no position.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct PhotoCapture {
    /// When the photo was taken. EXIF times are wall-clock times: with the camera's UTC
    /// offset (`OffsetTimeOriginal`) or its GPS time this is the instant; without either it is
    /// the wall-clock time read as UTC and `zone_known` is false.
    pub at: Option<Timestamp>,
    /// `at` is an instant (the camera recorded its zone or a GPS time).
    pub zone_known: bool,
    /// The GPS position the camera recorded.
    pub position: Option<Position>,
}

/// Author name shown for the notes of visits written before notes were entries (one text).
pub const EARLIER_NOTES_AUTHOR: &str = "earlier notes";

/// One note on a visit: who wrote it, when, what. Entries are only ever appended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct NoteEntry {
    pub by: UserId,
    /// The author's display name when they wrote it (shown without a user lookup).
    pub by_name: String,
    /// Device time. The list's key when a compensation reconciles an earlier list into the
    /// merged one: entries are matched by time, so removing one removes that one.
    #[key]
    pub at: Timestamp,
    pub text: String,
}

/// The supervisor's review of a submitted visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct Review {
    pub decision: ReviewDecision,
    pub comment: Option<ShortText>,
    pub by: UserId,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct Visit {
    pub schema: u64,
    pub id: DocId,
    pub store_id: StoreId,
    /// The person who owns the visit (the rep or merchandiser it was planned for).
    pub person_id: UserId,
    pub planned_date: Date,
    pub status: VisitStatus,
    pub check_in: Option<GeoStamp>,
    pub check_out: Option<GeoStamp>,
    /// Keyed by `VisitStep::as_str()`.
    pub steps: BTreeMap<String, StepRecord>,
    /// Keyed by [`AuditLine::key`].
    pub audit: BTreeMap<String, AuditLine>,
    /// Keyed by the photo's SHA-256 hex.
    pub photos: BTreeMap<String, PhotoRef>,
    /// Notes of visits written before notes were entries: one collaborative Text, read as one
    /// entry by [`EARLIER_NOTES_AUTHOR`]. New notes go to `note_entries` (a separate key so
    /// older devices keep their Text and newer ones their list).
    #[serde(with = "crate::values::text_serde")]
    pub notes: Text,
    /// Notes as entries, in insertion order (an Automerge list: entries added at once on two
    /// devices are both kept). Shown by [`Visit::notes_in_order`]. The list is created with
    /// the visit; `None` for a visit written before notes were entries, until the server adds
    /// the list (once, under its own actor). A device never creates it on an existing visit:
    /// two devices doing so at once would make two lists under one key, and one would be lost.
    #[autosurgeon(missing = "Option::default", reconcile = "reconcile_note_list")]
    #[serde(default)]
    pub note_entries: Option<Vec<NoteEntry>>,
    pub review: Option<Review>,
    /// The master data the phone judged the visit against when it submitted it; `None`
    /// before submission and for visits written before this was recorded ("unknown").
    #[autosurgeon(missing = "Option::default")]
    #[serde(default)]
    pub evaluated_against: Option<RulesBasis>,
    /// The findings the phone showed the rep during the visit (off-site check-in, stale
    /// stock, photo outside the visit or reused), oldest first.
    #[autosurgeon(missing = "Vec::new")]
    #[serde(default)]
    pub findings: Vec<ShownFinding>,
    /// The weekly plan this visit carries out (its entry is the one of the visit's store);
    /// `None`: an unplanned visit.
    #[autosurgeon(missing = "Option::default")]
    #[serde(default)]
    pub plan_id: Option<DocId>,
    /// Competitor activity seen in the store, keyed by [`SightingId`] (a map: sightings added
    /// at once on two devices have different keys and are both kept). Created with the
    /// visit; `None` for a visit written before sightings existed, until the server adds the
    /// map (once, under its own actor): a device never creates it on an existing visit, for
    /// the same reason as `note_entries`. Shown by [`Visit::competitor_sightings_in_order`].
    #[autosurgeon(
        missing = "Option::default",
        reconcile = "competitors::reconcile_sightings"
    )]
    #[serde(default)]
    pub competitor_sightings: Option<BTreeMap<String, CompetitorSighting>>,
    /// Units counted per SKU during the store check, keyed by SKU ([`stock`]). Created with
    /// the visit; `None` for a visit written before counts existed, until the server adds the
    /// map (once, under its own actor), for the same reason as `note_entries`.
    #[autosurgeon(
        missing = "Option::default",
        reconcile = "stock::reconcile_stock_counts"
    )]
    #[serde(default)]
    pub stock_counts: Option<BTreeMap<String, StockCount>>,
    /// Checks of the promotions and display agreements running at the store, keyed by the
    /// promotion's code (docs/promotions.md). Like `note_entries`, the map is created with the
    /// visit and `None` for a visit written before it existed (schema 1), until the server adds
    /// it once: two devices creating it at once would make two maps under one key.
    #[autosurgeon(
        missing = "Option::default",
        reconcile = "crate::promotion::reconcile_checks"
    )]
    #[serde(default)]
    pub promotion_checks: Option<BTreeMap<String, PromotionCheck>>,
    /// Scores of the checklist points of the store's picture of success, keyed by the point's
    /// code (docs/picture-of-success.md). Created with the visit; `None` for a visit written
    /// before it existed (schema 1 and 2), until the server adds it once, for the same reason
    /// as `promotion_checks`.
    #[autosurgeon(
        missing = "Option::default",
        reconcile = "crate::success::reconcile_scores"
    )]
    #[serde(default)]
    pub success_scores: Option<BTreeMap<String, SuccessScore>>,
}

crate::changed_fields::changed_fields! {
    Visit {
        schema, id, store_id, person_id, planned_date, status, check_in, check_out,
        steps [by entry], audit [by entry], photos [by entry], notes [text],
        note_entries: Option<Vec<NoteEntry>> => reconcile_note_list,
        review, evaluated_against, findings, plan_id,
        competitor_sightings: Option<BTreeMap<String, CompetitorSighting>>
            => competitors::reconcile_sightings,
        stock_counts: Option<BTreeMap<String, StockCount>> => stock::reconcile_stock_counts,
        promotion_checks: Option<BTreeMap<String, PromotionCheck>>
            => crate::promotion::reconcile_checks,
        success_scores: Option<BTreeMap<String, SuccessScore>> => crate::success::reconcile_scores,
    }
}

impl Visit {
    /// A new planned visit.
    pub fn new(id: DocId, store_id: StoreId, person_id: UserId, planned_date: Date) -> Self {
        Visit {
            schema: VISIT_SCHEMA_VERSION,
            id,
            store_id,
            person_id,
            planned_date,
            status: VisitStatus::Planned,
            check_in: None,
            check_out: None,
            steps: BTreeMap::new(),
            audit: BTreeMap::new(),
            photos: BTreeMap::new(),
            notes: Text::with_value(""),
            note_entries: Some(Vec::new()),
            review: None,
            evaluated_against: None,
            findings: Vec::new(),
            plan_id: None,
            competitor_sightings: Some(BTreeMap::new()),
            stock_counts: Some(BTreeMap::new()),
            promotion_checks: Some(BTreeMap::new()),
            success_scores: Some(BTreeMap::new()),
        }
    }

    /// Adds a note. To the list of entries when the visit has it; otherwise (a visit written
    /// before notes were entries, not yet upgraded by the server) as a line of the earlier
    /// notes text, ending in a newline so that lines added at once on two devices stay
    /// separate lines. Either way the note merges with every other and is never lost.
    pub fn add_note(&mut self, note: NoteEntry) {
        match &mut self.note_entries {
            Some(entries) => entries.push(note),
            None => {
                let existing = self.notes.as_str();
                let separator = if existing.is_empty() || existing.ends_with('\n') {
                    ""
                } else {
                    "\n"
                };
                let insert = format!("{separator}{}\n", note.text);
                // Spliced at the end (a byte offset, as autosurgeon's Text counts): no diff of
                // the whole text.
                let end = existing.len();
                self.notes.splice(end, 0, insert);
            }
        }
    }

    /// The notes in display order: the earlier notes text (if any) first, then the entries by
    /// time, then author, so every device shows the same order whatever order they merged in.
    pub fn notes_in_order(&self) -> Vec<NoteEntry> {
        let earlier = self.notes.as_str().trim();
        let mut entries = self.note_entries.clone().unwrap_or_default();
        // Stable: one author's notes of the same millisecond keep the list's order.
        entries.sort_by_key(|n| (n.at, n.by));
        if !earlier.is_empty() {
            entries.insert(
                0,
                NoteEntry {
                    by: self.person_id,
                    by_name: EARLIER_NOTES_AUTHOR.to_string(),
                    at: Timestamp(0),
                    text: earlier.to_string(),
                },
            );
        }
        entries
    }

    /// The notes' texts, one per line, in [`Visit::notes_in_order`] order.
    pub fn notes_text(&self) -> String {
        let texts: Vec<String> = self.notes_in_order().into_iter().map(|n| n.text).collect();
        texts.join("\n")
    }
}

/// Writes the list of notes when the visit has one; writes nothing when it has none, so that
/// reconciling a visit read without the list never creates it (see [`Visit::note_entries`]).
fn reconcile_note_list<R: autosurgeon::Reconciler>(
    entries: &Option<Vec<NoteEntry>>,
    reconciler: R,
) -> Result<(), R::Error> {
    match entries {
        Some(entries) => entries.reconcile(reconciler),
        None => Ok(()),
    }
}
