//! Stock counts and the suggested order for apps (offline): count a SKU's units on the shelf
//! and in the back room, read what the store should order to reach its safety stock, and make
//! that a draft order to edit. Thin wrappers over `fieldsync_client::Device`
//! (docs/assortment.md, "Suggested order").

use fieldsync_client as client;

use crate::device::{date, doc_id, FieldsyncDevice};
use crate::error::Result;
use crate::records::{int, non_negative, Order, PaymentMethod};

/// The units of one SKU counted at a visit.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct StockCount {
    pub sku: String,
    pub shelf_units: i32,
    pub backroom_units: i32,
    /// When it was counted, milliseconds since the epoch (the phone's clock).
    pub counted_at_ms: i64,
}

impl From<fieldsync_shared::visit::StockCount> for StockCount {
    fn from(c: fieldsync_shared::visit::StockCount) -> Self {
        StockCount {
            sku: c.sku.to_string(),
            shelf_units: int(c.shelf_units),
            backroom_units: int(c.backroom_units),
            counted_at_ms: c.counted_at.millis(),
        }
    }
}

/// One line of the suggested order.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SuggestedLine {
    pub sku: String,
    /// Units agreed to be held.
    pub safety_stock: i32,
    /// Units counted on the shelf and in the back room.
    pub on_hand: i32,
    /// Units to order (whole cases when the product is sold by the case).
    pub quantity: i32,
}

impl From<client::SuggestedLine> for SuggestedLine {
    fn from(l: client::SuggestedLine) -> Self {
        SuggestedLine {
            sku: l.sku.to_string(),
            safety_stock: int(l.safety_stock),
            on_hand: int(l.on_hand),
            quantity: int(l.quantity),
        }
    }
}

#[uniffi::export]
impl FieldsyncDevice {
    /// Records the units of `sku` on the shelf and in the back room (replacing an earlier
    /// count of it on this visit). Negative units are `Invalid` (code `negative`).
    pub fn record_stock_count(
        &self,
        visit_id: String,
        sku: String,
        shelf_units: i32,
        backroom_units: i32,
    ) -> Result<()> {
        Ok(self.device.record_stock_count(
            doc_id("visit_id", &visit_id)?,
            &sku,
            non_negative("shelf_units", shelf_units)?,
            non_negative("backroom_units", backroom_units)?,
        )?)
    }

    /// The visit's stock counts, by SKU.
    pub fn stock_counts(&self, visit_id: String) -> Result<Vec<StockCount>> {
        Ok(self
            .device
            .stock_counts(doc_id("visit_id", &visit_id)?)?
            .into_iter()
            .map(StockCount::from)
            .collect())
    }

    /// What the store should order to get back to its safety stock, from the visit's counts.
    pub fn suggested_order(&self, visit_id: String) -> Result<Vec<SuggestedLine>> {
        Ok(self
            .device
            .suggested_order(doc_id("visit_id", &visit_id)?)?
            .into_iter()
            .map(SuggestedLine::from)
            .collect())
    }

    /// A draft order of the suggested lines at list price, linked to the visit, for the rep
    /// to edit. `WrongState` when nothing is suggested.
    pub fn create_suggested_order(
        &self,
        visit_id: String,
        requested_delivery: String,
        payment: PaymentMethod,
    ) -> Result<Order> {
        let (id, _) = self.device.create_suggested_order(
            doc_id("visit_id", &visit_id)?,
            date("requested_delivery", &requested_delivery)?,
            payment.into(),
        )?;
        Ok(self.device.order(id)?.into())
    }
}
