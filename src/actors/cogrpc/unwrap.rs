//! Unwrapping one cargo a courier delivered (original notes §2.1, protocol notes §4 and §9):
//! decrypt it with our session key, learn the private gateway's new session key, then handle
//! each item: parcels are routed as if the gateway had delivered them over PoWeb, PCAs delete
//! the parcel they name, certificate rotations are ignored (RS-000: Internet gateways must),
//! anything else is skipped.
//!
//! The cargo was validated when it was accepted (`DeliverCargo`), so its sender is a private
//! gateway we issued a certificate to; it is not validated again. Every effect is idempotent
//! (parcels overwrite, Internet-bound ones are deduplicated, deletions of missing parcels
//! succeed), so a cargo retried after a storage failure may be unwrapped from the start.

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use thiserror::Error;

use crate::actors::gateway::GatewayContext;
use crate::actors::parcel_router::{delete_object, ParcelRouter, RouteError};
use crate::backends::metadata::{ParcelIndexKey, PeerSessionKey};
use crate::backends::{BackendError, BackendErrorKind};
use crate::protocols::awala::cms::{session_decrypt, session_envelope_info};
use crate::protocols::awala::keys::SessionPrivateKey;
use crate::protocols::awala::messages::{
    classify_item, CargoItem, CargoMessageSet, ParcelCollectionAck,
};
use crate::protocols::awala::ramf::{Cargo, RamfError};
use crate::protocols::error_code::{GatewayErrorCode, HasErrorCode};
use crate::telemetry::CargoOutcome;

/// Why a cargo could not be unwrapped.
#[derive(Debug, Error)]
pub enum UnwrapError {
    /// Not cargo: nothing will ever make it unwrap.
    #[error("cargo is malformed: {0}")]
    Malformed(#[from] RamfError),
    /// No key of ours opens it, or it does not decrypt.
    #[error("cargo is undecryptable: {0}")]
    Undecryptable(String),
    /// It decrypts to something other than a cargo message set.
    #[error("cargo payload is not a message set: {0}")]
    InvalidPayload(String),
    /// A key store or storage failure: the cargo must be retried.
    #[error("cargo could not be unwrapped: {0}")]
    Backend(#[from] BackendError),
    /// The unwrapping task failed (a panic on untrusted bytes); retried, then dead-lettered.
    #[error("cargo unwrapping failed: {0}")]
    Internal(String),
}

impl UnwrapError {
    /// `Some(outcome)` when the cargo must be dropped (acknowledged without effect), `None`
    /// when it must be retried.
    pub fn drop_outcome(&self) -> Option<CargoOutcome> {
        match self {
            UnwrapError::Malformed(_) | UnwrapError::InvalidPayload(_) => {
                Some(CargoOutcome::Invalid)
            }
            UnwrapError::Undecryptable(_) => Some(CargoOutcome::Undecryptable),
            UnwrapError::Backend(_) | UnwrapError::Internal(_) => None,
        }
    }
}

impl HasErrorCode for UnwrapError {
    fn error_code(&self) -> GatewayErrorCode {
        match self {
            UnwrapError::Malformed(_) | UnwrapError::InvalidPayload(_) => {
                GatewayErrorCode::Malformed
            }
            UnwrapError::Undecryptable(_) => GatewayErrorCode::Forbidden,
            UnwrapError::Backend(error) if error.kind == BackendErrorKind::Unavailable => {
                GatewayErrorCode::Unavailable
            }
            UnwrapError::Backend(_) | UnwrapError::Internal(_) => GatewayErrorCode::Internal,
        }
    }
}

/// What one cargo held, item by item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnwrapReport {
    /// Parcels routed (stored, queued, or already queued before).
    pub parcels_routed: usize,
    /// Parcels skipped because they were malformed or invalid.
    pub parcels_skipped: usize,
    /// PCAs honoured (the parcel they name is gone, whether or not it was still there).
    pub pcas_honoured: usize,
    /// PCAs skipped because they were malformed.
    pub pcas_skipped: usize,
    /// Certificate rotations ignored.
    pub rotations_ignored: usize,
    /// Whether the private gateway's session key replaced the one we held.
    pub session_key_updated: bool,
}

/// A decrypted cargo.
struct Opened {
    sender_id: String,
    items: Vec<Vec<u8>>,
    session_key_updated: bool,
}

/// Unwraps one cargo; returns only once every item's effect is durable.
pub async fn unwrap_cargo(
    router: &ParcelRouter,
    cargo_bytes: Bytes,
    now: DateTime<Utc>,
) -> Result<UnwrapReport, UnwrapError> {
    let context = router.context();
    let opened = open_cargo(context, cargo_bytes).await?;
    let mut report = UnwrapReport {
        session_key_updated: opened.session_key_updated,
        ..UnwrapReport::default()
    };
    let mut items = opened.items.into_iter().peekable();
    while let Some(item) = items.next() {
        match classify_item(&item) {
            CargoItem::Parcel => {
                // A run of parcels is routed concurrently, so their durable writes share group
                // commits; one at a time, each parcel waited for its own fsyncs. Items of other
                // kinds keep their place relative to the run.
                let mut run = vec![item];
                while let Some(next) =
                    items.next_if(|next| classify_item(next) == CargoItem::Parcel)
                {
                    run.push(next);
                }
                route_parcels(router, run, &opened.sender_id, now, &mut report).await?;
            }
            CargoItem::Pca => honour_pca(context, &item, &opened.sender_id, &mut report).await?,
            CargoItem::CertificateRotation => {
                tracing::info!("ignoring a certificate rotation from a private gateway");
                report.rotations_ignored += 1;
            }
        }
    }
    Ok(report)
}

/// Decrypts the cargo with the session key it names, records the sender's new session key if
/// it is newer than ours, and splits the message set.
async fn open_cargo(
    context: &Arc<GatewayContext>,
    cargo_bytes: Bytes,
) -> Result<Opened, UnwrapError> {
    let certificates = context.certificate_cache.clone();
    let (cargo, envelope) = blocking(move || {
        let cargo = Cargo::deserialize_cached(&cargo_bytes, &certificates)?;
        let envelope = session_envelope_info(cargo.payload())
            .map_err(|error| UnwrapError::Undecryptable(error.to_string()))?;
        Ok::<_, UnwrapError>((cargo, envelope))
    })
    .await??;
    let sender_id = cargo.sender_certificate().subject_id().to_owned();
    let private_key =
        session_private_key(context, envelope.recipient_key_id.as_bytes(), &sender_id).await?;
    let payload = cargo.payload().to_vec();
    let decrypted = blocking(move || session_decrypt(&payload, &private_key))
        .await?
        .map_err(|error| UnwrapError::Undecryptable(error.to_string()))?;
    let originator = &decrypted.info.originator_key;
    let session_key_updated = context
        .backends
        .metadata
        .save_peer_session_key_if_newer(&PeerSessionKey {
            peer_id: sender_id.clone(),
            key_id: originator.id.as_bytes().to_vec(),
            spki_der: originator.public_key.spki_der().to_vec(),
            creation_date: cargo.creation_date(),
        })
        .await?;
    let message_set = CargoMessageSet::decode(&decrypted.plaintext)
        .map_err(|error| UnwrapError::InvalidPayload(error.to_string()))?;
    Ok(Opened {
        sender_id,
        items: message_set.messages,
        session_key_updated,
    })
}

/// Our session private key `key_id`: it must be ours and, if bound to a peer, bound to the
/// cargo's sender (as the libraries' key stores require).
async fn session_private_key(
    context: &GatewayContext,
    key_id: &[u8],
    sender_id: &str,
) -> Result<SessionPrivateKey, UnwrapError> {
    let record = context
        .backends
        .metadata
        .get_session_key(key_id)
        .await?
        .ok_or_else(|| {
            UnwrapError::Undecryptable(format!("unknown session key {}", hex::encode(key_id)))
        })?;
    if record.owner_node_id != context.identity.node_id() {
        return Err(UnwrapError::Undecryptable(
            "session key belongs to another node".to_owned(),
        ));
    }
    if record
        .peer_id
        .as_deref()
        .is_some_and(|peer| peer != sender_id)
    {
        return Err(UnwrapError::Undecryptable(
            "session key is bound to another private gateway".to_owned(),
        ));
    }
    let pkcs8 = context
        .backends
        .sealer
        .unseal(key_id, &record.sealed_key)
        .await?;
    SessionPrivateKey::from_pkcs8_der(&pkcs8).map_err(|error| {
        UnwrapError::Backend(BackendError::corrupt(format!(
            "stored session key does not parse: {error}"
        )))
    })
}

/// Parcels of one cargo routed at once at most (their writes share group commits).
const ROUTING_CONCURRENCY: usize = 256;

async fn route_parcels(
    router: &ParcelRouter,
    parcels: Vec<Vec<u8>>,
    sender_id: &str,
    now: DateTime<Utc>,
    report: &mut UnwrapReport,
) -> Result<(), UnwrapError> {
    let mut routed = futures::stream::iter(parcels)
        .map(|parcel| router.route_from_private_gateway(Bytes::from(parcel), sender_id, now))
        .buffered(ROUTING_CONCURRENCY);
    while let Some(result) = routed.next().await {
        match result {
            Ok(_) => report.parcels_routed += 1,
            // The whole cargo is retried; parcels already stored are simply stored again.
            Err(RouteError::Backend(error)) => return Err(UnwrapError::Backend(error)),
            // Malformed, invalid, or failing on its own bytes: retrying cannot help this parcel.
            Err(error) => {
                tracing::info!(%error, pg_id = sender_id, "skipping a parcel in cargo");
                report.parcels_skipped += 1;
            }
        }
    }
    Ok(())
}

/// Deletes the parcel a PCA names: the private gateway has it, so we stop sending it. The
/// index entry goes first, so a crash in between leaves garbage, never an entry without a body.
async fn honour_pca(
    context: &GatewayContext,
    item: &[u8],
    sender_id: &str,
    report: &mut UnwrapReport,
) -> Result<(), UnwrapError> {
    let pca = match ParcelCollectionAck::deserialize(item) {
        Ok(pca) => pca,
        Err(error) => {
            tracing::info!(%error, pg_id = sender_id, "skipping a malformed pca in cargo");
            report.pcas_skipped += 1;
            return Ok(());
        }
    };
    let key = ParcelIndexKey::new(
        sender_id,
        &pca.recipient_endpoint_id,
        &pca.sender_endpoint_id,
        &pca.parcel_id,
    );
    if let Some(object_key) = context.backends.metadata.delete_parcel(&key).await? {
        delete_object(context.backends.objects.as_ref(), &object_key).await;
    }
    report.pcas_honoured += 1;
    Ok(())
}

/// Runs CPU work on untrusted bytes on a blocking thread, which is also the panic boundary.
async fn blocking<T, F>(work: F) -> Result<T, UnwrapError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|join| UnwrapError::Internal(join.to_string()))
}

#[cfg(test)]
#[path = "unwrap_tests.rs"]
mod tests;
