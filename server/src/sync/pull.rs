//! Pull: one page of what the device lacks, read from the tenant's feed after its cursor,
//! restricted to the documents of the principal's read scope (docs/read-scopes.md).
//!
//! Invariant a cursor stands for: the device has every change stored with a seq <= cursor.seq
//! of every document visible under the scope recorded for it (its own changes it already had).
//! A page therefore walks feed entries in seq order, not documents by their latest seq: cutting
//! a page after document A (latest seq 10) would otherwise skip document B's change at seq 8
//! whenever B was written again at seq 12. Entries of invisible documents are skipped in SQL;
//! a page that read every visible entry up to the feed's head (read first) ends at the head,
//! so a rep's cursor moves past other territories' writes.
//!
//! For each document first met on the page the store returns every change after the request's
//! cursor (or the whole document if compaction folded some of them into the snapshot). That
//! read happens after the feed entries were read, so it contains the changes of every later
//! entry of the same document on this page too. The page's cursor is the last entry walked.
//!
//! **Changes of scope.** Per device the store records the scope its documents reflect
//! (`device_scopes`). When the principal's scope differs, the pull first serves *change pages*:
//! the ids of documents visible before but not now (`evict`) and, whole, the documents visible
//! now but not before, in document id order, before the feed walk continues from the cursor.
//! A change page's cursor keeps the device's feed position but carries a fresh random nonce in
//! place of the mark; the device stores it with the page (one transaction) and presents it on
//! its next pull, which is how the server learns the page arrived. So a dropped response is
//! served again, and the new scope is recorded only once the device has stored every page of
//! the change. Should the scope move again while a change is half delivered, the device may
//! hold documents of both sides: evictions are then computed from the union of the scopes and
//! deliveries from their intersection.

use std::collections::HashSet;

use fieldsync_shared::document::DocKind;
use fieldsync_shared::protocol::{Cursor, DocPayload, PullPage, PullRequest};
use fieldsync_shared::values::{DeviceId, DocId, TenantId};
use serde::{Deserialize, Serialize};

use crate::auth::receipts::ReceiptKey;
use crate::http::{ApiError, ApiResult};
use crate::scope::{ReadScope, ScopeSets};
use crate::store::documents::{PulledDocument, ScopeChange, Visibility};
use crate::store::organisation::DeviceScopeRow;
use crate::store::Store;

/// Feed entries read per page. A page also ends at this many entries (`more` is set).
const FEED_ENTRIES_PER_PAGE: u32 = 2000;
/// Documents of a change of scope read per change page.
const CHANGE_ITEMS_PER_PAGE: u32 = 2000;
/// What one evicted id costs of the page budget (a CBOR uuid with its framing).
const EVICT_ID_BYTES: usize = 20;

/// The cursor of the start of the feed; always valid.
pub const START: Cursor = Cursor { seq: 0, mark: 0 };

/// Builds the page for `request` of `device`, whose user has `scope`. `max_pull_bytes` is the
/// server's cap on the page size; every document goes with its receipt signed by `receipts`.
#[tracing::instrument(skip_all, fields(%tenant, %device, cursor_seq = request.cursor.map(|c| c.seq)))]
pub async fn pull<S: Store + ?Sized>(
    store: &S,
    tenant: TenantId,
    device: DeviceId,
    scope: &ReadScope,
    request: &PullRequest,
    max_pull_bytes: u32,
    receipts: &ReceiptKey,
) -> ApiResult<PullPage> {
    let budget = request.max_bytes.min(max_pull_bytes) as usize;
    let out = Payloads { tenant, receipts };
    let current = scope.sets();
    let visible = current.visibility();
    let row = store.device_scope(tenant, device).await?;

    let Some(cursor) = request.cursor else {
        // No cursor: the device holds nothing the server sent (new, or told to reset), and the
        // walk from the start brings everything it may see. It also gets its own changes back.
        let state = DeviceState::settled(current);
        if row.as_ref() != Some(&state.row(tenant, device)?) {
            store.put_device_scope(&state.row(tenant, device)?).await?;
        }
        return walk(store, out, None, START, visible.as_ref(), budget).await;
    };

    let mut state = match row {
        Some(row) => DeviceState::from_row(row)?,
        // A device that pulled before scopes were recorded saw the whole tenant.
        None => DeviceState::unrecorded(),
    };
    let (position, mut progress) = match state.presented(cursor) {
        Presented::Offered(page) => {
            state.progress.offered = None;
            state.progress.confirmed = Some(page.clone());
            state.dirty = true;
            (page.feed_cursor(), state.progress_of(&page))
        }
        Presented::Confirmed(page) => (page.feed_cursor(), state.progress_of(&page)),
        Presented::Feed => {
            if !store.cursor_is_valid(tenant, cursor).await? {
                tracing::info!(
                    seq = cursor.seq,
                    "unknown pull cursor; asking the device to reset"
                );
                return Ok(reset_page());
            }
            (cursor, None)
        }
    };

    let target = current.fingerprint();
    match &state.progress.change {
        Some(change) if change.target.fingerprint() != target => {
            // The scope moved again before the change was delivered.
            let surely_holds = if progress.is_some() {
                state.held = state.held.union(&change.target);
                change.surely_holds.intersection(&change.target)
            } else {
                change.surely_holds.clone()
            };
            state.progress.change = Some(Change {
                surely_holds,
                target: current.clone(),
            });
            progress = None;
            state.dirty = true;
        }
        Some(_) => {}
        None if state.held.fingerprint() != target => {
            state.progress.change = Some(Change {
                surely_holds: state.held.clone(),
                target: current.clone(),
            });
            progress = None;
            state.dirty = true;
        }
        None => {}
    }

    if let Some(change) = state.progress.change.clone() {
        match change_page(store, out, &state.held, &change, progress, budget).await? {
            Some(part) => {
                let nonce = random_nonce(position.mark)?;
                tracing::info!(
                    delivered = part.docs.len(),
                    evicted = part.evict.len(),
                    "read scope changed; change page"
                );
                state.progress.offered = Some(ChangePage {
                    seq: position.seq,
                    mark: position.mark,
                    nonce,
                    target,
                    after: part.last,
                });
                store.put_device_scope(&state.row(tenant, device)?).await?;
                return Ok(PullPage {
                    docs: part.docs,
                    cursor: Cursor {
                        seq: position.seq,
                        mark: nonce,
                    },
                    more: true,
                    reset: false,
                    evict: part.evict,
                });
            }
            // Nothing (left) to deliver or evict: the device's documents reflect the scope.
            None => state.settle(current),
        }
    }
    if state.dirty {
        store.put_device_scope(&state.row(tenant, device)?).await?;
    }
    walk(store, out, Some(device), position, visible.as_ref(), budget).await
}

/// One page of the feed after `start`, of the documents `visible` (`None`: all). Changes sent
/// by `exclude_device` are left out.
async fn walk<S: Store + ?Sized>(
    store: &S,
    out: Payloads<'_>,
    exclude_device: Option<DeviceId>,
    start: Cursor,
    visible: Option<&Visibility>,
    budget: usize,
) -> ApiResult<PullPage> {
    let tenant = out.tenant;
    // The head first: every entry up to it is committed, so whatever the filtered read below
    // skips up to it is invisible to this device, and the page may end there.
    let head = store.feed_head(tenant).await?;
    let entries = store
        .feed_visible(tenant, start.seq, head.seq, FEED_ENTRIES_PER_PAGE, visible)
        .await?;
    let full = entries.len() == FEED_ENTRIES_PER_PAGE as usize;
    let mut page = PullPage {
        docs: Vec::new(),
        cursor: start,
        more: full,
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
        let pulled = store
            .pull_data(tenant, entry.doc_id, start.seq, exclude_device)
            .await?;
        let payload = out.payload(entry.doc_id, entry.kind, pulled);
        let size = payload.as_ref().map_or(0, |(_, size)| *size);
        // At least one document per page, however big, so that a page always advances.
        if !page.docs.is_empty() && used + size > budget {
            page.more = true;
            return Ok(page);
        }
        walked.insert(entry.doc_id);
        page.cursor = entry.cursor();
        if let Some((payload, size)) = payload {
            used += size;
            page.docs.push(payload);
        }
    }
    if !full && head.seq > page.cursor.seq {
        page.cursor = head;
    }
    Ok(page)
}

/// How pulled documents go out: with the receipt of their heads.
#[derive(Clone, Copy)]
struct Payloads<'a> {
    tenant: TenantId,
    receipts: &'a ReceiptKey,
}

impl Payloads<'_> {
    /// The payload of a pulled document and its size in bytes (of the data; the receipt is
    /// small and bounded); `None` when there is nothing to send.
    fn payload(
        self,
        doc_id: DocId,
        kind: DocKind,
        pulled: Option<PulledDocument>,
    ) -> Option<(DocPayload, usize)> {
        let pulled = pulled?;
        let parts = pulled.data.into_parts();
        if parts.is_empty() {
            return None;
        }
        let size = parts.iter().map(Vec::len).sum();
        let payload = DocPayload {
            doc_id,
            kind,
            data: parts.into_iter().map(Into::into).collect(),
            receipt: self.receipts.sign(self.tenant, doc_id, &pulled.heads),
        };
        Some((payload, size))
    }
}

/// What one change page carries.
struct ChangePart {
    docs: Vec<DocPayload>,
    evict: Vec<DocId>,
    /// The last document of the change on this page.
    last: DocId,
}

/// The next part of `change` after document `after`, within `budget` (at least one document);
/// `None` when nothing is left.
async fn change_page<S: Store + ?Sized>(
    store: &S,
    out: Payloads<'_>,
    held: &ScopeSets,
    change: &Change,
    after: Option<DocId>,
    budget: usize,
) -> ApiResult<Option<ChangePart>> {
    let (may_hold, surely_holds, target) = (
        held.visibility(),
        change.surely_holds.visibility(),
        change.target.visibility(),
    );
    let tenant = out.tenant;
    let items = store
        .scope_changes(
            tenant,
            ScopeChange {
                may_hold: may_hold.as_ref(),
                surely_holds: surely_holds.as_ref(),
                target: target.as_ref(),
            },
            after,
            CHANGE_ITEMS_PER_PAGE,
        )
        .await?;
    let mut docs = Vec::new();
    let mut evict = Vec::new();
    let mut last = None;
    let mut used = 0usize;
    for item in items {
        if item.gained {
            // Whole, whatever the cursor: the device never had any of it.
            let pulled = store.pull_data(tenant, item.doc_id, 0, None).await?;
            let payload = out.payload(item.doc_id, item.kind, pulled);
            let size = payload.as_ref().map_or(0, |(_, size)| *size);
            if last.is_some() && used + size > budget {
                break;
            }
            used += size;
            if let Some((payload, _)) = payload {
                docs.push(payload);
            }
        } else {
            if last.is_some() && used + EVICT_ID_BYTES > budget {
                break;
            }
            used += EVICT_ID_BYTES;
            evict.push(item.doc_id);
        }
        last = Some(item.doc_id);
    }
    Ok(last.map(|last| ChangePart { docs, evict, last }))
}

/// `device_scopes.progress`: an unfinished change of scope and the change pages handed out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Progress {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    change: Option<Change>,
    /// The last change page the device is known to have stored (it presented its cursor).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    confirmed: Option<ChangePage>,
    /// The last change page handed out, not known to have arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    offered: Option<ChangePage>,
}

/// A change of scope being delivered. The device may hold anything of the recorded (held)
/// scope and surely holds everything of `surely_holds`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Change {
    surely_holds: ScopeSets,
    target: ScopeSets,
}

/// A change page as handed out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ChangePage {
    /// The device's feed position (seq, mark) when the page was served.
    seq: i64,
    mark: i64,
    /// What the page's cursor carried instead of `mark`.
    nonce: i64,
    /// Fingerprint of the change's target.
    target: String,
    /// The last document of the change on the page: the device holds the change up to it.
    after: DocId,
}

impl ChangePage {
    fn feed_cursor(&self) -> Cursor {
        Cursor {
            seq: self.seq,
            mark: self.mark,
        }
    }
}

/// Which cursor the device presented.
enum Presented {
    /// The last change page handed out: it arrived.
    Offered(ChangePage),
    /// The change page it was known to hold already.
    Confirmed(ChangePage),
    /// A feed cursor (to be checked).
    Feed,
}

/// A device's recorded scope, being updated by one pull.
struct DeviceState {
    /// Everything the device may hold.
    held: ScopeSets,
    progress: Progress,
    /// Must be written back.
    dirty: bool,
}

impl DeviceState {
    fn settled(scope: ScopeSets) -> DeviceState {
        DeviceState {
            held: scope,
            progress: Progress::default(),
            dirty: true,
        }
    }

    fn unrecorded() -> DeviceState {
        DeviceState::settled(ScopeSets::whole_tenant())
    }

    fn from_row(row: DeviceScopeRow) -> ApiResult<DeviceState> {
        let progress = match &row.progress {
            Some(json) => serde_json::from_str(json).map_err(|e| {
                ApiError::internal(format!("device_scopes.progress does not parse: {e}"))
            })?,
            None => Progress::default(),
        };
        Ok(DeviceState {
            held: ScopeSets {
                whole_tenant: row.whole_tenant,
                stores: row.stores.into_iter().collect(),
                people: row.people.into_iter().collect(),
            },
            progress,
            dirty: false,
        })
    }

    fn row(&self, tenant: TenantId, device: DeviceId) -> ApiResult<DeviceScopeRow> {
        let progress = (self.progress != Progress::default())
            .then(|| serde_json::to_string(&self.progress))
            .transpose()
            .map_err(ApiError::internal)?;
        Ok(DeviceScopeRow {
            device_id: device,
            tenant_id: tenant,
            fingerprint: self.held.fingerprint(),
            whole_tenant: self.held.whole_tenant,
            stores: self.held.stores.iter().copied().collect(),
            people: self.held.people.iter().copied().collect(),
            progress,
        })
    }

    fn presented(&self, cursor: Cursor) -> Presented {
        let is = |p: &Option<ChangePage>| {
            p.as_ref()
                .filter(|p| p.seq == cursor.seq && p.nonce == cursor.mark)
                .cloned()
        };
        if let Some(page) = is(&self.progress.offered) {
            Presented::Offered(page)
        } else if let Some(page) = is(&self.progress.confirmed) {
            Presented::Confirmed(page)
        } else {
            Presented::Feed
        }
    }

    /// How far the device holds the current change, given the change page it holds.
    fn progress_of(&self, page: &ChangePage) -> Option<DocId> {
        self.progress
            .change
            .as_ref()
            .filter(|c| c.target.fingerprint() == page.target)
            .map(|_| page.after)
    }

    /// The change is delivered: the device's documents reflect `scope`. The confirmed page
    /// stays, so that its cursor is still recognised if the next page is lost.
    fn settle(&mut self, scope: ScopeSets) {
        self.held = scope;
        self.progress.change = None;
        self.progress.offered = None;
        self.dirty = true;
    }
}

/// A random cursor mark for a change page: non-zero and not the feed's own mark.
fn random_nonce(feed_mark: i64) -> ApiResult<i64> {
    loop {
        let n =
            getrandom::u64().map_err(|e| ApiError::internal(format!("random source: {e}")))? as i64;
        if n != 0 && n != feed_mark {
            return Ok(n);
        }
    }
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
