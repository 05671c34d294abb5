//! A server too busy to take a sync answers 503 `overloaded` with `Retry-After` before doing
//! any work (its admission control). The sync is sent again after at least that delay, with
//! jitter that doubles its spread at each refusal, so the phones refused together do not come
//! back together; after [`MAX_WAITS`] refusals the 503 is the sync's error (the background sync
//! retries it later). Other 503s (a database down) are the sync's error at once, as before.

use std::time::Duration;

use ureq::http::Response;
use ureq::Body;

use super::errors::error_from_body;
use crate::error::DeviceError;

/// The reason of an admission refusal (`server::sync::admission`).
const OVERLOADED: &str = "overloaded";

/// A sync's answer, as far as overload goes.
pub(super) enum Answer {
    /// Refused before any work: send it again after `after`; `error` once no wait is left.
    Overloaded { after: Duration, error: DeviceError },
    /// Any other answer, untouched.
    Other(Response<Body>),
}

pub(super) fn answer(mut resp: Response<Body>) -> Answer {
    let Some(after) = retry_after(&resp) else {
        return Answer::Other(resp);
    };
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .with_config()
        .limit(64 * 1024)
        .read_to_vec()
        .unwrap_or_default();
    match error_from_body(status, &body) {
        error @ DeviceError::Server { .. } if is_overloaded(&error) => {
            Answer::Overloaded { after, error }
        }
        // Rebuilt from the body already read, so the caller maps it as any other answer.
        _ => Answer::Other(
            Response::builder()
                .status(status)
                .body(Body::builder().data(body))
                .expect("a status that was already valid"),
        ),
    }
}

fn is_overloaded(error: &DeviceError) -> bool {
    matches!(error, DeviceError::Server { reason, .. } if reason == OVERLOADED)
}

/// Refusals waited out within one request.
pub(super) const MAX_WAITS: u32 = 6;
/// Longest single wait.
const MAX_DELAY: Duration = Duration::from_secs(30);

/// The delay a 503 asks for (`Retry-After` in seconds); `None` for any other answer.
fn retry_after(resp: &Response<Body>) -> Option<Duration> {
    if resp.status().as_u16() != 503 {
        return None;
    }
    let secs: u64 = resp
        .headers()
        .get("retry-after")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs))
}

/// The waits of one request's refusals.
pub(super) struct OverloadWaits {
    waits: u32,
    random: u64,
}

impl OverloadWaits {
    pub(super) fn new() -> OverloadWaits {
        // Only spreads retries: a clock-derived seed does when the OS has no randomness.
        let seed = getrandom::u64().unwrap_or_else(|_| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
        OverloadWaits {
            waits: 0,
            random: seed | 1,
        }
    }

    /// How long to wait after one more refusal asking for `after`: uniformly in
    /// `[after, after * 2^n]` (capped) at the n-th refusal; `None` once [`MAX_WAITS`] are spent.
    pub(super) fn next(&mut self, after: Duration) -> Option<Duration> {
        if self.waits >= MAX_WAITS {
            return None;
        }
        self.waits += 1;
        let floor = after.min(MAX_DELAY);
        let ceiling = after
            .saturating_mul(1 << self.waits.min(16))
            .min(MAX_DELAY)
            .max(floor);
        let span = (ceiling - floor).as_millis() as u64;
        Some(floor + Duration::from_millis(self.next_random() % (span + 1)))
    }

    /// xorshift64: enough randomness for spreading retries.
    fn next_random(&mut self) -> u64 {
        let mut x = self.random;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.random = x;
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_within_their_bounds_and_stop() {
        let mut waits = OverloadWaits::new();
        let after = Duration::from_secs(1);
        for n in 1..=MAX_WAITS {
            let delay = waits.next(after).expect("a wait left");
            let ceiling = (after * (1 << n)).min(MAX_DELAY);
            assert!(delay >= after && delay <= ceiling, "{n}: {delay:?}");
        }
        assert_eq!(waits.next(after), None);
    }

    fn reply(status: u16, retry_after: Option<&str>, reason: &str) -> Response<Body> {
        let mut builder = Response::builder().status(status);
        if let Some(v) = retry_after {
            builder = builder.header("Retry-After", v);
        }
        let body = serde_json::json!({"reason": reason, "message": "busy"}).to_string();
        builder.body(Body::builder().data(body)).unwrap()
    }

    #[test]
    fn only_an_overloaded_503_with_retry_after_is_waited_out() {
        match answer(reply(503, Some("2"), "overloaded")) {
            Answer::Overloaded { after, error } => {
                assert_eq!(after, Duration::from_secs(2));
                assert!(is_overloaded(&error), "{error:?}");
            }
            Answer::Other(_) => panic!("an overloaded 503 is waited out"),
        }
        for (status, retry_after, reason) in [
            (503, Some("5"), "unavailable"),
            (503, None, "overloaded"),
            (503, Some("soon"), "overloaded"),
            (429, Some("2"), "rate_limited"),
            (200, Some("2"), "overloaded"),
        ] {
            let Answer::Other(mut resp) = answer(reply(status, retry_after, reason)) else {
                panic!("{status} {retry_after:?} {reason} is not waited out");
            };
            assert_eq!(resp.status().as_u16(), status);
            let body: serde_json::Value = resp.body_mut().read_json().unwrap();
            assert_eq!(body["reason"], reason, "the answer is handed on whole");
        }
    }
}
