//! Token buckets: how providers' send limits are kept (Telegram: about 30 messages a second
//! per bot, one a second per chat, 20 a minute per group).

use crate::Millis;

/// A bucket of `capacity` tokens refilled at `per_second`; one send takes one token. Kept as
/// the generic cell rate algorithm on integer microseconds (no float rounding): `tat` is the
/// time at which the bucket would be full again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenBucket {
    /// Microseconds per token.
    interval_us: i64,
    /// How far ahead of now `tat` may run: (capacity - 1) intervals.
    tolerance_us: i64,
    tat_us: i64,
    /// No token is given before this time, in microseconds (a provider said "retry after").
    blocked_until_us: i64,
}

fn us(ms: Millis) -> i64 {
    ms.saturating_mul(1000)
}

impl TokenBucket {
    /// A full bucket. A capacity below one token, or a rate below one an hour, is raised to it.
    pub fn new(capacity: u32, per_second: f64) -> TokenBucket {
        let per_second = if per_second.is_finite() { per_second.max(1.0 / 3600.0) } else { 1.0 };
        let interval_us = ((1_000_000.0 / per_second).round() as i64).max(1);
        let tolerance_us = interval_us.saturating_mul(i64::from(capacity.max(1)) - 1);
        TokenBucket { interval_us, tolerance_us, tat_us: i64::MIN / 2, blocked_until_us: i64::MIN / 2 }
    }

    /// How long until a token is available (0: now), in milliseconds (rounded up), without
    /// taking it.
    pub fn wait_ms(&self, now: Millis) -> Millis {
        let now_us = us(now);
        let tat = self.tat_us.max(now_us);
        let refill = (tat - self.tolerance_us - now_us).max(0);
        let blocked = (self.blocked_until_us - now_us).max(0);
        let wait_us = refill.max(blocked);
        (wait_us + 999) / 1000
    }

    /// Takes a token now, or says how many milliseconds to wait first.
    pub fn try_take(&mut self, now: Millis) -> Result<(), Millis> {
        match self.wait_ms(now) {
            0 => {
                self.tat_us = self.tat_us.max(us(now)) + self.interval_us;
                Ok(())
            }
            wait => Err(wait),
        }
    }

    /// Gives no token before `until` (the provider asked to wait).
    pub fn block_until(&mut self, until: Millis) {
        self.blocked_until_us = self.blocked_until_us.max(us(until));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_per_second() {
        let mut b = TokenBucket::new(1, 1.0);
        assert_eq!(b.try_take(0), Ok(()));
        assert_eq!(b.try_take(0), Err(1000));
        assert_eq!(b.try_take(400), Err(600));
        assert_eq!(b.try_take(1000), Ok(()));
        assert_eq!(b.try_take(1500), Err(500));
    }

    #[test]
    fn bursts_up_to_capacity() {
        let mut b = TokenBucket::new(30, 30.0);
        for i in 0..30 {
            assert_eq!(b.try_take(0), Ok(()), "token {i}");
        }
        assert_eq!(b.try_take(0), Err(34));
        assert_eq!(b.try_take(34), Ok(()));
        // Idle time never stores more than the capacity.
        let mut b = TokenBucket::new(2, 1.0);
        assert_eq!(b.wait_ms(1_000_000), 0);
        assert!(b.try_take(1_000_000).is_ok() && b.try_take(1_000_000).is_ok());
        assert!(b.try_take(1_000_000).is_err());
    }

    #[test]
    fn blocking() {
        let mut b = TokenBucket::new(30, 30.0);
        b.block_until(5000);
        assert_eq!(b.try_take(1000), Err(4000));
        b.block_until(2000); // an earlier block never shortens a later one
        assert_eq!(b.try_take(4999), Err(1));
        assert_eq!(b.try_take(5000), Ok(()));
    }

    #[test]
    fn group_rate() {
        // 20 a minute, one at a time: one every 3 seconds.
        let mut b = TokenBucket::new(1, 20.0 / 60.0);
        assert_eq!(b.try_take(0), Ok(()));
        assert_eq!(b.try_take(0), Err(3000));
        assert_eq!(b.try_take(3000), Ok(()));
    }
}
