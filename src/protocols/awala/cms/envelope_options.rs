//! Algorithm choices of session EnvelopedData (notes §3.4).

use const_oid::ObjectIdentifier;
use openssl::symm::Cipher;

use super::super::keys::HashAlgorithm;
use super::oids;

/// AES key wrap (RFC 3394) used to wrap the content-encryption key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyWrap {
    Aes128,
    Aes192,
    Aes256,
}

impl KeyWrap {
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            KeyWrap::Aes128 => oids::ID_AES128_WRAP,
            KeyWrap::Aes192 => oids::ID_AES192_WRAP,
            KeyWrap::Aes256 => oids::ID_AES256_WRAP,
        }
    }

    /// Length of the key-encryption key in octets.
    pub fn key_len(self) -> usize {
        match self {
            KeyWrap::Aes128 => 16,
            KeyWrap::Aes192 => 24,
            KeyWrap::Aes256 => 32,
        }
    }

    pub(crate) fn from_oid_content(content: &[u8]) -> Option<Self> {
        [KeyWrap::Aes128, KeyWrap::Aes192, KeyWrap::Aes256]
            .into_iter()
            .find(|wrap| oids::is(content, &wrap.oid()))
    }
}

/// AES-CBC content encryption (what every Awala library emits; GCM is unused in practice).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentCipher {
    Aes128Cbc,
    Aes192Cbc,
    Aes256Cbc,
}

impl ContentCipher {
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            ContentCipher::Aes128Cbc => oids::ID_AES128_CBC,
            ContentCipher::Aes192Cbc => oids::ID_AES192_CBC,
            ContentCipher::Aes256Cbc => oids::ID_AES256_CBC,
        }
    }

    /// Length of the content-encryption key in octets.
    pub fn key_len(self) -> usize {
        match self {
            ContentCipher::Aes128Cbc => 16,
            ContentCipher::Aes192Cbc => 24,
            ContentCipher::Aes256Cbc => 32,
        }
    }

    pub(crate) fn cipher(self) -> Cipher {
        match self {
            ContentCipher::Aes128Cbc => Cipher::aes_128_cbc(),
            ContentCipher::Aes192Cbc => Cipher::aes_192_cbc(),
            ContentCipher::Aes256Cbc => Cipher::aes_256_cbc(),
        }
    }

    pub(crate) fn from_oid_content(content: &[u8]) -> Option<Self> {
        [
            ContentCipher::Aes128Cbc,
            ContentCipher::Aes192Cbc,
            ContentCipher::Aes256Cbc,
        ]
        .into_iter()
        .find(|cipher| oids::is(content, &cipher.oid()))
    }
}

/// The `dhSinglePass-stdDH-sha*kdf-scheme` OID for a KDF hash.
pub(crate) fn kdf_scheme_oid(hash: HashAlgorithm) -> ObjectIdentifier {
    match hash {
        HashAlgorithm::Sha256 => oids::DH_SINGLE_PASS_STD_DH_SHA256_KDF,
        HashAlgorithm::Sha384 => oids::DH_SINGLE_PASS_STD_DH_SHA384_KDF,
        HashAlgorithm::Sha512 => oids::DH_SINGLE_PASS_STD_DH_SHA512_KDF,
    }
}

pub(crate) fn kdf_hash_from_oid_content(content: &[u8]) -> Option<HashAlgorithm> {
    [
        HashAlgorithm::Sha256,
        HashAlgorithm::Sha384,
        HashAlgorithm::Sha512,
    ]
    .into_iter()
    .find(|hash| oids::is(content, &kdf_scheme_oid(*hash)))
}

/// How to build a session envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvelopeOptions {
    /// Hash of the X9.63 KDF, which also selects the key-agreement scheme OID.
    pub kdf_hash: HashAlgorithm,
    pub key_wrap: KeyWrap,
    pub content_cipher: ContentCipher,
}

impl Default for EnvelopeOptions {
    /// What awala-jvm emits and both libraries decrypt: SHA-256 KDF, AES-128 wrap, AES-128-CBC.
    fn default() -> Self {
        EnvelopeOptions {
            kdf_hash: HashAlgorithm::Sha256,
            key_wrap: KeyWrap::Aes128,
            content_cipher: ContentCipher::Aes128Cbc,
        }
    }
}

impl EnvelopeOptions {
    /// What relaynet-core (JS) emits: SHA-512 KDF, AES-256 wrap, AES-128-CBC. For tests.
    pub fn relaynet_core_js() -> Self {
        EnvelopeOptions {
            kdf_hash: HashAlgorithm::Sha512,
            key_wrap: KeyWrap::Aes256,
            content_cipher: ContentCipher::Aes128Cbc,
        }
    }
}
