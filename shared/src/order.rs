//! The order document: filed by a rep on the phone, often with no signal.

use std::collections::BTreeMap;
use std::fmt;

use autosurgeon::{Hydrate, Reconcile, Text};
use serde::{Deserialize, Serialize};

use crate::values::{
    string_enum, Date, DeviceId, DocId, Money, ParseError, PersonCode, Sku, StoreId, Timestamp,
    UserId,
};

pub const ORDER_SCHEMA_VERSION: u64 = 1;

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
        todo!("format {person}-{date}-{device}-{seq} per the doc comment")
    }
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        todo!("validate the format of {s}")
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
    #[serde(with = "crate::document::text_serde")]
    pub notes: Text,
    pub created_at: Timestamp,
    pub submitted_at: Option<Timestamp>,
}

impl Order {
    /// Sum of line totals; `None` on overflow.
    pub fn total(&self) -> Option<Money> {
        self.lines
            .values()
            .try_fold(Money::ZERO, |acc, l| acc.checked_add(l.total()?))
    }
}
