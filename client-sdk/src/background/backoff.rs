//! Capped exponential backoff with full jitter, seeded per phone and per start.

use std::time::Duration;

use super::SyncSchedule;

/// Capped exponential backoff with full jitter: the n-th consecutive failure waits a uniformly
/// random time in `[min, min(max, min * 2^n)]`, so phones that lost the network together do
/// not come back together. Reset by a success or by sync_now.
#[derive(Debug, Clone)]
pub(super) struct Backoff {
    min: Duration,
    max: Duration,
    /// Consecutive failures so far.
    failures: u32,
    rng: XorShift64,
}

impl Backoff {
    pub(super) fn new(schedule: SyncSchedule, seed: u64) -> Backoff {
        Backoff {
            min: schedule.min_backoff,
            max: schedule.max_backoff.max(schedule.min_backoff),
            failures: 0,
            rng: XorShift64::new(seed),
        }
    }

    /// The delay before retrying after one more failure.
    pub(super) fn next_delay(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        let ceiling = backoff_ceiling(self.min, self.max, self.failures);
        full_jitter(self.min, ceiling, self.rng.next_u64())
    }

    pub(super) fn reset(&mut self) {
        self.failures = 0;
    }
}

/// `min * 2^failures`, capped at `max`.
fn backoff_ceiling(min: Duration, max: Duration, failures: u32) -> Duration {
    let doublings = failures.min(64);
    let factor = 1u128 << doublings;
    let nanos = min.as_nanos().saturating_mul(factor);
    if nanos >= max.as_nanos() {
        max
    } else {
        // Below max, which is a Duration: it fits.
        Duration::from_nanos(nanos as u64)
    }
}

/// A uniformly distributed delay in `[min, ceiling]` drawn from `random`.
fn full_jitter(min: Duration, ceiling: Duration, random: u64) -> Duration {
    let span = ceiling.saturating_sub(min).as_nanos();
    if span == 0 {
        return min;
    }
    let offset = u128::from(random) % (span + 1);
    // offset <= span, and min + span = ceiling fits in a Duration.
    min + Duration::from_nanos(offset as u64)
}

/// xorshift64*: enough randomness for spreading retries, no dependency.
#[derive(Debug, Clone)]
struct XorShift64(u64);

impl XorShift64 {
    fn new(seed: u64) -> XorShift64 {
        // Zero is the one state xorshift never leaves.
        XorShift64(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// A seed that differs per phone and per start.
pub(super) fn seed() -> u64 {
    getrandom::u64().unwrap_or_else(|_| {
        // No OS randomness: the clock still tells phones apart well enough for jitter.
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(2);
    const MAX: Duration = Duration::from_secs(300);

    fn backoff(seed: u64) -> Backoff {
        Backoff::new(
            SyncSchedule {
                interval: None,
                min_backoff: MIN,
                max_backoff: MAX,
            },
            seed,
        )
    }

    #[test]
    fn the_ceiling_doubles_from_min_and_stops_at_max() {
        let ceilings: Vec<u64> = (1..=9)
            .map(|n| backoff_ceiling(MIN, MAX, n).as_secs())
            .collect();
        assert_eq!(ceilings, vec![4, 8, 16, 32, 64, 128, 256, 300, 300]);
        assert_eq!(backoff_ceiling(MIN, MAX, u32::MAX), MAX);
        assert_eq!(backoff_ceiling(MIN, MAX, 0), MIN);
    }

    #[test]
    fn jitter_stays_within_min_and_the_ceiling() {
        let ceiling = Duration::from_secs(64);
        assert_eq!(full_jitter(MIN, ceiling, 0), MIN);
        let span = (ceiling - MIN).as_nanos() as u64;
        assert_eq!(full_jitter(MIN, ceiling, span), ceiling);
        assert_eq!(full_jitter(MIN, ceiling, span + 1), MIN);
        assert_eq!(full_jitter(MIN, MIN, 12345), MIN);
        let mut rng = XorShift64::new(7);
        for _ in 0..10_000 {
            let d = full_jitter(MIN, ceiling, rng.next_u64());
            assert!(d >= MIN && d <= ceiling, "{d:?}");
        }
    }

    #[test]
    fn delays_grow_are_capped_and_reset_after_success() {
        let mut b = backoff(42);
        let mut delays = Vec::new();
        for n in 1..=12u32 {
            let d = b.next_delay();
            assert!(d >= MIN && d <= backoff_ceiling(MIN, MAX, n), "{n}: {d:?}");
            assert!(d <= MAX);
            delays.push(d);
        }
        assert!(
            delays.iter().any(|d| *d > Duration::from_secs(64)),
            "{delays:?}"
        );
        // Growth: over many phones, the 8th retry waits far longer than the first.
        let mean = |nth: usize| {
            (1..=200u64)
                .map(|seed| {
                    let mut b = backoff(seed);
                    (0..nth).map(|_| b.next_delay()).last().unwrap()
                })
                .sum::<Duration>()
                / 200
        };
        let (first, eighth) = (mean(1), mean(8));
        assert!(first <= Duration::from_secs(4), "{first:?}");
        assert!(eighth > 10 * first, "{first:?} {eighth:?}");
        b.reset();
        let d = b.next_delay();
        assert!(
            d <= 2 * MIN,
            "after a success the first retry is quick again: {d:?}"
        );
    }

    #[test]
    fn jitter_spreads_devices_apart() {
        // Ten phones that failed five times each do not all retry at the same moment.
        let delays: std::collections::BTreeSet<Duration> = (1..=10u64)
            .map(|seed| {
                let mut b = backoff(seed);
                (0..4).for_each(|_| {
                    b.next_delay();
                });
                b.next_delay()
            })
            .collect();
        assert!(delays.len() >= 8, "{delays:?}");
        // Deterministic for a seed.
        let (mut a, mut b) = (backoff(9), backoff(9));
        assert_eq!(
            (0..5).map(|_| a.next_delay()).collect::<Vec<_>>(),
            (0..5).map(|_| b.next_delay()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_max_below_min_is_min() {
        let mut b = Backoff::new(
            SyncSchedule {
                interval: None,
                min_backoff: Duration::from_secs(10),
                max_backoff: Duration::from_secs(1),
            },
            3,
        );
        for _ in 0..5 {
            assert_eq!(b.next_delay(), Duration::from_secs(10));
        }
    }
}
