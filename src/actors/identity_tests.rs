use super::*;
use crate::backends::BackendUrls;
use crate::protocols::awala::keys::sha256;

async fn open(dir: &std::path::Path) -> Backends {
    Backends::open(&BackendUrls::default(), dir)
        .await
        .expect("backends")
}

#[tokio::test]
async fn bootstrap_creates_then_reloads_the_same_identity() {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = Utc::now();
    let backends = open(dir.path()).await;
    let first = bootstrap(&backends, now).await.expect("first bootstrap");
    let certificate = first.latest_certificate();
    assert_eq!(certificate.subject_id(), first.node_id());
    assert!(certificate.is_self_issued());
    assert_eq!(
        certificate.not_after() - certificate.not_before(),
        chrono::Duration::days(360)
    );
    assert_eq!(
        backends.metadata.get_config(CURRENT_NODE_ID).await.unwrap(),
        Some(first.node_id().to_owned())
    );
    drop(backends);

    let backends = open(dir.path()).await;
    let later = now + chrono::Duration::hours(1);
    let second = bootstrap(&backends, later).await.expect("second bootstrap");
    assert_eq!(second.node_id(), first.node_id());
    assert_eq!(second.latest_certificate(), first.latest_certificate());
    assert_eq!(second.unbound_session_key(), first.unbound_session_key());
    assert_eq!(second.trust_anchors(later).len(), 1);
}

#[tokio::test]
async fn issues_private_gateway_certificates_and_bound_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = Utc::now();
    let backends = open(dir.path()).await;
    let identity = bootstrap(&backends, now).await.expect("bootstrap");
    let pg_key = IdentityPrivateKey::generate(2048).expect("key");
    let pg_certificate = identity
        .issue_private_gateway_certificate(&pg_key.public_key(), now)
        .expect("issue");
    pg_certificate
        .verify_issued_by(&identity.latest_certificate())
        .expect("chains to our certificate");
    assert_eq!(pg_certificate.path_len_constraint(), Some(1));
    assert!(pg_certificate.is_ca());
    assert!(pg_certificate.not_before() < now - chrono::Duration::minutes(179));
    // Clamped to the issuer, which started at bootstrap and lasts 360 days: 180 days fit.
    assert!(pg_certificate.not_after() <= identity.latest_certificate().not_after());

    let pg_id = pg_key.public_key().node_id();
    let key = identity
        .create_bound_session_key(&pg_id, now)
        .await
        .expect("session key");
    let record = backends
        .metadata
        .get_session_key(key.id.as_bytes())
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(record.peer_id.as_deref(), Some(pg_id.as_str()));
    assert_eq!(record.owner_node_id, identity.node_id());
    // Sealed, never stored in clear.
    let pkcs8 = backends
        .sealer
        .unseal(&record.key_id, &record.sealed_key)
        .await
        .unwrap();
    assert_ne!(record.sealed_key, pkcs8);
    assert_eq!(
        SessionPrivateKey::from_pkcs8_der(&pkcs8)
            .unwrap()
            .public_key(),
        key.public_key
    );
    assert_ne!(sha256(key.id.as_bytes()), [0; 32]);
}

/// The clock moved forward through a certificate's life: renewed once fewer than 180 days are
/// left, the old certificate still anchors what it issued until it expires, another replica
/// picks the new one up by reloading, and the old one is collected once expired.
#[tokio::test]
async fn the_daily_check_renews_before_180_days_and_the_old_certificate_stays_trusted() {
    use crate::protocols::awala::pki::build_certification_path;
    let dir = tempfile::tempdir().expect("tempdir");
    let t0 = Utc::now();
    let days = chrono::Duration::days;
    let backends = open(dir.path()).await;
    let identity = bootstrap(&backends, t0).await.expect("bootstrap");
    let replica = bootstrap(&backends, t0).await.expect("a second replica");
    let old = identity.latest_certificate();
    assert_eq!(
        identity.renew_if_due(t0 + days(100)).await.expect("check"),
        None
    );
    let pg_key = IdentityPrivateKey::generate(2048).expect("key");
    let issued_by_old = identity
        .issue_private_gateway_certificate(&pg_key.public_key(), t0 + days(100))
        .expect("issue");

    let at_renewal = t0 + days(181);
    let renewed = identity
        .renew_if_due(at_renewal)
        .await
        .expect("check")
        .expect("renewed with 179 days left");
    assert_ne!(renewed, old);
    assert_eq!(identity.latest_certificate(), renewed);
    assert!(renewed.not_after() > old.not_after());
    assert_eq!(
        identity.renew_if_due(at_renewal).await.expect("again"),
        None
    );
    let anchors = identity.trust_anchors(at_renewal);
    assert_eq!(anchors.len(), 2);
    build_certification_path(&issued_by_old, &[], &anchors, at_renewal, None)
        .expect("what the old certificate issued is still trusted");
    let issued_by_new = identity
        .issue_private_gateway_certificate(&pg_key.public_key(), at_renewal)
        .expect("issue");
    issued_by_new
        .verify_issued_by(&renewed)
        .expect("issued from the new certificate");

    assert_eq!(replica.latest_certificate(), old);
    replica
        .reload_certificates(at_renewal)
        .await
        .expect("reload");
    assert_eq!(replica.latest_certificate(), renewed);
    build_certification_path(
        &issued_by_new,
        &[],
        &replica.trust_anchors(at_renewal),
        at_renewal,
        None,
    )
    .expect("the other replica trusts the new issuer");

    let after_old_expiry = old.not_after() + days(1);
    assert_eq!(
        identity.trust_anchors(after_old_expiry),
        vec![renewed.clone()]
    );
    assert_eq!(
        backends
            .metadata
            .delete_expired_certificates(after_old_expiry)
            .await
            .expect("collect"),
        1
    );
    identity
        .reload_certificates(after_old_expiry)
        .await
        .expect("reload");
    assert_eq!(identity.certificates(), vec![renewed]);
}
