//! A bounded memo of parsed certificates, keyed by the SHA-256 of their DER.
//!
//! Every parcel carries its sender's chain, and a sender's chain rarely changes, so parsing it
//! again for each parcel (X.509 decoding, the RSA key through OpenSSL, extensions) is most of
//! what validating a parcel costs besides its one RSA verification. A [`Certificate`] is
//! immutable and everything time-dependent is evaluated at validation, so handing out the same
//! parsed value for the same octets changes no outcome; only octets that parsed are remembered.

use super::certificate::Certificate;
use super::error::PkiError;
use super::memo::BoundedMemo;
use crate::protocols::awala::keys::sha256;
use crate::protocols::awala::limits::{CERTIFICATE_CACHE_CAPACITY, MAX_CERTIFICATE_LENGTH};

/// Thread-safe, bounded cache of parsed certificates. When full, the oldest entry is evicted.
#[derive(Debug)]
pub struct CertificateCache {
    parsed: BoundedMemo<[u8; 32], Certificate>,
}

impl CertificateCache {
    /// A cache holding up to [`CERTIFICATE_CACHE_CAPACITY`] certificates.
    pub fn new() -> Self {
        Self::with_capacity(CERTIFICATE_CACHE_CAPACITY)
    }

    /// A cache holding up to `capacity` certificates (at least one).
    pub fn with_capacity(capacity: usize) -> Self {
        CertificateCache {
            parsed: BoundedMemo::with_capacity(capacity),
        }
    }

    /// The certificate `der` encodes: [`Certificate::from_der`], unless the same octets parsed
    /// before.
    pub fn parse(&self, der: &[u8]) -> Result<Certificate, PkiError> {
        // Refused before hashing, exactly as `from_der` would refuse it.
        if der.len() > MAX_CERTIFICATE_LENGTH {
            return Certificate::from_der(der);
        }
        let digest = sha256(der);
        if let Some(certificate) = self.parsed.get(&digest) {
            return Ok(certificate);
        }
        // Parse outside the lock: it is the slow part and must not serialise callers.
        let certificate = Certificate::from_der(der)?;
        self.parsed.insert(digest, certificate.clone());
        Ok(certificate)
    }

    /// Number of remembered certificates.
    pub fn len(&self) -> usize {
        self.parsed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Lookups answered from the cache so far.
    pub fn hits(&self) -> u64 {
        self.parsed.hits()
    }

    /// Lookups that needed a parse so far.
    pub fn misses(&self) -> u64 {
        self.parsed.misses()
    }
}

impl Default for CertificateCache {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocols::awala::pki::testing;

    #[test]
    fn a_repeated_certificate_is_parsed_once_and_equal() {
        let cache = CertificateCache::new();
        let original = testing::chain().pda;
        let first = cache.parse(original.der()).unwrap();
        let second = cache.parse(original.der()).unwrap();
        assert_eq!(first, original);
        assert_eq!(second, original);
        assert_eq!((cache.misses(), cache.hits(), cache.len()), (1, 1, 1));
    }

    #[test]
    fn unparseable_octets_are_refused_every_time_and_not_remembered() {
        let cache = CertificateCache::new();
        for _ in 0..2 {
            assert!(cache.parse(b"\x30\x03\x02\x01\x01").is_err());
        }
        assert!(cache.is_empty());
        let oversized = vec![0u8; MAX_CERTIFICATE_LENGTH + 1];
        assert!(matches!(
            cache.parse(&oversized),
            Err(PkiError::TooLarge { .. })
        ));
    }

    #[test]
    fn the_oldest_certificate_is_evicted_when_full() {
        let cache = CertificateCache::with_capacity(2);
        let chain = testing::chain();
        let certificates = [chain.pda, chain.endpoint, chain.private_gateway];
        for certificate in &certificates {
            cache.parse(certificate.der()).unwrap();
        }
        assert_eq!(cache.len(), 2);
        cache.parse(certificates[2].der()).unwrap();
        assert_eq!(cache.hits(), 1);
        cache.parse(certificates[0].der()).unwrap();
        assert_eq!(cache.misses(), 4);
    }
}
