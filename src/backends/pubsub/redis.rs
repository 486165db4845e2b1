//! Notifications over Redis pub/sub (`redis://host:port/db`), shared by every gateway replica.
//!
//! Publishing and health checks borrow connections from a `deadpool-redis` pool. Subscribing
//! needs a connection in subscriber mode, which can do nothing else, so the process keeps ONE
//! for all its channels: the hub task ([`super::redis_hub`]) multiplexes SUBSCRIBE/UNSUBSCRIBE
//! on it and fans messages out to local subscribers through bounded broadcasts, instead of one
//! Redis connection per WebSocket. The hub reconnects on its own; when it does, every live
//! subscriber gets [`Notification::Lagged(0)`](super::Notification::Lagged) and re-lists the
//! store, since messages published while it was away are gone.

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use deadpool_redis::redis::{self, RedisError, RetryMethod};
use deadpool_redis::{Pool, PoolConfig, PoolError, Runtime, Timeouts};

use super::memory::check_channel;
use super::redis_hub::Hub;
use super::{Notifier, NotifierLimits, Subscription};
use crate::backends::error::{BackendError, BackendErrorKind};

/// Pooled command connections (PUBLISH and PING only, each quick).
const POOL_SIZE: usize = 16;
/// Longest wait for a pooled connection, or for a new one to be made.
const POOL_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest wait for one command's answer (on top of the driver's own response timeout).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);
/// How long opening waits for the subscriber connection, so that collections arriving right
/// after start-up can subscribe; a Redis that is down does not hold start-up longer.
const OPEN_WAIT: Duration = Duration::from_secs(2);

/// A [`Notifier`] on a Redis server.
#[derive(Clone)]
pub struct RedisNotifier {
    pool: Pool,
    hub: Hub,
    limits: NotifierLimits,
    /// Prepended to every channel name; empty in production, unique per test so test runs
    /// sharing a server (pub/sub ignores the database number) do not hear each other.
    channel_prefix: String,
}

impl std::fmt::Debug for RedisNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisNotifier")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl RedisNotifier {
    /// Checks `url`, starts the subscriber hub on the current tokio runtime and gives it a
    /// moment to connect. Opening does not fail when Redis is down: until it answers, publishing
    /// and subscribing fail with `Unavailable` and [`Notifier::health_check`] says why, while the
    /// hub keeps trying to connect.
    pub async fn open(url: &str, limits: NotifierLimits) -> Result<Self, BackendError> {
        Self::open_with_prefix(url, limits, "").await
    }

    /// [`RedisNotifier::open`], with every channel name prefixed by `channel_prefix`.
    pub async fn open_with_prefix(
        url: &str,
        limits: NotifierLimits,
        channel_prefix: &str,
    ) -> Result<Self, BackendError> {
        let limits = NotifierLimits {
            channel_capacity: limits.channel_capacity.max(1),
            ..limits
        };
        let bad_url = |e: RedisError| {
            BackendError::internal(format!("invalid redis url: {e}")).with_source(e)
        };
        let client = redis::Client::open(url).map_err(bad_url)?;
        let mut config = deadpool_redis::Config::from_url(url);
        config.pool = Some(PoolConfig {
            max_size: POOL_SIZE,
            timeouts: Timeouts {
                wait: Some(POOL_TIMEOUT),
                create: Some(POOL_TIMEOUT),
                recycle: Some(POOL_TIMEOUT),
            },
            ..PoolConfig::default()
        });
        let pool = config.create_pool(Some(Runtime::Tokio1)).map_err(|e| {
            BackendError::internal(format!("creating the redis pool: {e}")).with_source(e)
        })?;
        let hub = Hub::start(client, limits);
        if !hub.wait_connected(OPEN_WAIT).await {
            tracing::warn!(
                "redis is not answering yet; notifications are unavailable until it does"
            );
        }
        Ok(RedisNotifier {
            pool,
            hub,
            limits,
            channel_prefix: channel_prefix.to_string(),
        })
    }

    fn full_channel(&self, channel: &str) -> Result<String, BackendError> {
        check_channel(&self.limits, channel)?;
        Ok(format!("{}{channel}", self.channel_prefix))
    }

    /// Runs `command` on a pooled connection, within [`COMMAND_TIMEOUT`].
    async fn query<T: redis::FromRedisValue>(
        &self,
        context: &str,
        command: &redis::Cmd,
    ) -> Result<T, BackendError> {
        let mut connection = self.pool.get().await.map_err(|e| pool_error(context, e))?;
        match tokio::time::timeout(COMMAND_TIMEOUT, command.query_async(&mut *connection)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(redis_error(context, e)),
            Err(_) => Err(BackendError::unavailable(format!(
                "{context}: no answer from redis within {COMMAND_TIMEOUT:?}"
            ))),
        }
    }
}

/// Lost connections, timeouts and anything the driver would retry are `Unavailable`; other
/// errors (a refused command, a bad reply) are ours to fix.
pub(super) fn redis_error(context: &str, error: RedisError) -> BackendError {
    let transient = error.is_io_error()
        || error.is_timeout()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || !matches!(error.retry_method(), RetryMethod::NoRetry);
    let kind = if transient {
        BackendErrorKind::Unavailable
    } else {
        BackendErrorKind::Internal
    };
    BackendError::new(kind, format!("{context}: {error}")).with_source(error)
}

fn pool_error(context: &str, error: PoolError) -> BackendError {
    match error {
        PoolError::Backend(e) => redis_error(context, e),
        PoolError::Timeout(_) | PoolError::Closed => {
            BackendError::unavailable(format!("{context}: no redis connection: {error}"))
                .with_source(error)
        }
        _ => BackendError::internal(format!("{context}: {error}")).with_source(error),
    }
}

#[async_trait]
impl Notifier for RedisNotifier {
    async fn publish(&self, channel: &str, message: Bytes) -> Result<usize, BackendError> {
        let channel = self.full_channel(channel)?;
        let mut command = redis::cmd("PUBLISH");
        command.arg(&channel).arg(&message[..]);
        // Redis counts subscribed connections: one per gateway process with live collectors.
        self.query("publishing a notification", &command).await
    }

    async fn subscribe(&self, channel: &str) -> Result<Subscription, BackendError> {
        let channel = self.full_channel(channel)?;
        self.hub.subscribe(channel).await
    }

    async fn health_check(&self) -> Result<(), BackendError> {
        let pong: String = self.query("pinging redis", &redis::cmd("PING")).await?;
        if pong != "PONG" {
            return Err(BackendError::internal(format!(
                "redis answered {pong:?} to PING"
            )));
        }
        self.hub.health_check()
    }
}

#[cfg(test)]
#[path = "redis_tests.rs"]
mod tests;
