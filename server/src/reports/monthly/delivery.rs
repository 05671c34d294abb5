//! The monthly report's order on-time delivery (docs/reports.md): per person, the sales due in
//! the month (sold orders whose requested delivery falls in it) by their recorded delivery,
//! counted in SQL from the `orders` projection (`DeliveryStore::delivery_counts`); what is on
//! time is `rules::delivery::is_on_time`. The on-time rate is over the due orders with a
//! recorded delivery: an order nobody recorded yet is neither on time nor late.

use std::collections::HashMap;

use fieldsync_shared::rules::sales;
use fieldsync_shared::values::{Money, TenantId, UserId};
use serde::Serialize;

use super::sale_statuses;
use crate::http::ApiResult;
use crate::reports::xlsx::Cell;
use crate::state::AppState;
use crate::targets::Period;

/// One person's (or a sum of people's) orders due in a month, by delivery.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Deliveries {
    pub due: i64,
    pub on_time: i64,
    pub late: i64,
}

impl Deliveries {
    pub fn plus(self, o: Deliveries) -> Deliveries {
        Deliveries {
            due: self.due.saturating_add(o.due),
            on_time: self.on_time.saturating_add(o.on_time),
            late: self.late.saturating_add(o.late),
        }
    }
    /// Due orders whose delivery nobody has recorded yet.
    pub fn not_recorded(&self) -> i64 {
        (self.due - self.on_time - self.late).max(0)
    }
    /// On time over the due orders with a recorded delivery (on time + late), basis points,
    /// rounded down; `None` when none is recorded.
    pub fn on_time_bp(&self) -> Option<i64> {
        let recorded = self.on_time.saturating_add(self.late);
        sales::achievement_bp(Money(self.on_time), Money(recorded))
    }
    pub fn figures(&self) -> DeliveryFigures {
        DeliveryFigures {
            due_orders: self.due,
            delivered_on_time: self.on_time,
            delivered_late: self.late,
            not_recorded: self.not_recorded(),
            on_time_bp: self.on_time_bp(),
        }
    }
}

/// Order on-time delivery of one line of the report, in its month.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DeliveryFigures {
    /// Sold orders (submitted or approved) whose requested delivery falls in the month.
    pub due_orders: i64,
    /// Of those, delivered on or before the requested day.
    pub delivered_on_time: i64,
    /// Delivered after the requested day.
    pub delivered_late: i64,
    /// With no delivery recorded yet.
    pub not_recorded: i64,
    /// `delivered_on_time` over `delivered_on_time + delivered_late` (the due orders with a
    /// recorded delivery), basis points, rounded down; `None` when none is recorded.
    pub on_time_bp: Option<i64>,
}

/// Each of `people`'s deliveries due in `month` (people with none are absent).
pub async fn month_deliveries(
    state: &AppState,
    tenant: TenantId,
    people: &[UserId],
    month: &Period,
) -> ApiResult<HashMap<UserId, Deliveries>> {
    if people.is_empty() {
        return Ok(HashMap::new());
    }
    let counts = state
        .store
        .delivery_counts(tenant, people, month.start(), month.end(), &sale_statuses())
        .await?;
    Ok(counts
        .into_iter()
        .map(|c| {
            let d = Deliveries {
                due: c.due,
                on_time: c.on_time,
                late: c.late,
            };
            (c.person_id, d)
        })
        .collect())
}

/// The CSV columns, after the others.
pub const CSV_COLUMNS: &str = "due_orders,delivered_on_time,delivered_late,delivery_not_recorded,on_time_bp,last_month_on_time_bp,last_year_on_time_bp";

/// The XLSX columns, after the others.
pub const XLSX_COLUMNS: [&str; 7] = [
    "due_orders",
    "delivered_on_time",
    "delivered_late",
    "delivery_not_recorded",
    "on_time_pct",
    "last_month_on_time_pct",
    "last_year_on_time_pct",
];

fn opt(v: Option<i64>) -> String {
    v.map_or(String::new(), |v| v.to_string())
}

/// The CSV fields of a line: `XLSX_COLUMNS`' figures, rates in basis points.
pub fn csv_fields(
    d: &DeliveryFigures,
    last_month: Option<i64>,
    last_year: Option<i64>,
) -> [String; 7] {
    [
        d.due_orders.to_string(),
        d.delivered_on_time.to_string(),
        d.delivered_late.to_string(),
        d.not_recorded.to_string(),
        opt(d.on_time_bp),
        opt(last_month),
        opt(last_year),
    ]
}

/// The workbook cells of a line, rates in percent.
pub fn cells(d: &DeliveryFigures, last_month: Option<i64>, last_year: Option<i64>) -> [Cell; 7] {
    let pct = |bp: Option<i64>| bp.map_or(Cell::Empty, |bp| Cell::Number(bp as f64 / 100.0));
    [
        Cell::Number(d.due_orders as f64),
        Cell::Number(d.delivered_on_time as f64),
        Cell::Number(d.delivered_late as f64),
        Cell::Number(d.not_recorded as f64),
        pct(d.on_time_bp),
        pct(last_month),
        pct(last_year),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_is_over_the_recorded_deliveries() {
        let d = Deliveries {
            due: 5,
            on_time: 2,
            late: 1,
        };
        assert_eq!(d.not_recorded(), 2);
        // 2 of the 3 recorded, rounded down; the 2 unrecorded are not in it.
        assert_eq!(d.on_time_bp(), Some(6_666));
        let nothing_recorded = Deliveries {
            due: 4,
            ..Default::default()
        };
        assert_eq!(nothing_recorded.on_time_bp(), None);
        assert_eq!(nothing_recorded.not_recorded(), 4);
        let sum = d.plus(Deliveries {
            due: 1,
            on_time: 1,
            late: 0,
        });
        assert_eq!((sum.due, sum.on_time, sum.late), (6, 3, 1));
        assert_eq!(sum.on_time_bp(), Some(7_500));
    }
}
