//! What crosses the FFI as plain data: records and enums, converted from the device library's
//! and the shared crate's types. Conventions at the boundary:
//! * ids (visits, orders, stores, users) are strings (UUIDs), parsed inside;
//! * dates are `YYYY-MM-DD` strings, instants are milliseconds since the Unix epoch (`*_ms`);
//! * money is an integer in minor units (fen, cents: `*_minor`), never a float;
//! * integers are signed (`i32` counts, `i64` sizes and instants): Kotlin's `UInt`/`ULong`
//!   mangle JVM names and are not callable from Java. Inputs are checked by [`non_negative`],
//!   outputs widened by [`int`] and [`long`].

use fieldsync_client as client;
use fieldsync_shared::master::Role as SharedRole;
use fieldsync_shared::visit as shared_visit;
use fieldsync_shared::{Date, Money, Timestamp};

use crate::error::{FieldsyncError, Finding, Result};
use crate::findings::{RecordedFinding, ServerFinding};
use crate::mirror::mirror_enum;

/// A count from the boundary (quantity, facings): negative is `Invalid` naming the field.
pub(crate) fn non_negative(field: &str, value: i32) -> Result<u32> {
    u32::try_from(value).map_err(|_| FieldsyncError::negative(field, value.into()))
}

/// A count for the boundary (saturates; no count of this library comes near `i32::MAX`).
pub(crate) fn int(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// A size for the boundary (saturates).
pub(crate) fn long(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

// ---------------------------------------------------------------------------------------------
// enums

mirror_enum!(
    /// The standard daily visit routine ("8 steps").
    VisitStep = shared_visit::VisitStep {
        Prepare, Greet, StoreCheck, Merchandise, SuggestedOrder, PresentOrder, Debrief, Admin,
    }
);

mirror_enum!(
    /// Lifecycle of a visit: planned -> in progress -> checked out -> submitted -> approved or
    /// rejected (rejected goes back to its author for rework).
    VisitStatus = shared_visit::VisitStatus {
        Planned, InProgress, CheckedOut, Submitted, Approved, Rejected,
    }
);

mirror_enum!(ReviewDecision = shared_visit::ReviewDecision { Approved, Rejected });

mirror_enum!(
    OrderStatus = client::OrderStatus {
        Draft,
        Submitted,
        PendingApproval,
        Approved,
        Rejected,
        Cancelled,
    }
);

mirror_enum!(
    PaymentMethod = client::PaymentMethod {
        Cash,
        Credit,
        BankTransfer
    }
);

mirror_enum!(
    Role = SharedRole {
        Merchandiser,
        Rep,
        Supervisor,
        Manager,
        Admin
    }
);

mirror_enum!(
    /// Upload state of a photo on this device.
    PhotoState = client::PhotoState { Pending, Uploading, Uploaded, Failed }
);

mirror_enum!(
    /// Where a photo's thumbnail stands: Pending (sent before the photo at the next sync),
    /// Sent, Unavailable (nothing to send: the photo does not decode on the device, e.g. HEIC).
    ThumbnailState = client::ThumbnailState { Pending, Sent, Unavailable }
);

// ---------------------------------------------------------------------------------------------
// inputs

/// A location fix as the phone's OS reports it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct GeoFix {
    pub lat: f64,
    pub lon: f64,
    /// Reported horizontal accuracy, metres.
    pub accuracy_m: f64,
    /// The OS says the fix came from a mock location provider.
    #[uniffi(default = false)]
    pub mocked: bool,
    /// When the fix was taken (ms since the epoch); `None`: now.
    #[uniffi(default = None)]
    pub taken_at_ms: Option<i64>,
}

impl GeoFix {
    pub(crate) fn split(&self) -> (client::GeoFix, Timestamp) {
        let fix = client::GeoFix {
            lat: self.lat,
            lon: self.lon,
            accuracy_m: self.accuracy_m,
            mocked: self.mocked,
        };
        (
            fix,
            self.taken_at_ms
                .map(Timestamp)
                .unwrap_or_else(Timestamp::now),
        )
    }
}

/// One shelf observation as the user enters it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct AuditInput {
    pub sku: String,
    /// Where in the store, e.g. `MAIN-SHELF`, `ENDCAP-3`, `BACKROOM`.
    pub location: String,
    pub facings: i32,
    pub on_shelf: bool,
    #[uniffi(default = None)]
    pub shelf_price_minor: Option<i64>,
    /// `YYYY-MM-DD`: checked against the product's shelf life (freshness rule).
    #[uniffi(default = None)]
    pub oldest_production_date: Option<String>,
}

impl AuditInput {
    pub(crate) fn parse(self) -> Result<client::AuditInput> {
        Ok(client::AuditInput {
            sku: self.sku,
            location: self.location,
            facings: non_negative("facings", self.facings)?,
            on_shelf: self.on_shelf,
            shelf_price: self.shelf_price_minor.map(Money),
            oldest_production_date: self
                .oldest_production_date
                .as_deref()
                .map(Date::parse)
                .transpose()?,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// outputs

/// The signed-in user.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Profile {
    pub user_id: String,
    pub tenant_id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// Person code, e.g. `R001` (it starts order numbers).
    pub code: String,
}

impl From<client::UserProfile> for Profile {
    fn from(p: client::UserProfile) -> Self {
        Profile {
            user_id: p.id.to_string(),
            tenant_id: p.tenant_id.to_string(),
            username: p.username,
            display_name: p.display_name,
            role: p.role.into(),
            code: p.code.to_string(),
        }
    }
}

/// A store of the user's territory (master data, kept offline).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Store {
    pub id: String,
    pub code: String,
    pub name: String,
    /// `nka`, `rka`, `lka` or `other`.
    pub channel: String,
    /// `A`, `B` or `C`.
    pub grade: String,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    pub geofence_radius_m: i32,
    /// Earliest delivery: order date + this many days.
    pub delivery_lead_days: i32,
    /// The retail chain the store belongs to (e.g. `Walmart`), if any.
    pub chain: Option<String>,
}

impl From<client::Store> for Store {
    fn from(s: client::Store) -> Self {
        use fieldsync_shared::master::{Channel, Grade};
        Store {
            id: s.id.to_string(),
            code: s.code.to_string(),
            name: s.name,
            channel: match s.channel {
                Channel::Nka => "nka",
                Channel::Rka => "rka",
                Channel::Lka => "lka",
                Channel::Other => "other",
            }
            .into(),
            grade: match s.grade {
                Grade::A => "A",
                Grade::B => "B",
                Grade::C => "C",
            }
            .into(),
            address: s.address,
            lat: s.location.lat(),
            lon: s.location.lon(),
            geofence_radius_m: int(s.geofence_radius_m),
            delivery_lead_days: int(s.delivery_lead_days),
            chain: s.chain,
        }
    }
}

#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Product {
    pub sku: String,
    pub name: String,
    pub case_pack: i32,
    /// Quantities must be a multiple of `case_pack`.
    pub sold_by_case: bool,
    pub shelf_life_days: i32,
    pub list_price_minor: i64,
    pub floor_price_minor: i64,
}

impl From<client::Product> for Product {
    fn from(p: client::Product) -> Self {
        Product {
            sku: p.sku.to_string(),
            name: p.name,
            case_pack: int(p.case_pack),
            sold_by_case: p.sold_by_case,
            shelf_life_days: int(p.shelf_life_days),
            list_price_minor: p.list_price.minor(),
            floor_price_minor: p.floor_price.minor(),
        }
    }
}

/// One SKU of the visit's store's must-carry range against the visit's audit
/// (`expected_range`): expected, and on the shelf or missing.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ExpectedSku {
    pub sku: String,
    pub name: String,
    /// At least one facing recorded on the shelf; `false`: expected but missing.
    pub on_shelf: bool,
    /// Facings recorded on the shelf, every location together.
    pub facings: i32,
    /// Units agreed to be held, if any.
    pub safety_stock: Option<i32>,
}

impl From<client::ExpectedSku> for ExpectedSku {
    fn from(e: client::ExpectedSku) -> Self {
        ExpectedSku {
            sku: e.sku.to_string(),
            name: e.name,
            on_shelf: e.on_shelf,
            facings: int(e.facings),
            safety_stock: e.safety_stock.map(int),
        }
    }
}

/// Where and when the device said it was.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct GeoStamp {
    pub at_ms: i64,
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: f64,
    pub mocked: bool,
}

impl From<shared_visit::GeoStamp> for GeoStamp {
    fn from(g: shared_visit::GeoStamp) -> Self {
        GeoStamp {
            at_ms: g.at.millis(),
            lat: g.position.lat(),
            lon: g.position.lon(),
            accuracy_m: g.accuracy_m,
            mocked: g.mocked,
        }
    }
}

/// A step of the routine, done or skipped with a reason.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct StepDone {
    pub step: VisitStep,
    pub at_ms: i64,
    pub by_user_id: String,
    /// `None`: done; `Some(reason)`: skipped.
    pub skipped_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct AuditLine {
    pub sku: String,
    pub location: String,
    pub facings: i32,
    pub on_shelf: bool,
    pub shelf_price_minor: Option<i64>,
    pub oldest_production_date: Option<String>,
    pub recorded_by: String,
    pub recorded_at_ms: i64,
}

/// A photo of a visit, by content hash.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Photo {
    pub sha256: String,
    pub size_bytes: i64,
    pub content_type: String,
    pub step: Option<VisitStep>,
    /// When the photo was attached to the visit (the phone's clock).
    pub taken_at_ms: i64,
    pub taken_by: String,
    /// When and where the camera says it was taken (EXIF), as read when attached; `None`: not
    /// read (attached by an older app).
    pub capture: Option<PhotoCapture>,
}

/// A photo's capture time and place, from its EXIF.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PhotoCapture {
    /// `None`: the file records no capture time (a screenshot, an edited or stripped file).
    pub at_ms: Option<i64>,
    /// `at_ms` is an instant; `false`: a wall-clock time of an unknown zone, read as UTC.
    pub zone_known: bool,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

impl From<shared_visit::PhotoCapture> for PhotoCapture {
    fn from(c: shared_visit::PhotoCapture) -> Self {
        PhotoCapture {
            at_ms: c.at.map(|t| t.millis()),
            zone_known: c.zone_known,
            lat: c.position.map(|p| p.lat()),
            lon: c.position.map(|p| p.lon()),
        }
    }
}

/// One note on a visit. The notes of visits written before notes were entries come as one
/// entry by "earlier notes" (author id: the visit's owner, time 0).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Note {
    pub by_user_id: String,
    pub by_name: String,
    pub at_ms: i64,
    pub text: String,
}

/// The supervisor's decision on a submitted visit.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Review {
    pub decision: ReviewDecision,
    pub comment: Option<String>,
    pub by_user_id: String,
    pub at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Visit {
    pub id: String,
    pub store_id: String,
    /// The person the visit belongs to.
    pub person_id: String,
    pub planned_date: String,
    pub status: VisitStatus,
    pub check_in: Option<GeoStamp>,
    pub check_out: Option<GeoStamp>,
    /// In routine order.
    pub steps: Vec<StepDone>,
    pub audit: Vec<AuditLine>,
    pub photos: Vec<Photo>,
    /// By time, then author (the same order on every device); the earlier notes first.
    pub notes: Vec<Note>,
    pub review: Option<Review>,
    /// The findings the author's phone showed during the visit, oldest first.
    pub findings: Vec<RecordedFinding>,
}

impl From<client::Visit> for Visit {
    fn from(v: client::Visit) -> Self {
        let notes: Vec<Note> = v
            .notes_in_order()
            .into_iter()
            .map(|n| Note {
                by_user_id: n.by.to_string(),
                by_name: n.by_name,
                at_ms: n.at.millis(),
                text: n.text,
            })
            .collect();
        let mut steps: Vec<StepDone> = v
            .steps
            .into_values()
            .map(|s| StepDone {
                step: s.step.into(),
                at_ms: s.at.millis(),
                by_user_id: s.by.to_string(),
                skipped_reason: s.skipped_reason.map(|r| r.to_string()),
            })
            .collect();
        steps.sort_by_key(|s| {
            shared_visit::VisitStep::ALL
                .iter()
                .position(|x| VisitStep::from(*x) == s.step)
        });
        Visit {
            id: v.id.to_string(),
            store_id: v.store_id.to_string(),
            person_id: v.person_id.to_string(),
            planned_date: v.planned_date.to_string(),
            status: v.status.into(),
            check_in: v.check_in.map(GeoStamp::from),
            check_out: v.check_out.map(GeoStamp::from),
            steps,
            audit: v
                .audit
                .into_values()
                .map(|a| AuditLine {
                    sku: a.sku.to_string(),
                    location: a.location.to_string(),
                    facings: int(a.facings),
                    on_shelf: a.on_shelf,
                    shelf_price_minor: a.shelf_price.map(|m| m.minor()),
                    oldest_production_date: a.oldest_production_date.map(|d| d.to_string()),
                    recorded_by: a.recorded_by.to_string(),
                    recorded_at_ms: a.recorded_at.millis(),
                })
                .collect(),
            photos: v
                .photos
                .into_values()
                .map(|p| Photo {
                    sha256: p.sha256.to_hex(),
                    size_bytes: long(p.size_bytes),
                    content_type: p.content_type,
                    step: p.step.map(VisitStep::from),
                    taken_at_ms: p.taken_at.millis(),
                    taken_by: p.taken_by.to_string(),
                    capture: p.capture.map(PhotoCapture::from),
                })
                .collect(),
            notes,
            review: v.review.map(|r| Review {
                decision: r.decision.into(),
                comment: r.comment.map(|c| c.to_string()),
                by_user_id: r.by.to_string(),
                at_ms: r.at.millis(),
            }),
            findings: v.findings.into_iter().map(RecordedFinding::from).collect(),
        }
    }
}

/// A photo attached to a visit: its hash and the photo rule's flags (taken outside the visit,
/// reused from another visit).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct AttachedPhoto {
    pub sha256: String,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct OrderLine {
    pub sku: String,
    pub quantity: i32,
    pub unit_price_minor: i64,
    /// `None` if the amount overflows.
    pub total_minor: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Order {
    pub id: String,
    /// `<person>-<yymmdd>-<device>-<seq>`, e.g. `R001-250301-ABCD-01`.
    pub number: String,
    pub store_id: String,
    pub person_id: String,
    pub visit_id: Option<String>,
    pub order_date: String,
    pub requested_delivery: String,
    pub payment: PaymentMethod,
    pub status: OrderStatus,
    pub lines: Vec<OrderLine>,
    pub total_minor: Option<i64>,
    pub notes: String,
    pub created_at_ms: i64,
    pub submitted_at_ms: Option<i64>,
    /// The findings the author's phone showed (its lines, its submission), oldest first.
    pub findings: Vec<RecordedFinding>,
    /// The day the store received the order (`YYYY-MM-DD`), once recorded
    /// (`record_delivery`); `None` until then.
    pub delivered_on: Option<String>,
}

impl From<client::Order> for Order {
    fn from(o: client::Order) -> Self {
        let total_minor = o.total().map(|m| m.minor());
        Order {
            id: o.id.to_string(),
            number: o.number.to_string(),
            store_id: o.store_id.to_string(),
            person_id: o.person_id.to_string(),
            visit_id: o.visit_id.map(|v| v.to_string()),
            order_date: o.order_date.to_string(),
            requested_delivery: o.requested_delivery.to_string(),
            payment: o.payment.into(),
            status: o.status.into(),
            lines: o
                .lines
                .into_values()
                .map(|l| OrderLine {
                    total_minor: l.total().map(|m| m.minor()),
                    sku: l.sku.to_string(),
                    quantity: int(l.quantity),
                    unit_price_minor: l.unit_price.minor(),
                })
                .collect(),
            total_minor,
            notes: o.notes.as_str().to_string(),
            created_at_ms: o.created_at.millis(),
            submitted_at_ms: o.submitted_at.map(|t| t.millis()),
            findings: o.findings.into_iter().map(RecordedFinding::from).collect(),
            delivered_on: o.delivery.map(|d| d.delivered_on.to_string()),
        }
    }
}

/// A document the server refused as a whole (its local data is kept).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct RefusedDoc {
    pub doc_id: String,
    pub reason: String,
    pub message: String,
}

/// An effect of this device's edit that a write policy on the server refused and undid.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct RefusedEdit {
    pub doc_id: String,
    /// The part of the document: `status`, `notes`, `audit`, ...
    pub field: String,
    /// Stable code, e.g. `visit_frozen`.
    pub code: String,
    pub message: String,
    /// When this device learned of it.
    pub at_ms: i64,
}

impl From<client::RefusedEditReport> for RefusedEdit {
    fn from(r: client::RefusedEditReport) -> Self {
        RefusedEdit {
            doc_id: r.doc_id.to_string(),
            field: r.field,
            code: r.code,
            message: r.message,
            at_ms: r.at.millis(),
        }
    }
}

/// What one sync did.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SyncReport {
    /// Request/response round trips.
    pub rounds: i32,
    pub docs_pushed: i32,
    pub changes_pushed: i32,
    pub docs_received: i32,
    pub photos_uploaded: i32,
    pub refused: Vec<RefusedDoc>,
    /// Effects of this device's edits that the server's write policies refused and undid
    /// (e.g. a note added to a visit approved meanwhile); also kept in `refused_edits()`.
    pub refused_edits: Vec<RefusedEdit>,
    /// What the server's rules found on the visits and orders this sync submitted: `held`
    /// (the submission was undone, also in `refused_edits`) or `flagged` (kept, for the
    /// supervisor).
    pub findings: Vec<ServerFinding>,
    /// The server did not know this device's position: everything was exchanged again.
    pub reset: bool,
    /// What did not go through (photos that stay queued, ...), for a log or a banner.
    pub warnings: Vec<String>,
}

impl From<client::SyncReport> for SyncReport {
    fn from(r: client::SyncReport) -> Self {
        SyncReport {
            rounds: int(r.rounds),
            docs_pushed: int(r.docs_pushed),
            changes_pushed: int(r.changes_pushed),
            docs_received: int(r.docs_received),
            photos_uploaded: int(r.photos_uploaded),
            refused: r
                .refused
                .into_iter()
                .map(|d| RefusedDoc {
                    doc_id: d.doc_id.to_string(),
                    reason: d.reason,
                    message: d.message,
                })
                .collect(),
            refused_edits: r.refused_edits.into_iter().map(RefusedEdit::from).collect(),
            findings: r.findings.into_iter().map(ServerFinding::from).collect(),
            reset: r.reset,
            warnings: r.warnings,
        }
    }
}

/// A document with changes the server has not acknowledged.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PendingDoc {
    pub doc_id: String,
    /// `visit` or `order`.
    pub kind: String,
    pub changes: i32,
}

/// Work on this device the server does not have yet ("n items waiting to sync").
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PendingUploads {
    pub documents: i32,
    pub changes: i32,
    /// Photos queued for upload.
    pub photos: i32,
    /// Photos that cannot be uploaded as they are (see `retry_failed_photos`).
    pub photos_failed: i32,
    pub docs: Vec<PendingDoc>,
}

impl From<client::Pending> for PendingUploads {
    fn from(p: client::Pending) -> Self {
        PendingUploads {
            documents: int(p.documents),
            changes: int(p.changes),
            photos: int(p.photos),
            photos_failed: int(p.photos_failed),
            docs: p
                .docs
                .into_iter()
                .map(|d| PendingDoc {
                    doc_id: d.doc_id.to_string(),
                    kind: d.kind.as_str().to_string(),
                    changes: int(d.changes),
                })
                .collect(),
        }
    }
}

/// A photo in the upload queue.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PhotoUpload {
    pub sha256: String,
    pub size_bytes: i64,
    pub content_type: String,
    pub state: PhotoState,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub thumbnail: ThumbnailState,
}

impl From<client::PhotoUpload> for PhotoUpload {
    fn from(p: client::PhotoUpload) -> Self {
        PhotoUpload {
            sha256: p.sha256.to_hex(),
            size_bytes: long(p.size_bytes),
            content_type: p.content_type,
            state: p.state.into(),
            attempts: int(p.attempts),
            last_error: p.last_error,
            thumbnail: p.thumbnail.into(),
        }
    }
}
