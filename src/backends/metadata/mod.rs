//! Metadata: everything an Internet gateway must remember besides message bodies
//! (`awala-protocol-notes.md` §9, "Persistent state an IG needs").
//!
//! Contracts shared by every implementation (checked by [`conformance`]):
//! - Times are arguments (`now`, `expiry`, `cutoff`); stores never read the clock, so tests and
//!   housekeeping control expiry. A record whose expiry is at or before `now` is expired.
//! - Private keys arrive sealed by a [`KeySealer`](crate::backends::keys::KeySealer); this store
//!   never sees them in clear.
//! - Every write has returned only once it is durable.

use std::collections::HashSet;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::error::BackendError;

pub mod conformance;
pub mod mongo;
pub mod postgres;
pub mod private_gateways;
pub mod sql;
pub mod sqlite;
mod sqlite_batch;

pub use mongo::MongoMetadataStore;
pub use postgres::PostgresMetadataStore;
pub use private_gateways::{PrivateGatewayRecord, PrivateGatewayStore, StoredTotals};
pub use sqlite::SqliteMetadataStore;

/// Config item holding our current node id.
pub const CURRENT_NODE_ID: &str = "current_id";

/// One of our own identity certificates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnCertificate {
    pub subject_id: String,
    pub issuer_id: String,
    /// The certificate (or certification path) in DER.
    pub der: Vec<u8>,
    pub not_after: DateTime<Utc>,
}

/// One of our session private keys, sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionKeyRecord {
    /// The 8-octet key id.
    pub key_id: Vec<u8>,
    /// Our node id (the owner of the key).
    pub owner_node_id: String,
    /// The private gateway the key was issued to; `None` for the unbound initial key.
    pub peer_id: Option<String>,
    pub created_at: DateTime<Utc>,
    /// PKCS#8 DER, sealed with the key id as associated data.
    pub sealed_key: Vec<u8>,
}

/// The latest session public key a peer sent us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerSessionKey {
    pub peer_id: String,
    pub key_id: Vec<u8>,
    pub spki_der: Vec<u8>,
    /// Creation date of the message that carried the key; newer messages replace the key.
    pub creation_date: DateTime<Utc>,
}

/// An Internet-bound parcel we took from a private gateway (dedup, and PCAs to send back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParcelCollection {
    pub parcel_id: String,
    pub pg_id: String,
    pub recipient_id: String,
    pub sender_id: String,
    pub expiry: DateTime<Utc>,
}

/// Identifies a parcel stored for a private gateway. A new parcel with the same key replaces
/// the old one, as the reference gateway does.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ParcelIndexKey {
    pub pg_id: String,
    pub recipient_id: String,
    pub sender_id: String,
    /// Lowercase hex SHA-256 of the parcel id (ids may hold characters unfit for keys).
    pub parcel_id_digest: String,
}

impl ParcelIndexKey {
    /// The key of `parcel_id` from `sender_id` to `recipient_id`, stored for `pg_id`.
    pub fn new(pg_id: &str, recipient_id: &str, sender_id: &str, parcel_id: &str) -> Self {
        ParcelIndexKey {
            pg_id: pg_id.to_string(),
            recipient_id: recipient_id.to_string(),
            sender_id: sender_id.to_string(),
            parcel_id_digest: hex::encode(crate::protocols::awala::keys::sha256(
                parcel_id.as_bytes(),
            )),
        }
    }

    /// Where the body of this parcel, received at `received_at`, is stored.
    ///
    /// Keys start with the time of receipt so that stores keeping keys in a B-tree (the embedded
    /// one's SQLite table) append to it instead of writing a random page per parcel, which made
    /// that table's index most of what ingest wrote to disk. Each delivery gets its own key; the
    /// one a replacement supersedes is deleted once the index points at the new one.
    pub fn object_key(&self, received_at: DateTime<Utc>) -> String {
        let identity = crate::protocols::awala::keys::sha256(
            [
                self.pg_id.as_str(),
                &self.recipient_id,
                &self.sender_id,
                &self.parcel_id_digest,
            ]
            .join("\n")
            .as_bytes(),
        );
        format!(
            "parcels/gateway-bound/{:016}-{}",
            received_at.timestamp_micros().max(0),
            hex::encode(identity)
        )
    }
}

/// A parcel stored for a private gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParcelIndexEntry {
    pub key: ParcelIndexKey,
    pub object_key: String,
    pub expiry: DateTime<Utc>,
    pub size: u64,
    /// Increases with every upsert across the store; collectors page by it.
    pub sequence: i64,
}

/// The entry an upsert wrote, and the object key of the entry it replaced (when that differs),
/// whose object the caller deletes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpsertedParcel {
    pub entry: ParcelIndexEntry,
    pub replaced_object_key: Option<String>,
}

impl UpsertedParcel {
    /// The result of writing `entry` over an entry whose object key was `previous_object_key`.
    pub fn new(entry: ParcelIndexEntry, previous_object_key: Option<String>) -> Self {
        let replaced_object_key = previous_object_key.filter(|old| *old != entry.object_key);
        UpsertedParcel {
            entry,
            replaced_object_key,
        }
    }
}

/// The gateway's metadata. Used as `Arc<dyn MetadataStore>`.
#[async_trait]
pub trait MetadataStore: PrivateGatewayStore + Send + Sync {
    // --- Config items ---
    async fn get_config(&self, key: &str) -> Result<Option<String>, BackendError>;
    async fn set_config(&self, key: &str, value: &str) -> Result<(), BackendError>;

    // --- Own certificates ---
    /// Saves a certificate; saving the same DER twice is a no-op.
    async fn save_certificate(&self, certificate: &OwnCertificate) -> Result<(), BackendError>;
    /// Certificates of `subject_id` still valid at `now`, latest expiry first.
    async fn valid_certificates(
        &self,
        subject_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<OwnCertificate>, BackendError>;
    /// The still-valid certificate of `subject_id` that expires last.
    async fn latest_certificate(
        &self,
        subject_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<OwnCertificate>, BackendError> {
        Ok(self
            .valid_certificates(subject_id, now)
            .await?
            .into_iter()
            .next())
    }
    /// Deletes certificates expired at `now`; returns how many.
    async fn delete_expired_certificates(&self, now: DateTime<Utc>) -> Result<u64, BackendError>;

    // --- Sealed private keys ---
    /// Saves (or replaces) the sealed identity key of `node_id`.
    async fn save_identity_key(&self, node_id: &str, sealed_key: &[u8])
        -> Result<(), BackendError>;
    async fn get_identity_key(&self, node_id: &str) -> Result<Option<Vec<u8>>, BackendError>;
    /// Saves a session key; `Conflict` if its id is taken (ids are random: a clash is a bug).
    async fn save_session_key(&self, record: &SessionKeyRecord) -> Result<(), BackendError>;
    async fn get_session_key(
        &self,
        key_id: &[u8],
    ) -> Result<Option<SessionKeyRecord>, BackendError>;
    /// The newest unbound session key of `owner_node_id`.
    async fn latest_unbound_session_key(
        &self,
        owner_node_id: &str,
    ) -> Result<Option<SessionKeyRecord>, BackendError>;
    /// Deletes session keys created before `cutoff`, except the newest key of each
    /// (owner, peer) pair, the unbound one included; returns how many went.
    async fn delete_session_keys_older_than(
        &self,
        cutoff: DateTime<Utc>,
    ) -> Result<u64, BackendError>;

    // --- Peer session public keys ---
    /// Records the peer's key unless the stored one came in a message at least as new.
    /// Returns whether the key was saved.
    async fn save_peer_session_key_if_newer(
        &self,
        key: &PeerSessionKey,
    ) -> Result<bool, BackendError>;
    async fn get_peer_session_key(
        &self,
        peer_id: &str,
    ) -> Result<Option<PeerSessionKey>, BackendError>;

    // --- Parcel collections (Internet-bound dedup) ---
    /// Records the collection; `false` if it was already recorded (a duplicate delivery).
    async fn record_parcel_collection(
        &self,
        collection: &ParcelCollection,
    ) -> Result<bool, BackendError>;
    /// Whether the collection (by its four ids; `expiry` is ignored) was recorded.
    async fn is_parcel_collected(
        &self,
        collection: &ParcelCollection,
    ) -> Result<bool, BackendError>;
    /// Unexpired collections of `pg_id`, oldest expiry first, up to `limit`.
    async fn parcel_collections_for_gateway(
        &self,
        pg_id: &str,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<ParcelCollection>, BackendError>;
    async fn delete_expired_parcel_collections(
        &self,
        now: DateTime<Utc>,
    ) -> Result<u64, BackendError>;

    // --- CCA fulfilments ---
    /// Records that the CCA was used; `false` if it had been (a replay).
    async fn record_cca_fulfilment(
        &self,
        pg_id: &str,
        cca_id: &str,
        expiry: DateTime<Utc>,
    ) -> Result<bool, BackendError>;
    async fn delete_expired_cca_fulfilments(&self, now: DateTime<Utc>)
        -> Result<u64, BackendError>;

    // --- Index of parcels stored for private gateways ---
    /// Inserts or replaces the entry for `key`, giving it a new, higher sequence number.
    async fn upsert_parcel(
        &self,
        key: &ParcelIndexKey,
        object_key: &str,
        expiry: DateTime<Utc>,
        size: u64,
    ) -> Result<UpsertedParcel, BackendError>;
    /// Unexpired parcels of `pg_id` with a sequence above `after_sequence`, in sequence order.
    async fn list_parcels_for_gateway(
        &self,
        pg_id: &str,
        now: DateTime<Utc>,
        after_sequence: i64,
        limit: usize,
    ) -> Result<Vec<ParcelIndexEntry>, BackendError>;
    async fn get_parcel(
        &self,
        key: &ParcelIndexKey,
    ) -> Result<Option<ParcelIndexEntry>, BackendError>;
    /// Deletes the entry; returns its object key if there was one, for the caller to delete.
    async fn delete_parcel(&self, key: &ParcelIndexKey) -> Result<Option<String>, BackendError>;
    /// Deletes the entry for `key` only if it still has `sequence`, i.e. it was not replaced
    /// since it was read; returns whether it did. One statement instead of a read and a delete:
    /// this runs once per acknowledged parcel.
    async fn delete_parcel_if_sequence(
        &self,
        key: &ParcelIndexKey,
        sequence: i64,
    ) -> Result<bool, BackendError>;
    /// Deletes up to `limit` entries expired at `now` and returns their object keys, for the
    /// caller to delete (an object left behind by a crash is garbage, never a dangling entry).
    async fn delete_expired_parcels(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<String>, BackendError>;

    /// Which of `object_keys` an index entry names; housekeeping deletes the other bodies.
    async fn parcel_object_keys_in_use(
        &self,
        object_keys: &[String],
    ) -> Result<HashSet<String>, BackendError>;

    async fn health_check(&self) -> Result<(), BackendError>;
}

/// Most rows any listing returns, whatever `limit` asks for.
pub const MAX_PAGE: usize = 1_000;
