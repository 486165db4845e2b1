//! What travels on the durable mailboxes between the protocol-facing actors and the workers.
//!
//! One type per queue, with the one conversion to and from [`QueueMessage`]/[`Delivery`], so
//! producers (PoWeb, cargo unwrapping, DeliverCargo) and consumers (outbound delivery, cargo
//! unwrapping) can never disagree on attribute names. Attributes carry what a consumer needs
//! before parsing the body (where to deliver, when to give up); the body is the message itself.

use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use thiserror::Error;

use crate::backends::metadata::ParcelCollection;
use crate::backends::queue::{Delivery, QueueMessage};

// CloudEvents extension names, so brokers can carry them as such (`queue::valid_attribute`).
const RECIPIENT_ADDRESS: &str = "recipientaddress";
const EXPIRY: &str = "expiry";
const PARCEL_ID: &str = "parcelid";
const RECEIVED_AT: &str = "receivedat";
const PRIVATE_GATEWAY_ID: &str = "privategatewayid";
const SENDER_ID: &str = "senderid";
const RECIPIENT_ID: &str = "recipientid";

/// The names earlier versions wrote, still read from embedded queues they left behind.
fn legacy_name(name: &str) -> Option<&'static str> {
    match name {
        RECIPIENT_ADDRESS => Some("recipient_address"),
        PARCEL_ID => Some("parcel_id"),
        RECEIVED_AT => Some("received_at"),
        _ => None,
    }
}

/// A mailbox message that does not carry what its type needs (a bug or a foreign producer).
#[derive(Debug, Error, PartialEq, Eq)]
#[error("mailbox message has no valid `{0}` attribute")]
pub struct MailboxMessageError(pub &'static str);

/// An Internet-bound parcel waiting for its PoHTTP delivery (`QueueName::OutboundParcels`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundParcel {
    /// The parcel serialisation, delivered byte for byte.
    pub parcel: Bytes,
    /// The recipient's Internet address (a domain), which selects the route or SRV lookup.
    pub recipient_address: String,
    /// Past this instant the parcel is dropped instead of delivered.
    pub expiry: DateTime<Utc>,
    /// For logs, and with `origin` the parcel's pending record.
    pub parcel_id: String,
    /// Who handed it over; absent in messages from before the Internet-bound quota.
    pub origin: Option<ParcelOrigin>,
}

/// The private gateway that handed an Internet-bound parcel over, and the parcel's ends: with
/// its id and expiry, the key of its [`ParcelCollection`] record, which the worker settles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParcelOrigin {
    pub pg_id: String,
    pub sender_id: String,
    pub recipient_id: String,
}

impl OutboundParcel {
    pub fn to_queue_message(&self) -> QueueMessage {
        let message = QueueMessage::new(self.parcel.clone())
            .with_attribute(RECIPIENT_ADDRESS, self.recipient_address.clone())
            .with_attribute(EXPIRY, format_time(self.expiry))
            .with_attribute(PARCEL_ID, self.parcel_id.clone());
        match &self.origin {
            Some(origin) => message
                .with_attribute(PRIVATE_GATEWAY_ID, origin.pg_id.clone())
                .with_attribute(SENDER_ID, origin.sender_id.clone())
                .with_attribute(RECIPIENT_ID, origin.recipient_id.clone()),
            None => message,
        }
    }

    /// The record that counts this parcel against its private gateway's Internet-bound quota.
    pub fn collection(&self) -> Option<ParcelCollection> {
        self.origin.as_ref().map(|origin| ParcelCollection {
            parcel_id: self.parcel_id.clone(),
            pg_id: origin.pg_id.clone(),
            recipient_id: origin.recipient_id.clone(),
            sender_id: origin.sender_id.clone(),
            expiry: self.expiry,
        })
    }

    pub fn from_delivery(delivery: &Delivery) -> Result<Self, MailboxMessageError> {
        Ok(OutboundParcel {
            parcel: delivery.body.clone(),
            recipient_address: attribute(delivery, RECIPIENT_ADDRESS)?.to_owned(),
            expiry: parse_time(delivery, EXPIRY)?,
            parcel_id: attribute(delivery, PARCEL_ID)?.to_owned(),
            origin: match (
                attribute(delivery, PRIVATE_GATEWAY_ID),
                attribute(delivery, SENDER_ID),
                attribute(delivery, RECIPIENT_ID),
            ) {
                (Ok(pg_id), Ok(sender_id), Ok(recipient_id)) => Some(ParcelOrigin {
                    pg_id: pg_id.to_owned(),
                    sender_id: sender_id.to_owned(),
                    recipient_id: recipient_id.to_owned(),
                }),
                _ => None,
            },
        })
    }
}

/// Cargo a courier delivered, validated and waiting to be unwrapped (`QueueName::IncomingCargo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingCargo {
    /// The cargo serialisation as the courier delivered it.
    pub cargo: Bytes,
    /// When DeliverCargo accepted it (for the unwrapping-latency metric and logs).
    pub received_at: DateTime<Utc>,
}

impl IncomingCargo {
    pub fn to_queue_message(&self) -> QueueMessage {
        QueueMessage::new(self.cargo.clone())
            .with_attribute(RECEIVED_AT, format_time(self.received_at))
    }

    pub fn from_delivery(delivery: &Delivery) -> Result<Self, MailboxMessageError> {
        Ok(IncomingCargo {
            cargo: delivery.body.clone(),
            received_at: parse_time(delivery, RECEIVED_AT)?,
        })
    }
}

fn attribute<'a>(
    delivery: &'a Delivery,
    name: &'static str,
) -> Result<&'a str, MailboxMessageError> {
    let attributes = &delivery.attributes;
    attributes
        .get(name)
        .or_else(|| legacy_name(name).and_then(|legacy| attributes.get(legacy)))
        .map(String::as_str)
        .ok_or(MailboxMessageError(name))
}

fn format_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn parse_time(
    delivery: &Delivery,
    name: &'static str,
) -> Result<DateTime<Utc>, MailboxMessageError> {
    DateTime::parse_from_rfc3339(attribute(delivery, name)?)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|_| MailboxMessageError(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::queue::{DeliveryId, QueueName};

    fn delivered(message: QueueMessage, queue: QueueName) -> Delivery {
        Delivery {
            id: DeliveryId {
                queue,
                tag: 1,
                token: 1,
            },
            body: message.body,
            attributes: message.attributes,
            attempts: 1,
        }
    }

    #[test]
    fn outbound_parcel_round_trips() {
        let parcel = OutboundParcel {
            parcel: Bytes::from_static(b"Awala\x50\x00..."),
            recipient_address: "pong.test".into(),
            expiry: DateTime::parse_from_rfc3339("2026-12-01T10:00:00.123Z")
                .unwrap()
                .with_timezone(&Utc),
            parcel_id: "id-1".into(),
            origin: Some(ParcelOrigin {
                pg_id: "0pg".into(),
                sender_id: "0sender".into(),
                recipient_id: "0recipient".into(),
            }),
        };
        let delivery = delivered(parcel.to_queue_message(), QueueName::OutboundParcels);
        assert_eq!(OutboundParcel::from_delivery(&delivery), Ok(parcel.clone()));
        let collection = parcel.collection().expect("a record");
        assert_eq!(
            (collection.pg_id.as_str(), collection.parcel_id.as_str()),
            ("0pg", "id-1")
        );
        let anonymous = OutboundParcel {
            origin: None,
            ..parcel
        };
        let delivery = delivered(anonymous.to_queue_message(), QueueName::OutboundParcels);
        assert_eq!(OutboundParcel::from_delivery(&delivery), Ok(anonymous));
    }

    #[test]
    fn incoming_cargo_round_trips() {
        let cargo = IncomingCargo {
            cargo: Bytes::from_static(b"Awala\x43\x00..."),
            received_at: DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
        };
        let delivery = delivered(cargo.to_queue_message(), QueueName::IncomingCargo);
        assert_eq!(IncomingCargo::from_delivery(&delivery), Ok(cargo));
    }

    #[test]
    fn missing_or_bad_attributes_are_named() {
        let mut message = QueueMessage::new(Bytes::new())
            .with_attribute(RECIPIENT_ADDRESS, "a.test")
            .with_attribute(PARCEL_ID, "x");
        let delivery = delivered(message.clone(), QueueName::OutboundParcels);
        assert_eq!(
            OutboundParcel::from_delivery(&delivery),
            Err(MailboxMessageError(EXPIRY))
        );
        message = message.with_attribute(EXPIRY, "yesterday");
        let delivery = delivered(message, QueueName::OutboundParcels);
        assert_eq!(
            OutboundParcel::from_delivery(&delivery),
            Err(MailboxMessageError(EXPIRY))
        );
    }

    #[test]
    fn messages_left_by_earlier_versions_still_read() {
        let legacy = QueueMessage::new(Bytes::from_static(b"p"))
            .with_attribute("recipient_address", "a.test")
            .with_attribute(EXPIRY, "2026-12-01T10:00:00Z")
            .with_attribute("parcel_id", "x");
        let delivery = delivered(legacy, QueueName::OutboundParcels);
        let parcel = OutboundParcel::from_delivery(&delivery).expect("legacy names");
        assert_eq!(parcel.recipient_address, "a.test");
        let message = parcel.to_queue_message();
        let limits = crate::backends::queue::QueueLimits::default();
        message
            .check(QueueName::OutboundParcels, &limits)
            .expect("written names are CloudEvents extension names");
    }
}
