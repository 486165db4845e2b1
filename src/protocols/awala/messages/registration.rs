//! Private node registration authorisation (PNRA) and request (PNRR): raw RSA-PSS signed
//! structures exchanged over PoWeb before a private gateway gets its certificate (§2.6, §3.3).

use chrono::{DateTime, Utc};
use const_oid::ObjectIdentifier;
use der::Tag;

use super::asn1::{
    constructed, ctx, date_time_digits, envelope_limit, read_date_time, tlv, DerReader,
};
use super::error::MessageError;
use crate::protocols::awala::keys::{
    HashAlgorithm, IdentityPrivateKey, IdentityPublicKey, PssParams,
};
use crate::protocols::awala::limits::{
    MAX_PNRA_GATEWAY_DATA_LENGTH, MAX_PNRA_LENGTH, MAX_RSA_SIGNATURE_LENGTH, MAX_SPKI_LENGTH,
};

/// Purpose OID in the PNRA signature plaintext.
const PNRA_PURPOSE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.58708.0.2.0");
/// Purpose OID in the PNRR countersignature plaintext.
const PNRR_PURPOSE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.58708.0.2.1");
/// DATE-TIME contents are exactly 14 digits.
const DATE_TIME_OCTETS: usize = 14;

fn pss() -> PssParams {
    PssParams::for_hash(HashAlgorithm::Sha256)
}

/// What the gateway signs: `SEQUENCE { [0] OID, [1] expiry digits, [2] gatewayData }`.
fn pnra_plaintext(expiry_digits: &[u8], gateway_data: &[u8]) -> Result<Vec<u8>, MessageError> {
    Ok(constructed(
        Tag::Sequence,
        &[
            tlv(ctx(0), PNRA_PURPOSE.as_bytes())?,
            tlv(ctx(1), expiry_digits)?,
            tlv(ctx(2), gateway_data)?,
        ],
    )?)
}

/// What the private node countersigns: `SEQUENCE { [0] OID, [1] PNRA bytes }`.
fn pnrr_plaintext(pnra_serialized: &[u8]) -> Result<Vec<u8>, MessageError> {
    Ok(constructed(
        Tag::Sequence,
        &[
            tlv(ctx(0), PNRR_PURPOSE.as_bytes())?,
            tlv(ctx(1), pnra_serialized)?,
        ],
    )?)
}

/// A gateway's permission for one key to register, valid until `expiry_date`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateNodeRegistrationAuthorization {
    /// Second precision; sub-seconds are dropped when signing.
    pub expiry_date: DateTime<Utc>,
    /// Opaque to clients; we put the SHA-256 of the authorised key's SPKI here.
    pub gateway_data: Vec<u8>,
}

impl PrivateNodeRegistrationAuthorization {
    /// Signs with the gateway's identity key and serialises.
    pub fn sign(&self, gateway_key: &IdentityPrivateKey) -> Result<Vec<u8>, MessageError> {
        if self.gateway_data.len() > MAX_PNRA_GATEWAY_DATA_LENGTH {
            // Clients would get a PNRA we ourselves refuse when it comes back in a PNRR.
            return Err(MessageError::InvalidArgument(format!(
                "gateway data is over {MAX_PNRA_GATEWAY_DATA_LENGTH} octets"
            )));
        }
        let expiry = date_time_digits(&self.expiry_date)?;
        let plaintext = pnra_plaintext(expiry.as_bytes(), &self.gateway_data)?;
        let signature = gateway_key.sign_pss(&plaintext, pss())?;
        Ok(constructed(
            Tag::Sequence,
            &[
                tlv(ctx(0), expiry.as_bytes())?,
                tlv(ctx(1), &self.gateway_data)?,
                tlv(ctx(2), &signature)?,
            ],
        )?)
    }

    /// Parses, checks the signature over the received expiry octets, and refuses it once
    /// `now` is past the expiry date (the expiry instant itself is still valid).
    pub fn deserialize_and_verify(
        bytes: &[u8],
        gateway_key: &IdentityPublicKey,
        now: DateTime<Utc>,
    ) -> Result<Self, MessageError> {
        let (pnra, plaintext, signature) = Self::parse(bytes)?;
        if !gateway_key.verify_pss(&plaintext, &signature, pss())? {
            return Err(MessageError::BadSignature("pnra"));
        }
        if pnra.expiry_date < now {
            return Err(MessageError::Expired {
                what: "pnra",
                expiry: pnra.expiry_date,
            });
        }
        Ok(pnra)
    }

    /// Parses without checking the signature or expiry: for diagnostics only, never to
    /// authorise a registration.
    pub fn deserialize_unverified(bytes: &[u8]) -> Result<Self, MessageError> {
        Self::parse(bytes).map(|(pnra, _, _)| pnra)
    }

    /// The PNRA, the plaintext its signature covers and the signature.
    fn parse(bytes: &[u8]) -> Result<(Self, Vec<u8>, Vec<u8>), MessageError> {
        let limit = envelope_limit(&[
            DATE_TIME_OCTETS,
            MAX_PNRA_GATEWAY_DATA_LENGTH,
            MAX_RSA_SIGNATURE_LENGTH,
        ]);
        let mut fields = DerReader::open(bytes, Tag::Sequence, "pnra", limit)?;
        let expiry = fields.expect(ctx(0), "pnra expiry date", DATE_TIME_OCTETS)?;
        let gateway_data =
            fields.expect(ctx(1), "pnra gateway data", MAX_PNRA_GATEWAY_DATA_LENGTH)?;
        let signature = fields.expect(ctx(2), "pnra signature", MAX_RSA_SIGNATURE_LENGTH)?;
        fields.finish("pnra")?;
        let expiry_date = read_date_time(expiry, "pnra expiry date")?;
        let plaintext = pnra_plaintext(expiry, gateway_data)?;
        let pnra = PrivateNodeRegistrationAuthorization {
            expiry_date,
            gateway_data: gateway_data.to_vec(),
        };
        Ok((pnra, plaintext, signature.to_vec()))
    }
}

/// A private node's registration request: its identity key and the PNRA it obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateNodeRegistrationRequest {
    pub private_node_public_key: IdentityPublicKey,
    /// The PNRA exactly as the gateway serialised it.
    pub pnra_serialized: Vec<u8>,
}

impl PrivateNodeRegistrationRequest {
    /// Countersigns with the private node's key (which must match `private_node_public_key`).
    pub fn sign(&self, private_node_key: &IdentityPrivateKey) -> Result<Vec<u8>, MessageError> {
        if private_node_key.public_key() != self.private_node_public_key {
            return Err(MessageError::InvalidArgument(
                "the signing key is not the one in the request".to_string(),
            ));
        }
        let countersignature =
            private_node_key.sign_pss(&pnrr_plaintext(&self.pnra_serialized)?, pss())?;
        Ok(constructed(
            Tag::Sequence,
            &[
                tlv(ctx(0), self.private_node_public_key.spki_der())?,
                tlv(ctx(1), &self.pnra_serialized)?,
                tlv(ctx(2), &countersignature)?,
            ],
        )?)
    }

    /// Parses and checks the countersignature with the key the request carries. The PNRA
    /// inside is left for the caller to verify with the gateway key.
    pub fn deserialize_and_verify(bytes: &[u8]) -> Result<Self, MessageError> {
        let limit = envelope_limit(&[MAX_SPKI_LENGTH, MAX_PNRA_LENGTH, MAX_RSA_SIGNATURE_LENGTH]);
        let mut fields = DerReader::open(bytes, Tag::Sequence, "pnrr", limit)?;
        let spki = fields.expect(ctx(0), "pnrr public key", MAX_SPKI_LENGTH)?;
        let pnra = fields.expect(ctx(1), "pnrr authorization", MAX_PNRA_LENGTH)?;
        let countersignature =
            fields.expect(ctx(2), "pnrr countersignature", MAX_RSA_SIGNATURE_LENGTH)?;
        fields.finish("pnrr")?;
        let private_node_public_key = IdentityPublicKey::from_spki_der(spki)?;
        if !private_node_public_key.verify_pss(&pnrr_plaintext(pnra)?, countersignature, pss())? {
            return Err(MessageError::BadSignature("pnrr"));
        }
        Ok(PrivateNodeRegistrationRequest {
            private_node_public_key,
            pnra_serialized: pnra.to_vec(),
        })
    }
}

#[cfg(test)]
#[path = "registration_tests.rs"]
mod tests;
