//! The registry of private gateways: who registered, when each was last seen, which the
//! operator revoked, and what is stored for each. Part of every [`super::MetadataStore`].
//!
//! A gateway that registered before the registry existed gets its record the first time it is
//! seen, without a registration time or certificate expiry. Revocation is of the node id (its
//! key), not of one certificate: a revoked gateway cannot register again with the same key.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::backends::error::BackendError;

/// What the registry knows of one private gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrivateGatewayRecord {
    pub id: String,
    /// Its first registration; `None` if it registered before the registry recorded them.
    pub registered_at: Option<DateTime<Utc>>,
    /// The expiry of the latest certificate we issued it.
    pub certificate_expiry: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Unexpired parcels stored for one private gateway.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StoredTotals {
    pub parcels: u64,
    pub bytes: u64,
}

#[async_trait]
pub trait PrivateGatewayStore: Send + Sync {
    /// Records a registration at `now` of a certificate expiring at `certificate_expiry`: the
    /// first registration time is kept, the later expiry and the later sighting win.
    async fn record_registration(
        &self,
        pg_id: &str,
        certificate_expiry: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), BackendError>;

    /// Records that each gateway was seen at its time (a later time wins), creating the records
    /// of gateways the registry did not know.
    async fn record_seen(&self, seen: &[(String, DateTime<Utc>)]) -> Result<(), BackendError>;

    /// Revokes the gateway at `now`, creating its record if need be; `false` if it already was.
    async fn revoke_private_gateway(
        &self,
        pg_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, BackendError>;

    /// The ids of every revoked gateway.
    async fn revoked_private_gateways(&self) -> Result<Vec<String>, BackendError>;

    async fn get_private_gateway(
        &self,
        pg_id: &str,
    ) -> Result<Option<PrivateGatewayRecord>, BackendError>;

    /// Records with an id above `after_id` (`""` for the first page), in id order, up to `limit`
    /// (at most [`super::MAX_PAGE`]).
    async fn list_private_gateways(
        &self,
        after_id: &str,
        limit: usize,
    ) -> Result<Vec<PrivateGatewayRecord>, BackendError>;

    /// What is stored for `pg_id` and unexpired at `now`.
    async fn stored_for_gateway(
        &self,
        pg_id: &str,
        now: DateTime<Utc>,
    ) -> Result<StoredTotals, BackendError>;

    /// Internet-bound parcels `pg_id` handed over that are recorded
    /// ([`super::MetadataStore::record_parcel_collection`]), unexpired at `now`, and not yet
    /// settled: queued or in flight.
    async fn pending_internet_bound(
        &self,
        pg_id: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, BackendError>;

    /// Marks the Internet-bound parcel `collection` settled (delivered, refused, expired or
    /// dead-lettered). Recorded even before the collection is: the worker may settle a parcel
    /// before the edge that queued it records it, and that record must not count as pending.
    async fn settle_internet_bound(
        &self,
        collection: &super::ParcelCollection,
    ) -> Result<(), BackendError>;

    /// Deletes up to `limit` index entries of `pg_id` (expired or not) and returns their object
    /// keys, for the caller to delete.
    async fn delete_parcels_for_gateway(
        &self,
        pg_id: &str,
        limit: usize,
    ) -> Result<Vec<String>, BackendError>;
}
