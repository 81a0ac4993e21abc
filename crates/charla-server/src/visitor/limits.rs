//! Rate limits of the visitor endpoints: a token bucket per client address and one per
//! visitor, kept in memory on each node (a visitor spread over nodes gets a little more).

use charla_core::ratelimit::TokenBucket;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

/// Entries not used for this long are forgotten when the table grows.
const IDLE_MS: i64 = 10 * 60 * 1000;
const SWEEP_ABOVE: usize = 10_000;

pub struct Buckets<K> {
    capacity: u32,
    per_second: f64,
    map: Mutex<HashMap<K, (TokenBucket, i64)>>,
}

impl<K: Eq + Hash + Clone> Buckets<K> {
    pub fn new(capacity: u32, per_second: f64) -> Self {
        Buckets { capacity, per_second, map: Mutex::new(HashMap::new()) }
    }

    /// Takes one token for `key`, or says how many milliseconds to wait.
    pub fn take(&self, key: &K, now: i64) -> Result<(), i64> {
        let Ok(mut map) = self.map.lock() else { return Ok(()) };
        if map.len() > SWEEP_ABOVE {
            map.retain(|_, (_, used)| now - *used < IDLE_MS);
        }
        let entry = map.entry(key.clone()).or_insert_with(|| (TokenBucket::new(self.capacity, self.per_second), now));
        entry.1 = now;
        entry.0.try_take(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_key_has_its_bucket() {
        let b = Buckets::new(2, 1.0);
        assert!(b.take(&"a", 0).is_ok());
        assert!(b.take(&"a", 0).is_ok());
        assert_eq!(b.take(&"a", 0), Err(1000));
        assert!(b.take(&"b", 0).is_ok());
        assert!(b.take(&"a", 1000).is_ok());
    }
}
