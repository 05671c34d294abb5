//! automerge-repo's sync protocol over websocket, which the automerge-repo server and samod both
//! speak: a `join`/`peer` handshake, then per document Automerge sync messages wrapped in CBOR
//! `sync` (or `request`, from a peer that lacks the document) messages; `doc-unavailable` when the
//! other side has nothing. Document ids are bs58check-encoded UUIDs, so a Fieldsync document
//! keeps its id on every server.

use std::collections::{HashMap, VecDeque};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use automerge::sync::{Message as SyncMessage, State, SyncDoc};
use automerge::{AutoCommit, ChangeHash};
use fieldsync_shared::DocId;
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;
use tungstenite::{Message, WebSocket};

/// The repo document id of a Fieldsync document.
pub fn document_id(id: DocId) -> String {
    bs58::encode(id.as_uuid().as_bytes())
        .with_check()
        .into_string()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Join<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    sender_id: &'a str,
    supported_protocol_versions: [&'static str; 1],
    peer_metadata: PeerMetadata,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PeerMetadata {
    is_ephemeral: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Outgoing<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    sender_id: &'a str,
    target_id: &'a str,
    document_id: &'a str,
    #[serde(with = "serde_bytes")]
    data: &'a [u8],
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Incoming {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    sender_id: Option<String>,
    #[serde(default)]
    document_id: Option<String>,
    #[serde(default)]
    data: Option<ByteBuf>,
    #[serde(default)]
    message: Option<String>,
}

/// One document in a sync session: the local replica, the sync state with the server, and
/// the heads that end the session (ours reached the server, or the server's reached us).
pub struct DocSync {
    pub id: String,
    pub doc: AutoCommit,
    pub target: Vec<ChangeHash>,
    state: State,
}

/// What a session must reach for a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Goal {
    /// The server reports holding our heads (push, and a sync with nothing new).
    ServerHas,
    /// Our replica holds the target heads (read back).
    WeHave,
}

impl DocSync {
    pub fn new(id: String, doc: AutoCommit, target: Vec<ChangeHash>) -> Self {
        DocSync {
            id,
            doc,
            target,
            state: State::new(),
        }
    }

    /// A fresh session (a new connection) for the same replica.
    pub fn reset(&mut self) {
        self.state = State::new();
    }

    fn reached(&mut self, goal: Goal) -> bool {
        match goal {
            Goal::ServerHas => self
                .state
                .their_heads
                .as_ref()
                .is_some_and(|theirs| self.target.iter().all(|h| theirs.contains(h))),
            Goal::WeHave => crate::verify::holds(&mut self.doc, &self.target),
        }
    }
}

pub struct Peer {
    ws: WebSocket<TcpStream>,
    me: String,
    server: String,
}

fn cbor<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).expect("CBOR encoding");
    out
}

impl Peer {
    /// Connects and completes the handshake.
    pub fn connect(addr: SocketAddr) -> Result<Peer, String> {
        let stream = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
        stream.set_nodelay(true).ok();
        stream
            .set_read_timeout(Some(Duration::from_millis(500)))
            .map_err(|e| e.to_string())?;
        // The read timeout below also applies to the handshake: a server slow to answer the
        // upgrade interrupts it (WouldBlock), which is a wait, not a failure.
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut attempt = tungstenite::client(format!("ws://{addr}/"), stream);
        let (ws, _) = loop {
            match attempt {
                Ok(done) => break done,
                Err(tungstenite::HandshakeError::Interrupted(mid)) if Instant::now() < deadline => {
                    attempt = mid.handshake();
                }
                Err(e) => return Err(format!("websocket handshake: {e}")),
            }
        };
        let me = format!("bench-{}", uuid::Uuid::new_v4());
        let mut peer = Peer {
            ws,
            me,
            server: String::new(),
        };
        let join = cbor(&Join {
            kind: "join",
            sender_id: &peer.me,
            supported_protocol_versions: ["1"],
            peer_metadata: PeerMetadata { is_ephemeral: true },
        });
        peer.send_raw(join)?;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match peer.receive(deadline)? {
                Some(m) if m.kind == "peer" => {
                    peer.server = m.sender_id.ok_or("peer message without senderId")?;
                    return Ok(peer);
                }
                Some(m) if m.kind == "error" => {
                    return Err(format!("server: {}", m.message.unwrap_or_default()))
                }
                _ => {}
            }
        }
    }

    fn send_raw(&mut self, bytes: Vec<u8>) -> Result<(), String> {
        self.ws
            .send(Message::Binary(bytes.into()))
            .map_err(|e| format!("send: {e}"))
    }

    fn send(&mut self, kind: &'static str, document_id: &str, data: &[u8]) -> Result<(), String> {
        let bytes = cbor(&Outgoing {
            kind,
            sender_id: &self.me,
            target_id: &self.server,
            document_id,
            data,
        });
        self.send_raw(bytes)
    }

    /// The next protocol message; `None` when the read timed out before `deadline`.
    fn receive(&mut self, deadline: Instant) -> Result<Option<Incoming>, String> {
        if Instant::now() > deadline {
            return Err("timed out".into());
        }
        match self.ws.read() {
            Ok(Message::Binary(bytes)) => ciborium::from_reader(&bytes[..])
                .map(Some)
                .map_err(|e| format!("undecodable message: {e}")),
            Ok(Message::Close(_)) => Err("server closed the connection".into()),
            Ok(_) => Ok(None),
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(format!("receive: {e}")),
        }
    }

    /// Syncs `docs` until each reaches `goal`, at most `window` documents at a time, until
    /// `timeout`. `opening` is the first message's type: `sync` from a peer that has the
    /// document, `request` from one that does not. Returns how many documents did not reach the
    /// goal (unavailable, or still going at the deadline).
    pub fn sync_all(
        &mut self,
        docs: &mut [DocSync],
        goal: Goal,
        opening: &'static str,
        window: usize,
        timeout: Duration,
    ) -> Result<usize, String> {
        let deadline = Instant::now() + timeout;
        let index: HashMap<String, usize> = docs
            .iter()
            .enumerate()
            .map(|(i, d)| (d.id.clone(), i))
            .collect();
        let mut waiting: VecDeque<usize> = (0..docs.len()).collect();
        let mut open = 0usize;
        let mut finished = vec![false; docs.len()];
        let (mut done, mut failed) = (0usize, 0usize);
        while done + failed < docs.len() {
            while open < window {
                let Some(i) = waiting.pop_front() else { break };
                let d = &mut docs[i];
                if d.reached(goal) && goal == Goal::WeHave {
                    finished[i] = true;
                    done += 1;
                    continue;
                }
                let message = d.doc.sync().generate_sync_message(&mut d.state);
                let data = message.map(|m| m.encode()).unwrap_or_default();
                let id = d.id.clone();
                self.send(opening, &id, &data)?;
                open += 1;
            }
            let Some(incoming) =
                self.receive(deadline).or_else(
                    |e| {
                        if e == "timed out" {
                            Ok(None)
                        } else {
                            Err(e)
                        }
                    },
                )?
            else {
                if Instant::now() > deadline {
                    break;
                }
                continue;
            };
            let Some(&i) = incoming.document_id.as_ref().and_then(|id| index.get(id)) else {
                continue;
            };
            if finished[i] {
                continue;
            }
            match incoming.kind.as_str() {
                "sync" | "request" => {
                    let d = &mut docs[i];
                    let data = incoming.data.unwrap_or_default();
                    let message = SyncMessage::decode(&data).map_err(|e| e.to_string())?;
                    d.doc
                        .sync()
                        .receive_sync_message(&mut d.state, message)
                        .map_err(|e| format!("{}: {e}", d.id))?;
                    if d.reached(goal) {
                        finished[i] = true;
                        done += 1;
                        open -= 1;
                    } else if let Some(reply) = d.doc.sync().generate_sync_message(&mut d.state) {
                        let id = d.id.clone();
                        self.send("sync", &id, &reply.encode())?;
                    }
                }
                "doc-unavailable" => {
                    finished[i] = true;
                    failed += 1;
                    open -= 1;
                }
                _ => {}
            }
        }
        Ok(docs.len() - done)
    }

    pub fn close(mut self) {
        let _ = self.ws.close(None);
        let _ = self.ws.flush();
    }
}
