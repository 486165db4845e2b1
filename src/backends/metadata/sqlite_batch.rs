//! Group commit for the parcel index of the SQLite store.
//!
//! With `synchronous=FULL` every commit costs an fsync (about 3 ms on the machines we measured),
//! and SQLite has one writer: one transaction per stored or acknowledged parcel caps the gateway
//! at a few hundred parcels a second. Instead, concurrent callers hand their write to one task
//! that runs everything waiting in a single `BEGIN IMMEDIATE … COMMIT`, then answers each caller.
//! Durability is unchanged: a caller hears back only after the commit that holds its write.
//! The queue to the task is bounded, so a burst waits (backpressure) instead of growing memory.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use tokio::sync::{mpsc, oneshot};

use super::sql::IndexUpsert;
use super::ParcelIndexKey;
use crate::backends::error::BackendError;
use crate::backends::sqlite::{finish_transaction, next_batch, to_millis, WriterConnection};

/// Writes waiting for the writer task at most; senders wait past it.
const QUEUE_CAPACITY: usize = 4096;
/// Most writes in one transaction (keeps a commit short enough not to stall readers).
const MAX_BATCH: usize = 512;

/// One write of the parcel index, with where to send its result.
enum WriteOp {
    Upsert {
        key: ParcelIndexKey,
        object_key: String,
        expiry: DateTime<Utc>,
        size: i64,
        reply: oneshot::Sender<Result<IndexUpsert, BackendError>>,
    },
    /// Deletes the entry, or with `sequence_opt` only the entry of that sequence (one not
    /// replaced since it was read).
    Delete {
        key: ParcelIndexKey,
        sequence_opt: Option<i64>,
        reply: oneshot::Sender<Result<Option<String>, BackendError>>,
    },
}

/// The handle callers use; the task ends when every handle is dropped.
#[derive(Clone)]
pub struct ParcelIndexWriter {
    sender: mpsc::Sender<WriteOp>,
}

impl ParcelIndexWriter {
    /// Starts the writer task on the current Tokio runtime.
    pub fn spawn(writer: WriterConnection) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(run(writer, receiver));
        ParcelIndexWriter { sender }
    }

    /// Inserts or replaces the entry; returns its new sequence number, and the object key of the
    /// entry it replaced, once committed.
    pub async fn upsert(
        &self,
        key: &ParcelIndexKey,
        object_key: &str,
        expiry: DateTime<Utc>,
        size: u64,
    ) -> Result<IndexUpsert, BackendError> {
        let size =
            i64::try_from(size).map_err(|_| BackendError::internal("parcel size overflow"))?;
        let (reply, answer) = oneshot::channel();
        self.submit(WriteOp::Upsert {
            key: key.clone(),
            object_key: object_key.to_owned(),
            expiry,
            size,
            reply,
        })
        .await?;
        answer.await.map_err(|_| writer_gone())?
    }

    /// Deletes the entry, or with `sequence_opt` only the entry of that sequence; returns the
    /// deleted entry's object key, once committed.
    pub async fn delete(
        &self,
        key: &ParcelIndexKey,
        sequence_opt: Option<i64>,
    ) -> Result<Option<String>, BackendError> {
        let (reply, answer) = oneshot::channel();
        self.submit(WriteOp::Delete {
            key: key.clone(),
            sequence_opt,
            reply,
        })
        .await?;
        answer.await.map_err(|_| writer_gone())?
    }

    async fn submit(&self, op: WriteOp) -> Result<(), BackendError> {
        self.sender.send(op).await.map_err(|_| writer_gone())
    }
}

fn writer_gone() -> BackendError {
    BackendError::unavailable("the parcel index writer stopped")
}

async fn run(mut writer: WriterConnection, mut receiver: mpsc::Receiver<WriteOp>) {
    while let Some(batch) = next_batch(&mut receiver, MAX_BATCH).await {
        commit(&mut writer, batch).await;
        writer.copy_requested_tail().await;
    }
}

/// Rows per multi-row statement (7 bound values each, far below SQLite's variable limit). One
/// statement per chunk instead of per write matters: sqlx runs SQLite on a worker thread, and
/// every statement is a round trip to it.
const ROWS_PER_STATEMENT: usize = 64;

/// Runs `batch` in one transaction and answers every caller: with its own result when the
/// commit succeeded, with the commit's error otherwise.
async fn commit(writer: &mut WriterConnection, batch: Vec<WriteOp>) {
    let committed = match writer.begin_immediate().await {
        Ok(connection) => {
            let written = write_all(connection, &batch).await;
            finish_transaction(connection, written).await
        }
        Err(error) => Err(error),
    };
    match committed {
        Ok(outcomes) => {
            for (op, outcome) in batch.into_iter().zip(outcomes) {
                match (op, outcome) {
                    (WriteOp::Upsert { reply, .. }, Outcome::Upserted(sequence, replaced)) => {
                        let _ = reply.send(Ok((sequence, replaced)));
                    }
                    (WriteOp::Delete { reply, .. }, Outcome::Deleted(deleted)) => {
                        let _ = reply.send(Ok(deleted));
                    }
                    (op, _) => op.fail(BackendError::internal("mismatched batch result")),
                }
            }
        }
        Err(error) => fail_all(batch, error),
    }
}

/// Applies the batch in order with multi-row statements; a run of writes of one kind (upserts,
/// deletes, conditional deletes) becomes one statement per chunk, cut where a key repeats so each
/// row's result is its caller's.
async fn write_all(
    connection: &mut SqliteConnection,
    batch: &[WriteOp],
) -> Result<Vec<Outcome>, BackendError> {
    let mut outcomes = Vec::with_capacity(batch.len());
    let mut start = 0;
    while start < batch.len() {
        let kind = batch[start].kind();
        let mut keys = HashSet::new();
        let mut end = start;
        while end < batch.len()
            && end - start < ROWS_PER_STATEMENT
            && batch[end].kind() == kind
            && keys.insert(batch[end].key())
        {
            end += 1;
        }
        let chunk = &batch[start..end];
        match kind {
            Kind::Upsert => outcomes.extend(upsert_chunk(connection, chunk).await?),
            Kind::Delete | Kind::DeleteIfSequence => {
                outcomes.extend(delete_chunk(connection, chunk, kind).await?)
            }
        }
        start = end;
    }
    Ok(outcomes)
}

async fn upsert_chunk(
    connection: &mut SqliteConnection,
    chunk: &[WriteOp],
) -> Result<Vec<Outcome>, BackendError> {
    let mut previous = existing_object_keys(connection, chunk).await?;
    // REPLACE deletes an old row and inserts a new one: a new AUTOINCREMENT sequence.
    let mut query = QueryBuilder::<Sqlite>::new(
        "INSERT OR REPLACE INTO parcel_index
             (pg_id, recipient_id, sender_id, parcel_id_digest, object_key, expiry, size) ",
    );
    query.push_values(chunk, |mut row, op| {
        if let WriteOp::Upsert {
            key,
            object_key,
            expiry,
            size,
            ..
        } = op
        {
            row.push_bind(&key.pg_id)
                .push_bind(&key.recipient_id)
                .push_bind(&key.sender_id)
                .push_bind(&key.parcel_id_digest)
                .push_bind(object_key)
                .push_bind(to_millis(*expiry))
                .push_bind(*size);
        }
    });
    query.push(" RETURNING pg_id, recipient_id, sender_id, parcel_id_digest, sequence");
    let rows = query
        .build()
        .fetch_all(&mut *connection)
        .await
        .map_err(|error| BackendError::from_sqlx("indexing parcels", error))?;
    let mut sequences = HashMap::with_capacity(rows.len());
    for row in rows {
        let key = (
            row.try_get::<String, _>(0),
            row.try_get::<String, _>(1),
            row.try_get::<String, _>(2),
            row.try_get::<String, _>(3),
        );
        let sequence: i64 = row
            .try_get(4)
            .map_err(|error| BackendError::from_sqlx("reading a sequence", error))?;
        if let (Ok(a), Ok(b), Ok(c), Ok(d)) = key {
            sequences.insert((a, b, c, d), sequence);
        }
    }
    chunk
        .iter()
        .map(|op| {
            let key = op.key();
            let sequence = sequences
                .get(&key)
                .copied()
                .ok_or_else(|| BackendError::internal("an upserted parcel returned no sequence"))?;
            Ok(Outcome::Upserted(sequence, previous.remove(&key)))
        })
        .collect()
}

/// The object keys of the entries the chunk's keys already have.
async fn existing_object_keys(
    connection: &mut SqliteConnection,
    chunk: &[WriteOp],
) -> Result<HashMap<IndexKey, String>, BackendError> {
    let mut query = QueryBuilder::<Sqlite>::new(
        "SELECT p.pg_id, p.recipient_id, p.sender_id, p.parcel_id_digest, p.object_key FROM (",
    );
    push_key_values(&mut query, chunk);
    query.push(") AS v JOIN parcel_index AS p ON ");
    query.push(JOIN_ON_KEY);
    let rows = query
        .build()
        .fetch_all(&mut *connection)
        .await
        .map_err(|error| BackendError::from_sqlx("reading replaced parcel entries", error))?;
    Ok(rows
        .iter()
        .filter_map(|row| Some((key_of_row(row)?, row.try_get(4).ok()?)))
        .collect())
}

/// The chunk's keys as a `VALUES` list (`column1` to `column4`), with each conditional delete's
/// sequence as `column5`.
fn push_key_values(query: &mut QueryBuilder<'_, Sqlite>, chunk: &[WriteOp]) {
    query.push_values(chunk, |mut row, op| {
        let (pg_id, recipient_id, sender_id, digest) = op.key();
        row.push_bind(pg_id)
            .push_bind(recipient_id)
            .push_bind(sender_id)
            .push_bind(digest);
        if let WriteOp::Delete {
            sequence_opt: Some(sequence),
            ..
        } = op
        {
            row.push_bind(*sequence);
        }
    });
}

/// Joins the `VALUES` list `v` to the entries `p` with those keys: one index search per key,
/// where a row-value `IN` over the list would scan the whole table once per chunk.
const JOIN_ON_KEY: &str = "p.pg_id = v.column1 AND p.recipient_id = v.column2
     AND p.sender_id = v.column3 AND p.parcel_id_digest = v.column4";

fn key_of_row(row: &sqlx::sqlite::SqliteRow) -> Option<IndexKey> {
    Some((
        row.try_get(0).ok()?,
        row.try_get(1).ok()?,
        row.try_get(2).ok()?,
        row.try_get(3).ok()?,
    ))
}

/// Deletes the chunk's entries (all of one `kind`), returning each deleted entry's object key.
async fn delete_chunk(
    connection: &mut SqliteConnection,
    chunk: &[WriteOp],
    kind: Kind,
) -> Result<Vec<Outcome>, BackendError> {
    let mut query = QueryBuilder::<Sqlite>::new(
        "DELETE FROM parcel_index WHERE sequence IN (SELECT p.sequence FROM (",
    );
    push_key_values(&mut query, chunk);
    query.push(") AS v JOIN parcel_index AS p ON ");
    query.push(JOIN_ON_KEY);
    if kind == Kind::DeleteIfSequence {
        query.push(" AND p.sequence = v.column5");
    }
    query.push(") RETURNING pg_id, recipient_id, sender_id, parcel_id_digest, object_key");
    let rows = query
        .build()
        .fetch_all(&mut *connection)
        .await
        .map_err(|error| BackendError::from_sqlx("deleting parcel entries", error))?;
    let mut deleted: HashMap<IndexKey, String> = rows
        .iter()
        .filter_map(|row| Some((key_of_row(row)?, row.try_get(4).ok()?)))
        .collect();
    Ok(chunk
        .iter()
        .map(|op| Outcome::Deleted(deleted.remove(&op.key())))
        .collect())
}

enum Outcome {
    Upserted(i64, Option<String>),
    /// The deleted entry's object key; `None` when nothing matched.
    Deleted(Option<String>),
}

/// An index key as owned strings, for matching returned rows to writes.
type IndexKey = (String, String, String, String);

/// What a write does; one statement holds writes of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Upsert,
    Delete,
    DeleteIfSequence,
}

impl WriteOp {
    fn kind(&self) -> Kind {
        match self {
            WriteOp::Upsert { .. } => Kind::Upsert,
            WriteOp::Delete {
                sequence_opt: None, ..
            } => Kind::Delete,
            WriteOp::Delete {
                sequence_opt: Some(_),
                ..
            } => Kind::DeleteIfSequence,
        }
    }

    /// The index key as owned strings, for matching returned rows.
    fn key(&self) -> IndexKey {
        let key = match self {
            WriteOp::Upsert { key, .. } | WriteOp::Delete { key, .. } => key,
        };
        (
            key.pg_id.clone(),
            key.recipient_id.clone(),
            key.sender_id.clone(),
            key.parcel_id_digest.clone(),
        )
    }

    fn fail(self, error: BackendError) {
        match self {
            WriteOp::Upsert { reply, .. } => {
                let _ = reply.send(Err(error));
            }
            WriteOp::Delete { reply, .. } => {
                let _ = reply.send(Err(error));
            }
        }
    }
}

fn fail_all(batch: Vec<WriteOp>, error: BackendError) {
    tracing::error!(%error, writes = batch.len(), "parcel index batch failed");
    for op in batch {
        op.fail(error.clone());
    }
}
