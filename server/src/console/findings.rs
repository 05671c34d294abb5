//! What a visit is flagged for: from what its document holds, the shared rules' geofence
//! (outside the fence, mock location) and freshness findings and shelf prices below the
//! price-list floor; and the server's verdicts recorded at submission (`verdicts`, among
//! them the must-carry SKUs missing from the shelf). The
//! console shows them; it decides nothing with them.

use fieldsync_shared::master::Store;
use fieldsync_shared::rules::{
    assortment, freshness, geofence, promotion, success, Finding, RuleId, Severity,
};
use fieldsync_shared::values::Date;
use fieldsync_shared::visit::{AuditLine, GeoStamp, Visit};

use std::collections::HashMap;

use fieldsync_shared::values::{DocId, TenantId};

use super::directory::Directory;
use super::error::ConsoleResult;
use crate::state::AppState;
use crate::store::verdicts::{FindingOutcome, FindingRecord};

/// The flags the visit queue filters by, with their labels: the document's own findings and
/// the server's checks across devices.
pub const FLAGS: &[(&str, &str)] = &[
    ("outside_geofence", "Outside geofence 不在范围"),
    ("mock_location", "Mock location 虚拟定位"),
    ("stale_stock", "Stale stock 货龄超标"),
    (SHELF_PRICE_BELOW_FLOOR, "Price below floor 价格低于底价"),
    ("photo_reused", "Photo reused 照片重复使用"),
    ("photo_near_duplicate", "Near-duplicate photo 疑似重复照片"),
    (
        "photo_taken_outside_visit",
        "Photo not taken in the visit 照片非现场拍摄",
    ),
    (
        "photo_capture_time_unknown",
        "Photo time unknown 拍摄时间未知",
    ),
    ("impossible_travel", "Impossible travel 行程速度异常"),
    ("visit_too_short", "Visit too short 拜访时间过短"),
    ("overlapping_visit", "Overlapping visits 拜访时间重叠"),
    (assortment::MISSING, "Must-carry SKU missing 必备品缺货"),
    (promotion::NOT_IN_PLACE, "Promotion not in place 促销未执行"),
    (promotion::NOT_CHECKED, "Promotion not checked 促销未检查"),
    (
        promotion::PRICE_MISMATCH,
        "Promotion price not on shelf 促销价不符",
    ),
    (
        success::POINT_MISSED,
        "Picture of success point missed 成功图像未达标",
    ),
    (
        success::NOT_SCORED,
        "Picture of success not scored 成功图像未评分",
    ),
];

/// Labels of the other codes the console shows (orders' findings, visits' other findings).
const OTHER_LABELS: &[(&str, &str)] = &[
    (
        "photo_outside_visit",
        "Photo outside the visit's time 照片不在拜访时段",
    ),
    ("photos_missing", "Photos missing 缺少照片"),
    ("step_missing", "Step missing 缺少步骤"),
    ("order_duplicate", "Duplicate order 重复订单"),
    (
        "credit_combined",
        "Combined credit over limit 合计超信用额度",
    ),
    ("credit_limit_exceeded", "Credit limit exceeded 超信用额度"),
    ("overdue_receivables", "Overdue receivables 有逾期欠款"),
    (
        "credit_snapshot_stale",
        "Credit data out of date 信用数据过期",
    ),
    ("credit_unknown", "Credit unknown 信用未知"),
    (
        "discount_beyond_authority",
        "Discount beyond authority 折扣超权限",
    ),
    (
        "order_amount_needs_approval",
        "Amount needs approval 金额需审批",
    ),
    ("price_below_floor", "Price below floor 价格低于底价"),
    ("quantity_not_case_multiple", "Not whole cases 非整箱"),
    ("delivery_too_early", "Delivery too early 交货日期过早"),
];

/// The code of an audit line whose shelf price is below the product's floor price.
pub const SHELF_PRICE_BELOW_FLOOR: &str = "shelf_price_below_floor";

/// The label of a finding's code.
pub fn label(code: &str) -> &str {
    FLAGS
        .iter()
        .chain(OTHER_LABELS)
        .find(|(c, _)| *c == code)
        .map_or(code, |(_, label)| label)
}

/// Every finding of a visit, check-in and check-out first, then its audit lines.
pub fn of_visit(visit: &Visit, directory: &Directory) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let Some(store) = directory.store(visit.store_id) {
        for stamp in [&visit.check_in, &visit.check_out].into_iter().flatten() {
            findings.extend(of_stamp(store, stamp));
        }
    }
    for line in visit.audit.values() {
        findings.extend(of_line(line, audit_date(visit), directory));
    }
    findings
}

/// Findings of one check-in or check-out fix.
pub fn of_stamp(store: &Store, stamp: &GeoStamp) -> Vec<Finding> {
    geofence::check_position(store, stamp, geofence::GeofenceTolerance::default()).findings
}

/// Findings of one audit line: freshness, and a shelf price below the floor.
pub fn of_line(line: &AuditLine, audit_date: Date, directory: &Directory) -> Vec<Finding> {
    let Some(product) = directory.product(&line.sku) else {
        return Vec::new();
    };
    let mut findings = freshness::check_line(line, product, audit_date).findings;
    if let Some(price) = line.shelf_price {
        if price < product.floor_price {
            findings.push(
                Finding::new(
                    RuleId::Pricing,
                    Severity::Flag,
                    SHELF_PRICE_BELOW_FLOOR,
                    format!(
                        "{} on {} is priced {price}, below the floor price {}",
                        line.sku, line.location, product.floor_price
                    ),
                )
                .field(format!("audit.{}.shelf_price", line.key())),
            );
        }
    }
    findings
}

/// The day the audit was taken: the check-in's, else the planned date.
pub fn audit_date(visit: &Visit) -> Date {
    visit
        .check_in
        .as_ref()
        .and_then(|c| {
            chrono::DateTime::from_timestamp_millis(c.at.millis())
                .and_then(|d| Date::parse(&d.format("%Y-%m-%d").to_string()).ok())
        })
        .unwrap_or(visit.planned_date)
}

/// Metres from the store's geofence centre to the check-in (`None` without either).
pub fn check_in_distance_m(visit: &Visit, directory: &Directory) -> Option<f64> {
    let store = directory.store(visit.store_id)?;
    let stamp = visit.check_in.as_ref()?;
    Some(store.location.distance_m(&stamp.position))
}

/// The server's verdicts on `docs` (`verdicts`: the shared rules run at submission, and the
/// server-only checks) that held or flagged something, one per code, by document.
pub async fn server_verdicts(
    state: &AppState,
    tenant: TenantId,
    docs: &[DocId],
) -> ConsoleResult<HashMap<DocId, Vec<FindingRecord>>> {
    let mut by_doc: HashMap<DocId, Vec<FindingRecord>> = HashMap::new();
    if docs.is_empty() {
        return Ok(by_doc);
    }
    for f in state.store.findings_of(tenant, docs).await? {
        if f.outcome == FindingOutcome::Noted {
            continue;
        }
        let list = by_doc.entry(f.doc_id).or_default();
        // Oldest first: a later finding of the same code replaces the earlier one.
        list.retain(|g| g.code != f.code);
        list.push(f);
    }
    Ok(by_doc)
}

/// The codes a visit is flagged with: its document's findings and the server's verdicts.
pub fn codes<'a>(local: &'a [Finding], server: &'a [FindingRecord]) -> Vec<(&'a str, &'a str)> {
    let mut codes: Vec<(&str, &str)> = local
        .iter()
        .map(|f| (f.code.as_str(), f.message.as_str()))
        .collect();
    for f in server {
        if !codes.iter().any(|(c, _)| *c == f.code) {
            codes.push((f.code.as_str(), f.message.as_str()));
        }
    }
    codes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdicts::cross_device::{credit, duplicates, photos, travel};

    #[test]
    fn the_server_checks_codes_have_labels_in_both_languages() {
        for code in [
            photos::PHOTO_REUSED,
            crate::photos::similarity::flags::CODE,
            travel::IMPOSSIBLE_TRAVEL,
            travel::VISIT_TOO_SHORT,
            travel::OVERLAPPING_VISIT,
            duplicates::ORDER_DUPLICATE,
            credit::CREDIT_COMBINED,
            "photo_taken_outside_visit",
            "photo_capture_time_unknown",
            assortment::MISSING,
            promotion::NOT_IN_PLACE,
            promotion::NOT_CHECKED,
            promotion::PRICE_MISMATCH,
            success::POINT_MISSED,
            success::NOT_SCORED,
        ] {
            let label = label(code);
            assert_ne!(label, code, "{code} has no label");
            assert!(
                label
                    .chars()
                    .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "{code}: {label} has no Chinese"
            );
        }
        assert_eq!(label("no_such_code"), "no_such_code");
    }
}
