//! Small objects of the local store, kept in one SQLite file instead of one file each.
//!
//! Most parcels are a few KiB. A file per parcel costs an inode allocation, a directory entry and
//! a flush on the way in, and an unlink on the way out; under load that kernel work was most of
//! the gateway's CPU. Objects up to [`INLINE_LIMIT`] therefore live in a table of
//! `<root>/.small.sqlite` (hidden, so key listings never see it), written with group commit: one
//! task runs every waiting write in one fsync'd transaction and answers each caller after it, so
//! `put` still returns only once the object is durable. Garage inlines small objects in its
//! metadata for the same reason.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use bytes::Bytes;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use crate::backends::error::BackendError;
use crate::backends::sqlite::{
    finish_transaction, next_batch, open_pool, Checkpointing, WriterConnection,
};
use crate::backends::sqlite_checkpointer::Checkpointer;

/// Largest object kept in the table; larger ones are files.
pub const INLINE_LIMIT: usize = 64 * 1024;
/// File name of the table's database, under the store's root.
pub const DATABASE_NAME: &str = ".small.sqlite";
/// Writes waiting for the writer task at most; callers wait past it.
const QUEUE_CAPACITY: usize = 4096;
/// Most writes in one transaction.
const MAX_BATCH: usize = 512;
/// Readers beside the one writer (WAL).
const POOL_SIZE: u32 = 4;
/// Keys per `get_many` query (far below SQLite's variable limit).
const KEYS_PER_QUERY: usize = 256;

enum SmallOp {
    Put {
        key: String,
        body: Bytes,
        reply: oneshot::Sender<Result<(), BackendError>>,
    },
    Delete {
        key: String,
        reply: oneshot::Sender<Result<bool, BackendError>>,
    },
}

/// The table of small objects.
#[derive(Debug)]
pub struct SmallObjects {
    pool: SqlitePool,
    sender: mpsc::Sender<SmallOp>,
    _checkpointer: Checkpointer,
}

impl SmallObjects {
    /// Opens (creating if needed) the table under `root` and starts its writer task.
    pub async fn open(root: &Path) -> Result<Self, BackendError> {
        let pool = open_pool(
            &root.join(DATABASE_NAME),
            POOL_SIZE,
            Checkpointing::Background,
        )
        .await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS objects (key TEXT PRIMARY KEY NOT NULL, body BLOB NOT NULL)",
        )
        .execute(&pool)
        .await
        .map_err(|e| BackendError::from_sqlx("creating the small-object table", e))?;
        let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
        let (checkpointer, writer) = Checkpointer::spawn_with_writer(&pool);
        tokio::spawn(run(writer, receiver));
        Ok(SmallObjects {
            pool,
            sender,
            _checkpointer: checkpointer,
        })
    }

    pub async fn put(&self, key: &str, body: Bytes) -> Result<(), BackendError> {
        let (reply, answer) = oneshot::channel();
        let op = SmallOp::Put {
            key: key.to_owned(),
            body,
            reply,
        };
        self.sender.send(op).await.map_err(|_| writer_gone())?;
        answer.await.map_err(|_| writer_gone())?
    }

    /// Deletes the object; returns whether it was there.
    pub async fn delete(&self, key: &str) -> Result<bool, BackendError> {
        let (reply, answer) = oneshot::channel();
        let op = SmallOp::Delete {
            key: key.to_owned(),
            reply,
        };
        self.sender.send(op).await.map_err(|_| writer_gone())?;
        answer.await.map_err(|_| writer_gone())?
    }

    pub async fn get(&self, key: &str) -> Result<Option<Bytes>, BackendError> {
        let body: Option<Vec<u8>> = sqlx::query_scalar("SELECT body FROM objects WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| BackendError::from_sqlx("reading a small object", e))?;
        Ok(body.map(Bytes::from))
    }

    /// The objects under `keys` that the table holds, by key: one query per
    /// [`KEYS_PER_QUERY`] keys instead of one per key.
    pub async fn get_many(&self, keys: &[String]) -> Result<HashMap<String, Bytes>, BackendError> {
        let mut found = HashMap::with_capacity(keys.len());
        for chunk in keys.chunks(KEYS_PER_QUERY) {
            let mut query =
                QueryBuilder::<Sqlite>::new("SELECT key, body FROM objects WHERE key IN ");
            query.push_tuples(chunk, |mut row, key| {
                row.push_bind(key);
            });
            let rows: Vec<(String, Vec<u8>)> =
                query
                    .build_query_as()
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|e| BackendError::from_sqlx("reading small objects", e))?;
            found.extend(rows.into_iter().map(|(key, body)| (key, Bytes::from(body))));
        }
        Ok(found)
    }

    /// Keys starting with `prefix`, in key order, up to `limit`.
    pub async fn list(&self, prefix: &str, limit: usize) -> Result<Vec<String>, BackendError> {
        sqlx::query_scalar(
            "SELECT key FROM objects WHERE substr(key, 1, length(?1)) = ?1 ORDER BY key LIMIT ?2",
        )
        .bind(prefix)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| BackendError::from_sqlx("listing small objects", e))
    }

    pub async fn health_check(&self) -> Result<(), BackendError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(|e| BackendError::from_sqlx("small-object health check", e))
    }
}

fn writer_gone() -> BackendError {
    BackendError::unavailable("the small-object writer stopped")
}

async fn run(mut writer: WriterConnection, mut receiver: mpsc::Receiver<SmallOp>) {
    while let Some(batch) = next_batch(&mut receiver, MAX_BATCH).await {
        commit(&mut writer, batch).await;
        writer.copy_requested_tail().await;
    }
}

/// Rows per multi-row statement: sqlx runs SQLite on a worker thread and every statement is a
/// round trip to it, so a batch is a handful of statements, not one per object.
const ROWS_PER_STATEMENT: usize = 64;

/// Runs the batch in one transaction; every caller gets its result once the commit succeeded,
/// or the error that stopped the batch.
async fn commit(writer: &mut WriterConnection, batch: Vec<SmallOp>) {
    let committed = match writer.begin_immediate().await {
        Ok(connection) => {
            let written = write_all(connection, &batch).await;
            finish_transaction(connection, written).await
        }
        Err(error) => Err(error),
    };
    let deleted = match committed {
        Ok(deleted) => deleted,
        Err(error) => return fail_all(batch, &error),
    };
    for (op, was_there) in batch.into_iter().zip(deleted) {
        match op {
            SmallOp::Put { reply, .. } => {
                let _ = reply.send(Ok(()));
            }
            SmallOp::Delete { reply, .. } => {
                let _ = reply.send(Ok(was_there));
            }
        }
    }
}

/// Applies the batch in order, a run of puts or deletes at a time; returns, per op, whether a
/// delete found its object (false for puts).
async fn write_all(
    connection: &mut SqliteConnection,
    batch: &[SmallOp],
) -> Result<Vec<bool>, BackendError> {
    let mut results = Vec::with_capacity(batch.len());
    let mut start = 0;
    while start < batch.len() {
        let is_put = matches!(batch[start], SmallOp::Put { .. });
        let mut end = start;
        while end < batch.len()
            && end - start < ROWS_PER_STATEMENT
            && matches!(batch[end], SmallOp::Put { .. }) == is_put
        {
            end += 1;
        }
        let chunk = &batch[start..end];
        if is_put {
            // Rows apply in order, so a key put twice in one chunk ends with the later body.
            let mut query =
                QueryBuilder::<Sqlite>::new("INSERT OR REPLACE INTO objects (key, body) ");
            query.push_values(chunk, |mut row, op| {
                if let SmallOp::Put { key, body, .. } = op {
                    row.push_bind(key).push_bind(&body[..]);
                }
            });
            query
                .build()
                .execute(&mut *connection)
                .await
                .map_err(|e| BackendError::from_sqlx("writing small objects", e))?;
            results.extend(chunk.iter().map(|_| false));
        } else {
            let mut query = QueryBuilder::<Sqlite>::new("DELETE FROM objects WHERE key IN ");
            query.push_tuples(chunk, |mut row, op| {
                if let SmallOp::Delete { key, .. } = op {
                    row.push_bind(key);
                }
            });
            query.push(" RETURNING key");
            let deleted: HashSet<String> = query
                .build_query_scalar::<String>()
                .fetch_all(&mut *connection)
                .await
                .map_err(|e| BackendError::from_sqlx("deleting small objects", e))?
                .into_iter()
                .collect();
            results.extend(chunk.iter().map(|op| match op {
                SmallOp::Delete { key, .. } => deleted.contains(key),
                SmallOp::Put { .. } => false,
            }));
        }
        start = end;
    }
    Ok(results)
}

fn fail_all(batch: Vec<SmallOp>, error: &BackendError) {
    tracing::error!(%error, writes = batch.len(), "small-object batch failed");
    for op in batch {
        match op {
            SmallOp::Put { reply, .. } => {
                let _ = reply.send(Err(error.clone()));
            }
            SmallOp::Delete { reply, .. } => {
                let _ = reply.send(Err(error.clone()));
            }
        }
    }
}
