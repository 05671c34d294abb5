//! Server-Sent Events on the wire: the frames a stream sends and the response body that
//! carries them. Every `data` is one line of JSON, so no field needs splitting.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tokio::sync::mpsc;

/// How long a browser's `EventSource` waits before it reconnects (the SDK has its own backoff).
const RETRY_MS: u64 = 3000;

/// An event: `event: <name>`, `id: <id>` when given, `data: <json>`.
pub fn event(name: &str, id: Option<i64>, data: &impl Serialize) -> Bytes {
    // Serialising plain structs of strings and numbers cannot fail.
    let json = serde_json::to_string(data).unwrap_or_else(|_| "null".to_owned());
    let mut out = format!("event: {name}\n");
    if let Some(id) = id {
        out.push_str(&format!("id: {id}\n"));
    }
    out.push_str(&format!("data: {json}\n\n"));
    Bytes::from(out)
}

/// A comment line: clients ignore it, proxies and sockets see traffic.
pub fn heartbeat() -> Bytes {
    Bytes::from_static(b": heartbeat\n\n")
}

/// The first frame of every stream: the reconnection delay for browsers.
pub fn retry() -> Bytes {
    Bytes::from(format!("retry: {RETRY_MS}\n\n"))
}

/// The response body: the frames the stream's task sends, until it drops its sender.
pub struct SseBody {
    frames: mpsc::Receiver<Bytes>,
}

impl http_body::Body for SseBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Infallible>>> {
        self.get_mut()
            .frames
            .poll_recv(cx)
            .map(|frame| frame.map(|bytes| Ok(http_body::Frame::data(bytes))))
    }
}

/// The `200 text/event-stream` answer carrying `frames`.
pub fn response(frames: mpsc::Receiver<Bytes>) -> Response {
    let mut resp = (StatusCode::OK, Body::new(SseBody { frames })).into_response();
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // The connection gave its place under the connection cap back (`live`): it serves no
    // request after the stream.
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    // Reverse proxies (nginx) must pass events on at once, not buffer them.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_whole_frames_with_one_line_of_data() {
        #[derive(Serialize)]
        struct D {
            note: &'static str,
        }
        let frame = event("changes", Some(42), &D { note: "a\nb" });
        assert_eq!(
            std::str::from_utf8(&frame).unwrap(),
            "event: changes\nid: 42\ndata: {\"note\":\"a\\nb\"}\n\n"
        );
        let frame = event("end", None, &D { note: "x" });
        assert!(!std::str::from_utf8(&frame).unwrap().contains("id:"));
        assert!(heartbeat().starts_with(b":"));
    }
}
