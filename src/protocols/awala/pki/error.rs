//! Failures of certificate parsing, issuance and path validation.

use chrono::{DateTime, Utc};
use thiserror::Error;

use crate::protocols::awala::error::{CryptoError, ProtocolErrorKind};

/// Why a certificate could not be parsed, issued or trusted.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum PkiError {
    #[error("certificate is {actual} octets long, over the limit of {limit}")]
    TooLarge { actual: usize, limit: usize },
    #[error("malformed certificate: {0}")]
    Malformed(String),
    #[error("unsupported signature algorithm: {0}")]
    UnsupportedAlgorithm(String),
    #[error("unusable subject key: {0}")]
    Key(#[from] CryptoError),
    #[error("certificate of {subject_id} has an invalid signature")]
    BadSignature { subject_id: String },
    #[error("certificate of {subject_id} is only valid from {not_before} to {not_after}")]
    OutsideValidity {
        subject_id: String,
        not_before: DateTime<Utc>,
        not_after: DateTime<Utc>,
    },
    #[error("certificate of {subject_id} cannot issue certificates (not a ca)")]
    IssuerNotCa { subject_id: String },
    #[error("certificate of {subject_id} has an unknown critical extension {oid}")]
    UnknownCriticalExtension { subject_id: String, oid: String },
    #[error(
        "certificate of {subject_id} allows {limit} intermediate ca(s) below it, not {actual}"
    )]
    PathLenExceeded {
        subject_id: String,
        limit: u8,
        actual: usize,
    },
    #[error("issuer name of {subject_id}'s certificate does not match its issuer's subject")]
    NameChaining { subject_id: String },
    #[error("no certification path from {subject_id} to a trusted certificate")]
    Untrusted { subject_id: String },
    #[error("{actual} candidate certificates given, over the limit of {limit}")]
    TooManyCertificates { actual: usize, limit: usize },
    #[error("cannot issue certificate: {0}")]
    Issuance(String),
}

impl PkiError {
    pub(crate) fn malformed(message: impl Into<String>) -> Self {
        PkiError::Malformed(message.into())
    }

    /// The error kind bindings map to status codes.
    pub fn kind(&self) -> ProtocolErrorKind {
        match self {
            PkiError::TooLarge { .. } | PkiError::TooManyCertificates { .. } => {
                ProtocolErrorKind::TooLarge
            }
            PkiError::Malformed(_) => ProtocolErrorKind::Malformed,
            PkiError::Key(error) => error.kind(),
            PkiError::UnsupportedAlgorithm(_)
            | PkiError::BadSignature { .. }
            | PkiError::OutsideValidity { .. }
            | PkiError::IssuerNotCa { .. }
            | PkiError::UnknownCriticalExtension { .. }
            | PkiError::PathLenExceeded { .. }
            | PkiError::NameChaining { .. }
            | PkiError::Untrusted { .. } => ProtocolErrorKind::Invalid,
            PkiError::Issuance(_) => ProtocolErrorKind::Internal,
        }
    }
}

impl From<der::Error> for PkiError {
    fn from(error: der::Error) -> Self {
        PkiError::Malformed(error.to_string())
    }
}
