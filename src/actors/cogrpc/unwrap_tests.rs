use chrono::Duration;

use super::*;
use crate::actors::cogrpc::test_support::Fixture;
use crate::actors::mailbox::OutboundParcel;
use crate::backends::metadata::SessionKeyRecord;
use crate::backends::queue::QueueName;
use crate::protocols::awala::keys::{EcCurve, SessionKeyPair};
use crate::protocols::awala::messages::MessageType;

use crate::backends::queue::conformance::take_waiting;

#[tokio::test]
async fn parcels_go_to_the_internet_or_to_our_other_private_gateway() {
    let f = Fixture::new().await;
    let internet = f.internet_bound_parcel("to-internet");
    let (private, recipient_id) = f.parcel_for_other_private_gateway("to-peer");
    let cargo = f.cargo(vec![internet.clone(), private.clone()]);

    let report = unwrap_cargo(&f.router, cargo, f.now).await.expect("unwrap");
    assert_eq!(report.parcels_routed, 2);
    assert_eq!(report.parcels_skipped, 0);

    let backends = &f.context.backends;
    let outbound = take_waiting(&*backends.queue, QueueName::OutboundParcels, 10)
        .await
        .expect("receive");
    assert_eq!(outbound.len(), 1);
    let queued = OutboundParcel::from_delivery(&outbound[0]).expect("outbound parcel");
    assert_eq!(queued.parcel, Bytes::from(internet));
    assert_eq!(queued.recipient_address, "pong.test");

    let stored = backends
        .metadata
        .list_parcels_for_gateway(f.other_pg.id(), f.now, 0, 10)
        .await
        .expect("list");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].key.recipient_id, recipient_id);
    let body = backends
        .objects
        .get(&stored[0].object_key)
        .await
        .expect("get");
    assert_eq!(body, Some(Bytes::from(private)));
}

#[tokio::test]
async fn a_pca_deletes_the_parcel_it_names() {
    let f = Fixture::new().await;
    let backends = &f.context.backends;
    let key = ParcelIndexKey::new(f.pg.id(), "recipient-endpoint", "sender-endpoint", "p-1");
    let object_key = key.object_key(f.now);
    backends
        .objects
        .put(&object_key, Bytes::from_static(b"parcel"))
        .await
        .expect("put");
    backends
        .metadata
        .upsert_parcel(&key, &object_key, f.now + Duration::hours(1), 6)
        .await
        .expect("upsert");
    let pca = ParcelCollectionAck {
        sender_endpoint_id: "sender-endpoint".into(),
        recipient_endpoint_id: "recipient-endpoint".into(),
        parcel_id: "p-1".into(),
    }
    .serialize()
    .expect("pca");
    // A PCA for a parcel we do not hold is honoured all the same.
    let unknown = ParcelCollectionAck {
        sender_endpoint_id: "s".into(),
        recipient_endpoint_id: "r".into(),
        parcel_id: "gone".into(),
    }
    .serialize()
    .expect("pca");

    let report = unwrap_cargo(&f.router, f.cargo(vec![pca, unknown]), f.now)
        .await
        .expect("unwrap");
    assert_eq!(report.pcas_honoured, 2);
    assert_eq!(backends.metadata.get_parcel(&key).await.expect("get"), None);
    assert_eq!(backends.objects.get(&object_key).await.expect("get"), None);
}

#[tokio::test]
async fn rotations_are_ignored_and_garbage_is_skipped() {
    let f = Fixture::new().await;
    let rotation = MessageType::CertificateRotation.prefix(&[0x30, 0x00]);
    let bad_pca = MessageType::Pca.prefix(b"not der");
    let internet = f.internet_bound_parcel("kept");
    let items = vec![rotation, b"garbage".to_vec(), bad_pca, internet];

    let report = unwrap_cargo(&f.router, f.cargo(items), f.now)
        .await
        .expect("unwrap");
    assert_eq!(
        report,
        UnwrapReport {
            parcels_routed: 1,
            parcels_skipped: 1,
            pcas_honoured: 0,
            pcas_skipped: 1,
            rotations_ignored: 1,
            session_key_updated: true,
        }
    );
    let depth = f
        .context
        .backends
        .queue
        .depth(QueueName::OutboundParcels)
        .await;
    assert_eq!(
        depth.expect("depth"),
        1,
        "the good parcel after the garbage went out"
    );
}

#[tokio::test]
async fn undecryptable_cargo_is_dropped() {
    let f = Fixture::new().await;
    let parcel = f.internet_bound_parcel("never");
    // A key we never issued.
    let stranger = SessionKeyPair::generate(EcCurve::P256).expect("key");
    let cargo = f.cargo_to(vec![parcel.clone()], &stranger.session_key(), f.now);
    let error = unwrap_cargo(&f.router, cargo, f.now)
        .await
        .expect_err("unknown key");
    assert_eq!(
        error.drop_outcome(),
        Some(CargoOutcome::Undecryptable),
        "{error}"
    );

    // Our key, but bound to the other private gateway.
    let cargo = f.cargo_to(vec![parcel], &f.other_pg.gateway_session_key, f.now);
    let error = unwrap_cargo(&f.router, cargo, f.now)
        .await
        .expect_err("foreign key");
    assert_eq!(
        error.drop_outcome(),
        Some(CargoOutcome::Undecryptable),
        "{error}"
    );

    let error = unwrap_cargo(&f.router, Bytes::from_static(b"not cargo"), f.now)
        .await
        .expect_err("malformed");
    assert_eq!(error.drop_outcome(), Some(CargoOutcome::Invalid), "{error}");

    let depth = f
        .context
        .backends
        .queue
        .depth(QueueName::OutboundParcels)
        .await;
    assert_eq!(depth.expect("depth"), 0);
}

#[tokio::test]
async fn a_corrupt_stored_key_is_retried_not_dropped() {
    let f = Fixture::new().await;
    let pair = SessionKeyPair::generate(EcCurve::P256).expect("key");
    f.context
        .backends
        .metadata
        .save_session_key(&SessionKeyRecord {
            key_id: pair.id.as_bytes().to_vec(),
            owner_node_id: f.node_id().to_owned(),
            peer_id: Some(f.pg.id().to_owned()),
            created_at: f.now,
            sealed_key: b"not sealed".to_vec(),
        })
        .await
        .expect("save");
    let cargo = f.cargo_to(vec![], &pair.session_key(), f.now);
    let error = unwrap_cargo(&f.router, cargo, f.now)
        .await
        .expect_err("corrupt key");
    assert_eq!(error.drop_outcome(), None, "{error}");
}

#[tokio::test]
async fn the_session_key_is_recorded_only_if_newer() {
    let f = Fixture::new().await;
    let key = &f.pg.gateway_session_key;
    let peer_key = |f: &Fixture| {
        let metadata = Arc::clone(&f.context.backends.metadata);
        let pg_id = f.pg.id().to_owned();
        async move { metadata.get_peer_session_key(&pg_id).await.expect("get") }
    };

    let first = f.cargo_to(vec![], key, f.now - Duration::minutes(10));
    let report = unwrap_cargo(&f.router, first, f.now).await.expect("unwrap");
    assert!(report.session_key_updated);
    let recorded = peer_key(&f).await.expect("recorded");
    assert_eq!(
        recorded.creation_date.timestamp(),
        (f.now - Duration::minutes(10)).timestamp()
    );

    let older = f.cargo_to(vec![], key, f.now - Duration::minutes(20));
    let report = unwrap_cargo(&f.router, older, f.now).await.expect("unwrap");
    assert!(!report.session_key_updated);
    assert_eq!(peer_key(&f).await.as_ref(), Some(&recorded));

    let newer = f.cargo_to(vec![], key, f.now - Duration::minutes(1));
    let report = unwrap_cargo(&f.router, newer, f.now).await.expect("unwrap");
    assert!(report.session_key_updated);
    let replaced = peer_key(&f).await.expect("recorded");
    assert_ne!(replaced.key_id, recorded.key_id);
}
