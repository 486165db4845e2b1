//! Object storage for parcel bodies.
//!
//! Contract shared by every implementation (checked by [`conformance`]):
//! - `put` returns only once the object is durable, and replaces an existing object atomically:
//!   a reader sees the old body or the new one, never a mix, even across a crash.
//! - `delete` is idempotent; `get` of a missing key is `Ok(None)`. A deletion need not survive a
//!   crash: the metadata entry that names an object is the source of truth and is deleted first.
//! - Keys are relative `/`-separated paths of safe segments ([`validate_key`]); anything else
//!   (`..`, absolute paths, empty segments, hidden names) is refused with `Internal` before any
//!   I/O, so a key can never escape the store.

use async_trait::async_trait;
use bytes::Bytes;

use super::error::BackendError;

pub mod conformance;
pub mod inline;
pub mod local;
mod local_batch;
mod local_small;
pub mod mongo_table;
pub mod postgres_table;
pub mod s3;
pub mod s3_config;

pub use inline::InlineObjectStore;
pub use local::LocalObjectStore;
pub use s3::S3ObjectStore;

/// Longest key accepted (S3's limit is 1,024 octets).
pub const MAX_KEY_LENGTH: usize = 1024;
/// Largest object accepted: a parcel is at most 9 MiB; leave room for other bodies.
pub const MAX_OBJECT_SIZE: usize = 16 * 1024 * 1024;
/// Most keys one `list` call returns, whatever `limit` asks for.
pub const MAX_LIST: usize = 10_000;

/// A store of immutable blobs by key. Used as `Arc<dyn ObjectStore>`.
#[async_trait]
pub trait ObjectStore: Send + Sync {
    /// Stores `body` under `key` durably, replacing any previous object.
    async fn put(&self, key: &str, body: Bytes) -> Result<(), BackendError>;
    /// The object under `key`, if any.
    async fn get(&self, key: &str) -> Result<Option<Bytes>, BackendError>;
    /// The objects under `keys`, in the same order (`None` where one is missing). Collection
    /// reads bodies a page at a time: a store that can answer several keys in one request
    /// overrides this; the default reads them one by one.
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Bytes>>, BackendError> {
        let mut bodies = Vec::with_capacity(keys.len());
        for key in keys {
            bodies.push(self.get(key).await?);
        }
        Ok(bodies)
    }
    /// Deletes the object under `key`; deleting a missing object succeeds.
    async fn delete(&self, key: &str) -> Result<(), BackendError>;
    /// Up to `limit` keys starting with `prefix` (a plain string prefix), in key order.
    async fn list(&self, prefix: &str, limit: usize) -> Result<Vec<String>, BackendError>;
    async fn health_check(&self) -> Result<(), BackendError>;
}

/// Checks that `key` is a relative path of non-empty segments made of ASCII letters, digits and
/// `- _ . = + @`, none starting with a dot (which also keeps `.` and `..` out, and leaves dot
/// names free for temporary files).
pub fn validate_key(key: &str) -> Result<(), BackendError> {
    let refuse = |why: &str| {
        Err(BackendError::internal(format!(
            "invalid object key {key:?}: {why}"
        )))
    };
    if key.is_empty() {
        return refuse("empty");
    }
    if key.len() > MAX_KEY_LENGTH {
        return refuse("too long");
    }
    if key.starts_with('/') {
        return refuse("absolute path");
    }
    for segment in key.split('/') {
        if segment.is_empty() {
            return refuse("empty segment");
        }
        if segment.starts_with('.') {
            return refuse("segment starts with a dot");
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || "-_.=+@".contains(c);
        if !segment.chars().all(allowed) {
            return refuse("unsupported character");
        }
    }
    Ok(())
}

/// Checks a listing prefix: empty, or a key prefix that could only name valid keys.
pub fn validate_prefix(prefix: &str) -> Result<(), BackendError> {
    if prefix.is_empty() {
        return Ok(());
    }
    // A trailing slash is fine in a prefix; validate what comes before it.
    validate_key(prefix.strip_suffix('/').unwrap_or(prefix))
}
