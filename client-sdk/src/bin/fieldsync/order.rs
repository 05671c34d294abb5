//! Orders: the `order` commands that take one, the `orders` listing and the text of an
//! order.

use clap::Subcommand;
use fieldsync_client::{Date, Device, DeviceError, DocKind, Money, Order, PaymentMethod};
use serde_json::json;

use crate::error::CliResult;
use crate::ids::resolve;
use crate::output::{amount, describe_store, Out};

#[derive(Subcommand)]
pub enum OrderCommand {
    /// Create a draft order; prints its id and number.
    Create {
        /// Store code, e.g. NKA-001
        #[arg(long)]
        store: String,
        /// Requested delivery date (YYYY-MM-DD).
        #[arg(long)]
        delivery: String,
        /// cash, credit or bank_transfer
        #[arg(long, default_value = "cash")]
        payment: String,
        /// The visit during which the order is taken (id or unique prefix).
        #[arg(long)]
        visit: Option<String>,
    },
    /// Set a line of a draft order (price defaults to the list price).
    Line {
        /// Order id (or a unique prefix of it).
        id: String,
        #[arg(long)]
        sku: String,
        #[arg(long)]
        qty: u32,
        /// Net unit price, e.g. 3.50
        #[arg(long)]
        price: Option<String>,
    },
    /// Remove a line of a draft order.
    RemoveLine {
        /// Order id (or a unique prefix of it).
        id: String,
        #[arg(long)]
        sku: String,
    },
    /// Submit a draft order (credit and pricing rules decide: submitted, pending approval, or refused).
    Submit {
        /// Order id (or a unique prefix of it).
        id: String,
    },
    /// Record the day the store received a submitted or approved order (once; works offline).
    Deliver {
        /// Order id (or a unique prefix of it).
        id: String,
        /// The day it was delivered (YYYY-MM-DD), from the order date to today.
        #[arg(long)]
        on: String,
    },
    /// Show an order.
    Show {
        /// Order id (or a unique prefix of it).
        id: String,
    },
}

pub fn run(device: &Device, out: &Out, cmd: OrderCommand) -> CliResult<()> {
    match cmd {
        OrderCommand::Create {
            store,
            delivery,
            payment,
            visit,
        } => {
            let store = device.store_by_code(&store)?;
            let delivery = Date::parse(&delivery).map_err(DeviceError::from)?;
            let payment =
                PaymentMethod::parse(&payment.replace('-', "_")).map_err(DeviceError::from)?;
            let visit = visit
                .map(|v| resolve(device, DocKind::Visit, &v))
                .transpose()?;
            let (id, number) = device.create_order(store.id, delivery, payment, visit)?;
            // Only the id goes to stdout, so `ORDER=$(fieldsync order create ...)` works.
            eprintln!("order number {number}");
            out.value(&json!({"id": id, "number": number}), || id.to_string());
        }
        OrderCommand::Line {
            id,
            sku,
            qty,
            price,
        } => {
            let id = resolve(device, DocKind::Order, &id)?;
            let price = price
                .as_deref()
                .map(Money::parse)
                .transpose()
                .map_err(DeviceError::from)?;
            let verdict = device.set_order_line(id, &sku, qty, price)?;
            out.verdict(&verdict, "line set");
        }
        OrderCommand::RemoveLine { id, sku } => {
            let id = resolve(device, DocKind::Order, &id)?;
            device.remove_order_line(id, &sku)?;
            out.value(&json!({"ok": true}), || "line removed".into());
        }
        OrderCommand::Submit { id } => {
            let id = resolve(device, DocKind::Order, &id)?;
            let verdict = device.submit_order(id)?;
            let order = device.order(id)?;
            if out.json {
                out.print_json(&json!({"status": order.status, "findings": verdict.findings}));
            } else {
                out.verdict(
                    &verdict,
                    &format!("order {} {}", order.number, order.status),
                );
            }
        }
        OrderCommand::Deliver { id, on } => {
            let id = resolve(device, DocKind::Order, &id)?;
            let on = Date::parse(&on).map_err(DeviceError::from)?;
            device.record_delivery(id, on)?;
            out.value(&json!({"ok": true, "delivered_on": on}), || {
                format!("delivered on {on}")
            });
        }
        OrderCommand::Show { id } => {
            let id = resolve(device, DocKind::Order, &id)?;
            let order = device.order(id)?;
            out.value(&order, || describe_order(device, &order));
        }
    }
    Ok(())
}

pub fn list(device: &Device, out: &Out) -> CliResult<()> {
    let orders = device.orders()?;
    out.value(&orders, || {
        if orders.is_empty() {
            return "no orders".into();
        }
        orders
            .iter()
            .map(|o| {
                format!(
                    "{}  {}  {}  {} lines  total {}",
                    o.id,
                    o.number,
                    o.status,
                    o.lines.len(),
                    amount(o.total())
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}

fn describe_order(device: &Device, o: &Order) -> String {
    let store = describe_store(device, o.store_id);
    let mut s = format!(
        "order {} ({})\nstatus    {}\nstore     {}\ndate      {}\ndelivery  {}\npayment   {}\n",
        o.number, o.id, o.status, store, o.order_date, o.requested_delivery, o.payment
    );
    if let Some(v) = o.visit_id {
        s.push_str(&format!("visit     {v}\n"));
    }
    if let Some(d) = &o.delivery {
        s.push_str(&format!("delivered {}\n", d.delivered_on));
    }
    s.push_str("lines:\n");
    for l in o.lines.values() {
        s.push_str(&format!(
            "  {:<14} x{:<5} @ {:>8} = {}\n",
            l.sku.as_str(),
            l.quantity,
            l.unit_price,
            amount(l.total())
        ));
    }
    s.push_str(&format!("total     {}", amount(o.total())));
    s
}
