//! Opening SQLite databases with the durability settings every embedded store needs.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use super::error::BackendError;
use super::sqlite_checkpointer::{passive_checkpoint, TailRequest};

/// How long a statement waits for another writer before failing with `Unavailable`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a caller waits for a pooled connection before failing with `Unavailable`.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// Who copies a database's write-ahead log back into the database file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checkpointing {
    /// SQLite, in the commit that makes the log 1,000 pages long (its default).
    Automatic,
    /// A [`Checkpointer`](super::sqlite_checkpointer::Checkpointer) the caller runs; no
    /// connection of the pool checkpoints on its own.
    Background,
}

/// Opens (creating if needed) a WAL database whose commits are fsynced (`synchronous=FULL`):
/// a transaction that returned is on disk, which is what lets bindings acknowledge after it.
pub async fn open_pool(
    path: &Path,
    max_connections: u32,
    checkpointing: Checkpointing,
) -> Result<SqlitePool, BackendError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| BackendError::from_io(&format!("creating {}", parent.display()), e))?;
    }
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(BUSY_TIMEOUT)
        .foreign_keys(true)
        // Statement journals (multi-row writes in group commits) in memory, not temp files;
        // they only matter while a statement runs, so durability is unaffected.
        .pragma("temp_store", "memory")
        // 16 MiB of page cache per connection (default 2 MiB): index and body pages of a
        // batch stay cached instead of being read back from the file.
        .pragma("cache_size", "-16384")
        .pragma(
            "wal_autocheckpoint",
            match checkpointing {
                Checkpointing::Automatic => "1000",
                Checkpointing::Background => "0",
            },
        )
        // The WAL file is cut back to 64 MiB when it restarts after growing past that (say while
        // a long read kept it from starting over).
        .pragma("journal_size_limit", "67108864");
    SqlitePoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        // No ping on every checkout: sqlx runs each SQLite connection on its own thread, so a
        // ping is one more round trip to it per query (waking those threads was the largest
        // item in collection's profile), and a local file has no idle link to go stale; real
        // failures surface on the query itself.
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .map_err(|e| BackendError::from_sqlx(&format!("opening {}", path.display()), e))
}

/// Opens a database named by a `sqlite://` URL (`sqlite:///abs/path` or `sqlite://rel/path`;
/// query parameters are ignored because the durability settings are not negotiable).
pub async fn open_url(
    url: &str,
    max_connections: u32,
    checkpointing: Checkpointing,
) -> Result<SqlitePool, BackendError> {
    let rest = url
        .strip_prefix("sqlite://")
        .ok_or_else(|| BackendError::internal(format!("not a sqlite url: {url}")))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() {
        return Err(BackendError::internal("sqlite url without a path"));
    }
    // Validate through sqlx's own parser too, so both accept the same URLs.
    SqliteConnectOptions::from_str(url)
        .map_err(|e| BackendError::from_sqlx(&format!("parsing {url}"), e))?;
    open_pool(Path::new(path), max_connections, checkpointing).await
}

/// Milliseconds since the Unix epoch: how embedded stores keep times, so SQL compares integers.
pub fn to_millis(time: chrono::DateTime<chrono::Utc>) -> i64 {
    time.timestamp_millis()
}

/// The inverse of [`to_millis`]; out-of-range values are corrupt rows.
pub fn from_millis(millis: i64) -> Result<chrono::DateTime<chrono::Utc>, BackendError> {
    chrono::DateTime::from_timestamp_millis(millis)
        .ok_or_else(|| BackendError::corrupt(format!("timestamp {millis} out of range")))
}

/// The next batch from a writer task's queue: waits for one item, then takes whatever else is
/// already waiting, up to `max` in all. `None` once every sender is gone.
pub async fn next_batch<T>(
    receiver: &mut tokio::sync::mpsc::Receiver<T>,
    max: usize,
) -> Option<Vec<T>> {
    let first = receiver.recv().await?;
    let mut batch = vec![first];
    while batch.len() < max {
        match receiver.try_recv() {
            Ok(item) => batch.push(item),
            Err(_) => break,
        }
    }
    Some(batch)
}

/// The connection a group-commit writer keeps for itself, taken out of its pool once.
///
/// SQLite drops a connection's page cache whenever another connection committed since its last
/// transaction; a writer that took whichever pooled connection was free read its index pages
/// back from the file on almost every batch. Its own connection keeps them cached.
pub struct WriterConnection {
    pool: SqlitePool,
    connection_opt: Option<sqlx::SqliteConnection>,
    tail: TailRequest,
}

impl WriterConnection {
    /// The writer of `pool`'s database, copying the tail of its log when `tail` asks.
    pub fn new(pool: SqlitePool, tail: TailRequest) -> Self {
        WriterConnection {
            pool,
            connection_opt: None,
            tail,
        }
    }

    /// Copies the tail of the log if the checkpointer asked for it; call between transactions,
    /// after answering the callers of the last one. While this writer copies, nothing is
    /// appended, so the copy completes and the next transaction can start the log over.
    pub async fn copy_requested_tail(&mut self) {
        if !self.tail.take() {
            return;
        }
        if let Some(connection) = self.connection_opt.as_mut() {
            if let Err(error) = passive_checkpoint(connection).await {
                tracing::warn!(%error, "copying the tail of the log failed");
            }
        }
    }

    /// The connection inside a write transaction taken up front (`BEGIN IMMEDIATE`), so it never
    /// has to upgrade from reader to writer (the source of `SQLITE_BUSY`). Finish it with
    /// [`finish_transaction`]. A connection that cannot begin is dropped and replaced next time.
    pub async fn begin_immediate(&mut self) -> Result<&mut sqlx::SqliteConnection, BackendError> {
        let mut connection = match self.connection_opt.take() {
            Some(connection) => connection,
            None => self
                .pool
                .acquire()
                .await
                .map_err(|e| BackendError::from_sqlx("acquiring a connection", e))?
                // The pool may open a replacement for its readers.
                .detach(),
        };
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut connection)
            .await
            .map_err(|e| BackendError::from_sqlx("beginning a batch", e))?;
        Ok(self.connection_opt.insert(connection))
    }
}

/// Commits when `written` succeeded and rolls back otherwise, leaving the connection clean for
/// the pool; returns `written`'s value once committed, or the first error.
pub async fn finish_transaction<T>(
    connection: &mut sqlx::SqliteConnection,
    written: Result<T, BackendError>,
) -> Result<T, BackendError> {
    let committed = match written {
        Ok(value) => sqlx::query("COMMIT")
            .execute(&mut *connection)
            .await
            .map(|_| value)
            .map_err(|e| BackendError::from_sqlx("committing a batch", e)),
        Err(error) => Err(error),
    };
    if committed.is_err() {
        let _ = sqlx::query("ROLLBACK").execute(&mut *connection).await;
    }
    committed
}
