//! Errors of the RAMF layer: one enum for decoding/encoding, one for validation.

use chrono::{DateTime, Utc};
use thiserror::Error;

use crate::protocols::awala::cms::CmsError;
use crate::protocols::awala::error::{Asn1Error, ProtocolErrorKind};
use crate::protocols::awala::pki::PkiError;

/// A RAMF message could not be read or written.
#[derive(Debug, Error)]
pub enum RamfError {
    #[error("{what} is {actual} octets long, over the limit of {limit}")]
    TooLarge {
        what: &'static str,
        actual: usize,
        limit: usize,
    },
    #[error("format signature: {0}")]
    FormatSignature(Asn1Error),
    #[error("signed data: {0}")]
    SignedData(#[from] CmsError),
    #[error("field set: {0}")]
    FieldSet(Asn1Error),
    #[error("certificate: {0}")]
    Certificate(#[from] PkiError),
}

impl RamfError {
    pub fn kind(&self) -> ProtocolErrorKind {
        match self {
            RamfError::TooLarge { .. } => ProtocolErrorKind::TooLarge,
            RamfError::FormatSignature(error) | RamfError::FieldSet(error) => error.kind(),
            RamfError::SignedData(error) => error.kind(),
            RamfError::Certificate(error) => error.kind(),
        }
    }
}

/// A well-formed RAMF message failed validation.
#[derive(Debug, Error)]
pub enum ValidationError {
    #[error("message is dated in the future ({creation_date}, now {now})")]
    FutureDated {
        creation_date: DateTime<Utc>,
        now: DateTime<Utc>,
    },
    #[error("message expired at {expiry_date} (now {now})")]
    Expired {
        expiry_date: DateTime<Utc>,
        now: DateTime<Utc>,
    },
    #[error("sender certificate is not valid at {now}")]
    SenderCertificateNotValid { now: DateTime<Utc> },
    #[error("sender is not authorised: {0}")]
    Untrusted(PkiError),
    #[error("sender is authorised to reach {authorised}, not recipient {recipient}")]
    RecipientMismatch {
        authorised: String,
        recipient: String,
    },
}

impl ValidationError {
    pub fn kind(&self) -> ProtocolErrorKind {
        ProtocolErrorKind::Invalid
    }
}
