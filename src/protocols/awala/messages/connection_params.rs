//! NodeConnectionParams: how to reach a node (served by the gateway as `connection-params.der`).

use der::Tag;

use super::asn1::{
    constructed, ctx, ctx_constructed, envelope_limit, read_visible_string, tlv, visible_string,
    DerReader,
};
use super::error::MessageError;
use super::node_registration::check_address;
use super::session_key::{decode_session_key, encode_session_key, session_key_limit};
use crate::protocols::awala::keys::{IdentityPublicKey, SessionKey};
use crate::protocols::awala::limits::{MAX_RECIPIENT_FIELD_LENGTH, MAX_SPKI_LENGTH};

/// `SEQUENCE { internetAddress [0] VisibleString, identityKey [1] OCTET STRING (SPKI),
/// sessionKey [2] SEQUENCE { keyId [0], publicKey [1] } }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeConnectionParams {
    pub internet_address: String,
    pub identity_key: IdentityPublicKey,
    pub session_key: SessionKey,
}

impl NodeConnectionParams {
    /// Encodes as strict DER; the Internet address must be a domain name.
    pub fn encode(&self) -> Result<Vec<u8>, MessageError> {
        check_address(&self.internet_address)?;
        Ok(constructed(
            Tag::Sequence,
            &[
                visible_string(ctx(0), &self.internet_address, "internet address")?,
                tlv(ctx(1), self.identity_key.spki_der())?,
                encode_session_key(ctx_constructed(2), &self.session_key)?,
            ],
        )?)
    }

    /// Decodes strict DER and parses the keys and the Internet address it carries.
    pub fn decode(bytes: &[u8]) -> Result<Self, MessageError> {
        let limit = envelope_limit(&[
            MAX_RECIPIENT_FIELD_LENGTH,
            MAX_SPKI_LENGTH,
            session_key_limit(),
        ]);
        let mut fields = DerReader::open(bytes, Tag::Sequence, "node connection params", limit)?;
        let address = fields.expect(ctx(0), "internet address", MAX_RECIPIENT_FIELD_LENGTH)?;
        let identity_key = fields.expect(ctx(1), "identity key", MAX_SPKI_LENGTH)?;
        let session_key = fields.expect(ctx_constructed(2), "session key", session_key_limit())?;
        fields.finish("node connection params")?;
        let internet_address = read_visible_string(address, "internet address")?;
        check_address(&internet_address)?;
        Ok(NodeConnectionParams {
            internet_address,
            identity_key: IdentityPublicKey::from_spki_der(identity_key)?,
            session_key: decode_session_key(session_key)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocols::awala::error::ProtocolErrorKind;
    use crate::protocols::awala::keys::{EcCurve, IdentityPrivateKey, SessionKeyPair};
    use proptest::prelude::*;

    fn sample() -> NodeConnectionParams {
        NodeConnectionParams {
            internet_address: "gateway.example.com".to_string(),
            identity_key: IdentityPrivateKey::generate(2048)
                .expect("key")
                .public_key(),
            session_key: SessionKeyPair::generate(EcCurve::P256)
                .expect("key")
                .session_key(),
        }
    }

    #[test]
    fn round_trips() {
        let params = sample();
        let encoded = params.encode().expect("encode");
        assert_eq!(&encoded[4..6], &[0x80, 0x13]);
        assert_eq!(
            NodeConnectionParams::decode(&encoded).expect("decode"),
            params
        );
    }

    #[test]
    fn rejects_bad_params() {
        let params = sample();
        let mut encoded = params.encode().expect("encode");
        encoded.push(0);
        assert_eq!(
            NodeConnectionParams::decode(&encoded)
                .expect_err("trailing")
                .kind(),
            ProtocolErrorKind::Malformed
        );
        let mut bad_address = params;
        bad_address.internet_address = "localhost".to_string();
        assert!(bad_address.encode().is_err());
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = NodeConnectionParams::decode(&bytes);
        }
    }
}
