//! The I/O steps of a collection session, each one protected task: list a page, send one
//! parcel, delete one acknowledged parcel.

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

/// Sends `entry` as a `ParcelDelivery` with a fresh delivery id, returned. `None` when there is
/// nothing to send: the parcel expired since it was listed, or its body is gone (a concurrent
/// collector deleted it). Such entries are left to housekeeping, as REF does.
pub async fn send_parcel(
    gateway: Arc<GatewayContext>,
    mut ws: actix_ws::Session,
    entry: ParcelIndexEntry,
    now: DateTime<Utc>,
) -> Result<Option<String>, CollectionError> {
    if entry.expiry <= now {
        return Ok(None);
    }
    let Some(parcel) = gateway.backends.objects.get(&entry.object_key).await? else {
        tracing::info!(object_key = %entry.object_key, "skipping a parcel whose body is gone");
        return Ok(None);
    };
    let delivery_id = uuid::Uuid::new_v4().to_string();
    let frame = ParcelDelivery {
        delivery_id: delivery_id.clone(),
        parcel_serialized: parcel.to_vec(),
    }
    .encode()?;
    ws.binary(frame)
        .await
        .map_err(|_| CollectionError::SocketClosed)?;
    Ok(Some(delivery_id))
}

/// Deletes an acknowledged parcel: index entry, then body. If the entry was replaced since it
/// was sent (same key, new sequence), the newer parcel is kept: it has not been delivered.
pub async fn delete_acknowledged(
    gateway: Arc<GatewayContext>,
    entry: ParcelIndexEntry,
) -> Result<(), CollectionError> {
    let backends = &gateway.backends;
    match backends.metadata.get_parcel(&entry.key).await? {
        Some(current) if current.sequence == entry.sequence => {
            backends.metadata.delete_parcel(&entry.key).await?;
            backends.objects.delete(&entry.object_key).await?;
        }
        _ => {}
    }
    Ok(())
}
