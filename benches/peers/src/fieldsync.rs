//! Fieldsync through its real sync protocol, as the device SDK speaks it (docs/protocol.md):
//! log in with the device's registration (id and actor), push the day's changes in one
//! `POST /v1/sync` (CBOR, gzip above 1 KiB both ways), and read everything back through the
//! pull of another device.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use automerge::AutoCommit;
use fieldsync_shared::document::load_document;
use fieldsync_shared::protocol::{
    self, Cursor, DocPush, PullRequest, PushResult, SyncRequest, SyncResponse, PROTOCOL_VERSION,
    SYNC_CONTENT_TYPE,
};
use fieldsync_shared::{DeviceId, DocId};
use serde_bytes::ByteBuf;

use crate::servers::fieldsync_login;
use crate::workload::Device;

const GZIP_THRESHOLD: usize = 1024;
const PULL_PAGE_BYTES: u32 = 4 << 20;

pub struct Session {
    agent: ureq::Agent,
    base: String,
    token: String,
    device_id: DeviceId,
}

/// What one push answered.
#[derive(Debug, Default, Clone, Copy)]
pub struct PushTally {
    pub stored: usize,
    /// Documents the server's rules held or flagged (stored, with the server's finding).
    pub with_findings: usize,
    pub errors: usize,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(600)))
        .http_status_as_error(false)
        .build()
        .into()
}

/// Signs `device_id` with `actor_hex` in as the demo rep through `addr`.
pub fn login(addr: SocketAddr, device_id: DeviceId, actor_hex: &str) -> Result<Session, String> {
    let agent = agent();
    let base = format!("http://{addr}");
    let (tenant, username, password) = fieldsync_login();
    let body = serde_json::json!({
        "tenant": tenant, "username": username, "password": password,
        "device": {"device_id": device_id, "actor_id": actor_hex,
                   "name": "bench phone", "platform": "android"},
    });
    let mut resp = agent
        .post(&format!("{base}/v1/auth/login"))
        .send_json(&body)
        .map_err(|e| format!("login: {e}"))?;
    let status = resp.status();
    let answer: serde_json::Value = resp
        .body_mut()
        .read_json()
        .map_err(|e| format!("login answer: {e}"))?;
    let token = answer["access_token"]
        .as_str()
        .ok_or_else(|| format!("login {status}: {answer}"))?
        .to_string();
    Ok(Session {
        agent,
        base,
        token,
        device_id,
    })
}

impl Session {
    pub fn for_device(addr: SocketAddr, device: &Device) -> Result<Session, String> {
        login(addr, device.device_id, &device.actor.to_hex_string())
    }

    /// One sync exchange.
    fn sync(&self, request: &SyncRequest) -> Result<SyncResponse, String> {
        let body = protocol::encode(request);
        let gzipped = body.len() > GZIP_THRESHOLD;
        let body = if gzipped { protocol::gzip(&body) } else { body };
        let mut builder = self
            .agent
            .post(&format!("{}/v1/sync", self.base))
            .header("Authorization", &format!("Bearer {}", self.token))
            .header("Content-Type", SYNC_CONTENT_TYPE)
            .header("Accept-Encoding", "gzip");
        if gzipped {
            builder = builder.header("Content-Encoding", "gzip");
        }
        let mut resp = builder.send(&body[..]).map_err(|e| format!("sync: {e}"))?;
        let status = resp.status();
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(256 << 20)
            .read_to_vec()
            .map_err(|e| format!("sync answer: {e}"))?;
        if !status.is_success() {
            return Err(format!(
                "sync {status}: {}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
            ));
        }
        protocol::decode(&bytes).map_err(|e| format!("sync answer: {e}"))
    }

    /// Pushes the device's day in one exchange (push only, as a device's first sync of the day
    /// does before it pulls).
    pub fn push_day(&self, device: &Device) -> PushTally {
        let request = SyncRequest {
            protocol: PROTOCOL_VERSION,
            device_id: self.device_id,
            push: device
                .docs
                .iter()
                .map(|d| DocPush {
                    doc_id: d.id,
                    kind: d.kind.as_str().to_string(),
                    changes: d.changes.iter().map(|c| ByteBuf::from(c.clone())).collect(),
                    receipt: None,
                })
                .collect(),
            pull: None,
        };
        let mut tally = PushTally::default();
        match self.sync(&request) {
            Ok(response) => {
                for outcome in &response.outcomes {
                    match &outcome.result {
                        PushResult::Stored { findings, .. } => {
                            tally.stored += 1;
                            tally.with_findings += usize::from(!findings.is_empty());
                        }
                        other => {
                            eprintln!("fieldsync: {}: {other:?}", outcome.doc_id);
                            tally.errors += 1;
                        }
                    }
                }
                tally.errors += device.docs.len().saturating_sub(response.outcomes.len());
            }
            Err(e) => {
                eprintln!("fieldsync: {e}");
                tally.errors = device.docs.len();
            }
        }
        tally
    }

    /// Pulls every page from `cursor`; the documents and the cursor at the end.
    pub fn pull_all(
        &self,
        mut cursor: Option<Cursor>,
        docs: &mut HashMap<DocId, AutoCommit>,
    ) -> Result<Option<Cursor>, String> {
        loop {
            let request = SyncRequest {
                protocol: PROTOCOL_VERSION,
                device_id: self.device_id,
                push: Vec::new(),
                pull: Some(PullRequest {
                    cursor,
                    max_bytes: PULL_PAGE_BYTES,
                }),
            };
            let page = self.sync(&request)?.pull.ok_or("no pull page")?;
            for payload in page.docs {
                for data in payload.data {
                    let loaded = match docs.get_mut(&payload.doc_id) {
                        Some(doc) => doc
                            .load_incremental(&data)
                            .map(drop)
                            .map_err(|e| e.to_string()),
                        None => load_document(&data)
                            .map(|doc| drop(docs.insert(payload.doc_id, doc)))
                            .map_err(|e| e.to_string()),
                    };
                    loaded.map_err(|e| format!("pulled {}: {e}", payload.doc_id))?;
                }
            }
            cursor = Some(page.cursor);
            if !page.more {
                return Ok(cursor);
            }
        }
    }
}
