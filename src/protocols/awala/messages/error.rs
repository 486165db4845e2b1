//! Errors of the message codecs that go beyond ASN.1 structure: keys, signatures and expiry.

use chrono::{DateTime, Utc};
use thiserror::Error;

use crate::protocols::awala::error::{Asn1Error, CryptoError, ProtocolErrorKind};

/// A message failed to decode, verify or encode.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum MessageError {
    #[error(transparent)]
    Asn1(#[from] Asn1Error),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("{0} signature does not verify")]
    BadSignature(&'static str),
    #[error("{what} expired at {expiry}")]
    Expired {
        what: &'static str,
        expiry: DateTime<Utc>,
    },
    #[error("invalid internet address {0:?}")]
    InvalidInternetAddress(String),
    #[error("{0}")]
    InvalidArgument(String),
}

impl MessageError {
    /// The kind bindings map to a status code.
    pub fn kind(&self) -> ProtocolErrorKind {
        match self {
            MessageError::Asn1(error) => error.kind(),
            MessageError::Crypto(error) => error.kind(),
            MessageError::BadSignature(_) | MessageError::Expired { .. } => {
                ProtocolErrorKind::Invalid
            }
            MessageError::InvalidInternetAddress(_) => ProtocolErrorKind::Malformed,
            MessageError::InvalidArgument(_) => ProtocolErrorKind::Internal,
        }
    }
}
