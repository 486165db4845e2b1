//! The metadata store on MongoDB (`mongodb://…` or `mongodb+srv://…`), through the official
//! driver. The database is the URL's path (default `awala`).
//!
//! One collection per record kind, keyed by `_id` so that uniqueness is the primary index's:
//! a duplicate insert (E11000) is how "already recorded" is answered. Parcel sequence numbers
//! come from one counter document (`$inc`), so they are store-wide and notifications can carry
//! them; as on PostgreSQL, two concurrent upserts may commit out of sequence order, and
//! collectors list from the start on every (re)connection and after every `Lagged`.
//!
//! Expiry: every query filters on `now`, and housekeeping deletes what expired. TTL indexes on
//! parcel collections and CCA fulfilments let the server drop those too; the parcel index has
//! none, because its entries name objects that must be deleted with them.
//!
//! Writes use write concern `majority` with journaling: a write has returned once durable.

use std::collections::HashSet;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use mongodb::bson::{doc, spec::BinarySubtype, Binary, Bson, Document};
use mongodb::error::{Error, ErrorKind, WriteFailure};
use mongodb::options::{
    Acknowledgment, ClientOptions, DatabaseOptions, IndexOptions, ReturnDocument, WriteConcern,
};
use mongodb::{Client, Collection, Database, IndexModel};

use super::{
    MetadataStore, OwnCertificate, ParcelCollection, ParcelIndexEntry, ParcelIndexKey,
    PeerSessionKey, SessionKeyRecord, UpsertedParcel, MAX_PAGE,
};
use crate::backends::error::BackendError;

/// Database used when the URL names none.
const DEFAULT_DATABASE: &str = "awala";
/// How long an operation waits for a usable server before failing with `Unavailable` (the
/// driver's default of 30 s would hold requests far past their clients' patience).
const SERVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The counter document that numbers parcel index writes.
const PARCEL_SEQUENCE: &str = "parcel_sequence";
/// MongoDB's duplicate-key error.
const DUPLICATE_KEY: i32 = 11000;
/// Server errors that mean "not now" rather than "never": a primary stepping down, shutdown.
const TRANSIENT_CODES: [i32; 7] = [91, 189, 10107, 11600, 11602, 13435, 13436];

/// How the store is opened; tests switch TTL indexes off because their records carry dates
/// long past, which the server's TTL monitor would delete under them.
#[derive(Debug, Clone)]
pub struct MongoOptions {
    pub ttl_indexes: bool,
}

impl Default for MongoOptions {
    fn default() -> Self {
        MongoOptions { ttl_indexes: true }
    }
}

/// A [`MetadataStore`] in MongoDB.
pub struct MongoMetadataStore {
    db: Database,
}

pub(crate) fn mongo(context: &'static str) -> impl FnOnce(Error) -> BackendError {
    move |error| {
        let message = format!("mongodb: {context}: {error}");
        let transient = match error.kind.as_ref() {
            ErrorKind::Io(_)
            | ErrorKind::ServerSelection { .. }
            | ErrorKind::ConnectionPoolCleared { .. }
            | ErrorKind::DnsResolve { .. } => true,
            ErrorKind::Command(command) => TRANSIENT_CODES.contains(&command.code),
            _ => error.contains_label("RetryableWriteError"),
        };
        let wrapped = if transient {
            BackendError::unavailable(message)
        } else {
            BackendError::internal(message)
        };
        wrapped.with_source(error)
    }
}

fn is_duplicate(error: &Error) -> bool {
    match error.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(write)) => write.code == DUPLICATE_KEY,
        ErrorKind::Command(command) => command.code == DUPLICATE_KEY,
        _ => false,
    }
}

pub(crate) fn binary(bytes: &[u8]) -> Bson {
    Bson::Binary(Binary {
        subtype: BinarySubtype::Generic,
        bytes: bytes.to_vec(),
    })
}

fn date(time: DateTime<Utc>) -> mongodb::bson::DateTime {
    mongodb::bson::DateTime::from_millis(time.timestamp_millis())
}

fn corrupt(what: &str) -> impl FnOnce(mongodb::bson::error::Error) -> BackendError + '_ {
    move |error| BackendError::corrupt(format!("mongodb: {what}: {error}"))
}

pub(crate) fn get_str(document: &Document, key: &str) -> Result<String, BackendError> {
    document
        .get_str(key)
        .map(str::to_owned)
        .map_err(corrupt(key))
}

pub(crate) fn get_bytes(document: &Document, key: &str) -> Result<Vec<u8>, BackendError> {
    document
        .get_binary_generic(key)
        .cloned()
        .map_err(corrupt(key))
}

fn get_date(document: &Document, key: &str) -> Result<DateTime<Utc>, BackendError> {
    let millis = document
        .get_datetime(key)
        .map_err(corrupt(key))?
        .timestamp_millis();
    DateTime::from_timestamp_millis(millis)
        .ok_or_else(|| BackendError::corrupt(format!("mongodb: {key} is out of range")))
}

fn get_i64(document: &Document, key: &str) -> Result<i64, BackendError> {
    document.get_i64(key).map_err(corrupt(key))
}

fn limit_of(limit: usize) -> i64 {
    i64::try_from(limit.min(MAX_PAGE)).unwrap_or(0)
}

/// The `_id` of a parcel index entry.
fn parcel_id(key: &ParcelIndexKey) -> Document {
    doc! {
        "g": &key.pg_id, "r": &key.recipient_id, "s": &key.sender_id, "d": &key.parcel_id_digest,
    }
}

/// The `_id` of a parcel collection record.
pub(crate) fn collection_id(collection: &ParcelCollection) -> Document {
    doc! {
        "p": &collection.parcel_id, "g": &collection.pg_id,
        "r": &collection.recipient_id, "s": &collection.sender_id,
    }
}

fn certificate_of(document: &Document) -> Result<OwnCertificate, BackendError> {
    Ok(OwnCertificate {
        subject_id: get_str(document, "subject_id")?,
        issuer_id: get_str(document, "issuer_id")?,
        der: get_bytes(document, "der")?,
        not_after: get_date(document, "not_after")?,
    })
}

fn session_key_of(document: &Document) -> Result<SessionKeyRecord, BackendError> {
    let peer_id = match document.get("peer_id") {
        Some(Bson::String(peer)) => Some(peer.clone()),
        _ => None,
    };
    Ok(SessionKeyRecord {
        key_id: get_bytes(document, "_id")?,
        owner_node_id: get_str(document, "owner_node_id")?,
        peer_id,
        created_at: get_date(document, "created_at")?,
        sealed_key: get_bytes(document, "sealed_key")?,
    })
}

fn parcel_of(document: &Document) -> Result<ParcelIndexEntry, BackendError> {
    Ok(ParcelIndexEntry {
        key: ParcelIndexKey {
            pg_id: get_str(document, "pg_id")?,
            recipient_id: get_str(document, "recipient_id")?,
            sender_id: get_str(document, "sender_id")?,
            parcel_id_digest: get_str(document, "parcel_id_digest")?,
        },
        object_key: get_str(document, "object_key")?,
        expiry: get_date(document, "expiry")?,
        size: u64::try_from(get_i64(document, "size")?)
            .map_err(|_| BackendError::corrupt("negative parcel size"))?,
        sequence: get_i64(document, "sequence")?,
    })
}

/// The database of a `mongodb://` URL (or `database` instead), with durable writes and short
/// timeouts.
pub(crate) async fn connect(url: &str, database: Option<&str>) -> Result<Database, BackendError> {
    let mut client_options = ClientOptions::parse(url)
        .await
        .map_err(mongo("parsing the database url"))?;
    if !url.contains("serverSelectionTimeoutMS") {
        client_options.server_selection_timeout = Some(SERVER_SELECTION_TIMEOUT);
    }
    if !url.contains("connectTimeoutMS") {
        client_options.connect_timeout = Some(CONNECT_TIMEOUT);
    }
    client_options
        .app_name
        .get_or_insert_with(|| "awala-gateway".to_owned());
    let name = database
        .map(str::to_owned)
        .or_else(|| client_options.default_database.clone())
        .unwrap_or_else(|| DEFAULT_DATABASE.to_owned());
    let client = Client::with_options(client_options).map_err(mongo("configuring"))?;
    let durable = WriteConcern::builder()
        .w(Acknowledgment::Majority)
        .journal(true)
        .build();
    Ok(client.database_with_options(
        &name,
        DatabaseOptions::builder().write_concern(durable).build(),
    ))
}

impl MongoMetadataStore {
    /// Connects to the database named by a `mongodb://` URL and creates its indexes.
    pub async fn open_url(url: &str) -> Result<Self, BackendError> {
        Self::open_with(url, None, MongoOptions::default()).await
    }

    /// Like [`Self::open_url`], in `database` instead of the URL's (tests use one each).
    pub async fn open_with(
        url: &str,
        database: Option<&str>,
        options: MongoOptions,
    ) -> Result<Self, BackendError> {
        let db = connect(url, database).await?;
        let store = MongoMetadataStore { db };
        store.create_indexes(&options).await?;
        // The counter exists before the first parcel: secantusdb's upsert-and-return of a
        // missing document raced by another answered with no document at all.
        store
            .collection("counters")
            .update_one(
                doc! { "_id": PARCEL_SEQUENCE },
                doc! { "$setOnInsert": { "value": 0_i64 } },
            )
            .upsert(true)
            .await
            .or_else(|error| {
                if is_duplicate(&error) {
                    Ok(Default::default())
                } else {
                    Err(error)
                }
            })
            .map_err(mongo("creating the parcel sequence"))?;
        Ok(store)
    }

    async fn create_indexes(&self, options: &MongoOptions) -> Result<(), BackendError> {
        let index = |keys: Document| IndexModel::builder().keys(keys).build();
        let ttl = |keys: Document| {
            let expire = IndexOptions::builder()
                .expire_after(Duration::ZERO)
                .name("expiry_ttl".to_owned())
                .build();
            IndexModel::builder().keys(keys).options(expire).build()
        };
        let expiry = |ttl_wanted: bool| {
            if ttl_wanted && options.ttl_indexes {
                ttl(doc! { "expiry": 1 })
            } else {
                index(doc! { "expiry": 1 })
            }
        };
        let plan = [
            (
                "own_certificates",
                index(doc! { "subject_id": 1, "not_after": -1 }),
            ),
            ("own_certificates", index(doc! { "not_after": 1 })),
            (
                "session_keys",
                index(doc! { "owner_node_id": 1, "peer_id": 1, "created_at": -1 }),
            ),
            ("session_keys", index(doc! { "created_at": 1 })),
            (
                "parcel_collections",
                index(doc! { "pg_id": 1, "expiry": 1 }),
            ),
            ("parcel_collections", expiry(true)),
            ("cca_fulfilments", expiry(true)),
            ("parcel_index", index(doc! { "pg_id": 1, "sequence": 1 })),
            ("parcel_index", expiry(false)),
            ("parcel_index", index(doc! { "object_key": 1 })),
            ("private_gateways", index(doc! { "revoked_at": 1 })),
            (
                "parcel_collections",
                index(doc! { "pg_id": 1, "pending": 1, "expiry": 1 }),
            ),
        ];
        for (collection, model) in plan {
            self.collection(collection)
                .create_index(model)
                .await
                .map_err(mongo("creating indexes"))?;
        }
        Ok(())
    }

    fn collection(&self, name: &str) -> Collection<Document> {
        self.db.collection(name)
    }

    /// The next parcel sequence number (store-wide, increasing).
    async fn next_sequence(&self) -> Result<i64, BackendError> {
        let counter = self
            .collection("counters")
            .find_one_and_update(
                doc! { "_id": PARCEL_SEQUENCE },
                doc! { "$inc": { "value": 1_i64 } },
            )
            .upsert(true)
            .return_document(ReturnDocument::After)
            .await
            .map_err(mongo("numbering a parcel"))?
            .ok_or_else(|| BackendError::internal("mongodb: the sequence counter vanished"))?;
        get_i64(&counter, "value")
    }

    /// Inserts `document`; `false` if its `_id` is taken.
    async fn insert_new(
        &self,
        collection: &str,
        document: Document,
        context: &'static str,
    ) -> Result<bool, BackendError> {
        match self.collection(collection).insert_one(document).await {
            Ok(_) => Ok(true),
            Err(error) if is_duplicate(&error) => Ok(false),
            Err(error) => Err(mongo(context)(error)),
        }
    }

    async fn delete_expired(
        &self,
        collection: &str,
        field: &str,
        now: DateTime<Utc>,
        context: &'static str,
    ) -> Result<u64, BackendError> {
        let deleted = self
            .collection(collection)
            .delete_many(doc! { field: { "$lte": date(now) } })
            .await
            .map_err(mongo(context))?;
        Ok(deleted.deleted_count)
    }

    /// Deletes the parcel index entries `found` (as listed, with their sequence) and returns
    /// their object keys. An entry replaced since it was read keeps its new sequence and is not
    /// deleted; the object named here was then superseded, and its replacer deletes it too.
    pub(crate) async fn delete_entries_found(
        &self,
        found: &[Document],
        context: &'static str,
    ) -> Result<Vec<String>, BackendError> {
        let mut object_keys = Vec::with_capacity(found.len());
        let mut entries = Vec::with_capacity(found.len());
        for document in found {
            let id = document.get("_id").cloned().unwrap_or(Bson::Null);
            entries.push(doc! { "_id": id, "sequence": get_i64(document, "sequence")? });
            object_keys.push(get_str(document, "object_key")?);
        }
        if !entries.is_empty() {
            self.collection("parcel_index")
                .delete_many(doc! { "$or": entries })
                .await
                .map_err(mongo(context))?;
        }
        Ok(object_keys)
    }

    async fn find_all(
        &self,
        collection: &str,
        filter: Document,
        sort: Document,
        limit: i64,
        context: &'static str,
    ) -> Result<Vec<Document>, BackendError> {
        self.collection(collection)
            .find(filter)
            .sort(sort)
            .limit(limit)
            .await
            .map_err(mongo(context))?
            .try_collect()
            .await
            .map_err(mongo(context))
    }
}

#[async_trait]
impl MetadataStore for MongoMetadataStore {
    async fn get_config(&self, key: &str) -> Result<Option<String>, BackendError> {
        let found = self
            .collection("config_items")
            .find_one(doc! { "_id": key })
            .await
            .map_err(mongo("reading a config item"))?;
        found.map(|item| get_str(&item, "value")).transpose()
    }

    async fn set_config(&self, key: &str, value: &str) -> Result<(), BackendError> {
        self.collection("config_items")
            .update_one(doc! { "_id": key }, doc! { "$set": { "value": value } })
            .upsert(true)
            .await
            .map_err(mongo("writing a config item"))?;
        Ok(())
    }

    async fn save_certificate(&self, certificate: &OwnCertificate) -> Result<(), BackendError> {
        let id = hex::encode(crate::protocols::awala::keys::sha256(&certificate.der));
        let document = doc! {
            "_id": id,
            "subject_id": &certificate.subject_id,
            "issuer_id": &certificate.issuer_id,
            "der": binary(&certificate.der),
            "not_after": date(certificate.not_after),
            "saved": mongodb::bson::oid::ObjectId::new(),
        };
        self.insert_new("own_certificates", document, "saving a certificate")
            .await
            .map(|_| ())
    }

    async fn valid_certificates(
        &self,
        subject_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<OwnCertificate>, BackendError> {
        let found = self
            .find_all(
                "own_certificates",
                doc! { "subject_id": subject_id, "not_after": { "$gt": date(now) } },
                doc! { "not_after": -1, "saved": -1 },
                limit_of(MAX_PAGE),
                "listing certificates",
            )
            .await?;
        found.iter().map(certificate_of).collect()
    }

    async fn delete_expired_certificates(&self, now: DateTime<Utc>) -> Result<u64, BackendError> {
        self.delete_expired(
            "own_certificates",
            "not_after",
            now,
            "deleting expired certificates",
        )
        .await
    }

    async fn save_identity_key(
        &self,
        node_id: &str,
        sealed_key: &[u8],
    ) -> Result<(), BackendError> {
        self.collection("identity_keys")
            .update_one(
                doc! { "_id": node_id },
                doc! { "$set": { "sealed_key": binary(sealed_key) } },
            )
            .upsert(true)
            .await
            .map_err(mongo("saving an identity key"))?;
        Ok(())
    }

    async fn get_identity_key(&self, node_id: &str) -> Result<Option<Vec<u8>>, BackendError> {
        let found = self
            .collection("identity_keys")
            .find_one(doc! { "_id": node_id })
            .await
            .map_err(mongo("reading an identity key"))?;
        found.map(|key| get_bytes(&key, "sealed_key")).transpose()
    }

    async fn save_session_key(&self, record: &SessionKeyRecord) -> Result<(), BackendError> {
        let peer = record.peer_id.clone().map_or(Bson::Null, Bson::String);
        let document = doc! {
            "_id": binary(&record.key_id),
            "owner_node_id": &record.owner_node_id,
            "peer_id": peer,
            "created_at": date(record.created_at),
            "sealed_key": binary(&record.sealed_key),
            "saved": mongodb::bson::oid::ObjectId::new(),
        };
        if self
            .insert_new("session_keys", document, "saving a session key")
            .await?
        {
            Ok(())
        } else {
            Err(BackendError::conflict(format!(
                "session key {} exists",
                hex::encode(&record.key_id)
            )))
        }
    }

    async fn get_session_key(
        &self,
        key_id: &[u8],
    ) -> Result<Option<SessionKeyRecord>, BackendError> {
        let found = self
            .collection("session_keys")
            .find_one(doc! { "_id": binary(key_id) })
            .await
            .map_err(mongo("reading a session key"))?;
        found.as_ref().map(session_key_of).transpose()
    }

    async fn latest_unbound_session_key(
        &self,
        owner_node_id: &str,
    ) -> Result<Option<SessionKeyRecord>, BackendError> {
        let found = self
            .find_all(
                "session_keys",
                doc! { "owner_node_id": owner_node_id, "peer_id": Bson::Null },
                doc! { "created_at": -1, "saved": -1 },
                1,
                "reading the unbound session key",
            )
            .await?;
        found.first().map(session_key_of).transpose()
    }

    async fn delete_session_keys_older_than(
        &self,
        cutoff: DateTime<Utc>,
    ) -> Result<u64, BackendError> {
        // Per (owner, peer) pair, the newest key's date: older keys of the pair before `cutoff`
        // go. Only pairs with a key before `cutoff` are looked at.
        let pipeline = vec![
            doc! { "$match": { "created_at": { "$lt": date(cutoff) } } },
            doc! { "$group": { "_id": { "o": "$owner_node_id", "p": "$peer_id" } } },
        ];
        let pairs: Vec<Document> = self
            .collection("session_keys")
            .aggregate(pipeline)
            .await
            .map_err(mongo("grouping session keys"))?
            .try_collect()
            .await
            .map_err(mongo("grouping session keys"))?;
        let mut deleted = 0;
        for pair in pairs {
            let pair = pair.get_document("_id").map_err(corrupt("_id"))?;
            let owner = pair.get("o").cloned().unwrap_or(Bson::Null);
            let peer = pair.get("p").cloned().unwrap_or(Bson::Null);
            let newest = self
                .find_all(
                    "session_keys",
                    doc! { "owner_node_id": owner.clone(), "peer_id": peer.clone() },
                    doc! { "created_at": -1 },
                    1,
                    "finding the newest session key",
                )
                .await?;
            let Some(newest) = newest.first() else {
                continue;
            };
            let newest = date(get_date(newest, "created_at")?.min(cutoff));
            let result = self
                .collection("session_keys")
                .delete_many(doc! {
                    "owner_node_id": owner, "peer_id": peer, "created_at": { "$lt": newest },
                })
                .await
                .map_err(mongo("deleting old session keys"))?;
            deleted += result.deleted_count;
        }
        Ok(deleted)
    }

    async fn save_peer_session_key_if_newer(
        &self,
        key: &PeerSessionKey,
    ) -> Result<bool, BackendError> {
        // The filter matches only an older key; with none, the upsert inserts, and finds the
        // `_id` taken (E11000) when the stored key is at least as new.
        let result = self
            .collection("peer_session_keys")
            .update_one(
                doc! { "_id": &key.peer_id, "creation_date": { "$lt": date(key.creation_date) } },
                doc! { "$set": {
                    "key_id": binary(&key.key_id),
                    "spki_der": binary(&key.spki_der),
                    "creation_date": date(key.creation_date),
                } },
            )
            .upsert(true)
            .await;
        match result {
            Ok(result) => Ok(result.matched_count == 1 || result.upserted_id.is_some()),
            Err(error) if is_duplicate(&error) => Ok(false),
            Err(error) => Err(mongo("saving a peer session key")(error)),
        }
    }

    async fn get_peer_session_key(
        &self,
        peer_id: &str,
    ) -> Result<Option<PeerSessionKey>, BackendError> {
        let found = self
            .collection("peer_session_keys")
            .find_one(doc! { "_id": peer_id })
            .await
            .map_err(mongo("reading a peer session key"))?;
        found
            .map(|key| {
                Ok(PeerSessionKey {
                    peer_id: get_str(&key, "_id")?,
                    key_id: get_bytes(&key, "key_id")?,
                    spki_der: get_bytes(&key, "spki_der")?,
                    creation_date: get_date(&key, "creation_date")?,
                })
            })
            .transpose()
    }

    async fn record_parcel_collection(
        &self,
        collection: &ParcelCollection,
    ) -> Result<bool, BackendError> {
        let document = doc! {
            "_id": collection_id(collection),
            "pg_id": &collection.pg_id,
            "expiry": date(collection.expiry),
            "pending": true,
        };
        self.insert_new(
            "parcel_collections",
            document,
            "recording a parcel collection",
        )
        .await
    }

    async fn is_parcel_collected(
        &self,
        collection: &ParcelCollection,
    ) -> Result<bool, BackendError> {
        let found = self
            .collection("parcel_collections")
            .find_one(doc! { "_id": collection_id(collection) })
            .projection(doc! { "_id": 1 })
            .await
            .map_err(mongo("looking up a parcel collection"))?;
        Ok(found.is_some())
    }

    async fn parcel_collections_for_gateway(
        &self,
        pg_id: &str,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<ParcelCollection>, BackendError> {
        let found = self
            .find_all(
                "parcel_collections",
                doc! { "pg_id": pg_id, "expiry": { "$gt": date(now) } },
                doc! { "expiry": 1, "_id": 1 },
                limit_of(limit),
                "listing parcel collections",
            )
            .await?;
        found
            .iter()
            .map(|document| {
                let id = document.get_document("_id").map_err(corrupt("_id"))?;
                Ok(ParcelCollection {
                    parcel_id: get_str(id, "p")?,
                    pg_id: get_str(id, "g")?,
                    recipient_id: get_str(id, "r")?,
                    sender_id: get_str(id, "s")?,
                    expiry: get_date(document, "expiry")?,
                })
            })
            .collect()
    }

    async fn delete_expired_parcel_collections(
        &self,
        now: DateTime<Utc>,
    ) -> Result<u64, BackendError> {
        self.delete_expired(
            "parcel_collections",
            "expiry",
            now,
            "deleting expired parcel collections",
        )
        .await
    }

    async fn record_cca_fulfilment(
        &self,
        pg_id: &str,
        cca_id: &str,
        expiry: DateTime<Utc>,
    ) -> Result<bool, BackendError> {
        let document = doc! { "_id": { "g": pg_id, "c": cca_id }, "expiry": date(expiry) };
        self.insert_new("cca_fulfilments", document, "recording a cca fulfilment")
            .await
    }

    async fn delete_expired_cca_fulfilments(
        &self,
        now: DateTime<Utc>,
    ) -> Result<u64, BackendError> {
        self.delete_expired(
            "cca_fulfilments",
            "expiry",
            now,
            "deleting expired cca fulfilments",
        )
        .await
    }

    async fn upsert_parcel(
        &self,
        key: &ParcelIndexKey,
        object_key: &str,
        expiry: DateTime<Utc>,
        size: u64,
    ) -> Result<UpsertedParcel, BackendError> {
        let size_i64 =
            i64::try_from(size).map_err(|_| BackendError::internal("parcel size overflow"))?;
        let sequence = self.next_sequence().await?;
        let update = doc! { "$set": {
            "pg_id": &key.pg_id,
            "recipient_id": &key.recipient_id,
            "sender_id": &key.sender_id,
            "parcel_id_digest": &key.parcel_id_digest,
            "object_key": object_key,
            "expiry": date(expiry),
            "size": size_i64,
            "sequence": sequence,
        } };
        // Two first upserts of one key at once: one inserts, the other finds the `_id` taken
        // (E11000) and, tried again, replaces it.
        let mut tries = 0;
        let previous = loop {
            let written = self
                .collection("parcel_index")
                .find_one_and_update(doc! { "_id": parcel_id(key) }, update.clone())
                .upsert(true)
                .return_document(ReturnDocument::Before)
                .await;
            match written {
                Ok(previous) => break previous,
                Err(error) if is_duplicate(&error) && tries < 3 => tries += 1,
                Err(error) => return Err(mongo("indexing a parcel")(error)),
            }
        };
        let previous_object_key = previous
            .map(|document| get_str(&document, "object_key"))
            .transpose()?;
        let entry = ParcelIndexEntry {
            key: key.clone(),
            object_key: object_key.to_owned(),
            expiry,
            size,
            sequence,
        };
        Ok(UpsertedParcel::new(entry, previous_object_key))
    }

    async fn list_parcels_for_gateway(
        &self,
        pg_id: &str,
        now: DateTime<Utc>,
        after_sequence: i64,
        limit: usize,
    ) -> Result<Vec<ParcelIndexEntry>, BackendError> {
        let found = self
            .find_all(
                "parcel_index",
                doc! {
                    "pg_id": pg_id,
                    "sequence": { "$gt": after_sequence },
                    "expiry": { "$gt": date(now) },
                },
                doc! { "sequence": 1 },
                limit_of(limit),
                "listing parcels",
            )
            .await?;
        found.iter().map(parcel_of).collect()
    }

    async fn get_parcel(
        &self,
        key: &ParcelIndexKey,
    ) -> Result<Option<ParcelIndexEntry>, BackendError> {
        let found = self
            .collection("parcel_index")
            .find_one(doc! { "_id": parcel_id(key) })
            .await
            .map_err(mongo("reading a parcel entry"))?;
        found.as_ref().map(parcel_of).transpose()
    }

    async fn delete_parcel(&self, key: &ParcelIndexKey) -> Result<Option<String>, BackendError> {
        let deleted = self
            .collection("parcel_index")
            .find_one_and_delete(doc! { "_id": parcel_id(key) })
            .await
            .map_err(mongo("deleting a parcel entry"))?;
        deleted
            .map(|document| get_str(&document, "object_key"))
            .transpose()
    }

    async fn delete_parcel_if_sequence(
        &self,
        key: &ParcelIndexKey,
        sequence: i64,
    ) -> Result<bool, BackendError> {
        let deleted = self
            .collection("parcel_index")
            .delete_one(doc! { "_id": parcel_id(key), "sequence": sequence })
            .await
            .map_err(mongo("deleting a parcel entry"))?;
        Ok(deleted.deleted_count == 1)
    }

    async fn delete_expired_parcels(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<String>, BackendError> {
        let found = self
            .find_all(
                "parcel_index",
                doc! { "expiry": { "$lte": date(now) } },
                doc! { "expiry": 1 },
                limit_of(limit),
                "listing expired parcels",
            )
            .await?;
        self.delete_entries_found(&found, "deleting expired parcels")
            .await
    }

    async fn parcel_object_keys_in_use(
        &self,
        object_keys: &[String],
    ) -> Result<HashSet<String>, BackendError> {
        let documents: Vec<Document> = self
            .collection("parcel_index")
            .find(doc! { "object_key": { "$in": object_keys } })
            .projection(doc! { "object_key": 1 })
            .await
            .map_err(mongo("finding the bodies in use"))?
            .try_collect()
            .await
            .map_err(mongo("finding the bodies in use"))?;
        documents
            .iter()
            .map(|document| get_str(document, "object_key"))
            .collect()
    }

    async fn health_check(&self) -> Result<(), BackendError> {
        self.db
            .run_command(doc! { "ping": 1 })
            .await
            .map_err(mongo("metadata health check"))?;
        Ok(())
    }
}

mod private_gateways;

#[cfg(test)]
pub(crate) mod tests;
