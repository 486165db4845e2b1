//! What goes into a mailbox and what comes out of it, the same for every implementation.

use std::any::Any;
use std::collections::BTreeMap;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use super::{QueueLimits, QueueName};
use crate::backends::error::BackendError;

/// CloudEvents context attributes: a message attribute may not take these names, because on a
/// broker attributes travel as CloudEvents extension attributes beside them.
const RESERVED: [&str; 8] = [
    "id",
    "source",
    "type",
    "specversion",
    "time",
    "datacontenttype",
    "subject",
    "dataschema",
];

/// Whether `name` may name a message attribute: a CloudEvents extension name (lower-case ASCII
/// letters and digits, at most 20 characters) that is not a context attribute, so any
/// CloudEvents tool can read the messages a broker holds.
pub fn valid_attribute(name: &str) -> bool {
    (1..=20).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && !RESERVED.contains(&name)
}

/// A message to publish.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueueMessage {
    pub body: Bytes,
    /// Small metadata (e.g. recipient address, expiry) the consumer needs before parsing the body.
    /// Names must pass [`valid_attribute`].
    pub attributes: BTreeMap<String, String>,
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

    /// Refuses what no implementation may store: a body over the limit or a bad attribute name.
    pub fn check(&self, queue: QueueName, limits: &QueueLimits) -> Result<(), BackendError> {
        if self.body.len() > limits.max_body_bytes {
            return Err(BackendError::internal(format!(
                "message of {} bytes is over the {queue} limit of {} bytes",
                self.body.len(),
                limits.max_body_bytes
            )));
        }
        match self.attributes.keys().find(|name| !valid_attribute(name)) {
            Some(name) => Err(BackendError::internal(format!(
                "`{name}` cannot name a message attribute (CloudEvents extension names only)"
            ))),
            None => Ok(()),
        }
    }
}

/// Identifies one delivery of one message to one consumer. A delivery whose consumer is gone
/// (the message was handed to another) is refused with `Conflict` by `ack`, `retry` and
/// `dead_letter`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeliveryId {
    pub queue: QueueName,
    /// The embedded queue's row id, or a broker's delivery tag.
    pub tag: u64,
    /// The embedded queue's attempt number, or the generation of a broker's channel: a settle
    /// carrying an old one is stale.
    pub token: u64,
}

/// A message handed to a consumer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: DeliveryId,
    pub body: Bytes,
    pub attributes: BTreeMap<String, String>,
    /// How many times the message has been delivered, this delivery included (1 the first time;
    /// each retry or redelivery after a lost consumer adds one).
    pub attempts: u32,
}

/// A message a consumer gave up on, kept for operators to inspect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub queue: QueueName,
    /// The embedded queue's row id, or the message's CloudEvents id on a broker.
    pub message_id: String,
    pub body: Bytes,
    pub attributes: BTreeMap<String, String>,
    pub attempts: u32,
    pub reason: String,
    pub dead_at: DateTime<Utc>,
}

/// A push consumer: deliveries as the queue sends them. Dropping it gives its unsettled
/// deliveries back to the queue.
pub struct Consumer {
    deliveries: mpsc::Receiver<Result<Delivery, BackendError>>,
    /// Whatever keeps the implementation's side alive (a task handle, a broker channel).
    _guard: Box<dyn Any + Send>,
}

impl Consumer {
    pub fn new(
        deliveries: mpsc::Receiver<Result<Delivery, BackendError>>,
        guard: impl Any + Send,
    ) -> Self {
        Consumer {
            deliveries,
            _guard: Box::new(guard),
        }
    }

    /// The next delivery; an error when the connection was lost (open a new consumer), `None`
    /// once the consumer has ended.
    pub async fn next(&mut self) -> Option<Result<Delivery, BackendError>> {
        self.deliveries.recv().await
    }
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Consumer")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_names_are_cloudevents_extension_names() {
        assert!(valid_attribute("recipientaddress"));
        assert!(valid_attribute("expiry2"));
        for bad in [
            "",
            "recipient_address",
            "Expiry",
            "id",
            "type",
            "averyveryverylongname1",
        ] {
            assert!(!valid_attribute(bad), "{bad}");
        }
        let message = QueueMessage::new("x").with_attribute("parcel_id", "1");
        let limits = QueueLimits::default();
        assert!(message.check(QueueName::OutboundParcels, &limits).is_err());
    }
}
