//! The embedded metadata store: one SQLite file (`<data_dir>/gateway.sqlite` by default), schema
//! from the embedded migrations in `migrations/`.
//!
//! Every operation is one statement, so no transaction ever needs upgrading from reader to
//! writer (the source of `SQLITE_BUSY` under concurrency); writers queue on the busy timeout.
//! Parcel index writes, the hot path, are group-committed by [`ParcelIndexWriter`].

use std::path::Path;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Sqlite, SqlitePool};

use super::sql::{IndexUpsert, IndexWrites, SqlMetadataStore};
use super::sqlite_batch::ParcelIndexWriter;
use super::ParcelIndexKey;
use crate::backends::error::BackendError;
use crate::backends::sqlite::{open_pool, open_url, Checkpointing};
use crate::backends::sqlite_checkpointer::Checkpointer;

/// Connections in the pool: WAL lets readers run beside the one writer.
const POOL_SIZE: u32 = 4;

/// A [`MetadataStore`](super::MetadataStore) in a SQLite file.
pub type SqliteMetadataStore = SqlMetadataStore<Sqlite>;

impl SqlMetadataStore<Sqlite> {
    /// Opens (creating and migrating if needed) the database at `path`.
    pub async fn open(path: &Path) -> Result<Self, BackendError> {
        Self::migrated(open_pool(path, POOL_SIZE, Checkpointing::Background).await?).await
    }

    /// Opens the database named by a `sqlite://` URL.
    pub async fn open_url(url: &str) -> Result<Self, BackendError> {
        Self::migrated(open_url(url, POOL_SIZE, Checkpointing::Background).await?).await
    }

    async fn migrated(pool: SqlitePool) -> Result<Self, BackendError> {
        sqlx::migrate!("src/backends/metadata/migrations")
            .run(&pool)
            .await
            .map_err(|e| {
                BackendError::internal(format!("migrating metadata database: {e}")).with_source(e)
            })?;
        let (checkpointer, writer) = Checkpointer::spawn_with_writer(&pool);
        let index = GroupCommittedIndex {
            writer: ParcelIndexWriter::spawn(writer),
            _checkpointer: checkpointer,
        };
        Ok(SqlMetadataStore::new(pool, Box::new(index)))
    }
}

/// Parcel index writes through the group-committing writer, whose connection the checkpointer
/// serves (both live as long as the store).
struct GroupCommittedIndex {
    writer: ParcelIndexWriter,
    _checkpointer: Checkpointer,
}

#[async_trait]
impl IndexWrites for GroupCommittedIndex {
    async fn upsert(
        &self,
        key: &ParcelIndexKey,
        object_key: &str,
        expiry: DateTime<Utc>,
        size: u64,
    ) -> Result<IndexUpsert, BackendError> {
        self.writer.upsert(key, object_key, expiry, size).await
    }

    async fn delete(
        &self,
        key: &ParcelIndexKey,
        sequence_opt: Option<i64>,
    ) -> Result<Option<String>, BackendError> {
        self.writer.delete(key, sequence_opt).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::SqliteMetadataStore;
    use crate::backends::metadata::MetadataStore;

    async fn open() -> (tempfile::TempDir, Arc<dyn MetadataStore>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("gateway.sqlite").display());
        let store = SqliteMetadataStore::open_url(&url).await.expect("open");
        (dir, Arc::new(store))
    }

    crate::metadata_conformance!(open());

    #[tokio::test]
    async fn data_survives_reopening_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("gateway.sqlite");
        {
            let store = SqliteMetadataStore::open(&path).await.expect("open");
            store.set_config("current_id", "0a").await.expect("set");
        }
        let store = SqliteMetadataStore::open(&path)
            .await
            .expect("reopen and re-migrate");
        assert_eq!(
            store.get_config("current_id").await.expect("get"),
            Some("0a".to_string())
        );
    }
}
