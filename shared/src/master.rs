//! Master data: owned by the server (admin-managed), delivered to devices read-only and
//! incrementally, and used offline by the rules. Plain serde types, not CRDT documents.

use serde::{Deserialize, Serialize};

use crate::expense::ExpenseBudget;
use crate::org::OrgView;
use crate::tiers::ApprovalTiers;
use crate::values::{
    string_enum, Date, Money, PersonCode, PictureCode, PointCode, Position, PromotionCode, Sha256,
    Sku, StoreCode, StoreId, TenantId, Timestamp, UserId,
};

/// A user's role travels in their [`UserProfile`]; the type belongs to the organisation.
pub use crate::org::Role;

/// Store channel (key-account class).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// National key account (national chains).
    Nka,
    /// Regional key account.
    Rka,
    /// Local key account.
    Lka,
    /// Non-KA supermarkets and stores.
    Other,
}

/// Customer grade, reviewed quarterly; drives minimum visit frequency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Grade {
    A,
    B,
    C,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Store {
    pub id: StoreId,
    pub code: StoreCode,
    pub name: String,
    pub channel: Channel,
    pub grade: Grade,
    pub address: String,
    pub location: Position,
    /// Check-in geofence radius around `location`, metres.
    pub geofence_radius_m: u32,
    /// Days between order date and earliest delivery date for this store.
    pub delivery_lead_days: u32,
    /// The retail chain the store belongs to (e.g. `Walmart`), if any: must-carry ranges may
    /// be agreed per chain and channel.
    #[serde(default)]
    pub chain: Option<String>,
    /// What the store could buy from us in a month (minor units), when the key-account team
    /// has estimated it: the store-opportunity report sets orders against it. Devices do not
    /// use it (an older one ignores the field).
    #[serde(default)]
    pub monthly_potential: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    pub sku: Sku,
    pub name: String,
    /// Units per case.
    pub case_pack: u32,
    /// When true, order quantities must be a multiple of `case_pack`.
    pub sold_by_case: bool,
    pub shelf_life_days: u32,
    /// List price per unit.
    pub list_price: Money,
    /// Lowest net unit price a rep may enter without approval.
    pub floor_price: Money,
}

/// Finance's view of a store's account, as of a date. Used offline, with its date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreditSnapshot {
    pub store_id: StoreId,
    pub credit_limit: Money,
    pub receivables: Money,
    pub overdue: Money,
    pub as_of: Date,
}

/// Which stores one must-carry row applies to: one store, every store of a chain in a
/// channel, or every store of a channel.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssortmentScope {
    Store(StoreId),
    Chain { chain: String, channel: Channel },
    Channel(Channel),
}

impl AssortmentScope {
    /// How specifically the scope names `store`: 2 the store itself, 1 its chain in its
    /// channel, 0 its channel; `None`: not one of its stores. The must-carry range and the
    /// promotions share it.
    pub fn level_for(&self, store: &Store) -> Option<u8> {
        match self {
            AssortmentScope::Store(id) => (*id == store.id).then_some(2),
            AssortmentScope::Chain { chain, channel } => {
                (*channel == store.channel && store.chain.as_ref() == Some(chain)).then_some(1)
            }
            AssortmentScope::Channel(c) => (*c == store.channel).then_some(0),
        }
    }
}

/// One row of the tenant's must-carry range (docs/assortment.md): the SKU must be on the
/// shelf of the stores of `scope`. A store's range is its own rows, its chain's in its channel
/// and its channel's (`rules::assortment::range_of`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssortmentRow {
    pub scope: AssortmentScope,
    pub sku: Sku,
    /// Units the store should hold of the SKU (shelf and back room), when agreed.
    #[serde(default)]
    pub safety_stock: Option<u32>,
}

string_enum!(
    /// What the chain agreed to do.
    Mechanic, "promotion mechanic" {
        /// A temporary price cut: the shelf price must not be above the promotion price.
        PriceCut = "price_cut",
        /// A gift with purchase.
        Gift = "gift",
        /// The SKUs on an end-of-aisle display.
        Endcap = "endcap",
        /// A free-standing display on the floor.
        FloorStand = "floor_stand",
        /// An agreed place on the shelf (eye level, first in the flow).
        ShelfPosition = "shelf_position",
    }
);

/// One promotion or display agreement: the stores of `scope` run `mechanic` on `skus` from
/// `from` to `to` (both days included). Scope as for the must-carry range: one store, a
/// chain's stores in a channel, or every store of a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Promotion {
    pub code: PromotionCode,
    pub title: String,
    pub from: Date,
    pub to: Date,
    pub scope: AssortmentScope,
    /// One or more, sorted, no duplicates.
    pub skus: Vec<Sku>,
    pub mechanic: Mechanic,
    /// The price the shelf must show, minor units (`price_cut` only).
    #[serde(default)]
    pub promotion_price: Option<Money>,
    /// The fee agreed with the chain, minor units, if any.
    #[serde(default)]
    pub fee: Option<Money>,
}

impl Mechanic {
    /// A display the chain agreed to give the products (endcap, floor stand, shelf position),
    /// as opposed to a promotion of the price or with a gift: reports give each its own
    /// compliance.
    pub fn is_display(self) -> bool {
        matches!(
            self,
            Mechanic::Endcap | Mechanic::FloorStand | Mechanic::ShelfPosition
        )
    }
}

impl Promotion {
    /// Runs on `day` (both ends of the period included).
    pub fn active_on(&self, day: Date) -> bool {
        self.from <= day && day <= self.to
    }
}

string_enum!(
    /// What one checklist point of a picture of success looks at.
    PointKind, "point kind" {
        /// The brand's SKUs stand together as one block on the shelf.
        ShelfBlocking = "shelf_blocking",
        /// A SKU (the point's `sku`) at eye level.
        EyeLevel = "eye_level",
        /// Every SKU has its price tag.
        PriceTag = "price_tag",
        /// Point-of-sale material (wobblers, posters, shelf strips) in place.
        PosMaterial = "pos_material",
        Other = "other",
    }
);

/// Heaviest weight of one checklist point.
pub const MAX_POINT_WEIGHT: u32 = 100;

/// One point of a picture of success's checklist (docs/picture-of-success.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuccessPoint {
    /// The point's identity within its picture: the key of the visit's score.
    pub code: PointCode,
    pub label: String,
    pub kind: PointKind,
    /// 1..=[`MAX_POINT_WEIGHT`]: the point's share of the score.
    pub weight: u32,
    /// The SKU that must be at eye level (`eye_level` points), if named.
    #[serde(default)]
    pub sku: Option<Sku>,
}

/// What the shelf of the stores of `scope` should look like: a checklist of weighted points
/// and reference photos (SHA-256s). A store's picture is the most specific one that names it
/// (`rules::success::picture_for`): its own, else its chain's in its channel, else its
/// channel's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuccessPicture {
    pub code: PictureCode,
    pub title: String,
    pub scope: AssortmentScope,
    /// One or more, in the order of the file, codes distinct.
    pub points: Vec<SuccessPoint>,
    /// Sorted, no duplicates.
    #[serde(default)]
    pub reference_photos: Vec<Sha256>,
}

/// The signed-in person as the device and the server see them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserProfile {
    pub id: UserId,
    pub tenant_id: TenantId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// Short code used in order numbers, e.g. `R001`.
    pub code: PersonCode,
}

/// One page of master data changes since a version (`GET /v1/master?since=N`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MasterDataPage {
    /// Pass back as `since` to get only what changed after this page.
    pub version: i64,
    pub stores: Vec<Store>,
    pub products: Vec<Product>,
    pub credit: Vec<CreditSnapshot>,
    pub generated_at: Timestamp,
    /// The user's place in the organisation (for write policies on the device). Sent on every
    /// page: it is small and changes when teams change, independently of `version`.
    #[serde(default)]
    pub org: Option<OrgView>,
    /// `stores` (with their `credit`) is every store of the user's read scope, whatever their
    /// version: sent after the organisation changed (a store moved to another territory, the
    /// user changed team) and on a first page. The device drops the stores it holds that are
    /// not listed (and their credit).
    #[serde(default)]
    pub stores_complete: bool,
    /// The tenant's approval tiers (discount and order amount limits per role), sent on every
    /// page like `org`; `None` from a server that has none: the defaults
    /// (`ApprovalTiers::default`).
    #[serde(default)]
    pub approval_tiers: Option<ApprovalTiers>,
    /// The tenant's monthly expense budget, sent on every page like the tiers; `None` from a
    /// server that has none: the defaults (`ExpenseBudget::default`).
    #[serde(default)]
    pub expense_budget: Option<ExpenseBudget>,
    /// The must-carry rows of the user's stores (their own rows and their channels'), all of
    /// them: the device replaces what it holds. `None` (and from an older server): unchanged
    /// since `since`.
    #[serde(default)]
    pub assortment: Option<Vec<AssortmentRow>>,
    /// The promotions and display agreements of the user's stores running now or later, all
    /// of them: the device replaces what it holds. `None` (and from an older server):
    /// unchanged since `since`.
    #[serde(default)]
    pub promotions: Option<Vec<Promotion>>,
    /// The pictures of success of the user's stores (their own, and every chain's and
    /// channel's), all of them: the device replaces what it holds. `None` (and from an older
    /// server): unchanged since `since`.
    #[serde(default)]
    pub success_pictures: Option<Vec<SuccessPicture>>,
}
