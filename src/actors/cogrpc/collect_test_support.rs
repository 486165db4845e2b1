//! Test fixtures: a gateway on embedded backends in a temporary directory, and private gateways
//! that register and make CCAs the way real ones do (protocol notes §8.1, desktop style: the
//! CDA is issued by the private gateway's self-issued certificate).

use std::sync::Arc;

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use tempfile::TempDir;
use tonic::metadata::{MetadataMap, MetadataValue};

use crate::actors::gateway::GatewayContext;
use crate::actors::identity;
use crate::backends::metadata::{ParcelCollection, ParcelIndexKey};
use crate::backends::{BackendUrls, Backends};
use crate::config::LimitsConfig;
use crate::protocols::awala::cms::{session_decrypt, session_encrypt, EnvelopeOptions};
use crate::protocols::awala::keys::{
    EcCurve, HashAlgorithm, IdentityPrivateKey, SessionKey, SessionKeyPair,
};
use crate::protocols::awala::messages::{CargoCollectionRequest, CargoMessageSet, Recipient};
use crate::protocols::awala::pki::{
    issue_gateway_certificate, self_issue_identity_certificate, Certificate,
};
use crate::protocols::awala::ramf::{
    Cargo, CargoCollectionAuthorization, MessageDraft, ValidationContext,
};
use crate::protocols::cogrpc::CargoDelivery;
use crate::telemetry::Metrics;

pub const INTERNET_ADDRESS: &str = "gateway.example";

/// A gateway whose stores live as long as this value.
pub struct TestGateway {
    pub context: Arc<GatewayContext>,
    pub now: DateTime<Utc>,
    _dir: TempDir,
}

impl TestGateway {
    pub async fn start() -> TestGateway {
        let dir = tempfile::tempdir().expect("tempdir");
        let backends = Backends::open(&BackendUrls::default(), dir.path())
            .await
            .expect("backends");
        let now = Utc::now();
        let identity = identity::bootstrap(&backends, now).await.expect("identity");
        let context = Arc::new(GatewayContext::new(
            backends,
            Arc::new(identity),
            INTERNET_ADDRESS.to_string(),
            LimitsConfig::default(),
            Metrics::new().expect("metrics"),
        ));
        TestGateway {
            context,
            now,
            _dir: dir,
        }
    }

    /// Stores `body` for `pg_id` as the parcel router does; returns its index key.
    pub async fn store_parcel(
        &self,
        pg_id: &str,
        body: Vec<u8>,
        expiry: DateTime<Utc>,
    ) -> ParcelIndexKey {
        let key = ParcelIndexKey::new(
            pg_id,
            "0recipient",
            "0sender",
            &uuid::Uuid::new_v4().to_string(),
        );
        let backends = &self.context.backends;
        let size = body.len() as u64;
        let object_key = key.object_key(chrono::Utc::now());
        backends
            .objects
            .put(&object_key, body.into())
            .await
            .expect("put");
        backends
            .metadata
            .upsert_parcel(&key, &object_key, expiry, size)
            .await
            .expect("upsert");
        key
    }

    /// Records that we took parcel `parcel_id` from `pg_id` (what its PCAs acknowledge).
    pub async fn record_collection(&self, pg_id: &str, parcel_id: &str, expiry: DateTime<Utc>) {
        let recorded = self
            .context
            .backends
            .metadata
            .record_parcel_collection(&ParcelCollection {
                parcel_id: parcel_id.to_string(),
                pg_id: pg_id.to_string(),
                recipient_id: "0internet-endpoint".to_string(),
                sender_id: "0private-endpoint".to_string(),
                expiry,
            })
            .await
            .expect("record collection");
        assert!(recorded);
    }
}

/// A private gateway registered with a [`TestGateway`].
pub struct PrivateGateway {
    pub key: IdentityPrivateKey,
    /// Issued by the Internet gateway.
    pub certificate: Certificate,
    /// Issues its CDAs; what it validates our cargo against.
    pub self_certificate: Certificate,
    /// The session key the Internet gateway gave it at registration.
    pub ig_session_key: SessionKey,
}

impl PrivateGateway {
    /// Registers a new private gateway whose certificate expires `validity` from now.
    pub async fn register(gateway: &TestGateway, validity: Duration) -> PrivateGateway {
        let key = IdentityPrivateKey::generate(2048).expect("key");
        let identity = &gateway.context.identity;
        let now = gateway.now;
        let certificate = issue_gateway_certificate(
            &key.public_key(),
            identity.private_key(),
            Some(&identity.latest_certificate()),
            now - Duration::hours(3),
            now + validity,
            1,
        )
        .expect("certificate");
        let self_certificate = self_issue_identity_certificate(
            &key,
            now - Duration::hours(1),
            now + Duration::days(360),
        )
        .expect("self-issued certificate");
        let ig_session_key = identity
            .create_bound_session_key(&key.public_key().node_id(), now)
            .await
            .expect("session key");
        PrivateGateway {
            key,
            certificate,
            self_certificate,
            ig_session_key,
        }
    }

    pub fn id(&self) -> String {
        self.key.public_key().node_id()
    }

    /// A CCA for `gateway`, and the session key pair its CCR was encrypted with (cargo comes
    /// back encrypted to it).
    pub fn cca(&self, gateway: &TestGateway) -> (Vec<u8>, SessionKeyPair) {
        self.cca_with(gateway, &self.ig_session_key, &self.certificate, &[])
    }

    /// A CCA with the CCR encrypted to `session_key`, signed under `sender` with `cas` attached.
    pub fn cca_with(
        &self,
        gateway: &TestGateway,
        session_key: &SessionKey,
        sender: &Certificate,
        cas: &[Certificate],
    ) -> (Vec<u8>, SessionKeyPair) {
        self.cca_to(
            gateway,
            gateway.context.identity.node_id(),
            session_key,
            sender,
            cas,
        )
    }

    pub fn cca_to(
        &self,
        gateway: &TestGateway,
        recipient_id: &str,
        session_key: &SessionKey,
        sender: &Certificate,
        cas: &[Certificate],
    ) -> (Vec<u8>, SessionKeyPair) {
        let now = gateway.now;
        let cda = issue_gateway_certificate(
            &gateway.context.identity.public_key(),
            &self.key,
            Some(&self.self_certificate),
            now - Duration::minutes(1),
            now + Duration::days(14),
            1,
        )
        .expect("cda");
        let request = CargoCollectionRequest {
            cargo_delivery_authorization_der: cda.der().to_vec(),
        }
        .encode()
        .expect("ccr");
        let encryption =
            session_encrypt(&request, session_key, EnvelopeOptions::default()).expect("encrypt");
        let draft = MessageDraft::new(
            Recipient {
                id: recipient_id.to_string(),
                internet_address: Some(INTERNET_ADDRESS.to_string()),
            },
            encryption.envelope,
            now - Duration::minutes(90),
            (14 * 24 + 2) * 3600,
        );
        let cca = CargoCollectionAuthorization::serialize(
            &draft,
            &self.key,
            sender,
            cas,
            HashAlgorithm::Sha256,
        )
        .expect("cca");
        (cca, encryption.originator_key)
    }

    /// Validates one cargo as a private gateway does and returns its items.
    pub fn open_cargo(
        &self,
        delivery: &CargoDelivery,
        session_key: &SessionKeyPair,
        now: DateTime<Utc>,
    ) -> (Cargo, Vec<Vec<u8>>) {
        let cargo = Cargo::deserialize(&delivery.cargo).expect("cargo parses");
        cargo
            .validate_with_trust(
                std::slice::from_ref(&self.self_certificate),
                &ValidationContext::new(now),
            )
            .expect("cargo validates against the CDA issuer");
        assert_eq!(cargo.recipient().id, self.id());
        assert_eq!(cargo.recipient().internet_address, None);
        let decrypted =
            session_decrypt(cargo.payload(), &session_key.private_key).expect("decrypts");
        let set = CargoMessageSet::decode(&decrypted.plaintext).expect("message set");
        (cargo, set.messages)
    }
}

/// `authorization: <scheme> <base64(cca)>` metadata.
pub fn cca_metadata(cca: &[u8]) -> MetadataMap {
    authorization_metadata(&[&format!(
        "Relaynet-CCA {}",
        base64::engine::general_purpose::STANDARD.encode(cca)
    )])
}

pub fn authorization_metadata(values: &[&str]) -> MetadataMap {
    let mut metadata = MetadataMap::new();
    for value in values {
        metadata.append(
            "authorization",
            MetadataValue::try_from(*value).expect("ascii metadata"),
        );
    }
    metadata
}

/// A session key nobody registered.
pub fn unknown_session_key() -> SessionKey {
    SessionKeyPair::generate(EcCurve::P256)
        .expect("key")
        .session_key()
}
