//! Notifications: "a parcel was stored for this private gateway", to live collectors.
//!
//! Best effort by design: a collector subscribes *before* listing the store (DESIGN.md §6), so a
//! lost notification only delays a parcel until the next listing. What implementations must not
//! do is lose notifications silently: a subscriber that falls behind gets
//! [`Notification::Lagged`] and re-lists the store. Checked by [`conformance`].

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;

use super::error::BackendError;

pub mod conformance;
pub mod memory;
pub mod redis;
mod redis_hub;

pub use memory::{MemoryNotifier, NotifierLimits};
pub use redis::RedisNotifier;

/// Channel of a private gateway's "parcel stored" notifications (the reference gateway's name).
pub fn parcel_channel(pg_id: &str) -> String {
    format!("pdc-parcel.{pg_id}")
}

/// An item of a subscription stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notification {
    Message(Bytes),
    /// The subscriber fell behind and this many messages were skipped: re-list the store.
    /// `Lagged(0)`: an unknown number may have been missed (the backend reconnected).
    Lagged(u64),
}

/// Subscription: ends when the notifier is dropped, or when the backend connection is lost for
/// good; a notifier that reconnects (Redis) keeps it open and sends `Lagged(0)` instead.
pub type Subscription = BoxStream<'static, Notification>;

/// Publish/subscribe by channel name. Used as `Arc<dyn Notifier>`.
#[async_trait]
pub trait Notifier: Send + Sync {
    /// Sends `message` to the current subscribers of `channel`; returns how many there were
    /// (0 is not an error: nobody is listening live).
    async fn publish(&self, channel: &str, message: Bytes) -> Result<usize, BackendError>;
    /// Subscribes to `channel`; messages published after this returns are delivered.
    async fn subscribe(&self, channel: &str) -> Result<Subscription, BackendError>;
    async fn health_check(&self) -> Result<(), BackendError>;
}
