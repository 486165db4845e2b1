use super::*;
use crate::actors::cogrpc::collect_test_support::TestGateway;
use crate::backends::metadata::ParcelIndexKey;

async fn store_parcel(gateway: &TestGateway, pg_id: &str, parcel_id: &str) -> String {
    let key = ParcelIndexKey::new(pg_id, "0recipient", "0sender", parcel_id);
    let object_key = key.object_key(Utc::now());
    let context = &gateway.context;
    context
        .backends
        .objects
        .put(&object_key, bytes::Bytes::from_static(b"parcel"))
        .await
        .expect("put");
    context
        .backends
        .metadata
        .upsert_parcel(&key, &object_key, Utc::now() + chrono::Duration::days(1), 6)
        .await
        .expect("index");
    object_key
}

#[tokio::test]
async fn sightings_are_written_at_sync_and_revocations_are_read_back() {
    let gateway = TestGateway::start().await;
    let context = &gateway.context;
    let metadata = &*context.backends.metadata;
    let now = Utc::now();
    context.check_not_revoked("0a", now).expect("not revoked");
    assert_eq!(metadata.get_private_gateway("0a").await.expect("get"), None);
    context.private_gateways.sync(metadata).await.expect("sync");
    let record = metadata.get_private_gateway("0a").await.expect("get");
    assert!(record.is_some_and(|record| record.last_seen.is_some()));

    // Revoked elsewhere (another replica): enforced here from the next sync on.
    metadata
        .revoke_private_gateway("0b", now)
        .await
        .expect("revoke");
    assert!(!context.private_gateways.is_revoked("0b"));
    context.private_gateways.sync(metadata).await.expect("sync");
    assert!(context.private_gateways.is_revoked("0b"));
    assert_eq!(context.check_not_revoked("0b", now), Err("0b".to_owned()));
    assert!(!context.private_gateways.is_revoked("0a"));
}

#[tokio::test]
async fn revoking_purges_what_is_stored_for_that_gateway_only() {
    let gateway = TestGateway::start().await;
    let context = &gateway.context;
    let mut purged_bodies = Vec::new();
    for index in 0..3 {
        purged_bodies.push(store_parcel(&gateway, "0a", &format!("p{index}")).await);
    }
    let kept_body = store_parcel(&gateway, "0b", "p0").await;

    let revocation = revoke(context, "0a", Utc::now()).await.expect("revoke");
    assert_eq!(
        revocation,
        Revocation {
            id: "0a".to_owned(),
            newly_revoked: true,
            parcels_purged: 3,
            sessions_closed: 0,
        }
    );
    assert!(
        context.private_gateways.is_revoked("0a"),
        "enforced at once"
    );
    let objects = &context.backends.objects;
    for body in &purged_bodies {
        assert!(objects.get(body).await.expect("get").is_none(), "{body}");
    }
    assert!(objects.get(&kept_body).await.expect("get").is_some());
    let again = revoke(context, "0a", Utc::now()).await.expect("again");
    assert!(!again.newly_revoked);
    assert_eq!(again.parcels_purged, 0);
}
