//! The metadata store on PostgreSQL (`postgres://`): the statements of [`SqlMetadataStore`],
//! schema from the embedded migrations in `migrations_postgres/`.
//!
//! Every operation is one statement (autocommit). Caveat: parcel sequence numbers come from a
//! sequence, so two concurrent upserts may commit out of sequence order and a collector paging
//! by sequence can skip the lower one until its next listing from the start; collectors list
//! from the start on every (re)connection and after every `Lagged` notification.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::Postgres;

use super::sql::{IndexUpsert, IndexWrites, SqlMetadataStore};
use super::ParcelIndexKey;
use crate::backends::error::BackendError;
use crate::backends::sqlite::to_millis;

/// Connections in the pool.
const POOL_SIZE: u32 = 8;
/// How long a caller waits for a pooled connection before failing with `Unavailable`.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// A [`MetadataStore`](super::MetadataStore) in PostgreSQL.
pub type PostgresMetadataStore = SqlMetadataStore<Postgres>;

impl SqlMetadataStore<Postgres> {
    /// Connects to the database named by a `postgres://` URL and migrates it.
    pub async fn open_url(url: &str) -> Result<Self, BackendError> {
        Self::open_in_schema(url, None).await
    }

    /// Like [`Self::open_url`], with every table in `schema` (which must exist); tests use a
    /// schema each.
    pub async fn open_in_schema(url: &str, schema: Option<&str>) -> Result<Self, BackendError> {
        let pool = connect(url, schema).await?;
        sqlx::migrate!("src/backends/metadata/migrations_postgres")
            .run(&pool)
            .await
            .map_err(|e| {
                BackendError::internal(format!("migrating metadata database: {e}")).with_source(e)
            })?;
        Ok(SqlMetadataStore::new(
            pool.clone(),
            Box::new(StatementIndex { pool }),
        ))
    }
}

/// A pool on the database named by a `postgres://` URL, with every table in `schema` if given.
pub(crate) async fn connect(url: &str, schema: Option<&str>) -> Result<PgPool, BackendError> {
    let mut options = PgConnectOptions::from_str(url)
        .map_err(|e| BackendError::from_sqlx("parsing the database url", e))?;
    if let Some(schema) = schema {
        options = options.options([("search_path", schema)]);
    }
    PgPoolOptions::new()
        .max_connections(POOL_SIZE)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(|e| BackendError::from_sqlx("connecting to postgresql", e))
}

fn sql(context: &'static str) -> impl FnOnce(sqlx::Error) -> BackendError {
    move |e| BackendError::from_sqlx(context, e)
}

/// Parcel index writes as single statements: PostgreSQL commits concurrent ones side by side.
struct StatementIndex {
    pool: PgPool,
}

#[async_trait]
impl IndexWrites for StatementIndex {
    async fn upsert(
        &self,
        key: &ParcelIndexKey,
        object_key: &str,
        expiry: DateTime<Utc>,
        size: u64,
    ) -> Result<IndexUpsert, BackendError> {
        // A replaced entry takes a new sequence value, so collectors list it again. `old` reads
        // the entry in the statement's snapshot, before the upsert, for the caller to delete its
        // object (`FOR UPDATE` there would read the row this statement wrote instead).
        sqlx::query_as(
            "WITH old AS MATERIALIZED (
                 SELECT object_key FROM parcel_index WHERE pg_id = $1 AND recipient_id = $2
                 AND sender_id = $3 AND parcel_id_digest = $4
             )
             INSERT INTO parcel_index
                 (pg_id, recipient_id, sender_id, parcel_id_digest, object_key, expiry, size)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (pg_id, recipient_id, sender_id, parcel_id_digest) DO UPDATE SET
                 sequence = nextval('parcel_index_sequence'), object_key = excluded.object_key,
                 expiry = excluded.expiry, size = excluded.size
             RETURNING sequence, (SELECT object_key FROM old)",
        )
        .bind(&key.pg_id)
        .bind(&key.recipient_id)
        .bind(&key.sender_id)
        .bind(&key.parcel_id_digest)
        .bind(object_key)
        .bind(to_millis(expiry))
        .bind(i64::try_from(size).map_err(|_| BackendError::internal("parcel size overflow"))?)
        .fetch_one(&self.pool)
        .await
        .map_err(sql("indexing a parcel"))
    }

    async fn delete(
        &self,
        key: &ParcelIndexKey,
        sequence_opt: Option<i64>,
    ) -> Result<Option<String>, BackendError> {
        sqlx::query_scalar(
            "DELETE FROM parcel_index WHERE pg_id = $1 AND recipient_id = $2 AND sender_id = $3
             AND parcel_id_digest = $4 AND ($5::BIGINT IS NULL OR sequence = $5)
             RETURNING object_key",
        )
        .bind(&key.pg_id)
        .bind(&key.recipient_id)
        .bind(&key.sender_id)
        .bind(&key.parcel_id_digest)
        .bind(sequence_opt)
        .fetch_optional(&self.pool)
        .await
        .map_err(sql("deleting a parcel entry"))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    //! Runs only when `AWALA_TEST_POSTGRES_URL` is set (e.g. `postgres://postgres@127.0.0.1/test`);
    //! each test gets a schema of its own, dropped afterwards. Without it the tests are skipped
    //! on a developer's machine, but fail under CI (`CI` set), where a skip would pass unseen.
    use std::ffi::OsStr;
    use std::sync::Arc;

    use super::PostgresMetadataStore;
    use crate::backends::metadata::MetadataStore;

    /// Drops the test schema when the test ends.
    pub struct Schema {
        url: String,
        name: String,
    }

    impl Drop for Schema {
        fn drop(&mut self) {
            let (url, name) = (self.url.clone(), self.name.clone());
            crate::backends::clean_up_from_own_thread(async move {
                if let Ok(pool) = sqlx::PgPool::connect(&url).await {
                    let drop = format!("DROP SCHEMA IF EXISTS {name} CASCADE");
                    let _ = sqlx::query(&drop).execute(&pool).await;
                }
            });
        }
    }

    const URL_VARIABLE: &str = "AWALA_TEST_POSTGRES_URL";

    /// CI services set `CI` (usually to `true`); an empty value counts as unset.
    fn running_in_ci(ci: Option<&OsStr>) -> bool {
        ci.is_some_and(|value| !value.is_empty())
    }

    /// A new, empty schema on the test server (dropped with the guard), or `None` when no
    /// server is configured.
    pub(crate) async fn fresh_schema() -> Option<Schema> {
        let Ok(url) = std::env::var(URL_VARIABLE) else {
            assert!(
                !running_in_ci(std::env::var_os("CI").as_deref()),
                "CI is set but {URL_VARIABLE} is not: set it to a PostgreSQL URL (e.g. \
                 postgres://postgres@127.0.0.1:5432/test, as scripts/test.sh does) so the \
                 PostgreSQL conformance suite runs instead of being skipped"
            );
            return None;
        };
        let name = format!("awala_test_{}", uuid::Uuid::new_v4().simple());
        let pool = sqlx::PgPool::connect(&url).await.expect("connect");
        sqlx::query(&format!("CREATE SCHEMA {name}"))
            .execute(&pool)
            .await
            .expect("create schema");
        Some(Schema { url, name })
    }

    impl Schema {
        pub(crate) fn url(&self) -> &str {
            &self.url
        }

        pub(crate) fn name(&self) -> &str {
            &self.name
        }
    }

    async fn open() -> (Option<Schema>, Option<Arc<dyn MetadataStore>>) {
        let Some(schema) = fresh_schema().await else {
            return (None, None);
        };
        let store = PostgresMetadataStore::open_in_schema(schema.url(), Some(schema.name()))
            .await
            .expect("open");
        (Some(schema), Some(Arc::new(store)))
    }

    crate::metadata_conformance!(open(), optional);

    /// Runs one conformance test of this binary in a child process, with `CI` as given and no
    /// database URL.
    fn run_without_url(ci: Option<&str>) -> std::process::Output {
        let mut command = std::process::Command::new(std::env::current_exe().expect("test binary"));
        command
            .args([
                "backends::metadata::postgres::tests::config_items",
                "--exact",
                "--nocapture",
            ])
            .env_remove(URL_VARIABLE)
            .env_remove("CI");
        if let Some(ci) = ci {
            command.env("CI", ci);
        }
        command.output().expect("run the test binary")
    }

    #[test]
    fn without_a_url_the_suite_fails_under_ci_and_is_skipped_elsewhere() {
        let output = run_without_url(Some("true"));
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(!output.status.success(), "{text}");
        assert!(text.contains("set it to a PostgreSQL URL"), "{text}");

        let output = run_without_url(None);
        let text = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{text}");
        assert!(text.contains("skipped"), "{text}");
    }

    #[test]
    fn ci_means_a_non_empty_ci_variable() {
        assert!(running_in_ci(Some(OsStr::new("true"))));
        assert!(running_in_ci(Some(OsStr::new("1"))));
        assert!(!running_in_ci(Some(OsStr::new(""))));
        assert!(!running_in_ci(None));
    }
}
