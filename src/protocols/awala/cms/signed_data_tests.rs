//! Tests of SignedData and detached signatures: round trips, BER forms of pkijs and Bouncy
//! Castle, hand-made variants, tampering, OpenSSL as an oracle.

use openssl::cms::{CMSOptions, CmsContentInfo};

use super::super::keys::{HashAlgorithm, PssParams};
use super::super::limits::MAX_CERTIFICATES_PER_MESSAGE;
use super::algorithms::{digest_algorithm_der, integer_der, pss_algorithm_der};
use super::certificate::parse_certificate;
use super::detached::{
    sign_detached, verify_detached, HANDSHAKE_NONCE_SIGNATURE_OID, PARCEL_DELIVERY_SIGNATURE_OID,
};
use super::error::CmsError;
use super::oids::{self, ID_CONTENT_TYPE, ID_DATA, ID_MESSAGE_DIGEST, ID_SIGNED_DATA};
use super::signed_data::{sign, verify};
use super::test_support::{signers, to_ber, BerStyle};
use super::tlv::{context, context_constructed, tlv, TAG_OCTET_STRING, TAG_SEQUENCE, TAG_SET};
use crate::protocols::awala::error::ProtocolErrorKind;

const HASHES: [HashAlgorithm; 3] = [
    HashAlgorithm::Sha256,
    HashAlgorithm::Sha384,
    HashAlgorithm::Sha512,
];

fn kind<T: std::fmt::Debug>(result: Result<T, CmsError>) -> ProtocolErrorKind {
    result.unwrap_err().kind()
}

#[test]
fn sign_then_verify_round_trips_for_every_hash() {
    let [signer, ca] = signers();
    for hash in HASHES {
        let plaintext = b"field set".repeat(100);
        let signed = sign(
            &plaintext,
            &signer.key,
            &signer.certificate_der,
            std::slice::from_ref(&ca.certificate_der),
            hash,
        )
        .unwrap();
        let verified = verify(&signed).unwrap();
        assert_eq!(verified.plaintext, plaintext);
        assert_eq!(verified.signer_certificate_der, signer.certificate_der);
        assert_eq!(verified.signer_public_key, signer.key.public_key());
        assert_eq!(
            verified.other_certificates_der,
            vec![ca.certificate_der.clone()]
        );
        assert_eq!(verified.hash, hash);
    }
}

#[test]
fn openssl_accepts_our_signed_data_and_detached_signatures() {
    let [signer, _] = signers();
    for hash in HASHES {
        let signed = sign(b"hello", &signer.key, &signer.certificate_der, &[], hash).unwrap();
        let mut info = CmsContentInfo::from_der(&signed).unwrap();
        let mut out = Vec::new();
        let flags = CMSOptions::NO_SIGNER_CERT_VERIFY | CMSOptions::BINARY;
        info.verify(None, None, None, Some(&mut out), flags)
            .unwrap();
        assert_eq!(out, b"hello");

        let oid = PARCEL_DELIVERY_SIGNATURE_OID;
        let detached =
            sign_detached(&oid, b"parcel", &signer.key, &signer.certificate_der, hash).unwrap();
        let safe = tlv(
            TAG_SEQUENCE,
            &[
                &tlv(context(0), &[oid.as_bytes()]),
                &tlv(context(1), &[b"parcel"]),
            ],
        );
        let mut info = CmsContentInfo::from_der(&detached).unwrap();
        info.verify(None, None, Some(&safe), None, flags).unwrap();
    }
}

#[test]
fn output_is_strict_der_and_needs_no_normalisation() {
    let [signer, ca] = signers();
    let signed = sign(
        b"x",
        &signer.key,
        &signer.certificate_der,
        std::slice::from_ref(&ca.certificate_der),
        HashAlgorithm::Sha256,
    )
    .unwrap();
    assert!(matches!(
        super::ber::normalize(&signed).unwrap(),
        std::borrow::Cow::Borrowed(_)
    ));
}

#[test]
fn pkijs_and_bouncy_castle_ber_forms_verify_identically() {
    let [signer, ca] = signers();
    let plaintext: Vec<u8> = (0..150_000u32).map(|i| i as u8).collect();
    let signed = sign(
        &plaintext,
        &signer.key,
        &signer.certificate_der,
        std::slice::from_ref(&ca.certificate_der),
        HashAlgorithm::Sha256,
    )
    .unwrap();
    let econtent = |tag: u8, parent: u8| tag == TAG_OCTET_STRING && parent == 0xA0;
    let never = |_: u8, _: u8| false;
    let pkijs = BerStyle {
        indefinite_depth: 0,
        segment: 65_536,
        split: &econtent,
        indefinite_segments: false,
    };
    let bouncy_castle = BerStyle {
        indefinite_depth: 5,
        segment: 1_000,
        split: &never,
        indefinite_segments: true,
    };
    let nested = BerStyle {
        indefinite_depth: 5,
        segment: 1_000,
        split: &econtent,
        indefinite_segments: true,
    };
    for style in [pkijs, bouncy_castle, nested] {
        let ber = to_ber(&signed, &style);
        assert_ne!(ber, signed);
        let verified = verify(&ber).unwrap();
        assert_eq!(verified.plaintext, plaintext);
        assert_eq!(verified.signer_certificate_der, signer.certificate_der);
        assert_eq!(
            verified.other_certificates_der,
            vec![ca.certificate_der.clone()]
        );
    }
    // pkijs also segments tiny content into a single-segment constructed string.
    let small = sign(
        b"tiny",
        &signer.key,
        &signer.certificate_der,
        &[],
        HashAlgorithm::Sha256,
    )
    .unwrap();
    let ber = to_ber(&small, &pkijs_style(&econtent));
    assert_eq!(verify(&ber).unwrap().plaintext, b"tiny");
}

fn pkijs_style<'a>(split: &'a dyn Fn(u8, u8) -> bool) -> BerStyle<'a> {
    BerStyle {
        indefinite_depth: 0,
        segment: 65_536,
        split,
        indefinite_segments: false,
    }
}

#[test]
fn tampered_content_or_signature_is_invalid() {
    let [signer, _] = signers();
    let signed = sign(
        b"content!",
        &signer.key,
        &signer.certificate_der,
        &[],
        HashAlgorithm::Sha256,
    )
    .unwrap();
    let position = signed.windows(8).position(|w| w == b"content!").unwrap();
    let mut tampered = signed.clone();
    tampered[position] ^= 1;
    assert_eq!(kind(verify(&tampered)), ProtocolErrorKind::Invalid);
    let mut tampered = signed.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert_eq!(kind(verify(&tampered)), ProtocolErrorKind::Invalid);
}

#[test]
fn signing_with_a_key_the_certificate_does_not_hold_fails() {
    let [signer, other] = signers();
    let result = sign(
        b"x",
        &other.key,
        &signer.certificate_der,
        &[],
        HashAlgorithm::Sha256,
    );
    assert_eq!(kind(result), ProtocolErrorKind::Internal);
}

#[test]
fn truncated_values_are_malformed() {
    let [signer, _] = signers();
    let signed = sign(
        b"abc",
        &signer.key,
        &signer.certificate_der,
        &[],
        HashAlgorithm::Sha256,
    )
    .unwrap();
    for length in 0..signed.len() {
        assert_eq!(
            kind(verify(&signed[..length])),
            ProtocolErrorKind::Malformed,
            "prefix of {length} octets"
        );
    }
    let mut trailing = signed.clone();
    trailing.push(0);
    assert_eq!(kind(verify(&trailing)), ProtocolErrorKind::Malformed);
}

#[test]
fn detached_signatures_round_trip_for_both_purposes() {
    let [signer, _] = signers();
    for oid in [PARCEL_DELIVERY_SIGNATURE_OID, HANDSHAKE_NONCE_SIGNATURE_OID] {
        for hash in HASHES {
            let signature =
                sign_detached(&oid, b"nonce", &signer.key, &signer.certificate_der, hash).unwrap();
            let verified = verify_detached(&signature, &oid, b"nonce").unwrap();
            assert!(verified.plaintext.is_empty());
            assert_eq!(verified.signer_certificate_der, signer.certificate_der);
            assert!(verified.other_certificates_der.is_empty());
            assert_eq!(
                kind(verify_detached(&signature, &oid, b"other")),
                ProtocolErrorKind::Invalid
            );
            // A detached signature has nothing to return to `verify`.
            assert_eq!(kind(verify(&signature)), ProtocolErrorKind::Invalid);
        }
    }
    let signature = sign_detached(
        &PARCEL_DELIVERY_SIGNATURE_OID,
        b"p",
        &signer.key,
        &signer.certificate_der,
        HashAlgorithm::Sha256,
    )
    .unwrap();
    let wrong_purpose = verify_detached(&signature, &HANDSHAKE_NONCE_SIGNATURE_OID, b"p");
    assert_eq!(kind(wrong_purpose), ProtocolErrorKind::Invalid);
}

#[test]
fn detached_verification_refuses_encapsulated_content() {
    let [signer, _] = signers();
    let oid = HANDSHAKE_NONCE_SIGNATURE_OID;
    let safe = tlv(
        TAG_SEQUENCE,
        &[
            &tlv(context(0), &[oid.as_bytes()]),
            &tlv(context(1), &[b"n"]),
        ],
    );
    let attached = sign(
        &safe,
        &signer.key,
        &signer.certificate_der,
        &[],
        HashAlgorithm::Sha256,
    )
    .unwrap();
    assert_eq!(
        kind(verify_detached(&attached, &oid, b"n")),
        ProtocolErrorKind::Invalid
    );
}

// === Hand-made variants (Bouncy Castle attributes, SKI signer ids, several signers) ===

struct Variant {
    extra_attribute: bool,
    digest_without_null: bool,
    sid_by_key_id: bool,
    signer_infos: usize,
    certificates: usize,
}

const PLAIN: Variant = Variant {
    extra_attribute: false,
    digest_without_null: false,
    sid_by_key_id: false,
    signer_infos: 1,
    certificates: 1,
};

fn hand_made(variant: &Variant, content: &[u8]) -> Vec<u8> {
    let [signer, _] = signers();
    let hash = HashAlgorithm::Sha256;
    let certificate = parse_certificate(&signer.certificate_der).unwrap();
    let mut attributes = vec![
        tlv(
            TAG_SEQUENCE,
            &[
                &oids::oid_der(&ID_CONTENT_TYPE),
                &tlv(TAG_SET, &[&oids::oid_der(&ID_DATA)]),
            ],
        ),
        tlv(
            TAG_SEQUENCE,
            &[
                &oids::oid_der(&ID_MESSAGE_DIGEST),
                &tlv(TAG_SET, &[&tlv(TAG_OCTET_STRING, &[&hash.digest(content)])]),
            ],
        ),
    ];
    if variant.extra_attribute {
        // signingTime, as Bouncy Castle adds it.
        let signing_time = const_oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
        attributes.push(tlv(
            TAG_SEQUENCE,
            &[
                &oids::oid_der(&signing_time),
                &tlv(TAG_SET, &[&tlv(0x17, &[b"261125040000Z"])]),
            ],
        ));
    }
    attributes.sort();
    let attributes = attributes.concat();
    let pss = PssParams::for_hash(hash);
    let signature = signer
        .key
        .sign_pss(&tlv(TAG_SET, &[&attributes]), pss)
        .unwrap();
    let digest_algorithm = if variant.digest_without_null {
        tlv(TAG_SEQUENCE, &[&oids::oid_der(&hash.oid())])
    } else {
        digest_algorithm_der(hash)
    };
    let sid = if variant.sid_by_key_id {
        tlv(context(0), &[certificate.subject_key_identifier.unwrap()])
    } else {
        tlv(TAG_SEQUENCE, &[certificate.issuer, certificate.serial])
    };
    let signer_info = tlv(
        TAG_SEQUENCE,
        &[
            &integer_der(if variant.sid_by_key_id { 3 } else { 1 }),
            &sid,
            &digest_algorithm,
            &tlv(context_constructed(0), &[&attributes]),
            &pss_algorithm_der(pss),
            &tlv(TAG_OCTET_STRING, &[&signature]),
        ],
    );
    let certificates = vec![signer.certificate_der.as_slice(); variant.certificates];
    let signer_infos = vec![signer_info.as_slice(); variant.signer_infos];
    let signed_data = tlv(
        TAG_SEQUENCE,
        &[
            &integer_der(1),
            &tlv(TAG_SET, &[&digest_algorithm]),
            &tlv(
                TAG_SEQUENCE,
                &[
                    &oids::oid_der(&ID_DATA),
                    &tlv(
                        context_constructed(0),
                        &[&tlv(TAG_OCTET_STRING, &[content])],
                    ),
                ],
            ),
            &tlv(context_constructed(0), &certificates),
            &tlv(TAG_SET, &signer_infos),
        ],
    );
    tlv(
        TAG_SEQUENCE,
        &[
            &oids::oid_der(&ID_SIGNED_DATA),
            &tlv(context_constructed(0), &[&signed_data]),
        ],
    )
}

#[test]
fn bouncy_castle_extras_and_key_id_signers_are_accepted() {
    for variant in [
        Variant {
            extra_attribute: true,
            ..PLAIN
        },
        Variant {
            digest_without_null: true,
            ..PLAIN
        },
        Variant {
            sid_by_key_id: true,
            ..PLAIN
        },
    ] {
        let verified = verify(&hand_made(&variant, b"abc")).unwrap();
        assert_eq!(verified.plaintext, b"abc");
    }
}

#[test]
fn signer_info_and_certificate_counts_are_enforced() {
    let none = hand_made(
        &Variant {
            signer_infos: 0,
            ..PLAIN
        },
        b"abc",
    );
    assert_eq!(kind(verify(&none)), ProtocolErrorKind::Invalid);
    let two = hand_made(
        &Variant {
            signer_infos: 2,
            ..PLAIN
        },
        b"abc",
    );
    assert_eq!(kind(verify(&two)), ProtocolErrorKind::Invalid);
    let no_certificate = hand_made(
        &Variant {
            certificates: 0,
            ..PLAIN
        },
        b"abc",
    );
    assert_eq!(kind(verify(&no_certificate)), ProtocolErrorKind::Invalid);
    let many = Variant {
        certificates: MAX_CERTIFICATES_PER_MESSAGE + 1,
        ..PLAIN
    };
    assert_eq!(
        kind(verify(&hand_made(&many, b"abc"))),
        ProtocolErrorKind::TooLarge
    );
}

#[test]
fn pkcs1_signatures_from_openssl_are_refused_as_unsupported() {
    let [signer, _] = signers();
    let certificate = openssl::x509::X509::from_der(&signer.certificate_der).unwrap();
    let signed = CmsContentInfo::sign(
        Some(&certificate),
        Some(signer.key.pkey()),
        None,
        Some(b"data"),
        CMSOptions::BINARY,
    )
    .unwrap()
    .to_der()
    .unwrap();
    assert_eq!(kind(verify(&signed)), ProtocolErrorKind::Invalid);
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            prop_assert!(verify(&bytes).is_err());
            prop_assert!(verify_detached(&bytes, &PARCEL_DELIVERY_SIGNATURE_OID, b"x").is_err());
        }

        #[test]
        fn corrupted_signed_data_never_panics(index in any::<prop::sample::Index>(), value in any::<u8>()) {
            let [signer, _] = signers();
            let signed = sign(b"abc", &signer.key, &signer.certificate_der, &[], HashAlgorithm::Sha256).unwrap();
            let mut corrupted = signed.clone();
            let position = index.index(corrupted.len());
            corrupted[position] = value;
            if corrupted != signed {
                let _ = verify(&corrupted);
            }
        }
    }
}

/// Rough throughput check (`cargo test --release --lib cms -- --ignored --nocapture`): the
/// gateway needs ≥ 20 000 parse+verify per second per core.
#[test]
#[ignore]
fn verify_throughput() {
    let [signer, ca] = signers();
    let plaintext = vec![0x5A; 1_024];
    let signed = sign(
        &plaintext,
        &signer.key,
        &signer.certificate_der,
        std::slice::from_ref(&ca.certificate_der),
        HashAlgorithm::Sha256,
    )
    .unwrap();
    let pkijs = to_ber(
        &signed,
        &pkijs_style(&|tag: u8, parent: u8| tag == TAG_OCTET_STRING && parent == 0xA0),
    );
    for (label, value) in [("der", &signed), ("pkijs ber", &pkijs)] {
        let rounds = 2_000;
        let start = std::time::Instant::now();
        for _ in 0..rounds {
            let der = super::ber::normalize(value).unwrap();
            super::signed_data_parse::parse_content_info(&der).unwrap();
        }
        let parse = start.elapsed() / rounds;
        let start = std::time::Instant::now();
        for _ in 0..rounds {
            verify(value).unwrap();
        }
        let full = start.elapsed() / rounds;
        eprintln!("{label}: parse {parse:?}, parse+verify {full:?} per message");
    }
    let public_key = signer.key.public_key();
    let pss = PssParams::for_hash(HashAlgorithm::Sha256);
    let signature = signer.key.sign_pss(b"data", pss).unwrap();
    let start = std::time::Instant::now();
    for _ in 0..2_000 {
        assert!(public_key.verify_pss(b"data", &signature, pss).unwrap());
    }
    eprintln!("bare rsa-pss verify: {:?}", start.elapsed() / 2_000);
}
