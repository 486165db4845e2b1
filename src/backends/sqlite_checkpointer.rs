//! Checkpoints beside the writer of a busy SQLite database, instead of inside its commits.
//!
//! With SQLite's automatic checkpoints, the commit that crosses the threshold copies every page
//! changed since the last checkpoint back into the database file and flushes it before it
//! returns. On the parcel stores that was a stall of 30 to 200 ms every few thousand parcels,
//! with every caller of the group commit and every write queued behind it waiting it out: the
//! slowest 1% of PoHTTP deliveries. Here a task with its own connection runs passive checkpoints
//! (they never block writers), and the writer only copies the few frames appended since the last
//! pass when the log is long enough to start over, which lets its next transaction rewind the log.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::{SqliteConnection, SqlitePool};

use super::error::BackendError;
use super::sqlite::WriterConnection;

/// How often the task copies the log back into the database file.
const INTERVAL: Duration = Duration::from_millis(100);
/// Log length (in 4 KiB frames, 16 MiB) past which the log should start over.
const RESTART_FRAMES: i64 = 4_000;
/// Frames the writer may be left to copy itself; beyond that the task makes another pass first.
const TAIL_FRAMES: i64 = 256;
/// Passes the task makes in a row to get the tail under [`TAIL_FRAMES`].
const CATCH_UP_PASSES: usize = 4;

/// Set by the checkpointer when the writer should copy the tail of the log, so that the log can
/// start over; taken by the writer after a commit, once its callers have their answers.
#[derive(Debug, Clone, Default)]
pub struct TailRequest(Arc<AtomicBool>);

impl TailRequest {
    fn request(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// Whether a tail copy was requested since the last call.
    pub fn take(&self) -> bool {
        self.0.swap(false, Ordering::AcqRel)
    }
}

/// The checkpointing task of one database; stops when dropped.
#[derive(Debug)]
pub struct Checkpointer {
    task: tokio::task::JoinHandle<()>,
}

impl Checkpointer {
    /// Starts checkpointing the database of `pool` (opened with
    /// [`Checkpointing::Background`](super::sqlite::Checkpointing::Background)), and returns the
    /// writer that copies the tail when asked.
    pub fn spawn_with_writer(pool: &SqlitePool) -> (Self, WriterConnection) {
        let tail = TailRequest::default();
        let writer = WriterConnection::new(pool.clone(), tail.clone());
        (Self::spawn(pool, tail), writer)
    }

    fn spawn(pool: &SqlitePool, tail: TailRequest) -> Self {
        let pool = pool.clone();
        let task = tokio::spawn(async move {
            // A connection of its own, so passes run on their own SQLite thread beside the
            // writer's; detached, so the pool can close while the task runs.
            let connection = match pool.acquire().await {
                Ok(connection) => connection.detach(),
                Err(error) => {
                    tracing::error!(%error, "the checkpointer could not connect; the log grows");
                    return;
                }
            };
            drop(pool);
            run(connection, tail).await;
        });
        Checkpointer { task }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn run(mut connection: SqliteConnection, tail: TailRequest) {
    let mut interval = tokio::time::interval(INTERVAL);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let mut progress = match passive_checkpoint(&mut connection).await {
            Ok(progress) => progress,
            Err(error) => {
                tracing::warn!(%error, "checkpoint failed; retrying");
                continue;
            }
        };
        if progress.log_frames < RESTART_FRAMES {
            continue;
        }
        for _ in 0..CATCH_UP_PASSES {
            if progress.remaining() <= TAIL_FRAMES {
                break;
            }
            match passive_checkpoint(&mut connection).await {
                Ok(next) => progress = next,
                Err(_) => break,
            }
        }
        tail.request();
    }
}

/// What a checkpoint reported: frames in the log and frames copied to the database file.
#[derive(Debug, Clone, Copy)]
pub struct CheckpointProgress {
    pub log_frames: i64,
    pub copied_frames: i64,
}

impl CheckpointProgress {
    fn remaining(&self) -> i64 {
        self.log_frames - self.copied_frames
    }
}

/// Copies what it can of the log into the database file without waiting for anyone.
pub async fn passive_checkpoint(
    connection: &mut SqliteConnection,
) -> Result<CheckpointProgress, BackendError> {
    let (_busy, log_frames, copied_frames): (i64, i64, i64) =
        sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(connection)
            .await
            .map_err(|e| BackendError::from_sqlx("checkpointing", e))?;
    Ok(CheckpointProgress {
        log_frames,
        copied_frames,
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Instant;

    use super::*;
    use crate::backends::sqlite::{finish_transaction, open_pool, Checkpointing};

    /// The log's checkpoint sequence number (header bytes 12..16), which SQLite increments each
    /// time the log starts over.
    fn log_restarts(database: &Path) -> u32 {
        let header = std::fs::read(database.with_extension("sqlite-wal")).expect("log");
        u32::from_be_bytes(header[12..16].try_into().expect("header"))
    }

    async fn writer(database: &Path, tail: TailRequest) -> (SqlitePool, WriterConnection) {
        let pool = open_pool(database, 2, Checkpointing::Background)
            .await
            .expect("open");
        sqlx::query("CREATE TABLE t (body BLOB NOT NULL)")
            .execute(&pool)
            .await
            .expect("create");
        let writer = WriterConnection::new(pool.clone(), tail);
        (pool, writer)
    }

    /// One transaction of `rows` 16 KiB rows.
    async fn write(writer: &mut WriterConnection, rows: usize) {
        let connection = writer.begin_immediate().await.expect("begin");
        let mut written = Ok(());
        for _ in 0..rows {
            if let Err(error) = sqlx::query("INSERT INTO t (body) VALUES (zeroblob(16384))")
                .execute(&mut *connection)
                .await
            {
                written = Err(BackendError::from_sqlx("insert", error));
                break;
            }
        }
        finish_transaction(connection, written)
            .await
            .expect("commit");
    }

    #[tokio::test]
    async fn a_requested_tail_copy_lets_the_next_transaction_start_the_log_over() {
        let dir = tempfile::tempdir().expect("tempdir");
        let database = dir.path().join("db.sqlite");
        let tail = TailRequest::default();
        let (_pool, mut writer) = writer(&database, tail.clone()).await;
        for _ in 0..40 {
            write(&mut writer, 8).await;
            writer.copy_requested_tail().await;
        }
        let before = log_restarts(&database);
        assert_eq!(before, 0, "no connection checkpoints on its own");

        tail.request();
        writer.copy_requested_tail().await;
        assert!(!tail.take(), "the request was taken");
        write(&mut writer, 1).await;
        assert!(log_restarts(&database) > before, "the log started over");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn under_steady_writes_the_checkpointer_keeps_the_log_starting_over() {
        let dir = tempfile::tempdir().expect("tempdir");
        let database = dir.path().join("db.sqlite");
        let tail = TailRequest::default();
        let (pool, mut writer) = writer(&database, tail.clone()).await;
        let _checkpointer = Checkpointer::spawn(&pool, tail);
        // Each transaction appends about 130 frames, so the log passes RESTART_FRAMES after about
        // thirty; write until it starts over twice (a deadline, not a timing assertion).
        let deadline = Instant::now() + Duration::from_secs(60);
        while log_restarts(&database) < 2 {
            assert!(Instant::now() < deadline, "the log never started over");
            write(&mut writer, 8).await;
            writer.copy_requested_tail().await;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let log_bytes = std::fs::metadata(database.with_extension("sqlite-wal"))
            .expect("log")
            .len();
        assert!(
            log_bytes < 4 * RESTART_FRAMES as u64 * 4096,
            "the log stays bounded: {log_bytes} bytes"
        );
    }
}
