//! The sync wire protocol (see docs/protocol.md for the prose).
//!
//! One `POST /v1/sync` carries a [`SyncRequest`] and returns a [`SyncResponse`], both CBOR
//! (RFC 8949) with raw Automerge change bytes as CBOR byte strings, optionally gzip-compressed
//! (`Content-Encoding: gzip`). The protocol is correct under retries and loss:
//!
//! * pushing a change the server already has is a no-op (changes are identified by hash);
//! * a change whose dependencies the server lacks is answered [`PushResult::MissingDeps`] and the
//!   device re-sends the document's whole history;
//! * the pull cursor carries a random mark; a cursor the server does not recognise (server
//!   restored from a backup, or another server) is answered with `reset`, and the device re-sends
//!   and re-pulls everything.

use std::io::Read;

use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;
use thiserror::Error;

use crate::document::DocKind;
use crate::values::{DeviceId, DocId};

/// Version of this protocol. A server refuses requests with another major version.
pub const PROTOCOL_VERSION: u16 = 1;
/// Media type of sync requests and responses.
pub const SYNC_CONTENT_TYPE: &str = "application/vnd.fieldsync.sync+cbor";

/// Size and count limits. The server enforces them and refuses a request that exceeds any one
/// with a 4xx naming the limit; the device splits its backlog to stay within them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Body bytes as sent (after compression).
    pub max_body_bytes: usize,
    /// Body bytes after decompression.
    pub max_decoded_bytes: usize,
    /// Documents pushed in one request.
    pub max_docs_per_request: usize,
    /// Changes pushed for one document in one request.
    pub max_changes_per_doc: usize,
    /// Bytes of one Automerge change.
    pub max_change_bytes: usize,
    /// Upper bound the server applies to a pull page, whatever the device asks for.
    pub max_pull_bytes: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 8 * 1024 * 1024,
            max_decoded_bytes: 32 * 1024 * 1024,
            max_docs_per_request: 500,
            max_changes_per_doc: 10_000,
            max_change_bytes: 4 * 1024 * 1024,
            max_pull_bytes: 4 * 1024 * 1024,
        }
    }
}

/// Device -> server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncRequest {
    pub protocol: u16,
    /// The sending device (its installation id).
    pub device_id: DeviceId,
    /// Documents with changes the server may not have yet.
    pub push: Vec<DocPush>,
    /// `None`: push only.
    pub pull: Option<PullRequest>,
}

/// Changes of one document. `kind` is the [`DocKind`] wire name; an unknown kind refuses the
/// whole request (`unknown_document_kind`) rather than storing something no one can read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocPush {
    pub doc_id: DocId,
    pub kind: String,
    /// Raw Automerge changes (`Change::raw_bytes`), in causal order where possible.
    pub changes: Vec<ByteBuf>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullRequest {
    /// Where the previous pull ended; `None` on a fresh device (pull everything visible).
    pub cursor: Option<Cursor>,
    /// Soft limit for the page size; the server also caps it at [`Limits::max_pull_bytes`].
    pub max_bytes: u32,
}

/// An opaque position in the server's feed. `mark` detects a feed the server no longer has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub seq: i64,
    pub mark: i64,
}

/// Server -> device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncResponse {
    pub protocol: u16,
    /// Exactly one per pushed document, in request order.
    pub outcomes: Vec<DocOutcome>,
    pub pull: Option<PullPage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocOutcome {
    pub doc_id: DocId,
    pub result: PushResult,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum PushResult {
    /// Durably stored (committed) before this response was sent. `new_changes` counts the
    /// changes the server did not have; 0 for a replay.
    Stored { new_changes: u32 },
    /// The server lacks changes these depend on (it lost them, or never got them): send the
    /// document's whole history.
    MissingDeps,
    /// The document was refused as a whole; nothing of it was stored. Not retryable as is.
    Refused { reason: String, message: String },
}

/// One page of what the device lacks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullPage {
    pub docs: Vec<DocPayload>,
    /// Cursor to send next time.
    pub cursor: Cursor,
    /// More pages are waiting: pull again right away.
    pub more: bool,
    /// The device's cursor was not recognised: forget what the server acknowledged, push every
    /// document's whole history, and pull from the start (`cursor: None`).
    pub reset: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocPayload {
    pub doc_id: DocId,
    pub kind: DocKind,
    /// Raw Automerge changes, or whole saved documents (`Automerge::save`): both are loaded
    /// with `load_incremental`, which accepts either.
    pub data: Vec<ByteBuf>,
}

/// Machine-readable reasons for refusing a whole request or a document; the HTTP error body's
/// `reason` field.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProtocolError {
    #[error("the body is not a valid sync message: {0}")]
    Malformed(String),
    #[error("protocol version {got} is not supported (server speaks {PROTOCOL_VERSION})")]
    UnsupportedVersion { got: u16 },
    #[error("unknown document kind {0:?}")]
    UnknownDocumentKind(String),
    #[error("limit exceeded: {limit} (max {max})")]
    LimitExceeded { limit: &'static str, max: usize },
    #[error("document {0} appears twice in one request")]
    DuplicateDocument(DocId),
    #[error("unsupported content encoding {0:?}")]
    UnsupportedEncoding(String),
}

impl ProtocolError {
    /// Stable snake_case reason code.
    pub fn reason(&self) -> &'static str {
        match self {
            ProtocolError::Malformed(_) => "malformed_body",
            ProtocolError::UnsupportedVersion { .. } => "unsupported_protocol_version",
            ProtocolError::UnknownDocumentKind(_) => "unknown_document_kind",
            ProtocolError::LimitExceeded { .. } => "limit_exceeded",
            ProtocolError::DuplicateDocument(_) => "duplicate_document",
            ProtocolError::UnsupportedEncoding(_) => "unsupported_content_encoding",
        }
    }
}

/// Encodes any protocol message as CBOR.
pub fn encode<T: Serialize>(msg: &T) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(msg, &mut out).expect("writing CBOR into a Vec cannot fail");
    out
}

/// Decodes a CBOR message, refusing trailing bytes.
pub fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, ProtocolError> {
    let mut reader = bytes;
    let value = ciborium::from_reader(&mut reader)
        .map_err(|e| ProtocolError::Malformed(e.to_string()))?;
    if !reader.is_empty() {
        return Err(ProtocolError::Malformed(format!("{} trailing bytes", reader.len())));
    }
    Ok(value)
}

/// Gzip-compresses a body.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).expect("writing into a Vec cannot fail");
    enc.finish().expect("writing into a Vec cannot fail")
}

/// Decompresses a gzip body, refusing more than `max` decompressed bytes (zip bombs).
pub fn gunzip(bytes: &[u8], max: usize) -> Result<Vec<u8>, ProtocolError> {
    let mut out = Vec::new();
    let mut dec = flate2::read::GzDecoder::new(bytes).take(max as u64 + 1);
    dec.read_to_end(&mut out)
        .map_err(|e| ProtocolError::Malformed(format!("gzip: {e}")))?;
    if out.len() > max {
        return Err(ProtocolError::LimitExceeded { limit: "max_decoded_bytes", max });
    }
    Ok(out)
}

/// Decodes and checks a request against `limits`: version, kinds, counts, sizes, duplicates.
/// Either the whole request is acceptable or nothing of it is.
pub fn decode_request(body: &[u8], limits: &Limits) -> Result<SyncRequest, ProtocolError> {
    if body.len() > limits.max_decoded_bytes {
        return Err(ProtocolError::LimitExceeded { limit: "max_decoded_bytes", max: limits.max_decoded_bytes });
    }
    let req: SyncRequest = decode(body)?;
    req.check(limits)?;
    Ok(req)
}

impl SyncRequest {
    /// Checks the limits and invariants that [`decode_request`] enforces.
    pub fn check(&self, limits: &Limits) -> Result<(), ProtocolError> {
        if self.protocol != PROTOCOL_VERSION {
            return Err(ProtocolError::UnsupportedVersion { got: self.protocol });
        }
        if self.push.len() > limits.max_docs_per_request {
            return Err(ProtocolError::LimitExceeded {
                limit: "max_docs_per_request",
                max: limits.max_docs_per_request,
            });
        }
        let mut seen = std::collections::HashSet::with_capacity(self.push.len());
        for doc in &self.push {
            if DocKind::parse(&doc.kind).is_none() {
                return Err(ProtocolError::UnknownDocumentKind(doc.kind.clone()));
            }
            if !seen.insert(doc.doc_id) {
                return Err(ProtocolError::DuplicateDocument(doc.doc_id));
            }
            if doc.changes.len() > limits.max_changes_per_doc {
                return Err(ProtocolError::LimitExceeded {
                    limit: "max_changes_per_doc",
                    max: limits.max_changes_per_doc,
                });
            }
            if doc.changes.iter().any(|c| c.len() > limits.max_change_bytes) {
                return Err(ProtocolError::LimitExceeded {
                    limit: "max_change_bytes",
                    max: limits.max_change_bytes,
                });
            }
        }
        Ok(())
    }
}
