//! The signed RAMF envelope shared by parcels, cargo and CCAs.

use chrono::{DateTime, Utc};

use super::error::RamfError;
use crate::protocols::awala::cms::signed_data;
use crate::protocols::awala::keys::{HashAlgorithm, IdentityPrivateKey};
use crate::protocols::awala::limits::MAX_CERTIFICATES_PER_MESSAGE;
use crate::protocols::awala::messages::{FieldSet, MessageType, Recipient};
use crate::protocols::awala::pki::{Certificate, CertificateCache};

/// What a sender chooses for a new message; the signature and certificates are added when it is
/// serialised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageDraft {
    pub recipient: Recipient,
    pub id: String,
    pub creation_date: DateTime<Utc>,
    pub ttl: u32,
    pub payload: Vec<u8>,
}

impl MessageDraft {
    /// A draft with a random UUIDv4 id, as both libraries default to.
    pub fn new(
        recipient: Recipient,
        payload: Vec<u8>,
        creation_date: DateTime<Utc>,
        ttl: u32,
    ) -> Self {
        MessageDraft {
            recipient,
            id: uuid::Uuid::new_v4().to_string(),
            creation_date,
            ttl,
            payload,
        }
    }

    fn field_set(&self) -> FieldSet {
        FieldSet {
            recipient: self.recipient.clone(),
            id: self.id.clone(),
            creation_date: self.creation_date,
            ttl: self.ttl,
            payload: self.payload.clone(),
        }
    }
}

/// A RAMF message whose signature has been verified against its own sender certificate.
/// Whether that certificate is trusted is for [`super::validation`] to decide.
#[derive(Debug, Clone)]
pub struct RamfMessage {
    message_type: MessageType,
    fields: FieldSet,
    sender_certificate: Certificate,
    sender_ca_certificates: Vec<Certificate>,
    signature_hash: HashAlgorithm,
}

impl RamfMessage {
    /// Parses and verifies; with `certificates`, the embedded chain is taken from (and added
    /// to) that cache instead of being parsed again.
    pub(super) fn deserialize(
        message_type: MessageType,
        bytes: &[u8],
        limit: usize,
        what: &'static str,
        certificates: Option<&CertificateCache>,
    ) -> Result<Self, RamfError> {
        check_length(what, bytes.len(), limit)?;
        let signed_data = message_type
            .strip(bytes)
            .map_err(RamfError::FormatSignature)?;
        let parse = |der: &[u8]| match certificates {
            Some(cache) => cache.parse(der),
            None => Certificate::from_der(der),
        };
        let verified = signed_data::verify_resolving(
            signed_data,
            |der| parse(der).map_err(RamfError::from),
            Certificate::subject_public_key,
        )?;
        let fields = FieldSet::decode(&verified.plaintext).map_err(RamfError::FieldSet)?;
        Ok(RamfMessage {
            message_type,
            fields,
            sender_certificate: verified.signer_certificate,
            sender_ca_certificates: verified.other_certificates,
            signature_hash: verified.hash,
        })
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn serialize(
        message_type: MessageType,
        draft: &MessageDraft,
        sender_key: &IdentityPrivateKey,
        sender_certificate: &Certificate,
        sender_ca_certificates: &[Certificate],
        hash: HashAlgorithm,
        limit: usize,
        what: &'static str,
    ) -> Result<Vec<u8>, RamfError> {
        check_length(
            "certificate chain",
            sender_ca_certificates.len() + 1,
            MAX_CERTIFICATES_PER_MESSAGE,
        )?;
        let field_set = draft.field_set().encode().map_err(RamfError::FieldSet)?;
        let ca_der: Vec<Vec<u8>> = sender_ca_certificates
            .iter()
            .map(|certificate| certificate.der().to_vec())
            .collect();
        let signed = signed_data::sign(
            &field_set,
            sender_key,
            sender_certificate.der(),
            &ca_der,
            hash,
        )?;
        let serialized = message_type.prefix(&signed);
        check_length(what, serialized.len(), limit)?;
        Ok(serialized)
    }

    pub fn message_type(&self) -> MessageType {
        self.message_type
    }

    pub fn fields(&self) -> &FieldSet {
        &self.fields
    }

    pub fn id(&self) -> &str {
        &self.fields.id
    }

    pub fn recipient(&self) -> &Recipient {
        &self.fields.recipient
    }

    pub fn creation_date(&self) -> DateTime<Utc> {
        self.fields.creation_date
    }

    pub fn ttl(&self) -> u32 {
        self.fields.ttl
    }

    pub fn expiry_date(&self) -> DateTime<Utc> {
        self.fields.expiry_date()
    }

    pub fn payload(&self) -> &[u8] {
        &self.fields.payload
    }

    pub fn sender_certificate(&self) -> &Certificate {
        &self.sender_certificate
    }

    /// Certificates attached besides the sender's, in the order the sender put them.
    pub fn sender_ca_certificates(&self) -> &[Certificate] {
        &self.sender_ca_certificates
    }

    pub fn signature_hash(&self) -> HashAlgorithm {
        self.signature_hash
    }
}

fn check_length(what: &'static str, actual: usize, limit: usize) -> Result<(), RamfError> {
    if actual > limit {
        return Err(RamfError::TooLarge {
            what,
            actual,
            limit,
        });
    }
    Ok(())
}
