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
use super::tlv::{context, push_length, tlv, TAG_SEQUENCE};

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
    let header = safe_plaintext_header(oid, plaintext.len());
    verify_detached_content(signature, &[&header, plaintext])
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
    let mut content = safe_plaintext_header(oid, plaintext.len());
    content.extend_from_slice(plaintext);
    content
}

/// Everything of the safe plaintext before the plaintext octets themselves.
fn safe_plaintext_header(oid: &ObjectIdentifier, plaintext_len: usize) -> Vec<u8> {
    let tagged_oid = tlv(context(0), &[oid.as_bytes()]);
    let mut plaintext_header = vec![context(1)];
    push_length(&mut plaintext_header, plaintext_len);
    let mut header = vec![TAG_SEQUENCE];
    push_length(
        &mut header,
        tagged_oid.len() + plaintext_header.len() + plaintext_len,
    );
    header.extend_from_slice(&tagged_oid);
    header.extend_from_slice(&plaintext_header);
    header
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_plaintext_is_the_der_sequence_of_tagged_oid_and_octets() {
        for length in [0usize, 5, 200, 70_000] {
            let plaintext = vec![0xAB; length];
            let expected = tlv(
                TAG_SEQUENCE,
                &[
                    &tlv(context(0), &[PARCEL_DELIVERY_SIGNATURE_OID.as_bytes()]),
                    &tlv(context(1), &[&plaintext]),
                ],
            );
            assert_eq!(
                safe_plaintext(&PARCEL_DELIVERY_SIGNATURE_OID, &plaintext),
                expected
            );
        }
        let short = safe_plaintext(&HANDSHAKE_NONCE_SIGNATURE_OID, b"n");
        assert_eq!(&short[..4], &[0x30, 0x10, 0x80, 0x0B]);
    }
}
