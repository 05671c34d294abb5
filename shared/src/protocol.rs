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
    /// The last [`Receipt`] the server sent with this document, when the changes include
    /// other actors' (a push after a cursor reset resends the whole history): the server takes
    /// back the changes the receipt's heads reach, whoever made them. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<Receipt>,
}

/// The server's signature on a document's heads: it held the document with these heads, so
/// every change they reach was accepted. Opaque to the device, which keeps the last one per
/// document and returns it with a push that resends others' changes (docs/protocol.md,
/// "Receipts").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// Change hashes, 32 bytes each.
    pub heads: Vec<ByteBuf>,
    /// 32 bytes.
    pub mac: ByteBuf,
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
    ///
    /// `refused_edits`: effects of the pushed changes that a write policy refused; the server
    /// stored the changes and a compensating change of its own that undoes those effects (it
    /// reaches the device with the pull). Empty when everything was allowed.
    ///
    /// `findings`: what the server's rules found when the push submitted the document (or
    /// changed a submitted order) and what it did about each: `held` (the submission was
    /// undone by a compensating change of the server's, like a refused edit) or `flagged`
    /// (kept, for the supervisor). Absent when empty; older devices ignore it.
    Stored {
        new_changes: u32,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        refused_edits: Vec<RefusedEdit>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        findings: Vec<PushFinding>,
    },
    /// The server lacks changes these depend on (it lost them, or never got them): send the
    /// document's whole history.
    MissingDeps,
    /// The document was refused as a whole; nothing of it was stored. Not retryable as is.
    Refused { reason: String, message: String },
}

impl PushResult {
    /// `Stored` with nothing refused.
    pub fn stored(new_changes: u32) -> Self {
        PushResult::Stored {
            new_changes,
            refused_edits: Vec::new(),
            findings: Vec::new(),
        }
    }
}

/// A finding of the server's rules on a pushed document, as the device shows it to the rep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushFinding {
    /// Stable rule code, e.g. `overdue_receivables`.
    pub code: String,
    pub message: String,
    /// The field it is about, e.g. `lines.COLA-330.quantity`.
    #[serde(default)]
    pub field: Option<String>,
    /// `flag`, `needs_approval` or `block`.
    pub severity: String,
    /// `held` or `flagged`.
    pub outcome: String,
}

/// One effect of a push that a write policy refused (see `crate::policy`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedEdit {
    /// `crate::policy::Field` wire name, e.g. `status`, `audit`.
    pub field: String,
    /// Stable code, e.g. `visit_frozen`.
    pub code: String,
    pub message: String,
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
    /// Documents this device may no longer hold (its user lost access: a store moved to
    /// another territory, the user changed team): delete the local copies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evict: Vec<DocId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocPayload {
    pub doc_id: DocId,
    pub kind: DocKind,
    /// Raw Automerge changes, or whole saved documents (`Automerge::save`): both are loaded
    /// with `load_incremental`, which accepts either.
    pub data: Vec<ByteBuf>,
    /// The server's receipt for the document's heads as of its last write; absent when the
    /// server does not know them (a document not written since receipts exist).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<Receipt>,
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
    let value =
        ciborium::from_reader(&mut reader).map_err(|e| ProtocolError::Malformed(e.to_string()))?;
    if !reader.is_empty() {
        return Err(ProtocolError::Malformed(format!(
            "{} trailing bytes",
            reader.len()
        )));
    }
    Ok(value)
}

/// Gzip-compresses a body.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes)
        .expect("writing into a Vec cannot fail");
    enc.finish().expect("writing into a Vec cannot fail")
}

/// Decompresses a gzip body, refusing more than `max` decompressed bytes (zip bombs).
pub fn gunzip(bytes: &[u8], max: usize) -> Result<Vec<u8>, ProtocolError> {
    let mut out = Vec::new();
    let mut dec = flate2::read::GzDecoder::new(bytes).take(max as u64 + 1);
    dec.read_to_end(&mut out)
        .map_err(|e| ProtocolError::Malformed(format!("gzip: {e}")))?;
    if out.len() > max {
        return Err(ProtocolError::LimitExceeded {
            limit: "max_decoded_bytes",
            max,
        });
    }
    Ok(out)
}

/// Decodes and checks a request against `limits`: version, kinds, counts, sizes, duplicates.
/// Either the whole request is acceptable or nothing of it is.
pub fn decode_request(body: &[u8], limits: &Limits) -> Result<SyncRequest, ProtocolError> {
    if body.len() > limits.max_decoded_bytes {
        return Err(ProtocolError::LimitExceeded {
            limit: "max_decoded_bytes",
            max: limits.max_decoded_bytes,
        });
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
            if doc
                .changes
                .iter()
                .any(|c| c.len() > limits.max_change_bytes)
            {
                return Err(ProtocolError::LimitExceeded {
                    limit: "max_change_bytes",
                    max: limits.max_change_bytes,
                });
            }
            if let Some(receipt) = &doc.receipt {
                receipt.check()?;
            }
        }
        Ok(())
    }
}

/// Most heads a receipt may name (a document has one head unless edits are concurrent).
pub const MAX_RECEIPT_HEADS: usize = 64;

impl Receipt {
    /// Its shape: 1 to [`MAX_RECEIPT_HEADS`] heads of 32 bytes and a 32-byte MAC. Whether
    /// the server signed it is the server's check.
    pub fn check(&self) -> Result<(), ProtocolError> {
        if self.heads.len() > MAX_RECEIPT_HEADS {
            return Err(ProtocolError::LimitExceeded {
                limit: "max_receipt_heads",
                max: MAX_RECEIPT_HEADS,
            });
        }
        if self.heads.is_empty() || self.heads.iter().any(|h| h.len() != 32) || self.mac.len() != 32
        {
            return Err(ProtocolError::Malformed(
                "a receipt has 1 or more heads of 32 bytes and a MAC of 32 bytes".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(kind: &str, changes: Vec<Vec<u8>>) -> DocPush {
        DocPush {
            doc_id: DocId::new_random(),
            kind: kind.into(),
            changes: changes.into_iter().map(ByteBuf::from).collect(),
            receipt: None,
        }
    }

    fn request(push: Vec<DocPush>) -> SyncRequest {
        SyncRequest {
            protocol: PROTOCOL_VERSION,
            device_id: DeviceId::new_random(),
            push,
            pull: Some(PullRequest {
                cursor: Some(Cursor { seq: 42, mark: -7 }),
                max_bytes: 1 << 20,
            }),
        }
    }

    fn small_limits() -> Limits {
        Limits {
            max_docs_per_request: 2,
            max_changes_per_doc: 3,
            max_change_bytes: 8,
            max_decoded_bytes: 4096,
            ..Limits::default()
        }
    }

    #[test]
    fn request_round_trips_through_cbor_and_gzip() {
        let req = request(vec![
            push("visit", vec![vec![1, 2, 3], vec![]]),
            push("order", vec![vec![0xff; 100]]),
        ]);
        let bytes = encode(&req);
        assert_eq!(decode_request(&bytes, &Limits::default()), Ok(req.clone()));
        let unzipped = gunzip(&gzip(&bytes), Limits::default().max_decoded_bytes).unwrap();
        assert_eq!(decode_request(&unzipped, &Limits::default()), Ok(req));
    }

    #[test]
    fn changes_are_cbor_byte_strings() {
        let req = request(vec![push("visit", vec![vec![0xAB; 4]])]);
        let bytes = encode(&req);
        // Major type 2 (byte string) of length 4, followed by the bytes.
        assert!(bytes
            .windows(5)
            .any(|w| w == [0x44, 0xAB, 0xAB, 0xAB, 0xAB]));
    }

    #[test]
    fn response_round_trips() {
        let doc_id = DocId::new_random();
        let resp = SyncResponse {
            protocol: PROTOCOL_VERSION,
            outcomes: vec![
                DocOutcome {
                    doc_id,
                    result: PushResult::Stored {
                        new_changes: 3,
                        refused_edits: Vec::new(),
                        findings: vec![PushFinding {
                            code: "price_below_floor".into(),
                            message: "below the floor".into(),
                            field: Some("lines.COLA-330.unit_price".into()),
                            severity: "block".into(),
                            outcome: "held".into(),
                        }],
                    },
                },
                DocOutcome {
                    doc_id: DocId::new_random(),
                    result: PushResult::MissingDeps,
                },
                DocOutcome {
                    doc_id: DocId::new_random(),
                    result: PushResult::Refused {
                        reason: "schema_violation".into(),
                        message: "bad SKU".into(),
                    },
                },
            ],
            pull: Some(PullPage {
                docs: vec![DocPayload {
                    doc_id,
                    kind: DocKind::Order,
                    data: vec![ByteBuf::from(vec![9, 9])],
                    receipt: Some(Receipt {
                        heads: vec![ByteBuf::from(vec![1; 32])],
                        mac: ByteBuf::from(vec![2; 32]),
                    }),
                }],
                cursor: Cursor { seq: 7, mark: 123 },
                more: true,
                reset: false,
                evict: vec![DocId::new_random()],
            }),
        };
        assert_eq!(decode::<SyncResponse>(&encode(&resp)), Ok(resp));
    }

    #[test]
    fn trailing_and_garbage_bytes_are_malformed() {
        let mut bytes = encode(&request(vec![]));
        bytes.push(0x00);
        let err = decode_request(&bytes, &Limits::default()).unwrap_err();
        assert_eq!(err, ProtocolError::Malformed("1 trailing bytes".into()));
        assert_eq!(err.reason(), "malformed_body");

        for garbage in [
            &b""[..],
            b"\xff\xff\xff",
            b"not cbor at all",
            &encode(&"a string")[..],
        ] {
            let err = decode_request(garbage, &Limits::default()).unwrap_err();
            assert!(
                matches!(err, ProtocolError::Malformed(_)),
                "{garbage:?}: {err:?}"
            );
        }
        let full = encode(&request(vec![push("visit", vec![vec![1; 50]])]));
        let truncated = &full[..full.len() - 10];
        assert!(matches!(
            decode_request(truncated, &Limits::default()),
            Err(ProtocolError::Malformed(_))
        ));
    }

    #[test]
    fn other_protocol_versions_are_refused() {
        for v in [0, PROTOCOL_VERSION + 1] {
            let req = SyncRequest {
                protocol: v,
                ..request(vec![])
            };
            let err = decode_request(&encode(&req), &Limits::default()).unwrap_err();
            assert_eq!(err, ProtocolError::UnsupportedVersion { got: v });
            assert_eq!(err.reason(), "unsupported_protocol_version");
        }
    }

    #[test]
    fn unknown_kind_refuses_the_whole_request() {
        let req = request(vec![push("visit", vec![]), push("invoice", vec![])]);
        let err = decode_request(&encode(&req), &Limits::default()).unwrap_err();
        assert_eq!(err, ProtocolError::UnknownDocumentKind("invoice".into()));
        assert_eq!(err.reason(), "unknown_document_kind");
    }

    #[test]
    fn duplicate_document_is_refused() {
        let a = push("visit", vec![vec![1]]);
        let mut again = push("visit", vec![vec![2]]);
        again.doc_id = a.doc_id;
        let err = decode_request(
            &encode(&request(vec![a.clone(), again])),
            &Limits::default(),
        )
        .unwrap_err();
        assert_eq!(err, ProtocolError::DuplicateDocument(a.doc_id));
        assert_eq!(err.reason(), "duplicate_document");
    }

    #[test]
    fn count_limits_are_inclusive() {
        let limits = small_limits();
        let at = request(vec![push("visit", vec![vec![]; 3]), push("order", vec![])]);
        assert!(decode_request(&encode(&at), &limits).is_ok());

        let docs = request(vec![
            push("visit", vec![]),
            push("visit", vec![]),
            push("order", vec![]),
        ]);
        let err = decode_request(&encode(&docs), &limits).unwrap_err();
        assert_eq!(
            err,
            ProtocolError::LimitExceeded {
                limit: "max_docs_per_request",
                max: 2
            }
        );
        assert_eq!(err.reason(), "limit_exceeded");

        let changes = request(vec![push("visit", vec![vec![]; 4])]);
        assert_eq!(
            decode_request(&encode(&changes), &limits),
            Err(ProtocolError::LimitExceeded {
                limit: "max_changes_per_doc",
                max: 3
            })
        );
    }

    #[test]
    fn a_receipt_out_of_shape_refuses_the_request() {
        let receipt = |heads: Vec<Vec<u8>>, mac: Vec<u8>| Receipt {
            heads: heads.into_iter().map(ByteBuf::from).collect(),
            mac: ByteBuf::from(mac),
        };
        let with = |r: Receipt| {
            let mut doc = push("visit", vec![vec![1]]);
            doc.receipt = Some(r);
            decode_request(&encode(&request(vec![doc])), &Limits::default())
        };
        assert!(with(receipt(vec![vec![1; 32]], vec![2; 32])).is_ok());
        for bad in [
            receipt(vec![], vec![2; 32]),
            receipt(vec![vec![1; 31]], vec![2; 32]),
            receipt(vec![vec![1; 32]], vec![2; 33]),
        ] {
            let err = with(bad).unwrap_err();
            assert_eq!(err.reason(), "malformed_body", "{err}");
        }
        assert_eq!(
            with(receipt(
                vec![vec![1; 32]; MAX_RECEIPT_HEADS + 1],
                vec![2; 32]
            )),
            Err(ProtocolError::LimitExceeded {
                limit: "max_receipt_heads",
                max: MAX_RECEIPT_HEADS
            })
        );
    }

    #[test]
    fn oversized_change_is_refused() {
        let limits = small_limits();
        let at = request(vec![push("visit", vec![vec![0; 8]])]);
        assert!(decode_request(&encode(&at), &limits).is_ok());
        let over = request(vec![push("visit", vec![vec![0; 1], vec![0; 9]])]);
        assert_eq!(
            decode_request(&encode(&over), &limits),
            Err(ProtocolError::LimitExceeded {
                limit: "max_change_bytes",
                max: 8
            })
        );
    }

    #[test]
    fn oversized_body_is_refused_before_decoding() {
        let limits = Limits {
            max_decoded_bytes: 16,
            ..Limits::default()
        };
        let body = encode(&request(vec![]));
        assert!(body.len() > 16);
        assert_eq!(
            decode_request(&body, &limits),
            Err(ProtocolError::LimitExceeded {
                limit: "max_decoded_bytes",
                max: 16
            })
        );
    }

    #[test]
    fn gunzip_stops_at_the_limit() {
        // 64 MiB of zeros compress to a few dozen KiB: a zip bomb for a 1 MiB limit.
        let bomb = gzip(&vec![0u8; 64 << 20]);
        assert!(bomb.len() < 1 << 20);
        assert_eq!(
            gunzip(&bomb, 1 << 20),
            Err(ProtocolError::LimitExceeded {
                limit: "max_decoded_bytes",
                max: 1 << 20
            })
        );
        // Exactly at the limit is fine.
        let exact = gzip(&[7u8; 1000]);
        assert_eq!(gunzip(&exact, 1000).unwrap().len(), 1000);
        assert!(gunzip(&exact, 999).is_err());
    }

    #[test]
    fn gunzip_refuses_garbage() {
        assert!(matches!(
            gunzip(b"definitely not gzip", 1024),
            Err(ProtocolError::Malformed(_))
        ));
        let gz = gzip(b"hello world");
        assert!(matches!(
            gunzip(&gz[..gz.len() - 4], 1024),
            Err(ProtocolError::Malformed(_))
        ));
    }
}
