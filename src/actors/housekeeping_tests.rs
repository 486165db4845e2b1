use chrono::Duration as Span;

use super::*;
use crate::actors::cogrpc::collect_test_support::TestGateway;
use crate::backends::metadata::ParcelIndexKey;
use crate::protocols::awala::keys::{EcCurve, SessionKeyPair};

fn settings(grace: Duration) -> HousekeepingSettings {
    HousekeepingSettings {
        period: Duration::from_secs(3600),
        orphan_grace: grace,
    }
}

/// A body stored as if received at `received`, with no index entry naming it.
async fn orphan(gateway: &TestGateway, received: DateTime<Utc>) -> String {
    let key = ParcelIndexKey::new(
        "0pg",
        "0recipient",
        "0sender",
        &uuid::Uuid::new_v4().to_string(),
    );
    let object_key = key.object_key(received);
    gateway
        .context
        .backends
        .objects
        .put(&object_key, bytes::Bytes::from_static(b"orphan"))
        .await
        .expect("put");
    object_key
}

async fn body_exists(gateway: &TestGateway, object_key: &str) -> bool {
    gateway
        .context
        .backends
        .objects
        .get(object_key)
        .await
        .expect("get")
        .is_some()
}

async fn object_key_of(gateway: &TestGateway, key: &ParcelIndexKey) -> Option<String> {
    gateway
        .context
        .backends
        .metadata
        .get_parcel(key)
        .await
        .expect("get parcel")
        .map(|entry| entry.object_key)
}

#[tokio::test]
async fn a_sweep_deletes_what_expired_or_is_unnamed_and_keeps_the_rest() {
    let gateway = TestGateway::start().await;
    let now = Utc::now();
    let metadata = &gateway.context.backends.metadata;

    let expired = gateway
        .store_parcel("0pg", b"old".to_vec(), now - Span::hours(1))
        .await;
    let expired_body = object_key_of(&gateway, &expired).await.expect("stored");
    let live = gateway
        .store_parcel("0pg", b"new".to_vec(), now + Span::days(1))
        .await;
    let live_body = object_key_of(&gateway, &live).await.expect("stored");
    gateway
        .record_collection("0pg", "gone", now - Span::hours(1))
        .await;
    gateway
        .record_collection("0pg", "kept", now + Span::days(1))
        .await;
    assert!(metadata
        .record_cca_fulfilment("0pg", "old-cca", now - Span::hours(1))
        .await
        .expect("cca"));
    assert!(metadata
        .record_cca_fulfilment("0pg", "new-cca", now + Span::days(1))
        .await
        .expect("cca"));
    let old_key = SessionKeyPair::generate(EcCurve::P256).expect("key");
    for created in [now - Span::days(200), now - Span::days(1)] {
        let pair = SessionKeyPair::generate(EcCurve::P256).expect("key");
        let pair = if created < now - Span::days(100) {
            &old_key
        } else {
            &pair
        };
        gateway
            .context
            .identity
            .save_bound_session_key_pair(pair, "0peer", created)
            .await
            .expect("save");
    }
    let old_orphan = orphan(&gateway, now - Span::hours(2)).await;
    let young_orphan = orphan(&gateway, now - Span::minutes(5)).await;

    let report = sweep(&gateway.context, &settings(Duration::from_secs(3600)), now)
        .await
        .expect("sweep");
    assert_eq!(
        report,
        SweepReport {
            expired_parcels: 1,
            parcel_collections: 1,
            cca_fulfilments: 1,
            certificates: 0,
            session_keys: 1,
            orphan_bodies: 1,
        }
    );
    assert_eq!(object_key_of(&gateway, &expired).await, None);
    assert!(!body_exists(&gateway, &expired_body).await);
    assert!(body_exists(&gateway, &live_body).await);
    assert!(!body_exists(&gateway, &old_orphan).await);
    assert!(
        body_exists(&gateway, &young_orphan).await,
        "within the grace period"
    );
    let collections = metadata
        .parcel_collections_for_gateway("0pg", now - Span::days(1), 10)
        .await
        .expect("collections");
    assert_eq!(collections.len(), 1);
    assert_eq!(collections[0].parcel_id, "kept");
    // The live CCA is still recorded: using it again is a replay.
    assert!(!metadata
        .record_cca_fulfilment("0pg", "new-cca", now + Span::days(1))
        .await
        .expect("cca"));
    assert!(metadata
        .get_session_key(old_key.id.as_bytes())
        .await
        .expect("get")
        .is_none());

    let again = sweep(&gateway.context, &settings(Duration::from_secs(3600)), now)
        .await
        .expect("sweep");
    assert_eq!(again.total(), 0, "{again:?}");
    let metrics = gateway.context.metrics.encode_text().expect("metrics");
    assert!(
        metrics.contains(r#"gateway_housekeeping_deleted_total{kind="orphan_body"} 1"#),
        "{metrics}"
    );
}

/// More bodies than one listing returns, spread over time: every unnamed one before the cutoff
/// goes, however many named ones share its prefixes, and none after it.
#[tokio::test]
async fn the_orphan_sweep_reaches_past_a_full_listing() {
    let gateway = TestGateway::start().await;
    let now = Utc::now();
    let mut old_orphans = Vec::new();
    let mut named = Vec::new();
    for i in 0..(LIST_PAGE as i64 * 2 + 300) {
        let received = now - Span::seconds(10 * i + 7_200);
        if i % 5 == 0 {
            let key = ParcelIndexKey::new("0pg", "0recipient", "0sender", &format!("p{i}"));
            let object_key = key.object_key(received);
            let backends = &gateway.context.backends;
            backends
                .objects
                .put(&object_key, bytes::Bytes::from_static(b"named"))
                .await
                .expect("put");
            backends
                .metadata
                .upsert_parcel(&key, &object_key, now + Span::days(1), 5)
                .await
                .expect("upsert");
            named.push(object_key);
        } else {
            old_orphans.push(orphan(&gateway, received).await);
        }
    }
    let young = orphan(&gateway, now - Span::minutes(1)).await;

    let report = sweep(&gateway.context, &settings(Duration::from_secs(3600)), now)
        .await
        .expect("sweep");
    assert_eq!(report.orphan_bodies, old_orphans.len() as u64);
    let left = gateway
        .context
        .backends
        .objects
        .list(BODY_PREFIX, 10_000)
        .await
        .expect("list");
    let mut expected = named.clone();
    expected.push(young);
    expected.sort();
    assert_eq!(left, expected);
}

#[actix_rt::test]
async fn the_housekeeper_sweeps_on_schedule_and_on_demand() {
    let gateway = TestGateway::start().await;
    let _handle = start(
        gateway.context.clone(),
        HousekeepingSettings {
            period: Duration::from_millis(100),
            orphan_grace: Duration::from_secs(3600),
        },
    );
    // Scheduled: a parcel that expires after the housekeeper started goes in a later sweep.
    let expired = gateway
        .store_parcel("0pg", b"soon".to_vec(), Utc::now() - Span::seconds(1))
        .await;
    let mut gone = false;
    for _ in 0..600 {
        if object_key_of(&gateway, &expired).await.is_none() {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(gone, "no scheduled sweep deleted the expired parcel");
}

#[actix_rt::test]
async fn a_sweep_on_demand_answers_with_what_went() {
    let gateway = TestGateway::start().await;
    let handle = start(gateway.context.clone(), settings(Duration::from_secs(3600)));
    // The first answer also means the sweep the housekeeper ran at start has had its turn.
    handle.sweep_now().await.expect("sweep now");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let old = orphan(&gateway, Utc::now() - Span::hours(3)).await;
    let report = handle.sweep_now().await.expect("sweep now");
    assert_eq!(report.orphan_bodies, 1, "{report:?}");
    assert!(!body_exists(&gateway, &old).await);
}
