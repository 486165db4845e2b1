//! Cargo benchmarks (issue 4: a cargo of 1,000 parcels with 1 KiB payloads unwrapped and routed
//! at ≥ 5,000 parcels/s; `CollectCargo` builds and streams 8 MiB of cargo at ≥ 50 MB/s).
//! `scripts/bench.sh` runs these beside the same operations in relaynet-core
//! (`tests/interop/bench/cargo.mjs`).
//!
//! Both run the functions the gateway runs, on the embedded backends in a temporary directory:
//! `unwrap_cargo` (the cargo worker's) and `collect_cargo` (the CogRPC handler's), so storage,
//! session-key look-ups and notifications are part of the figures.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use futures::StreamExt;
use tempfile::TempDir;
use tokio::runtime::Runtime;
use tonic::metadata::{MetadataMap, MetadataValue};

use awala_gateway::actors::cogrpc::collect::collect_cargo;
use awala_gateway::actors::cogrpc::unwrap::unwrap_cargo;
use awala_gateway::actors::gateway::GatewayContext;
use awala_gateway::actors::identity::bootstrap;
use awala_gateway::actors::parcel_router::{ParcelRouter, Routed};
use awala_gateway::backends::{BackendUrls, Backends};
use awala_gateway::config::LimitsConfig;
use awala_gateway::protocols::awala::cms::{session_encrypt, EnvelopeOptions};
use awala_gateway::protocols::awala::keys::{HashAlgorithm, IdentityPrivateKey, SessionKey};
use awala_gateway::protocols::awala::messages::{
    CargoCollectionRequest, CargoMessageSet, Recipient,
};
use awala_gateway::protocols::awala::pki::{
    issue_delivery_authorization, issue_endpoint_certificate, issue_gateway_certificate,
    self_issue_identity_certificate, Certificate,
};
use awala_gateway::protocols::awala::ramf::{
    Cargo, CargoCollectionAuthorization, MessageDraft, Parcel,
};
use awala_gateway::telemetry::Metrics;

const INTERNET_ADDRESS: &str = "gateway.example";
const UNWRAP_PARCELS: usize = 1_000;
const UNWRAP_PAYLOAD: usize = 1_024;
/// 1,024 parcels of 8 KiB each, about 4 KiB of it payload (a 3-certificate chain and a
/// signature take the rest): 8 MiB to collect.
const COLLECT_PARCELS: usize = 1_024;
const COLLECT_PARCEL_LENGTH: usize = 8_192;

/// A gateway on embedded backends whose stores live as long as this value.
struct Gateway {
    context: Arc<GatewayContext>,
    router: ParcelRouter,
    now: DateTime<Utc>,
    _dir: TempDir,
}

impl Gateway {
    async fn start() -> Gateway {
        let dir = tempfile::tempdir().expect("tempdir");
        let backends = Backends::open(&BackendUrls::default(), dir.path())
            .await
            .expect("backends");
        let now = Utc::now();
        let identity = Arc::new(bootstrap(&backends, now).await.expect("identity"));
        let context = Arc::new(GatewayContext::new(
            backends,
            identity,
            INTERNET_ADDRESS.to_owned(),
            LimitsConfig::default(),
            Metrics::new().expect("metrics"),
        ));
        let router = ParcelRouter::new(Arc::clone(&context));
        Gateway {
            context,
            router,
            now,
            _dir: dir,
        }
    }
}

/// A private gateway registered with a [`Gateway`], as in its PoWeb registration.
struct PrivateGateway {
    key: IdentityPrivateKey,
    /// Issued by the gateway.
    certificate: Certificate,
    /// Issues its CDAs.
    self_certificate: Certificate,
    /// The gateway's session key bound to it.
    gateway_session_key: SessionKey,
}

impl PrivateGateway {
    async fn register(gateway: &Gateway) -> PrivateGateway {
        let key = IdentityPrivateKey::generate(2048).expect("key");
        let identity = &gateway.context.identity;
        let certificate = identity
            .issue_private_gateway_certificate(&key.public_key(), gateway.now)
            .expect("certificate");
        let self_certificate = self_issue_identity_certificate(
            &key,
            gateway.now - chrono::Duration::hours(1),
            gateway.now + chrono::Duration::days(360),
        )
        .expect("self-issued certificate");
        let gateway_session_key = identity
            .create_bound_session_key(certificate.subject_id(), gateway.now)
            .await
            .expect("session key");
        PrivateGateway {
            key,
            certificate,
            self_certificate,
            gateway_session_key,
        }
    }

    /// Cargo from this gateway to `gateway` holding `items`, encrypted to its session key.
    fn cargo(&self, gateway: &Gateway, items: Vec<Vec<u8>>) -> Bytes {
        let plaintext = CargoMessageSet { messages: items }
            .encode()
            .expect("message set");
        let envelope = session_encrypt(
            &plaintext,
            &self.gateway_session_key,
            EnvelopeOptions::default(),
        )
        .expect("encrypt")
        .envelope;
        let draft = MessageDraft::new(
            gateway_recipient(gateway),
            envelope,
            gateway.now - chrono::Duration::minutes(5),
            86_400,
        );
        let cargo = Cargo::serialize(
            &draft,
            &self.key,
            &self.certificate,
            &[],
            HashAlgorithm::Sha256,
        )
        .expect("cargo");
        Bytes::from(cargo)
    }

    /// A fresh CCA (each is single use) as the `authorization` metadata of `CollectCargo`.
    fn cca_metadata(&self, gateway: &Gateway) -> MetadataMap {
        let now = gateway.now;
        let cda = issue_gateway_certificate(
            &gateway.context.identity.public_key(),
            &self.key,
            Some(&self.self_certificate),
            now - chrono::Duration::minutes(1),
            now + chrono::Duration::days(14),
            1,
        )
        .expect("cda");
        let request = CargoCollectionRequest {
            cargo_delivery_authorization_der: cda.der().to_vec(),
        }
        .encode()
        .expect("ccr");
        let envelope = session_encrypt(
            &request,
            &self.gateway_session_key,
            EnvelopeOptions::default(),
        )
        .expect("encrypt")
        .envelope;
        let draft = MessageDraft::new(
            gateway_recipient(gateway),
            envelope,
            now - chrono::Duration::minutes(5),
            14 * 24 * 3600,
        );
        let cca = CargoCollectionAuthorization::serialize(
            &draft,
            &self.key,
            &self.certificate,
            &[],
            HashAlgorithm::Sha256,
        )
        .expect("cca");
        let value = format!(
            "Relaynet-CCA {}",
            base64::engine::general_purpose::STANDARD.encode(cca)
        );
        let mut metadata = MetadataMap::new();
        metadata.insert(
            "authorization",
            MetadataValue::try_from(value).expect("ascii"),
        );
        metadata
    }
}

fn gateway_recipient(gateway: &Gateway) -> Recipient {
    Recipient {
        id: gateway.context.identity.node_id().to_owned(),
        internet_address: Some(INTERNET_ADDRESS.to_owned()),
    }
}

/// Signs parcels from an endpoint (behind any gateway) to an endpoint behind `recipient_pg`,
/// under the PDA that endpoint granted: the chain runs through our certificate, so routing
/// stores them for `recipient_pg`.
struct ParcelFactory {
    sender_key: IdentityPrivateKey,
    pda: Certificate,
    chain: Vec<Certificate>,
    recipient_id: String,
    now: DateTime<Utc>,
}

impl ParcelFactory {
    fn new(gateway: &Gateway, recipient_pg: &PrivateGateway) -> ParcelFactory {
        let now = gateway.now;
        let start = now - chrono::Duration::hours(1);
        let end = now + chrono::Duration::days(30);
        let recipient_key = IdentityPrivateKey::generate(2048).expect("key");
        let recipient_certificate = issue_endpoint_certificate(
            &recipient_key.public_key(),
            &recipient_pg.key,
            Some(&recipient_pg.certificate),
            start,
            end,
        )
        .expect("endpoint certificate");
        let sender_key = IdentityPrivateKey::generate(2048).expect("key");
        let pda = issue_delivery_authorization(
            &sender_key.public_key(),
            &recipient_key,
            &recipient_certificate,
            start,
            end,
        )
        .expect("pda");
        ParcelFactory {
            sender_key,
            pda,
            recipient_id: recipient_certificate.subject_id().to_owned(),
            chain: vec![recipient_certificate, recipient_pg.certificate.clone()],
            now,
        }
    }

    fn parcel(&self, payload_length: usize) -> Vec<u8> {
        let recipient = Recipient {
            id: self.recipient_id.clone(),
            internet_address: None,
        };
        let draft = MessageDraft::new(recipient, vec![7; payload_length], self.now, 86_400);
        Parcel::serialize(
            &draft,
            &self.sender_key,
            &self.pda,
            &self.chain,
            HashAlgorithm::Sha256,
        )
        .expect("parcel")
    }

    /// The payload length that makes a parcel `total` octets long.
    fn payload_for_length(&self, total: usize) -> usize {
        let mut payload = total;
        for _ in 0..8 {
            let length = self.parcel(payload).len();
            if length == total {
                return payload;
            }
            payload = (payload + total).saturating_sub(length);
        }
        payload
    }
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// A cargo from one private gateway holding 1,000 parcels for an endpoint behind another of
/// ours, unwrapped by the worker's function: decrypt, parse, validate, store, notify. The same
/// cargo is unwrapped every iteration, so its parcels replace themselves (same index keys), as
/// a redelivered cargo would.
fn unwrap(c: &mut Criterion) {
    let runtime = runtime();
    let (gateway, cargo) = runtime.block_on(async {
        let gateway = Gateway::start().await;
        let sender_pg = PrivateGateway::register(&gateway).await;
        let recipient_pg = PrivateGateway::register(&gateway).await;
        let factory = ParcelFactory::new(&gateway, &recipient_pg);
        let parcels = (0..UNWRAP_PARCELS)
            .map(|_| factory.parcel(UNWRAP_PAYLOAD))
            .collect();
        let cargo = sender_pg.cargo(&gateway, parcels);
        (gateway, cargo)
    });
    let mut group = c.benchmark_group("cargo");
    group.throughput(Throughput::Elements(UNWRAP_PARCELS as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("unwrap_cargo_1000_parcels", |b| {
        b.iter(|| {
            let report = runtime
                .block_on(unwrap_cargo(&gateway.router, cargo.clone(), gateway.now))
                .expect("unwrap");
            assert_eq!(report.parcels_routed, UNWRAP_PARCELS);
        })
    });
    group.finish();
}

/// 8 MiB of parcels stored for one private gateway, collected whole with a fresh CCA per
/// iteration (built in the untimed setup); the stream is drained as a courier would.
fn collect(c: &mut Criterion) {
    // Each call is an actor, started on the current thread's arbiter, as in `serve`.
    let runtime = actix_rt::System::new();
    let (gateway, pg) = runtime.block_on(async {
        let gateway = Gateway::start().await;
        let pg = PrivateGateway::register(&gateway).await;
        let factory = ParcelFactory::new(&gateway, &pg);
        let payload = factory.payload_for_length(COLLECT_PARCEL_LENGTH);
        for _ in 0..COLLECT_PARCELS {
            let parcel = factory.parcel(payload);
            let routed = gateway
                .router
                .route_from_private_gateway(Bytes::from(parcel), "0any", gateway.now)
                .await
                .expect("route");
            assert!(matches!(routed, Routed::StoredForPrivateGateway { .. }));
        }
        (gateway, pg)
    });
    let drain = |metadata: MetadataMap| {
        let context = Arc::clone(&gateway.context);
        runtime.block_on(async move {
            let stream = collect_cargo(context, &metadata).await.expect("collect");
            let deliveries: Vec<_> = stream.collect().await;
            let mut bytes = 0;
            for delivery in deliveries {
                bytes += delivery.expect("cargo").cargo.len();
            }
            bytes
        })
    };
    let cargo_bytes = drain(pg.cca_metadata(&gateway));
    let stored = COLLECT_PARCELS * COLLECT_PARCEL_LENGTH;
    println!("collect_cargo_8mib: {stored} octets of parcels make {cargo_bytes} octets of cargo");

    let mut group = c.benchmark_group("cargo");
    group.throughput(Throughput::Bytes(cargo_bytes as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("collect_cargo_8mib", |b| {
        b.iter_batched(
            || pg.cca_metadata(&gateway),
            // Cargo lengths vary by a few octets (dates, TTLs), never by a parcel.
            |metadata| assert!(drain(metadata).abs_diff(cargo_bytes) < 1_024),
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, unwrap, collect);
criterion_main!(benches);
