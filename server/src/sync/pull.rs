//! Pull: one page of what the device lacks, read from the tenant's feed after its cursor.
//!
//! Invariant a cursor stands for: the device has every change stored with a seq <= cursor.seq
//! (its own changes it already had). A page therefore walks feed entries in seq order, not
//! documents by their latest seq: cutting a page after document A (latest seq 10) would
//! otherwise skip document B's change at seq 8 whenever B was written again at seq 12.
//!
//! For each document first met on the page the store returns every change after the request's
//! cursor (or the whole document if compaction folded some of them into the snapshot). That
//! read happens after the feed entries were read, so it contains the changes of every later
//! entry of the same document on this page too. The page's cursor is the last entry walked.

use std::collections::HashSet;

use fieldsync_shared::protocol::{Cursor, DocPayload, PullPage, PullRequest};
use fieldsync_shared::values::{DeviceId, TenantId};

use crate::error::ApiResult;
use crate::store::documents::DocumentStore;

/// Feed entries read per page. A page also ends at this many entries (`more` is set).
const FEED_ENTRIES_PER_PAGE: u32 = 2000;

/// The cursor of the start of the feed; always valid.
pub const START: Cursor = Cursor { seq: 0, mark: 0 };

/// Builds the page for `request`. `max_pull_bytes` is the server's cap on the page size.
#[tracing::instrument(skip_all, fields(%tenant, %device, cursor_seq = request.cursor.map(|c| c.seq)))]
pub async fn pull<S: DocumentStore + ?Sized>(
    store: &S,
    tenant: TenantId,
    device: DeviceId,
    request: &PullRequest,
    max_pull_bytes: u32,
) -> ApiResult<PullPage> {
    let start = match request.cursor {
        Some(cursor) if !store.cursor_is_valid(tenant, cursor).await? => {
            tracing::info!(
                seq = cursor.seq,
                "unknown pull cursor; asking the device to reset"
            );
            return Ok(reset_page());
        }
        Some(cursor) => cursor,
        None => START,
    };
    // A device without a cursor may have lost everything (new database): it gets its own
    // changes back too. With a cursor it still has what it sent.
    let exclude_device = request.cursor.map(|_| device);
    let budget = request.max_bytes.min(max_pull_bytes) as usize;

    let entries = store
        .feed_after(tenant, start.seq, FEED_ENTRIES_PER_PAGE)
        .await?;
    let mut page = PullPage {
        docs: Vec::new(),
        cursor: start,
        more: entries.len() == FEED_ENTRIES_PER_PAGE as usize,
        reset: false,
        evict: Vec::new(),
    };
    let mut walked = HashSet::new();
    let mut used = 0usize;
    for entry in &entries {
        if walked.contains(&entry.doc_id) {
            // Already on this page with everything up to (at least) this entry.
            page.cursor = entry.cursor();
            continue;
        }
        let parts = store
            .pull_data(tenant, entry.doc_id, start.seq, exclude_device)
            .await?
            .map(|d| d.into_parts())
            .unwrap_or_default();
        let size: usize = parts.iter().map(Vec::len).sum();
        // At least one document per page, however big, so that a page always advances.
        if !page.docs.is_empty() && used + size > budget {
            page.more = true;
            break;
        }
        walked.insert(entry.doc_id);
        page.cursor = entry.cursor();
        if !parts.is_empty() {
            used += size;
            page.docs.push(DocPayload {
                doc_id: entry.doc_id,
                kind: entry.kind,
                data: parts.into_iter().map(Into::into).collect(),
            });
        }
    }
    Ok(page)
}

/// The answer to a cursor from another feed: start over.
fn reset_page() -> PullPage {
    PullPage {
        docs: Vec::new(),
        cursor: START,
        more: false,
        reset: true,
        evict: Vec::new(),
    }
}
