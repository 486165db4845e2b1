//! The RAMF field set: the DER structure signed inside every parcel, cargo and CCA.

use chrono::{DateTime, Duration, Utc};
use der::Tag;

use super::asn1::{
    constructed, ctx, ctx_constructed, date_time_digits, envelope_limit, integer_contents,
    read_date_time, read_unsigned_integer, read_visible_string, tlv, visible_string, DerReader,
};
use super::domain::is_valid_domain;
use crate::protocols::awala::error::Asn1Error;
use crate::protocols::awala::limits::{
    MAX_MESSAGE_ID_LENGTH, MAX_RAMF_PAYLOAD_LENGTH, MAX_RECIPIENT_FIELD_LENGTH, MAX_TTL_SECONDS,
};

/// Longest DER INTEGER contents we look at for the TTL (a u32 needs at most five).
const MAX_TTL_OCTETS: usize = 5;
/// DATE-TIME contents are exactly 14 digits.
const DATE_TIME_OCTETS: usize = 14;

/// Whom a RAMF message is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The node id (lowercase hex, normally 65 characters).
    pub id: String,
    /// The recipient's Internet address, for Internet gateways and endpoints.
    pub internet_address: Option<String>,
}

/// The decoded RAMF fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSet {
    pub recipient: Recipient,
    pub id: String,
    /// Creation date, second precision.
    pub creation_date: DateTime<Utc>,
    /// Time to live in seconds.
    pub ttl: u32,
    pub payload: Vec<u8>,
}

impl FieldSet {
    /// `creation_date + ttl`: the message is valid up to and including this instant.
    pub fn expiry_date(&self) -> DateTime<Utc> {
        self.creation_date + Duration::seconds(i64::from(self.ttl))
    }

    /// Strict DER encoding; sub-second precision of the creation date is dropped.
    pub fn encode(&self) -> Result<Vec<u8>, Asn1Error> {
        check_fields(self).map_err(|e| Asn1Error::Encode(e.to_string()))?;
        let mut recipient = vec![visible_string(ctx(0), &self.recipient.id, "recipient id")?];
        if let Some(address) = &self.recipient.internet_address {
            recipient.push(visible_string(ctx(1), address, "internet address")?);
        }
        let date = date_time_digits(&self.creation_date)?;
        constructed(
            Tag::Sequence,
            &[
                constructed(ctx_constructed(0), &recipient)?,
                visible_string(ctx(1), &self.id, "message id")?,
                tlv(ctx(2), date.as_bytes())?,
                tlv(ctx(3), &integer_contents(self.ttl))?,
                tlv(ctx(4), &self.payload)?,
            ],
        )
    }

    /// Decodes and checks every field's syntax and limits.
    pub fn decode(bytes: &[u8]) -> Result<FieldSet, Asn1Error> {
        let recipient_limit = envelope_limit(&[MAX_RECIPIENT_FIELD_LENGTH; 2]);
        let limit = envelope_limit(&[
            recipient_limit,
            MAX_MESSAGE_ID_LENGTH,
            DATE_TIME_OCTETS,
            MAX_TTL_OCTETS,
            MAX_RAMF_PAYLOAD_LENGTH,
        ]);
        let mut fields = DerReader::open(bytes, Tag::Sequence, "field set", limit)?;

        let mut recipient_reader =
            DerReader::new(fields.expect(ctx_constructed(0), "recipient", recipient_limit)?);
        let id = recipient_reader.expect(ctx(0), "recipient id", MAX_RECIPIENT_FIELD_LENGTH)?;
        let internet_address = if recipient_reader.is_empty() {
            None
        } else {
            let address =
                recipient_reader.expect(ctx(1), "internet address", MAX_RECIPIENT_FIELD_LENGTH)?;
            Some(read_visible_string(address, "internet address")?)
        };
        recipient_reader.finish("recipient")?;

        let message_id = fields.expect(ctx(1), "message id", MAX_MESSAGE_ID_LENGTH)?;
        let date = fields.expect(ctx(2), "creation date", DATE_TIME_OCTETS)?;
        let ttl = fields.expect(ctx(3), "ttl", MAX_TTL_OCTETS)?;
        let payload = fields.expect(ctx(4), "payload", MAX_RAMF_PAYLOAD_LENGTH)?;
        fields.finish("field set")?;

        let field_set = FieldSet {
            recipient: Recipient {
                id: read_visible_string(id, "recipient id")?,
                internet_address,
            },
            id: read_visible_string(message_id, "message id")?,
            creation_date: read_date_time(date, "creation date")?,
            ttl: read_unsigned_integer(ttl, "ttl")?,
            payload: payload.to_vec(),
        };
        check_fields(&field_set)?;
        Ok(field_set)
    }
}

/// Syntax rules of the libraries (§2.5 step 4), shared by encoding and decoding.
fn check_fields(fields: &FieldSet) -> Result<(), Asn1Error> {
    let id = &fields.recipient.id;
    if id.len() > MAX_RECIPIENT_FIELD_LENGTH {
        return Err(too_large(
            "recipient id",
            id.len(),
            MAX_RECIPIENT_FIELD_LENGTH,
        ));
    }
    // JS accepts `^[a-f0-9]+$`; JVM also wants a leading `0`. We take the looser rule.
    if id.is_empty()
        || !id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(Asn1Error::malformed("recipient id is not lowercase hex"));
    }
    if let Some(address) = &fields.recipient.internet_address {
        if address.len() > MAX_RECIPIENT_FIELD_LENGTH {
            return Err(too_large(
                "internet address",
                address.len(),
                MAX_RECIPIENT_FIELD_LENGTH,
            ));
        }
        if !is_valid_domain(address) {
            return Err(Asn1Error::malformed(
                "internet address is not a domain name",
            ));
        }
    }
    if fields.id.len() > MAX_MESSAGE_ID_LENGTH {
        return Err(too_large(
            "message id",
            fields.id.len(),
            MAX_MESSAGE_ID_LENGTH,
        ));
    }
    if fields.ttl > MAX_TTL_SECONDS {
        return Err(Asn1Error::malformed(format!(
            "ttl {} is over the maximum of {MAX_TTL_SECONDS}",
            fields.ttl
        )));
    }
    if fields.payload.len() > MAX_RAMF_PAYLOAD_LENGTH {
        return Err(too_large(
            "payload",
            fields.payload.len(),
            MAX_RAMF_PAYLOAD_LENGTH,
        ));
    }
    Ok(())
}

fn too_large(what: &'static str, actual: usize, limit: usize) -> Asn1Error {
    Asn1Error::TooLarge {
        what,
        actual,
        limit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn example_id() -> String {
        format!("0066d9{}f5d2", "0".repeat(55))
    }

    fn example() -> FieldSet {
        FieldSet {
            recipient: Recipient {
                id: example_id(),
                internet_address: Some("example.com".to_string()),
            },
            id: "msg-1".to_string(),
            creation_date: DateTime::from_timestamp(1_795_417_760, 0).expect("date"),
            ttl: 3600,
            payload: b"payload".to_vec(),
        }
    }

    #[test]
    fn matches_notes_example() {
        let mut expected = vec![0x30, 0x76, 0xA0, 0x50, 0x80, 0x41];
        expected.extend_from_slice(example_id().as_bytes());
        expected.extend_from_slice(&[0x81, 0x0B]);
        expected.extend_from_slice(b"example.com");
        expected.extend_from_slice(&[0x81, 0x05]);
        expected.extend_from_slice(b"msg-1");
        expected.extend_from_slice(&[0x82, 0x0E]);
        expected.extend_from_slice(b"20261123070920");
        expected.extend_from_slice(&[0x83, 0x02, 0x0E, 0x10, 0x84, 0x07]);
        expected.extend_from_slice(b"payload");
        assert_eq!(example().encode().expect("encode"), expected);
        assert_eq!(FieldSet::decode(&expected).expect("decode"), example());
    }

    #[test]
    fn omits_absent_internet_address() {
        let mut fields = example();
        fields.recipient.internet_address = None;
        let encoded = fields.encode().expect("encode");
        assert_eq!(&encoded[2..6], &[0xA0, 0x43, 0x80, 0x41]);
        assert_eq!(FieldSet::decode(&encoded).expect("decode"), fields);
    }

    #[test]
    fn expiry_is_creation_plus_ttl() {
        let fields = example();
        assert_eq!(fields.expiry_date().timestamp(), 1_795_417_760 + 3600);
    }

    /// Encodes without the encoder's own checks, to feed invalid values to the decoder.
    fn encode_unchecked(fields: &FieldSet, date: &str) -> Vec<u8> {
        let mut recipient = vec![tlv(ctx(0), fields.recipient.id.as_bytes()).expect("tlv")];
        if let Some(address) = &fields.recipient.internet_address {
            recipient.push(tlv(ctx(1), address.as_bytes()).expect("tlv"));
        }
        constructed(
            Tag::Sequence,
            &[
                constructed(ctx_constructed(0), &recipient).expect("tlv"),
                tlv(ctx(1), fields.id.as_bytes()).expect("tlv"),
                tlv(ctx(2), date.as_bytes()).expect("tlv"),
                tlv(ctx(3), &integer_contents(fields.ttl)).expect("tlv"),
                tlv(ctx(4), &fields.payload).expect("tlv"),
            ],
        )
        .expect("tlv")
    }

    #[test]
    fn rejects_invalid_fields() {
        let valid = example();
        assert!(FieldSet::decode(&encode_unchecked(&valid, "20261123070920")).is_ok());
        let mut cases = Vec::new();
        let mut upper = valid.clone();
        upper.recipient.id = upper.recipient.id.to_uppercase();
        cases.push((upper, "20261123070920"));
        let mut empty_id = valid.clone();
        empty_id.recipient.id = String::new();
        cases.push((empty_id, "20261123070920"));
        let mut bad_domain = valid.clone();
        bad_domain.recipient.internet_address = Some("not a domain".to_string());
        cases.push((bad_domain, "20261123070920"));
        let mut long_id = valid.clone();
        long_id.id = "a".repeat(65);
        cases.push((long_id, "20261123070920"));
        let mut long_ttl = valid.clone();
        long_ttl.ttl = MAX_TTL_SECONDS + 1;
        cases.push((long_ttl, "20261123070920"));
        cases.push((valid.clone(), "20261123070920Z"));
        cases.push((valid.clone(), "20261323070920"));
        for (fields, date) in cases {
            assert!(
                FieldSet::decode(&encode_unchecked(&fields, date)).is_err(),
                "{fields:?} {date}"
            );
            if date == "20261123070920" {
                assert!(fields.encode().is_err(), "{fields:?}");
            }
        }
        let mut max = valid;
        max.id = "a".repeat(64);
        max.ttl = MAX_TTL_SECONDS;
        assert_eq!(
            FieldSet::decode(&max.encode().expect("encode")).expect("decode"),
            max
        );
    }

    #[test]
    fn rejects_trailing_octets_and_constructed_payload() {
        let mut encoded = example().encode().expect("encode");
        encoded.push(0);
        assert!(FieldSet::decode(&encoded).is_err());
        let constructed_payload = {
            let mut bytes = example().encode().expect("encode");
            let offset = bytes.len() - 9;
            bytes[offset] = 0xA4;
            bytes
        };
        assert!(FieldSet::decode(&constructed_payload).is_err());
    }

    fn field_sets() -> impl Strategy<Value = FieldSet> {
        (
            "0[a-f0-9]{64}",
            proptest::option::of("[a-z]{1,10}\\.[a-z]{2,5}"),
            "[ -~]{0,64}",
            0i64..253_402_300_799,
            0..=MAX_TTL_SECONDS,
            proptest::collection::vec(any::<u8>(), 0..64),
        )
            .prop_map(
                |(id, internet_address, message_id, seconds, ttl, payload)| FieldSet {
                    recipient: Recipient {
                        id,
                        internet_address,
                    },
                    id: message_id,
                    creation_date: DateTime::from_timestamp(seconds, 0).expect("date"),
                    ttl,
                    payload,
                },
            )
    }

    proptest! {
        #[test]
        fn round_trips(fields in field_sets()) {
            let encoded = fields.encode().expect("encode");
            prop_assert_eq!(FieldSet::decode(&encoded).expect("decode"), fields);
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = FieldSet::decode(&bytes);
        }

        #[test]
        fn decode_survives_mutation(fields in field_sets(), index in any::<usize>(), byte in any::<u8>()) {
            let mut encoded = fields.encode().expect("encode");
            let index = index % encoded.len();
            encoded[index] = byte;
            let _ = FieldSet::decode(&encoded);
        }
    }
}
