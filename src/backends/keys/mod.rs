//! Sealing private keys at rest: the metadata store only ever holds sealed bytes.
//!
//! Sealed format, version 1: `0x01 ‖ nonce (12) ‖ ciphertext ‖ tag (16)`, AES-256-GCM with the
//! key id (session key id, or node id for identity keys) as associated data, so a sealed blob
//! moved to another row fails to open instead of yielding the wrong key. Checked by
//! [`conformance`].

use async_trait::async_trait;

use super::error::BackendError;

pub mod conformance;
pub mod file;
pub mod kek;

pub use file::FileKeySealer;
pub use kek::{KekOrigin, KekSettings};

/// The current sealed-format version.
pub const SEALED_FORMAT_VERSION: u8 = 1;
pub const NONCE_LENGTH: usize = 12;
pub const TAG_LENGTH: usize = 16;
/// Largest plaintext sealed: PKCS#8 keys are a few KiB at most (RSA-4096 is about 2.4 KiB).
pub const MAX_PLAINTEXT_LENGTH: usize = 64 * 1024;

/// Seals and opens private keys. Used as `Arc<dyn KeySealer>`.
#[async_trait]
pub trait KeySealer: Send + Sync {
    /// Encrypts `plaintext` (a PKCS#8 DER key), bound to `key_id`.
    async fn seal(&self, key_id: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, BackendError>;
    /// Decrypts what [`KeySealer::seal`] produced for the same `key_id`; `Corrupt` if the blob is
    /// malformed, of an unknown version, tampered with, or sealed for another id or key.
    async fn unseal(&self, key_id: &[u8], sealed: &[u8]) -> Result<Vec<u8>, BackendError>;
    async fn health_check(&self) -> Result<(), BackendError>;
}
