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
#[path = "field_set_tests.rs"]
mod tests;
