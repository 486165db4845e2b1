//! The storage layer: durable mailboxes, metadata, parcel bodies, notifications and key sealing.
//!
//! Layout: one folder per trait, each with `mod.rs` (the trait and its types), the embedded
//! implementation, and `conformance.rs` (the checks every implementation must pass):
//! - [`queue`]: [`DurableQueue`](queue::DurableQueue), the cargo and outbound-parcel mailboxes.
//! - [`metadata`]: [`MetadataStore`](metadata::MetadataStore), certificates, sealed keys, dedup
//!   records, CCA use and the index of parcels stored for private gateways.
//! - [`objects`]: [`ObjectStore`](objects::ObjectStore), parcel bodies.
//! - [`pubsub`]: [`Notifier`](pubsub::Notifier), "parcel stored" notifications (best effort).
//! - [`keys`]: [`KeySealer`](keys::KeySealer), AES-256-GCM sealing of private keys at rest.
//!
//! Implementations are chosen by URL ([`Backends::open`]); the embedded ones need nothing but the
//! data directory. Dependency rule: backends import only `crate::protocols::awala`.
//! Every backend returns [`BackendError`], whose kind callers branch on.

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub mod clock;
pub mod data_dir;
pub mod error;
pub mod keys;
pub mod metadata;
pub mod objects;
pub mod pubsub;
pub mod queue;
pub mod sqlite;
pub mod sqlite_checkpointer;

pub use error::{BackendError, BackendErrorKind};

use keys::{FileKeySealer, KeySealer};
use metadata::{MetadataStore, MongoMetadataStore, PostgresMetadataStore, SqliteMetadataStore};
use objects::inline::SmallTable;
use objects::mongo_table::MongoSmallTable;
use objects::postgres_table::PostgresSmallTable;
use objects::{InlineObjectStore, LocalObjectStore, ObjectStore, S3ObjectStore};
use pubsub::{MemoryNotifier, Notifier, NotifierLimits, RedisNotifier};
use queue::amqp::AmqpQueue;
use queue::{DurableQueue, EmbeddedQueue, QueueSettings};

/// Where each backend lives. `None` means the embedded default under the data directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackendUrls {
    /// `sqlite://<path>` (default `sqlite://<data_dir>/gateway.sqlite`), `postgres://…` or
    /// `mongodb://…`.
    pub database_url: Option<String>,
    /// `file://<path>` (default `file://<data_dir>/objects`) or `s3://BUCKET?endpoint=…`.
    pub object_store_url: Option<String>,
    /// `embedded://` (default): a SQLite file `<data_dir>/queue.sqlite`, apart from the metadata
    /// database (see [`queue::embedded`] for why); or `amqp://…` (RabbitMQ, [`queue::amqp`]).
    pub queue_url: Option<String>,
    /// `memory://` (default): in-process broadcast; or `redis://host:port/db`.
    pub pubsub_url: Option<String>,
}

impl BackendUrls {
    /// The URLs with every default filled in for `data_dir`.
    pub fn resolved(&self, data_dir: &Path) -> ResolvedUrls {
        let pick = |url: &Option<String>, default: String| url.clone().unwrap_or(default);
        ResolvedUrls {
            database_url: pick(
                &self.database_url,
                format!("sqlite://{}", data_dir.join("gateway.sqlite").display()),
            ),
            object_store_url: pick(
                &self.object_store_url,
                format!("file://{}", data_dir.join("objects").display()),
            ),
            queue_url: pick(&self.queue_url, "embedded://".to_string()),
            pubsub_url: pick(&self.pubsub_url, "memory://".to_string()),
        }
    }
}

/// [`BackendUrls`] after defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedUrls {
    pub database_url: String,
    pub object_store_url: String,
    pub queue_url: String,
    pub pubsub_url: String,
}

/// Tunables of the embedded backends.
#[derive(Debug, Clone, Default)]
pub struct BackendOptions {
    pub queues: QueueSettings,
    pub notifier: NotifierLimits,
    /// Hears how long publishers wait on full queues (for the mailbox-blocked metric).
    pub queue_blocked: Option<queue::BlockedObserver>,
    /// Where the key-encryption key comes from (`<data_dir>/kek.bin` by default).
    pub kek: keys::KekSettings,
}

/// Every backend the gateway uses, as trait objects.
#[derive(Clone)]
pub struct Backends {
    pub queue: Arc<dyn DurableQueue>,
    pub metadata: Arc<dyn MetadataStore>,
    pub objects: Arc<dyn ObjectStore>,
    pub notifier: Arc<dyn Notifier>,
    pub sealer: Arc<dyn KeySealer>,
}

impl Backends {
    /// Opens every backend named by `urls`, with defaults under `data_dir` and default limits.
    pub async fn open(urls: &BackendUrls, data_dir: &Path) -> Result<Backends, BackendError> {
        Self::open_with(urls, data_dir, BackendOptions::default()).await
    }

    /// Opens every backend named by `urls` with the given limits.
    pub async fn open_with(
        urls: &BackendUrls,
        data_dir: &Path,
        options: BackendOptions,
    ) -> Result<Backends, BackendError> {
        let urls = urls.resolved(data_dir);
        data_dir::prepare(data_dir)
            .map_err(|e| BackendError::from_io(&format!("preparing {}", data_dir.display()), e))?;
        // Keys first: a world-readable key file must stop start-up before anything is written.
        let sealer: Arc<dyn KeySealer> =
            Arc::new(FileKeySealer::open_with(&options.kek, data_dir)?);
        let metadata = open_metadata(&urls.database_url).await?;
        let objects = open_objects_beside(&urls.object_store_url, &urls.database_url).await?;
        let queue: Arc<dyn DurableQueue> = match scheme_of(&urls.queue_url)? {
            "embedded" => {
                let path = data_dir.join("queue.sqlite");
                let queue = EmbeddedQueue::open(&path, options.queues).await?;
                Arc::new(queue.with_blocked_observer(options.queue_blocked))
            }
            "amqp" | "amqps" => Arc::new(AmqpQueue::open(&urls.queue_url, options.queues).await?),
            other => return Err(unsupported(other, "queue_url")),
        };
        let notifier: Arc<dyn Notifier> = match scheme_of(&urls.pubsub_url)? {
            "memory" => Arc::new(MemoryNotifier::new(options.notifier)),
            "redis" => Arc::new(RedisNotifier::open(&urls.pubsub_url, options.notifier).await?),
            other => return Err(unsupported(other, "pubsub_url")),
        };
        Ok(Backends {
            queue,
            metadata,
            objects,
            notifier,
            sealer,
        })
    }

    /// Checks every backend; the first failure wins.
    pub async fn health_check(&self) -> Result<(), BackendError> {
        self.queue.health_check().await?;
        self.metadata.health_check().await?;
        self.objects.health_check().await?;
        self.notifier.health_check().await?;
        self.sealer.health_check().await
    }
}

/// The metadata store at `url` (`sqlite://…`, `postgres://…`, `mongodb://…`).
pub async fn open_metadata(url: &str) -> Result<Arc<dyn MetadataStore>, BackendError> {
    Ok(match scheme_of(url)? {
        "sqlite" => Arc::new(SqliteMetadataStore::open_url(url).await?),
        "postgres" | "postgresql" => Arc::new(PostgresMetadataStore::open_url(url).await?),
        "mongodb" | "mongodb+srv" => Arc::new(MongoMetadataStore::open_url(url).await?),
        other => return Err(unsupported(other, "database_url")),
    })
}

/// The object store at `url` (`file://…`, `s3://…`).
pub async fn open_objects(url: &str) -> Result<Arc<dyn ObjectStore>, BackendError> {
    Ok(match scheme_of(url)? {
        "file" => Arc::new(LocalObjectStore::open(&path_of(url))?),
        "s3" => Arc::new(S3ObjectStore::open(url)?),
        other => return Err(unsupported(other, "object_store_url")),
    })
}

/// The object store at `objects_url`, with small bodies in the database at `database_url` when
/// the objects are on S3 and the database can hold them (see [`objects::inline`]).
pub async fn open_objects_beside(
    objects_url: &str,
    database_url: &str,
) -> Result<Arc<dyn ObjectStore>, BackendError> {
    let large = open_objects(objects_url).await?;
    if scheme_of(objects_url)? != "s3" {
        return Ok(large);
    }
    let inline_max = objects::s3_config::S3Config::parse(objects_url)?.inline_max;
    if inline_max == 0 {
        return Ok(large);
    }
    let table: Arc<dyn SmallTable> = match scheme_of(database_url)? {
        "postgres" | "postgresql" => Arc::new(PostgresSmallTable::open(database_url, None).await?),
        "mongodb" | "mongodb+srv" => Arc::new(MongoSmallTable::open(database_url, None).await?),
        _ => return Ok(large),
    };
    Ok(Arc::new(InlineObjectStore::new(table, large, inline_max)))
}

/// The scheme of `url`; `Internal` if there is none.
fn scheme_of(url: &str) -> Result<&str, BackendError> {
    url.split_once("://")
        .map(|(scheme, _)| scheme)
        .filter(|scheme| !scheme.is_empty())
        .ok_or_else(|| BackendError::internal(format!("`{url}` is not a url (no scheme)")))
}

/// The path part of a `scheme://path` URL.
fn path_of(url: &str) -> PathBuf {
    let rest = url.split_once("://").map(|(_, rest)| rest).unwrap_or(url);
    PathBuf::from(rest.split('?').next().unwrap_or_default())
}

fn unsupported(scheme: &str, setting: &str) -> BackendError {
    BackendError::internal(format!("unknown scheme `{scheme}://` in {setting}"))
}

/// Runs `cleanup` to completion on a thread with a runtime of its own: test guards drop inside
/// the test's runtime, where blocking on another is not allowed.
#[cfg(test)]
pub(crate) fn clean_up_from_own_thread<F>(cleanup: F)
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let _ = std::thread::spawn(move || {
        if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            runtime.block_on(cleanup);
        }
    })
    .join();
}

#[cfg(test)]
mod tests;
