//! Reconnect delays: exponential growth with full jitter above a floor. Pure, no I/O.
//!
//! The n-th retry (from 0) after a failure waits a uniformly random time in
//! `[min, min(max, min·2ⁿ)]`. The floor keeps a broken server from being hammered (the
//! delay is never below `min`); the jitter spreads many Falco instances that lost the same
//! server at the same moment; the ceiling bounds the wait once LDP is back.

use std::time::Duration;

/// The delay of retry `attempt` (0 for the first) for a uniform random `unit` in `[0, 1)`.
pub(crate) fn delay(attempt: u32, min: Duration, max: Duration, unit: f64) -> Duration {
    let max = max.max(min);
    let ceiling = min
        .checked_mul(1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX))
        .unwrap_or(max)
        .min(max);
    let span = ceiling - min;
    min + span.mul_f64(unit.clamp(0.0, 1.0))
}

/// Retry state of one tail: how many dials failed in a row, and the jitter source.
#[derive(Debug)]
pub(crate) struct Backoff {
    min: Duration,
    max: Duration,
    attempt: u32,
    rng: XorShift,
}

impl Backoff {
    pub(crate) fn new(min: Duration, max: Duration) -> Self {
        Self {
            min,
            max,
            attempt: 0,
            rng: XorShift::seeded(),
        }
    }

    /// The next delay; each call widens the window until it reaches `max`.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let d = delay(self.attempt, self.min, self.max, self.rng.unit());
        self.attempt = self.attempt.saturating_add(1);
        d
    }

    /// After a connection that worked: the next failure starts again from `min`.
    pub(crate) fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// xorshift64*: plenty for jitter, and no dependency for it.
#[derive(Debug)]
struct XorShift(u64);

impl XorShift {
    fn seeded() -> Self {
        use std::hash::{BuildHasher, Hasher};
        // RandomState is seeded per process by the OS; mix in the time for per-instance variety.
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        Self(h.finish() | 1)
    }

    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        // The top 53 bits make an f64 in [0, 1).
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn window_doubles_from_min_to_max() {
        let (min, max) = (MS(1000), MS(60_000));
        let top: Vec<u128> = (0..10)
            .map(|n| delay(n, min, max, 0.999_999).as_millis())
            .collect();
        assert_eq!(
            top,
            [1000, 1999, 3999, 7999, 15999, 31999, 59999, 59999, 59999, 59999]
        );
        for n in 0..40 {
            assert_eq!(
                delay(n, min, max, 0.0),
                min,
                "never below min (attempt {n})"
            );
        }
    }

    #[test]
    fn huge_attempt_counts_do_not_overflow() {
        assert_eq!(delay(u32::MAX, MS(10), MS(3_600_000), 1.0), MS(3_600_000));
        assert_eq!(
            delay(64, Duration::MAX / 2, Duration::MAX, 0.0),
            Duration::MAX / 2
        );
    }

    #[test]
    fn max_below_min_means_min() {
        assert_eq!(delay(5, MS(500), MS(100), 0.7), MS(500));
    }

    #[test]
    fn jitter_spreads_and_reset_restarts() {
        let mut b = Backoff::new(MS(100), MS(10_000));
        let first: Vec<Duration> = (0..8).map(|_| b.next_delay()).collect();
        assert_eq!(first[0], MS(100));
        for (n, d) in first.iter().enumerate() {
            assert!(*d >= MS(100) && *d <= delay(n as u32, MS(100), MS(10_000), 1.0));
        }
        // Random: across several windows, not all delays sit at the bottom.
        assert!(first.iter().skip(3).any(|d| *d > MS(150)), "{first:?}");
        b.reset();
        assert_eq!(b.next_delay(), MS(100));
    }

    #[test]
    fn unit_is_xorshift64_star() {
        // The reference sequence of xorshift64* (shifts 12, 25, 27; Vigna's multiplier) from
        // state 1, to 53 bits.
        let mut r = XorShift(1);
        let got: Vec<f64> = (0..3).map(|_| r.unit()).collect();
        assert_eq!(
            got,
            [0.28083505005035947, 0.6711372530266764, 0.7258461452833668]
        );
        // A zero state would stay zero: the seed is always odd.
        assert!((0..64).all(|_| XorShift::seeded().0 & 1 == 1));
    }

    #[test]
    fn unit_is_uniform_enough() {
        let mut r = XorShift::seeded();
        let v: Vec<f64> = (0..10_000).map(|_| r.unit()).collect();
        assert!(v.iter().all(|x| (0.0..1.0).contains(x)));
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        assert!((0.45..0.55).contains(&mean), "{mean}");
    }
}
