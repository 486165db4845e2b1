//! CargoMessageSet: the plaintext inside a cargo payload, and how its items are classified.

use der::Tag;

use super::asn1::{tlv, DerReader};
use super::signature::{detect, MessageType};
use crate::protocols::awala::error::Asn1Error;
use crate::protocols::awala::limits::{
    MAX_CARGO_MESSAGE_LENGTH, MAX_CARGO_MESSAGE_SET_ITEMS, MAX_RAMF_PAYLOAD_LENGTH,
};

/// `SEQUENCE OF OCTET STRING` with universal tags; each item is a serialised message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CargoMessageSet {
    pub messages: Vec<Vec<u8>>,
}

/// What a cargo item is, judged by its first seven octets as both libraries do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CargoItem {
    Pca,
    CertificateRotation,
    /// Anything else: to be parsed as a parcel (and dropped if that fails).
    Parcel,
}

/// Classifies one cargo item without parsing it.
pub fn classify_item(item: &[u8]) -> CargoItem {
    match detect(item) {
        Some(MessageType::Pca) => CargoItem::Pca,
        Some(MessageType::CertificateRotation) => CargoItem::CertificateRotation,
        _ => CargoItem::Parcel,
    }
}

impl CargoMessageSet {
    /// Encodes as strict DER.
    pub fn encode(&self) -> Result<Vec<u8>, Asn1Error> {
        let items = self
            .messages
            .iter()
            .map(|message| tlv(Tag::OctetString, message))
            .collect::<Result<Vec<_>, _>>()?;
        tlv(Tag::Sequence, &items.concat())
    }

    /// Decodes strict DER, enforcing the limits of `limits.rs`; trailing octets are an error.
    pub fn decode(bytes: &[u8]) -> Result<Self, Asn1Error> {
        let mut items = DerReader::open(
            bytes,
            Tag::Sequence,
            "cargo message set",
            MAX_RAMF_PAYLOAD_LENGTH,
        )?;
        let mut messages = Vec::new();
        while !items.is_empty() {
            if messages.len() == MAX_CARGO_MESSAGE_SET_ITEMS {
                return Err(Asn1Error::malformed(format!(
                    "cargo message set has over {MAX_CARGO_MESSAGE_SET_ITEMS} items"
                )));
            }
            let item = items.expect(Tag::OctetString, "cargo message", MAX_CARGO_MESSAGE_LENGTH)?;
            messages.push(item.to_vec());
        }
        Ok(CargoMessageSet { messages })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn matches_notes_example() {
        let set = CargoMessageSet {
            messages: vec![b"a".to_vec(), b"bb".to_vec()],
        };
        let expected = vec![0x30, 0x07, 0x04, 0x01, 0x61, 0x04, 0x02, 0x62, 0x62];
        assert_eq!(set.encode().expect("encode"), expected);
        assert_eq!(CargoMessageSet::decode(&expected).expect("decode"), set);
    }

    #[test]
    fn empty_set_round_trips() {
        let set = CargoMessageSet::default();
        assert_eq!(set.encode().expect("encode"), vec![0x30, 0x00]);
        assert_eq!(CargoMessageSet::decode(&[0x30, 0x00]).expect("decode"), set);
    }

    #[test]
    fn rejects_other_item_types_and_trailing_octets() {
        assert!(CargoMessageSet::decode(&[0x30, 0x03, 0x0C, 0x01, 0x61]).is_err());
        assert!(CargoMessageSet::decode(&[0x30, 0x03, 0x04, 0x01, 0x61, 0x00]).is_err());
        assert!(CargoMessageSet::decode(&[0x31, 0x03, 0x04, 0x01, 0x61]).is_err());
    }

    #[test]
    fn classifies_items() {
        assert_eq!(
            classify_item(&MessageType::Pca.prefix(b"x")),
            CargoItem::Pca
        );
        assert_eq!(
            classify_item(&MessageType::CertificateRotation.prefix(b"")),
            CargoItem::CertificateRotation
        );
        assert_eq!(
            classify_item(&MessageType::Parcel.prefix(b"x")),
            CargoItem::Parcel
        );
        assert_eq!(classify_item(b"junk"), CargoItem::Parcel);
    }

    proptest! {
        #[test]
        fn round_trips(messages in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 0..8)) {
            let set = CargoMessageSet { messages };
            prop_assert_eq!(CargoMessageSet::decode(&set.encode().expect("encode")).expect("decode"), set);
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = CargoMessageSet::decode(&bytes);
        }
    }
}
