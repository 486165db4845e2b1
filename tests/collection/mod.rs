//! An in-process PoWeb server on `127.0.0.1:0` with real embedded backends, private gateways
//! registered with its identity, parcels stored through the real router, and a WebSocket client
//! speaking the collection protocol.
#![allow(dead_code)]

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use awala_gateway::actors::gateway::GatewayContext;
use awala_gateway::actors::identity::{self, GatewayIdentity};
use awala_gateway::actors::parcel_router::ParcelRouter;
use awala_gateway::actors::poweb::{self, PowebState};
use awala_gateway::backends::{BackendUrls, Backends};
use awala_gateway::config::LimitsConfig;
use awala_gateway::protocols::awala::cms::{sign_detached, HANDSHAKE_NONCE_SIGNATURE_OID};
use awala_gateway::protocols::awala::keys::{HashAlgorithm, IdentityPrivateKey};
use awala_gateway::protocols::awala::messages::{
    HandshakeChallenge, HandshakeResponse, ParcelDelivery, Recipient,
};
use awala_gateway::protocols::awala::pki::{
    issue_delivery_authorization, issue_endpoint_certificate, Certificate,
};
use awala_gateway::protocols::awala::ramf::{MessageDraft, Parcel};
use awala_gateway::telemetry::Metrics;
use bytes::Bytes;
use chrono::Utc;
use futures::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Guards every read so a broken server fails the test instead of hanging it.
const READ_GUARD: Duration = Duration::from_secs(30);

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Keys are slow to generate, so tests share them.
pub fn key(index: usize) -> &'static IdentityPrivateKey {
    static KEYS: OnceLock<Vec<IdentityPrivateKey>> = OnceLock::new();
    &KEYS.get_or_init(|| {
        (0..5)
            .map(|_| IdentityPrivateKey::generate(2048).expect("rsa key"))
            .collect()
    })[index]
}

/// A private gateway registered with the harness's gateway.
pub struct PrivateGateway {
    pub key: &'static IdentityPrivateKey,
    pub certificate: Certificate,
}

impl PrivateGateway {
    pub fn id(&self) -> &str {
        self.certificate.subject_id()
    }
}

pub struct Harness {
    _dir: tempfile::TempDir,
    pub port: u16,
    pub gateway: Arc<GatewayContext>,
    pub identity: Arc<GatewayIdentity>,
    pub router: Arc<ParcelRouter>,
}

impl Harness {
    pub async fn start(limits: LimitsConfig) -> Harness {
        let dir = tempfile::tempdir().expect("tempdir");
        let backends = Backends::open(&BackendUrls::default(), dir.path())
            .await
            .expect("backends");
        let identity = Arc::new(
            identity::bootstrap(&backends, Utc::now())
                .await
                .expect("identity"),
        );
        let metrics = Metrics::new().expect("metrics");
        let gateway = Arc::new(GatewayContext::new(
            backends,
            identity.clone(),
            "gw.example.com".into(),
            limits,
            metrics,
        ));
        let router = Arc::new(ParcelRouter::new(gateway.clone()));
        let state = PowebState::new(gateway.clone(), router.clone());
        let server = poweb::bind(state, "127.0.0.1:0".parse().expect("address")).expect("bind");
        let port = server.addresses[0].port();
        actix_web::rt::spawn(server.server);
        Harness {
            _dir: dir,
            port,
            router,
            gateway,
            identity,
        }
    }

    /// A private gateway whose certificate we issued, with key number `index`.
    pub fn private_gateway(&self, index: usize) -> PrivateGateway {
        let key = key(index);
        let certificate = self
            .identity
            .issue_private_gateway_certificate(&key.public_key(), Utc::now())
            .expect("issue");
        PrivateGateway { key, certificate }
    }

    /// Stores a new parcel for an endpoint behind `pg` as an Internet peer would; returns its
    /// serialisation.
    pub async fn store_parcel(&self, pg: &PrivateGateway) -> Vec<u8> {
        let parcel = parcel_for(pg, b"the payload");
        self.router
            .route_from_internet(Bytes::from(parcel.clone()), Utc::now())
            .await
            .expect("stored");
        parcel
    }

    /// Parcels still stored for `pg`.
    pub async fn stored(&self, pg: &PrivateGateway) -> usize {
        self.gateway
            .backends
            .metadata
            .list_parcels_for_gateway(pg.id(), Utc::now(), 0, 100)
            .await
            .expect("list")
            .len()
    }

    /// Opens a collection socket with these extra request headers.
    pub async fn connect(&self, headers: &[(&'static str, &'static str)]) -> Socket {
        let url = format!("ws://127.0.0.1:{}/v1/parcel-collection", self.port);
        let mut request = url.into_client_request().expect("request");
        for (name, value) in headers {
            request
                .headers_mut()
                .insert(*name, HeaderValue::from_static(value));
        }
        let (socket, response) = tokio_tungstenite::connect_async(request)
            .await
            .expect("upgrade");
        assert_eq!(response.status(), 101);
        socket
    }

    /// Opens a socket in `mode` and completes the handshake for `signers`.
    pub async fn collect(&self, mode: &'static str, signers: &[&PrivateGateway]) -> Socket {
        let mut socket = self.connect(&[("X-Relaynet-Streaming-Mode", mode)]).await;
        let nonce = challenge(&mut socket).await;
        let response = HandshakeResponse {
            nonce_signatures: signers.iter().map(|pg| sign_nonce(pg, &nonce)).collect(),
        };
        send_binary(&mut socket, response.encode().expect("encode")).await;
        socket
    }
}

/// A parcel from an Internet peer, carrying `payload`, for an endpoint behind `pg`.
pub fn parcel_for(pg: &PrivateGateway, payload: &[u8]) -> Vec<u8> {
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
    let pda =
        issue_delivery_authorization(&peer_key.public_key(), endpoint_key, &endpoint, start, end)
            .expect("pda");
    let draft = MessageDraft::new(
        Recipient {
            id: endpoint.subject_id().to_owned(),
            internet_address: None,
        },
        payload.to_vec(),
        Utc::now(),
        3_600,
    );
    Parcel::serialize(
        &draft,
        peer_key,
        &pda,
        &[endpoint, pg.certificate.clone()],
        HashAlgorithm::Sha256,
    )
    .expect("parcel")
}

pub const CLOSE_UPON_COMPLETION: &str = "close-upon-completion";
pub const KEEP_ALIVE: &str = "keep-alive";

pub fn sign_nonce(pg: &PrivateGateway, nonce: &[u8]) -> Vec<u8> {
    sign_detached(
        &HANDSHAKE_NONCE_SIGNATURE_OID,
        nonce,
        pg.key,
        pg.certificate.der(),
        HashAlgorithm::Sha256,
    )
    .expect("sign")
}

pub async fn send_binary(socket: &mut Socket, bytes: Vec<u8>) {
    socket.send(Message::binary(bytes)).await.expect("send");
}

pub async fn send_text(socket: &mut Socket, text: &str) {
    socket.send(Message::text(text)).await.expect("send");
}

/// What the server sent next, pings aside (the client answers those itself).
#[derive(Debug)]
pub enum Event {
    Binary(Vec<u8>),
    Closed(Option<u16>),
}

pub async fn next_event(socket: &mut Socket) -> Event {
    loop {
        let item = tokio::time::timeout(READ_GUARD, socket.next())
            .await
            .expect("the server neither sent nor closed");
        match item {
            Some(Ok(Message::Binary(bytes))) => return Event::Binary(bytes.to_vec()),
            Some(Ok(Message::Close(frame))) => {
                return Event::Closed(frame.map(|frame| u16::from(frame.code)))
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(other)) => panic!("unexpected message {other:?}"),
            Some(Err(_)) | None => return Event::Closed(None),
        }
    }
}

pub async fn challenge(socket: &mut Socket) -> Vec<u8> {
    match next_event(socket).await {
        Event::Binary(bytes) => HandshakeChallenge::decode(&bytes).expect("challenge").nonce,
        other => panic!("expected a challenge, got {other:?}"),
    }
}

pub async fn delivery(socket: &mut Socket) -> ParcelDelivery {
    match next_event(socket).await {
        Event::Binary(bytes) => ParcelDelivery::decode(&bytes).expect("delivery"),
        other => panic!("expected a delivery, got {other:?}"),
    }
}

pub async fn close_code(socket: &mut Socket) -> Option<u16> {
    match next_event(socket).await {
        Event::Closed(code) => code,
        other => panic!("expected a close, got {other:?}"),
    }
}
