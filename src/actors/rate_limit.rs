//! Rate limits at the edge: one token bucket per source address (or per other key, such as a
//! private gateway's id), kept in a map whose size is bounded whatever the number of keys a
//! flood comes from.
//!
//! Addresses are grouped as a network hands them out: an IPv4 address on its own, an IPv6
//! address by its /64 (one subscriber's prefix, which it can fill with addresses at will), and
//! an IPv4-mapped IPv6 address as the IPv4 address it carries.
//!
//! The map has two generations: buckets are looked up in the current one, then the previous one
//! (and moved to the current one); when the current one is full, it becomes the previous one and
//! the older one is dropped. So memory stays within the configured number of addresses, every
//! operation is O(1), and an address forgotten this way is one that was quiet while half the map
//! filled with others. A flood from more addresses than that can reset its own buckets; the
//! bounded signing pool behind the limiter still caps the work it causes.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What an address's bucket is keyed by: see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceKey {
    V4(u32),
    V6Prefix(u64),
}

impl SourceKey {
    fn of(address: IpAddr) -> Self {
        match address {
            IpAddr::V4(v4) => SourceKey::V4(u32::from(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => SourceKey::V4(u32::from(v4)),
                None => SourceKey::V6Prefix((u128::from(v6) >> 64) as u64),
            },
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

#[derive(Debug)]
struct Generations<K> {
    current: HashMap<K, Bucket>,
    previous: HashMap<K, Bucket>,
}

/// A token bucket per key (by default, per source address): `burst` requests at once, refilled
/// at `rate_per_minute`.
#[derive(Debug)]
pub struct RateLimiter<K = SourceKey> {
    per_second: f64,
    burst: f64,
    generation_capacity: usize,
    generations: Mutex<Generations<K>>,
}

impl RateLimiter<SourceKey> {
    /// Takes one token for `source`, or says how long until one is available.
    pub fn check(&self, source: IpAddr) -> Result<(), Duration> {
        self.check_at(source, Instant::now())
    }

    fn check_at(&self, source: IpAddr, now: Instant) -> Result<(), Duration> {
        self.check_key_at(SourceKey::of(source), now)
    }
}

impl<K: Hash + Eq> RateLimiter<K> {
    /// A limiter tracking at most `tracked_addresses` keys at once.
    pub fn new(rate_per_minute: u32, burst: u32, tracked_addresses: usize) -> Self {
        RateLimiter {
            per_second: f64::from(rate_per_minute.max(1)) / 60.0,
            burst: f64::from(burst.max(1)),
            generation_capacity: (tracked_addresses / 2).max(1),
            generations: Mutex::new(Generations {
                current: HashMap::new(),
                previous: HashMap::new(),
            }),
        }
    }

    /// Takes one token for `key`, or says how long until one is available.
    pub fn check_key(&self, key: K) -> Result<(), Duration> {
        self.check_key_at(key, Instant::now())
    }

    fn check_key_at(&self, key: K, now: Instant) -> Result<(), Duration> {
        // A panic elsewhere while holding the lock leaves the buckets usable: they hold numbers.
        let mut generations = self
            .generations
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let found_opt = match generations.current.get(&key) {
            Some(bucket) => Some(*bucket),
            None => generations.previous.remove(&key),
        };
        let mut bucket = found_opt.unwrap_or(Bucket {
            tokens: self.burst,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.per_second).min(self.burst);
        bucket.updated = now;
        let verdict = if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - bucket.tokens) / self.per_second,
            ))
        };
        if !generations.current.contains_key(&key)
            && generations.current.len() >= self.generation_capacity
        {
            let full = std::mem::take(&mut generations.current);
            generations.previous = full;
        }
        generations.current.insert(key, bucket);
        verdict
    }

    /// Addresses tracked now (for tests and debugging).
    pub fn tracked(&self) -> usize {
        let generations = self
            .generations
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        generations.current.len() + generations.previous.len()
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;

    fn v4(last: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
    }

    #[test]
    fn admits_a_burst_then_refills_at_the_rate() {
        let limiter = RateLimiter::new(60, 3, 100);
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.check_at(v4(1), start), Ok(()));
        }
        let wait = limiter.check_at(v4(1), start).expect_err("burst spent");
        assert!(
            wait > Duration::from_millis(900) && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        // Another address has its own bucket.
        assert_eq!(limiter.check_at(v4(2), start), Ok(()));
        // One token per second at 60 per minute.
        let later = start + Duration::from_secs(1);
        assert_eq!(limiter.check_at(v4(1), later), Ok(()));
        assert!(limiter.check_at(v4(1), later).is_err());
        // Never more than the burst, however long the quiet.
        let much_later = start + Duration::from_secs(3_600);
        for _ in 0..3 {
            assert_eq!(limiter.check_at(v4(1), much_later), Ok(()));
        }
        assert!(limiter.check_at(v4(1), much_later).is_err());
    }

    #[test]
    fn ipv6_addresses_share_their_64_prefix_and_mapped_ipv4_is_ipv4() {
        let limiter = RateLimiter::new(1, 1, 100);
        let now = Instant::now();
        let first: Ipv6Addr = "2001:db8:1:2::1".parse().unwrap();
        let same_prefix: Ipv6Addr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other_prefix: Ipv6Addr = "2001:db8:1:3::1".parse().unwrap();
        assert!(limiter.check_at(IpAddr::V6(first), now).is_ok());
        assert!(limiter.check_at(IpAddr::V6(same_prefix), now).is_err());
        assert!(limiter.check_at(IpAddr::V6(other_prefix), now).is_ok());
        assert!(limiter.check_at(v4(7), now).is_ok());
        let mapped = Ipv4Addr::new(192, 0, 2, 7).to_ipv6_mapped();
        assert!(limiter.check_at(IpAddr::V6(mapped), now).is_err());
    }

    #[test]
    fn memory_stays_bounded_under_a_flood_of_addresses() {
        let limiter = RateLimiter::new(60, 1, 100);
        let now = Instant::now();
        for index in 0..100_000u32 {
            let address = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + index));
            let _ = limiter.check_at(address, now);
            assert!(limiter.tracked() <= 100, "at {index}");
        }
    }

    #[test]
    fn a_recently_seen_address_survives_one_generation_change() {
        let limiter = RateLimiter::new(1, 1, 10);
        let now = Instant::now();
        assert!(limiter.check_at(v4(1), now).is_ok());
        // Fill the rest of the current generation (capacity 5) and start a new one.
        for last in 2..=6 {
            let _ = limiter.check_at(v4(last), now);
        }
        assert!(
            limiter.check_at(v4(1), now).is_err(),
            "still limited after moving to the previous generation"
        );
    }
}
