//! What every binding and worker of one gateway process shares: the backends, the identity, the
//! configuration they need, the metrics and the certificate caches.
//!
//! Nothing here is state an actor could not rebuild: the identity is a cache of the metadata
//! store, the caches only remember parses and verifications.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use const_oid::ObjectIdentifier;
use thiserror::Error;
use tokio::sync::Notify;

use crate::actors::identity::GatewayIdentity;
use crate::actors::peer_quotas::PeerQuotas;
use crate::actors::private_gateways::PrivateGateways;
use crate::backends::Backends;
use crate::config::LimitsConfig;
use crate::protocols::awala::cms::{verify_detached, CmsError};
use crate::protocols::awala::pki::{build_certification_path, Certificate, PkiError};
use crate::protocols::awala::pki::{CertificateCache, SignatureCache};
use crate::protocols::awala::ramf::ValidationContext;
use crate::protocols::error_code::{GatewayErrorCode, HasErrorCode};
use crate::supervision::faults::Faults;
use crate::supervision::status::RoleRegistry;
use crate::telemetry::Metrics;

/// The shared context of one gateway process. Cheap to clone behind an `Arc`.
pub struct GatewayContext {
    pub backends: Backends,
    pub identity: Arc<GatewayIdentity>,
    /// Our Internet address: parcels addressed to it (or to no address) are for private peers.
    pub internet_address: String,
    pub limits: LimitsConfig,
    pub metrics: Metrics,
    pub signature_cache: Arc<SignatureCache>,
    /// Parsed sender chains, which every parcel of a sender repeats.
    pub certificate_cache: Arc<CertificateCache>,
    /// Fault points armed by tests; nothing is armed in production.
    pub faults: Arc<Faults>,
    /// Wakes the outbound dispatcher of this process (if it runs one) when a parcel is queued
    /// for the Internet; here rather than in the dispatcher so that it survives its restarts.
    pub outbound_wake: Arc<Notify>,
    /// The roles this process runs and whether their workers run, for `/health`.
    pub roles: Arc<RoleRegistry>,
    /// Revoked private gateways and recent sightings, between syncs with the registry.
    pub private_gateways: Arc<PrivateGateways>,
    /// Running totals of what is stored per private gateway, against its quotas.
    pub storage_quotas: Arc<PeerQuotas>,
    /// Running totals of the Internet-bound parcels each private gateway has pending.
    pub internet_bound_quotas: Arc<PeerQuotas>,
}

/// Why a private gateway's detached signature (countersignature, handshake nonce) was refused.
#[derive(Debug, Error)]
pub enum PeerAuthError {
    #[error("signature is invalid: {0}")]
    Signature(#[from] CmsError),
    #[error("signer certificate is invalid: {0}")]
    Certificate(PkiError),
    #[error("signer was not issued by this gateway: {0}")]
    Untrusted(PkiError),
    #[error("private gateway {0} was revoked")]
    Revoked(String),
}

impl HasErrorCode for PeerAuthError {
    fn error_code(&self) -> GatewayErrorCode {
        GatewayErrorCode::Unauthorized
    }
}

impl GatewayContext {
    pub fn new(
        backends: Backends,
        identity: Arc<GatewayIdentity>,
        internet_address: String,
        limits: LimitsConfig,
        metrics: Metrics,
    ) -> Self {
        let storage_quotas = PeerQuotas::new(
            limits.max_parcels_stored_per_private_gateway,
            limits.max_bytes_stored_per_private_gateway,
        );
        let internet_bound_quotas =
            PeerQuotas::internet_bound(limits.max_internet_bound_per_private_gateway);
        GatewayContext {
            backends,
            identity,
            internet_address,
            limits,
            metrics,
            signature_cache: Arc::new(SignatureCache::new()),
            certificate_cache: Arc::new(CertificateCache::new()),
            faults: Arc::new(Faults::new()),
            outbound_wake: Arc::new(Notify::new()),
            roles: Arc::new(RoleRegistry::new()),
            private_gateways: Arc::new(PrivateGateways::new()),
            storage_quotas,
            internet_bound_quotas,
        }
    }

    /// Uses `faults` (armed from `AWALA_TEST_FAULTS`, or by a test) instead of none.
    pub fn with_faults(mut self, faults: Arc<Faults>) -> Self {
        self.faults = faults;
        self
    }

    /// The validation policy at `now`: configured future tolerance, shared signature cache.
    pub fn validation_context(&self, now: DateTime<Utc>) -> ValidationContext<'_> {
        ValidationContext::new(now)
            .with_future_tolerance(self.future_tolerance())
            .with_cache(&self.signature_cache)
    }

    pub fn future_tolerance(&self) -> Duration {
        self.limits.future_message_tolerance()
    }

    /// Whether a recipient Internet address designates this gateway (or no gateway at all, which
    /// private endpoints use for peers behind the same Internet gateway).
    pub fn is_own_address(&self, internet_address_opt: Option<&str>) -> bool {
        match internet_address_opt {
            None => true,
            Some(address) => address.eq_ignore_ascii_case(&self.internet_address),
        }
    }

    /// Refuses a revoked private gateway (answering its id) and notes the others as seen: call
    /// it once a request proved which private gateway sent it.
    pub fn check_not_revoked(&self, pg_id: &str, now: DateTime<Utc>) -> Result<(), String> {
        if self.private_gateways.is_revoked(pg_id) {
            return Err(pg_id.to_owned());
        }
        self.private_gateways.saw(pg_id, now);
        Ok(())
    }

    /// Verifies a detached signature made by a private gateway for purpose `oid` over
    /// `plaintext`, and that its signer certificate was issued by one of our valid certificates
    /// (no intermediates, notes §3.2). Returns the signer's certificate, whose subject id is the
    /// private gateway's id.
    pub fn authenticate_private_gateway(
        &self,
        signature: &[u8],
        oid: &ObjectIdentifier,
        plaintext: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Certificate, PeerAuthError> {
        let verified = verify_detached(signature, oid, plaintext)?;
        let signer = self
            .certificate_cache
            .parse(&verified.signer_certificate_der)
            .map_err(PeerAuthError::Certificate)?;
        let anchors = self.identity.trust_anchors(now);
        build_certification_path(&signer, &[], &anchors, now, Some(&self.signature_cache))
            .map_err(PeerAuthError::Untrusted)?;
        self.check_not_revoked(signer.subject_id(), now)
            .map_err(PeerAuthError::Revoked)?;
        Ok(signer)
    }
}
