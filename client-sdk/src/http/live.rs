//! `GET /v1/live`: the server's Server-Sent Events stream of feed changes (docs/live-push.md),
//! read as it arrives. [`LiveEvents`] parses the frames with a size limit per line and per
//! event, so a broken or hostile server cannot make the device buffer without bound.

use std::io::{BufRead, BufReader, Read};
use std::time::Duration;

use fieldsync_shared::{DocId, DocKind};
use serde::{Deserialize, Serialize};

use super::errors::{bad_response, transport};
use super::Http;
use crate::error::{DeviceError, Result};

/// Longest line of the stream (a `data:` line of a change event lists at most a few hundred
/// ids).
const MAX_LINE_BYTES: usize = 256 * 1024;
/// Largest event (all its lines).
const MAX_EVENT_BYTES: usize = 1024 * 1024;
/// The server sends a heartbeat every 15 s by default: a stream silent for this long is dead
/// (the network changed under it) and is reconnected.
pub const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// One event of the live stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum LiveEvent {
    /// Documents of the user's read scope changed (`changed`) or left it (`evicted`) up to
    /// the feed position `cursor`; `more`: others did too; `scope`: the read scope itself
    /// changed (documents came into it or left it). A pull brings them.
    Changes {
        cursor: i64,
        #[serde(default)]
        changed: Vec<LiveChange>,
        #[serde(default)]
        evicted: Vec<DocId>,
        #[serde(default)]
        more: bool,
        #[serde(default)]
        scope: bool,
    },
    /// The stream caught up to `cursor`; changes follow as they are committed.
    Ready { cursor: i64 },
    /// The server ends the stream: `token_expired`, `unauthorized`, `replaced`, `shutdown`,
    /// `unavailable`.
    End { reason: String, message: String },
}

/// A changed document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveChange {
    pub doc_id: DocId,
    pub kind: DocKind,
}

/// An open stream: its events, read one by one (blocking).
pub struct LiveEvents {
    reader: BufReader<Box<dyn Read + Send>>,
}

impl Http<'_> {
    /// Opens the live stream after the feed position `after` (the seq of the device's pull
    /// cursor; `None`: from now on). A 401 refreshes the session once, like every call.
    pub fn open_live(&self, after: Option<i64>) -> Result<LiveEvents> {
        let url = match after {
            Some(seq) => self.url(&format!("/v1/live?after={seq}")),
            None => self.url("/v1/live"),
        };
        let resp = self.authed(|auth| {
            self.agent
                .get(&url)
                .header("Authorization", auth)
                .header("Accept", "text/event-stream")
                .config()
                // The stream lasts as long as the access token; silence is what is timed.
                .timeout_global(None)
                .timeout_per_read(Some(READ_TIMEOUT))
                .build()
                .call()
        })?;
        let reader: Box<dyn Read + Send> = Box::new(resp.into_body().into_reader());
        Ok(LiveEvents {
            reader: BufReader::new(reader),
        })
    }
}

impl LiveEvents {
    /// Events read from any byte source (tests).
    #[cfg(test)]
    pub fn from_reader(reader: impl Read + Send + 'static) -> LiveEvents {
        LiveEvents {
            reader: BufReader::new(Box::new(reader)),
        }
    }

    /// The next event; `Ok(None)` when the server closed the stream. Comments (heartbeats)
    /// and events this version does not know are skipped. A cut or silent connection is
    /// `Offline`.
    pub fn next_event(&mut self) -> Result<Option<LiveEvent>> {
        let mut name = String::new();
        let mut data = String::new();
        let mut line = Vec::new();
        loop {
            line.clear();
            let read = (&mut self.reader)
                .take(MAX_LINE_BYTES as u64 + 1)
                .read_until(b'\n', &mut line)
                .map_err(|e| transport(ureq::Error::Io(e)))?;
            if read == 0 {
                return Ok(None);
            }
            if line.last() != Some(&b'\n') {
                if line.len() > MAX_LINE_BYTES {
                    return Err(bad_response("a live stream line is too long".into()));
                }
                // The stream ended inside a line: the connection was cut.
                return Err(DeviceError::Offline("the live stream was cut".into()));
            }
            let text = std::str::from_utf8(&line)
                .map_err(|_| bad_response("a live stream line is not UTF-8".into()))?
                .trim_end_matches(['\n', '\r']);
            if text.is_empty() {
                // The end of an event.
                if let Some(event) = parse_event(&name, &data)? {
                    return Ok(Some(event));
                }
                name.clear();
                data.clear();
                continue;
            }
            if text.starts_with(':') {
                continue;
            }
            let (field, value) = text.split_once(':').unwrap_or((text, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "event" => value.clone_into(&mut name),
                "data" => {
                    if !data.is_empty() {
                        data.push('\n');
                    }
                    data.push_str(value);
                    if data.len() > MAX_EVENT_BYTES {
                        return Err(bad_response("a live stream event is too large".into()));
                    }
                }
                // `id` repeats the cursor of the data; `retry` is for browsers.
                _ => {}
            }
        }
    }
}

/// The event named `name` with `data`; `None` for a name this version does not know (or an
/// empty frame).
fn parse_event(name: &str, data: &str) -> Result<Option<LiveEvent>> {
    if !matches!(name, "changes" | "ready" | "end") {
        return Ok(None);
    }
    let mut value: serde_json::Value = serde_json::from_str(data)
        .map_err(|e| bad_response(format!("a live {name} event: {e}")))?;
    if let Some(object) = value.as_object_mut() {
        object.insert("event".into(), name.into());
    }
    serde_json::from_value(value)
        .map(Some)
        .map_err(|e| bad_response(format!("a live {name} event: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(wire: &str) -> (Vec<LiveEvent>, Result<Option<LiveEvent>>) {
        let mut stream = LiveEvents::from_reader(std::io::Cursor::new(wire.as_bytes().to_vec()));
        let mut out = Vec::new();
        loop {
            match stream.next_event() {
                Ok(Some(e)) => out.push(e),
                other => return (out, other),
            }
        }
    }

    #[test]
    fn frames_become_events_and_heartbeats_are_skipped() {
        let doc = DocId::new_random();
        let wire = format!(
            "retry: 3000\n\n: heartbeat\n\nevent: changes\nid: 7\ndata: {{\"cursor\":7,\"changed\":[{{\"doc_id\":\"{doc}\",\"kind\":\"visit\"}}],\"evicted\":[],\"more\":false}}\n\n\
             event: ready\r\nid: 7\r\ndata: {{\"cursor\":7}}\r\n\r\nevent: future\ndata: {{}}\n\n\
             event: end\ndata: {{\"reason\":\"token_expired\",\"message\":\"m\"}}\n\n"
        );
        let (got, last) = events(&wire);
        assert!(matches!(last, Ok(None)), "{last:?}");
        assert_eq!(
            got,
            vec![
                LiveEvent::Changes {
                    cursor: 7,
                    changed: vec![LiveChange {
                        doc_id: doc,
                        kind: DocKind::Visit
                    }],
                    evicted: vec![],
                    more: false,
                    scope: false
                },
                LiveEvent::Ready { cursor: 7 },
                LiveEvent::End {
                    reason: "token_expired".into(),
                    message: "m".into()
                },
            ]
        );
    }

    #[test]
    fn a_cut_stream_is_offline_and_an_endless_line_is_refused() {
        let (_, last) = events("event: ready\ndata: {\"cur");
        assert!(matches!(last, Err(DeviceError::Offline(_))), "{last:?}");
        let long = format!("data: {}\n\n", "x".repeat(MAX_LINE_BYTES + 10));
        let (_, last) = events(&long);
        assert!(
            matches!(&last, Err(DeviceError::Server { reason, .. }) if reason == "bad_response"),
            "{last:?}"
        );
        let (_, last) = events("event: changes\ndata: not json\n\n");
        assert!(last.is_err());
    }
}
