//! The I/O steps of a collection session, each one protected task: list a page, read and encode
//! a batch of parcels, delete one acknowledged parcel.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use thiserror::Error;

use super::stream::ListingRequest;
use crate::actors::gateway::GatewayContext;
use crate::backends::metadata::ParcelIndexEntry;
use crate::backends::{BackendError, BackendErrorKind};
use crate::protocols::awala::error::Asn1Error;
use crate::protocols::awala::messages::ParcelDelivery;
use crate::protocols::error_code::{GatewayErrorCode, HasErrorCode};
use crate::supervision::faults::FaultPoint;

/// Why a collection session could not go on.
#[derive(Debug, Error)]
pub enum CollectionError {
    #[error("backend failed: {0}")]
    Backend(#[from] BackendError),
    #[error("cannot encode a parcel delivery: {0}")]
    Encoding(#[from] Asn1Error),
    /// The client went away; nothing to tell it.
    #[error("the socket is closed")]
    SocketClosed,
    #[error("collection task failed: {0}")]
    Internal(String),
}

impl CollectionError {
    /// The `error_type` metric label.
    pub fn error_type(&self) -> &'static str {
        match self {
            CollectionError::Backend(_) => "backend",
            CollectionError::Encoding(_) => "encoding",
            CollectionError::SocketClosed => "socket_closed",
            CollectionError::Internal(_) => "internal",
        }
    }
}

impl HasErrorCode for CollectionError {
    fn error_code(&self) -> GatewayErrorCode {
        match self {
            CollectionError::Backend(error) if error.kind == BackendErrorKind::Unavailable => {
                GatewayErrorCode::Unavailable
            }
            _ => GatewayErrorCode::Internal,
        }
    }
}

/// One page of unexpired entries.
pub async fn list(
    gateway: Arc<GatewayContext>,
    request: ListingRequest,
    now: DateTime<Utc>,
) -> Result<Vec<ParcelIndexEntry>, CollectionError> {
    Ok(gateway
        .backends
        .metadata
        .list_parcels_for_gateway(&request.pg_id, now, request.after_sequence, request.limit)
        .await?)
}

/// A taken entry, ready to go out or to be skipped.
#[derive(Debug)]
pub enum Prepared {
    /// The encoded `ParcelDelivery` frame of `entry`, under a fresh `delivery_id`.
    Ready {
        delivery_id: String,
        entry: ParcelIndexEntry,
        frame: Vec<u8>,
    },
    /// Nothing to send: the parcel expired since it was listed, or its body is gone (a
    /// concurrent collector deleted it). Such entries are left to housekeeping, as REF does.
    Skipped,
}

/// Reads the bodies of `entries` in one object-store request and encodes each as a
/// `ParcelDelivery`, in order. Nothing is sent here: the session records the deliveries as in
/// flight before their frames go out, so an ACK can never outrun its bookkeeping.
pub async fn prepare_deliveries(
    gateway: Arc<GatewayContext>,
    entries: Vec<ParcelIndexEntry>,
    now: DateTime<Utc>,
) -> Result<Vec<Prepared>, CollectionError> {
    let live: Vec<String> = entries
        .iter()
        .filter(|entry| entry.expiry > now)
        .map(|entry| entry.object_key.clone())
        .collect();
    let mut bodies = gateway.backends.objects.get_many(&live).await?.into_iter();
    gateway.faults.check(FaultPoint::CollectionSession);
    let mut prepared = Vec::with_capacity(entries.len());
    for entry in entries {
        if entry.expiry <= now {
            prepared.push(Prepared::Skipped);
            continue;
        }
        let Some(parcel) = bodies.next().flatten() else {
            tracing::info!(object_key = %entry.object_key, "skipping a parcel whose body is gone");
            prepared.push(Prepared::Skipped);
            continue;
        };
        let delivery_id = uuid::Uuid::new_v4().to_string();
        let frame = ParcelDelivery {
            delivery_id: delivery_id.clone(),
            parcel_serialized: parcel.to_vec(),
        }
        .encode()?;
        prepared.push(Prepared::Ready {
            delivery_id,
            entry,
            frame,
        });
    }
    Ok(prepared)
}

/// Deletes an acknowledged parcel: index entry, then body. If the entry was replaced since it
/// was sent (same key, new sequence), the newer parcel is kept: it has not been delivered.
pub async fn delete_acknowledged(
    gateway: Arc<GatewayContext>,
    entry: ParcelIndexEntry,
) -> Result<(), CollectionError> {
    let backends = &gateway.backends;
    if backends
        .metadata
        .delete_parcel_if_sequence(&entry.key, entry.sequence)
        .await?
    {
        backends.objects.delete(&entry.object_key).await?;
    }
    Ok(())
}
