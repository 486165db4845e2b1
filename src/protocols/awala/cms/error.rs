//! Errors of the CMS layer, classified by [`ProtocolErrorKind`].

use thiserror::Error;

use super::super::error::{CryptoError, ProtocolErrorKind};

/// Why a CMS value could not be produced, parsed, verified or decrypted.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CmsError {
    /// The bytes are not the BER/DER structure we expect.
    #[error("malformed cms value: {0}")]
    Malformed(String),
    /// Well-formed, but the digest, signature, algorithm or content type is not acceptable.
    #[error("invalid cms value: {0}")]
    Invalid(String),
    /// The envelope is for a key we were not given, or the given key does not open it.
    #[error("unknown key: {0}")]
    UnknownKey(String),
    /// Over a size or count limit of `limits.rs`.
    #[error("{what} is {actual} long, over the limit of {limit}")]
    TooLarge {
        what: &'static str,
        actual: usize,
        limit: usize,
    },
    /// Our own failure while producing a value (crypto library error, bad arguments).
    #[error("cms internal error: {0}")]
    Internal(String),
}

impl CmsError {
    pub(crate) fn malformed(message: impl Into<String>) -> Self {
        CmsError::Malformed(message.into())
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        CmsError::Invalid(message.into())
    }

    pub(crate) fn internal(message: impl Into<String>) -> Self {
        CmsError::Internal(message.into())
    }

    /// The kind a binding maps to a status code.
    pub fn kind(&self) -> ProtocolErrorKind {
        match self {
            CmsError::Malformed(_) => ProtocolErrorKind::Malformed,
            CmsError::Invalid(_) => ProtocolErrorKind::Invalid,
            CmsError::UnknownKey(_) => ProtocolErrorKind::UnknownKey,
            CmsError::TooLarge { .. } => ProtocolErrorKind::TooLarge,
            CmsError::Internal(_) => ProtocolErrorKind::Internal,
        }
    }

    /// A key problem met while *reading* a value: malformed keys stay malformed, unsupported
    /// ones are invalid input, primitive failures are ours.
    pub(crate) fn from_input_key(error: CryptoError) -> Self {
        match error {
            CryptoError::MalformedKey(m) => CmsError::Malformed(format!("key: {m}")),
            CryptoError::UnsupportedKey(m) => CmsError::Invalid(format!("key: {m}")),
            CryptoError::Primitive(m) => CmsError::Internal(m),
        }
    }
}

impl From<openssl::error::ErrorStack> for CmsError {
    fn from(error: openssl::error::ErrorStack) -> Self {
        CmsError::Internal(error.to_string())
    }
}
