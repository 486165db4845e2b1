//! Detached signatures (notes §3.2): PoWeb parcel-delivery countersignatures and handshake nonce
//! signatures.
//!
//! The signed content is not the plaintext itself but the "safe plaintext"
//! `SEQUENCE { [0] IMPLICIT OBJECT IDENTIFIER type, [1] IMPLICIT OCTET STRING plaintext }`, so a
//! signature made for one purpose cannot be replayed for another.

use const_oid::ObjectIdentifier;

use super::super::keys::{HashAlgorithm, IdentityPrivateKey};
use super::super::limits::MAX_RAMF_MESSAGE_LENGTH;
use super::error::CmsError;
use super::signed_data::{build, verify_detached_content, SignedDataVerified};
use super::tlv::{context, tlv, TAG_SEQUENCE};

pub use super::oids::{HANDSHAKE_NONCE_SIGNATURE_OID, PARCEL_DELIVERY_SIGNATURE_OID};

/// Signs `plaintext` for the purpose `oid` without encapsulating it; `certificates` holds only
/// the signer's certificate, as relaynet-core expects.
pub fn sign_detached(
    oid: &ObjectIdentifier,
    plaintext: &[u8],
    signer_key: &IdentityPrivateKey,
    signer_certificate_der: &[u8],
    hash: HashAlgorithm,
) -> Result<Vec<u8>, CmsError> {
    check_plaintext_length(plaintext)?;
    let content = safe_plaintext(oid, plaintext);
    build(&content, None, signer_key, &[signer_certificate_der], hash)
}

/// Verifies a detached `signature` made for purpose `oid` over `plaintext`. A signature that
/// encapsulates content is refused (relaynet-core does the same). `plaintext` in the result is
/// left empty: the caller already holds it.
pub fn verify_detached(
    signature: &[u8],
    oid: &ObjectIdentifier,
    plaintext: &[u8],
) -> Result<SignedDataVerified, CmsError> {
    check_plaintext_length(plaintext)?;
    verify_detached_content(signature, &safe_plaintext(oid, plaintext))
}

fn check_plaintext_length(plaintext: &[u8]) -> Result<(), CmsError> {
    if plaintext.len() > MAX_RAMF_MESSAGE_LENGTH {
        return Err(CmsError::TooLarge {
            what: "detached signature plaintext",
            actual: plaintext.len(),
            limit: MAX_RAMF_MESSAGE_LENGTH,
        });
    }
    Ok(())
}

/// The DER safe plaintext for `oid` and `plaintext`.
fn safe_plaintext(oid: &ObjectIdentifier, plaintext: &[u8]) -> Vec<u8> {
    tlv(
        TAG_SEQUENCE,
        &[
            &tlv(context(0), &[oid.as_bytes()]),
            &tlv(context(1), &[plaintext]),
        ],
    )
}
