//! The private gateway registry on SQL databases (table `private_gateways`, migration 0003).
//! Times are Unix milliseconds; `CASE` rather than `MAX`/`GREATEST`, whose handling of NULL
//! differs between SQLite and PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Row, Type};

use super::{page, sql, Dialect, SqlMetadataStore};
use crate::backends::error::BackendError;
use crate::backends::metadata::private_gateways::{
    PrivateGatewayRecord, PrivateGatewayStore, StoredTotals,
};
use crate::backends::metadata::ParcelCollection;
use crate::backends::sqlite::{from_millis, to_millis};

const COLUMNS: &str = "id, registered_at, certificate_expiry, last_seen, revoked_at";

fn optional_time(millis: Option<i64>) -> Result<Option<DateTime<Utc>>, BackendError> {
    millis.map(from_millis).transpose()
}

fn record_of<R: Row>(row: &R) -> Result<PrivateGatewayRecord, BackendError>
where
    for<'a> &'a str: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<i64>: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(PrivateGatewayRecord {
        id: row.get("id"),
        registered_at: optional_time(row.get("registered_at"))?,
        certificate_expiry: optional_time(row.get("certificate_expiry"))?,
        last_seen: optional_time(row.get("last_seen"))?,
        revoked_at: optional_time(row.get("revoked_at"))?,
    })
}

fn count(value: i64, what: &str) -> Result<u64, BackendError> {
    u64::try_from(value).map_err(|_| BackendError::corrupt(format!("negative {what}")))
}

#[async_trait]
impl<DB> PrivateGatewayStore for SqlMetadataStore<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Decode<'q, DB> + Type<DB>,
    for<'a> &'a str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
{
    async fn record_registration(
        &self,
        pg_id: &str,
        certificate_expiry: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), BackendError> {
        sqlx::query(
            "INSERT INTO private_gateways (id, registered_at, certificate_expiry, last_seen)
             VALUES ($1, $2, $3, $2)
             ON CONFLICT (id) DO UPDATE SET
                 registered_at = CASE WHEN private_gateways.registered_at IS NULL
                     THEN excluded.registered_at ELSE private_gateways.registered_at END,
                 certificate_expiry = CASE WHEN private_gateways.certificate_expiry IS NULL
                     OR private_gateways.certificate_expiry < excluded.certificate_expiry
                     THEN excluded.certificate_expiry ELSE private_gateways.certificate_expiry END,
                 last_seen = CASE WHEN private_gateways.last_seen IS NULL
                     OR private_gateways.last_seen < excluded.last_seen
                     THEN excluded.last_seen ELSE private_gateways.last_seen END",
        )
        .bind(pg_id)
        .bind(to_millis(now))
        .bind(to_millis(certificate_expiry))
        .execute(&self.pool)
        .await
        .map_err(sql("recording a registration"))?;
        Ok(())
    }

    async fn record_seen(&self, seen: &[(String, DateTime<Utc>)]) -> Result<(), BackendError> {
        for (pg_id, at) in seen {
            sqlx::query(
                "INSERT INTO private_gateways (id, last_seen) VALUES ($1, $2)
                 ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen
                 WHERE private_gateways.last_seen IS NULL
                     OR private_gateways.last_seen < excluded.last_seen",
            )
            .bind(pg_id.as_str())
            .bind(to_millis(*at))
            .execute(&self.pool)
            .await
            .map_err(sql("recording when private gateways were seen"))?;
        }
        Ok(())
    }

    async fn revoke_private_gateway(
        &self,
        pg_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, BackendError> {
        let result = sqlx::query(
            "INSERT INTO private_gateways (id, revoked_at) VALUES ($1, $2)
             ON CONFLICT (id) DO UPDATE SET revoked_at = excluded.revoked_at
             WHERE private_gateways.revoked_at IS NULL",
        )
        .bind(pg_id)
        .bind(to_millis(now))
        .execute(&self.pool)
        .await
        .map_err(sql("revoking a private gateway"))?;
        Ok(DB::rows_affected(&result) == 1)
    }

    async fn revoked_private_gateways(&self) -> Result<Vec<String>, BackendError> {
        sqlx::query_scalar("SELECT id FROM private_gateways WHERE revoked_at IS NOT NULL")
            .fetch_all(&self.pool)
            .await
            .map_err(sql("listing revoked private gateways"))
    }

    async fn get_private_gateway(
        &self,
        pg_id: &str,
    ) -> Result<Option<PrivateGatewayRecord>, BackendError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM private_gateways WHERE id = $1"
        ))
        .bind(pg_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(sql("reading a private gateway"))?;
        row.as_ref().map(record_of).transpose()
    }

    async fn list_private_gateways(
        &self,
        after_id: &str,
        limit: usize,
    ) -> Result<Vec<PrivateGatewayRecord>, BackendError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM private_gateways WHERE id > $1 ORDER BY id LIMIT $2"
        ))
        .bind(after_id)
        .bind(page(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(sql("listing private gateways"))?;
        rows.iter().map(record_of).collect()
    }

    async fn stored_for_gateway(
        &self,
        pg_id: &str,
        now: DateTime<Utc>,
    ) -> Result<StoredTotals, BackendError> {
        // PostgreSQL sums BIGINTs as NUMERIC: cast back so both drivers decode an i64.
        let row = sqlx::query(
            "SELECT COUNT(*) AS parcels, CAST(COALESCE(SUM(size), 0) AS BIGINT) AS bytes
             FROM parcel_index WHERE pg_id = $1 AND expiry > $2",
        )
        .bind(pg_id)
        .bind(to_millis(now))
        .fetch_one(&self.pool)
        .await
        .map_err(sql("counting what is stored for a private gateway"))?;
        Ok(StoredTotals {
            parcels: count(row.get("parcels"), "parcel count")?,
            bytes: count(row.get("bytes"), "byte count")?,
        })
    }

    async fn pending_internet_bound(
        &self,
        pg_id: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, BackendError> {
        let pending: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM parcel_collections
             WHERE pg_id = $1 AND pending = 1 AND expiry > $2",
        )
        .bind(pg_id)
        .bind(to_millis(now))
        .fetch_one(&self.pool)
        .await
        .map_err(sql("counting pending internet-bound parcels"))?;
        count(pending, "pending count")
    }

    async fn settle_internet_bound(
        &self,
        collection: &ParcelCollection,
    ) -> Result<(), BackendError> {
        sqlx::query(
            "INSERT INTO parcel_collections
                 (parcel_id, pg_id, recipient_id, sender_id, expiry, pending)
             VALUES ($1, $2, $3, $4, $5, 0)
             ON CONFLICT (parcel_id, pg_id, recipient_id, sender_id)
             DO UPDATE SET pending = 0 WHERE parcel_collections.pending = 1",
        )
        .bind(&collection.parcel_id)
        .bind(&collection.pg_id)
        .bind(&collection.recipient_id)
        .bind(&collection.sender_id)
        .bind(to_millis(collection.expiry))
        .execute(&self.pool)
        .await
        .map_err(sql("settling an internet-bound parcel"))?;
        Ok(())
    }

    async fn delete_parcels_for_gateway(
        &self,
        pg_id: &str,
        limit: usize,
    ) -> Result<Vec<String>, BackendError> {
        sqlx::query_scalar(
            "DELETE FROM parcel_index WHERE sequence IN (
                 SELECT sequence FROM parcel_index WHERE pg_id = $1 ORDER BY sequence LIMIT $2)
             RETURNING object_key",
        )
        .bind(pg_id)
        .bind(page(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(sql("deleting the parcels of a private gateway"))
    }
}
