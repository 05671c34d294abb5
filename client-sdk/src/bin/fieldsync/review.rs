//! Review by supervisors and managers: deciding the submitted visits and the orders waiting
//! for approval of their team or region.

use clap::Subcommand;
use fieldsync_client::{Device, DocKind};
use serde_json::json;

use crate::error::{CliError, CliResult};
use crate::ids::{resolve, resolve_any};
use crate::output::{amount, describe_store, Out};

#[derive(Subcommand)]
pub enum ReviewCommand {
    /// Submitted visits of your team and orders waiting for your approval.
    List,
    /// Approve a submitted visit or an order waiting for approval.
    Approve {
        /// Visit or order id (or a unique prefix of it).
        id: String,
        /// A word for the author (visits only).
        #[arg(long)]
        comment: Option<String>,
    },
    /// Send a submitted visit back for rework, or reject an order waiting for approval.
    Reject {
        /// Visit or order id (or a unique prefix of it).
        id: String,
        /// What to rework (required for visits); for orders it is added to the order's notes.
        #[arg(long)]
        comment: Option<String>,
    },
    /// Managers: reopen an approved visit (it goes back to its author as rejected).
    Reopen {
        /// Visit id (or a unique prefix of it).
        id: String,
        /// Why it is reopened (required).
        #[arg(long)]
        comment: Option<String>,
    },
}

pub fn run(device: &Device, out: &Out, cmd: ReviewCommand) -> CliResult<()> {
    match cmd {
        ReviewCommand::List => {
            let visits = device.visits_awaiting_review()?;
            let orders = device.orders_awaiting_approval()?;
            out.value(&json!({"visits": visits, "orders": orders}), || {
                let mut lines: Vec<String> = visits
                    .iter()
                    .map(|v| {
                        format!(
                            "visit  {}  {}  {}",
                            v.id,
                            v.planned_date,
                            describe_store(device, v.store_id)
                        )
                    })
                    .collect();
                lines.extend(orders.iter().map(|o| {
                    format!("order  {}  {}  total {}", o.id, o.number, amount(o.total()))
                }));
                if lines.is_empty() {
                    "nothing waiting for you".into()
                } else {
                    lines.join("\n")
                }
            });
        }
        ReviewCommand::Approve { id, comment } => {
            let (kind, id) = resolve_any(device, &id)?;
            match kind {
                DocKind::Visit => device.approve_visit(id, comment.as_deref())?,
                DocKind::Order => device.approve_order(id)?,
                DocKind::Expense => device.approve_expense(id, comment.as_deref())?,
                DocKind::Plan => return Err(not_reviewed_here()),
            }
            out.value(&json!({"ok": true, "status": "approved"}), || {
                format!("{} approved", kind.as_str())
            });
        }
        ReviewCommand::Reject { id, comment } => {
            let (kind, id) = resolve_any(device, &id)?;
            let comment = comment.unwrap_or_default();
            match kind {
                DocKind::Visit => device.reject_visit(id, &comment)?,
                DocKind::Order => device.reject_order(id, &comment)?,
                DocKind::Expense => device.reject_expense(id, &comment)?,
                DocKind::Plan => return Err(not_reviewed_here()),
            }
            out.value(&json!({"ok": true, "status": "rejected"}), || {
                format!("{} rejected", kind.as_str())
            });
        }
        ReviewCommand::Reopen { id, comment } => {
            let id = resolve(device, DocKind::Visit, &id)?;
            device.reopen_visit(id, comment.as_deref().unwrap_or_default())?;
            out.value(&json!({"ok": true, "status": "rejected"}), || {
                "visit reopened: back to its author for rework".into()
            });
        }
    }
    Ok(())
}

/// Plans are reviewed from the console or the app, not from this command.
fn not_reviewed_here() -> CliError {
    CliError::Usage("plans are approved or returned from the console or the app".into())
}
