//! CMS profiles of Awala (notes §3): SignedData, detached signatures and channel-session
//! EnvelopedData.
//!
//! Pure code over byte slices. Input is BER as the libraries emit it (indefinite lengths,
//! segmented strings); output is strict DER. ASN.1 is walked with a small borrowed TLV reader
//! so the verify path neither copies fields nor re-encodes what a signature covers.
//!
//! Layout:
//! - [`error`]: [`CmsError`] and its mapping to protocol error kinds.
//! - `ber`, `tlv`: BER → DER normalisation, DER reading and writing.
//! - `oids`, `algorithms`, `certificate`: identifiers, AlgorithmIdentifiers, certificate fields.
//! - [`signed_data`] (+ `signed_data_parse`), [`detached`]: signatures.
//! - [`enveloped_data`] (+ `enveloped_data_parse`, `envelope_options`, `kdf`): session
//!   encryption with ECDH key agreement.
//! - Tests: `*_tests.rs`, `test_support.rs` (throwaway certificates, DER → BER rewriter) and
//!   `testdata/` (relaynet-core and Bouncy Castle vectors, the scripts that regenerate them and
//!   by-hand checks that both libraries accept our output).

mod algorithms;
mod ber;
mod certificate;
pub mod detached;
pub mod envelope_options;
pub mod enveloped_data;
mod enveloped_data_parse;
pub mod error;
mod kdf;
mod oids;
pub mod signed_data;
mod signed_data_parse;
mod tlv;

#[cfg(test)]
mod enveloped_data_tests;
#[cfg(test)]
mod signed_data_tests;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod vector_tests;

pub use detached::{
    sign_detached, verify_detached, HANDSHAKE_NONCE_SIGNATURE_OID, PARCEL_DELIVERY_SIGNATURE_OID,
};
pub use envelope_options::{ContentCipher, EnvelopeOptions, KeyWrap};
pub use enveloped_data::{
    session_decrypt, session_encrypt, session_envelope_info, SessionDecryption, SessionEncryption,
    SessionEnvelopeInfo,
};
pub use error::CmsError;
pub use signed_data::{sign, verify, verify_resolving, SignedDataResolved, SignedDataVerified};
