//! Fixtures for the CogRPC tests: a gateway on embedded backends in a temporary directory, two
//! private gateways registered with it, and builders of parcels and cargo made with the
//! protocol core as a private gateway would make them.

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};

use crate::actors::gateway::GatewayContext;
use crate::actors::identity::{bootstrap, GatewayIdentity};
use crate::actors::parcel_router::ParcelRouter;
use crate::backends::{BackendOptions, BackendUrls, Backends};
use crate::config::LimitsConfig;
use crate::protocols::awala::cms::{session_encrypt, EnvelopeOptions};
use crate::protocols::awala::keys::{HashAlgorithm, IdentityPrivateKey, SessionKey};
use crate::protocols::awala::messages::{CargoMessageSet, Recipient};
use crate::protocols::awala::pki::testing::keys;
use crate::protocols::awala::pki::{
    issue_delivery_authorization, issue_endpoint_certificate, Certificate,
};
use crate::protocols::awala::ramf::{Cargo, MessageDraft, Parcel};
use crate::telemetry::Metrics;

pub const INTERNET_ADDRESS: &str = "gw.test";

/// A private gateway registered with the fixture gateway.
pub struct PrivateGateway {
    pub key: &'static IdentityPrivateKey,
    pub certificate: Certificate,
    /// The gateway's session key bound to this private gateway (as in its registration).
    pub gateway_session_key: SessionKey,
}

impl PrivateGateway {
    pub fn id(&self) -> &str {
        self.certificate.subject_id()
    }
}

pub struct Fixture {
    _dir: tempfile::TempDir,
    pub context: Arc<GatewayContext>,
    pub router: Arc<ParcelRouter>,
    pub pg: PrivateGateway,
    /// A second private gateway, whose endpoints the first one's parcels may be for.
    pub other_pg: PrivateGateway,
    pub now: DateTime<Utc>,
}

impl Fixture {
    pub async fn new() -> Fixture {
        Self::with_options(BackendOptions::default()).await
    }

    pub async fn with_options(options: BackendOptions) -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let backends = Backends::open_with(&BackendUrls::default(), dir.path(), options)
            .await
            .expect("backends");
        let now = Utc::now();
        let identity = Arc::new(bootstrap(&backends, now).await.expect("identity"));
        let pg = register(&identity, &keys().private_gateway, now).await;
        let other_pg = register(&identity, &keys().other, now).await;
        let context = Arc::new(GatewayContext::new(
            backends,
            identity,
            INTERNET_ADDRESS.to_owned(),
            LimitsConfig::default(),
            Metrics::new().expect("metrics"),
        ));
        let router = Arc::new(ParcelRouter::new(Arc::clone(&context)));
        Fixture {
            _dir: dir,
            context,
            router,
            pg,
            other_pg,
            now,
        }
    }

    pub fn node_id(&self) -> &str {
        self.context.identity.node_id()
    }

    /// The gateway's data directory (its SQLite files and objects).
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// A parcel from an endpoint behind `self.pg` to an Internet endpoint at `pong.test`.
    pub fn internet_bound_parcel(&self, id: &str) -> Vec<u8> {
        let endpoint_key = &keys().endpoint;
        let endpoint = issue_endpoint_certificate(
            &endpoint_key.public_key(),
            self.pg.key,
            Some(&self.pg.certificate),
            self.now - Duration::hours(1),
            self.now + Duration::days(1),
        )
        .expect("endpoint certificate");
        let recipient = Recipient {
            id: "0deadbeef".to_owned(),
            internet_address: Some("pong.test".to_owned()),
        };
        parcel(
            recipient,
            id,
            self.now,
            endpoint_key,
            &endpoint,
            std::slice::from_ref(&self.pg.certificate),
        )
    }

    /// A parcel for an endpoint behind `self.other_pg`, sent under the PDA that endpoint
    /// granted; returns the parcel and the recipient endpoint's id.
    pub fn parcel_for_other_private_gateway(&self, id: &str) -> (Vec<u8>, String) {
        let recipient_key = &keys().peer_endpoint;
        let recipient_certificate = issue_endpoint_certificate(
            &recipient_key.public_key(),
            self.other_pg.key,
            Some(&self.other_pg.certificate),
            self.now - Duration::hours(1),
            self.now + Duration::days(1),
        )
        .expect("endpoint certificate");
        let sender_key = &keys().endpoint;
        let pda = issue_delivery_authorization(
            &sender_key.public_key(),
            recipient_key,
            &recipient_certificate,
            self.now - Duration::hours(1),
            self.now + Duration::days(1),
        )
        .expect("pda");
        let recipient_id = recipient_certificate.subject_id().to_owned();
        let recipient = Recipient {
            id: recipient_id.clone(),
            internet_address: None,
        };
        let bytes = parcel(
            recipient,
            id,
            self.now,
            sender_key,
            &pda,
            &[recipient_certificate, self.other_pg.certificate.clone()],
        );
        (bytes, recipient_id)
    }

    /// Cargo from `self.pg` to us holding `items`, encrypted to `session_key`.
    pub fn cargo_to(
        &self,
        items: Vec<Vec<u8>>,
        session_key: &SessionKey,
        creation_date: DateTime<Utc>,
    ) -> Bytes {
        let plaintext = CargoMessageSet { messages: items }
            .encode()
            .expect("message set");
        let envelope = session_encrypt(&plaintext, session_key, EnvelopeOptions::default())
            .expect("encrypt")
            .envelope;
        let recipient = Recipient {
            id: self.node_id().to_owned(),
            internet_address: Some(INTERNET_ADDRESS.to_owned()),
        };
        let draft = MessageDraft::new(recipient, envelope, creation_date, 86_400);
        let cargo = Cargo::serialize(
            &draft,
            self.pg.key,
            &self.pg.certificate,
            &[],
            HashAlgorithm::Sha256,
        )
        .expect("cargo");
        Bytes::from(cargo)
    }

    /// Cargo from `self.pg` to us, encrypted to the key we gave it at registration.
    pub fn cargo(&self, items: Vec<Vec<u8>>) -> Bytes {
        self.cargo_to(
            items,
            &self.pg.gateway_session_key,
            self.now - Duration::minutes(5),
        )
    }
}

async fn register(
    identity: &GatewayIdentity,
    key: &'static IdentityPrivateKey,
    now: DateTime<Utc>,
) -> PrivateGateway {
    let certificate = identity
        .issue_private_gateway_certificate(&key.public_key(), now)
        .expect("pg certificate");
    let gateway_session_key = identity
        .create_bound_session_key(certificate.subject_id(), now)
        .await
        .expect("session key");
    PrivateGateway {
        key,
        certificate,
        gateway_session_key,
    }
}

fn parcel(
    recipient: Recipient,
    id: &str,
    now: DateTime<Utc>,
    sender_key: &IdentityPrivateKey,
    sender: &Certificate,
    chain: &[Certificate],
) -> Vec<u8> {
    let mut draft = MessageDraft::new(recipient, b"payload".to_vec(), now, 3_600);
    draft.id = id.to_owned();
    Parcel::serialize(&draft, sender_key, sender, chain, HashAlgorithm::Sha256).expect("parcel")
}
