use chrono::Duration;

use super::*;
use crate::actors::cogrpc::collect_test_support::TestGateway;
use crate::protocols::awala::keys::{EcCurve, SessionKeyPair};

/// Stores a new key bound to `peer_id`, created at `created_at`; returns its id.
async fn key_for(gateway: &TestGateway, peer_id: &str, created_at: DateTime<Utc>) -> Vec<u8> {
    let pair = SessionKeyPair::generate(EcCurve::P256).expect("key");
    gateway
        .context
        .identity
        .save_bound_session_key_pair(&pair, peer_id, created_at)
        .await
        .expect("save");
    pair.id.as_bytes().to_vec()
}

async fn exists(gateway: &TestGateway, key_id: &[u8]) -> bool {
    gateway
        .context
        .backends
        .metadata
        .get_session_key(key_id)
        .await
        .expect("get")
        .is_some()
}

#[tokio::test]
async fn deletes_keys_older_than_the_longest_ttl_but_the_newest_per_peer() {
    let gateway = TestGateway::start().await;
    let now = gateway.now;
    let oldest = key_for(&gateway, "0pg-a", now - Duration::days(300)).await;
    let old = key_for(&gateway, "0pg-a", now - Duration::days(181)).await;
    let recent = key_for(&gateway, "0pg-a", now - Duration::days(179)).await;
    let lone_old = key_for(&gateway, "0pg-b", now - Duration::days(400)).await;

    let deleted = delete_unusable_session_keys(&gateway.context, now)
        .await
        .expect("housekeeping");
    assert_eq!(deleted, 2);
    assert!(!exists(&gateway, &oldest).await);
    assert!(!exists(&gateway, &old).await);
    assert!(exists(&gateway, &recent).await);
    // The only key of a peer may still be the one it encrypts to.
    assert!(exists(&gateway, &lone_old).await);
    // The unbound key of the connection parameters stays too.
    let unbound = gateway
        .context
        .identity
        .unbound_session_key()
        .id
        .as_bytes()
        .to_vec();
    assert!(exists(&gateway, &unbound).await);
}
