//! Supervisor actions: review submitted visits, approve orders that need it. The same write
//! policy that the server enforces runs on the device first, so a refused action fails here
//! with `Forbidden` before anything is committed.

use fieldsync_shared::Sha256;

use crate::device::{doc_id, FieldsyncDevice};
use crate::error::{FieldsyncError, Result};
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
