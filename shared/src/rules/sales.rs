//! Achieved sales: what a person sold in a calendar month, and how far that is towards a
//! target. One definition for the expense budget (`rules::expense`) and the target
//! achievement the server reports (`GET /v1/targets/achievement`).

use crate::order::{Order, OrderStatus};
use crate::values::{Date, Money, UserId};

/// The first and last day of `date`'s calendar month.
pub fn month_of(date: Date) -> (Date, Date) {
    use chrono::Datelike;
    let d = date.naive();
    let first = d.with_day(1).unwrap_or(d);
    let next = if first.month() == 12 {
        first
            .with_year(first.year() + 1)
            .and_then(|n| n.with_month(1))
    } else {
        first.with_month(first.month() + 1)
    };
    let last = next.and_then(|n| n.pred_opt()).unwrap_or(d);
    (Date::from_naive(first), Date::from_naive(last))
}

/// The statuses of an order that is a sale: submitted or approved (an order waiting for
/// approval, rejected or cancelled is no sale yet). SQL that selects sales binds these.
pub const SALE_STATUSES: [OrderStatus; 2] = [OrderStatus::Submitted, OrderStatus::Approved];

/// `person`'s orders that are sales in `date`'s month: dated in it, of a [`SALE_STATUSES`]
/// status.
fn month_sales<'a>(
    orders: impl IntoIterator<Item = &'a Order>,
    person: UserId,
    date: Date,
) -> impl Iterator<Item = &'a Order> {
    let (first, last) = month_of(date);
    orders
        .into_iter()
        .filter(move |o| o.person_id == person && o.order_date >= first && o.order_date <= last)
        .filter(|o| SALE_STATUSES.contains(&o.status))
}

/// `person`'s achieved sales in `date`'s month: the total of their orders that are sales in
/// it.
pub fn achieved_sales<'a>(
    orders: impl IntoIterator<Item = &'a Order>,
    person: UserId,
    date: Date,
) -> Money {
    month_sales(orders, person, date)
        .map(sale_amount)
        .fold(Money::ZERO, saturating_add)
}

/// `person`'s achieved volume in `date`'s month: the units (line quantities) of the same
/// orders as [`achieved_sales`].
pub fn achieved_volume<'a>(
    orders: impl IntoIterator<Item = &'a Order>,
    person: UserId,
    date: Date,
) -> i64 {
    month_sales(orders, person, date)
        .map(sale_units)
        .fold(0i64, i64::saturating_add)
}

/// What one order that is a sale adds to the achieved sales: its total (the largest amount
/// when it overflows). The server keeps it in the `orders` projection (`amount`), so reports
/// over many orders sum it without reading each document.
pub fn sale_amount(order: &Order) -> Money {
    order.total().unwrap_or(Money(i64::MAX))
}

/// What one order that is a sale adds to the achieved volume: its units (line quantities);
/// kept in the `orders` projection (`units`) like [`sale_amount`].
pub fn sale_units(order: &Order) -> i64 {
    order
        .lines
        .values()
        .fold(0i64, |acc, l| acc.saturating_add(i64::from(l.quantity)))
}

/// Achieved sales of several orders' [`sale_amount`]s: their sum, saturating as
/// [`achieved_sales`] does.
pub fn sum_amounts(amounts: impl IntoIterator<Item = Money>) -> Money {
    amounts.into_iter().fold(Money::ZERO, saturating_add)
}

/// Achieved sales from an exact sum of [`sale_amount`]s (wider than the money type: SQL sums
/// the `amount` the projection keeps without overflowing): the sum, or the largest amount when
/// it does not fit, as [`sum_amounts`] gives for the same (never negative) amounts.
pub fn amount_of_exact_sum(total: i128) -> Money {
    Money(i64::try_from(total).unwrap_or(i64::MAX))
}

/// Achieved volume from an exact sum of [`sale_units`]: the sum, or the largest count when it
/// does not fit, as the saturating sum of [`achieved_volume`] gives.
pub fn units_of_exact_sum(total: i128) -> i64 {
    i64::try_from(total).unwrap_or(i64::MAX)
}

/// `actual` as a share of `target`, in basis points (10000: 100 %), rounded down; `None` for
/// a target that is not positive.
pub fn achievement_bp(actual: Money, target: Money) -> Option<i64> {
    if target <= Money::ZERO {
        return None;
    }
    let bp = i128::from(actual.0.max(0)) * 10_000 / i128::from(target.0);
    Some(i64::try_from(bp).unwrap_or(i64::MAX))
}

pub(super) fn saturating_add(a: Money, b: Money) -> Money {
    a.checked_add(b).unwrap_or(Money(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn achievement_is_actual_over_target_in_basis_points() {
        assert_eq!(achievement_bp(Money(50_000), Money(40_000)), Some(12_500));
        assert_eq!(achievement_bp(Money(1), Money(3)), Some(3_333));
        assert_eq!(achievement_bp(Money(-5), Money(3)), Some(0));
        assert_eq!(achievement_bp(Money(5), Money::ZERO), None);
    }

    #[test]
    fn an_exact_sum_saturates_as_the_running_sum_does() {
        let near = [Money(i64::MAX - 1), Money(1), Money(5)];
        let exact: i128 = near.iter().map(|m| i128::from(m.0)).sum();
        assert_eq!(amount_of_exact_sum(exact), sum_amounts(near));
        assert_eq!(amount_of_exact_sum(exact), Money(i64::MAX));
        let small = [Money(7), Money(0), Money(35)];
        let exact: i128 = small.iter().map(|m| i128::from(m.0)).sum();
        assert_eq!(amount_of_exact_sum(exact), sum_amounts(small));
        assert_eq!(units_of_exact_sum(i128::from(i64::MAX) + 1), i64::MAX);
        assert_eq!(units_of_exact_sum(42), 42);
    }
}
