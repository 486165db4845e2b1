//! ServiceMessage: the plaintext inside a parcel payload.

use der::Tag;

use super::asn1::{
    constructed, ctx, envelope_limit, read_visible_string, tlv, visible_string, DerReader,
};
use crate::protocols::awala::error::Asn1Error;
use crate::protocols::awala::limits::{MAX_CONTENT_TYPE_LENGTH, MAX_SDU_PLAINTEXT_LENGTH};

/// A service message: `SEQUENCE { type [0] VisibleString, content [1] OCTET STRING }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceMessage {
    pub content_type: String,
    pub content: Vec<u8>,
}

impl ServiceMessage {
    /// Encodes as strict DER.
    pub fn encode(&self) -> Result<Vec<u8>, Asn1Error> {
        constructed(
            Tag::Sequence,
            &[
                visible_string(ctx(0), &self.content_type, "content type")?,
                tlv(ctx(1), &self.content)?,
            ],
        )
    }

    /// Decodes strict DER, enforcing the limits of `limits.rs`; trailing octets are an error.
    pub fn decode(bytes: &[u8]) -> Result<Self, Asn1Error> {
        let limit = envelope_limit(&[MAX_CONTENT_TYPE_LENGTH, MAX_SDU_PLAINTEXT_LENGTH]);
        let mut fields = DerReader::open(bytes, Tag::Sequence, "service message", limit)?;
        let content_type = fields.expect(ctx(0), "content type", MAX_CONTENT_TYPE_LENGTH)?;
        let content = fields.expect(ctx(1), "content", MAX_SDU_PLAINTEXT_LENGTH)?;
        fields.finish("service message")?;
        Ok(ServiceMessage {
            content_type: read_visible_string(content_type, "content type")?,
            content: content.to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn matches_notes_example() {
        let message = ServiceMessage {
            content_type: "text/plain".to_string(),
            content: b"hello".to_vec(),
        };
        let expected = b"\x30\x13\x80\x0Atext/plain\x81\x05hello".to_vec();
        assert_eq!(message.encode().expect("encode"), expected);
        assert_eq!(ServiceMessage::decode(&expected).expect("decode"), message);
    }

    #[test]
    fn rejects_bad_input() {
        let valid = b"\x30\x13\x80\x0Atext/plain\x81\x05hello".to_vec();
        let mut trailing = valid.clone();
        trailing.push(0);
        assert!(ServiceMessage::decode(&trailing).is_err());
        let mut wrong_tag = valid.clone();
        wrong_tag[2] = 0x82;
        assert!(ServiceMessage::decode(&wrong_tag).is_err());
        let mut control_char = valid;
        control_char[4] = 0x07;
        assert!(ServiceMessage::decode(&control_char).is_err());
    }

    proptest! {
        #[test]
        fn round_trips(content_type in "[ -~]{0,40}", content in proptest::collection::vec(any::<u8>(), 0..300)) {
            let message = ServiceMessage { content_type, content };
            prop_assert_eq!(ServiceMessage::decode(&message.encode().expect("encode")).expect("decode"), message);
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = ServiceMessage::decode(&bytes);
        }
    }
}
