//! The broker objects behind one mailbox, and their arguments.
//!
//! For a mailbox `N` under prefix `P`:
//! - `P.N`, the work queue: length-limited with `reject-publish`, so a full mailbox refuses the
//!   publish (a nack) and the edge answers 503 instead of the broker dropping old messages;
//! - `P.N.retry.<tier>`, one per delay tier: no consumer; a message waits out the tier's TTL and
//!   is dead-lettered back into `P.N` (RabbitMQ's delayed-retry pattern, no plugin needed);
//! - `P.N.dead`: dead letters, length-limited too, kept for operators.
//!
//! Quorum queues by default (replicated, and at-least-once dead-lettering, so a retry that comes
//! back to a full work queue waits instead of being dropped); classic durable queues where the
//! broker has no quorum queues.

use std::time::Duration;

use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};

use crate::backends::queue::{QueueLimits, QueueName};

/// Delays a retry is rounded up to.
pub const RETRY_TIERS: [Duration; 9] = [
    Duration::from_secs(1),
    Duration::from_secs(5),
    Duration::from_secs(30),
    Duration::from_secs(2 * 60),
    Duration::from_secs(10 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(60 * 60),
    Duration::from_secs(3 * 60 * 60),
    Duration::from_secs(6 * 60 * 60),
];

/// Which kind of queue to declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueueType {
    #[default]
    Quorum,
    Classic,
}

/// Names of one mailbox's queues.
#[derive(Debug, Clone)]
pub struct Names {
    pub work: String,
    pub dead: String,
    pub retries: Vec<(Duration, String)>,
}

impl Names {
    pub fn new(prefix: &str, queue: QueueName) -> Self {
        let work = format!("{prefix}.{}", queue.as_str());
        let retries = RETRY_TIERS
            .iter()
            .map(|tier| (*tier, format!("{work}.retry.{}s", tier.as_secs())))
            .collect();
        Names {
            dead: format!("{work}.dead"),
            work,
            retries,
        }
    }

    /// The retry queue for a delay of `after`: the smallest tier that is at least as long (the
    /// longest tier past it; the worker retries again after that). `None` for no delay.
    pub fn retry_queue(&self, after: Duration) -> Option<&str> {
        if after.is_zero() {
            return None;
        }
        self.retries
            .iter()
            .find(|(tier, _)| *tier >= after)
            .or(self.retries.last())
            .map(|(_, name)| name.as_str())
    }
}

/// Arguments shared by every queue of a mailbox.
fn base(kind: QueueType, expires: Option<Duration>) -> FieldTable {
    let mut arguments = FieldTable::default();
    if kind == QueueType::Quorum {
        arguments.insert("x-queue-type".into(), string("quorum"));
    }
    if let Some(expires) = expires {
        arguments.insert("x-expires".into(), millis(expires));
    }
    arguments
}

/// The work queue: bounded, refusing publishes when full.
pub fn work_arguments(
    kind: QueueType,
    limits: &QueueLimits,
    expires: Option<Duration>,
) -> FieldTable {
    let mut arguments = base(kind, expires);
    arguments.insert("x-max-length".into(), count(limits.capacity));
    arguments.insert("x-overflow".into(), string("reject-publish"));
    arguments
}

/// The dead letters: bounded the same way.
pub fn dead_arguments(
    kind: QueueType,
    limits: &QueueLimits,
    expires: Option<Duration>,
) -> FieldTable {
    let mut arguments = base(kind, expires);
    arguments.insert("x-max-length".into(), count(limits.dead_letter_capacity));
    arguments.insert("x-overflow".into(), string("reject-publish"));
    arguments
}

/// A retry tier: messages wait out `delay`, then go back to `work`.
pub fn retry_arguments(
    kind: QueueType,
    delay: Duration,
    work: &str,
    expires: Option<Duration>,
) -> FieldTable {
    let mut arguments = base(kind, expires);
    arguments.insert("x-message-ttl".into(), millis(delay));
    arguments.insert("x-dead-letter-exchange".into(), string(""));
    arguments.insert("x-dead-letter-routing-key".into(), string(work));
    if kind == QueueType::Quorum {
        // Dropping a retry because the work queue is full would lose an accepted parcel.
        arguments.insert("x-dead-letter-strategy".into(), string("at-least-once"));
        arguments.insert("x-overflow".into(), string("reject-publish"));
    }
    arguments
}

fn string(value: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(value.as_bytes().to_vec()))
}

fn count(value: u64) -> AMQPValue {
    AMQPValue::LongLongInt(i64::try_from(value).unwrap_or(i64::MAX))
}

fn millis(duration: Duration) -> AMQPValue {
    AMQPValue::LongLongInt(i64::try_from(duration.as_millis()).unwrap_or(i64::MAX))
}

/// A queue name as the protocol carries it.
pub fn short(name: &str) -> ShortString {
    ShortString::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_round_up_to_a_tier() {
        let names = Names::new("awala", QueueName::OutboundParcels);
        assert_eq!(names.work, "awala.outbound_parcels");
        assert_eq!(names.dead, "awala.outbound_parcels.dead");
        assert_eq!(names.retry_queue(Duration::ZERO), None);
        assert_eq!(
            names.retry_queue(Duration::from_millis(20)),
            Some("awala.outbound_parcels.retry.1s")
        );
        assert_eq!(
            names.retry_queue(Duration::from_secs(6)),
            Some("awala.outbound_parcels.retry.30s")
        );
        assert_eq!(
            names.retry_queue(Duration::from_secs(100 * 3600)),
            Some("awala.outbound_parcels.retry.21600s")
        );
    }
}
