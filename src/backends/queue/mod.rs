//! Durable mailboxes: the cargo mailbox and the outbound parcel mailbox.
//!
//! The trait follows a message broker's own model (RabbitMQ's, which runs it in distributed mode),
//! not leases emulated on one:
//! - [`DurableQueue::publish`] returns only once the message is durable (a publisher confirm on a
//!   broker); the binding answers 202 or ACKs the courier after that and never before. A refused
//!   publish (full queue, unroutable, broker down) is an error, never a success.
//! - [`DurableQueue::consume`] opens a push consumer: the queue sends deliveries as they arrive,
//!   never more than `prefetch` unsettled at once. A delivery stays with its consumer until it is
//!   settled ([`ack`](DurableQueue::ack), [`retry`](DurableQueue::retry) or
//!   [`dead_letter`](DurableQueue::dead_letter)) or the consumer is dropped or loses its
//!   connection; then it is delivered again, with `attempts` one higher. Consumers ack only once
//!   the effect of the message is itself durable.
//! - Order is FIFO among messages ready at the same time.
//! - Every queue has a capacity; when full, publishing fails with `Unavailable` (at once, or after
//!   a bounded wait, per [`OverloadMode`]). Nothing is dropped silently.
//!
//! Implementations: [`EmbeddedQueue`] (SQLite, one process) and [`amqp::AmqpQueue`] (RabbitMQ).
//! One suite ([`conformance`]) runs on both.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::error::BackendError;

pub mod amqp;
pub mod conformance;
pub mod embedded;
mod embedded_consumer;
mod message;

pub use embedded::EmbeddedQueue;
pub use message::{valid_attribute, Consumer, DeadLetter, Delivery, DeliveryId, QueueMessage};

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

/// A durable, bounded mailbox with push consumers. Used as `Arc<dyn DurableQueue>`.
#[async_trait]
pub trait DurableQueue: Send + Sync {
    /// Stores the message durably, then returns. `Unavailable` when the queue is full (see
    /// [`OverloadMode`]) or the backend is down; the caller must not acknowledge its producer then.
    async fn publish(&self, queue: QueueName, message: QueueMessage) -> Result<(), BackendError>;

    /// Opens a push consumer of `queue` holding at most `prefetch` unsettled deliveries. Its
    /// unsettled deliveries go back to the queue when it is dropped.
    async fn consume(&self, queue: QueueName, prefetch: usize) -> Result<Consumer, BackendError>;

    /// Removes the message: its effect is durable. `Conflict` if the delivery is no longer this
    /// consumer's (its consumer was dropped or its connection lost).
    async fn ack(&self, delivery: &DeliveryId) -> Result<(), BackendError>;

    /// Delivers the message again no sooner than `after` from now (brokers round up to the next
    /// delay tier), with `attempts` one higher.
    async fn retry(&self, delivery: &DeliveryId, after: Duration) -> Result<(), BackendError>;

    /// Moves the message to the queue's dead letters with `reason`; it is never redelivered.
    async fn dead_letter(&self, delivery: &DeliveryId, reason: &str) -> Result<(), BackendError>;

    /// Messages held in the queue, dead letters aside. A broker may leave out the deliveries its
    /// consumers hold and the retries waiting out their delay.
    async fn depth(&self, queue: QueueName) -> Result<u64, BackendError>;

    /// The oldest dead letters of `queue`, up to `limit`, without removing them.
    async fn dead_letters(
        &self,
        queue: QueueName,
        limit: usize,
    ) -> Result<Vec<DeadLetter>, BackendError>;

    /// Puts dead letter `message_id` (as [`DeadLetter::message_id`] gives it) back at the end of
    /// `queue`, its attempts counted afresh. `NotFound` if `queue` has no such dead letter;
    /// `Unavailable` if the queue is full, and the dead letter stays.
    async fn retry_dead_letter(
        &self,
        queue: QueueName,
        message_id: &str,
    ) -> Result<(), BackendError>;

    /// Deletes dead letter `message_id` of `queue` for good. `NotFound` if there is none.
    async fn drop_dead_letter(
        &self,
        queue: QueueName,
        message_id: &str,
    ) -> Result<(), BackendError>;

    async fn health_check(&self) -> Result<(), BackendError>;
}
