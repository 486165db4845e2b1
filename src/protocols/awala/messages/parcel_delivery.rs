//! PoWeb ParcelDelivery frame: one parcel pushed to a collecting client.

use der::Tag;

use super::asn1::{
    constructed, ctx, envelope_limit, read_visible_string, tlv, visible_string, DerReader,
};
use crate::protocols::awala::error::Asn1Error;
use crate::protocols::awala::limits::{MAX_DELIVERY_ID_LENGTH, MAX_PARCEL_LENGTH};

/// `SEQUENCE { deliveryId [0] VisibleString, parcelSerialized [1] OCTET STRING }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParcelDelivery {
    pub delivery_id: String,
    pub parcel_serialized: Vec<u8>,
}

impl ParcelDelivery {
    /// Encodes as strict DER.
    pub fn encode(&self) -> Result<Vec<u8>, Asn1Error> {
        constructed(
            Tag::Sequence,
            &[
                visible_string(ctx(0), &self.delivery_id, "delivery id")?,
                tlv(ctx(1), &self.parcel_serialized)?,
            ],
        )
    }

    /// Decodes strict DER, enforcing the limits of `limits.rs`; trailing octets are an error.
    pub fn decode(bytes: &[u8]) -> Result<Self, Asn1Error> {
        let limit = envelope_limit(&[MAX_DELIVERY_ID_LENGTH, MAX_PARCEL_LENGTH]);
        let mut fields = DerReader::open(bytes, Tag::Sequence, "parcel delivery", limit)?;
        let delivery_id = fields.expect(ctx(0), "delivery id", MAX_DELIVERY_ID_LENGTH)?;
        let parcel = fields.expect(ctx(1), "parcel", MAX_PARCEL_LENGTH)?;
        fields.finish("parcel delivery")?;
        Ok(ParcelDelivery {
            delivery_id: read_visible_string(delivery_id, "delivery id")?,
            parcel_serialized: parcel.to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn matches_notes_example() {
        let delivery = ParcelDelivery {
            delivery_id: "delivery-id".to_string(),
            parcel_serialized: b"parcel".to_vec(),
        };
        let expected = b"\x30\x15\x80\x0Bdelivery-id\x81\x06parcel".to_vec();
        assert_eq!(delivery.encode().expect("encode"), expected);
        assert_eq!(ParcelDelivery::decode(&expected).expect("decode"), delivery);
        let mut trailing = expected;
        trailing.extend_from_slice(&[0, 0]);
        assert!(ParcelDelivery::decode(&trailing).is_err());
    }

    proptest! {
        #[test]
        fn round_trips(delivery_id in "[ -~]{0,64}", parcel in proptest::collection::vec(any::<u8>(), 0..300)) {
            let delivery = ParcelDelivery { delivery_id, parcel_serialized: parcel };
            prop_assert_eq!(ParcelDelivery::decode(&delivery.encode().expect("encode")).expect("decode"), delivery);
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = ParcelDelivery::decode(&bytes);
        }
    }
}
