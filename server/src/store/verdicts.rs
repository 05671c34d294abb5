//! Findings (`findings`, migration 0011): what the server's rules found on submitted documents
//! and the flags only the server can raise, each linked to the document and its heads; and the
//! reads the verdicts need (the master rows a document is judged against, with their versions;
//! a store's open orders; the other visits of a visit's photos and of its person). The SQL, the
//! same for both engines, is in `verdicts_sql`. docs/verdicts.md.

use std::collections::{BTreeMap, HashSet};

use fieldsync_shared::document::DocKind;
use fieldsync_shared::master::{AssortmentRow, CreditSnapshot, Product, Store};
use fieldsync_shared::rules::Severity;
use fieldsync_shared::tiers::ApprovalTiers;
use fieldsync_shared::{Date, DocId, Sha256, Sku, StoreId, TenantId, Timestamp, UserId};
use serde::{Deserialize, Serialize};

use super::StoreResult;

/// A master data row with the master version it was last written at.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    pub value: T,
    pub version: i64,
}

/// The master rows one document is judged against, as the server holds them now.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RuleData {
    /// The tenant's current master version.
    pub master_version: i64,
    pub store: Option<Versioned<Store>>,
    /// The products asked for that exist.
    pub products: Vec<Versioned<Product>>,
    pub credit: Option<Versioned<CreditSnapshot>>,
    /// The tenant's approval tiers (`None`: it set none, the defaults apply).
    pub approval: Option<Versioned<ApprovalTiers>>,
    /// The must-carry rows of the store and of its channel.
    pub assortment: Vec<AssortmentRow>,
    /// The promotions whose scope names the store (any period).
    pub promotions: Vec<fieldsync_shared::master::Promotion>,
    /// The pictures of success whose scope names the store.
    pub success_pictures: Vec<fieldsync_shared::master::SuccessPicture>,
}

impl RuleData {
    /// The tiers the rules apply: the tenant's, else the defaults.
    pub fn tiers(&self) -> ApprovalTiers {
        self.approval.as_ref().map(|t| t.value).unwrap_or_default()
    }
}

/// A photo attached to another visit (`photo_refs` joined with the `visits` projection).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhotoUse {
    pub sha256: Sha256,
    pub visit: DocId,
    pub store_id: StoreId,
    pub person_id: UserId,
    pub date: Date,
}

/// A customer queued for a re-check of its open orders after its credit changed
/// (`credit_rechecks`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreditRecheck {
    pub id: i64,
    pub tenant_id: TenantId,
    pub store_id: StoreId,
}

macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $wire:literal,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $variant,)* }
        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire,)* }
            }
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($wire => Some($name::$variant),)* _ => None }
            }
        }
    };
}

wire_enum!(
    /// What kind of finding a row is.
    FindingKind {
        /// A shared rule evaluated by the server at submission.
        RuleVerdict = "rule_verdict",
        /// A check only the server can make, with every device's data together.
        CrossDevice = "cross_device",
    }
);

wire_enum!(
    /// Whose data a finding was computed with.
    FindingSource {
        /// The master data the phone recorded it used (`evaluated_against`).
        DeviceBasis = "device_basis",
        /// The server's current master data.
        ServerData = "server_data",
        /// Server-only checks (cross-device flags).
        Server = "server",
    }
);

wire_enum!(
    /// What the server did about a finding.
    FindingOutcome {
        /// The submission was undone by a compensating change of the server's.
        Held = "held",
        /// The document was kept and flagged for the supervisor.
        Flagged = "flagged",
        /// Recorded only: it agrees with what the phone did.
        Noted = "noted",
    }
);

/// One stored finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingRecord {
    pub doc_id: DocId,
    pub doc_kind: DocKind,
    /// The document's heads (hex change hashes) the finding was computed at.
    pub doc_heads: Vec<String>,
    pub kind: FindingKind,
    pub source: FindingSource,
    /// `rules::RuleId::as_str`, or the name of a server-only check.
    pub rule: String,
    pub rule_version: u32,
    pub severity: Severity,
    pub code: String,
    pub message: String,
    pub field: Option<String>,
    /// The values the rule used, or the evidence of a cross-device flag.
    pub inputs: BTreeMap<String, serde_json::Value>,
    /// The master data version used (`None`: unknown).
    pub data_version: Option<i64>,
    pub outcome: FindingOutcome,
    pub created_at: Timestamp,
}

/// Findings and the reads verdicts need.
#[async_trait::async_trait]
pub trait VerdictStore: Send + Sync {
    /// The store, the products of `skus`, the store's credit snapshot and the tenant's
    /// approval tiers, with their versions, and the tenant's master version.
    async fn rule_data(
        &self,
        tenant: TenantId,
        store: StoreId,
        skus: &[Sku],
    ) -> StoreResult<RuleData>;

    /// The documents (JSON) of every rep's orders of `store` that count against its credit
    /// (submitted, pending approval, approved), except `except`.
    async fn open_orders(
        &self,
        tenant: TenantId,
        store: StoreId,
        except: DocId,
    ) -> StoreResult<Vec<String>>;

    /// Where `photos` are attached on the tenant's visits other than `except`.
    async fn photo_uses(
        &self,
        tenant: TenantId,
        photos: &[Sha256],
        except: DocId,
    ) -> StoreResult<Vec<PhotoUse>>;

    /// The documents (JSON) of `person`'s visits planned from `from` to `to` (inclusive),
    /// except `except`.
    async fn person_visits(
        &self,
        tenant: TenantId,
        person: UserId,
        from: Date,
        to: Date,
        except: DocId,
    ) -> StoreResult<Vec<String>>;

    /// Queues `stores` for a re-check of their open orders, except those already waiting.
    async fn enqueue_credit_rechecks(
        &self,
        tenant: TenantId,
        stores: &[StoreId],
        at: Timestamp,
    ) -> StoreResult<()>;

    /// Takes at most `limit` queued re-checks, oldest first, of every tenant: those waiting
    /// and those taken before `stale` (a job that stopped). Each is taken by one caller.
    async fn claim_credit_rechecks(
        &self,
        now: Timestamp,
        stale: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<CreditRecheck>>;

    /// Removes a re-check that is done.
    async fn finish_credit_recheck(&self, id: i64) -> StoreResult<()>;

    /// Appends findings (never updated).
    async fn insert_findings(
        &self,
        tenant: TenantId,
        findings: &[FindingRecord],
    ) -> StoreResult<()>;

    /// Every finding of `docs`, oldest first.
    async fn findings_of(
        &self,
        tenant: TenantId,
        docs: &[DocId],
    ) -> StoreResult<Vec<FindingRecord>>;

    /// Which of `docs` carry a finding that was held or flagged (with `code`, if given).
    async fn flagged_among(
        &self,
        tenant: TenantId,
        docs: &[DocId],
        code: Option<&str>,
    ) -> StoreResult<HashSet<DocId>>;
}
