//! The order document: filed by a rep on the phone, often with no signal.

use std::collections::BTreeMap;
use std::fmt;

use autosurgeon::{Hydrate, Reconcile, Text};
use serde::{Deserialize, Serialize};

use crate::evaluation::{RulesBasis, ShownFinding};
use crate::values::{
    string_enum, Date, DeviceId, DocId, Money, ParseError, PersonCode, Sku, StoreId, Timestamp,
    UserId,
};

pub const ORDER_SCHEMA_VERSION: u64 = 1;

/// RFC 4648 base32 alphabet, used for the device tag of order numbers.
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

string_enum!(
    PaymentMethod, "payment method" {
        Cash = "cash",
        /// Goods on the store's credit account (checked against the credit snapshot).
        Credit = "credit",
        BankTransfer = "bank_transfer",
    }
);

string_enum!(
    /// Order lifecycle.
    OrderStatus, "order status" {
        Draft = "draft",
        Submitted = "submitted",
        /// Submitted but a rule (stale credit data, discount beyond authority) needs a supervisor.
        PendingApproval = "pending_approval",
        Approved = "approved",
        Rejected = "rejected",
        Cancelled = "cancelled",
    }
);

/// Order number generated on the device, unique without asking the server and readable over
/// the phone: `<person code>-<yymmdd>-<device tag>-<sequence>`, e.g. `R001-261122-K7QD-03`.
/// The device tag (4 chars of the device id, base32) keeps two devices of one rep apart.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrderNumber(String);

impl OrderNumber {
    /// Builds the number for the `seq`-th order (1-based) of `person` on `date` on `device`.
    pub fn generate(person: &PersonCode, date: Date, device: &DeviceId, seq: u32) -> Self {
        OrderNumber(format!(
            "{person}-{}-{}-{seq:02}",
            date.naive().format("%y%m%d"),
            Self::device_tag(device)
        ))
    }

    /// The 4-character device tag: the first 4 characters of the RFC 4648 base32 encoding
    /// (`A-Z2-7`, no padding) of the device id's bytes, i.e. its first 20 bits.
    pub fn device_tag(device: &DeviceId) -> String {
        let b = device.as_uuid().as_bytes();
        let bits = u32::from_be_bytes([0, b[0], b[1], b[2]]);
        (0..4)
            .map(|i| BASE32[((bits >> (19 - 5 * i)) & 0x1f) as usize] as char)
            .collect()
    }

    /// Trims and upper-cases, then checks the shape `<person code>-<yymmdd>-<tag>-<seq>`:
    /// a valid [`PersonCode`] (which may itself contain `-`), a valid date, a 4-character
    /// base32 tag and a sequence number written as [`OrderNumber::generate`] writes it (at least
    /// two digits, no extra leading zeros), so one order has exactly one spelling.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let err = |reason: String| ParseError::new("order number", format!("{s:?}: {reason}"));
        let s = s.trim().to_ascii_uppercase();
        // The person code may contain '-', so split off the three fixed parts from the right.
        let mut parts = s.rsplitn(4, '-');
        let (Some(seq), Some(tag), Some(date), Some(person)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(err("expected <person>-<yymmdd>-<device tag>-<seq>".into()));
        };
        PersonCode::parse(person).map_err(|e| err(e.to_string()))?;
        if date.len() != 6
            || !date.bytes().all(|b| b.is_ascii_digit())
            || chrono::NaiveDate::parse_from_str(date, "%y%m%d").is_err()
        {
            return Err(err(format!("{date:?} is not a yymmdd date")));
        }
        if tag.len() != 4 || !tag.bytes().all(|b| BASE32.contains(&b)) {
            return Err(err(format!(
                "{tag:?} is not a 4-character base32 device tag"
            )));
        }
        let canonical_seq = seq.bytes().all(|b| b.is_ascii_digit())
            && seq.parse::<u32>().is_ok_and(|n| format!("{n:02}") == seq);
        if !canonical_seq {
            return Err(err(format!("{seq:?} is not a sequence number such as 03")));
        }
        Ok(OrderNumber(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl fmt::Display for OrderNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl TryFrom<String> for OrderNumber {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, ParseError> {
        OrderNumber::parse(&s)
    }
}
impl From<OrderNumber> for String {
    fn from(v: OrderNumber) -> String {
        v.0
    }
}
crate::values::crdt_as_string!(OrderNumber);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct OrderLine {
    pub sku: Sku,
    pub quantity: u32,
    /// Net unit price.
    pub unit_price: Money,
}

impl OrderLine {
    pub fn total(&self) -> Option<Money> {
        self.unit_price.checked_mul(self.quantity)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct Order {
    pub schema: u64,
    pub id: DocId,
    pub number: OrderNumber,
    pub store_id: StoreId,
    /// The rep who filed the order.
    pub person_id: UserId,
    /// The visit during which the order was taken, if any.
    pub visit_id: Option<DocId>,
    pub order_date: Date,
    pub requested_delivery: Date,
    pub payment: PaymentMethod,
    pub status: OrderStatus,
    /// Keyed by SKU.
    pub lines: BTreeMap<String, OrderLine>,
    #[serde(with = "crate::values::text_serde")]
    pub notes: Text,
    pub created_at: Timestamp,
    pub submitted_at: Option<Timestamp>,
    /// The master data the phone judged the order against when it submitted it; `None` for
    /// drafts and for orders written before this was recorded ("unknown").
    #[autosurgeon(missing = "Option::default")]
    #[serde(default)]
    pub evaluated_against: Option<RulesBasis>,
    /// The findings the phone showed the rep for this order, oldest first.
    #[autosurgeon(missing = "Vec::new")]
    #[serde(default)]
    pub findings: Vec<ShownFinding>,
    /// The delivery as the store received it, recorded once by the rep (or their supervisor
    /// or manager) after the fact; `None` until then, and in orders written before it was
    /// recorded (the field is then absent and reads as `None`). Which recordings are allowed:
    /// `policy::check_order`; what is on time: `rules::delivery::timeliness`.
    #[autosurgeon(missing = "Option::default")]
    #[serde(default)]
    pub delivery: Option<Delivery>,
}

/// When an order reached the store, and who said so when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct Delivery {
    /// The day the store received the goods.
    pub delivered_on: Date,
    pub recorded_by: UserId,
    /// When it was recorded (device clock); its UTC date is the latest `delivered_on` allowed.
    pub recorded_at: Timestamp,
}

crate::changed_fields::changed_fields! {
    Order {
        schema, id, number, store_id, person_id, visit_id, order_date, requested_delivery,
        payment, status, lines [by entry], notes [text], created_at, submitted_at, evaluated_against,
        findings, delivery,
    }
}

impl Order {
    /// Sum of line totals; `None` on overflow.
    pub fn total(&self) -> Option<Money> {
        self.lines
            .values()
            .try_fold(Money::ZERO, |acc, l| acc.checked_add(l.total()?))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use uuid::Uuid;

    use super::*;
    use crate::testkit::date;

    fn device(bytes: [u8; 3]) -> DeviceId {
        let mut b = [0u8; 16];
        b[..3].copy_from_slice(&bytes);
        DeviceId(Uuid::from_bytes(b))
    }

    fn r001() -> PersonCode {
        PersonCode::parse("R001").unwrap()
    }

    #[test]
    fn device_tag_is_rfc4648_base32_of_the_first_bits() {
        // RFC 4648 test vector: base32("foo") = "MZXW6===".
        assert_eq!(OrderNumber::device_tag(&device(*b"foo")), "MZXW");
        assert_eq!(OrderNumber::device_tag(&device([0, 0, 0])), "AAAA");
        assert_eq!(OrderNumber::device_tag(&device([0xff, 0xff, 0xff])), "7777");
    }

    #[test]
    fn generate_formats_person_date_tag_and_sequence() {
        let n = OrderNumber::generate(&r001(), date("2026-11-22"), &device(*b"foo"), 3);
        assert_eq!(n.as_str(), "R001-261122-MZXW-03");
        let n = OrderNumber::generate(&r001(), date("2030-01-05"), &device(*b"foo"), 123);
        assert_eq!(n.as_str(), "R001-300105-MZXW-123");
    }

    #[test]
    fn generate_and_parse_round_trip() {
        let dev = DeviceId::new_random();
        for person in ["R001", "KA-NORTH-7", "A"] {
            for seq in [1, 9, 10, 99, 100, u32::MAX] {
                let person = PersonCode::parse(person).unwrap();
                let n = OrderNumber::generate(&person, date("2026-02-28"), &dev, seq);
                assert_eq!(OrderNumber::parse(n.as_str()), Ok(n.clone()));
                let json = serde_json::to_string(&n).unwrap();
                assert_eq!(serde_json::from_str::<OrderNumber>(&json).unwrap(), n);
            }
        }
    }

    #[test]
    fn parse_normalises_case_and_whitespace() {
        let n = OrderNumber::parse("  r001-261122-k7qd-03 ").unwrap();
        assert_eq!(n.as_str(), "R001-261122-K7QD-03");
    }

    #[test]
    fn same_person_same_day_on_two_devices_gets_different_numbers() {
        // Devices whose ids differ anywhere in the first 20 bits get different numbers.
        let numbers: HashSet<OrderNumber> = (0..1u32 << 20)
            .step_by(97)
            .map(|bits| {
                let [_, a, b, c] = (bits << 4).to_be_bytes();
                OrderNumber::generate(&r001(), date("2026-11-22"), &device([a, b, c]), 1)
            })
            .collect();
        assert_eq!(numbers.len(), (1usize << 20).div_ceil(97));
        // Ids differing only after bit 20 share a tag (2^-20 chance for random v4 ids).
        let a = OrderNumber::generate(&r001(), date("2026-11-22"), &device([1, 2, 0x30]), 1);
        let b = OrderNumber::generate(&r001(), date("2026-11-22"), &device([1, 2, 0x3f]), 1);
        assert_eq!(a, b);
    }

    #[test]
    fn parse_refuses_malformed_numbers() {
        for s in [
            "",
            "R001",
            "R001-261122-K7QD",
            "261122-K7QD-03",
            "-261122-K7QD-03",
            "R 01-261122-K7QD-03",
            "TOOLONGPERSONCODE-261122-K7QD-03",
            "R001-26112-K7QD-03",
            "R001-2611220-K7QD-03",
            "R001-261322-K7QD-03",
            "R001-260230-K7QD-03",
            "R001-26112A-K7QD-03",
            "R001-261122-K7Q-03",
            "R001-261122-K7QDX-03",
            "R001-261122-K7Q1-03",
            "R001-261122-K7Q8-03",
            "R001-261122-K7QD-3",
            "R001-261122-K7QD-003",
            "R001-261122-K7QD-+3",
            "R001-261122-K7QD-",
            "R001-261122-K7QD-99999999999",
        ] {
            assert_eq!(
                OrderNumber::parse(s).unwrap_err().field,
                "order number",
                "{s:?}"
            );
        }
    }

    #[test]
    fn line_and_order_totals() {
        let mut order = crate::testkit::order();
        order
            .lines
            .insert("A".into(), crate::testkit::order_line("A", 24, "3.50"));
        order
            .lines
            .insert("B".into(), crate::testkit::order_line("B", 2, "0.25"));
        assert_eq!(order.total(), Some(Money(8450)));
        order.lines.insert(
            "C".into(),
            OrderLine {
                sku: Sku::parse("C").unwrap(),
                quantity: 2,
                unit_price: Money(i64::MAX),
            },
        );
        assert_eq!(order.total(), None);
    }
}
