//! Certification path building and validation (notes §1.6).
//!
//! Mirrors what relaynet-core (pkijs) and awala-jvm (Bouncy Castle PKIX) accept:
//! candidate issuers are found by AKI keyIdentifier == SKI, falling back to issuer DN ==
//! subject DN when either identifier is missing; each link needs a valid signature, DN chaining,
//! `cA = TRUE` on the issuer, validity at `now`, no unknown critical extension and RFC 5280
//! `pathLenConstraint` compliance.
//!
//! Choices where the libraries differ or are loose:
//! - The search is breadth-first and prunes invalid links as it goes, so it returns the shortest
//!   *valid* path. pkijs picks the shortest path first and then fails if it is invalid (e.g. when
//!   an expired and a current certificate share a key), which is never more permissive.
//! - Paths have at least two certificates, as in pkijs: a trusted leaf is only accepted through
//!   a trusted issuer. A trusted *self-issued* CA leaf is its own issuer, giving `[leaf, leaf]`
//!   (pkijs returns the same); any other trusted leaf needs another trusted certificate above it.
//! - pathLenConstraint is also enforced on the trust anchor (RFC 5280 leaves anchor constraints
//!   optional); every Awala chain satisfies it.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};

use super::cache::SignatureCache;
use super::certificate::Certificate;
use super::error::PkiError;
use crate::protocols::awala::limits::{
    MAX_CERTIFICATION_PATH_LENGTH, MAX_PATH_CANDIDATE_CERTIFICATES,
};

/// Builds and validates the shortest path `[leaf, issuer, …, trusted anchor]` at `now`.
///
/// `intermediates` may contain irrelevant certificates, duplicates or the leaf itself.
/// `cache` (optional) skips repeated RSA verifications; every other check runs each time.
/// Fails with the most specific reason found, or [`PkiError::Untrusted`] when no candidate
/// issuer leads to a trusted certificate.
pub fn build_certification_path(
    leaf: &Certificate,
    intermediates: &[Certificate],
    trusted: &[Certificate],
    now: DateTime<Utc>,
    cache: Option<&SignatureCache>,
) -> Result<Vec<Certificate>, PkiError> {
    let candidate_count = intermediates.len() + trusted.len();
    if candidate_count > MAX_PATH_CANDIDATE_CERTIFICATES {
        return Err(PkiError::TooManyCertificates {
            actual: candidate_count,
            limit: MAX_PATH_CANDIDATE_CERTIFICATES,
        });
    }
    check_on_its_own(leaf, now)?;
    let pool = CandidatePool::new(leaf, intermediates, trusted);
    let mut search = Search {
        pool: &pool,
        now,
        cache,
        nodes: vec![Node {
            entry: 0,
            parent: None,
            depth: 0,
        }],
        reached: vec![false; pool.entries.len()],
        rejection: None,
    };
    search.reached[0] = true;
    match search.run() {
        Some(path) => Ok(path),
        None => {
            Err(search
                .rejection
                .map(|(_, error)| error)
                .unwrap_or_else(|| PkiError::Untrusted {
                    subject_id: leaf.subject_id().to_string(),
                }))
        }
    }
}

/// The leaf plus every distinct candidate issuer; entry 0 is always the leaf.
struct CandidatePool<'a> {
    entries: Vec<Entry<'a>>,
}

struct Entry<'a> {
    certificate: &'a Certificate,
    trusted: bool,
}

impl<'a> CandidatePool<'a> {
    fn new(
        leaf: &'a Certificate,
        intermediates: &'a [Certificate],
        trusted: &'a [Certificate],
    ) -> Self {
        let mut entries = vec![Entry {
            certificate: leaf,
            trusted: trusted.iter().any(|t| t == leaf),
        }];
        let tagged = trusted
            .iter()
            .map(|c| (c, true))
            .chain(intermediates.iter().map(|c| (c, false)));
        for (certificate, is_trusted) in tagged {
            // Trusted copies come first, so a certificate given both ways stays trusted.
            if !entries.iter().any(|e| e.certificate == certificate) {
                entries.push(Entry {
                    certificate,
                    trusted: is_trusted,
                });
            }
        }
        CandidatePool { entries }
    }
}

/// A certificate reached by the search, linked to the certificate it issued.
struct Node {
    entry: usize,
    parent: Option<usize>,
    depth: usize,
}

struct Search<'a> {
    pool: &'a CandidatePool<'a>,
    now: DateTime<Utc>,
    cache: Option<&'a SignatureCache>,
    nodes: Vec<Node>,
    /// Pool entries already on some path, so loops and re-expansion are impossible.
    reached: Vec<bool>,
    /// The rejection found deepest in the search, reported when no path exists.
    rejection: Option<(usize, PkiError)>,
}

impl Search<'_> {
    fn run(&mut self) -> Option<Vec<Certificate>> {
        let mut queue = VecDeque::from([0usize]);
        while let Some(node_index) = queue.pop_front() {
            let (child_entry, depth) = (self.nodes[node_index].entry, self.nodes[node_index].depth);
            // A path of `depth + 2` certificates would be the shortest left to find.
            if depth + 2 > MAX_CERTIFICATION_PATH_LENGTH {
                continue;
            }
            for candidate in 0..self.pool.entries.len() {
                let self_link = candidate == child_entry;
                // Only the leaf may issue itself, and only as a trusted anchor (see module docs).
                if self_link && !(child_entry == 0 && self.pool.entries[0].trusted) {
                    continue;
                }
                if !self_link && self.reached[candidate] {
                    continue;
                }
                let child = self.pool.entries[child_entry].certificate;
                let issuer = self.pool.entries[candidate].certificate;
                if !may_have_issued(issuer, child) {
                    continue;
                }
                if let Err(error) = self.check_link(node_index, issuer) {
                    if self.rejection.as_ref().is_none_or(|(d, _)| depth + 1 > *d) {
                        self.rejection = Some((depth + 1, error));
                    }
                    continue;
                }
                self.nodes.push(Node {
                    entry: candidate,
                    parent: Some(node_index),
                    depth: depth + 1,
                });
                let new_node = self.nodes.len() - 1;
                if self.pool.entries[candidate].trusted {
                    return Some(self.path_to(new_node));
                }
                self.reached[candidate] = true;
                queue.push_back(new_node);
            }
        }
        None
    }

    /// Whether `issuer` may sit directly above the certificate of node `child_node`.
    fn check_link(&self, child_node: usize, issuer: &Certificate) -> Result<(), PkiError> {
        let child = self.pool.entries[self.nodes[child_node].entry].certificate;
        if child.issuer_name_der() != issuer.subject_name_der() {
            return Err(PkiError::NameChaining {
                subject_id: child.subject_id().to_string(),
            });
        }
        if !issuer.is_ca() {
            return Err(PkiError::IssuerNotCa {
                subject_id: issuer.subject_id().to_string(),
            });
        }
        check_on_its_own(issuer, self.now)?;
        if let Some(limit) = issuer.path_len_constraint() {
            let below = self.intermediates_below(child_node);
            if below > usize::from(limit) {
                return Err(PkiError::PathLenExceeded {
                    subject_id: issuer.subject_id().to_string(),
                    limit,
                    actual: below,
                });
            }
        }
        // Last, because it is the only expensive check.
        match self.cache {
            Some(cache) => cache.verify(child, issuer),
            None => child.verify_issued_by(issuer),
        }
    }

    /// Non-self-issued certificates between the leaf (excluded) and node `node` (included):
    /// RFC 5280's count for pathLenConstraint.
    fn intermediates_below(&self, mut node: usize) -> usize {
        let mut count = 0;
        while let Some(parent) = self.nodes[node].parent {
            if !self.pool.entries[self.nodes[node].entry]
                .certificate
                .is_self_issued()
            {
                count += 1;
            }
            node = parent;
        }
        count
    }

    fn path_to(&self, mut node: usize) -> Vec<Certificate> {
        let mut path = vec![self.pool.entries[self.nodes[node].entry]
            .certificate
            .clone()];
        while let Some(parent) = self.nodes[node].parent {
            path.push(
                self.pool.entries[self.nodes[parent].entry]
                    .certificate
                    .clone(),
            );
            node = parent;
        }
        path.reverse();
        path
    }
}

/// The checks that concern one certificate alone.
fn check_on_its_own(certificate: &Certificate, now: DateTime<Utc>) -> Result<(), PkiError> {
    if !certificate.is_valid_at(now) {
        return Err(PkiError::OutsideValidity {
            subject_id: certificate.subject_id().to_string(),
            not_before: certificate.not_before(),
            not_after: certificate.not_after(),
        });
    }
    if let Some(oid) = certificate.unknown_critical_extension() {
        return Err(PkiError::UnknownCriticalExtension {
            subject_id: certificate.subject_id().to_string(),
            oid: oid.to_string(),
        });
    }
    Ok(())
}

/// pkijs' candidate test: key identifiers when both sides have one, names otherwise.
fn may_have_issued(issuer: &Certificate, child: &Certificate) -> bool {
    match (child.authority_key_id(), issuer.subject_key_id()) {
        (Some(authority_key_id), Some(subject_key_id)) => authority_key_id == subject_key_id,
        _ => child.issuer_name_der() == issuer.subject_name_der(),
    }
}

#[cfg(test)]
#[path = "path_tests.rs"]
mod tests;
