//! The visit document: one person's stay at one store. Edited offline on phones (often by a rep
//! and a merchandiser at once) and merged by Automerge.
//!
//! Collections are maps keyed by their natural identity (step name, `SKU@location`, photo
//! SHA-256), not lists: two devices recording the same audit line concurrently merge into one
//! line field by field instead of producing a duplicate.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile, Text};
use serde::{Deserialize, Serialize};

use crate::evaluation::{RulesBasis, ShownFinding};
use crate::values::{
    string_enum, Date, DocId, Money, Position, Sha256, ShelfLocation, ShortText, Sku, StoreId,
    Timestamp, UserId,
};

/// Version of the visit document schema, stored in the document.
pub const VISIT_SCHEMA_VERSION: u64 = 1;

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
    /// Free-form notes; a collaborative Text so concurrent edits interleave instead of clobbering.
    #[serde(with = "crate::values::text_serde")]
    pub notes: Text,
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
            review: None,
            evaluated_against: None,
            findings: Vec::new(),
        }
    }
}
