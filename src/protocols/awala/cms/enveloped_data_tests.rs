//! Tests of session EnvelopedData: every curve and option, the BER forms of pkijs and Bouncy
//! Castle, hand-made variants, wrong keys, tampering and garbage.

use super::super::keys::{EcCurve, HashAlgorithm, SessionKeyPair};
use super::envelope_options::{ContentCipher, EnvelopeOptions, KeyWrap};
use super::enveloped_data::{
    encrypt_with, session_decrypt, session_encrypt, session_envelope_info,
};
use super::error::CmsError;
use super::test_support::{to_ber, BerStyle};
use super::tlv::{context, tlv, DerReader, TAG_SEQUENCE, TAG_SET};
use crate::protocols::awala::error::ProtocolErrorKind;

const CURVES: [EcCurve; 3] = [EcCurve::P256, EcCurve::P384, EcCurve::P521];

fn kind<T: std::fmt::Debug>(result: Result<T, CmsError>) -> ProtocolErrorKind {
    result.unwrap_err().kind()
}

fn all_options() -> Vec<EnvelopeOptions> {
    let mut options = Vec::new();
    for kdf_hash in [
        HashAlgorithm::Sha256,
        HashAlgorithm::Sha384,
        HashAlgorithm::Sha512,
    ] {
        for key_wrap in [KeyWrap::Aes128, KeyWrap::Aes192, KeyWrap::Aes256] {
            for content_cipher in [
                ContentCipher::Aes128Cbc,
                ContentCipher::Aes192Cbc,
                ContentCipher::Aes256Cbc,
            ] {
                options.push(EnvelopeOptions {
                    kdf_hash,
                    key_wrap,
                    content_cipher,
                });
            }
        }
    }
    options
}

#[test]
fn encrypt_then_decrypt_round_trips_on_every_curve_and_option() {
    for curve in CURVES {
        let recipient = SessionKeyPair::generate(curve).unwrap();
        for options in all_options() {
            let plaintext = format!("{curve:?} {options:?}").into_bytes();
            let encryption =
                session_encrypt(&plaintext, &recipient.session_key(), options).unwrap();
            let decryption = session_decrypt(&encryption.envelope, &recipient.private_key).unwrap();
            assert_eq!(decryption.plaintext, plaintext);
            assert_eq!(decryption.info.recipient_key_id, recipient.id);
            assert_eq!(
                decryption.info.originator_key,
                encryption.originator_key.session_key()
            );
        }
    }
}

#[test]
fn defaults_are_the_jvm_emission_and_js_options_are_available() {
    let defaults = EnvelopeOptions::default();
    assert_eq!(defaults.kdf_hash, HashAlgorithm::Sha256);
    assert_eq!(defaults.key_wrap, KeyWrap::Aes128);
    assert_eq!(defaults.content_cipher, ContentCipher::Aes128Cbc);
    let js = EnvelopeOptions::relaynet_core_js();
    assert_eq!(
        (js.kdf_hash, js.key_wrap, js.content_cipher),
        (
            HashAlgorithm::Sha512,
            KeyWrap::Aes256,
            ContentCipher::Aes128Cbc
        )
    );
}

#[test]
fn envelope_info_is_readable_without_the_private_key() {
    let recipient = SessionKeyPair::generate(EcCurve::P256).unwrap();
    let encryption =
        session_encrypt(b"hi", &recipient.session_key(), EnvelopeOptions::default()).unwrap();
    let info = session_envelope_info(&encryption.envelope).unwrap();
    assert_eq!(info.recipient_key_id, recipient.id);
    assert_eq!(info.originator_key, encryption.originator_key.session_key());
    assert_eq!(info.originator_key.id.as_bytes().len(), 8);
}

#[test]
fn output_is_strict_der_with_the_awala_shape() {
    let recipient = SessionKeyPair::generate(EcCurve::P256).unwrap();
    let envelope = session_encrypt(b"x", &recipient.session_key(), EnvelopeOptions::default())
        .unwrap()
        .envelope;
    assert!(matches!(
        super::ber::normalize(&envelope).unwrap(),
        std::borrow::Cow::Borrowed(_)
    ));
    // The UKM is a 64-octet OCTET STRING inside [1] EXPLICIT.
    assert!(envelope.windows(4).any(|w| w == [0xA1, 0x42, 0x04, 0x40]));
}

#[test]
fn pkijs_and_bouncy_castle_ber_forms_decrypt_identically() {
    let recipient = SessionKeyPair::generate(EcCurve::P256).unwrap();
    let encrypted_content = |tag: u8, _parent: u8| tag == context(0);
    for plaintext in [vec![7u8; 10], vec![9u8; 5_000]] {
        let envelope = session_encrypt(
            &plaintext,
            &recipient.session_key(),
            EnvelopeOptions::relaynet_core_js(),
        )
        .unwrap()
        .envelope;
        let pkijs = BerStyle {
            indefinite_depth: 4,
            segment: 1_024,
            split: &encrypted_content,
            indefinite_segments: false,
        };
        let long_content = plaintext.len() > 1_000;
        let bouncy_castle_split =
            move |tag: u8, parent: u8| long_content && encrypted_content(tag, parent);
        let bouncy_castle = BerStyle {
            indefinite_depth: 3,
            segment: 1_000,
            split: &bouncy_castle_split,
            indefinite_segments: true,
        };
        for style in [pkijs, bouncy_castle] {
            let ber = to_ber(&envelope, &style);
            assert_ne!(ber, envelope);
            let decryption = session_decrypt(&ber, &recipient.private_key).unwrap();
            assert_eq!(decryption.plaintext, plaintext);
            assert_eq!(session_envelope_info(&ber).unwrap(), decryption.info);
        }
    }
}

#[test]
fn envelopes_without_ukm_or_with_null_key_info_decrypt() {
    let recipient = SessionKeyPair::generate(EcCurve::P384).unwrap();
    for (ukm, null) in [(None, false), (Some(&[1u8; 64][..]), true), (None, true)] {
        let options = EnvelopeOptions::relaynet_core_js();
        let encryption =
            encrypt_with(b"abc", &recipient.session_key(), options, ukm, null).unwrap();
        let decryption = session_decrypt(&encryption.envelope, &recipient.private_key).unwrap();
        assert_eq!(decryption.plaintext, b"abc");
    }
}

#[test]
fn wrong_keys_are_unknown_keys() {
    let recipient = SessionKeyPair::generate(EcCurve::P256).unwrap();
    let envelope = session_encrypt(b"x", &recipient.session_key(), EnvelopeOptions::default())
        .unwrap()
        .envelope;
    let other = SessionKeyPair::generate(EcCurve::P256).unwrap();
    assert_eq!(
        kind(session_decrypt(&envelope, &other.private_key)),
        ProtocolErrorKind::UnknownKey
    );
    let other_curve = SessionKeyPair::generate(EcCurve::P521).unwrap();
    assert_eq!(
        kind(session_decrypt(&envelope, &other_curve.private_key)),
        ProtocolErrorKind::UnknownKey
    );
}

#[test]
fn tampered_wrapped_key_or_content_is_refused() {
    let recipient = SessionKeyPair::generate(EcCurve::P256).unwrap();
    let envelope = session_encrypt(
        &[5u8; 64],
        &recipient.session_key(),
        EnvelopeOptions::default(),
    )
    .unwrap()
    .envelope;
    // The wrapped key (24 octets for AES-128) follows `04 18` right after the rid.
    let position = envelope.windows(2).position(|w| w == [0x04, 0x18]).unwrap() + 2;
    let mut tampered = envelope.clone();
    tampered[position] ^= 1;
    assert_eq!(
        kind(session_decrypt(&tampered, &recipient.private_key)),
        ProtocolErrorKind::UnknownKey
    );
    // CBC has no integrity: a flipped ciphertext octet gives a padding error or other plaintext.
    // The unprotected attributes take the last 29 octets: A1 1B 30 19 06 0B <oid> 31 0A 04 08 <id>.
    let ciphertext_end = envelope.len() - 29;
    let mut tampered = envelope.clone();
    tampered[ciphertext_end - 1] ^= 0x55;
    match session_decrypt(&tampered, &recipient.private_key) {
        Err(error) => assert_eq!(error.kind(), ProtocolErrorKind::Invalid),
        Ok(decryption) => assert_ne!(decryption.plaintext, vec![5u8; 64]),
    }
}

/// Re-assembles an envelope after `change` edits the EnvelopedData children.
fn edit_enveloped_data(envelope: &[u8], change: impl FnOnce(&mut Vec<Vec<u8>>)) -> Vec<u8> {
    let mut outer = DerReader::new(envelope);
    let mut content_info = DerReader::new(outer.read(TAG_SEQUENCE, "ci").unwrap());
    let content_type = content_info.read_any().unwrap().raw.to_vec();
    let mut explicit = DerReader::new(content_info.read(0xA0, "explicit").unwrap());
    let mut enveloped = DerReader::new(explicit.read(TAG_SEQUENCE, "ed").unwrap());
    let mut children = Vec::new();
    while !enveloped.is_empty() {
        children.push(enveloped.read_any().unwrap().raw.to_vec());
    }
    change(&mut children);
    let children: Vec<&[u8]> = children.iter().map(Vec::as_slice).collect();
    let enveloped = tlv(TAG_SEQUENCE, &children);
    tlv(TAG_SEQUENCE, &[&content_type, &tlv(0xA0, &[&enveloped])])
}

#[test]
fn profile_violations_are_refused() {
    let recipient = SessionKeyPair::generate(EcCurve::P256).unwrap();
    let envelope = session_encrypt(b"x", &recipient.session_key(), EnvelopeOptions::default())
        .unwrap()
        .envelope;
    let without_attribute = edit_enveloped_data(&envelope, |children| {
        children.pop();
    });
    assert_eq!(
        kind(session_envelope_info(&without_attribute)),
        ProtocolErrorKind::Invalid
    );
    let two_recipients = edit_enveloped_data(&envelope, |children| {
        let set = DerReader::new(&children[1])
            .read(TAG_SET, "set")
            .unwrap()
            .to_vec();
        children[1] = tlv(TAG_SET, &[&set, &set]);
    });
    assert_eq!(
        kind(session_decrypt(&two_recipients, &recipient.private_key)),
        ProtocolErrorKind::Invalid
    );
    // Originator key id as an INTEGER (RS-003's reading) instead of an OCTET STRING.
    let mut integer_id = envelope.clone();
    let position = integer_id.len() - 10;
    assert_eq!(&integer_id[position..position + 2], &[0x04, 0x08]);
    integer_id[position] = 0x02;
    assert_eq!(
        kind(session_envelope_info(&integer_id)),
        ProtocolErrorKind::Invalid
    );
}

#[test]
fn oversized_plaintext_is_refused_before_encrypting() {
    let recipient = SessionKeyPair::generate(EcCurve::P256).unwrap();
    let plaintext = vec![0u8; super::super::limits::MAX_SDU_PLAINTEXT_LENGTH + 1];
    let result = session_encrypt(
        &plaintext,
        &recipient.session_key(),
        EnvelopeOptions::default(),
    );
    assert_eq!(kind(result), ProtocolErrorKind::TooLarge);
}

#[test]
fn truncated_envelopes_are_malformed() {
    let recipient = SessionKeyPair::generate(EcCurve::P256).unwrap();
    let envelope = session_encrypt(b"abc", &recipient.session_key(), EnvelopeOptions::default())
        .unwrap()
        .envelope;
    for length in 0..envelope.len() {
        assert_eq!(
            kind(session_decrypt(&envelope[..length], &recipient.private_key)),
            ProtocolErrorKind::Malformed,
            "prefix of {length} octets"
        );
    }
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let recipient = SessionKeyPair::generate(EcCurve::P256).unwrap();
            prop_assert!(session_decrypt(&bytes, &recipient.private_key).is_err());
            prop_assert!(session_envelope_info(&bytes).is_err());
        }

        #[test]
        fn round_trips_any_plaintext(plaintext in proptest::collection::vec(any::<u8>(), 0..3_000)) {
            let recipient = SessionKeyPair::generate(EcCurve::P256).unwrap();
            let encryption = session_encrypt(&plaintext, &recipient.session_key(), EnvelopeOptions::default()).unwrap();
            let decryption = session_decrypt(&encryption.envelope, &recipient.private_key).unwrap();
            prop_assert_eq!(decryption.plaintext, plaintext);
        }

        #[test]
        fn corrupted_envelopes_never_panic(index in any::<prop::sample::Index>(), value in any::<u8>()) {
            let recipient = SessionKeyPair::generate(EcCurve::P256).unwrap();
            let envelope = session_encrypt(b"abc", &recipient.session_key(), EnvelopeOptions::default()).unwrap().envelope;
            let mut corrupted = envelope.clone();
            let position = index.index(corrupted.len());
            corrupted[position] = value;
            let _ = session_decrypt(&corrupted, &recipient.private_key);
        }
    }
}

/// OpenSSL's own CMS code as an independent decryptor (notes §3.6): it opens session envelopes
/// with just the private key. Skipped when the `openssl` command is not installed.
#[test]
fn openssl_cli_decrypts_our_envelopes() {
    use std::process::Command;

    if Command::new("openssl").arg("version").output().is_err() {
        eprintln!("openssl command not found; skipping the oracle test");
        return;
    }
    let directory = std::env::temp_dir().join(format!("cms-oracle-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    for curve in CURVES {
        for options in [
            EnvelopeOptions::default(),
            EnvelopeOptions::relaynet_core_js(),
        ] {
            let recipient = SessionKeyPair::generate(curve).unwrap();
            let envelope = session_encrypt(b"oracle", &recipient.session_key(), options)
                .unwrap()
                .envelope;
            let envelope_path = directory.join("envelope.der");
            let key_path = directory.join("key.pem");
            std::fs::write(&envelope_path, &envelope).unwrap();
            std::fs::write(
                &key_path,
                recipient
                    .private_key
                    .pkey()
                    .private_key_to_pem_pkcs8()
                    .unwrap(),
            )
            .unwrap();
            let output = Command::new("openssl")
                .args(["cms", "-decrypt", "-binary", "-inform", "DER", "-in"])
                .arg(&envelope_path)
                .arg("-inkey")
                .arg(&key_path)
                .output()
                .unwrap();
            assert!(
                output.status.success(),
                "{curve:?} {options:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            assert_eq!(output.stdout, b"oracle");
        }
    }
    std::fs::remove_dir_all(&directory).unwrap();
}

/// The reverse oracle: OpenSSL encrypts to a certificate for our session key, addressed by key
/// id, with no UKM; we add the Awala originator-id attribute (OpenSSL cannot) and decrypt.
#[test]
fn envelopes_from_the_openssl_cli_decrypt() {
    use std::process::Command;

    use openssl::asn1::Asn1Time;
    use openssl::hash::MessageDigest;
    use openssl::x509::extension::SubjectKeyIdentifier;
    use openssl::x509::{X509Builder, X509NameBuilder};

    use super::oids::{oid_der, ORIGINATOR_SESSION_KEY_ID};
    use super::tlv::{context_constructed, TAG_OCTET_STRING};

    if Command::new("openssl").arg("version").output().is_err() {
        eprintln!("openssl command not found; skipping the oracle test");
        return;
    }
    let directory = std::env::temp_dir().join(format!("cms-oracle-in-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    for (curve, cipher, kdf) in [
        (EcCurve::P256, "-aes128", "sha256"),
        (EcCurve::P384, "-aes192", "sha384"),
        (EcCurve::P521, "-aes256", "sha512"),
    ] {
        let recipient = SessionKeyPair::generate(curve).unwrap();
        let mut name = X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", "recipient").unwrap();
        let name = name.build();
        let mut builder = X509Builder::new().unwrap();
        builder.set_version(2).unwrap();
        builder.set_subject_name(&name).unwrap();
        builder.set_issuer_name(&name).unwrap();
        builder.set_pubkey(recipient.private_key.pkey()).unwrap();
        builder
            .set_not_before(&Asn1Time::days_from_now(0).unwrap())
            .unwrap();
        builder
            .set_not_after(&Asn1Time::days_from_now(1).unwrap())
            .unwrap();
        let ski = SubjectKeyIdentifier::new()
            .build(&builder.x509v3_context(None, None))
            .unwrap();
        builder.append_extension(ski).unwrap();
        builder
            .sign(recipient.private_key.pkey(), MessageDigest::sha256())
            .unwrap();
        let certificate = builder.build();
        let certificate_path = directory.join("recipient.pem");
        let plaintext_path = directory.join("plaintext");
        std::fs::write(&certificate_path, certificate.to_pem().unwrap()).unwrap();
        std::fs::write(&plaintext_path, [3u8; 2_500]).unwrap();
        let output = Command::new("openssl")
            .args([
                "cms", "-encrypt", "-binary", "-outform", "DER", cipher, "-keyid",
            ])
            .arg("-in")
            .arg(&plaintext_path)
            .arg("-recip")
            .arg(&certificate_path)
            .args(["-keyopt", &format!("ecdh_kdf_md:{kdf}")])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let envelope = edit_enveloped_data(&output.stdout, |children| {
            let attribute = tlv(
                TAG_SEQUENCE,
                &[
                    &oid_der(&ORIGINATOR_SESSION_KEY_ID),
                    &tlv(TAG_SET, &[&tlv(TAG_OCTET_STRING, &[b"originid"])]),
                ],
            );
            children.push(tlv(context_constructed(1), &[&attribute]));
        });
        let decryption = session_decrypt(&envelope, &recipient.private_key).unwrap();
        assert_eq!(decryption.plaintext, vec![3u8; 2_500]);
        assert_eq!(decryption.info.originator_key.id.as_bytes(), b"originid");
    }
    std::fs::remove_dir_all(&directory).unwrap();
}
