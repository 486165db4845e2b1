//! CargoCollectionRequest: the plaintext inside a CCA payload.

use der::Tag;

use super::asn1::{ctx, envelope_limit, tlv, DerReader};
use crate::protocols::awala::error::Asn1Error;
use crate::protocols::awala::limits::MAX_CERTIFICATE_LENGTH;

/// `SEQUENCE { cargoDeliveryAuthorization [0] OCTET STRING }`, the CDA certificate DER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CargoCollectionRequest {
    pub cargo_delivery_authorization_der: Vec<u8>,
}

impl CargoCollectionRequest {
    /// Encodes as strict DER.
    pub fn encode(&self) -> Result<Vec<u8>, Asn1Error> {
        tlv(
            Tag::Sequence,
            &tlv(ctx(0), &self.cargo_delivery_authorization_der)?,
        )
    }

    /// Decodes strict DER, enforcing the limits of `limits.rs`; trailing octets are an error.
    pub fn decode(bytes: &[u8]) -> Result<Self, Asn1Error> {
        let limit = envelope_limit(&[MAX_CERTIFICATE_LENGTH]);
        let mut fields = DerReader::open(bytes, Tag::Sequence, "cargo collection request", limit)?;
        let cda = fields.expect(
            ctx(0),
            "cargo delivery authorization",
            MAX_CERTIFICATE_LENGTH,
        )?;
        fields.finish("cargo collection request")?;
        Ok(CargoCollectionRequest {
            cargo_delivery_authorization_der: cda.to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn encodes_cda_in_implicit_octet_string() {
        let request = CargoCollectionRequest {
            cargo_delivery_authorization_der: vec![0x30, 0x00],
        };
        let encoded = request.encode().expect("encode");
        assert_eq!(encoded, vec![0x30, 0x04, 0x80, 0x02, 0x30, 0x00]);
        assert_eq!(
            CargoCollectionRequest::decode(&encoded).expect("decode"),
            request
        );
        assert!(CargoCollectionRequest::decode(&[0x30, 0x04, 0x04, 0x02, 0x30, 0x00]).is_err());
        assert!(CargoCollectionRequest::decode(&[0x30, 0x00]).is_err());
    }

    proptest! {
        #[test]
        fn round_trips(cda in proptest::collection::vec(any::<u8>(), 0..300)) {
            let request = CargoCollectionRequest { cargo_delivery_authorization_der: cda };
            prop_assert_eq!(CargoCollectionRequest::decode(&request.encode().expect("encode")).expect("decode"), request);
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = CargoCollectionRequest::decode(&bytes);
        }
    }
}
