//! Small bodies in PostgreSQL, in a `small_objects` table of the metadata database; a row with
//! a null body is a large-body marker.

use std::collections::HashMap;

use async_trait::async_trait;
use bytes::Bytes;
use sqlx::{PgPool, Row as _};

use super::inline::{prefix_end, Row, RowKind, SmallTable};
use crate::backends::error::BackendError;
use crate::backends::metadata::postgres::connect;

/// Byte order (`COLLATE "C"`), so listings sort as the bucket's and the prefix range is exact
/// whatever the database's default collation.
const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS small_objects (\
    key TEXT COLLATE \"C\" PRIMARY KEY NOT NULL, body BYTEA)";

fn sql(context: &'static str) -> impl FnOnce(sqlx::Error) -> BackendError {
    move |e| BackendError::from_sqlx(context, e)
}

/// The `small_objects` table.
pub struct PostgresSmallTable {
    pool: PgPool,
}

impl PostgresSmallTable {
    /// Connects to the database of a `postgres://` URL (tables in `schema` if given) and creates
    /// the table if needed.
    pub async fn open(url: &str, schema: Option<&str>) -> Result<Self, BackendError> {
        let pool = connect(url, schema).await?;
        sqlx::query(CREATE_TABLE)
            .execute(&pool)
            .await
            .map_err(sql("creating the small-object table"))?;
        Ok(PostgresSmallTable { pool })
    }
}

fn row_of(body: Option<Vec<u8>>) -> Row {
    match body {
        Some(body) => Row::Body(Bytes::from(body)),
        None => Row::Large,
    }
}

#[async_trait]
impl SmallTable for PostgresSmallTable {
    async fn put(&self, key: &str, row: Row) -> Result<bool, BackendError> {
        let body = match &row {
            Row::Body(body) => Some(&body[..]),
            Row::Large => None,
        };
        // Keys are new in all but rare replacements: try the plain insert first.
        let inserted = sqlx::query(
            "INSERT INTO small_objects (key, body) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(body)
        .execute(&self.pool)
        .await
        .map_err(sql("storing a small object"))?;
        if inserted.rows_affected() == 1 {
            return Ok(false);
        }
        // The CTE reads the row as it was before the upsert.
        let was_large: bool = sqlx::query_scalar(
            "WITH old AS (SELECT body IS NULL AS large FROM small_objects WHERE key = $1) \
             INSERT INTO small_objects (key, body) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET body = EXCLUDED.body \
             RETURNING COALESCE((SELECT large FROM old), FALSE)",
        )
        .bind(key)
        .bind(body)
        .fetch_one(&self.pool)
        .await
        .map_err(sql("storing a small object"))?;
        Ok(was_large)
    }

    async fn get_many(&self, keys: &[String]) -> Result<HashMap<String, Row>, BackendError> {
        let rows = sqlx::query("SELECT key, body FROM small_objects WHERE key = ANY($1)")
            .bind(keys)
            .fetch_all(&self.pool)
            .await
            .map_err(sql("reading small objects"))?;
        rows.into_iter()
            .map(|row| {
                let key: String = row.try_get("key").map_err(sql("reading a key"))?;
                let body: Option<Vec<u8>> = row.try_get("body").map_err(sql("reading a body"))?;
                Ok((key, row_of(body)))
            })
            .collect()
    }

    async fn delete(&self, key: &str) -> Result<Option<RowKind>, BackendError> {
        let large: Option<bool> =
            sqlx::query_scalar("DELETE FROM small_objects WHERE key = $1 RETURNING body IS NULL")
                .bind(key)
                .fetch_optional(&self.pool)
                .await
                .map_err(sql("deleting a small object"))?;
        Ok(large.map(|large| if large { RowKind::Large } else { RowKind::Body }))
    }

    async fn list(&self, prefix: &str, limit: usize) -> Result<Vec<String>, BackendError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = match prefix_end(prefix) {
            Some(end) => {
                sqlx::query(
                    "SELECT key FROM small_objects WHERE key >= $1 AND key < $2 \
                     ORDER BY key LIMIT $3",
                )
                .bind(prefix)
                .bind(end)
                .bind(limit)
                .fetch_all(&self.pool)
                .await
            }
            None => {
                sqlx::query("SELECT key FROM small_objects ORDER BY key LIMIT $1")
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await
            }
        }
        .map_err(sql("listing small objects"))?;
        rows.into_iter()
            .map(|row| row.try_get("key").map_err(sql("reading a key")))
            .collect()
    }

    async fn health_check(&self) -> Result<(), BackendError> {
        sqlx::query("SELECT 1 FROM small_objects LIMIT 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(sql("checking the small-object table"))?;
        Ok(())
    }
}
