//! Tests of `certificate.rs`: what parses, what does not, and that nothing panics.

use openssl::ec::{EcGroup, EcKey};
use openssl::nid::Nid;
use openssl::pkey::PKey;
use proptest::prelude::*;

use super::*;
use crate::protocols::awala::error::ProtocolErrorKind;
use crate::protocols::awala::pki::testing::{chain, keys, OpensslCertificate};

#[test]
fn oversized_input_is_refused_before_parsing() {
    let error = Certificate::from_der(&vec![0x30; MAX_CERTIFICATE_LENGTH + 1]).unwrap_err();
    assert_eq!(error.kind(), ProtocolErrorKind::TooLarge);
}

#[test]
fn garbage_and_trailing_data_are_malformed() {
    for input in [
        &b""[..],
        b"\x30\x00",
        b"not a certificate",
        b"\x30\x82\xff\xff",
    ] {
        let error = Certificate::from_der(input).unwrap_err();
        assert_eq!(error.kind(), ProtocolErrorKind::Malformed, "{input:?}");
    }
    let mut der = chain().pda.der().to_vec();
    der.push(0);
    assert_eq!(
        Certificate::from_der(&der).unwrap_err().kind(),
        ProtocolErrorKind::Malformed
    );
}

#[test]
fn pkcs1_signed_certificates_from_other_tools_parse_and_verify() {
    let c = chain();
    let k = keys();
    let spec = OpensslCertificate::new(
        &k.peer_endpoint.public_key(),
        Some(&c.endpoint),
        &k.endpoint,
    );
    let certificate = Certificate::from_der(&spec.der()).unwrap();
    assert_eq!(certificate.signature_hash(), HashAlgorithm::Sha256);
    assert_eq!(certificate.common_name().as_deref(), Some("openssl-made"));
    assert_eq!(certificate.subject_key_id(), None);
    assert_eq!(
        certificate.issuer_id().unwrap(),
        k.endpoint.public_key().node_id()
    );
    assert_eq!(certificate.serial_number(), &[0x2a]);
    certificate.verify_issued_by(&c.endpoint).unwrap();
    let error = certificate
        .verify_issued_by(&c.private_gateway)
        .unwrap_err();
    assert!(matches!(error, PkiError::BadSignature { .. }));
}

#[test]
fn only_v3_certificates_are_accepted() {
    let k = keys();
    let mut spec = OpensslCertificate::new(&k.other.public_key(), None, &k.other);
    spec.version = 0;
    spec.authority_key_id = false;
    let error = Certificate::from_der(&spec.der()).unwrap_err();
    assert_eq!(error.kind(), ProtocolErrorKind::Malformed);
}

#[test]
fn serial_numbers_of_up_to_20_octets_are_accepted() {
    let k = keys();
    let mut spec = OpensslCertificate::new(&k.other.public_key(), None, &k.other);
    spec.serial = vec![0x7f; 20];
    let certificate = Certificate::from_der(&spec.der()).unwrap();
    assert_eq!(certificate.serial_number().len(), 20);
    spec.serial = vec![0x7f; 21];
    assert!(Certificate::from_der(&spec.der()).is_err());
}

#[test]
fn non_rsa_subject_keys_are_refused() {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    let ec = PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap();
    let public = PKey::public_key_from_der(&ec.public_key_to_der().unwrap()).unwrap();
    let k = keys();
    let mut spec = OpensslCertificate::new(&k.other.public_key(), None, &k.other);
    spec.subject_key = public;
    let error = Certificate::from_der(&spec.der()).unwrap_err();
    assert!(matches!(error, PkiError::Key(_)));
    assert_eq!(error.kind(), ProtocolErrorKind::Invalid);
}

#[test]
fn self_issued_openssl_ca_is_recognised() {
    let k = keys();
    let mut spec = OpensslCertificate::new(&k.other.public_key(), None, &k.other);
    spec.ca = true;
    let certificate = Certificate::from_der(&spec.der()).unwrap();
    assert!(certificate.is_ca());
    assert!(certificate.is_self_issued());
    assert_eq!(certificate.path_len_constraint(), None);
    certificate.verify_issued_by(&certificate).unwrap();
}

#[test]
fn clones_share_the_parsed_certificate() {
    let pda = chain().pda;
    let clone = pda.clone();
    assert!(std::ptr::eq(pda.der().as_ptr(), clone.der().as_ptr()));
    assert_eq!(pda.der_digest(), &sha256(pda.der()));
    assert_eq!(pda.tbs_der(), &pda.der()[4..4 + pda.tbs_der().len()]);
}

fn valid_certificate_der() -> Vec<u8> {
    static DER: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    DER.get_or_init(|| chain().pda.der().to_vec()).clone()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = Certificate::from_der(&bytes);
    }

    #[test]
    fn mutated_certificates_never_panic(
        mutations in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        truncate in proptest::option::of(any::<prop::sample::Index>()),
    ) {
        let mut der = valid_certificate_der();
        for (index, value) in mutations {
            let position = index.index(der.len());
            der[position] = value;
        }
        if let Some(index) = truncate {
            der.truncate(index.index(der.len()));
        }
        if let Ok(certificate) = Certificate::from_der(&der) {
            // Whatever parses must answer every accessor without panicking.
            let _ = (certificate.common_name(), certificate.issuer_id(), certificate.is_ca());
            let _ = certificate.verify_issued_by(&certificate);
        }
    }
}

#[test]
fn subject_key_spki_is_the_canonical_rsa_encryption_form() {
    // `IdentityPublicKey::from_spki_der` takes an RSA-specific fast path; it must produce the
    // same bytes as OpenSSL's generic encoder, or node ids would change.
    let pda = chain().pda;
    let generic = pda.subject_public_key().pkey().public_key_to_der().unwrap();
    assert_eq!(pda.subject_public_key().spki_der(), &generic[..]);
    assert_eq!(
        pda.subject_id(),
        format!("0{}", hex::encode(sha256(&generic)))
    );
}

#[test]
fn duplicate_extensions_are_malformed() {
    let k = keys();
    let mut spec = OpensslCertificate::new(&k.other.public_key(), None, &k.other);
    spec.extra_extension = Some(("1.3.6.1.4.1.58708.0.0.0", false));
    assert!(Certificate::from_der(&spec.der()).is_ok());
    // A second basicConstraints next to the one the builder always adds.
    spec.extra_extension = Some(("2.5.29.19", false));
    let error = Certificate::from_der(&spec.der()).unwrap_err();
    assert_eq!(error.kind(), ProtocolErrorKind::Malformed);
    assert!(error.to_string().contains("duplicate"), "{error}");
}
