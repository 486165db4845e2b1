//! Tests of `issue.rs`: the exact profile bytes, with OpenSSL as an oracle.

use chrono::{Duration, TimeZone};
use const_oid::db::rfc5280::{
    ID_CE_AUTHORITY_KEY_IDENTIFIER, ID_CE_BASIC_CONSTRAINTS, ID_CE_SUBJECT_KEY_IDENTIFIER,
};
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509VerifyParam;
use openssl::x509::{X509StoreContext, X509};

use super::*;
use crate::protocols::awala::error::ProtocolErrorKind;
use crate::protocols::awala::pki::testing::{chain, keys, now};

const PSS_SHA256_IDENTIFIER_HEX: &str = concat!(
    "304106092a864886f70d01010a3034a00f300d06096086480165030402010500",
    "a11c301a06092a864886f70d010108300d06096086480165030402010500a203020120",
);

/// `Name ::= SEQUENCE { SET { SEQUENCE { CN, BMPString(node id) } } }`.
fn expected_name_hex(node_id: &str) -> String {
    let ucs2: Vec<u8> = node_id.encode_utf16().flat_map(u16::to_be_bytes).collect();
    assert_eq!(ucs2.len(), 130);
    format!(
        "308190{}{}{}{}{}",
        "31818d",
        "30818a",
        "0603550403",
        "1e8182",
        hex::encode(ucs2)
    )
}

fn extension_summary(certificate: &Certificate) -> Vec<(String, bool, String)> {
    let extensions = certificate
        .x509()
        .tbs_certificate
        .extensions
        .as_ref()
        .unwrap();
    extensions
        .iter()
        .map(|e| {
            (
                e.extn_id.to_string(),
                e.critical,
                hex::encode(e.extn_value.as_bytes()),
            )
        })
        .collect()
}

fn assert_profile(
    certificate: &Certificate,
    issuer_key: &IdentityPublicKey,
    basic_constraints_hex: &str,
) {
    let x509 = certificate.x509();
    let tbs = &x509.tbs_certificate;
    assert_eq!(tbs.version, x509_cert::certificate::Version::V3);
    let serial = certificate.serial_number();
    assert_eq!(serial.len(), SERIAL_NUMBER_LENGTH);
    assert!(serial[0] <= 0x7f && serial[0] != 0);
    assert_eq!(
        hex::encode(tbs.signature.to_der().unwrap()),
        PSS_SHA256_IDENTIFIER_HEX
    );
    assert_eq!(
        hex::encode(x509.signature_algorithm.to_der().unwrap()),
        PSS_SHA256_IDENTIFIER_HEX
    );
    assert_eq!(
        hex::encode(certificate.subject_name_der()),
        expected_name_hex(certificate.subject_id())
    );
    assert!(matches!(tbs.validity.not_before, Time::UtcTime(_)));
    assert!(matches!(tbs.validity.not_after, Time::UtcTime(_)));
    assert_eq!(
        tbs.subject_public_key_info.to_der().unwrap(),
        certificate.subject_public_key().spki_der()
    );
    let subject_digest = certificate.subject_public_key().digest();
    assert_eq!(
        extension_summary(certificate),
        vec![
            (
                ID_CE_BASIC_CONSTRAINTS.to_string(),
                true,
                basic_constraints_hex.to_string()
            ),
            (
                ID_CE_AUTHORITY_KEY_IDENTIFIER.to_string(),
                false,
                format!("30228020{}", hex::encode(issuer_key.digest()))
            ),
            (
                ID_CE_SUBJECT_KEY_IDENTIFIER.to_string(),
                false,
                format!("0420{}", hex::encode(subject_digest))
            ),
        ]
    );
    // OpenSSL as an independent oracle: it parses and verifies what we emit.
    let openssl_certificate = X509::from_der(certificate.der()).unwrap();
    assert!(openssl_certificate.verify(issuer_key.pkey()).unwrap());
}

#[test]
fn self_issued_identity_certificate_has_the_awala_profile() {
    let chain = chain();
    let ig_key = keys().internet_gateway.public_key();
    let certificate = &chain.internet_gateway;
    assert_profile(certificate, &ig_key, "30060101ff020102");
    // AKI present on self-issued certificates, equal to the SKI.
    assert_eq!(certificate.authority_key_id(), certificate.subject_key_id());
    assert_eq!(
        certificate.issuer_name_der(),
        certificate.subject_name_der()
    );
    assert_eq!(certificate.issuer_id().unwrap(), ig_key.node_id());
    assert_eq!(certificate.common_name().unwrap(), ig_key.node_id());
    assert_eq!(certificate.subject_id(), ig_key.node_id());
    assert!(certificate.is_ca());
    assert_eq!(certificate.path_len_constraint(), Some(2));
}

#[test]
fn gateway_endpoint_and_pda_certificates_have_the_awala_profile() {
    let chain = chain();
    let keys = keys();
    assert_profile(
        &chain.private_gateway,
        &keys.internet_gateway.public_key(),
        "30060101ff020101",
    );
    assert_profile(
        &chain.endpoint,
        &keys.private_gateway.public_key(),
        "30060101ff020100",
    );
    // PDA: cA omitted (FALSE) but pathLenConstraint 0 present.
    assert_profile(&chain.pda, &keys.endpoint.public_key(), "3003020100");
    assert!(!chain.pda.is_ca());
    assert_eq!(chain.pda.path_len_constraint(), Some(0));
    assert_eq!(
        chain.private_gateway.issuer_name_der(),
        chain.internet_gateway.subject_name_der()
    );
    assert_eq!(
        chain.pda.issuer_id().unwrap(),
        keys.endpoint.public_key().node_id()
    );
}

#[test]
fn issued_certificates_round_trip_through_der() {
    let chain = chain();
    for certificate in [chain.internet_gateway, chain.private_gateway, chain.pda] {
        let parsed = Certificate::from_der(certificate.der()).unwrap();
        assert_eq!(parsed, certificate);
        assert_eq!(parsed.subject_id(), certificate.subject_id());
        assert_eq!(parsed.not_before(), certificate.not_before());
        assert_eq!(parsed.not_after(), certificate.not_after());
        assert_eq!(parsed.serial_number(), certificate.serial_number());
    }
}

#[test]
fn validity_is_truncated_to_seconds_and_clamped_to_the_issuer() {
    let chain = chain();
    let keys = keys();
    let not_before = now() + Duration::milliseconds(1_500);
    let certificate = issue_gateway_certificate(
        &keys.private_gateway.public_key(),
        &keys.internet_gateway,
        Some(&chain.internet_gateway),
        not_before,
        chain.internet_gateway.not_after() + Duration::days(10),
        1,
    )
    .unwrap();
    assert_eq!(certificate.not_before(), now() + Duration::seconds(1));
    assert_eq!(certificate.not_after(), chain.internet_gateway.not_after());
}

#[test]
fn dates_from_2050_use_generalized_time() {
    let key = &keys().other;
    let start = Utc.with_ymd_and_hms(2049, 12, 31, 0, 0, 0).unwrap();
    let end = Utc.with_ymd_and_hms(2050, 1, 2, 0, 0, 0).unwrap();
    let certificate = self_issue_identity_certificate(key, start, end).unwrap();
    let validity = &certificate.x509().tbs_certificate.validity;
    assert!(matches!(validity.not_before, Time::UtcTime(_)));
    assert!(matches!(validity.not_after, Time::GeneralTime(_)));
    assert_eq!(certificate.not_after(), end);
    assert!(X509::from_der(certificate.der()).is_ok());
}

#[test]
fn sha384_and_sha512_certificates_verify_with_openssl() {
    let key = &keys().other;
    for (hash, salt) in [(HashAlgorithm::Sha384, "30"), (HashAlgorithm::Sha512, "40")] {
        let certificate = issue_certificate(&CertificateIssuance {
            subject_public_key: &key.public_key(),
            issuer_private_key: key,
            issuer_certificate: None,
            not_before: now(),
            not_after: now() + Duration::days(1),
            is_ca: true,
            path_len_constraint: 2,
            hash,
        })
        .unwrap();
        assert_eq!(certificate.signature_hash(), hash);
        let identifier = hex::encode(certificate.x509().signature_algorithm.to_der().unwrap());
        assert!(identifier.ends_with(&format!("a2030201{salt}")));
        let openssl_certificate = X509::from_der(certificate.der()).unwrap();
        assert!(openssl_certificate.verify(key.public_key().pkey()).unwrap());
    }
}

#[test]
fn openssl_verifies_the_whole_chain() {
    let chain = chain();
    let mut store = X509StoreBuilder::new().unwrap();
    store
        .add_cert(X509::from_der(chain.internet_gateway.der()).unwrap())
        .unwrap();
    let mut param = X509VerifyParam::new().unwrap();
    param.set_time(now().timestamp());
    store.set_param(&param).unwrap();
    let store = store.build();
    let mut untrusted = Stack::new().unwrap();
    for certificate in [&chain.endpoint, &chain.private_gateway] {
        untrusted
            .push(X509::from_der(certificate.der()).unwrap())
            .unwrap();
    }
    let leaf = X509::from_der(chain.pda.der()).unwrap();
    let mut context = X509StoreContext::new().unwrap();
    let verified = context
        .init(&store, &leaf, &untrusted, |c| {
            let ok = c.verify_cert()?;
            Ok((ok, c.error()))
        })
        .unwrap();
    assert!(verified.0, "openssl says: {}", verified.1);
}

#[test]
fn invalid_issuance_requests_are_refused() {
    let chain = chain();
    let keys = keys();
    let peer = keys.peer_endpoint.public_key();
    // Empty validity period.
    let error = issue_endpoint_certificate(
        &peer,
        &keys.endpoint,
        None,
        now(),
        now() - Duration::seconds(1),
    )
    .unwrap_err();
    assert_eq!(error.kind(), ProtocolErrorKind::Internal);
    // Self-issued with someone else's key.
    assert!(issue_endpoint_certificate(&peer, &keys.endpoint, None, now(), now()).is_err());
    // Issuer key does not match the issuer certificate.
    assert!(
        issue_endpoint_certificate(&peer, &keys.other, Some(&chain.endpoint), now(), now())
            .is_err()
    );
    // Issuer certificate is not a CA.
    assert!(
        issue_delivery_authorization(&peer, &keys.peer_endpoint, &chain.pda, now(), now()).is_err()
    );
    // pathLenConstraint above 2.
    assert!(issue_gateway_certificate(
        &keys.other.public_key(),
        &keys.other,
        None,
        now(),
        now(),
        3
    )
    .is_err());
    // Clamping can empty the period too.
    assert!(issue_endpoint_certificate(
        &peer,
        &keys.endpoint,
        Some(&chain.endpoint),
        chain.endpoint.not_after() + Duration::seconds(1),
        chain.endpoint.not_after() + Duration::days(1),
    )
    .is_err());
}

/// Certificates relaynet-core 1.88.2 issued (see `testdata/pki/generate-js-certificates.js`).
mod relaynet_core {
    use super::*;
    use crate::protocols::awala::pki::build_certification_path;

    const INTERNET_GATEWAY: &[u8] = include_bytes!("../testdata/pki/js-internet-gateway.der");
    const PRIVATE_GATEWAY: &[u8] = include_bytes!("../testdata/pki/js-private-gateway.der");
    const ENDPOINT: &[u8] = include_bytes!("../testdata/pki/js-endpoint.der");
    const PDA: &[u8] = include_bytes!("../testdata/pki/js-pda.der");

    fn parse(der: &[u8]) -> Certificate {
        Certificate::from_der(der).unwrap()
    }

    #[test]
    fn relaynet_core_chain_validates() {
        let (ig, pg, pe, pda) = (
            parse(INTERNET_GATEWAY),
            parse(PRIVATE_GATEWAY),
            parse(ENDPOINT),
            parse(PDA),
        );
        let at = Utc.with_ymd_and_hms(2030, 6, 1, 0, 0, 0).unwrap();
        let path = build_certification_path(
            &pda,
            &[pg.clone(), pe.clone()],
            std::slice::from_ref(&ig),
            at,
            None,
        )
        .unwrap();
        assert_eq!(path, vec![pda, pe, pg, ig]);
    }

    /// Our encoders produce the same bytes as relaynet-core for everything that is not random
    /// (serial, keys, signature) or a date.
    #[test]
    fn our_encoding_matches_relaynet_core_field_by_field() {
        let (ig, pg, pe, pda) = (
            parse(INTERNET_GATEWAY),
            parse(PRIVATE_GATEWAY),
            parse(ENDPOINT),
            parse(PDA),
        );
        let cases = [
            (&ig, &ig, true, 2),
            (&pg, &ig, true, 1),
            (&pe, &pg, true, 0),
            (&pda, &pe, false, 0),
        ];
        for (certificate, issuer, is_ca, path_len) in cases {
            let tbs = &certificate.x509().tbs_certificate;
            assert_eq!(
                hex::encode(tbs.signature.to_der().unwrap()),
                PSS_SHA256_IDENTIFIER_HEX
            );
            assert_eq!(
                certificate.subject_name_der(),
                &encode_subject_name(certificate.subject_id()).unwrap()[..]
            );
            assert_eq!(certificate.issuer_name_der(), issuer.subject_name_der());
            assert_eq!(
                certificate.subject_public_key().spki_der(),
                &tbs.subject_public_key_info.to_der().unwrap()[..]
            );
            assert!(matches!(tbs.validity.not_before, Time::UtcTime(_)));
            let ours = encode_extensions(
                is_ca,
                path_len,
                issuer.subject_public_key(),
                certificate.subject_public_key(),
            )
            .unwrap();
            let theirs = der_tlv(
                Tag::ContextSpecific {
                    constructed: true,
                    number: TagNumber::N3,
                },
                &tbs.extensions.as_ref().unwrap().to_der().unwrap(),
            )
            .unwrap();
            assert_eq!(hex::encode(ours), hex::encode(theirs));
            assert_eq!(certificate.serial_number().len(), SERIAL_NUMBER_LENGTH);
            assert_eq!(certificate.common_name().unwrap(), certificate.subject_id());
        }
    }
}
