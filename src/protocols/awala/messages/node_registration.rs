//! PrivateNodeRegistration (PNR): the gateway's answer to a registration request.

use der::Tag;

use super::asn1::{
    constructed, ctx, ctx_constructed, envelope_limit, read_visible_string, tlv, visible_string,
    DerReader,
};
use super::domain::is_valid_domain;
use super::error::MessageError;
use super::session_key::{decode_session_key, encode_session_key, session_key_limit};
use crate::protocols::awala::keys::SessionKey;
use crate::protocols::awala::limits::{MAX_CERTIFICATE_LENGTH, MAX_RECIPIENT_FIELD_LENGTH};

/// `SEQUENCE { privateNodeCertificate [0], gatewayCertificate [1], internetGatewayInternetAddress [2],
/// sessionKey [3] OPTIONAL }`, certificates wrapped in OCTET STRINGs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateNodeRegistration {
    pub private_node_certificate_der: Vec<u8>,
    pub gateway_certificate_der: Vec<u8>,
    pub internet_gateway_internet_address: String,
    /// Android gateways refuse a PNR without it, so gateways should always send one.
    pub session_key: Option<SessionKey>,
}

impl PrivateNodeRegistration {
    /// Encodes as strict DER; the Internet address must be a domain name.
    pub fn encode(&self) -> Result<Vec<u8>, MessageError> {
        check_address(&self.internet_gateway_internet_address)?;
        let mut fields = vec![
            tlv(ctx(0), &self.private_node_certificate_der)?,
            tlv(ctx(1), &self.gateway_certificate_der)?,
            visible_string(
                ctx(2),
                &self.internet_gateway_internet_address,
                "internet address",
            )?,
        ];
        if let Some(key) = &self.session_key {
            fields.push(encode_session_key(ctx_constructed(3), key)?);
        }
        Ok(constructed(Tag::Sequence, &fields)?)
    }

    /// Decodes strict DER and parses the keys and the Internet address it carries.
    pub fn decode(bytes: &[u8]) -> Result<Self, MessageError> {
        let limit = envelope_limit(&[
            MAX_CERTIFICATE_LENGTH,
            MAX_CERTIFICATE_LENGTH,
            MAX_RECIPIENT_FIELD_LENGTH,
            session_key_limit(),
        ]);
        let mut fields = DerReader::open(bytes, Tag::Sequence, "private node registration", limit)?;
        let node_certificate =
            fields.expect(ctx(0), "private node certificate", MAX_CERTIFICATE_LENGTH)?;
        let gateway_certificate =
            fields.expect(ctx(1), "gateway certificate", MAX_CERTIFICATE_LENGTH)?;
        let address = fields.expect(ctx(2), "internet address", MAX_RECIPIENT_FIELD_LENGTH)?;
        let session_key = if fields.is_empty() {
            None
        } else {
            let contents = fields.expect(ctx_constructed(3), "session key", session_key_limit())?;
            Some(decode_session_key(contents)?)
        };
        fields.finish("private node registration")?;
        let address = read_visible_string(address, "internet address")?;
        check_address(&address)?;
        Ok(PrivateNodeRegistration {
            private_node_certificate_der: node_certificate.to_vec(),
            gateway_certificate_der: gateway_certificate.to_vec(),
            internet_gateway_internet_address: address,
            session_key,
        })
    }
}

/// JS clients reject a PNR or connection params whose address is not a domain name.
pub(super) fn check_address(address: &str) -> Result<(), MessageError> {
    if is_valid_domain(address) {
        Ok(())
    } else {
        Err(MessageError::InvalidInternetAddress(address.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocols::awala::keys::{EcCurve, SessionKeyPair};
    use proptest::prelude::*;

    fn sample(session_key: bool) -> PrivateNodeRegistration {
        PrivateNodeRegistration {
            private_node_certificate_der: vec![0x30, 0x01, 0x01],
            gateway_certificate_der: vec![0x30, 0x01, 0x02],
            internet_gateway_internet_address: "example.com".to_string(),
            session_key: session_key.then(|| {
                SessionKeyPair::generate(EcCurve::P256)
                    .expect("key")
                    .session_key()
            }),
        }
    }

    #[test]
    fn round_trips_with_and_without_session_key() {
        for with_key in [true, false] {
            let registration = sample(with_key);
            let encoded = registration.encode().expect("encode");
            // The certificates are wrapped in primitive [0] and [1], not inlined.
            assert!(encoded
                .windows(10)
                .any(|w| w == [0x80, 0x03, 0x30, 0x01, 0x01, 0x81, 0x03, 0x30, 0x01, 0x02]));
            assert_eq!(
                PrivateNodeRegistration::decode(&encoded).expect("decode"),
                registration
            );
        }
    }

    #[test]
    fn rejects_bad_registrations() {
        let mut bad_address = sample(false);
        bad_address.internet_gateway_internet_address = "not a domain".to_string();
        assert!(bad_address.encode().is_err());
        let mut encoded = sample(true).encode().expect("encode");
        encoded.push(0);
        assert!(PrivateNodeRegistration::decode(&encoded).is_err());
        let encoded = sample(true).encode().expect("encode");
        // Corrupt the last octet of the session public key SPKI.
        let mut corrupted = encoded;
        let last = corrupted.len() - 1;
        corrupted[last] ^= 0xFF;
        assert!(PrivateNodeRegistration::decode(&corrupted).is_err());
    }

    proptest! {
        #[test]
        fn round_trips_without_session_key(
            node in proptest::collection::vec(any::<u8>(), 0..200),
            gateway in proptest::collection::vec(any::<u8>(), 0..200),
            address in "[a-z0-9]{1,20}\\.[a-z]{2,6}",
        ) {
            let registration = PrivateNodeRegistration {
                private_node_certificate_der: node,
                gateway_certificate_der: gateway,
                internet_gateway_internet_address: address,
                session_key: None,
            };
            let encoded = registration.encode().expect("encode");
            prop_assert_eq!(PrivateNodeRegistration::decode(&encoded).expect("decode"), registration);
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = PrivateNodeRegistration::decode(&bytes);
        }

        #[test]
        fn decode_survives_mutation(index in any::<usize>(), byte in any::<u8>()) {
            let mut encoded = sample(false).encode().expect("encode");
            let index = index % encoded.len();
            encoded[index] = byte;
            let _ = PrivateNodeRegistration::decode(&encoded);
        }
    }
}
