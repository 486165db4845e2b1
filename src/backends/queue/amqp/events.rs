//! Messages on the broker as CloudEvents (AMQP binding, binary content mode): the body is the
//! event data, context attributes and our attributes travel as `cloudEvents:`-prefixed headers,
//! `content-type` is the data's media type. Any CloudEvents tool can read what the gateway queues.
//!
//! Attempts come from the broker: quorum queues count redeliveries in `x-delivery-count` (classic
//! queues only flag them), and a message that goes through a retry tier or to the dead letters is
//! a copy that carries the attempts so far in `x-awala-attempts`.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::BasicProperties;

use crate::backends::queue::QueueName;

const PREFIX: &str = "cloudEvents:";
const SPEC_VERSION: &str = "1.0";
const SOURCE: &str = "urn:awala-gateway";
/// Deliveries before the current copy was published (retries, dead letters).
pub const ATTEMPTS: &str = "x-awala-attempts";
pub const DEAD_REASON: &str = "x-awala-dead-reason";
pub const DEAD_AT: &str = "x-awala-dead-at";
/// Headers the broker adds and that must not be copied into a new message.
const BROKER_HEADERS: [&str; 8] = [
    "x-delivery-count",
    "x-death",
    "x-first-death-exchange",
    "x-first-death-queue",
    "x-first-death-reason",
    "x-last-death-exchange",
    "x-last-death-queue",
    "x-last-death-reason",
];

/// The CloudEvents `type` of a mailbox's messages.
fn event_type(queue: QueueName) -> &'static str {
    match queue {
        QueueName::IncomingCargo => "network.awala.gateway.cargo.received",
        QueueName::OutboundParcels => "network.awala.gateway.parcel.outbound",
    }
}

/// The media type of a mailbox's message bodies.
fn content_type(queue: QueueName) -> &'static str {
    match queue {
        QueueName::IncomingCargo => "application/vnd.awala.cargo",
        QueueName::OutboundParcels => "application/vnd.awala.parcel",
    }
}

/// Properties of a new message with `id` and `attributes`.
pub fn new_properties(
    queue: QueueName,
    id: &str,
    attributes: &BTreeMap<String, String>,
    now: DateTime<Utc>,
) -> BasicProperties {
    let mut headers = FieldTable::default();
    let mut put = |name: &str, value: &str| {
        headers.insert(format!("{PREFIX}{name}").into(), text(value));
    };
    put("specversion", SPEC_VERSION);
    put("id", id);
    put("source", SOURCE);
    put("type", event_type(queue));
    put("time", &now.to_rfc3339_opts(SecondsFormat::Millis, true));
    for (name, value) in attributes {
        put(name, value);
    }
    BasicProperties::default()
        .with_content_type(content_type(queue).into())
        .with_delivery_mode(2)
        .with_message_id(ShortString::from(id))
        .with_timestamp(u64::try_from(now.timestamp()).unwrap_or(0))
        .with_headers(headers)
}

/// Properties of a copy of a delivered message (a retry or a dead letter): the broker's headers
/// go, the attempts so far and `extra` come in.
pub fn copy_properties(
    original: &BasicProperties,
    attempts: u32,
    extra: &[(&str, String)],
) -> BasicProperties {
    let mut headers = original.headers().clone().unwrap_or_default();
    let mut kept: BTreeMap<ShortString, AMQPValue> = headers
        .inner()
        .iter()
        .filter(|(name, _)| !BROKER_HEADERS.contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    kept.insert(ATTEMPTS.into(), AMQPValue::LongLongInt(i64::from(attempts)));
    for (name, value) in extra {
        kept.insert(ShortString::from(*name), text(value));
    }
    headers = FieldTable::from(kept);
    original.clone().with_headers(headers)
}

/// Properties of a dead letter put back in its work queue: attempts start again, and the
/// dead-letter headers go.
pub fn revived_properties(dead: &BasicProperties) -> BasicProperties {
    let copied = copy_properties(dead, 0, &[]);
    let headers = copied.headers().clone().unwrap_or_default();
    let kept: BTreeMap<ShortString, AMQPValue> = headers
        .inner()
        .iter()
        .filter(|(name, _)| ![DEAD_REASON, DEAD_AT].contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    copied.with_headers(FieldTable::from(kept))
}

/// What a consumer needs from a delivered message's properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub id: String,
    pub attributes: BTreeMap<String, String>,
    /// Deliveries of this message so far, this one included.
    pub attempts: u32,
}

/// Reads a delivered message's properties.
pub fn decode(properties: &BasicProperties, redelivered: bool) -> Decoded {
    let empty = FieldTable::default();
    let headers = properties.headers().as_ref().unwrap_or(&empty).inner();
    let mut attributes = BTreeMap::new();
    let mut id = properties
        .message_id()
        .as_ref()
        .map(|id| id.as_str().to_owned())
        .unwrap_or_default();
    for (name, value) in headers {
        let Some(name) = name.as_str().strip_prefix(PREFIX) else {
            continue;
        };
        let Some(value) = as_text(value) else {
            continue;
        };
        match name {
            "id" => id = value,
            "specversion" | "source" | "type" | "time" | "datacontenttype" | "subject"
            | "dataschema" => {}
            _ => {
                attributes.insert(name.to_owned(), value);
            }
        }
    }
    let before = headers.get(ATTEMPTS).and_then(as_count).unwrap_or(0);
    let redeliveries = match headers.get("x-delivery-count").and_then(as_count) {
        Some(count) => count,
        None => u32::from(redelivered),
    };
    Decoded {
        id,
        attributes,
        attempts: before.saturating_add(1).saturating_add(redeliveries),
    }
}

/// A header's text, if it is text.
pub fn header_text(properties: &BasicProperties, name: &str) -> Option<String> {
    properties
        .headers()
        .as_ref()
        .and_then(|headers| headers.inner().get(name))
        .and_then(as_text)
}

/// A header's count, if it is a whole number.
pub fn header_count(properties: &BasicProperties, name: &str) -> Option<u32> {
    properties
        .headers()
        .as_ref()
        .and_then(|headers| headers.inner().get(name))
        .and_then(as_count)
}

fn text(value: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(value.as_bytes().to_vec()))
}

fn as_text(value: &AMQPValue) -> Option<String> {
    match value {
        AMQPValue::LongString(text) => String::from_utf8(text.as_bytes().to_vec()).ok(),
        AMQPValue::ShortString(text) => Some(text.as_str().to_owned()),
        _ => None,
    }
}

fn as_count(value: &AMQPValue) -> Option<u32> {
    let number = match value {
        AMQPValue::ShortShortInt(n) => i64::from(*n),
        AMQPValue::ShortShortUInt(n) => i64::from(*n),
        AMQPValue::ShortInt(n) => i64::from(*n),
        AMQPValue::ShortUInt(n) => i64::from(*n),
        AMQPValue::LongInt(n) => i64::from(*n),
        AMQPValue::LongUInt(n) => i64::from(*n),
        AMQPValue::LongLongInt(n) => *n,
        _ => return None,
    };
    u32::try_from(number).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_round_trip_as_cloudevents_extensions() {
        let attributes = BTreeMap::from([("recipientaddress".to_owned(), "a.test".to_owned())]);
        let properties =
            new_properties(QueueName::OutboundParcels, "id-1", &attributes, Utc::now());
        assert_eq!(
            header_text(&properties, "cloudEvents:specversion").as_deref(),
            Some("1.0")
        );
        assert_eq!(
            properties.content_type().as_ref().map(|t| t.as_str()),
            Some("application/vnd.awala.parcel")
        );
        let decoded = decode(&properties, false);
        assert_eq!(decoded.id, "id-1");
        assert_eq!(decoded.attributes, attributes);
        assert_eq!(decoded.attempts, 1);
        assert_eq!(decode(&properties, true).attempts, 2);
    }

    #[test]
    fn copies_carry_attempts_and_drop_broker_headers() {
        let attributes = BTreeMap::new();
        let original = new_properties(QueueName::IncomingCargo, "id-2", &attributes, Utc::now());
        let mut headers = original.headers().clone().unwrap_or_default();
        headers.insert("x-delivery-count".into(), AMQPValue::LongLongInt(4));
        let redelivered = original.clone().with_headers(headers);
        assert_eq!(decode(&redelivered, true).attempts, 5);
        let copy = copy_properties(&redelivered, 5, &[(DEAD_REASON, "bad".to_owned())]);
        assert_eq!(header_count(&copy, "x-delivery-count"), None);
        assert_eq!(header_count(&copy, ATTEMPTS), Some(5));
        assert_eq!(header_text(&copy, DEAD_REASON).as_deref(), Some("bad"));
        assert_eq!(decode(&copy, false).attempts, 6);
    }
}
