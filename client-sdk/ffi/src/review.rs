//! Supervisor actions: review submitted visits, approve orders that need it. The same write
//! policy that the server enforces runs on the device first, so a refused action fails here
//! with `Forbidden` before anything is committed.

use fieldsync_client as client;
use fieldsync_shared::Sha256;

use crate::device::{doc_id, FieldsyncDevice};
use crate::error::{FieldsyncError, Result};
use crate::findings::ServerFinding;
use crate::records::{Order, Visit};
use crate::worker::off_thread;

#[uniffi::export]
impl FieldsyncDevice {
    /// The thumbnail of a photo of a visit (a JPEG of at most 256 px on its longer side), as
    /// the server has it (network): the one the photographer's phone sent first while the full
    /// photo is on its way, the server's once it is stored. `NotFound` if there is none yet,
    /// or the photo is not one this user may see. Async (`suspend` in Kotlin).
    pub async fn photo_thumbnail(&self, sha256: String) -> Result<Vec<u8>> {
        let sha = Sha256::parse(sha256.trim())?;
        let device = self.device.clone();
        off_thread("thumbnail", move || Ok(device.photo_thumbnail(&sha)?)).await
    }

    /// Submitted visits this user may review (team supervisor), oldest first.
    pub fn visits_awaiting_review(&self) -> Result<Vec<Visit>> {
        Ok(self
            .device
            .visits_awaiting_review()?
            .into_iter()
            .map(Visit::from)
            .collect())
    }

    /// [`Self::visits_awaiting_review`], each with why it may be suspicious: the findings its
    /// author's phone showed (`visit.findings`) and the server's (one request; `None` when
    /// offline). Async (`suspend` in Kotlin).
    pub async fn visits_to_review(&self) -> Result<Vec<VisitForReview>> {
        let device = self.device.clone();
        off_thread("review list", move || {
            Ok(device
                .visits_to_review()?
                .into_iter()
                .map(VisitForReview::from)
                .collect())
        })
        .await
    }

    /// Approves a submitted visit, with an optional comment. Syncs with the next sync.
    #[uniffi::method(default(comment = None))]
    pub fn approve_visit(&self, visit_id: String, comment: Option<String>) -> Result<()> {
        Ok(self
            .device
            .approve_visit(doc_id("visit_id", &visit_id)?, comment.as_deref())?)
    }

    /// Rejects a submitted visit; the comment (required) tells its author what to redo.
    pub fn reject_visit(&self, visit_id: String, comment: String) -> Result<()> {
        Ok(self
            .device
            .reject_visit(doc_id("visit_id", &visit_id)?, &comment)?)
    }

    /// Reopens an approved visit for rework (region manager).
    pub fn reopen_visit(&self, visit_id: String, comment: String) -> Result<()> {
        Ok(self
            .device
            .reopen_visit(doc_id("visit_id", &visit_id)?, &comment)?)
    }

    /// Orders waiting for this user's approval (`pending_approval`).
    pub fn orders_awaiting_approval(&self) -> Result<Vec<Order>> {
        Ok(self
            .device
            .orders_awaiting_approval()?
            .into_iter()
            .map(Order::from)
            .collect())
    }

    /// [`Self::orders_awaiting_approval`], each with the findings its author's phone showed
    /// (`order.findings`) and the server's (one request; `None` when offline). Async.
    pub async fn orders_to_approve(&self) -> Result<Vec<OrderForApproval>> {
        let device = self.device.clone();
        off_thread("approval list", move || {
            Ok(device
                .orders_to_approve()?
                .into_iter()
                .map(OrderForApproval::from)
                .collect())
        })
        .await
    }

    pub fn approve_order(&self, order_id: String) -> Result<()> {
        Ok(self.device.approve_order(doc_id("order_id", &order_id)?)?)
    }

    /// Rejects an order waiting for approval. The comment tells the rep why: a blank one is
    /// `Invalid` (field `comment`, code `required`), nothing committed.
    pub fn reject_order(&self, order_id: String, comment: String) -> Result<()> {
        if comment.trim().is_empty() {
            return Err(FieldsyncError::required("comment"));
        }
        Ok(self
            .device
            .reject_order(doc_id("order_id", &order_id)?, &comment)?)
    }
}

// ---------------------------------------------------------------------------------------------
// review lists

fn server_findings(findings: Option<Vec<client::FindingReport>>) -> Option<Vec<ServerFinding>> {
    findings.map(|f| f.into_iter().map(ServerFinding::from).collect())
}

/// A submitted visit to review, with why it may be suspicious: `visit.findings` (what its
/// author's phone showed) and the server's findings.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct VisitForReview {
    pub visit: Visit,
    /// `None`: the server could not be asked (offline, signed out, server error).
    pub server_findings: Option<Vec<ServerFinding>>,
}

impl From<client::ReviewItem<client::Visit>> for VisitForReview {
    fn from(item: client::ReviewItem<client::Visit>) -> Self {
        VisitForReview {
            visit: item.document.into(),
            server_findings: server_findings(item.server_findings),
        }
    }
}

/// An order waiting for approval, with `order.findings` (what its author's phone showed) and
/// the server's findings.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct OrderForApproval {
    pub order: Order,
    /// `None`: the server could not be asked (offline, signed out, server error).
    pub server_findings: Option<Vec<ServerFinding>>,
}

impl From<client::ReviewItem<client::Order>> for OrderForApproval {
    fn from(item: client::ReviewItem<client::Order>) -> Self {
        OrderForApproval {
            order: item.document.into(),
            server_findings: server_findings(item.server_findings),
        }
    }
}
