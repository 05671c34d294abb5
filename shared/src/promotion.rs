//! Promotions and display agreements (docs/promotions.md): what the chains agreed to run
//! ([`Promotion`], master data imported as CSV and delivered to the phones of the stores'
//! territories), and what a visit records of each ([`PromotionCheck`], in
//! `Visit::promotion_checks` keyed by the promotion's code). The shared rule that judges them
//! is `rules::promotion`.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::master::AssortmentScope;
use crate::values::{
    string_enum, Date, Money, PromotionCode, Sha256, ShortText, Sku, Timestamp, UserId,
};

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

string_enum!(
    /// What the merchandiser found of one promotion in the store.
    CheckStatus, "promotion check status" {
        InPlace = "in_place",
        Partly = "partly",
        NotInPlace = "not_in_place",
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

impl Promotion {
    /// Runs on `day` (both ends of the period included).
    pub fn active_on(&self, day: Date) -> bool {
        self.from <= day && day <= self.to
    }
}

/// One check of one promotion in a visit. A re-check replaces the record as a whole (its `at`
/// is the record's key, as for audit lines): two people checking the same promotion at once
/// leave one whole check, never a mix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct PromotionCheck {
    pub status: CheckStatus,
    /// Evidence: SHA-256s of photos of the visit.
    pub photos: Vec<Sha256>,
    /// The shelf price seen for the promotion's SKUs, minor units, if noted.
    pub seen_price: Option<Money>,
    pub note: Option<ShortText>,
    pub by: UserId,
    #[key]
    pub at: Timestamp,
}

/// Writes the visit's map of checks when it has one; writes nothing when it has none, so that
/// reconciling a visit read without the map never creates it (see `Visit::promotion_checks`).
pub(crate) fn reconcile_checks<R: autosurgeon::Reconciler>(
    checks: &Option<std::collections::BTreeMap<String, PromotionCheck>>,
    reconciler: R,
) -> Result<(), R::Error> {
    match checks {
        Some(checks) => checks.reconcile(reconciler),
        None => Ok(()),
    }
}

/// Every key of a visit's checks is a promotion code as [`PromotionCode::parse`] writes it.
pub(crate) fn check_codes(
    checks: &std::collections::BTreeMap<String, PromotionCheck>,
) -> Result<(), autosurgeon::HydrateError> {
    for key in checks.keys() {
        if PromotionCode::parse(key).map(|c| c.as_str() == key) != Ok(true) {
            return Err(autosurgeon::HydrateError::unexpected(
                "promotion_checks keyed by promotion code",
                format!("key {key:?}"),
            ));
        }
    }
    Ok(())
}
