//! Durable mailboxes: the cargo mailbox and the outbound parcel mailbox.
//!
//! Contract shared by every implementation (checked by [`conformance`]):
//! - [`DurableQueue::publish`] returns only once the message is durable; the binding answers 202
//!   or ACKs the courier after that and never before.
//! - [`DurableQueue::receive`] leases messages: a leased message is invisible to other consumers
//!   until it is acked, nacked, dead-lettered or its lease expires (then it is redelivered).
//!   Consumers ack only after the effect of the message is itself durable.
//! - Order is FIFO by (time the message becomes available, insertion order).
//! - Every queue has a capacity; when full, publishing fails with `Unavailable` (at once, or after
//!   a bounded wait, per [`OverloadMode`]). Nothing is dropped silently.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};

use super::error::BackendError;

pub mod conformance;
pub mod embedded;

pub use embedded::EmbeddedQueue;

/// The mailboxes of the gateway. A closed set, so names can be metric labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QueueName {
    /// Cargo delivered by couriers, waiting to be unwrapped.
    IncomingCargo,
    /// Internet-bound parcels waiting for a PoHTTP delivery.
    OutboundParcels,
}

impl QueueName {
    pub const ALL: [QueueName; 2] = [QueueName::IncomingCargo, QueueName::OutboundParcels];

    /// Stable name, used in storage, metrics and broker queue names.
    pub fn as_str(self) -> &'static str {
        match self {
            QueueName::IncomingCargo => "incoming_cargo",
            QueueName::OutboundParcels => "outbound_parcels",
        }
    }
}

impl fmt::Display for QueueName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happens when a producer publishes to a full queue. Never a silent drop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OverloadMode {
    /// Wait up to [`QueueLimits::block_timeout`] for room, then fail with `Unavailable`.
    #[default]
    Block,
    /// Fail with `Unavailable` at once.
    RejectNewest,
}

/// Told how long a publisher waited for room in a full queue ([`OverloadMode::Block`]), so the
/// wait can be counted (`gateway_mailbox_blocked_seconds_total`) without backends knowing of
/// metrics.
#[derive(Clone)]
pub struct BlockedObserver(Arc<dyn Fn(QueueName, Duration) + Send + Sync>);

impl BlockedObserver {
    pub fn new(observe: impl Fn(QueueName, Duration) + Send + Sync + 'static) -> Self {
        BlockedObserver(Arc::new(observe))
    }

    pub fn observe(&self, queue: QueueName, waited: Duration) {
        (self.0)(queue, waited);
    }
}

impl fmt::Debug for BlockedObserver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BlockedObserver")
    }
}

/// Bounds of one queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueLimits {
    /// Most messages held (ready and leased; dead letters are counted separately).
    pub capacity: u64,
    pub overload: OverloadMode,
    /// Longest wait for room in [`OverloadMode::Block`].
    pub block_timeout: Duration,
    /// Most dead letters kept per queue; past it `dead_letter` fails with `Unavailable`.
    pub dead_letter_capacity: u64,
    /// Largest message body accepted.
    pub max_body_bytes: usize,
}

impl Default for QueueLimits {
    fn default() -> Self {
        QueueLimits {
            capacity: 100_000,
            overload: OverloadMode::Block,
            block_timeout: Duration::from_secs(5),
            dead_letter_capacity: 100_000,
            // A cargo or parcel is at most 9 MiB (protocol limits); leave room for framing.
            max_body_bytes: 10 * 1024 * 1024,
        }
    }
}

/// Limits for every queue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueSettings {
    pub incoming_cargo: QueueLimits,
    pub outbound_parcels: QueueLimits,
}

impl QueueSettings {
    /// The same limits for every queue.
    pub fn uniform(limits: QueueLimits) -> Self {
        QueueSettings {
            incoming_cargo: limits,
            outbound_parcels: limits,
        }
    }

    pub fn limits(&self, queue: QueueName) -> &QueueLimits {
        match queue {
            QueueName::IncomingCargo => &self.incoming_cargo,
            QueueName::OutboundParcels => &self.outbound_parcels,
        }
    }
}

/// A message to publish.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueueMessage {
    pub body: Bytes,
    /// Small metadata (e.g. recipient address, expiry) the consumer needs before parsing the body.
    pub attributes: BTreeMap<String, String>,
    /// The message is not delivered before this time (delayed retries, scheduled work).
    pub not_before: Option<DateTime<Utc>>,
}

impl QueueMessage {
    pub fn new(body: impl Into<Bytes>) -> Self {
        QueueMessage {
            body: body.into(),
            ..Default::default()
        }
    }

    pub fn with_attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.attributes.insert(key.into(), value.into());
        self
    }
}

/// Identifies one lease of one message. A stale id (its lease expired and the message was
/// leased again) is refused with `Conflict` by `ack`, `nack`, `dead_letter` and `extend_lease`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeliveryId {
    pub queue: QueueName,
    pub message_id: i64,
    pub lease_token: i64,
}

/// A leased message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: DeliveryId,
    pub body: Bytes,
    pub attributes: BTreeMap<String, String>,
    /// How many times the message has been delivered, this delivery included (1 the first time;
    /// each nack or lease expiry adds one on the next delivery).
    pub attempts: u32,
}

/// A message a consumer gave up on, kept for operators to inspect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub queue: QueueName,
    pub message_id: i64,
    pub body: Bytes,
    pub attributes: BTreeMap<String, String>,
    pub attempts: u32,
    pub reason: String,
    pub dead_at: DateTime<Utc>,
}

/// A durable, leased, bounded mailbox. Used as `Arc<dyn DurableQueue>`.
#[async_trait]
pub trait DurableQueue: Send + Sync {
    /// Stores the message durably, then returns. `Unavailable` when the queue is full (see
    /// [`OverloadMode`]) or the backend is down; the caller must not acknowledge its producer then.
    async fn publish(&self, queue: QueueName, message: QueueMessage) -> Result<(), BackendError>;

    /// Leases up to `max` available messages for `lease`, oldest first. Returns at once (possibly
    /// empty); consumers poll or wait for a notification.
    async fn receive(
        &self,
        queue: QueueName,
        max: usize,
        lease: Duration,
    ) -> Result<Vec<Delivery>, BackendError>;

    /// Deletes the message: its effect is durable. `Conflict` if the lease was lost.
    async fn ack(&self, delivery: &DeliveryId) -> Result<(), BackendError>;

    /// Gives the message back for redelivery no sooner than `retry_after` from now.
    async fn nack(&self, delivery: &DeliveryId, retry_after: Duration) -> Result<(), BackendError>;

    /// Moves the message to the dead-letter store with `reason`; it is never redelivered.
    async fn dead_letter(&self, delivery: &DeliveryId, reason: &str) -> Result<(), BackendError>;

    /// Keeps the message leased for `lease` from now (a heartbeat for long work).
    async fn extend_lease(
        &self,
        delivery: &DeliveryId,
        lease: Duration,
    ) -> Result<(), BackendError>;

    /// Messages held in the queue, ready or leased (not dead letters).
    async fn depth(&self, queue: QueueName) -> Result<u64, BackendError>;

    /// The oldest dead letters of `queue`, up to `limit`.
    async fn dead_letters(
        &self,
        queue: QueueName,
        limit: usize,
    ) -> Result<Vec<DeadLetter>, BackendError>;

    async fn health_check(&self) -> Result<(), BackendError>;
}
