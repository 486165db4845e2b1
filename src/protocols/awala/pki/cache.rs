//! A bounded memo of successful certificate signature checks.
//!
//! Parcels from one sender carry the same chain, so after the first parcel every RSA
//! verification in its path is a hash-set lookup. Entries are keyed by the SHA-256 of both
//! certificates' full DER, so a hit can only ever repeat a check that really succeeded; validity
//! at `now` and the other path rules are still evaluated on every validation.

use super::certificate::Certificate;
use super::error::PkiError;
use super::memo::BoundedMemo;
use crate::protocols::awala::limits::SIGNATURE_CACHE_CAPACITY;

/// `SHA-256(child DER) || SHA-256(issuer DER)`.
type CacheKey = [u8; 64];

/// Thread-safe, bounded cache of verified (certificate, issuer) signature pairs. When full, the
/// oldest entry is evicted.
#[derive(Debug)]
pub struct SignatureCache {
    verified: BoundedMemo<CacheKey, ()>,
}

impl SignatureCache {
    /// A cache holding up to [`SIGNATURE_CACHE_CAPACITY`] entries.
    pub fn new() -> Self {
        Self::with_capacity(SIGNATURE_CACHE_CAPACITY)
    }

    /// A cache holding up to `capacity` entries (at least one).
    pub fn with_capacity(capacity: usize) -> Self {
        SignatureCache {
            verified: BoundedMemo::with_capacity(capacity),
        }
    }

    /// Checks `child`'s signature with `issuer`'s key, unless that exact pair verified before.
    pub fn verify(&self, child: &Certificate, issuer: &Certificate) -> Result<(), PkiError> {
        let key = cache_key(child, issuer);
        if self.verified.get(&key).is_some() {
            return Ok(());
        }
        // Verify outside the lock: RSA is the slow part and must not serialise callers.
        child.verify_issued_by(issuer)?;
        self.verified.insert(key, ());
        Ok(())
    }

    /// Number of remembered pairs.
    pub fn len(&self) -> usize {
        self.verified.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Lookups answered from the cache so far.
    pub fn hits(&self) -> u64 {
        self.verified.hits()
    }

    /// Lookups that needed an RSA verification so far.
    pub fn misses(&self) -> u64 {
        self.verified.misses()
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
