//! Objects in an S3 bucket (`s3://BUCKET?endpoint=…&region=…&prefix=…`, see [`s3_config`]).
//!
//! Every body goes to S3 whole: unlike the embedded store there is no small-object table, since
//! the point of S3 is that every gateway replica reads the same bodies. A `PUT` that S3 answered
//! 200 is durable and replaces the previous object atomically, which is the trait's contract, so
//! `put` is a plain overwrite (the contract has no "create if absent" step that would need
//! `PutMode::Create`). Failures map to [`BackendError`] kinds: connection errors, timeouts and
//! 5xx (after the client's bounded retries) are `Unavailable`, so the edge answers 503.
//!
//! [`s3_config`]: super::s3_config

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::{
    BackoffConfig, ClientOptions, ObjectStore as _, ObjectStoreExt as _, PutPayload, RetryConfig,
};

use super::s3_config::{S3Config, S3Credentials};
use super::{validate_key, validate_prefix, ObjectStore, MAX_LIST, MAX_OBJECT_SIZE};
use crate::backends::error::{BackendError, BackendErrorKind};

/// Bodies fetched at once by `get_many`: enough to hide S3's latency for a page of parcels,
/// few enough not to open a connection per parcel.
const GET_MANY_CONCURRENCY: usize = 8;
/// Longest wait for one HTTP request (a 16 MiB body included).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Retries of transient failures, bounded in time so a down S3 becomes a 503 quickly rather
/// than the client's default of several minutes.
const MAX_RETRIES: usize = 3;
const RETRY_TIMEOUT: Duration = Duration::from_secs(15);

/// An [`ObjectStore`] on S3 or an S3-compatible server.
#[derive(Debug, Clone)]
pub struct S3ObjectStore {
    store: Arc<AmazonS3>,
    config: Arc<S3Config>,
}

impl S3ObjectStore {
    /// Opens the store named by `url`, with credentials from the environment. Opening does no
    /// I/O; [`ObjectStore::health_check`] reaches the bucket.
    pub fn open(url: &str) -> Result<Self, BackendError> {
        Self::open_with(S3Config::parse(url)?, S3Credentials::from_env()?)
    }

    /// Opens the store described by `config`; without `credentials`, the client uses instance
    /// or container credentials.
    pub fn open_with(
        config: S3Config,
        credentials: Option<S3Credentials>,
    ) -> Result<Self, BackendError> {
        let retry = RetryConfig {
            backoff: BackoffConfig::default(),
            max_retries: MAX_RETRIES,
            retry_timeout: RETRY_TIMEOUT,
        };
        let client = ClientOptions::new()
            .with_timeout(REQUEST_TIMEOUT)
            .with_connect_timeout(CONNECT_TIMEOUT)
            .with_allow_http(config.allow_http);
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&config.bucket)
            .with_region(&config.region)
            .with_virtual_hosted_style_request(false)
            .with_retry(retry)
            .with_client_options(client);
        if let Some(endpoint) = &config.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        if let Some(credentials) = credentials {
            builder = builder
                .with_access_key_id(credentials.access_key_id)
                .with_secret_access_key(credentials.secret_access_key);
            if let Some(token) = credentials.session_token {
                builder = builder.with_token(token);
            }
        }
        let store = builder.build().map_err(|e| {
            BackendError::internal(format!("configuring s3 bucket {}: {e}", config.bucket))
                .with_source(e)
        })?;
        Ok(S3ObjectStore {
            store: Arc::new(store),
            config: Arc::new(config),
        })
    }

    /// The bucket path of a valid `key`.
    fn path_of(&self, key: &str) -> Result<Path, BackendError> {
        validate_key(key)?;
        let full = self.config.full_key(key);
        Path::parse(&full).map_err(|e| {
            BackendError::internal(format!("object key {key:?} is not an s3 path: {e}"))
        })
    }

    /// The directory to list for a plain string prefix: S3 lists by string prefix, but
    /// `object_store` lists whole path segments, so list the parent and filter.
    fn listing_parent(&self, full_prefix: &str) -> Option<Path> {
        let parent = match full_prefix.rfind('/') {
            Some(slash) => &full_prefix[..slash],
            None => "",
        };
        (!parent.is_empty()).then(|| Path::from(parent))
    }
}

/// Maps an `object_store` failure to a kind callers can act on.
fn s3_error(context: &str, error: object_store::Error) -> BackendError {
    use object_store::Error;
    let kind = match &error {
        Error::NotFound { .. } => BackendErrorKind::NotFound,
        Error::AlreadyExists { .. } | Error::Precondition { .. } => BackendErrorKind::Conflict,
        // Connection failures, timeouts and 5xx once retries are spent: S3 is not answering now.
        // (Other 4xx land here too; `object_store` does not expose their status.)
        Error::Generic { .. } => BackendErrorKind::Unavailable,
        // Bad credentials or policy, paths, unsupported calls: configuration, not transient.
        _ => BackendErrorKind::Internal,
    };
    BackendError::new(kind, format!("{context}: {error}")).with_source(error)
}

#[async_trait]
impl ObjectStore for S3ObjectStore {
    async fn put(&self, key: &str, body: Bytes) -> Result<(), BackendError> {
        let path = self.path_of(key)?;
        if body.len() > MAX_OBJECT_SIZE {
            return Err(BackendError::internal(format!(
                "object of {} bytes is over the limit of {MAX_OBJECT_SIZE}",
                body.len()
            )));
        }
        self.store
            .put(&path, PutPayload::from(body))
            .await
            .map_err(|e| s3_error("writing an object to s3", e))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, BackendError> {
        let path = self.path_of(key)?;
        let result = match self.store.get(&path).await {
            Ok(result) => result,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(s3_error("reading an object from s3", e)),
        };
        if result.meta.size > MAX_OBJECT_SIZE as u64 {
            return Err(BackendError::corrupt(format!(
                "object {key} of {} bytes is over the size limit",
                result.meta.size
            )));
        }
        let body = result
            .bytes()
            .await
            .map_err(|e| s3_error("reading an object body from s3", e))?;
        Ok(Some(body))
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Bytes>>, BackendError> {
        // Refuse a bad key before any request, as a single `get` would.
        for key in keys {
            validate_key(key)?;
        }
        // The futures are made up front (they do nothing until polled): a closure mapping
        // borrowed keys inside the stream trips the compiler's `Send` check of this async fn.
        let gets: Vec<_> = keys.iter().map(|key| self.get(key)).collect();
        futures::stream::iter(gets)
            .buffered(GET_MANY_CONCURRENCY)
            .try_collect()
            .await
    }

    async fn delete(&self, key: &str) -> Result<(), BackendError> {
        let path = self.path_of(key)?;
        match self.store.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(s3_error("deleting an object from s3", e)),
        }
    }

    async fn list(&self, prefix: &str, limit: usize) -> Result<Vec<String>, BackendError> {
        validate_prefix(prefix)?;
        let limit = limit.min(MAX_LIST);
        let mut keys = Vec::new();
        if limit == 0 {
            return Ok(keys);
        }
        // With a namespace, `full_key("")` is the namespace and its separator: the whole store.
        let full_prefix = self.config.full_key(prefix);
        let parent = self.listing_parent(&full_prefix);
        let mut listing = self.store.list(parent.as_ref());
        while let Some(meta) = listing.next().await {
            let meta = meta.map_err(|e| s3_error("listing objects in s3", e))?;
            let full = meta.location.as_ref();
            if !full.starts_with(&*full_prefix) {
                // S3 lists in key order: past the prefix range, nothing more can match.
                if full > full_prefix.as_str() {
                    break;
                }
                continue;
            }
            if let Some(key) = self.config.relative_key(full) {
                keys.push(key.to_string());
                if keys.len() == limit {
                    break;
                }
            }
        }
        Ok(keys)
    }

    async fn health_check(&self) -> Result<(), BackendError> {
        // One listing request: fails if the bucket is missing, unreachable or forbidden.
        let parent = self.config.prefix.as_deref().map(Path::from);
        match self.store.list(parent.as_ref()).next().await {
            None | Some(Ok(_)) => Ok(()),
            Some(Err(e)) => Err(s3_error("checking the s3 bucket", e)),
        }
    }
}

#[cfg(test)]
#[path = "s3_tests.rs"]
pub(crate) mod tests;
