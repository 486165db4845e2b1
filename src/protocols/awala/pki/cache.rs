//! A bounded memo of successful certificate signature checks.
//!
//! Parcels from one sender carry the same chain, so after the first parcel every RSA
//! verification in its path is a hash-set lookup. Entries are keyed by the SHA-256 of both
//! certificates' full DER, so a hit can only ever repeat a check that really succeeded; validity
//! at `now` and the other path rules are still evaluated on every validation.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use super::certificate::Certificate;
use super::error::PkiError;
use crate::protocols::awala::limits::SIGNATURE_CACHE_CAPACITY;

/// `SHA-256(child DER) || SHA-256(issuer DER)`.
type CacheKey = [u8; 64];

/// Thread-safe, bounded cache of verified (certificate, issuer) signature pairs. When full, the
/// oldest entry is evicted.
#[derive(Debug)]
pub struct SignatureCache {
    capacity: usize,
    state: Mutex<CacheState>,
    hits: AtomicU64,
    misses: AtomicU64,
}

#[derive(Debug, Default)]
struct CacheState {
    entries: HashSet<CacheKey>,
    insertion_order: VecDeque<CacheKey>,
}

impl SignatureCache {
    /// A cache holding up to [`SIGNATURE_CACHE_CAPACITY`] entries.
    pub fn new() -> Self {
        Self::with_capacity(SIGNATURE_CACHE_CAPACITY)
    }

    /// A cache holding up to `capacity` entries (at least one).
    pub fn with_capacity(capacity: usize) -> Self {
        SignatureCache {
            capacity: capacity.max(1),
            state: Mutex::new(CacheState::default()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Checks `child`'s signature with `issuer`'s key, unless that exact pair verified before.
    pub fn verify(&self, child: &Certificate, issuer: &Certificate) -> Result<(), PkiError> {
        let key = cache_key(child, issuer);
        if self.lock().entries.contains(&key) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        // Verify outside the lock: RSA is the slow part and must not serialise callers.
        child.verify_issued_by(issuer)?;
        let mut state = self.lock();
        if state.entries.insert(key) {
            state.insertion_order.push_back(key);
            while state.insertion_order.len() > self.capacity {
                if let Some(oldest) = state.insertion_order.pop_front() {
                    state.entries.remove(&oldest);
                }
            }
        }
        Ok(())
    }

    /// Number of remembered pairs.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Lookups answered from the cache so far.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// Lookups that needed an RSA verification so far.
    pub fn misses(&self) -> u64 {
        self.misses.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheState> {
        // Every mutation leaves the set and queue consistent, so a panic elsewhere while the
        // lock was held cannot have corrupted them.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Default for SignatureCache {
    fn default() -> Self {
        Self::new()
    }
}

fn cache_key(child: &Certificate, issuer: &Certificate) -> CacheKey {
    let mut key = [0u8; 64];
    key[..32].copy_from_slice(child.der_digest());
    key[32..].copy_from_slice(issuer.der_digest());
    key
}
