//! A server too busy to take a sync answers 503 with `Retry-After` before doing any work
//! (`overloaded`). The sync is sent again after at least that delay, with jitter that doubles
//! its spread at each refusal, so the phones refused together do not come back together; after
//! [`MAX_WAITS`] refusals the 503 is the sync's error (the background sync retries it later).

use std::time::Duration;

use ureq::http::Response;
use ureq::Body;

/// Refusals waited out within one request.
pub(super) const MAX_WAITS: u32 = 6;
/// Longest single wait.
const MAX_DELAY: Duration = Duration::from_secs(30);

/// The delay a 503 asks for (`Retry-After` in seconds); `None` for any other answer.
pub(super) fn retry_after(resp: &Response<Body>) -> Option<Duration> {
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

    #[test]
    fn only_a_503_with_retry_after_is_waited_out() {
        let answer = |status: u16, retry_after: Option<&str>| {
            let mut builder = Response::builder().status(status);
            if let Some(v) = retry_after {
                builder = builder.header("Retry-After", v);
            }
            builder.body(Body::builder().data(Vec::new())).unwrap()
        };
        assert_eq!(
            retry_after(&answer(503, Some("2"))),
            Some(Duration::from_secs(2))
        );
        assert_eq!(retry_after(&answer(503, None)), None);
        assert_eq!(retry_after(&answer(503, Some("soon"))), None);
        assert_eq!(retry_after(&answer(429, Some("2"))), None);
        assert_eq!(retry_after(&answer(200, Some("2"))), None);
    }
}
