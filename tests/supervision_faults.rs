//! A PoWeb collection session that panics mid-stream (an injected fault in the body reads it
//! makes) closes with 1011 and loses nothing: the client's reconnection collects the parcel.
//! In-process PoWeb server on `127.0.0.1:0`, real embedded backends.

mod collection;

use std::sync::Arc;

use async_trait::async_trait;
use awala_gateway::actors::gateway::GatewayContext;
use awala_gateway::actors::identity;
use awala_gateway::actors::parcel_router::ParcelRouter;
use awala_gateway::actors::poweb::{self, PowebState};
use awala_gateway::backends::objects::ObjectStore;
use awala_gateway::backends::{BackendError, BackendUrls, Backends};
use awala_gateway::config::LimitsConfig;
use awala_gateway::protocols::awala::keys::HashAlgorithm;
use awala_gateway::protocols::awala::messages::{HandshakeResponse, Recipient};
use awala_gateway::protocols::awala::pki::{
    issue_delivery_authorization, issue_endpoint_certificate,
};
use awala_gateway::protocols::awala::ramf::{MessageDraft, Parcel};
use awala_gateway::supervision::faults::{FaultPoint, Faults};
use awala_gateway::telemetry::Metrics;
use bytes::Bytes;
use chrono::Utc;
use collection::*;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

/// The object store, with the session's fault point in the batch reads it makes mid-stream.
struct FaultyObjects {
    inner: Arc<dyn ObjectStore>,
    faults: Arc<Faults>,
}

#[async_trait]
impl ObjectStore for FaultyObjects {
    async fn put(&self, key: &str, body: Bytes) -> Result<(), BackendError> {
        self.inner.put(key, body).await
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, BackendError> {
        self.inner.get(key).await
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Bytes>>, BackendError> {
        self.faults.check(FaultPoint::CollectionSession);
        self.inner.get_many(keys).await
    }

    async fn delete(&self, key: &str) -> Result<(), BackendError> {
        self.inner.delete(key).await
    }

    async fn list(&self, prefix: &str, limit: usize) -> Result<Vec<String>, BackendError> {
        self.inner.list(prefix, limit).await
    }

    async fn health_check(&self) -> Result<(), BackendError> {
        self.inner.health_check().await
    }
}

struct Gateway {
    _dir: tempfile::TempDir,
    port: u16,
    context: Arc<GatewayContext>,
    router: Arc<ParcelRouter>,
}

async fn start() -> Gateway {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut backends = Backends::open(&BackendUrls::default(), dir.path())
        .await
        .expect("backends");
    let faults = Arc::new(Faults::new());
    backends.objects = Arc::new(FaultyObjects {
        inner: backends.objects.clone(),
        faults: faults.clone(),
    });
    let identity = identity::bootstrap(&backends, Utc::now())
        .await
        .expect("identity");
    let context = Arc::new(
        GatewayContext::new(
            backends,
            Arc::new(identity),
            "gw.example.com".into(),
            LimitsConfig::default(),
            Metrics::new().expect("metrics"),
        )
        .with_faults(faults),
    );
    let router = Arc::new(ParcelRouter::new(context.clone()));
    let state = PowebState::new(context.clone(), router.clone());
    let server = poweb::bind(state, "127.0.0.1:0".parse().expect("address")).expect("bind");
    let port = server.addresses[0].port();
    actix_web::rt::spawn(server.server);
    Gateway {
        _dir: dir,
        port,
        context,
        router,
    }
}

impl Gateway {
    fn private_gateway(&self) -> PrivateGateway {
        let key = key(0);
        let certificate = self
            .context
            .identity
            .issue_private_gateway_certificate(&key.public_key(), Utc::now())
            .expect("issue");
        PrivateGateway { key, certificate }
    }

    /// Stores a parcel for an endpoint behind `pg`, as an Internet peer would.
    async fn store_parcel(&self, pg: &PrivateGateway) -> Vec<u8> {
        let (endpoint_key, peer_key) = (key(3), key(4));
        let (start, end) = (pg.certificate.not_before(), pg.certificate.not_after());
        let endpoint = issue_endpoint_certificate(
            &endpoint_key.public_key(),
            pg.key,
            Some(&pg.certificate),
            start,
            end,
        )
        .expect("endpoint certificate");
        let pda = issue_delivery_authorization(
            &peer_key.public_key(),
            endpoint_key,
            &endpoint,
            start,
            end,
        )
        .expect("pda");
        let draft = MessageDraft::new(
            Recipient {
                id: endpoint.subject_id().to_owned(),
                internet_address: None,
            },
            b"the payload".to_vec(),
            Utc::now(),
            3_600,
        );
        let parcel = Parcel::serialize(
            &draft,
            peer_key,
            &pda,
            &[endpoint, pg.certificate.clone()],
            HashAlgorithm::Sha256,
        )
        .expect("parcel");
        self.router
            .route_from_internet(Bytes::from(parcel.clone()), Utc::now())
            .await
            .expect("stored");
        parcel
    }

    async fn stored(&self, pg: &PrivateGateway) -> usize {
        self.context
            .backends
            .metadata
            .list_parcels_for_gateway(pg.id(), Utc::now(), 0, 100)
            .await
            .expect("list")
            .len()
    }

    /// A close-upon-completion collection, handshake done.
    async fn collect(&self, pg: &PrivateGateway) -> Socket {
        let url = format!("ws://127.0.0.1:{}/v1/parcel-collection", self.port);
        let mut request = url.into_client_request().expect("request");
        request.headers_mut().insert(
            "X-Relaynet-Streaming-Mode",
            HeaderValue::from_static(CLOSE_UPON_COMPLETION),
        );
        let (mut socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("upgrade");
        let nonce = challenge(&mut socket).await;
        let response = HandshakeResponse {
            nonce_signatures: vec![sign_nonce(pg, &nonce)],
        };
        send_binary(&mut socket, response.encode().expect("encode")).await;
        socket
    }
}

#[actix_rt::test]
async fn a_session_that_panics_mid_stream_closes_1011_and_the_reconnection_collects() {
    let gateway = start().await;
    let pg = gateway.private_gateway();
    let parcel = gateway.store_parcel(&pg).await;
    gateway.context.faults.arm(FaultPoint::CollectionSession, 1);

    let mut socket = gateway.collect(&pg).await;
    assert_eq!(close_code(&mut socket).await, Some(1011), "internal error");
    assert_eq!(
        gateway.context.faults.fired(FaultPoint::CollectionSession),
        1
    );
    assert_eq!(
        gateway.stored(&pg).await,
        1,
        "nothing acknowledged, nothing lost"
    );

    let mut socket = gateway.collect(&pg).await;
    let delivery = delivery(&mut socket).await;
    assert_eq!(delivery.parcel_serialized, parcel);
    send_text(&mut socket, &delivery.delivery_id).await;
    assert_eq!(close_code(&mut socket).await, Some(1000));
    assert_eq!(gateway.stored(&pg).await, 0);
}
