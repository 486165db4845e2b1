//! The metadata store on SQL databases: one implementation of [`MetadataStore`] for SQLite and
//! PostgreSQL, whose statements are the same but for the few a [`Dialect`] supplies. Placeholders
//! are `$N`, which both drivers read. Parcel index writes differ more (SQLite group-commits
//! them on its one writer, PostgreSQL runs each as one statement), so each database brings its
//! own [`IndexWrites`].

use std::collections::HashSet;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Row, Type};

use super::{
    MetadataStore, OwnCertificate, ParcelCollection, ParcelIndexEntry, ParcelIndexKey,
    PeerSessionKey, SessionKeyRecord, UpsertedParcel, MAX_PAGE,
};
use crate::backends::error::BackendError;
use crate::backends::sqlite::{from_millis, to_millis};

/// What differs between the databases outside the parcel index writes.
pub trait Dialect: Database {
    /// A column that orders a table's rows by insertion (ties of equal timestamps).
    const INSERTION_ORDER: &'static str;

    fn rows_affected(result: &Self::QueryResult) -> u64;
}

impl Dialect for sqlx::Sqlite {
    const INSERTION_ORDER: &'static str = "rowid";

    fn rows_affected(result: &sqlx::sqlite::SqliteQueryResult) -> u64 {
        result.rows_affected()
    }
}

impl Dialect for sqlx::Postgres {
    const INSERTION_ORDER: &'static str = "inserted";

    fn rows_affected(result: &sqlx::postgres::PgQueryResult) -> u64 {
        result.rows_affected()
    }
}

/// An upsert's new sequence number, and the object key of the entry it replaced, if any.
/// Keys per `IN (…)` list, far below either engine's limit on bound parameters.
const KEYS_PER_QUERY: usize = 256;

pub type IndexUpsert = (i64, Option<String>);

/// Writes of the parcel index, each answered once durable.
#[async_trait]
pub trait IndexWrites: Send + Sync {
    /// Inserts or replaces the entry under a new sequence number; returns that number and the
    /// object key of the entry it replaced, if any.
    async fn upsert(
        &self,
        key: &ParcelIndexKey,
        object_key: &str,
        expiry: DateTime<Utc>,
        size: u64,
    ) -> Result<IndexUpsert, BackendError>;

    /// Deletes the entry, or with `sequence_opt` only the entry of that sequence (one not
    /// replaced since it was read); returns the deleted entry's object key.
    async fn delete(
        &self,
        key: &ParcelIndexKey,
        sequence_opt: Option<i64>,
    ) -> Result<Option<String>, BackendError>;
}

/// A [`MetadataStore`] in a SQL database; see [`super::SqliteMetadataStore`] and
/// [`super::PostgresMetadataStore`] for how each is opened.
pub struct SqlMetadataStore<DB: Database> {
    pool: Pool<DB>,
    index: Box<dyn IndexWrites>,
}

impl<DB: Database> SqlMetadataStore<DB> {
    pub(super) fn new(pool: Pool<DB>, index: Box<dyn IndexWrites>) -> Self {
        SqlMetadataStore { pool, index }
    }
}

fn sql(context: &'static str) -> impl FnOnce(sqlx::Error) -> BackendError {
    move |e| BackendError::from_sqlx(context, e)
}

fn page(limit: usize) -> i64 {
    i64::try_from(limit.min(MAX_PAGE)).unwrap_or(0)
}

fn certificate_of<R: Row>(row: &R) -> Result<OwnCertificate, BackendError>
where
    for<'a> &'a str: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(OwnCertificate {
        subject_id: row.get("subject_id"),
        issuer_id: row.get("issuer_id"),
        der: row.get("der"),
        not_after: from_millis(row.get("not_after"))?,
    })
}

fn session_key_of<R: Row>(row: &R) -> Result<SessionKeyRecord, BackendError>
where
    for<'a> &'a str: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(SessionKeyRecord {
        key_id: row.get("key_id"),
        owner_node_id: row.get("owner_node_id"),
        peer_id: row.get("peer_id"),
        created_at: from_millis(row.get("created_at"))?,
        sealed_key: row.get("sealed_key"),
    })
}

fn parcel_of<R: Row>(row: &R) -> Result<ParcelIndexEntry, BackendError>
where
    for<'a> &'a str: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(ParcelIndexEntry {
        key: ParcelIndexKey {
            pg_id: row.get("pg_id"),
            recipient_id: row.get("recipient_id"),
            sender_id: row.get("sender_id"),
            parcel_id_digest: row.get("parcel_id_digest"),
        },
        object_key: row.get("object_key"),
        expiry: from_millis(row.get("expiry"))?,
        size: u64::try_from(row.get::<i64, _>("size"))
            .map_err(|_| BackendError::corrupt("negative parcel size"))?,
        sequence: row.get("sequence"),
    })
}

#[path = "sql_private_gateways.rs"]
mod private_gateways;

const PARCEL_COLUMNS: &str =
    "sequence, pg_id, recipient_id, sender_id, parcel_id_digest, object_key, expiry, size";

// sqlx has no bound for "a database that binds and reads these types": each type the
// statements use is named here, and both engines satisfy them.
#[async_trait]
impl<DB> MetadataStore for SqlMetadataStore<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> &'q [u8]: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB>,
    for<'q> Vec<u8>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'a> &'a str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
{
    async fn get_config(&self, key: &str) -> Result<Option<String>, BackendError> {
        sqlx::query_scalar("SELECT value FROM config_items WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(sql("reading a config item"))
    }

    async fn set_config(&self, key: &str, value: &str) -> Result<(), BackendError> {
        sqlx::query(
            "INSERT INTO config_items (key, value) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await
        .map_err(sql("writing a config item"))?;
        Ok(())
    }

    async fn save_certificate(&self, certificate: &OwnCertificate) -> Result<(), BackendError> {
        sqlx::query(
            "INSERT INTO own_certificates (subject_id, issuer_id, der, not_after)
             VALUES ($1, $2, $3, $4) ON CONFLICT (der) DO NOTHING",
        )
        .bind(&certificate.subject_id)
        .bind(&certificate.issuer_id)
        .bind(&certificate.der)
        .bind(to_millis(certificate.not_after))
        .execute(&self.pool)
        .await
        .map_err(sql("saving a certificate"))?;
        Ok(())
    }

    async fn valid_certificates(
        &self,
        subject_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<OwnCertificate>, BackendError> {
        let rows = sqlx::query(
            "SELECT subject_id, issuer_id, der, not_after FROM own_certificates
             WHERE subject_id = $1 AND not_after > $2 ORDER BY not_after DESC, id DESC LIMIT $3",
        )
        .bind(subject_id)
        .bind(to_millis(now))
        .bind(page(MAX_PAGE))
        .fetch_all(&self.pool)
        .await
        .map_err(sql("listing certificates"))?;
        rows.iter().map(certificate_of).collect()
    }

    async fn delete_expired_certificates(&self, now: DateTime<Utc>) -> Result<u64, BackendError> {
        let result = sqlx::query("DELETE FROM own_certificates WHERE not_after <= $1")
            .bind(to_millis(now))
            .execute(&self.pool)
            .await
            .map_err(sql("deleting expired certificates"))?;
        Ok(DB::rows_affected(&result))
    }

    async fn save_identity_key(
        &self,
        node_id: &str,
        sealed_key: &[u8],
    ) -> Result<(), BackendError> {
        sqlx::query(
            "INSERT INTO identity_keys (node_id, sealed_key) VALUES ($1, $2)
             ON CONFLICT (node_id) DO UPDATE SET sealed_key = excluded.sealed_key",
        )
        .bind(node_id)
        .bind(sealed_key)
        .execute(&self.pool)
        .await
        .map_err(sql("saving an identity key"))?;
        Ok(())
    }

    async fn get_identity_key(&self, node_id: &str) -> Result<Option<Vec<u8>>, BackendError> {
        sqlx::query_scalar("SELECT sealed_key FROM identity_keys WHERE node_id = $1")
            .bind(node_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(sql("reading an identity key"))
    }

    async fn save_session_key(&self, record: &SessionKeyRecord) -> Result<(), BackendError> {
        sqlx::query(
            "INSERT INTO session_keys (key_id, owner_node_id, peer_id, created_at, sealed_key)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&record.key_id)
        .bind(&record.owner_node_id)
        .bind(&record.peer_id)
        .bind(to_millis(record.created_at))
        .bind(&record.sealed_key)
        .execute(&self.pool)
        .await
        .map_err(sql("saving a session key"))?;
        Ok(())
    }

    async fn get_session_key(
        &self,
        key_id: &[u8],
    ) -> Result<Option<SessionKeyRecord>, BackendError> {
        let row = sqlx::query("SELECT * FROM session_keys WHERE key_id = $1")
            .bind(key_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(sql("reading a session key"))?;
        row.as_ref().map(session_key_of).transpose()
    }

    async fn latest_unbound_session_key(
        &self,
        owner_node_id: &str,
    ) -> Result<Option<SessionKeyRecord>, BackendError> {
        let row = sqlx::query(&format!(
            "SELECT * FROM session_keys WHERE owner_node_id = $1 AND peer_id IS NULL
             ORDER BY created_at DESC, {} DESC LIMIT 1",
            DB::INSERTION_ORDER
        ))
        .bind(owner_node_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(sql("reading the unbound session key"))?;
        row.as_ref().map(session_key_of).transpose()
    }

    async fn delete_session_keys_older_than(
        &self,
        cutoff: DateTime<Utc>,
    ) -> Result<u64, BackendError> {
        // Null-safe equality: the unbound keys form one group per owner.
        let result = sqlx::query(
            "DELETE FROM session_keys AS k WHERE k.created_at < $1 AND k.created_at < (
                 SELECT MAX(n.created_at) FROM session_keys AS n
                 WHERE n.owner_node_id = k.owner_node_id AND n.peer_id IS NOT DISTINCT FROM k.peer_id)",
        )
        .bind(to_millis(cutoff))
        .execute(&self.pool)
        .await
        .map_err(sql("deleting old session keys"))?;
        Ok(DB::rows_affected(&result))
    }

    async fn save_peer_session_key_if_newer(
        &self,
        key: &PeerSessionKey,
    ) -> Result<bool, BackendError> {
        let result = sqlx::query(
            "INSERT INTO peer_session_keys (peer_id, key_id, spki_der, creation_date)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (peer_id) DO UPDATE SET key_id = excluded.key_id,
                 spki_der = excluded.spki_der, creation_date = excluded.creation_date
             WHERE excluded.creation_date > peer_session_keys.creation_date",
        )
        .bind(&key.peer_id)
        .bind(&key.key_id)
        .bind(&key.spki_der)
        .bind(to_millis(key.creation_date))
        .execute(&self.pool)
        .await
        .map_err(sql("saving a peer session key"))?;
        Ok(DB::rows_affected(&result) == 1)
    }

    async fn get_peer_session_key(
        &self,
        peer_id: &str,
    ) -> Result<Option<PeerSessionKey>, BackendError> {
        let row = sqlx::query("SELECT * FROM peer_session_keys WHERE peer_id = $1")
            .bind(peer_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(sql("reading a peer session key"))?;
        row.map(|row| {
            Ok(PeerSessionKey {
                peer_id: row.get("peer_id"),
                key_id: row.get("key_id"),
                spki_der: row.get("spki_der"),
                creation_date: from_millis(row.get("creation_date"))?,
            })
        })
        .transpose()
    }

    async fn record_parcel_collection(
        &self,
        collection: &ParcelCollection,
    ) -> Result<bool, BackendError> {
        let result = sqlx::query(
            "INSERT INTO parcel_collections
                 (parcel_id, pg_id, recipient_id, sender_id, expiry, pending)
             VALUES ($1, $2, $3, $4, $5, 1) ON CONFLICT DO NOTHING",
        )
        .bind(&collection.parcel_id)
        .bind(&collection.pg_id)
        .bind(&collection.recipient_id)
        .bind(&collection.sender_id)
        .bind(to_millis(collection.expiry))
        .execute(&self.pool)
        .await
        .map_err(sql("recording a parcel collection"))?;
        Ok(DB::rows_affected(&result) == 1)
    }

    async fn is_parcel_collected(
        &self,
        collection: &ParcelCollection,
    ) -> Result<bool, BackendError> {
        let row = sqlx::query(
            "SELECT 1 FROM parcel_collections
             WHERE parcel_id = $1 AND pg_id = $2 AND recipient_id = $3 AND sender_id = $4",
        )
        .bind(&collection.parcel_id)
        .bind(&collection.pg_id)
        .bind(&collection.recipient_id)
        .bind(&collection.sender_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(sql("looking up a parcel collection"))?;
        Ok(row.is_some())
    }

    async fn parcel_collections_for_gateway(
        &self,
        pg_id: &str,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<ParcelCollection>, BackendError> {
        let rows = sqlx::query(&format!(
            "SELECT * FROM parcel_collections WHERE pg_id = $1 AND expiry > $2
             ORDER BY expiry, {} LIMIT $3",
            DB::INSERTION_ORDER
        ))
        .bind(pg_id)
        .bind(to_millis(now))
        .bind(page(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(sql("listing parcel collections"))?;
        rows.into_iter()
            .map(|row| {
                Ok(ParcelCollection {
                    parcel_id: row.get("parcel_id"),
                    pg_id: row.get("pg_id"),
                    recipient_id: row.get("recipient_id"),
                    sender_id: row.get("sender_id"),
                    expiry: from_millis(row.get("expiry"))?,
                })
            })
            .collect()
    }

    async fn delete_expired_parcel_collections(
        &self,
        now: DateTime<Utc>,
    ) -> Result<u64, BackendError> {
        let result = sqlx::query("DELETE FROM parcel_collections WHERE expiry <= $1")
            .bind(to_millis(now))
            .execute(&self.pool)
            .await
            .map_err(sql("deleting expired parcel collections"))?;
        Ok(DB::rows_affected(&result))
    }

    async fn record_cca_fulfilment(
        &self,
        pg_id: &str,
        cca_id: &str,
        expiry: DateTime<Utc>,
    ) -> Result<bool, BackendError> {
        let result = sqlx::query(
            "INSERT INTO cca_fulfilments (pg_id, cca_id, expiry) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
        )
        .bind(pg_id)
        .bind(cca_id)
        .bind(to_millis(expiry))
        .execute(&self.pool)
        .await
        .map_err(sql("recording a cca fulfilment"))?;
        Ok(DB::rows_affected(&result) == 1)
    }

    async fn delete_expired_cca_fulfilments(
        &self,
        now: DateTime<Utc>,
    ) -> Result<u64, BackendError> {
        let result = sqlx::query("DELETE FROM cca_fulfilments WHERE expiry <= $1")
            .bind(to_millis(now))
            .execute(&self.pool)
            .await
            .map_err(sql("deleting expired cca fulfilments"))?;
        Ok(DB::rows_affected(&result))
    }

    async fn upsert_parcel(
        &self,
        key: &ParcelIndexKey,
        object_key: &str,
        expiry: DateTime<Utc>,
        size: u64,
    ) -> Result<UpsertedParcel, BackendError> {
        let (sequence, previous) = self.index.upsert(key, object_key, expiry, size).await?;
        let entry = ParcelIndexEntry {
            key: key.clone(),
            object_key: object_key.to_string(),
            expiry,
            size,
            sequence,
        };
        Ok(UpsertedParcel::new(entry, previous))
    }

    async fn list_parcels_for_gateway(
        &self,
        pg_id: &str,
        now: DateTime<Utc>,
        after_sequence: i64,
        limit: usize,
    ) -> Result<Vec<ParcelIndexEntry>, BackendError> {
        let rows = sqlx::query(&format!(
            "SELECT {PARCEL_COLUMNS} FROM parcel_index
             WHERE pg_id = $1 AND sequence > $2 AND expiry > $3 ORDER BY sequence LIMIT $4"
        ))
        .bind(pg_id)
        .bind(after_sequence)
        .bind(to_millis(now))
        .bind(page(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(sql("listing parcels"))?;
        rows.iter().map(parcel_of).collect()
    }

    async fn get_parcel(
        &self,
        key: &ParcelIndexKey,
    ) -> Result<Option<ParcelIndexEntry>, BackendError> {
        let row = sqlx::query(&format!(
            "SELECT {PARCEL_COLUMNS} FROM parcel_index WHERE pg_id = $1 AND recipient_id = $2
             AND sender_id = $3 AND parcel_id_digest = $4"
        ))
        .bind(&key.pg_id)
        .bind(&key.recipient_id)
        .bind(&key.sender_id)
        .bind(&key.parcel_id_digest)
        .fetch_optional(&self.pool)
        .await
        .map_err(sql("reading a parcel entry"))?;
        row.as_ref().map(parcel_of).transpose()
    }

    async fn delete_parcel(&self, key: &ParcelIndexKey) -> Result<Option<String>, BackendError> {
        self.index.delete(key, None).await
    }

    async fn delete_parcel_if_sequence(
        &self,
        key: &ParcelIndexKey,
        sequence: i64,
    ) -> Result<bool, BackendError> {
        Ok(self.index.delete(key, Some(sequence)).await?.is_some())
    }

    async fn delete_expired_parcels(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<String>, BackendError> {
        sqlx::query_scalar(
            "DELETE FROM parcel_index WHERE sequence IN (
                 SELECT sequence FROM parcel_index WHERE expiry <= $1 ORDER BY expiry LIMIT $2)
             RETURNING object_key",
        )
        .bind(to_millis(now))
        .bind(page(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(sql("deleting expired parcels"))
    }

    async fn parcel_object_keys_in_use(
        &self,
        object_keys: &[String],
    ) -> Result<HashSet<String>, BackendError> {
        let mut in_use = HashSet::new();
        for chunk in object_keys.chunks(KEYS_PER_QUERY) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|n| format!("${n}")).collect();
            let statement = format!(
                "SELECT object_key FROM parcel_index WHERE object_key IN ({})",
                placeholders.join(", ")
            );
            let mut query = sqlx::query_scalar::<DB, String>(&statement);
            for key in chunk {
                query = query.bind(key.as_str());
            }
            in_use.extend(
                query
                    .fetch_all(&self.pool)
                    .await
                    .map_err(sql("finding the bodies in use"))?,
            );
        }
        Ok(in_use)
    }

    async fn health_check(&self) -> Result<(), BackendError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(sql("metadata health check"))?;
        Ok(())
    }
}
