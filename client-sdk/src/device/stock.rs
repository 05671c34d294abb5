//! Stock counts of a visit and the order they suggest (docs/assortment.md, "Suggested
//! order"): count a SKU's units on the shelf and in the back room at the store check, read the
//! suggested lines (the shared rule `rules::suggested_order`, offline), and turn them into a
//! draft order the rep edits before presenting it.

use fieldsync_shared::order::{OrderNumber, PaymentMethod};
use fieldsync_shared::rules::{assortment, suggested_order};
use fieldsync_shared::visit::stock::StockCountProblem;
use fieldsync_shared::visit::{StockCount, Visit};
use fieldsync_shared::{Date, DocId, ParseError, Sku, Timestamp};

pub use fieldsync_shared::rules::suggested_order::SuggestedLine;

use super::visits::store_of;
use super::Device;
use crate::edits;
use crate::error::{DeviceError, Result};
use crate::store;

impl Device {
    /// Records the units of `sku` counted on the shelf and in the back room, replacing an
    /// earlier count of it on this visit.
    pub fn record_stock_count(
        &self,
        visit: DocId,
        sku: &str,
        shelf_units: u32,
        backroom_units: u32,
    ) -> Result<()> {
        let sku = Sku::parse(sku)?;
        self.edit_visit(visit, "record stock count", |_, profile, v| {
            let count = StockCount {
                sku,
                shelf_units,
                backroom_units,
                counted_by: profile.id,
                counted_at: Timestamp::now(),
            };
            v.record_stock_count(count).map_err(|p| match p {
                StockCountProblem::TooMany => ParseError::new("units", p.to_string()).into(),
                StockCountProblem::NoMap | StockCountProblem::Full => {
                    DeviceError::wrong_state(p.to_string())
                }
            })
        })
    }

    /// The visit's stock counts, by SKU.
    pub fn stock_counts(&self, visit: DocId) -> Result<Vec<StockCount>> {
        let v: Visit = edits::read(&self.db, visit)?;
        Ok(v.stock_counts.unwrap_or_default().into_values().collect())
    }

    /// What the store should order to get back to its safety stock, from this visit's counts:
    /// one line per counted SKU of the store's range below its safety stock, by SKU.
    pub fn suggested_order(&self, visit: DocId) -> Result<Vec<SuggestedLine>> {
        let v: Visit = edits::read(&self.db, visit)?;
        let conn = self.db.lock();
        let shop = store_of(&conn, &v)?;
        let range = assortment::range_of(&shop, &store::assortment(&conn)?);
        let mut products = Vec::new();
        for item in &range {
            products.extend(store::product(&conn, &item.sku)?);
        }
        let counts = v.stock_counts.unwrap_or_default();
        Ok(suggested_order::suggest(&range, &counts, |sku| {
            products.iter().find(|p| p.sku == *sku)
        }))
    }

    /// A draft order for the visit's store holding the suggested lines at list price, for the
    /// rep to edit (`set_order_line`, `remove_order_line`) before presenting it. Refused
    /// (`wrong_state`) when nothing is suggested.
    pub fn create_suggested_order(
        &self,
        visit: DocId,
        requested_delivery: Date,
        payment: PaymentMethod,
    ) -> Result<(DocId, OrderNumber)> {
        let lines = self.suggested_order(visit)?;
        if lines.is_empty() {
            return Err(DeviceError::wrong_state(
                "nothing to suggest: no counted product of the store's range is below its \
                 safety stock",
            ));
        }
        let v: Visit = edits::read(&self.db, visit)?;
        let (order, number) =
            self.create_order(v.store_id, requested_delivery, payment, Some(visit))?;
        for line in &lines {
            self.set_order_line(order, line.sku.as_str(), line.quantity, None)?;
        }
        Ok((order, number))
    }
}
