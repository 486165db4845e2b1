//! ParcelCollectionAck (PCA): tells a gateway a parcel it sent in cargo was collected.

use der::Tag;

use super::asn1::{
    constructed, ctx, envelope_limit, read_visible_string, visible_string, DerReader,
};
use super::signature::MessageType;
use crate::protocols::awala::error::Asn1Error;
use crate::protocols::awala::limits::{MAX_MESSAGE_ID_LENGTH, MAX_RECIPIENT_FIELD_LENGTH};

/// `"Awala" 0x51 0x00` ‖ `SEQUENCE { senderEndpointId [0], recipientEndpointId [1], parcelId [2] }`,
/// all VisibleString.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ParcelCollectionAck {
    pub sender_endpoint_id: String,
    pub recipient_endpoint_id: String,
    pub parcel_id: String,
}

impl ParcelCollectionAck {
    /// Format signature followed by the DER structure.
    pub fn serialize(&self) -> Result<Vec<u8>, Asn1Error> {
        let body = constructed(
            Tag::Sequence,
            &[
                visible_string(ctx(0), &self.sender_endpoint_id, "sender endpoint id")?,
                visible_string(ctx(1), &self.recipient_endpoint_id, "recipient endpoint id")?,
                visible_string(ctx(2), &self.parcel_id, "parcel id")?,
            ],
        )?;
        Ok(MessageType::Pca.prefix(&body))
    }

    /// Checks the format signature, then decodes the DER structure; trailing octets are an error.
    pub fn deserialize(bytes: &[u8]) -> Result<Self, Asn1Error> {
        let body = MessageType::Pca.strip(bytes)?;
        let limit = envelope_limit(&[
            MAX_RECIPIENT_FIELD_LENGTH,
            MAX_RECIPIENT_FIELD_LENGTH,
            MAX_MESSAGE_ID_LENGTH,
        ]);
        let mut fields = DerReader::open(body, Tag::Sequence, "parcel collection ack", limit)?;
        let sender = fields.expect(ctx(0), "sender endpoint id", MAX_RECIPIENT_FIELD_LENGTH)?;
        let recipient =
            fields.expect(ctx(1), "recipient endpoint id", MAX_RECIPIENT_FIELD_LENGTH)?;
        let parcel_id = fields.expect(ctx(2), "parcel id", MAX_MESSAGE_ID_LENGTH)?;
        fields.finish("parcel collection ack")?;
        Ok(ParcelCollectionAck {
            sender_endpoint_id: read_visible_string(sender, "sender endpoint id")?,
            recipient_endpoint_id: read_visible_string(recipient, "recipient endpoint id")?,
            parcel_id: read_visible_string(parcel_id, "parcel id")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const EXAMPLE: &[u8] = b"Awala\x51\x00\x30\x19\x80\x040aaa\x81\x040bbb\x82\x0Bparcel-id-1";

    fn example() -> ParcelCollectionAck {
        ParcelCollectionAck {
            sender_endpoint_id: "0aaa".to_string(),
            recipient_endpoint_id: "0bbb".to_string(),
            parcel_id: "parcel-id-1".to_string(),
        }
    }

    #[test]
    fn matches_notes_example() {
        assert_eq!(example().serialize().expect("serialize"), EXAMPLE);
        assert_eq!(
            ParcelCollectionAck::deserialize(EXAMPLE).expect("deserialize"),
            example()
        );
    }

    #[test]
    fn rejects_bad_input() {
        assert!(ParcelCollectionAck::deserialize(&EXAMPLE[7..]).is_err());
        let mut wrong_type = EXAMPLE.to_vec();
        wrong_type[5] = 0x50;
        assert!(ParcelCollectionAck::deserialize(&wrong_type).is_err());
        let mut trailing = EXAMPLE.to_vec();
        trailing.push(0);
        assert!(ParcelCollectionAck::deserialize(&trailing).is_err());
        let mut long_id = example();
        long_id.parcel_id = "p".repeat(65);
        let encoded = long_id.serialize().expect("serialize");
        assert!(ParcelCollectionAck::deserialize(&encoded).is_err());
    }

    proptest! {
        #[test]
        fn round_trips(sender in "[ -~]{0,80}", recipient in "[ -~]{0,80}", parcel_id in "[ -~]{0,64}") {
            let ack = ParcelCollectionAck { sender_endpoint_id: sender, recipient_endpoint_id: recipient, parcel_id };
            prop_assert_eq!(ParcelCollectionAck::deserialize(&ack.serialize().expect("serialize")).expect("deserialize"), ack);
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = ParcelCollectionAck::deserialize(&bytes);
            let _ = ParcelCollectionAck::deserialize(&MessageType::Pca.prefix(&bytes));
        }
    }
}
