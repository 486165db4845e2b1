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
        .verify_issued_by(identity.latest_certificate())
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
