//! Validation of RAMF messages as the libraries do it, plus a small tolerance for messages dated
//! in the future (the libraries allow none; senders back-date instead, see DESIGN.md §6).

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::error::ValidationError;
use super::message::RamfMessage;
use crate::protocols::awala::limits::DEFAULT_FUTURE_TOLERANCE;
use crate::protocols::awala::pki::{build_certification_path, Certificate, SignatureCache};

/// The clock and policy a validation runs with.
#[derive(Clone, Copy)]
pub struct ValidationContext<'a> {
    pub now: DateTime<Utc>,
    pub future_tolerance: Duration,
    /// Remembers verified certificate signatures so that chains shared by many messages cost one
    /// RSA verification each, once.
    pub signature_cache: Option<&'a SignatureCache>,
}

impl<'a> ValidationContext<'a> {
    pub fn new(now: DateTime<Utc>) -> Self {
        ValidationContext {
            now,
            future_tolerance: DEFAULT_FUTURE_TOLERANCE,
            signature_cache: None,
        }
    }

    pub fn with_cache(mut self, cache: &'a SignatureCache) -> Self {
        self.signature_cache = Some(cache);
        self
    }

    pub fn with_future_tolerance(mut self, tolerance: Duration) -> Self {
        self.future_tolerance = tolerance;
        self
    }
}

impl RamfMessage {
    /// Timing and the sender certificate's own validity: what the libraries check without trust
    /// anchors (used for Internet-bound parcels, whose recipients we do not serve).
    pub fn validate(&self, context: &ValidationContext<'_>) -> Result<(), ValidationError> {
        self.validate_timing(context)?;
        if !self.sender_certificate().is_valid_at(context.now) {
            return Err(ValidationError::SenderCertificateNotValid { now: context.now });
        }
        Ok(())
    }

    /// Timing, a certification path from the sender to one of `trusted`, and the libraries'
    /// authorisation rule: the sender certificate's issuer must be the recipient. Returns the
    /// path `[sender, …, trust anchor]`.
    pub fn validate_with_trust(
        &self,
        trusted: &[Certificate],
        context: &ValidationContext<'_>,
    ) -> Result<Vec<Certificate>, ValidationError> {
        self.validate_timing(context)?;
        let path = build_certification_path(
            self.sender_certificate(),
            self.sender_ca_certificates(),
            trusted,
            context.now,
            context.signature_cache,
        )
        .map_err(ValidationError::Untrusted)?;
        let authorised = path
            .get(1)
            .map(|issuer| issuer.subject_id().to_string())
            .unwrap_or_default();
        if authorised != self.recipient().id {
            return Err(ValidationError::RecipientMismatch {
                authorised,
                recipient: self.recipient().id.clone(),
            });
        }
        Ok(path)
    }

    fn validate_timing(&self, context: &ValidationContext<'_>) -> Result<(), ValidationError> {
        let tolerance = chrono::Duration::from_std(context.future_tolerance)
            .unwrap_or_else(|_| chrono::Duration::zero());
        if self.creation_date() > context.now + tolerance {
            return Err(ValidationError::FutureDated {
                creation_date: self.creation_date(),
                now: context.now,
            });
        }
        // Exactly at expiry is still valid, as in the libraries.
        if self.expiry_date() < context.now {
            return Err(ValidationError::Expired {
                expiry_date: self.expiry_date(),
                now: context.now,
            });
        }
        Ok(())
    }
}
