use chrono::Duration;
use futures::StreamExt;
use tonic::Code;

use super::*;
use crate::actors::cogrpc::collect_test_support::*;
use crate::protocols::awala::cms::session_envelope_info;
use crate::protocols::awala::keys::{HashAlgorithm, IdentityPrivateKey};
use crate::protocols::awala::limits::{MAX_RAMF_MESSAGE_EMIT_LENGTH, MAX_TTL_SECONDS};
use crate::protocols::awala::messages::{
    classify_item, CargoItem, CertificateRotation, ParcelCollectionAck,
};
use crate::protocols::awala::messages::{CertificationPath, CertificationPathEncoding, Recipient};
use crate::protocols::awala::pki::{issue_endpoint_certificate, self_issue_identity_certificate};
use crate::protocols::awala::ramf::{CargoCollectionAuthorization, MessageDraft};

const FAR: i64 = 170;

/// Runs the call to its end: the cargo, or the status it failed with (before or mid-stream).
async fn collect(
    gateway: &TestGateway,
    metadata: &MetadataMap,
) -> Result<Vec<CargoDelivery>, Status> {
    let stream = collect_cargo(gateway.context.clone(), metadata).await?;
    stream.collect::<Vec<_>>().await.into_iter().collect()
}

async fn refused_with(gateway: &TestGateway, metadata: &MetadataMap) -> Code {
    collect(gateway, metadata)
        .await
        .expect_err("call should fail")
        .code()
}

#[actix_rt::test]
async fn bad_authorization_metadata_is_unauthenticated() {
    let gateway = TestGateway::start().await;
    let pg = PrivateGateway::register(&gateway, Duration::days(FAR)).await;
    let (cca, _) = pg.cca(&gateway);
    let good = cca_metadata(&cca);
    let good_value = good
        .get("authorization")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let cases = [
        authorization_metadata(&[]),
        authorization_metadata(&[&good_value, &good_value]),
        authorization_metadata(&["Bearer AQID"]),
        authorization_metadata(&["Relaynet-CCA"]),
        authorization_metadata(&["Relaynet-CCA !!!"]),
        // Base64 of something that is not a CCA.
        authorization_metadata(&["Relaynet-CCA AQID"]),
        cca_metadata(&cca[..cca.len() - 1]),
    ];
    for metadata in cases {
        assert_eq!(
            refused_with(&gateway, &metadata).await,
            Code::Unauthenticated,
            "{metadata:?}"
        );
    }
    // None of those used the CCA up.
    assert!(collect(&gateway, &good).await.is_ok());
}

#[actix_rt::test]
async fn spec_scheme_is_accepted() {
    let gateway = TestGateway::start().await;
    let pg = PrivateGateway::register(&gateway, Duration::days(FAR)).await;
    let (cca, _) = pg.cca(&gateway);
    let value = cca_metadata(&cca)
        .get("authorization")
        .unwrap()
        .to_str()
        .unwrap()
        .replace("Relaynet-CCA", "Awala-CCA");
    assert!(collect(&gateway, &authorization_metadata(&[&value]))
        .await
        .is_ok());
}

#[actix_rt::test]
async fn cca_from_an_untrusted_gateway_is_unauthenticated() {
    let gateway = TestGateway::start().await;
    let pg = PrivateGateway::register(&gateway, Duration::days(FAR)).await;
    let other_ig_key = IdentityPrivateKey::generate(2048).expect("key");
    let other_ig = self_issue_identity_certificate(
        &other_ig_key,
        gateway.now - Duration::hours(1),
        gateway.now + Duration::days(300),
    )
    .unwrap();
    let foreign = crate::protocols::awala::pki::issue_gateway_certificate(
        &pg.key.public_key(),
        &other_ig_key,
        Some(&other_ig),
        gateway.now - Duration::hours(1),
        gateway.now + Duration::days(100),
        1,
    )
    .unwrap();
    let (cca, _) = pg.cca_with(&gateway, &pg.ig_session_key, &foreign, &[]);
    assert_eq!(
        refused_with(&gateway, &cca_metadata(&cca)).await,
        Code::Unauthenticated
    );
    // Attaching the foreign root does not help.
    let (cca, _) = pg.cca_with(&gateway, &pg.ig_session_key, &foreign, &[other_ig]);
    assert_eq!(
        refused_with(&gateway, &cca_metadata(&cca)).await,
        Code::Unauthenticated
    );
}

#[actix_rt::test]
async fn cca_for_another_recipient_is_invalid_argument() {
    let gateway = TestGateway::start().await;
    let pg = PrivateGateway::register(&gateway, Duration::days(FAR)).await;
    // An endpoint behind the private gateway chains to us, with its gateway as the recipient
    // its certificate authorises: trusted, but not a CCA for us.
    let endpoint_key = IdentityPrivateKey::generate(2048).expect("key");
    let endpoint = issue_endpoint_certificate(
        &endpoint_key.public_key(),
        &pg.key,
        Some(&pg.certificate),
        gateway.now - Duration::hours(1),
        gateway.now + Duration::days(30),
    )
    .unwrap();
    let draft = MessageDraft::new(
        Recipient {
            id: pg.id(),
            internet_address: None,
        },
        pg.cca(&gateway).0,
        gateway.now - Duration::minutes(5),
        3600,
    );
    let cca = CargoCollectionAuthorization::serialize(
        &draft,
        &endpoint_key,
        &endpoint,
        std::slice::from_ref(&pg.certificate),
        HashAlgorithm::Sha256,
    )
    .unwrap();
    assert_eq!(
        refused_with(&gateway, &cca_metadata(&cca)).await,
        Code::InvalidArgument
    );
}

#[actix_rt::test]
async fn ccr_for_a_key_we_do_not_hold_or_bound_to_another_gateway_is_unauthenticated() {
    let gateway = TestGateway::start().await;
    let pg = PrivateGateway::register(&gateway, Duration::days(FAR)).await;
    let (cca, _) = pg.cca_with(&gateway, &unknown_session_key(), &pg.certificate, &[]);
    assert_eq!(
        refused_with(&gateway, &cca_metadata(&cca)).await,
        Code::Unauthenticated
    );

    let other = PrivateGateway::register(&gateway, Duration::days(FAR)).await;
    let (cca, _) = pg.cca_with(&gateway, &other.ig_session_key, &pg.certificate, &[]);
    assert_eq!(
        refused_with(&gateway, &cca_metadata(&cca)).await,
        Code::Unauthenticated
    );
}

#[actix_rt::test]
async fn reused_cca_is_permission_denied() {
    let gateway = TestGateway::start().await;
    let pg = PrivateGateway::register(&gateway, Duration::days(FAR)).await;
    let (cca, _) = pg.cca(&gateway);
    let metadata = cca_metadata(&cca);
    assert!(collect(&gateway, &metadata)
        .await
        .expect("first use")
        .is_empty());
    assert_eq!(
        refused_with(&gateway, &metadata).await,
        Code::PermissionDenied
    );
}

#[actix_rt::test]
async fn nothing_queued_gives_no_cargo() {
    let gateway = TestGateway::start().await;
    let pg = PrivateGateway::register(&gateway, Duration::days(FAR)).await;
    let (cca, originator) = pg.cca(&gateway);
    assert!(collect(&gateway, &cca_metadata(&cca))
        .await
        .expect("collect")
        .is_empty());
    // The CCA taught us the gateway's new session key.
    let stored = gateway
        .context
        .backends
        .metadata
        .get_peer_session_key(&pg.id())
        .await
        .unwrap()
        .expect("peer key");
    assert_eq!(stored.key_id, originator.id.as_bytes());
}

#[actix_rt::test]
async fn pcas_come_first_then_parcels_and_parcels_stay_stored() {
    let gateway = TestGateway::start().await;
    let pg = PrivateGateway::register(&gateway, Duration::days(FAR)).await;
    let now = gateway.now;
    // 12 collections over 4 distinct expiries: ties straddle the (test-sized) page boundaries.
    let mut expected_pcas = Vec::new();
    for i in 0..12 {
        let parcel_id = format!("parcel-{i:02}");
        gateway
            .record_collection(&pg.id(), &parcel_id, now + Duration::hours(1 + i / 3))
            .await;
        expected_pcas.push(parcel_id);
    }
    // A collection of another gateway is not ours to acknowledge.
    gateway
        .record_collection("0other", "parcel-x", now + Duration::hours(1))
        .await;
    let mut parcels = Vec::new();
    let mut keys = Vec::new();
    for i in 0..16u8 {
        let body = vec![i; 1000 + usize::from(i)];
        keys.push(
            gateway
                .store_parcel(&pg.id(), body.clone(), now + Duration::days(2))
                .await,
        );
        parcels.push(body);
    }
    gateway
        .store_parcel("0other", vec![9; 10], now + Duration::days(2))
        .await;
    // Expired parcels stay behind.
    gateway
        .store_parcel(&pg.id(), vec![8; 10], now - Duration::seconds(1))
        .await;

    let (cca, originator) = pg.cca(&gateway);
    let cargo = collect(&gateway, &cca_metadata(&cca))
        .await
        .expect("collect");
    assert_eq!(cargo.len(), 1);
    let (message, items) = pg.open_cargo(&cargo[0], &originator, now);
    assert_eq!(
        items.len(),
        12 + 16,
        "no rotation for a certificate far from expiry"
    );
    let pcas: Vec<_> = items[..12]
        .iter()
        .map(|item| {
            ParcelCollectionAck::deserialize(item)
                .expect("pca")
                .parcel_id
        })
        .collect();
    let mut sorted = pcas.clone();
    sorted.sort();
    assert_eq!(sorted, expected_pcas, "each PCA exactly once");
    assert_eq!(&items[12..], &parcels[..]);

    // The call reads the clock itself, a moment after the fixture did.
    assert!(message.creation_date() >= cargo_creation(now));
    assert!(message.creation_date() <= cargo_creation(Utc::now()));
    assert_eq!(
        i64::from(message.ttl()),
        (now + Duration::days(2) - message.creation_date()).num_seconds()
    );
    assert!(message.ttl() <= MAX_TTL_SECONDS);
    assert!(message.sender_ca_certificates().is_empty());

    // The cargo's own originator key is stored bound to the gateway, for its replies.
    let info = session_envelope_info(message.payload()).unwrap();
    assert_eq!(info.recipient_key_id, originator.id);
    let record = gateway
        .context
        .backends
        .metadata
        .get_session_key(info.originator_key.id.as_bytes())
        .await
        .unwrap()
        .expect("key stored");
    assert_eq!(record.peer_id.as_deref(), Some(pg.id().as_str()));

    for key in keys {
        assert!(gateway
            .context
            .backends
            .metadata
            .get_parcel(&key)
            .await
            .unwrap()
            .is_some());
    }
}

fn cargo_creation(now: chrono::DateTime<Utc>) -> chrono::DateTime<Utc> {
    super::super::cargo_builder::cargo_creation_date(now)
}

#[actix_rt::test]
async fn certificate_nearing_expiry_is_rotated_last() {
    let gateway = TestGateway::start().await;
    let pg = PrivateGateway::register(&gateway, Duration::days(30)).await;
    gateway
        .store_parcel(
            &pg.id(),
            b"parcel".to_vec(),
            gateway.now + Duration::days(1),
        )
        .await;
    let (cca, originator) = pg.cca(&gateway);
    let cargo = collect(&gateway, &cca_metadata(&cca))
        .await
        .expect("collect");
    assert_eq!(cargo.len(), 1);
    let (message, items) = pg.open_cargo(&cargo[0], &originator, gateway.now);
    assert_eq!(items.len(), 2);
    assert_eq!(items[0], b"parcel");
    assert_eq!(classify_item(&items[1]), CargoItem::CertificateRotation);
    let (_, encoding) = CertificationPath::decode_with_encoding(&items[1][7..]).unwrap();
    assert_eq!(encoding, CertificationPathEncoding::Js, "what REF emits");
    let rotation = CertificateRotation::deserialize(&items[1]).expect("rotation");
    let renewed =
        crate::protocols::awala::pki::Certificate::from_der(&rotation.path.leaf_der).unwrap();
    let issuer = gateway.context.identity.latest_certificate();
    assert_eq!(renewed.subject_id(), pg.id());
    assert_eq!(
        renewed.subject_public_key(),
        pg.certificate.subject_public_key()
    );
    renewed
        .verify_issued_by(&issuer)
        .expect("issued by our latest certificate");
    assert!(renewed.not_after() > pg.certificate.not_after() + Duration::days(60));
    assert_eq!(
        rotation.path.certificate_authorities_der,
        vec![issuer.der().to_vec()]
    );
    // The batch expiry is the new certificate's: TTL reaches it (capped at 180 days).
    let expected_ttl = (renewed.not_after() - message.creation_date())
        .num_seconds()
        .min(i64::from(MAX_TTL_SECONDS));
    assert_eq!(i64::from(message.ttl()), expected_ttl);
}

#[actix_rt::test]
async fn many_parcels_are_split_into_cargo_within_limits() {
    let gateway = TestGateway::start().await;
    let pg = PrivateGateway::register(&gateway, Duration::days(FAR)).await;
    let mut parcels = Vec::new();
    for i in 0..300u32 {
        let mut body = vec![(i % 251) as u8; 32 * 1024];
        body[..4].copy_from_slice(&i.to_be_bytes());
        gateway
            .store_parcel(&pg.id(), body.clone(), gateway.now + Duration::days(3))
            .await;
        parcels.push(body);
    }
    let (cca, originator) = pg.cca(&gateway);
    let cargo = collect(&gateway, &cca_metadata(&cca))
        .await
        .expect("collect");
    assert!(cargo.len() >= 2, "300 × 32 KiB do not fit one cargo");
    let mut received = Vec::new();
    let mut ids = std::collections::HashSet::new();
    for delivery in &cargo {
        assert!(delivery.cargo.len() <= MAX_RAMF_MESSAGE_EMIT_LENGTH);
        assert!(ids.insert(delivery.id.clone()), "delivery ids are unique");
        received.extend(pg.open_cargo(delivery, &originator, gateway.now).1);
    }
    assert_eq!(received, parcels, "every parcel once, in order");
}

#[actix_rt::test]
async fn collect_cargo_over_grpc() {
    use crate::protocols::cogrpc::{
        relaynet_server, CargoDeliveryAck, CargoRelay, CargoRelayClient, MAX_DECODING_MESSAGE_SIZE,
    };
    use tonic::{Request, Response, Streaming};

    /// Only `CollectCargo`: the real server lives elsewhere.
    struct CollectOnly(Arc<GatewayContext>);

    #[tonic::async_trait]
    impl CargoRelay for CollectOnly {
        type DeliverCargoStream = futures::stream::Empty<Result<CargoDeliveryAck, Status>>;
        type CollectCargoStream = CollectStream;

        async fn deliver_cargo(
            &self,
            _: Request<Streaming<CargoDelivery>>,
        ) -> Result<Response<Self::DeliverCargoStream>, Status> {
            Err(Status::unimplemented("not in this test"))
        }

        async fn collect_cargo(
            &self,
            request: Request<Streaming<CargoDeliveryAck>>,
        ) -> Result<Response<CollectStream>, Status> {
            collect_cargo(self.0.clone(), request.metadata())
                .await
                .map(Response::new)
        }
    }

    let gateway = TestGateway::start().await;
    let pg = PrivateGateway::register(&gateway, Duration::days(FAR)).await;
    gateway
        .store_parcel(
            &pg.id(),
            vec![7; 5 * 1024 * 1024],
            gateway.now + Duration::days(1),
        )
        .await;
    gateway
        .store_parcel(
            &pg.id(),
            vec![6; 5 * 1024 * 1024],
            gateway.now + Duration::days(1),
        )
        .await;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let service = relaynet_server(Arc::new(CollectOnly(gateway.context.clone())));
    let server = tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{address}"))
        .unwrap()
        .connect()
        .await
        .expect("connect");
    let mut client =
        CargoRelayClient::new(channel).max_decoding_message_size(MAX_DECODING_MESSAGE_SIZE);

    let (cca, originator) = pg.cca(&gateway);
    let call = |cca: Vec<u8>| {
        let mut request = Request::new(futures::stream::iter(Vec::<CargoDeliveryAck>::new()));
        *request.metadata_mut() = cca_metadata(&cca);
        request
    };
    let mut stream = client
        .collect_cargo(call(cca.clone()))
        .await
        .expect("call")
        .into_inner();
    let mut items = Vec::new();
    while let Some(delivery) = stream.message().await.expect("stream ends with OK") {
        items.extend(pg.open_cargo(&delivery, &originator, gateway.now).1);
    }
    assert_eq!(
        items,
        vec![vec![7; 5 * 1024 * 1024], vec![6; 5 * 1024 * 1024]]
    );

    let status = client.collect_cargo(call(cca)).await.expect_err("replay");
    assert_eq!(status.code(), Code::PermissionDenied);
    server.abort();
}

#[actix_rt::test]
async fn a_panic_mid_call_ends_it_unavailable_and_the_next_call_collects_everything() {
    use crate::supervision::faults::FaultPoint;

    let gateway = TestGateway::start().await;
    let pg = PrivateGateway::register(&gateway, Duration::days(FAR)).await;
    // Two parcels too big to share a cargo: the fault strikes once the first cargo went out.
    let parcels = [vec![7; 5 * 1024 * 1024], vec![6; 5 * 1024 * 1024]];
    for parcel in &parcels {
        let expiry = gateway.now + Duration::days(1);
        gateway.store_parcel(&pg.id(), parcel.clone(), expiry).await;
    }
    gateway.context.faults.arm(FaultPoint::CollectCargo, 1);

    let (cca, originator) = pg.cca(&gateway);
    let stream = collect_cargo(gateway.context.clone(), &cca_metadata(&cca))
        .await
        .expect("the CCA is accepted");
    let items: Vec<_> = stream.collect().await;
    assert_eq!(items.len(), 2, "one cargo, then the status");
    let first = items[0].as_ref().expect("the first cargo went out");
    assert_eq!(
        pg.open_cargo(first, &originator, gateway.now).1,
        [parcels[0].clone()]
    );
    let status = items[1].as_ref().expect_err("no premature OK");
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(gateway.context.faults.fired(FaultPoint::CollectCargo), 1);

    // Building deletes nothing, so the courier's next call gets every parcel.
    let (cca, second_originator) = pg.cca(&gateway);
    let cargo = collect(&gateway, &cca_metadata(&cca))
        .await
        .expect("the next call ends with OK");
    // Within the same second the first CCA's key stays the newest one: cargo goes to that.
    let stored = gateway
        .context
        .backends
        .metadata
        .get_peer_session_key(&pg.id())
        .await
        .unwrap()
        .expect("a peer key");
    let originator = if stored.key_id == second_originator.id.as_bytes() {
        second_originator
    } else {
        originator
    };
    let received: Vec<Vec<u8>> = cargo
        .iter()
        .flat_map(|delivery| pg.open_cargo(delivery, &originator, gateway.now).1)
        .collect();
    assert_eq!(received, parcels);
}
