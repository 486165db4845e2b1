//! Key-encryption-key derivation for ECDH key agreement (RFC 5753 §7.2, ANSI X9.63 KDF).

use const_oid::ObjectIdentifier;

use super::super::keys::HashAlgorithm;
use super::oids;
use super::tlv::{context_constructed, tlv, TAG_NULL, TAG_OCTET_STRING, TAG_SEQUENCE};

/// DER `ECC-CMS-SharedInfo` for a wrap algorithm, UKM and KEK size.
///
/// `wrap_params_null` selects `keyInfo = {wrapOID, NULL}` instead of `{wrapOID}`: pkijs tries
/// both when unwrapping, so some producer may have used either.
pub(crate) fn shared_info(
    wrap_oid: &ObjectIdentifier,
    wrap_params_null: bool,
    ukm: Option<&[u8]>,
    kek_len: usize,
) -> Vec<u8> {
    let oid = oids::oid_der(wrap_oid);
    let key_info = if wrap_params_null {
        tlv(TAG_SEQUENCE, &[&oid, &[TAG_NULL, 0]])
    } else {
        tlv(TAG_SEQUENCE, &[&oid])
    };
    let bits = ((kek_len * 8) as u32).to_be_bytes();
    let supp_pub_info = tlv(context_constructed(2), &[&tlv(TAG_OCTET_STRING, &[&bits])]);
    match ukm {
        Some(ukm) => {
            let entity_u_info = tlv(context_constructed(0), &[&tlv(TAG_OCTET_STRING, &[ukm])]);
            tlv(TAG_SEQUENCE, &[&key_info, &entity_u_info, &supp_pub_info])
        }
        None => tlv(TAG_SEQUENCE, &[&key_info, &supp_pub_info]),
    }
}

/// X9.63 KDF: the first `length` octets of `H(Z ‖ 1 ‖ info) ‖ H(Z ‖ 2 ‖ info) ‖ …`.
pub(crate) fn x963_kdf(
    hash: HashAlgorithm,
    shared_secret: &[u8],
    shared_info: &[u8],
    length: usize,
) -> Vec<u8> {
    let mut output = Vec::with_capacity(length + hash.output_len());
    let mut input = Vec::with_capacity(shared_secret.len() + 4 + shared_info.len());
    let mut counter: u32 = 1;
    while output.len() < length {
        input.clear();
        input.extend_from_slice(shared_secret);
        input.extend_from_slice(&counter.to_be_bytes());
        input.extend_from_slice(shared_info);
        output.extend_from_slice(&hash.digest(&input));
        counter += 1;
    }
    output.truncate(length);
    output
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kdf_matches_the_definition_across_block_boundaries() {
        let z = [7u8; 32];
        let info = b"info";
        let long = x963_kdf(HashAlgorithm::Sha256, &z, info, 40);
        let first = HashAlgorithm::Sha256.digest(&[&z[..], &[0, 0, 0, 1], info].concat());
        let second = HashAlgorithm::Sha256.digest(&[&z[..], &[0, 0, 0, 2], info].concat());
        assert_eq!(&long[..32], &first[..]);
        assert_eq!(&long[32..], &second[..8]);
        assert_eq!(x963_kdf(HashAlgorithm::Sha512, &z, info, 16).len(), 16);
    }

    #[test]
    fn shared_info_has_the_rfc_5753_shape() {
        let info = shared_info(&oids::ID_AES128_WRAP, false, Some(&[1, 2]), 16);
        let expected =
            hex::decode("301b300b0609608648016503040105a00404020102a206040400000080").unwrap();
        assert_eq!(info, expected);
        let without_ukm = shared_info(&oids::ID_AES256_WRAP, true, None, 32);
        let expected = hex::decode("3017300d060960864801650304012d0500a206040400000100").unwrap();
        assert_eq!(without_ukm, expected);
    }
}
