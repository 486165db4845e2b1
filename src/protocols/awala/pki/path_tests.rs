//! Tests of `path.rs`: the Awala chains an IG validates, and every way they can fail.

use chrono::Duration;

use super::*;
use crate::protocols::awala::error::ProtocolErrorKind;
use crate::protocols::awala::keys::{HashAlgorithm, IdentityPrivateKey};
use crate::protocols::awala::pki::issue::{
    issue_certificate, issue_delivery_authorization, self_issue_identity_certificate,
    CertificateIssuance,
};
use crate::protocols::awala::pki::testing::{chain, keys, now, OpensslCertificate};

fn subject_ids(path: &[Certificate]) -> Vec<&str> {
    path.iter().map(Certificate::subject_id).collect()
}

/// A certificate for `subject`'s key issued by `issuer_key`/`issuer`, valid over `[start, end]`.
fn issue(
    subject: &IdentityPrivateKey,
    issuer_key: &IdentityPrivateKey,
    issuer: Option<&Certificate>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    is_ca: bool,
    path_len_constraint: u8,
) -> Certificate {
    issue_certificate(&CertificateIssuance {
        subject_public_key: &subject.public_key(),
        issuer_private_key: issuer_key,
        issuer_certificate: issuer,
        not_before: start,
        not_after: end,
        is_ca,
        path_len_constraint,
        hash: HashAlgorithm::Sha256,
    })
    .unwrap()
}

#[test]
fn pda_path_goes_through_endpoint_and_gateway_to_the_internet_gateway() {
    let c = chain();
    let path = build_certification_path(
        &c.pda,
        &[c.endpoint.clone(), c.private_gateway.clone()],
        std::slice::from_ref(&c.internet_gateway),
        now(),
        None,
    )
    .unwrap();
    assert_eq!(
        path,
        vec![c.pda, c.endpoint, c.private_gateway, c.internet_gateway]
    );
}

#[test]
fn intermediates_may_be_unordered_duplicated_and_padded_with_noise() {
    let c = chain();
    let stranger = self_issue_identity_certificate(
        &keys().other,
        now() - Duration::hours(1),
        now() + Duration::hours(1),
    )
    .unwrap();
    let intermediates = [
        c.private_gateway.clone(),
        stranger,
        c.pda.clone(),
        c.endpoint.clone(),
        c.private_gateway.clone(),
        c.internet_gateway.clone(),
    ];
    let path = build_certification_path(
        &c.pda,
        &intermediates,
        std::slice::from_ref(&c.internet_gateway),
        now(),
        None,
    )
    .unwrap();
    assert_eq!(path.len(), 4);
    assert_eq!(path[3], c.internet_gateway);
}

#[test]
fn gateway_certificate_path_has_two_certificates() {
    let c = chain();
    let path = build_certification_path(
        &c.private_gateway,
        &[],
        std::slice::from_ref(&c.internet_gateway),
        now(),
        None,
    )
    .unwrap();
    assert_eq!(
        subject_ids(&path),
        vec![
            c.private_gateway.subject_id(),
            c.internet_gateway.subject_id()
        ]
    );
}

#[test]
fn shortest_path_is_chosen_when_an_intermediate_is_also_trusted() {
    let c = chain();
    let trusted = [c.internet_gateway.clone(), c.private_gateway.clone()];
    let path = build_certification_path(
        &c.pda,
        &[c.endpoint.clone(), c.private_gateway.clone()],
        &trusted,
        now(),
        None,
    )
    .unwrap();
    assert_eq!(path, vec![c.pda, c.endpoint, c.private_gateway]);
}

#[test]
fn trusted_leaf_needs_a_trusted_issuer() {
    let c = chain();
    // A trusted self-issued CA is its own issuer: [leaf, leaf], as pkijs returns.
    let trusted = [c.internet_gateway.clone()];
    let path = build_certification_path(&c.internet_gateway, &[], &trusted, now(), None).unwrap();
    assert_eq!(
        path,
        vec![c.internet_gateway.clone(), c.internet_gateway.clone()]
    );
    // A trusted leaf that is not self-issued needs its issuer among the trusted certificates.
    let trusted = [c.private_gateway.clone()];
    let error = build_certification_path(&c.private_gateway, &[], &trusted, now(), None);
    assert!(matches!(error, Err(PkiError::Untrusted { .. })));
    let trusted = [c.private_gateway.clone(), c.internet_gateway.clone()];
    let path = build_certification_path(&c.private_gateway, &[], &trusted, now(), None).unwrap();
    assert_eq!(path, vec![c.private_gateway, c.internet_gateway]);
}

#[test]
fn expired_intermediate_is_rejected() {
    let c = chain();
    let k = keys();
    // Same key and name as the real PG certificate, so it is the only candidate issuer.
    let expired_gateway = issue(
        &k.private_gateway,
        &k.internet_gateway,
        Some(&c.internet_gateway),
        now() - Duration::days(10),
        now() - Duration::seconds(1),
        true,
        1,
    );
    let error = build_certification_path(
        &c.pda,
        &[c.endpoint.clone(), expired_gateway],
        std::slice::from_ref(&c.internet_gateway),
        now(),
        None,
    )
    .unwrap_err();
    assert!(
        matches!(error, PkiError::OutsideValidity { ref subject_id, .. }
        if subject_id == c.private_gateway.subject_id())
    );
    assert_eq!(error.kind(), ProtocolErrorKind::Invalid);
}

#[test]
fn not_yet_valid_certificates_are_rejected() {
    let c = chain();
    let k = keys();
    let future_endpoint = issue(
        &k.endpoint,
        &k.private_gateway,
        Some(&c.private_gateway),
        now() + Duration::seconds(1),
        now() + Duration::days(1),
        true,
        0,
    );
    let error = build_certification_path(
        &c.pda,
        &[future_endpoint, c.private_gateway.clone()],
        std::slice::from_ref(&c.internet_gateway),
        now(),
        None,
    );
    assert!(matches!(error, Err(PkiError::OutsideValidity { .. })));
    // The leaf itself, one second before it starts.
    let before = c.pda.not_before() - Duration::seconds(1);
    let error = build_certification_path(
        &c.pda,
        &[c.endpoint.clone(), c.private_gateway.clone()],
        std::slice::from_ref(&c.internet_gateway),
        before,
        None,
    );
    assert!(
        matches!(error, Err(PkiError::OutsideValidity { ref subject_id, .. })
        if subject_id == c.pda.subject_id())
    );
    // Validity bounds are inclusive.
    for instant in [c.pda.not_before(), c.pda.not_after()] {
        assert!(build_certification_path(
            &c.pda,
            &[c.endpoint.clone(), c.private_gateway.clone()],
            std::slice::from_ref(&c.internet_gateway),
            instant,
            None,
        )
        .is_ok());
    }
}

#[test]
fn broken_signature_is_rejected() {
    let c = chain();
    let mut der = c.endpoint.der().to_vec();
    let last = der.len() - 1;
    der[last] ^= 0x01; // inside the signature BIT STRING
    let tampered = Certificate::from_der(&der).unwrap();
    let error = build_certification_path(
        &c.pda,
        &[tampered, c.private_gateway.clone()],
        std::slice::from_ref(&c.internet_gateway),
        now(),
        None,
    )
    .unwrap_err();
    assert!(matches!(error, PkiError::BadSignature { ref subject_id }
        if subject_id == c.endpoint.subject_id()));
}

#[test]
fn missing_intermediate_leaves_the_leaf_untrusted() {
    let c = chain();
    let error = build_certification_path(
        &c.pda,
        std::slice::from_ref(&c.private_gateway),
        std::slice::from_ref(&c.internet_gateway),
        now(),
        None,
    )
    .unwrap_err();
    assert!(matches!(error, PkiError::Untrusted { .. }));
    assert_eq!(error.kind(), ProtocolErrorKind::Invalid);
}

#[test]
fn non_ca_issuer_is_rejected() {
    let c = chain();
    let k = keys();
    // The endpoint's key and name, but certified as a delivery authorisation (cA FALSE).
    let non_ca_endpoint = issue_delivery_authorization(
        &k.endpoint.public_key(),
        &k.private_gateway,
        &c.private_gateway,
        now() - Duration::hours(1),
        now() + Duration::hours(1),
    )
    .unwrap();
    let error = build_certification_path(
        &c.pda,
        &[non_ca_endpoint, c.private_gateway.clone()],
        std::slice::from_ref(&c.internet_gateway),
        now(),
        None,
    )
    .unwrap_err();
    assert!(matches!(error, PkiError::IssuerNotCa { .. }));
}

#[test]
fn untrusted_root_is_rejected() {
    let c = chain();
    let stranger = self_issue_identity_certificate(
        &keys().other,
        now() - Duration::hours(1),
        now() + Duration::hours(1),
    )
    .unwrap();
    let error = build_certification_path(
        &c.pda,
        &[
            c.endpoint.clone(),
            c.private_gateway.clone(),
            c.internet_gateway.clone(),
        ],
        &[stranger],
        now(),
        None,
    )
    .unwrap_err();
    assert!(matches!(error, PkiError::Untrusted { .. }));
    // No trusted certificates at all.
    assert!(
        build_certification_path(&c.pda, std::slice::from_ref(&c.endpoint), &[], now(), None)
            .is_err()
    );
}

#[test]
fn issuer_loops_terminate() {
    let k = keys();
    let (start, end) = (now() - Duration::hours(1), now() + Duration::hours(1));
    let b_self = self_issue_identity_certificate(&k.private_gateway, start, end).unwrap();
    let a = issue(
        &k.endpoint,
        &k.private_gateway,
        Some(&b_self),
        start,
        end,
        true,
        2,
    );
    // B issued by A and A issued by B: a cycle with no way out.
    let b = issue(
        &k.private_gateway,
        &k.endpoint,
        Some(&a),
        start,
        end,
        true,
        2,
    );
    let leaf =
        issue_delivery_authorization(&k.peer_endpoint.public_key(), &k.endpoint, &a, start, end)
            .unwrap();
    let stranger = self_issue_identity_certificate(&k.other, start, end).unwrap();
    let error = build_certification_path(&leaf, &[a, b], &[stranger], now(), None).unwrap_err();
    assert!(matches!(error, PkiError::Untrusted { .. }));
}

#[test]
fn path_len_constraint_is_enforced() {
    let c = chain();
    let k = keys();
    let (start, end) = (now() - Duration::hours(1), now() + Duration::hours(1));
    // A CA below the endpoint, whose pathLenConstraint of 0 forbids it.
    let extra_ca = issue(
        &k.other,
        &k.endpoint,
        Some(&c.endpoint),
        start,
        end,
        true,
        0,
    );
    let leaf = issue_delivery_authorization(
        &k.peer_endpoint.public_key(),
        &k.other,
        &extra_ca,
        start,
        end,
    )
    .unwrap();
    let error = build_certification_path(
        &leaf,
        &[extra_ca, c.endpoint.clone(), c.private_gateway.clone()],
        std::slice::from_ref(&c.internet_gateway),
        now(),
        None,
    )
    .unwrap_err();
    assert!(matches!(
        error,
        PkiError::PathLenExceeded {
            limit: 0,
            actual: 1,
            ..
        }
    ));
}

#[test]
fn certificates_from_other_tools_are_accepted_and_unknown_critical_extensions_are_not() {
    let c = chain();
    let k = keys();
    let peer = k.peer_endpoint.public_key();
    let intermediates = [c.endpoint.clone(), c.private_gateway.clone()];
    let trusted = [c.internet_gateway.clone()];
    // PKCS#1 v1.5 signature, PrintableString CN, no AKI: found by issuer name.
    let mut spec = OpensslCertificate::new(&peer, Some(&c.endpoint), &k.endpoint);
    spec.authority_key_id = false;
    let leaf = Certificate::from_der(&spec.der()).unwrap();
    let path = build_certification_path(&leaf, &intermediates, &trusted, now(), None).unwrap();
    assert_eq!(path.len(), 4);
    // A non-critical unknown extension is fine; a critical one is not.
    spec.extra_extension = Some(("1.3.6.1.4.1.58708.0.0.0", false));
    let leaf = Certificate::from_der(&spec.der()).unwrap();
    assert!(build_certification_path(&leaf, &intermediates, &trusted, now(), None).is_ok());
    spec.extra_extension = Some(("1.3.6.1.4.1.58708.0.0.0", true));
    let leaf = Certificate::from_der(&spec.der()).unwrap();
    let error = build_certification_path(&leaf, &intermediates, &trusted, now(), None);
    assert!(matches!(
        error,
        Err(PkiError::UnknownCriticalExtension { .. })
    ));
}

#[test]
fn too_many_candidates_are_refused_before_any_work() {
    let c = chain();
    let intermediates = vec![c.endpoint.clone(); MAX_PATH_CANDIDATE_CERTIFICATES];
    let error = build_certification_path(
        &c.pda,
        &intermediates,
        std::slice::from_ref(&c.internet_gateway),
        now(),
        None,
    )
    .unwrap_err();
    assert_eq!(error.kind(), ProtocolErrorKind::TooLarge);
}

#[test]
fn signature_cache_spares_repeat_verifications_but_not_validity_checks() {
    let c = chain();
    let cache = SignatureCache::new();
    let intermediates = [c.endpoint.clone(), c.private_gateway.clone()];
    let trusted = [c.internet_gateway.clone()];
    let uncached = build_certification_path(&c.pda, &intermediates, &trusted, now(), None).unwrap();
    let first =
        build_certification_path(&c.pda, &intermediates, &trusted, now(), Some(&cache)).unwrap();
    assert_eq!((cache.hits(), cache.misses(), cache.len()), (0, 3, 3));
    let second =
        build_certification_path(&c.pda, &intermediates, &trusted, now(), Some(&cache)).unwrap();
    assert_eq!((cache.hits(), cache.misses()), (3, 3));
    assert_eq!(first, uncached);
    assert_eq!(second, uncached);
    let later = c.pda.not_after() + Duration::seconds(1);
    let error = build_certification_path(&c.pda, &intermediates, &trusted, later, Some(&cache));
    assert!(matches!(error, Err(PkiError::OutsideValidity { .. })));
    // A tampered certificate has another digest, so it can never hit a cached entry.
    let mut der = c.endpoint.der().to_vec();
    let last = der.len() - 1;
    der[last] ^= 0x01;
    let tampered = Certificate::from_der(&der).unwrap();
    let error = build_certification_path(
        &c.pda,
        &[tampered, c.private_gateway.clone()],
        &trusted,
        now(),
        Some(&cache),
    );
    assert!(matches!(error, Err(PkiError::BadSignature { .. })));
}

#[test]
fn signature_cache_is_bounded() {
    let c = chain();
    let cache = SignatureCache::with_capacity(2);
    cache.verify(&c.pda, &c.endpoint).unwrap();
    cache.verify(&c.endpoint, &c.private_gateway).unwrap();
    cache
        .verify(&c.private_gateway, &c.internet_gateway)
        .unwrap();
    assert_eq!(cache.len(), 2);
    // The oldest pair was evicted, so checking it again is a miss.
    cache.verify(&c.pda, &c.endpoint).unwrap();
    assert_eq!((cache.hits(), cache.misses()), (0, 4));
    assert!(cache.verify(&c.endpoint, &c.pda).is_err());
}

/// A chain issued the awala-jvm way by Bouncy Castle 1.72 (extensions ordered BC, SKI, AKI;
/// see `testdata/pki/GenerateBcCertificates.java`).
#[test]
fn bouncy_castle_chain_validates() {
    let parse = |der: &[u8]| Certificate::from_der(der).unwrap();
    let ig = parse(include_bytes!("../testdata/pki/bc-internet-gateway.der"));
    let pg = parse(include_bytes!("../testdata/pki/bc-private-gateway.der"));
    let pe = parse(include_bytes!("../testdata/pki/bc-endpoint.der"));
    let pda = parse(include_bytes!("../testdata/pki/bc-pda.der"));
    assert!(!pda.is_ca());
    assert_eq!(pda.path_len_constraint(), Some(0));
    assert_eq!(pda.common_name().as_deref(), Some(pda.subject_id()));
    assert_eq!(pda.issuer_id().as_deref(), Some(pe.subject_id()));
    assert_eq!(ig.authority_key_id(), ig.subject_key_id());
    let at = DateTime::parse_from_rfc3339("2030-06-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
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
