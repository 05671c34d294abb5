//! Order operations: create (with a device-generated order number), edit lines while draft,
//! submit. The write policy (who may change what, in which status) and the pricing,
//! delivery-date and credit rules run on the device before anything commits.

use std::collections::BTreeMap;

use fieldsync_shared::document::reconcile_order;
use fieldsync_shared::master::UserProfile;
use fieldsync_shared::order::{
    Delivery, Order, OrderLine, OrderNumber, OrderStatus, PaymentMethod, ORDER_SCHEMA_VERSION,
};
use fieldsync_shared::rules::pricing;
use fieldsync_shared::rules::submission::{self, OrderData, RuleSettings};
use fieldsync_shared::rules::{delivery, Verdict};
use fieldsync_shared::{Date, DocId, DocKind, Money, Sku, StoreId, Timestamp};
use rusqlite::Connection;

use super::Device;
use crate::edits;
use crate::error::{DeviceError, Result};
use crate::store;

impl Device {
    /// Creates a draft order for `store`, numbered `<person>-<yymmdd>-<device>-<seq>` with the
    /// device's per-day sequence (taken in the same transaction that creates the order, so a
    /// number is never given twice). The delivery date must respect the store's lead time.
    pub fn create_order(
        &self,
        store: StoreId,
        requested_delivery: Date,
        payment: PaymentMethod,
        visit: Option<DocId>,
    ) -> Result<(DocId, OrderNumber)> {
        let mut conn = self.db.lock();
        let profile = store::require_profile(&conn)?;
        let shop =
            store::store(&conn, store)?.ok_or_else(|| DeviceError::not_found("store", store))?;
        if let Some(v) = visit {
            edits::load_row(&conn, v, DocKind::Visit)?;
        }
        let now = Timestamp::now();
        let today = now.utc_date();
        let id = DocId::new_random();
        let device_id = self.device_id();
        let mut order = Order {
            schema: ORDER_SCHEMA_VERSION,
            id,
            // Replaced by the real number inside the transaction that takes the sequence.
            number: OrderNumber::generate(&profile.code, today, &device_id, 1),
            store_id: store,
            person_id: profile.id,
            visit_id: visit,
            order_date: today,
            requested_delivery,
            payment,
            status: OrderStatus::Draft,
            lines: Default::default(),
            notes: autosurgeon::Text::with_value(""),
            created_at: now,
            submitted_at: None,
            evaluated_against: None,
            findings: Vec::new(),
            delivery: None,
        };
        edits::authorize(&conn, &profile, None, &order)?;
        let verdict =
            delivery::check_delivery_date(today, requested_delivery, shop.delivery_lead_days);
        edits::refuse_if_blocked(&verdict)?;

        let mut doc = fieldsync_shared::document::new_document(self.db.actor().clone());
        let mut number = None;
        edits::commit(
            &mut conn,
            id,
            DocKind::Order,
            &mut doc,
            "create order",
            |tx, doc| {
                let seq = store::next_order_seq(tx, &today.to_string())?;
                let n = OrderNumber::generate(&profile.code, today, &device_id, seq);
                order.number = n.clone();
                reconcile_order(doc, &order)?;
                number = Some(n);
                Ok(())
            },
        )?;
        let number = number.ok_or_else(|| DeviceError::Document("order number not set".into()))?;
        Ok((id, number))
    }

    /// Sets the quantity (and optionally the net unit price; default: the list price) of a line
    /// of a draft order. Block findings (quantity 0, not a case multiple, below floor price,
    /// unknown product) refuse the edit; a discount beyond the signed-in user's tier (the
    /// tenant's approval tiers) is returned as NeedsApproval and sends the order to approval
    /// when it is submitted.
    pub fn set_order_line(
        &self,
        order: DocId,
        sku: &str,
        quantity: u32,
        unit_price: Option<Money>,
    ) -> Result<Verdict> {
        let sku = Sku::parse(sku)?;
        self.edit_order(order, "set order line", |conn, profile, o| {
            let product = store::product(conn, &sku)?;
            let unit_price = unit_price
                .or(product.as_ref().map(|p| p.list_price))
                .unwrap_or(Money::ZERO);
            let line = OrderLine {
                sku: sku.clone(),
                quantity,
                unit_price,
            };
            let settings = RuleSettings::with_tiers(store::approval_tiers(conn)?, profile.role);
            let verdict =
                pricing::check_line(&line, product.as_ref(), settings.discount_authority());
            let mut next = o.clone();
            next.lines.insert(sku.as_str().to_string(), line);
            edits::authorize(conn, profile, Some(o), &next)?;
            edits::refuse_if_blocked(&verdict)?;
            *o = next;
            Ok(verdict)
        })
    }

    pub fn remove_order_line(&self, order: DocId, sku: &str) -> Result<()> {
        let sku = Sku::parse(sku)?;
        self.edit_order(order, "remove order line", |_, _, o| {
            o.lines
                .remove(sku.as_str())
                .map(|_| ())
                .ok_or_else(|| DeviceError::not_found("order line", &sku))
        })
    }

    /// Submits a draft order. Every rule runs again on the final order
    /// (`submission::evaluate_order`, the call the server makes too); Block findings refuse
    /// it, NeedsApproval findings (stale credit data, a discount or an amount beyond the
    /// submitter's tier) submit it as `pending_approval`. The order records the master data it
    /// was judged against and the findings shown.
    pub fn submit_order(&self, order: DocId) -> Result<Verdict> {
        let own_orders = self.orders()?;
        self.edit_order(order, "submit order", |conn, profile, o| {
            if o.status != OrderStatus::Draft {
                return Err(DeviceError::wrong_state(format!(
                    "order {} is already {}",
                    o.number, o.status
                )));
            }
            // Who may submit: the policy, before the rules (the status it submits to does
            // not change who may).
            let mut probe = o.clone();
            probe.status = OrderStatus::Submitted;
            probe.submitted_at = Some(Timestamp::now());
            edits::authorize(conn, profile, Some(o), &probe)?;
            if o.lines.is_empty() {
                return Err(DeviceError::wrong_state("the order has no lines"));
            }
            let now = Timestamp::now();
            let shop = store::store(conn, o.store_id)?
                .ok_or_else(|| DeviceError::not_found("store", o.store_id))?;
            let mut products = BTreeMap::new();
            for line in o.lines.values() {
                if let Some(product) = store::product(conn, &line.sku)? {
                    products.insert(line.sku.as_str().to_string(), product);
                }
            }
            let snapshot = store::credit(conn, o.store_id)?;
            let open_orders = own_orders
                .iter()
                .filter(|other| {
                    other.id != o.id && other.store_id == o.store_id && is_open(other.status)
                })
                .filter_map(|other| other.total())
                .fold(Money::ZERO, |acc, t| {
                    acc.checked_add(t).unwrap_or(Money(i64::MAX))
                });
            let verdict = submission::evaluate_order(
                o,
                &OrderData {
                    store: &shop,
                    products: &products,
                    credit: snapshot.as_ref(),
                    open_orders,
                    today: now.utc_date(),
                },
                &RuleSettings::with_tiers(store::approval_tiers(conn)?, profile.role),
            );
            edits::refuse_if_blocked(&verdict)?;
            let credit_used = (o.payment == PaymentMethod::Credit)
                .then_some(snapshot.as_ref())
                .flatten()
                .map(|snap| (snap, open_orders));
            o.evaluated_against = Some(submission::basis(
                store::master_version(conn)?,
                now,
                credit_used,
            ));
            o.findings.extend(submission::shown(&verdict, now));
            if let Some(status) = submission::submitted_status(&verdict) {
                o.status = status;
            }
            o.submitted_at = Some(now);
            Ok(verdict)
        })
    }

    /// Records, offline, that the store received `order` on `delivered_on` (by the signed-in
    /// user, now): the rep confirming at the store, or their supervisor or manager. Once per
    /// order, on a submitted or approved order, dated from the order date to today; the write
    /// policy says so (`Forbidden` with its code), as the server will.
    pub fn record_delivery(&self, order: DocId, delivered_on: Date) -> Result<()> {
        self.edit_order(order, "record delivery", |_, profile, o| {
            o.delivery = Some(Delivery {
                delivered_on,
                recorded_by: profile.id,
                recorded_at: Timestamp::now(),
            });
            Ok(())
        })
    }

    pub fn order(&self, id: DocId) -> Result<Order> {
        edits::read(&self.db, id)
    }

    /// Every order on this device, newest order date first. Unreadable documents are left out.
    pub fn orders(&self) -> Result<Vec<Order>> {
        let mut orders: Vec<Order> = edits::read_all(&self.db)?;
        orders.sort_by(|a, b| (b.order_date, &b.number).cmp(&(a.order_date, &a.number)));
        Ok(orders)
    }

    /// The frame of every order edit (`edits::edit`).
    pub(super) fn edit_order<T>(
        &self,
        id: DocId,
        message: &str,
        edit: impl FnOnce(&Connection, &UserProfile, &mut Order) -> Result<T>,
    ) -> Result<T> {
        edits::edit(&self.db, id, message, edit, |_| Ok(()))
    }
}

/// Orders that count against the store's credit until invoiced.
fn is_open(status: OrderStatus) -> bool {
    matches!(
        status,
        OrderStatus::Submitted | OrderStatus::PendingApproval | OrderStatus::Approved
    )
}
