//! What supervisors and managers do on their phones: review their team's submitted visits
//! (approve, or reject with a comment), reopen an approved visit (managers), and decide orders
//! waiting for approval. Each decision is an ordinary edit of the document and goes through
//! the same write policy as every other edit (`fieldsync_shared::policy`): the device refuses
//! what the server would refuse.
//!
//! The review lists ([`Device::visits_to_review`], [`Device::orders_to_approve`]) show why a
//! document may be suspicious before it is approved: the findings its author's phone showed
//! (kept in the document, offline) and the findings of the server's rules (read online).

use std::collections::BTreeMap;

use fieldsync_shared::master::UserProfile;
use fieldsync_shared::order::{Order, OrderStatus};
use fieldsync_shared::visit::{Review, ReviewDecision, Visit, VisitStatus};
use fieldsync_shared::{DocId, ShortText, Timestamp};

use super::Device;
use crate::error::Result;
use crate::sync::FindingReport;

/// A document of a review list with the server's findings on it. The findings its author's
/// phone showed are in the document itself (`findings`).
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewItem<T> {
    pub document: T,
    /// The server's held or flagged findings (docs/verdicts.md); `None` when the server could
    /// not be asked (offline, signed out, a server error): the list still shows, from the
    /// device.
    pub server_findings: Option<Vec<FindingReport>>,
}

impl Device {
    /// Submitted visits of the people this user supervises, oldest planned date first.
    pub fn visits_awaiting_review(&self) -> Result<Vec<Visit>> {
        let org = self.org_view()?;
        Ok(self
            .visits()?
            .into_iter()
            .filter(|v| {
                v.status == VisitStatus::Submitted && org.team_members.contains(&v.person_id)
            })
            .collect())
    }

    /// [`Device::visits_awaiting_review`], each with the server's findings (one request; see
    /// [`ReviewItem`]).
    pub fn visits_to_review(&self) -> Result<Vec<ReviewItem<Visit>>> {
        let visits = self.visits_awaiting_review()?;
        let server = self.server_findings("visits", VisitStatus::Submitted.as_str());
        Ok(with_findings(visits, |v| v.id, server))
    }

    /// Approves a submitted visit of a team member (supervisors), with an optional comment.
    pub fn approve_visit(&self, visit: DocId, comment: Option<&str>) -> Result<()> {
        self.decide_visit(
            visit,
            VisitStatus::Approved,
            comment.unwrap_or(""),
            "approve visit",
        )
    }

    /// Sends a submitted visit back to its author for rework (supervisors). The comment says
    /// what to rework; the policy refuses a rejection without one (`comment_required`).
    pub fn reject_visit(&self, visit: DocId, comment: &str) -> Result<()> {
        self.decide_visit(visit, VisitStatus::Rejected, comment, "reject visit")
    }

    /// Reopens an approved visit (region managers): it goes back to its author as rejected,
    /// with the manager's review and comment (required).
    pub fn reopen_visit(&self, visit: DocId, comment: &str) -> Result<()> {
        self.decide_visit(visit, VisitStatus::Rejected, comment, "reopen visit")
    }

    /// Orders of this user's team (supervisors) or region (managers) waiting for approval,
    /// newest first.
    pub fn orders_awaiting_approval(&self) -> Result<Vec<Order>> {
        let org = self.org_view()?;
        Ok(self
            .orders()?
            .into_iter()
            .filter(|o| {
                o.status == OrderStatus::PendingApproval
                    && (org.team_members.contains(&o.person_id)
                        || org.region_members.contains(&o.person_id))
            })
            .collect())
    }

    /// [`Device::orders_awaiting_approval`], each with the server's findings (one request; see
    /// [`ReviewItem`]).
    pub fn orders_to_approve(&self) -> Result<Vec<ReviewItem<Order>>> {
        let orders = self.orders_awaiting_approval()?;
        let server = self.server_findings("orders", OrderStatus::PendingApproval.as_str());
        Ok(with_findings(orders, |o| o.id, server))
    }

    /// The server's findings on a listing's documents in `status`; `None` if it cannot be
    /// asked now (the review list does not depend on the network).
    fn server_findings(
        &self,
        listing: &str,
        status: &str,
    ) -> Option<BTreeMap<DocId, Vec<FindingReport>>> {
        let found = self
            .session_http()
            .and_then(|http| http.flagged_findings(listing, status));
        match found {
            Ok(by_doc) => Some(
                by_doc
                    .into_iter()
                    .map(|(id, findings)| (id, FindingReport::from_push(id, findings)))
                    .collect(),
            ),
            Err(_) => None,
        }
    }

    /// Approves an order waiting for approval.
    pub fn approve_order(&self, order: DocId) -> Result<()> {
        self.edit_order(order, "approve order", |_, _, o| {
            o.status = OrderStatus::Approved;
            Ok(())
        })
    }

    /// Rejects an order waiting for approval. Orders have no review field: a non-empty
    /// comment is appended to the order's notes as a line `Rejected by <name>: <comment>`, so
    /// the rep reads why (the policy lets the approver append, never rewrite, notes together
    /// with their decision).
    pub fn reject_order(&self, order: DocId, comment: &str) -> Result<()> {
        let comment = comment.trim();
        self.edit_order(order, "reject order", |_, profile, o| {
            o.status = OrderStatus::Rejected;
            if !comment.is_empty() {
                let existing = o.notes.as_str();
                let line = format!("Rejected by {}: {comment}", signature(profile));
                let insert = if existing.is_empty() || existing.ends_with('\n') {
                    line
                } else {
                    format!("\n{line}")
                };
                let end = existing.len();
                o.notes.splice(end, 0, insert);
            }
            Ok(())
        })
    }

    /// Sets the visit's status and the editor's review in one edit. A blank comment is no
    /// comment: whether one is required is the policy's call.
    fn decide_visit(
        &self,
        visit: DocId,
        status: VisitStatus,
        comment: &str,
        message: &str,
    ) -> Result<()> {
        let comment = match comment.trim() {
            "" => None,
            text => Some(ShortText::parse(text)?),
        };
        let decision = match status {
            VisitStatus::Approved => ReviewDecision::Approved,
            _ => ReviewDecision::Rejected,
        };
        self.edit_visit(visit, message, |_, profile, v| {
            v.status = status;
            v.review = Some(Review {
                decision,
                comment,
                by: profile.id,
                at: Timestamp::now(),
            });
            Ok(())
        })
    }
}

/// Pairs each document with its findings from `server` (none listed: none found).
fn with_findings<T>(
    documents: Vec<T>,
    id: impl Fn(&T) -> DocId,
    server: Option<BTreeMap<DocId, Vec<FindingReport>>>,
) -> Vec<ReviewItem<T>> {
    documents
        .into_iter()
        .map(|document| {
            let server_findings = server
                .as_ref()
                .map(|by_doc| by_doc.get(&id(&document)).cloned().unwrap_or_default());
            ReviewItem {
                document,
                server_findings,
            }
        })
        .collect()
}

fn signature(profile: &UserProfile) -> &str {
    if profile.display_name.trim().is_empty() {
        &profile.username
    } else {
        &profile.display_name
    }
}
