use super::*;
use crate::actors::cogrpc::collect_test_support::TestGateway;
use crate::backends::metadata::ParcelIndexKey;

async fn index(gateway: &TestGateway, pg_id: &str, parcel_id: &str, size: u64) {
    let key = ParcelIndexKey::new(pg_id, "0recipient", "0sender", parcel_id);
    gateway
        .context
        .backends
        .metadata
        .upsert_parcel(
            &key,
            parcel_id,
            Utc::now() + chrono::Duration::days(1),
            size,
        )
        .await
        .expect("index");
}

#[tokio::test]
async fn parcels_are_admitted_up_to_the_quota_counting_what_was_stored_before() {
    let gateway = TestGateway::start().await;
    let metadata = &gateway.context.backends.metadata;
    index(&gateway, "0a", "earlier", 10).await;
    let quotas = PeerQuotas::new(3, 0);
    let now = Utc::now();
    quotas.admit(metadata, "0a", 10, now).await.expect("second");
    quotas.admit(metadata, "0a", 10, now).await.expect("third");
    let refused = quotas.admit(metadata, "0a", 10, now).await;
    assert!(matches!(
        refused,
        Err(QuotaError::Exceeded {
            quota: Quota::Parcels,
            ..
        })
    ));
    quotas
        .admit(metadata, "0b", 10, now)
        .await
        .expect("another gateway has its own quota");
}

#[tokio::test]
async fn bytes_are_counted_and_zero_lifts_a_quota() {
    let gateway = TestGateway::start().await;
    let metadata = &gateway.context.backends.metadata;
    let now = Utc::now();
    let quotas = PeerQuotas::new(0, 100);
    quotas.admit(metadata, "0a", 60, now).await.expect("fits");
    let refused = quotas.admit(metadata, "0a", 41, now).await;
    assert!(matches!(
        refused,
        Err(QuotaError::Exceeded {
            quota: Quota::Bytes,
            ..
        })
    ));
    quotas
        .admit(metadata, "0a", 40, now)
        .await
        .expect("exactly full");
    let unlimited = PeerQuotas::new(0, 0);
    for _ in 0..10 {
        unlimited
            .admit(metadata, "0a", u64::MAX / 4, now)
            .await
            .expect("no limit");
    }
}
