//! Small bodies in the database, large ones in the object store (`s3://…` beside a PostgreSQL or
//! MongoDB database).
//!
//! Most parcels are a few KiB. On S3 each one costs a PUT on the way in, a GET on the way out
//! and a DELETE after, each an HTTP round trip with its own signature: measured here beside
//! file objects, that took the gateway from 618 to 1,066 µs of CPU per parcel and halved its
//! ingest rate, whereas a row in the database the metadata already lives in is one statement.
//! So bodies up to `inline_max` bytes (64 KiB by default, `inline_max=` in the `s3://` URL, 0 to
//! turn it off) go in a table, and only larger ones to the bucket; the embedded default keeps
//! small bodies out of its file tree for the same reason.
//!
//! The table also holds a marker row (no body) for each key whose body is in the bucket, written
//! after the object is durable. So a reader sees the old body or the new, never neither; a small
//! put over a large body deletes the bucket's copy, found by its marker, and a deletion reaches
//! the bucket only for keys it holds. Keys with no row at all (stored before bodies went to the
//! database) are looked for in the bucket.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;

use super::{validate_key, validate_prefix, ObjectStore, MAX_LIST, MAX_OBJECT_SIZE};
use crate::backends::error::BackendError;

/// Largest body kept in the database unless the URL says otherwise.
pub const DEFAULT_INLINE_MAX: usize = 64 * 1024;

/// What the table holds for a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row {
    /// The body itself.
    Body(Bytes),
    /// A marker: the body is in the large store.
    Large,
}

/// Which kind of row a deletion removed (without carrying the body back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    Body,
    Large,
}

/// A table of small bodies and large-body markers by key, in a database. Keys reach it already
/// validated.
#[async_trait]
pub trait SmallTable: Send + Sync {
    /// Stores `row` under `key` durably, replacing any previous one; whether that was a
    /// [`Row::Large`] marker.
    async fn put(&self, key: &str, row: Row) -> Result<bool, BackendError>;
    /// The rows found among `keys` (keys without one are absent from the map).
    async fn get_many(&self, keys: &[String]) -> Result<HashMap<String, Row>, BackendError>;
    /// Deletes the row under `key`; which kind it was, if there was one.
    async fn delete(&self, key: &str) -> Result<Option<RowKind>, BackendError>;
    /// Up to `limit` keys with a row starting with `prefix`, in byte order.
    async fn list(&self, prefix: &str, limit: usize) -> Result<Vec<String>, BackendError>;
    async fn health_check(&self) -> Result<(), BackendError>;
}

/// Bodies up to `inline_max` bytes in `table`, larger ones in `large`.
pub struct InlineObjectStore {
    table: Arc<dyn SmallTable>,
    large: Arc<dyn ObjectStore>,
    inline_max: usize,
}

impl InlineObjectStore {
    pub fn new(table: Arc<dyn SmallTable>, large: Arc<dyn ObjectStore>, inline_max: usize) -> Self {
        InlineObjectStore {
            table,
            large,
            inline_max,
        }
    }
}

#[async_trait]
impl ObjectStore for InlineObjectStore {
    async fn put(&self, key: &str, body: Bytes) -> Result<(), BackendError> {
        validate_key(key)?;
        if body.len() > MAX_OBJECT_SIZE {
            return Err(BackendError::internal(format!(
                "object of {} bytes is over the limit of {MAX_OBJECT_SIZE}",
                body.len()
            )));
        }
        if body.len() <= self.inline_max {
            if self.table.put(key, Row::Body(body)).await? {
                // The table now answers for the key; the bucket's copy is garbage.
                self.large.delete(key).await?;
            }
            return Ok(());
        }
        self.large.put(key, body).await?;
        self.table.put(key, Row::Large).await.map(|_| ())
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, BackendError> {
        Ok(self.get_many(&[key.to_owned()]).await?.pop().flatten())
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Bytes>>, BackendError> {
        for key in keys {
            validate_key(key)?;
        }
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self.table.get_many(keys).await?;
        let mut bodies: Vec<Option<Bytes>> = Vec::with_capacity(keys.len());
        let mut in_bucket: Vec<(usize, String)> = Vec::new();
        for (index, key) in keys.iter().enumerate() {
            match rows.get(key) {
                Some(Row::Body(body)) => bodies.push(Some(body.clone())),
                Some(Row::Large) | None => {
                    bodies.push(None);
                    in_bucket.push((index, key.clone()));
                }
            }
        }
        if in_bucket.is_empty() {
            return Ok(bodies);
        }
        let bucket_keys: Vec<String> = in_bucket.iter().map(|(_, key)| key.clone()).collect();
        let large = self.large.get_many(&bucket_keys).await?;
        for ((index, _), body) in in_bucket.into_iter().zip(large) {
            bodies[index] = body;
        }
        Ok(bodies)
    }

    async fn delete(&self, key: &str) -> Result<(), BackendError> {
        validate_key(key)?;
        match self.table.delete(key).await? {
            Some(RowKind::Body) => Ok(()),
            Some(RowKind::Large) | None => self.large.delete(key).await,
        }
    }

    async fn list(&self, prefix: &str, limit: usize) -> Result<Vec<String>, BackendError> {
        validate_prefix(prefix)?;
        let limit = limit.min(MAX_LIST);
        let mut keys = self.large.list(prefix, limit).await?;
        keys.extend(self.table.list(prefix, limit).await?);
        keys.sort();
        keys.dedup();
        keys.truncate(limit);
        Ok(keys)
    }

    async fn health_check(&self) -> Result<(), BackendError> {
        self.table.health_check().await?;
        self.large.health_check().await
    }
}

/// The smallest string greater than every string that starts with `prefix` (keys are ASCII, so
/// bumping the last byte is enough); `None` for the empty prefix, which bounds nothing.
pub(crate) fn prefix_end(prefix: &str) -> Option<String> {
    let mut bytes = prefix.as_bytes().to_vec();
    while let Some(last) = bytes.pop() {
        if last < 0x7f {
            bytes.push(last + 1);
            return String::from_utf8(bytes).ok();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::prefix_end;

    #[test]
    fn prefix_end_bounds_the_keys_under_a_prefix() {
        assert_eq!(prefix_end(""), None);
        assert_eq!(prefix_end("p/a/").as_deref(), Some("p/a0"));
        assert_eq!(prefix_end("p/a").as_deref(), Some("p/b"));
        for key in ["p/a", "p/a/1", "p/a-b", "p/az"] {
            assert!(key < "p/b", "{key}");
        }
    }
}

#[cfg(test)]
#[path = "inline_tests.rs"]
mod conformance_tests;
