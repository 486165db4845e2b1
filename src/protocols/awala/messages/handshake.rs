//! PoWeb parcel-collection handshake frames.

use der::Tag;

use super::asn1::{ctx, ctx_constructed, envelope_limit, tlv, DerReader};
use crate::protocols::awala::error::Asn1Error;
use crate::protocols::awala::limits::{
    MAX_HANDSHAKE_NONCE_LENGTH, MAX_HANDSHAKE_SIGNATURES, MAX_NONCE_SIGNATURE_LENGTH,
};

/// `SEQUENCE { nonce [0] OCTET STRING }`, sent by the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeChallenge {
    pub nonce: Vec<u8>,
}

impl HandshakeChallenge {
    /// Encodes as strict DER.
    pub fn encode(&self) -> Result<Vec<u8>, Asn1Error> {
        tlv(Tag::Sequence, &tlv(ctx(0), &self.nonce)?)
    }

    /// Decodes strict DER, enforcing the limits of `limits.rs`; trailing octets are an error.
    pub fn decode(bytes: &[u8]) -> Result<Self, Asn1Error> {
        let limit = envelope_limit(&[MAX_HANDSHAKE_NONCE_LENGTH]);
        let mut fields = DerReader::open(bytes, Tag::Sequence, "handshake challenge", limit)?;
        let nonce = fields.expect(ctx(0), "nonce", MAX_HANDSHAKE_NONCE_LENGTH)?;
        fields.finish("handshake challenge")?;
        Ok(HandshakeChallenge {
            nonce: nonce.to_vec(),
        })
    }
}

/// `SEQUENCE { nonceSignatures [0] SEQUENCE OF OCTET STRING }`: detached CMS signatures, one
/// per private node the client collects for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeResponse {
    pub nonce_signatures: Vec<Vec<u8>>,
}

impl HandshakeResponse {
    /// Encodes as strict DER.
    pub fn encode(&self) -> Result<Vec<u8>, Asn1Error> {
        let signatures = self
            .nonce_signatures
            .iter()
            .map(|signature| tlv(Tag::OctetString, signature))
            .collect::<Result<Vec<_>, _>>()?;
        tlv(
            Tag::Sequence,
            &tlv(ctx_constructed(0), &signatures.concat())?,
        )
    }

    /// Decodes strict DER, enforcing the limits of `limits.rs`; trailing octets are an error.
    pub fn decode(bytes: &[u8]) -> Result<Self, Asn1Error> {
        let list_limit = envelope_limit(&[MAX_NONCE_SIGNATURE_LENGTH; MAX_HANDSHAKE_SIGNATURES]);
        let limit = envelope_limit(&[list_limit]);
        let mut fields = DerReader::open(bytes, Tag::Sequence, "handshake response", limit)?;
        let mut list =
            DerReader::new(fields.expect(ctx_constructed(0), "nonce signatures", list_limit)?);
        fields.finish("handshake response")?;
        let mut nonce_signatures = Vec::new();
        while !list.is_empty() {
            if nonce_signatures.len() == MAX_HANDSHAKE_SIGNATURES {
                return Err(Asn1Error::malformed(format!(
                    "handshake response has over {MAX_HANDSHAKE_SIGNATURES} signatures"
                )));
            }
            let signature = list.expect(
                Tag::OctetString,
                "nonce signature",
                MAX_NONCE_SIGNATURE_LENGTH,
            )?;
            nonce_signatures.push(signature.to_vec());
        }
        Ok(HandshakeResponse { nonce_signatures })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn challenge_matches_notes_example() {
        let nonce: Vec<u8> = (0..16).collect();
        let challenge = HandshakeChallenge {
            nonce: nonce.clone(),
        };
        let mut expected = vec![0x30, 0x12, 0x80, 0x10];
        expected.extend_from_slice(&nonce);
        assert_eq!(challenge.encode().expect("encode"), expected);
        assert_eq!(
            HandshakeChallenge::decode(&expected).expect("decode"),
            challenge
        );
    }

    #[test]
    fn response_layout() {
        let response = HandshakeResponse {
            nonce_signatures: vec![b"s1".to_vec(), b"s".to_vec()],
        };
        let expected = vec![
            0x30, 0x09, 0xA0, 0x07, 0x04, 0x02, b's', b'1', 0x04, 0x01, b's',
        ];
        assert_eq!(response.encode().expect("encode"), expected);
        assert_eq!(
            HandshakeResponse::decode(&expected).expect("decode"),
            response
        );
        let empty = HandshakeResponse {
            nonce_signatures: Vec::new(),
        };
        assert_eq!(
            HandshakeResponse::decode(&empty.encode().expect("encode")).expect("decode"),
            empty
        );
    }

    #[test]
    fn rejects_bad_responses() {
        // Primitive [0] instead of constructed.
        assert!(HandshakeResponse::decode(&[0x30, 0x02, 0x80, 0x00]).is_err());
        // Trailing octets.
        assert!(HandshakeResponse::decode(&[0x30, 0x02, 0xA0, 0x00, 0x00]).is_err());
        let too_many = HandshakeResponse {
            nonce_signatures: vec![vec![1]; MAX_HANDSHAKE_SIGNATURES + 1],
        };
        assert!(HandshakeResponse::decode(&too_many.encode().expect("encode")).is_err());
    }

    proptest! {
        #[test]
        fn round_trips(
            nonce in proptest::collection::vec(any::<u8>(), 0..64),
            signatures in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..100), 0..4),
        ) {
            let challenge = HandshakeChallenge { nonce };
            prop_assert_eq!(HandshakeChallenge::decode(&challenge.encode().expect("encode")).expect("decode"), challenge);
            let response = HandshakeResponse { nonce_signatures: signatures };
            prop_assert_eq!(HandshakeResponse::decode(&response.encode().expect("encode")).expect("decode"), response);
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = HandshakeChallenge::decode(&bytes);
            let _ = HandshakeResponse::decode(&bytes);
        }
    }
}
