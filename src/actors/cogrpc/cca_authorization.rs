//! The checks a CCA passes before any cargo is built, in REF's order (protocol notes §7.3,
//! original notes §1.4.2): metadata, deserialisation, trust, recipient, CCR decryption.
//!
//! Decrypting the CCR also teaches us the private gateway's newest session key, which the cargo
//! we build is encrypted to. Signature checks and key agreement are CPU work on untrusted bytes,
//! so they run on blocking threads, which also serve as the panic boundary.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tonic::metadata::MetadataMap;

use super::collect_error::CollectError;
use crate::actors::gateway::GatewayContext;
use crate::backends::metadata::PeerSessionKey;
use crate::backends::BackendError;
use crate::protocols::awala::cms::{session_decrypt, session_envelope_info, SessionEnvelopeInfo};
use crate::protocols::awala::keys::SessionPrivateKey;
use crate::protocols::awala::messages::CargoCollectionRequest;
use crate::protocols::awala::pki::Certificate;
use crate::protocols::awala::ramf::CargoCollectionAuthorization;
use crate::protocols::cogrpc::{
    parse_cca_metadata, CcaMetadataError, CollectCargoStep, AUTHORIZATION_METADATA_KEY,
};

/// A CCA that passed every check but the single-use one.
#[derive(Debug, Clone)]
pub struct AuthorizedCca {
    pub cca_id: String,
    pub cca_expiry: DateTime<Utc>,
    /// The private gateway's id: the CCA sender's subject.
    pub pg_id: String,
    /// The CCA sender's certificate, which we issued; its expiry decides on a rotation.
    pub pg_certificate: Certificate,
    /// The cargo delivery authorisation from the CCR: the sender certificate of our cargo.
    pub cda: Certificate,
}

/// Runs every check of a `CollectCargo` call on its `authorization` metadata, and records the
/// private gateway's session key if it is newer than the one we hold.
pub async fn authorize_cca(
    context: &Arc<GatewayContext>,
    metadata: &MetadataMap,
    now: DateTime<Utc>,
) -> Result<AuthorizedCca, CollectError> {
    let cca_bytes = cca_from_metadata(metadata)?;
    let checking_context = context.clone();
    let (cca, envelope) = blocking(move || check_cca(&checking_context, &cca_bytes, now)).await??;
    let pg_id = cca.sender_certificate().subject_id().to_owned();
    let private_key = session_private_key(context, &envelope, &pg_id).await?;

    let payload = cca.payload().to_vec();
    let own_key = context.identity.public_key();
    let cda = blocking(move || {
        let decrypted = session_decrypt(&payload, &private_key)
            .map_err(|error| CollectError::Undecryptable(error.to_string()))?;
        let request = CargoCollectionRequest::decode(&decrypted.plaintext)
            .map_err(|error| CollectError::Undecryptable(format!("bad request: {error}")))?;
        let cda = Certificate::from_der(&request.cargo_delivery_authorization_der)
            .map_err(|error| CollectError::Undecryptable(format!("bad CDA: {error}")))?;
        // Our cargo is signed with our identity key under the CDA: any other subject key would
        // give cargo the private gateway can never verify.
        if cda.subject_public_key() != &own_key {
            return Err(CollectError::Undecryptable(
                "CDA is not for this gateway's key".to_string(),
            ));
        }
        Ok(cda)
    })
    .await??;

    let originator = &envelope.originator_key;
    context
        .backends
        .metadata
        .save_peer_session_key_if_newer(&PeerSessionKey {
            peer_id: pg_id.clone(),
            key_id: originator.id.as_bytes().to_vec(),
            spki_der: originator.public_key.spki_der().to_vec(),
            creation_date: cca.creation_date(),
        })
        .await
        .map_err(CollectError::backend(CollectCargoStep::Decryption))?;

    Ok(AuthorizedCca {
        cca_id: cca.id().to_owned(),
        cca_expiry: cca.expiry_date(),
        pg_id,
        pg_certificate: cca.sender_certificate().clone(),
        cda,
    })
}

/// The serialised CCA of the one `authorization` value.
fn cca_from_metadata(metadata: &MetadataMap) -> Result<Vec<u8>, CcaMetadataError> {
    let values: Vec<_> = metadata
        .get_all(AUTHORIZATION_METADATA_KEY)
        .iter()
        .collect();
    match values
        .iter()
        .map(|value| value.to_str())
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(texts) => parse_cca_metadata(&texts),
        // Not visible ASCII: no scheme we know can be in it.
        Err(_) if values.len() == 1 => Err(CcaMetadataError::Malformed),
        Err(_) => Err(CcaMetadataError::NotExactlyOnce {
            count: values.len(),
        }),
    }
}

/// Deserialisation, trust, recipient and the envelope's key ids.
fn check_cca(
    context: &GatewayContext,
    cca_bytes: &[u8],
    now: DateTime<Utc>,
) -> Result<(CargoCollectionAuthorization, SessionEnvelopeInfo), CollectError> {
    let cca =
        CargoCollectionAuthorization::deserialize(cca_bytes).map_err(CollectError::Malformed)?;
    let anchors = context.identity.trust_anchors(now);
    cca.validate_with_trust(&anchors, &context.validation_context(now))
        .map_err(CollectError::Invalid)?;
    // A sender deeper in our PKI (an endpoint behind a private gateway) passes the trust check
    // with its gateway as recipient; only CCAs for us are served.
    if cca.recipient().id != context.identity.node_id() {
        return Err(CollectError::OtherRecipient);
    }
    context
        .check_not_revoked(cca.sender_certificate().subject_id(), now)
        .map_err(CollectError::Revoked)?;
    let envelope = session_envelope_info(cca.payload())
        .map_err(|error| CollectError::Undecryptable(error.to_string()))?;
    Ok((cca, envelope))
}

/// Our session private key the envelope is encrypted to: it must be ours and, if bound to a
/// peer, bound to this private gateway (as the libraries' key stores require).
async fn session_private_key(
    context: &GatewayContext,
    envelope: &SessionEnvelopeInfo,
    pg_id: &str,
) -> Result<SessionPrivateKey, CollectError> {
    let key_id = envelope.recipient_key_id.as_bytes();
    let decryption_failure = CollectError::backend(CollectCargoStep::Decryption);
    let record = context
        .backends
        .metadata
        .get_session_key(key_id)
        .await
        .map_err(decryption_failure)?
        .ok_or_else(|| {
            CollectError::Undecryptable(format!(
                "unknown session key {}",
                envelope.recipient_key_id
            ))
        })?;
    if record.owner_node_id != context.identity.node_id() {
        return Err(CollectError::Undecryptable(
            "session key belongs to another node".to_string(),
        ));
    }
    if record.peer_id.as_deref().is_some_and(|peer| peer != pg_id) {
        return Err(CollectError::Undecryptable(
            "session key is bound to another private gateway".to_string(),
        ));
    }
    let pkcs8 = context
        .backends
        .sealer
        .unseal(key_id, &record.sealed_key)
        .await
        .map_err(CollectError::backend(CollectCargoStep::Decryption))?;
    SessionPrivateKey::from_pkcs8_der(&pkcs8).map_err(|error| CollectError::Backend {
        step: CollectCargoStep::Decryption,
        source: BackendError::corrupt(format!("stored session key does not parse: {error}")),
    })
}

/// Runs CPU work on a blocking thread; a panic there fails this call only.
pub(super) async fn blocking<T, F>(work: F) -> Result<T, CollectError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|join| CollectError::Task(join.to_string()))
}
