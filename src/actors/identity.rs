//! The gateway's own identity: its RSA identity key, its self-issued certificates and its
//! session keys, always persisted in the backends (sealed keys in the metadata store).
//!
//! [`bootstrap`] runs once at start-up, before any binding listens. On an empty data directory
//! it creates everything the reference gateway's key-generation job creates (notes §3.5); on
//! later starts it loads the same identity, so the node id survives restarts. The values it
//! returns are a cache of what is stored: every key or certificate created afterwards is written
//! to the store before it is used.

use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use thiserror::Error;

use crate::backends::keys::KeySealer;
use crate::backends::metadata::{MetadataStore, OwnCertificate, SessionKeyRecord, CURRENT_NODE_ID};
use crate::backends::{BackendError, BackendErrorKind, Backends};
use crate::protocols::awala::error::CryptoError;
use crate::protocols::awala::keys::{
    EcCurve, IdentityPrivateKey, IdentityPublicKey, SessionKey, SessionKeyPair, SessionPrivateKey,
};
use crate::protocols::awala::limits::{
    IDENTITY_CERTIFICATE_VALIDITY, ISSUANCE_BACKDATE, PRIVATE_GATEWAY_CERTIFICATE_VALIDITY,
};
use crate::protocols::awala::pki::{
    issue_gateway_certificate, self_issue_identity_certificate, Certificate, PkiError,
};
use crate::protocols::error_code::{GatewayErrorCode, HasErrorCode};

/// Modulus of the identity key we create (the reference gateway's size).
const IDENTITY_KEY_BITS: u32 = 2048;
/// `pathLenConstraint` of private gateway certificates: PG → endpoint → PDA.
const PRIVATE_GATEWAY_PATH_LEN: u8 = 1;
/// The daily check renews the identity certificate once fewer than this remain on it: the
/// private gateway certificates it issues last 180 days and cannot outlive their issuer.
pub const RENEWAL_THRESHOLD: chrono::Duration = chrono::Duration::days(180);

/// Why the identity could not be created, loaded or used.
#[derive(Debug, Error)]
pub enum IdentityError {
    #[error("identity storage failed: {0}")]
    Backend(#[from] BackendError),
    #[error("certificate issuance failed: {0}")]
    Pki(#[from] PkiError),
    #[error("key operation failed: {0}")]
    Crypto(#[from] CryptoError),
    /// Stored state contradicts itself (a node id without its key, a key that does not parse).
    #[error("stored identity is inconsistent: {0}")]
    Inconsistent(String),
}

impl HasErrorCode for IdentityError {
    fn error_code(&self) -> GatewayErrorCode {
        match self {
            IdentityError::Backend(error) if error.kind == BackendErrorKind::Unavailable => {
                GatewayErrorCode::Unavailable
            }
            _ => GatewayErrorCode::Internal,
        }
    }
}

/// The gateway's identity, loaded from the backends.
pub struct GatewayIdentity {
    node_id: String,
    private_key: IdentityPrivateKey,
    /// Own certificates, latest expiry first (never empty): those valid at bootstrap, then at
    /// each [`GatewayIdentity::reload_certificates`].
    certificates: RwLock<Vec<Certificate>>,
    unbound_session_key: SessionKey,
    metadata: Arc<dyn MetadataStore>,
    sealer: Arc<dyn KeySealer>,
}

impl std::fmt::Debug for GatewayIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayIdentity")
            .field("node_id", &self.node_id)
            .field("certificates", &self.certificates().len())
            .finish_non_exhaustive()
    }
}

/// Whether the backends hold an identity already (so [`bootstrap`] would load, not create).
pub async fn exists(backends: &Backends) -> Result<bool, IdentityError> {
    Ok(backends
        .metadata
        .get_config(CURRENT_NODE_ID)
        .await?
        .is_some())
}

/// Loads the gateway's identity, creating it on first start.
pub async fn bootstrap(
    backends: &Backends,
    now: DateTime<Utc>,
) -> Result<GatewayIdentity, IdentityError> {
    let metadata = backends.metadata.clone();
    let sealer = backends.sealer.clone();
    let private_key = match metadata.get_config(CURRENT_NODE_ID).await? {
        Some(node_id) => load_identity_key(&*metadata, &*sealer, &node_id).await?,
        None => create_identity_key(&*metadata, &*sealer).await?,
    };
    let node_id = private_key.public_key().node_id();
    let mut certificates = load_certificates(&*metadata, &node_id, now).await?;
    if certificates.is_empty() {
        // First start, or every certificate expired while the gateway was down: the first one
        // starts now (REF bootstrap), a replacement is back-dated like a rotation.
        let not_before = if metadata.get_config(CURRENT_NODE_ID).await?.is_some() {
            now - ISSUANCE_BACKDATE
        } else {
            now
        };
        let certificate = self_issue_identity_certificate(
            &private_key,
            not_before,
            now + IDENTITY_CERTIFICATE_VALIDITY,
        )?;
        save_certificate(&*metadata, &certificate).await?;
        tracing::info!(node_id = %node_id, not_after = %certificate.not_after(), "issued identity certificate");
        certificates.push(certificate);
    }
    let unbound_session_key =
        load_or_create_unbound_session_key(&*metadata, &*sealer, &node_id, now).await?;
    let identity = GatewayIdentity {
        node_id,
        private_key,
        certificates: RwLock::new(certificates),
        unbound_session_key,
        metadata,
        sealer,
    };
    // Recorded last: a start that fails half-way leaves no node id pointing at missing state.
    if identity
        .metadata
        .get_config(CURRENT_NODE_ID)
        .await?
        .is_none()
    {
        identity
            .metadata
            .set_config(CURRENT_NODE_ID, &identity.node_id)
            .await?;
        tracing::info!(node_id = %identity.node_id, "created gateway identity");
    }
    Ok(identity)
}

impl GatewayIdentity {
    /// Our node id (the private address derived from the identity key).
    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    pub fn private_key(&self) -> &IdentityPrivateKey {
        &self.private_key
    }

    pub fn public_key(&self) -> IdentityPublicKey {
        self.private_key.public_key()
    }

    fn read_certificates(&self) -> std::sync::RwLockReadGuard<'_, Vec<Certificate>> {
        // Every write replaces the whole list, so a poisoned lock still holds a consistent one.
        self.certificates
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The own certificate that expires last: it issues private gateway certificates.
    pub fn latest_certificate(&self) -> Certificate {
        self.read_certificates()[0].clone()
    }

    /// Own certificates still valid at `now`: the trust anchors for peers' chains.
    pub fn trust_anchors(&self, now: DateTime<Utc>) -> Vec<Certificate> {
        self.read_certificates()
            .iter()
            .filter(|certificate| certificate.is_valid_at(now))
            .cloned()
            .collect()
    }

    /// Own certificates as last loaded, latest expiry first.
    pub fn certificates(&self) -> Vec<Certificate> {
        self.read_certificates().clone()
    }

    /// Loads the own certificates valid at `now` from the store, so that one another replica
    /// issued is trusted and issued from here too. Keeps the current ones if none is valid
    /// (a store that lost them must not leave us without an issuer).
    pub async fn reload_certificates(&self, now: DateTime<Utc>) -> Result<(), IdentityError> {
        let loaded = load_certificates(&*self.metadata, &self.node_id, now).await?;
        if !loaded.is_empty() {
            *self
                .certificates
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = loaded;
        }
        Ok(())
    }

    /// The daily check: reloads the certificates, and when the latest has fewer than
    /// [`RENEWAL_THRESHOLD`] left at `now`, issues a new one and issues from it from then on.
    /// The older ones stay trusted until they expire. Returns the new certificate, if any.
    pub async fn renew_if_due(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Option<Certificate>, IdentityError> {
        self.reload_certificates(now).await?;
        if self.latest_certificate().not_after() - now >= RENEWAL_THRESHOLD {
            return Ok(None);
        }
        let renewed = self.rotate_certificate(now).await?;
        self.reload_certificates(now).await?;
        Ok(Some(renewed))
    }

    /// Issues and stores a new self-issued identity certificate (back-dated like every
    /// issuance, valid 360 days). The older ones stay trusted until they expire; a running
    /// gateway issues from the new one once it reloads its certificates (within a minute).
    pub async fn rotate_certificate(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Certificate, IdentityError> {
        let certificate = self_issue_identity_certificate(
            &self.private_key,
            now - ISSUANCE_BACKDATE,
            now + IDENTITY_CERTIFICATE_VALIDITY,
        )?;
        save_certificate(&*self.metadata, &certificate).await?;
        tracing::info!(node_id = %self.node_id, not_after = %certificate.not_after(), "issued identity certificate");
        Ok(certificate)
    }

    /// The newest unbound session key, as published in the connection parameters.
    pub fn unbound_session_key(&self) -> &SessionKey {
        &self.unbound_session_key
    }

    /// Issues a private gateway certificate from the latest own certificate: back-dated 3 h,
    /// valid 180 days (clamped to the issuer by the PKI), `pathLenConstraint` 1.
    pub fn issue_private_gateway_certificate(
        &self,
        public_key: &IdentityPublicKey,
        now: DateTime<Utc>,
    ) -> Result<Certificate, IdentityError> {
        Ok(issue_gateway_certificate(
            public_key,
            &self.private_key,
            Some(&self.latest_certificate()),
            now - ISSUANCE_BACKDATE,
            now + PRIVATE_GATEWAY_CERTIFICATE_VALIDITY,
            PRIVATE_GATEWAY_PATH_LEN,
        )?)
    }

    /// Creates a session key bound to `peer_id` and stores it (sealed) before returning it.
    pub async fn create_bound_session_key(
        &self,
        peer_id: &str,
        now: DateTime<Utc>,
    ) -> Result<SessionKey, IdentityError> {
        create_session_key(
            &*self.metadata,
            &*self.sealer,
            &self.node_id,
            Some(peer_id),
            now,
        )
        .await
    }

    /// Stores (sealed) the private half of a session key pair generated elsewhere, bound to
    /// `peer_id`: the originator key of an envelope we sent, which the peer will encrypt its
    /// next message to. Returns once the key is durable, so the envelope may then be sent.
    pub async fn save_bound_session_key_pair(
        &self,
        pair: &SessionKeyPair,
        peer_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), IdentityError> {
        save_session_key_pair(
            &*self.metadata,
            &*self.sealer,
            &self.node_id,
            pair,
            Some(peer_id),
            now,
        )
        .await
    }
}

async fn load_or_create_unbound_session_key(
    metadata: &dyn MetadataStore,
    sealer: &dyn KeySealer,
    node_id: &str,
    now: DateTime<Utc>,
) -> Result<SessionKey, IdentityError> {
    match metadata.latest_unbound_session_key(node_id).await? {
        Some(record) => {
            let pkcs8 = sealer.unseal(&record.key_id, &record.sealed_key).await?;
            let private_key = SessionPrivateKey::from_pkcs8_der(&pkcs8)?;
            Ok(SessionKey {
                id: record.key_id.into(),
                public_key: private_key.public_key(),
            })
        }
        None => create_session_key(metadata, sealer, node_id, None, now).await,
    }
}

async fn create_session_key(
    metadata: &dyn MetadataStore,
    sealer: &dyn KeySealer,
    node_id: &str,
    peer_id_opt: Option<&str>,
    now: DateTime<Utc>,
) -> Result<SessionKey, IdentityError> {
    let pair = SessionKeyPair::generate(EcCurve::P256)?;
    save_session_key_pair(metadata, sealer, node_id, &pair, peer_id_opt, now).await?;
    Ok(pair.session_key())
}

async fn save_session_key_pair(
    metadata: &dyn MetadataStore,
    sealer: &dyn KeySealer,
    node_id: &str,
    pair: &SessionKeyPair,
    peer_id_opt: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    let key_id = pair.id.as_bytes().to_vec();
    let sealed_key = sealer
        .seal(&key_id, &pair.private_key.to_pkcs8_der()?)
        .await?;
    metadata
        .save_session_key(&SessionKeyRecord {
            key_id,
            owner_node_id: node_id.to_owned(),
            peer_id: peer_id_opt.map(str::to_owned),
            created_at: now,
            sealed_key,
        })
        .await?;
    Ok(())
}

async fn create_identity_key(
    metadata: &dyn MetadataStore,
    sealer: &dyn KeySealer,
) -> Result<IdentityPrivateKey, IdentityError> {
    let private_key = IdentityPrivateKey::generate(IDENTITY_KEY_BITS)?;
    let node_id = private_key.public_key().node_id();
    let sealed = sealer
        .seal(node_id.as_bytes(), &private_key.to_pkcs8_der()?)
        .await?;
    metadata.save_identity_key(&node_id, &sealed).await?;
    Ok(private_key)
}

async fn load_identity_key(
    metadata: &dyn MetadataStore,
    sealer: &dyn KeySealer,
    node_id: &str,
) -> Result<IdentityPrivateKey, IdentityError> {
    let sealed = metadata.get_identity_key(node_id).await?.ok_or_else(|| {
        IdentityError::Inconsistent(format!("node id {node_id} has no stored identity key"))
    })?;
    let private_key =
        IdentityPrivateKey::from_pkcs8_der(&sealer.unseal(node_id.as_bytes(), &sealed).await?)?;
    if private_key.public_key().node_id() != node_id {
        return Err(IdentityError::Inconsistent(format!(
            "the identity key stored for {node_id} belongs to another node"
        )));
    }
    Ok(private_key)
}

async fn load_certificates(
    metadata: &dyn MetadataStore,
    node_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Certificate>, IdentityError> {
    let mut certificates = Vec::new();
    for stored in metadata.valid_certificates(node_id, now).await? {
        let certificate = Certificate::from_der(&stored.der)?;
        // Only self-issued ones are ours to issue from and to trust.
        if certificate.is_self_issued() && certificate.is_valid_at(now) {
            certificates.push(certificate);
        }
    }
    Ok(certificates)
}

async fn save_certificate(
    metadata: &dyn MetadataStore,
    certificate: &Certificate,
) -> Result<(), IdentityError> {
    let subject_id = certificate.subject_id().to_owned();
    metadata
        .save_certificate(&OwnCertificate {
            issuer_id: certificate
                .issuer_id()
                .unwrap_or_else(|| subject_id.clone()),
            subject_id,
            der: certificate.der().to_vec(),
            not_after: certificate.not_after(),
        })
        .await?;
    Ok(())
}

#[cfg(test)]
#[path = "identity_tests.rs"]
mod tests;
