//! The sync endpoints: master data pages (JSON) and `POST /v1/sync` (CBOR, gzip both ways).

use fieldsync_shared::master::MasterDataPage;
use fieldsync_shared::protocol::{self, SyncRequest, SyncResponse, SYNC_CONTENT_TYPE};

use super::errors::{bad_response, check, read_bytes, read_json, MAX_RESPONSE_BYTES};
use super::overload::{self, Answer, OverloadWaits};
use super::Http;
use crate::error::Result;

/// Bodies above this size are gzip-compressed before sending.
const GZIP_THRESHOLD: usize = 1024;

impl Http<'_> {
    pub fn master(&self, since: i64) -> Result<MasterDataPage> {
        let url = self.url(&format!("/v1/master?since={since}"));
        let mut resp = self.get(&url)?;
        read_json(&mut resp)
    }

    pub fn sync(&self, req: &SyncRequest) -> Result<SyncResponse> {
        let body = protocol::encode(req);
        let gzipped = body.len() > GZIP_THRESHOLD;
        let body = if gzipped { protocol::gzip(&body) } else { body };
        let url = self.url("/v1/sync");
        let mut waits = OverloadWaits::new();
        let mut resp = loop {
            let resp = self.authed_unchecked(|auth| {
                let mut builder = self
                    .agent
                    .post(&url)
                    .header("Authorization", auth)
                    .header("Content-Type", SYNC_CONTENT_TYPE)
                    .header("Accept-Encoding", "gzip");
                if gzipped {
                    builder = builder.header("Content-Encoding", "gzip");
                }
                builder.send(&body[..])
            })?;
            match overload::answer(resp) {
                Answer::Other(resp) => break check(resp)?,
                // Refused before any work: sending it again is safe.
                Answer::Overloaded { after, error } => match waits.next(after) {
                    Some(delay) => std::thread::sleep(delay),
                    None => return Err(error),
                },
            }
        };
        // ureq's gzip feature decodes `Content-Encoding: gzip` itself and removes the header;
        // if the header is still there, the body was left encoded and we decode it here.
        let still_gzipped = resp
            .headers()
            .get("content-encoding")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
        let bytes = read_bytes(&mut resp)?;
        let bytes = if still_gzipped {
            protocol::gunzip(&bytes, MAX_RESPONSE_BYTES as usize)
                .map_err(|e| bad_response(e.to_string()))?
        } else {
            bytes
        };
        protocol::decode(&bytes).map_err(|e| bad_response(e.to_string()))
    }
}
