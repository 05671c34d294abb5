//! Annual agreements (docs/agreements.md): what a chain (in a channel) or one store agreed with
//! us for a calendar year, for fees: list SKUs, give display weeks (endcaps, floor stands),
//! shelf-position weeks and run promotions. Master data imported by CSV; the server's report
//! checks them against the year's visits (`report::agreements`). Not sent to the phones.

use serde::{Deserialize, Serialize};

use crate::master::AssortmentScope;
use crate::values::{AgreementCode, Money, Sku};

/// Earliest and latest year an agreement may be for (a typo guard, not a business rule).
pub const MIN_YEAR: i32 = 2000;
pub const MAX_YEAR: i32 = 2100;

/// One annual agreement. `scope` is one store or a chain's stores in a channel (never a whole
/// channel: a channel signs nothing). Each term is optional; an agreement has at least one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agreement {
    pub code: AgreementCode,
    pub title: String,
    pub year: i32,
    pub scope: AssortmentScope,
    /// SKUs the stores list for the year: sorted, each once (may be empty).
    pub listed_skus: Vec<Sku>,
    /// The listing fee (minor units), with listed SKUs only.
    pub listing_fee: Option<Money>,
    /// Weeks of display (endcap or floor stand) agreed in the year.
    pub display_weeks: Option<u32>,
    pub display_fee: Option<Money>,
    /// Weeks of an agreed shelf position in the year.
    pub shelf_position_weeks: Option<u32>,
    pub shelf_position_fee: Option<Money>,
    /// Promotions (price cuts, gifts) agreed in the year.
    pub promotions: Option<u32>,
    pub promotion_fee: Option<Money>,
}

impl Agreement {
    /// All its fees together (minor units, saturating).
    pub fn total_fee(&self) -> Money {
        let fees = [
            self.listing_fee,
            self.display_fee,
            self.shelf_position_fee,
            self.promotion_fee,
        ];
        Money(
            fees.iter()
                .flatten()
                .fold(0i64, |s, m| s.saturating_add(m.0)),
        )
    }
}
