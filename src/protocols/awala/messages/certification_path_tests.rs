use super::*;
use openssl::asn1::Asn1Time;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::PKey;
use openssl::x509::{X509Builder, X509NameBuilder};
use proptest::prelude::*;

fn certificate(common_name: &str) -> Vec<u8> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).expect("group");
    let key = PKey::from_ec_key(EcKey::generate(&group).expect("key")).expect("pkey");
    let mut name = X509NameBuilder::new().expect("name");
    name.append_entry_by_text("CN", common_name).expect("cn");
    let name = name.build();
    let mut builder = X509Builder::new().expect("builder");
    builder.set_version(2).expect("version");
    builder.set_subject_name(&name).expect("subject");
    builder.set_issuer_name(&name).expect("issuer");
    builder.set_pubkey(&key).expect("pubkey");
    builder
        .set_not_before(&Asn1Time::days_from_now(0).expect("time"))
        .expect("not before");
    builder
        .set_not_after(&Asn1Time::days_from_now(1).expect("time"))
        .expect("not after");
    builder.sign(&key, MessageDigest::sha256()).expect("sign");
    builder.build().to_der().expect("der")
}

fn sample() -> CertificationPath {
    CertificationPath {
        leaf_der: certificate("leaf"),
        certificate_authorities_der: vec![certificate("ca-1"), certificate("ca-2")],
    }
}

/// The JVM form, assembled by hand: re-tagged leaf, CA certificates inline.
fn jvm_form(path: &CertificationPath) -> Vec<u8> {
    let mut leaf = path.leaf_der.clone();
    leaf[0] = 0xA0;
    let authorities = tlv(
        ctx_constructed(1),
        &path.certificate_authorities_der.concat(),
    )
    .expect("tlv");
    tlv(Tag::Sequence, &[leaf, authorities].concat()).expect("tlv")
}

/// The JS form, assembled by hand.
fn js_form(path: &CertificationPath) -> Vec<u8> {
    let leaf = tlv(ctx(0), &path.leaf_der).expect("tlv");
    let wrapped: Vec<Vec<u8>> = path
        .certificate_authorities_der
        .iter()
        .map(|ca| tlv(Tag::OctetString, ca).expect("tlv"))
        .collect();
    let authorities = tlv(ctx_constructed(1), &wrapped.concat()).expect("tlv");
    tlv(Tag::Sequence, &[leaf, authorities].concat()).expect("tlv")
}

#[test]
fn both_encodings_decode_to_the_same_path() {
    let path = sample();
    let js = js_form(&path);
    let jvm = jvm_form(&path);
    assert_eq!(js[0..2], [0x30, 0x82]);
    assert_eq!(
        CertificationPath::decode_with_encoding(&js).expect("js"),
        (path.clone(), CertificationPathEncoding::Js)
    );
    assert_eq!(
        CertificationPath::decode_with_encoding(&jvm).expect("jvm"),
        (path.clone(), CertificationPathEncoding::Jvm)
    );
    assert_eq!(path.encode().expect("encode"), js);
    assert_eq!(
        path.encode_as(CertificationPathEncoding::Js).expect("js"),
        js
    );
    assert_eq!(
        path.encode_as(CertificationPathEncoding::Jvm).expect("jvm"),
        jvm
    );
}

#[test]
fn empty_authority_list_round_trips() {
    let path = CertificationPath {
        leaf_der: certificate("leaf"),
        certificate_authorities_der: Vec::new(),
    };
    for encoding in [
        CertificationPathEncoding::Js,
        CertificationPathEncoding::Jvm,
    ] {
        let encoded = path.encode_as(encoding).expect("encode");
        assert_eq!(CertificationPath::decode(&encoded).expect("decode"), path);
    }
}

#[test]
fn rejects_mixed_and_malformed_paths() {
    let path = sample();
    // JS leaf with JVM-style CA list.
    let leaf = tlv(ctx(0), &path.leaf_der).expect("tlv");
    let authorities = tlv(
        ctx_constructed(1),
        &path.certificate_authorities_der.concat(),
    )
    .expect("tlv");
    let mixed = tlv(Tag::Sequence, &[leaf, authorities].concat()).expect("tlv");
    assert!(CertificationPath::decode(&mixed).is_err());
    // Leaf octet string holding something other than one certificate.
    let mut not_a_certificate = path.clone();
    not_a_certificate.leaf_der.push(0);
    assert!(CertificationPath::decode(&js_form(&not_a_certificate)).is_err());
    assert!(not_a_certificate.encode().is_err());
    // Trailing octets.
    let mut trailing = js_form(&path);
    trailing.push(0);
    assert!(CertificationPath::decode(&trailing).is_err());
    // Missing CA list.
    let leaf_only = tlv(Tag::Sequence, &tlv(ctx(0), &path.leaf_der).expect("tlv")).expect("tlv");
    assert!(CertificationPath::decode(&leaf_only).is_err());
}

#[test]
fn rotation_carries_its_format_signature() {
    let rotation = CertificateRotation { path: sample() };
    for encoding in [
        CertificationPathEncoding::Js,
        CertificationPathEncoding::Jvm,
    ] {
        let serialized = rotation.serialize(encoding).expect("serialize");
        assert_eq!(&serialized[..7], b"Awala\x10\x00");
        assert_eq!(
            CertificateRotation::deserialize(&serialized).expect("deserialize"),
            rotation
        );
        assert!(CertificateRotation::deserialize(&serialized[7..]).is_err());
    }
}

/// Stand-in certificates: any SEQUENCE, which is all this layer checks.
fn fake_certificates() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..300)
        .prop_map(|contents| tlv(Tag::Sequence, &contents).expect("tlv"))
}

proptest! {
    #[test]
    fn round_trips_in_both_encodings(
        leaf_der in fake_certificates(),
        certificate_authorities_der in proptest::collection::vec(fake_certificates(), 0..4),
    ) {
        let path = CertificationPath { leaf_der, certificate_authorities_der };
        for encoding in [CertificationPathEncoding::Js, CertificationPathEncoding::Jvm] {
            let encoded = path.encode_as(encoding).expect("encode");
            prop_assert_eq!(CertificationPath::decode_with_encoding(&encoded).expect("decode"), (path.clone(), encoding));
        }
    }

    #[test]
    fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = CertificationPath::decode(&bytes);
        let _ = CertificateRotation::deserialize(&bytes);
    }

    #[test]
    fn decode_survives_mutation(index in any::<usize>(), byte in any::<u8>(), jvm in any::<bool>()) {
        let path = CertificationPath { leaf_der: vec![0x30, 0x03, 0x02, 0x01, 0x05], certificate_authorities_der: vec![vec![0x30, 0x00]] };
        let encoding = if jvm { CertificationPathEncoding::Jvm } else { CertificationPathEncoding::Js };
        let mut encoded = path.encode_as(encoding).expect("encode");
        let index = index % encoded.len();
        encoded[index] = byte;
        let _ = CertificationPath::decode(&encoded);
    }
}
