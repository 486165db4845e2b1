//! Object identifiers of the CMS profiles (notes Appendix A).
//!
//! Parsers compare the received OID content octets with [`ObjectIdentifier::as_bytes`], which
//! avoids decoding OIDs on the verify path.

use const_oid::ObjectIdentifier;

const fn oid(dotted: &str) -> ObjectIdentifier {
    ObjectIdentifier::new_unwrap(dotted)
}

pub const ID_DATA: ObjectIdentifier = oid("1.2.840.113549.1.7.1");
pub const ID_SIGNED_DATA: ObjectIdentifier = oid("1.2.840.113549.1.7.2");
pub const ID_ENVELOPED_DATA: ObjectIdentifier = oid("1.2.840.113549.1.7.3");

pub const ID_CONTENT_TYPE: ObjectIdentifier = oid("1.2.840.113549.1.9.3");
pub const ID_MESSAGE_DIGEST: ObjectIdentifier = oid("1.2.840.113549.1.9.4");

pub const ID_RSASSA_PSS: ObjectIdentifier = oid("1.2.840.113549.1.1.10");
pub const ID_MGF1: ObjectIdentifier = oid("1.2.840.113549.1.1.8");

pub const ID_EC_PUBLIC_KEY: ObjectIdentifier = oid("1.2.840.10045.2.1");

pub const DH_SINGLE_PASS_STD_DH_SHA256_KDF: ObjectIdentifier = oid("1.3.132.1.11.1");
pub const DH_SINGLE_PASS_STD_DH_SHA384_KDF: ObjectIdentifier = oid("1.3.132.1.11.2");
pub const DH_SINGLE_PASS_STD_DH_SHA512_KDF: ObjectIdentifier = oid("1.3.132.1.11.3");

pub const ID_AES128_WRAP: ObjectIdentifier = oid("2.16.840.1.101.3.4.1.5");
pub const ID_AES192_WRAP: ObjectIdentifier = oid("2.16.840.1.101.3.4.1.25");
pub const ID_AES256_WRAP: ObjectIdentifier = oid("2.16.840.1.101.3.4.1.45");

pub const ID_AES128_CBC: ObjectIdentifier = oid("2.16.840.1.101.3.4.1.2");
pub const ID_AES192_CBC: ObjectIdentifier = oid("2.16.840.1.101.3.4.1.22");
pub const ID_AES256_CBC: ObjectIdentifier = oid("2.16.840.1.101.3.4.1.42");

/// Unprotected EnvelopedData attribute carrying the originator's session key id.
pub const ORIGINATOR_SESSION_KEY_ID: ObjectIdentifier = oid("1.3.6.1.4.1.58708.0.1.0");

/// Detached-signature type: parcel delivery countersignature (PoWeb).
pub const PARCEL_DELIVERY_SIGNATURE_OID: ObjectIdentifier = oid("1.3.6.1.4.1.58708.0.3.0");
/// Detached-signature type: parcel-collection handshake nonce signature (PoWeb).
pub const HANDSHAKE_NONCE_SIGNATURE_OID: ObjectIdentifier = oid("1.3.6.1.4.1.58708.0.3.1");

/// DER `OBJECT IDENTIFIER` element.
pub(crate) fn oid_der(oid: &ObjectIdentifier) -> Vec<u8> {
    super::tlv::tlv(super::tlv::TAG_OID, &[oid.as_bytes()])
}

/// Whether OID content octets equal `oid`.
pub(crate) fn is(content: &[u8], oid: &ObjectIdentifier) -> bool {
    content == oid.as_bytes()
}
