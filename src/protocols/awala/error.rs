//! Error kinds shared by every layer of the protocol core.
//!
//! Each layer (ASN.1, keys, PKI, CMS, RAMF, validation) has its own `thiserror` enum; each
//! implements `kind()` so that bindings map failures to HTTP, gRPC and WebSocket codes without
//! matching on strings.

use thiserror::Error;

/// What went wrong, in the terms a binding needs to pick a status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProtocolErrorKind {
    /// The bytes do not parse: bad BER/DER, wrong format signature, field out of syntax.
    Malformed,
    /// Well-formed but breaks a rule: bad signature, expired, future-dated, untrusted, misaddressed.
    Invalid,
    /// Decryption needs a private key we do not hold (or one bound to another peer).
    UnknownKey,
    /// Over a size limit of `limits.rs`.
    TooLarge,
    /// Our own failure while producing something (crypto library error, bad arguments).
    Internal,
}

/// ASN.1 decoding and encoding failures (BER/DER structure, field syntax).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum Asn1Error {
    #[error("malformed asn.1: {0}")]
    Malformed(String),
    #[error("{what} is {actual} octets long, over the limit of {limit}")]
    TooLarge {
        what: &'static str,
        actual: usize,
        limit: usize,
    },
    #[error("asn.1 encoding failed: {0}")]
    Encode(String),
}

impl Asn1Error {
    pub fn malformed(message: impl Into<String>) -> Self {
        Asn1Error::Malformed(message.into())
    }

    pub fn kind(&self) -> ProtocolErrorKind {
        match self {
            Asn1Error::Malformed(_) => ProtocolErrorKind::Malformed,
            Asn1Error::TooLarge { .. } => ProtocolErrorKind::TooLarge,
            Asn1Error::Encode(_) => ProtocolErrorKind::Internal,
        }
    }
}

impl From<der::Error> for Asn1Error {
    fn from(error: der::Error) -> Self {
        Asn1Error::Malformed(error.to_string())
    }
}

/// Key handling and primitive failures (parsing keys, signing, key agreement).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CryptoError {
    #[error("malformed key: {0}")]
    MalformedKey(String),
    #[error("unsupported key: {0}")]
    UnsupportedKey(String),
    #[error("crypto primitive failed: {0}")]
    Primitive(String),
}

impl CryptoError {
    pub fn kind(&self) -> ProtocolErrorKind {
        match self {
            CryptoError::MalformedKey(_) => ProtocolErrorKind::Malformed,
            CryptoError::UnsupportedKey(_) => ProtocolErrorKind::Invalid,
            CryptoError::Primitive(_) => ProtocolErrorKind::Internal,
        }
    }
}

impl From<openssl::error::ErrorStack> for CryptoError {
    fn from(error: openssl::error::ErrorStack) -> Self {
        CryptoError::Primitive(error.to_string())
    }
}
