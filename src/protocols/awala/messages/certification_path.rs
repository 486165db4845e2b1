//! CertificationPath in both encodings found in the wild (§1.7), and CertificateRotation.

use der::Tag;

use super::asn1::{ctx, ctx_constructed, envelope_limit, tlv, DerReader};
use super::signature::MessageType;
use crate::protocols::awala::error::Asn1Error;
use crate::protocols::awala::limits::{MAX_CERTIFICATES_PER_MESSAGE, MAX_CERTIFICATE_LENGTH};

/// DER tag octet of a SEQUENCE (a certificate).
const SEQUENCE_OCTET: u8 = 0x30;
/// DER tag octet of a constructed `[0]` (the JVM form's re-tagged leaf certificate).
const CONSTRUCTED_ZERO_OCTET: u8 = 0xA0;

/// How a certification path is laid out on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CertificationPathEncoding {
    /// awala.js: `[0] IMPLICIT OCTET STRING` leaf, `[1] IMPLICIT SEQUENCE OF OCTET STRING` CAs.
    /// What the reference gateway emits and desktop gateways read.
    #[default]
    Js,
    /// awala-jvm ≥ 1.67: `[0] IMPLICIT Certificate` leaf, `[1] IMPLICIT SEQUENCE OF Certificate`.
    Jvm,
}

/// A leaf certificate and the CAs above it, all as certificate DER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificationPath {
    pub leaf_der: Vec<u8>,
    pub certificate_authorities_der: Vec<Vec<u8>>,
}

impl CertificationPath {
    /// Encodes in the JS form, the one the reference gateway emits.
    pub fn encode(&self) -> Result<Vec<u8>, Asn1Error> {
        self.encode_as(CertificationPathEncoding::Js)
    }

    /// Encodes in the requested form.
    pub fn encode_as(&self, encoding: CertificationPathEncoding) -> Result<Vec<u8>, Asn1Error> {
        check_certificate(&self.leaf_der).map_err(|e| Asn1Error::Encode(e.to_string()))?;
        if self.certificate_authorities_der.len() >= MAX_CERTIFICATES_PER_MESSAGE {
            return Err(Asn1Error::Encode(
                "too many certificate authorities".to_string(),
            ));
        }
        let mut authorities = Vec::new();
        for authority in &self.certificate_authorities_der {
            check_certificate(authority).map_err(|e| Asn1Error::Encode(e.to_string()))?;
            match encoding {
                CertificationPathEncoding::Js => {
                    authorities.push(tlv(Tag::OctetString, authority)?)
                }
                CertificationPathEncoding::Jvm => authorities.push(authority.clone()),
            }
        }
        let leaf = match encoding {
            CertificationPathEncoding::Js => tlv(ctx(0), &self.leaf_der)?,
            CertificationPathEncoding::Jvm => {
                // Same length octets and contents; only the outer tag changes.
                let mut leaf = self.leaf_der.clone();
                leaf[0] = CONSTRUCTED_ZERO_OCTET;
                leaf
            }
        };
        let authorities = tlv(ctx_constructed(1), &authorities.concat())?;
        tlv(Tag::Sequence, &[leaf, authorities].concat())
    }

    /// Decodes either form.
    pub fn decode(bytes: &[u8]) -> Result<Self, Asn1Error> {
        Self::decode_with_encoding(bytes).map(|(path, _)| path)
    }

    /// Decodes either form and reports which one it was.
    pub fn decode_with_encoding(
        bytes: &[u8],
    ) -> Result<(Self, CertificationPathEncoding), Asn1Error> {
        let list_limit = envelope_limit(&[MAX_CERTIFICATE_LENGTH; MAX_CERTIFICATES_PER_MESSAGE]);
        let limit = envelope_limit(&[MAX_CERTIFICATE_LENGTH, list_limit]);
        let mut fields = DerReader::open(bytes, Tag::Sequence, "certification path", limit)?;
        let leaf = fields.read("leaf certificate", MAX_CERTIFICATE_LENGTH)?;
        let (encoding, leaf_der) = if leaf.tag == ctx(0) {
            (CertificationPathEncoding::Js, leaf.value.to_vec())
        } else if leaf.tag == ctx_constructed(0) {
            // The JVM form re-tags the certificate SEQUENCE; restore the tag to get its DER.
            let mut der = leaf.encoded.to_vec();
            der[0] = SEQUENCE_OCTET;
            (CertificationPathEncoding::Jvm, der)
        } else {
            return Err(Asn1Error::malformed(format!(
                "leaf certificate has tag {}",
                leaf.tag
            )));
        };
        check_certificate(&leaf_der)?;

        let mut list = DerReader::new(fields.expect(
            ctx_constructed(1),
            "certificate authorities",
            list_limit,
        )?);
        fields.finish("certification path")?;
        let mut certificate_authorities_der = Vec::new();
        while !list.is_empty() {
            if certificate_authorities_der.len() + 1 >= MAX_CERTIFICATES_PER_MESSAGE {
                return Err(Asn1Error::malformed(
                    "certification path has too many certificates",
                ));
            }
            let authority = match encoding {
                CertificationPathEncoding::Js => list
                    .expect(
                        Tag::OctetString,
                        "certificate authority",
                        MAX_CERTIFICATE_LENGTH,
                    )?
                    .to_vec(),
                CertificationPathEncoding::Jvm => {
                    let element = list.read("certificate authority", MAX_CERTIFICATE_LENGTH)?;
                    element.encoded.to_vec()
                }
            };
            check_certificate(&authority)?;
            certificate_authorities_der.push(authority);
        }
        let path = CertificationPath {
            leaf_der,
            certificate_authorities_der,
        };
        Ok((path, encoding))
    }
}

/// A certificate here is one DER SEQUENCE with nothing after it; the PKI layer parses it.
fn check_certificate(der: &[u8]) -> Result<(), Asn1Error> {
    DerReader::open(der, Tag::Sequence, "certificate", MAX_CERTIFICATE_LENGTH).map(|_| ())
}

/// `"Awala" 0x10 0x00` ‖ CertificationPath: a renewed private gateway certificate and its issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRotation {
    pub path: CertificationPath,
}

impl CertificateRotation {
    /// Serialises with the path in the given encoding.
    pub fn serialize(&self, encoding: CertificationPathEncoding) -> Result<Vec<u8>, Asn1Error> {
        Ok(MessageType::CertificateRotation.prefix(&self.path.encode_as(encoding)?))
    }

    /// Parses a rotation whose path is in either encoding.
    pub fn deserialize(bytes: &[u8]) -> Result<Self, Asn1Error> {
        let body = MessageType::CertificateRotation.strip(bytes)?;
        Ok(CertificateRotation {
            path: CertificationPath::decode(body)?,
        })
    }
}

#[cfg(test)]
#[path = "certification_path_tests.rs"]
mod tests;
