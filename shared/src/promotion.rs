//! What a visit records of the promotions and display agreements running at its store
//! (docs/promotions.md): a [`PromotionCheck`] per promotion, in `Visit::promotion_checks` keyed
//! by the promotion's code. The promotions themselves are master data
//! (`master::Promotion`); the shared rule that judges them is `rules::promotion`.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::values::{string_enum, Money, PromotionCode, Sha256, ShortText, Timestamp, UserId};

string_enum!(
    /// What the merchandiser found of one promotion in the store.
    CheckStatus, "promotion check status" {
        InPlace = "in_place",
        Partly = "partly",
        NotInPlace = "not_in_place",
    }
);

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
