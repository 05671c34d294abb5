//! The query endpoints a supervisor's phone reads online: the server's findings on the
//! documents of its scope (`GET /v1/visits`, `/v1/orders` with `flagged=true`;
//! docs/verdicts.md).

use std::collections::BTreeMap;

use fieldsync_shared::protocol::PushFinding;
use fieldsync_shared::DocId;
use serde::Deserialize;

use super::errors::read_json;
use super::Http;
use crate::error::Result;

/// Pages read at most per listing (500 documents each): a review list is a team's day, far
/// below this; the bound keeps a runaway listing from holding the phone.
const MAX_PAGES: usize = 10;
/// The query API's largest page.
const PAGE_SIZE: u32 = 500;

#[derive(Deserialize)]
struct DocumentList {
    items: Vec<DocumentItem>,
    next: Option<String>,
}

#[derive(Deserialize)]
struct DocumentItem {
    id: DocId,
    #[serde(default)]
    findings: Vec<StoredFinding>,
}

/// A stored finding as the query API lists it (the fields the phone shows).
#[derive(Deserialize)]
struct StoredFinding {
    code: String,
    message: String,
    #[serde(default)]
    field: Option<String>,
    severity: String,
    outcome: String,
}

impl Http<'_> {
    /// The held or flagged findings of the server's verdicts on the documents of a listing
    /// (`visits`, `orders`) in `status` that this user may see, by document (documents without any are absent).
    /// Findings replayed on the phone's own data (`noted`) are left out: the document already
    /// records what the phone found.
    pub fn flagged_findings(
        &self,
        listing: &str,
        status: &str,
    ) -> Result<BTreeMap<DocId, Vec<PushFinding>>> {
        let mut out: BTreeMap<DocId, Vec<PushFinding>> = BTreeMap::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut url = self.url(&format!(
                "/v1/{listing}?flagged=true&status={status}&limit={PAGE_SIZE}"
            ));
            if let Some(cursor) = &after {
                url.push_str("&after=");
                url.push_str(&urlencode(cursor));
            }
            let mut resp = self.get(&url)?;
            let page: DocumentList = read_json(&mut resp)?;
            for item in page.items {
                let held_or_flagged = item
                    .findings
                    .into_iter()
                    .filter(|f| f.outcome != "noted")
                    .map(|f| PushFinding {
                        code: f.code,
                        message: f.message,
                        field: f.field,
                        severity: f.severity,
                        outcome: f.outcome,
                    });
                out.entry(item.id).or_default().extend(held_or_flagged);
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        out.retain(|_, findings| !findings.is_empty());
        Ok(out)
    }
}

/// Percent-encodes a query value (the cursor is opaque to the phone).
fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
