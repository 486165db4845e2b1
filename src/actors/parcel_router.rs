//! Routing of parcels, shared by PoWeb delivery, PoHTTP and the cargo unwrapping worker
//! (original notes §2.3, protocol notes §9).
//!
//! - A parcel for a private peer (no recipient Internet address, or ours) must chain to one of
//!   our certificates; it is stored for the private gateway at `path[len−2]`: body in the object
//!   store, entry in the parcel index (a parcel with the same key replaces the old one), then a
//!   best-effort notification on that gateway's channel carrying the entry's sequence number.
//! - An Internet-bound parcel handed over by a private gateway is checked for timing and sender
//!   validity only, deduplicated by `(parcel id, gateway, recipient, sender)` until it expires,
//!   and published on the outbound mailbox. It is published *before* its collection record is
//!   written: a crash in between can only cause a second delivery, never a lost parcel.
//!
//! Every success is returned only once the effect is durable, so bindings may acknowledge then.

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use thiserror::Error;

use crate::actors::gateway::GatewayContext;
use crate::actors::mailbox::{OutboundParcel, ParcelOrigin};
use crate::actors::peer_quotas::{PeerQuotas, Quota, QuotaError};
use crate::backends::metadata::{ParcelCollection, ParcelIndexKey};
use crate::backends::objects::ObjectStore;
use crate::backends::pubsub::parcel_channel;
use crate::backends::queue::QueueName;
use crate::backends::{BackendError, BackendErrorKind};
use crate::protocols::awala::error::ProtocolErrorKind;
use crate::protocols::awala::ramf::{Parcel, RamfError, ValidationError};
use crate::protocols::error_code::{GatewayErrorCode, HasErrorCode};
use crate::supervision::protect_sync;

/// Where a parcel went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Routed {
    /// Stored for the private gateway `pg_id`, whose collectors were notified.
    StoredForPrivateGateway { pg_id: String, sequence: i64 },
    /// Published on the outbound mailbox for PoHTTP delivery.
    QueuedForInternet,
    /// Already taken from this private gateway before: nothing was done (still a success).
    DuplicateInternetBound,
}

/// Why a parcel was not routed.
#[derive(Debug, Error)]
pub enum RouteError {
    /// Not a parcel at all (400).
    #[error("parcel is malformed: {0}")]
    Malformed(#[from] RamfError),
    /// A well-formed parcel that fails validation (expired, untrusted chain...).
    #[error("parcel is invalid: {0}")]
    Invalid(#[from] ValidationError),
    /// For a private gateway over its storage quota; it must collect first.
    #[error("private gateway {pg_id} is over its storage quota ({}); it must collect first", quota.as_str())]
    QuotaExceeded { pg_id: String, quota: Quota },
    /// For (or from) a private gateway the operator revoked.
    #[error("private gateway {0} was revoked")]
    Revoked(String),
    /// Storage or the mailbox failed; the sender must retry.
    #[error("parcel could not be stored: {0}")]
    Backend(#[from] BackendError),
    /// The routing task itself failed (a panic while parsing untrusted bytes).
    #[error("parcel routing failed: {0}")]
    Internal(String),
}

impl HasErrorCode for RouteError {
    fn error_code(&self) -> GatewayErrorCode {
        match self {
            RouteError::Malformed(error) if error.kind() == ProtocolErrorKind::TooLarge => {
                GatewayErrorCode::TooLarge
            }
            RouteError::Malformed(_) => GatewayErrorCode::Malformed,
            RouteError::Invalid(_) | RouteError::Revoked(_) => GatewayErrorCode::Forbidden,
            // Over its share of the outbound mailbox: a rate, unlike stored data (507).
            RouteError::QuotaExceeded {
                quota: Quota::InternetBound,
                ..
            } => GatewayErrorCode::RateLimited,
            RouteError::QuotaExceeded { .. } => GatewayErrorCode::QuotaExceeded,
            RouteError::Backend(error) if error.kind == BackendErrorKind::Unavailable => {
                GatewayErrorCode::Unavailable
            }
            RouteError::Backend(_) | RouteError::Internal(_) => GatewayErrorCode::Internal,
        }
    }
}

/// Largest parcel checked on the calling worker rather than on a blocking thread.
const INLINE_CHECK_LIMIT: usize = 64 * 1024;

/// A parsed parcel with what routing decided about it.
struct Checked {
    parcel: Parcel,
    /// `Some(pg_id)` when the parcel is for a private peer behind that gateway of ours.
    private_gateway_opt: Option<String>,
}

/// Routes parcels. One per process, shared by every binding.
pub struct ParcelRouter {
    context: Arc<GatewayContext>,
}

impl ParcelRouter {
    pub fn new(context: Arc<GatewayContext>) -> Self {
        ParcelRouter { context }
    }

    pub fn context(&self) -> &Arc<GatewayContext> {
        &self.context
    }

    /// A parcel that private gateway `pg_id` handed over (PoWeb delivery, cargo).
    pub async fn route_from_private_gateway(
        &self,
        parcel_bytes: Bytes,
        pg_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Routed, RouteError> {
        let checked = self.check(parcel_bytes.clone(), now, false).await?;
        match checked.private_gateway_opt {
            Some(target_pg_id) => {
                self.store(parcel_bytes, &checked.parcel, &target_pg_id, now)
                    .await
            }
            None => self.queue(parcel_bytes, &checked.parcel, pg_id, now).await,
        }
    }

    /// A parcel an Internet peer posted over PoHTTP: only parcels for our private peers are
    /// accepted, whatever address they name, since their chain must run through us.
    pub async fn route_from_internet(
        &self,
        parcel_bytes: Bytes,
        now: DateTime<Utc>,
    ) -> Result<Routed, RouteError> {
        let checked = self.check(parcel_bytes.clone(), now, true).await?;
        let pg_id = checked
            .private_gateway_opt
            .ok_or_else(|| RouteError::Internal("trusted parcel without a gateway".into()))?;
        self.store(parcel_bytes, &checked.parcel, &pg_id, now).await
    }

    /// Parses and validates. A parcel of a few KiB costs tens of microseconds (one RSA check,
    /// the chain comes from the caches), less than handing it to another thread and back, so it
    /// is checked here; larger ones (hashing megabytes) go to a blocking thread so this worker
    /// keeps serving. Either way a panic on untrusted bytes ends this request only.
    async fn check(
        &self,
        parcel_bytes: Bytes,
        now: DateTime<Utc>,
        force_trusted: bool,
    ) -> Result<Checked, RouteError> {
        let inline = parcel_bytes.len() <= INLINE_CHECK_LIMIT;
        let context = self.context.clone();
        let work = move || check_parcel(&context, &parcel_bytes, now, force_trusted);
        if inline {
            return protect_sync(work).map_err(|panic| RouteError::Internal(panic.message))?;
        }
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|join| RouteError::Internal(join.to_string()))?
    }

    async fn store(
        &self,
        parcel_bytes: Bytes,
        parcel: &Parcel,
        pg_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Routed, RouteError> {
        let backends = &self.context.backends;
        let key = ParcelIndexKey::new(
            pg_id,
            &parcel.recipient().id,
            parcel.sender_certificate().subject_id(),
            parcel.id(),
        );
        let object_key = key.object_key(now);
        let size = parcel_bytes.len() as u64;
        self.admit(&self.context.storage_quotas, pg_id, size, now)
            .await?;
        backends.objects.put(&object_key, parcel_bytes).await?;
        let indexed = backends
            .metadata
            .upsert_parcel(&key, &object_key, parcel.expiry_date(), size)
            .await;
        let upserted = match indexed {
            Ok(upserted) => upserted,
            Err(error) => {
                // Every delivery gets a key of its own, so the sender's retry will not overwrite
                // this body: remove it now rather than leave it to housekeeping.
                delete_object(backends.objects.as_ref(), &object_key).await;
                return Err(error.into());
            }
        };
        if let Some(replaced) = &upserted.replaced_object_key {
            // The index no longer points at it; a crash before this leaves garbage, not a gap.
            delete_object(backends.objects.as_ref(), replaced).await;
        }
        let entry = upserted.entry;
        let channel = parcel_channel(pg_id);
        let notice = Bytes::from(entry.sequence.to_string());
        if let Err(error) = backends.notifier.publish(&channel, notice).await {
            // Best effort: collectors re-list the store, so the parcel is only delayed.
            tracing::warn!(%error, "could not notify collectors of a stored parcel");
        }
        Ok(Routed::StoredForPrivateGateway {
            pg_id: pg_id.to_owned(),
            sequence: entry.sequence,
        })
    }

    /// Takes room under `quotas` for a parcel of `size` bytes of `pg_id`, counting a refusal.
    async fn admit(
        &self,
        quotas: &Arc<PeerQuotas>,
        pg_id: &str,
        size: u64,
        now: DateTime<Utc>,
    ) -> Result<(), RouteError> {
        let metadata = &self.context.backends.metadata;
        match quotas.admit(metadata, pg_id, size, now).await {
            Ok(()) => Ok(()),
            Err(QuotaError::Exceeded { pg_id, quota }) => {
                self.context.metrics.record_quota_refusal(quota.as_str());
                Err(RouteError::QuotaExceeded { pg_id, quota })
            }
            Err(QuotaError::Backend(error)) => Err(error.into()),
        }
    }

    async fn queue(
        &self,
        parcel_bytes: Bytes,
        parcel: &Parcel,
        pg_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Routed, RouteError> {
        let backends = &self.context.backends;
        let collection = ParcelCollection {
            parcel_id: parcel.id().to_owned(),
            pg_id: pg_id.to_owned(),
            recipient_id: parcel.recipient().id.clone(),
            sender_id: parcel.sender_certificate().subject_id().to_owned(),
            expiry: parcel.expiry_date(),
        };
        if backends.metadata.is_parcel_collected(&collection).await? {
            return Ok(Routed::DuplicateInternetBound);
        }
        let recipient_address =
            parcel.recipient().internet_address.clone().ok_or_else(|| {
                RouteError::Internal("internet-bound parcel without address".into())
            })?;
        self.admit(&self.context.internet_bound_quotas, pg_id, 0, now)
            .await?;
        let outbound = OutboundParcel {
            parcel: parcel_bytes,
            recipient_address,
            expiry: parcel.expiry_date(),
            parcel_id: parcel.id().to_owned(),
            origin: Some(ParcelOrigin {
                pg_id: pg_id.to_owned(),
                sender_id: collection.sender_id.clone(),
                recipient_id: collection.recipient_id.clone(),
            }),
        };
        backends
            .queue
            .publish(QueueName::OutboundParcels, outbound.to_queue_message())
            .await?;
        // No poll interval between the 202 and the first attempt (a dispatcher elsewhere still
        // finds it on its next poll).
        self.context.outbound_wake.notify_one();
        backends
            .metadata
            .record_parcel_collection(&collection)
            .await?;
        Ok(Routed::QueuedForInternet)
    }
}

/// Deletes a body no index entry names any more. Best effort: the entry is already gone, so
/// failing the caller would not bring the body back into use; a failure leaves garbage for
/// housekeeping.
pub(crate) async fn delete_object(objects: &dyn ObjectStore, object_key: &str) {
    if let Err(error) = objects.delete(object_key).await {
        tracing::warn!(%error, %object_key, "could not delete an unindexed parcel body");
    }
}

/// Parses `parcel_bytes` and decides where the parcel goes (see the module docs).
fn check_parcel(
    context: &GatewayContext,
    parcel_bytes: &[u8],
    now: DateTime<Utc>,
    force_trusted: bool,
) -> Result<Checked, RouteError> {
    let parcel = Parcel::deserialize_cached(parcel_bytes, &context.certificate_cache)?;
    let validation = context.validation_context(now);
    let for_private_peer =
        force_trusted || context.is_own_address(parcel.recipient().internet_address.as_deref());
    if !for_private_peer {
        parcel.validate(&validation)?;
        return Ok(Checked {
            parcel,
            private_gateway_opt: None,
        });
    }
    let anchors = context.identity.trust_anchors(now);
    let path = parcel.validate_with_trust(&anchors, &validation)?;
    // path = [sender, …, private gateway, us]: the gateway is the one before the anchor.
    let pg_id = path
        .len()
        .checked_sub(2)
        .and_then(|index| path.get(index))
        .map(|certificate| certificate.subject_id().to_owned())
        .ok_or_else(|| RouteError::Internal("certification path too short".into()))?;
    if context.private_gateways.is_revoked(&pg_id) {
        return Err(RouteError::Revoked(pg_id));
    }
    Ok(Checked {
        parcel,
        private_gateway_opt: Some(pg_id),
    })
}

#[cfg(test)]
#[path = "parcel_router_tests.rs"]
mod tests;
