//! Parsing of ContentInfo(SignedData) after BER normalisation, borrowing from the input.

use super::super::keys::{HashAlgorithm, PssParams};
use super::super::limits::{MAX_CERTIFICATES_PER_MESSAGE, MAX_CERTIFICATE_LENGTH};
use super::algorithms::{parse_digest_algorithm, parse_pss_algorithm};
use super::certificate::{parse_certificate, CertificateFields};
use super::error::CmsError;
use super::oids::{self, ID_CONTENT_TYPE, ID_DATA, ID_MESSAGE_DIGEST, ID_SIGNED_DATA};
use super::tlv::{
    context, context_constructed, DerReader, TAG_INTEGER, TAG_OCTET_STRING, TAG_OID, TAG_SEQUENCE,
    TAG_SET,
};

/// How a SignerInfo names its certificate.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SignerId<'a> {
    /// Issuer Name element and serialNumber INTEGER element, as received.
    IssuerAndSerial {
        issuer: &'a [u8],
        serial: &'a [u8],
    },
    SubjectKeyIdentifier(&'a [u8]),
}

#[derive(Debug)]
pub(crate) struct ParsedSignerInfo<'a> {
    pub sid: SignerId<'a>,
    pub hash: HashAlgorithm,
    /// The `[0] IMPLICIT` signedAttrs element exactly as received (header included).
    pub signed_attributes: &'a [u8],
    pub message_digest: &'a [u8],
    pub pss: PssParams,
    pub signature: &'a [u8],
}

#[derive(Debug)]
pub(crate) struct ParsedSignedData<'a> {
    pub encapsulated_content: Option<&'a [u8]>,
    pub certificates: Vec<CertificateFields<'a>>,
    pub signer: ParsedSignerInfo<'a>,
}

impl ParsedSignedData<'_> {
    /// Index in `certificates` of the certificate the SignerInfo designates.
    pub(crate) fn signer_certificate_index(&self) -> Result<usize, CmsError> {
        self.certificates
            .iter()
            .position(|certificate| match self.signer.sid {
                SignerId::IssuerAndSerial { issuer, serial } => {
                    certificate.issuer == issuer && certificate.serial == serial
                }
                SignerId::SubjectKeyIdentifier(key_id) => {
                    certificate.subject_key_identifier == Some(key_id)
                }
            })
            .ok_or_else(|| CmsError::invalid("signer certificate is not embedded"))
    }
}

/// Parses a DER ContentInfo whose content is SignedData.
pub(crate) fn parse_content_info(der: &[u8]) -> Result<ParsedSignedData<'_>, CmsError> {
    let mut outer = DerReader::new(der);
    let mut content_info = DerReader::new(outer.read(TAG_SEQUENCE, "content info")?);
    outer.finish("content info")?;
    let content_type = content_info.read(TAG_OID, "content type")?;
    if !oids::is(content_type, &ID_SIGNED_DATA) {
        return Err(CmsError::invalid("content type is not signed data"));
    }
    let mut explicit = DerReader::new(content_info.read(context_constructed(0), "content")?);
    content_info.finish("content info")?;
    let signed_data = explicit.read(TAG_SEQUENCE, "signed data")?;
    explicit.finish("content")?;
    parse_signed_data(signed_data)
}

fn parse_signed_data(content: &[u8]) -> Result<ParsedSignedData<'_>, CmsError> {
    let mut reader = DerReader::new(content);
    reader.read(TAG_INTEGER, "signed data version")?;
    let mut digest_algorithms = DerReader::new(reader.read(TAG_SET, "digest algorithms")?);
    while !digest_algorithms.is_empty() {
        // Unknown digests here are harmless: only the SignerInfo's one is used.
        digest_algorithms.read(TAG_SEQUENCE, "digest algorithm")?;
    }
    let encapsulated_content =
        parse_encapsulated_content_info(reader.read(TAG_SEQUENCE, "encapsulated content info")?)?;
    let certificates = match reader.read_optional(context_constructed(0))? {
        Some(set) => parse_certificates(set.content)?,
        None => Vec::new(),
    };
    reader.read_optional(context_constructed(1))?; // crls: not used by Awala
    let mut signer_infos = DerReader::new(reader.read(TAG_SET, "signer infos")?);
    reader.finish("signed data")?;
    if signer_infos.is_empty() {
        return Err(CmsError::invalid("signed data has no signer info"));
    }
    let signer = parse_signer_info(signer_infos.read(TAG_SEQUENCE, "signer info")?)?;
    if !signer_infos.is_empty() {
        return Err(CmsError::invalid(
            "signed data has more than one signer info",
        ));
    }
    Ok(ParsedSignedData {
        encapsulated_content,
        certificates,
        signer,
    })
}

fn parse_encapsulated_content_info(content: &[u8]) -> Result<Option<&[u8]>, CmsError> {
    let mut reader = DerReader::new(content);
    let content_type = reader.read(TAG_OID, "encapsulated content type")?;
    if !oids::is(content_type, &ID_DATA) {
        return Err(CmsError::invalid("encapsulated content type is not data"));
    }
    let encapsulated = match reader.read_optional(context_constructed(0))? {
        Some(explicit) => {
            // The BER normaliser has already joined a constructed (segmented) OCTET STRING.
            let mut inner = DerReader::new(explicit.content);
            let octets = inner.read(TAG_OCTET_STRING, "encapsulated content")?;
            inner.finish("encapsulated content")?;
            Some(octets)
        }
        None => None,
    };
    reader.finish("encapsulated content info")?;
    Ok(encapsulated)
}

fn parse_certificates(content: &[u8]) -> Result<Vec<CertificateFields<'_>>, CmsError> {
    let mut reader = DerReader::new(content);
    let mut certificates = Vec::new();
    while !reader.is_empty() {
        if certificates.len() == MAX_CERTIFICATES_PER_MESSAGE {
            return Err(CmsError::TooLarge {
                what: "certificate count",
                actual: certificates.len() + 1,
                limit: MAX_CERTIFICATES_PER_MESSAGE,
            });
        }
        // Other CertificateChoices (attribute certificates, ...) never occur in Awala.
        let certificate = reader.read_tlv(TAG_SEQUENCE, "certificate")?;
        if certificate.raw.len() > MAX_CERTIFICATE_LENGTH {
            return Err(CmsError::TooLarge {
                what: "certificate",
                actual: certificate.raw.len(),
                limit: MAX_CERTIFICATE_LENGTH,
            });
        }
        certificates.push(parse_certificate(certificate.raw)?);
    }
    Ok(certificates)
}

fn parse_signer_info(content: &[u8]) -> Result<ParsedSignerInfo<'_>, CmsError> {
    let mut reader = DerReader::new(content);
    reader.read(TAG_INTEGER, "signer info version")?;
    let sid = match reader.peek_tag() {
        Some(TAG_SEQUENCE) => {
            let mut sid = DerReader::new(reader.read(TAG_SEQUENCE, "issuer and serial")?);
            let issuer = sid.read_tlv(TAG_SEQUENCE, "issuer")?.raw;
            let serial = sid.read_tlv(TAG_INTEGER, "serial number")?.raw;
            sid.finish("issuer and serial")?;
            SignerId::IssuerAndSerial { issuer, serial }
        }
        _ => SignerId::SubjectKeyIdentifier(reader.read(context(0), "signer identifier")?),
    };
    let hash = parse_digest_algorithm(reader.read(TAG_SEQUENCE, "digest algorithm")?)?;
    let signed_attributes = reader
        .read_optional(context_constructed(0))?
        .ok_or_else(|| CmsError::invalid("signer info has no signed attributes"))?;
    let pss = parse_pss_algorithm(reader.read(TAG_SEQUENCE, "signature algorithm")?)?;
    let signature = reader.read(TAG_OCTET_STRING, "signature")?;
    reader.read_optional(context_constructed(1))?; // unsignedAttrs: ignored
    reader.finish("signer info")?;
    let message_digest = check_signed_attributes(signed_attributes.content)?;
    Ok(ParsedSignerInfo {
        sid,
        hash,
        signed_attributes: signed_attributes.raw,
        message_digest,
        pss,
        signature,
    })
}

/// Requires exactly one contentType (= id-data) and one messageDigest; returns the digest.
/// Other attributes (BC adds signingTime and cmsAlgorithmProtection) are tolerated.
fn check_signed_attributes(content: &[u8]) -> Result<&[u8], CmsError> {
    let mut reader = DerReader::new(content);
    let mut content_type_seen = false;
    let mut message_digest = None;
    while !reader.is_empty() {
        let mut attribute = DerReader::new(reader.read(TAG_SEQUENCE, "attribute")?);
        let attribute_type = attribute.read(TAG_OID, "attribute type")?;
        let mut values = DerReader::new(attribute.read(TAG_SET, "attribute values")?);
        attribute.finish("attribute")?;
        if oids::is(attribute_type, &ID_CONTENT_TYPE) {
            let value = values.read(TAG_OID, "content type attribute")?;
            values.finish("content type attribute")?;
            if content_type_seen || !oids::is(value, &ID_DATA) {
                return Err(CmsError::invalid("content type attribute is not id-data"));
            }
            content_type_seen = true;
        } else if oids::is(attribute_type, &ID_MESSAGE_DIGEST) {
            let value = values.read(TAG_OCTET_STRING, "message digest attribute")?;
            values.finish("message digest attribute")?;
            if message_digest.replace(value).is_some() {
                return Err(CmsError::invalid("message digest attribute repeated"));
            }
        }
    }
    if !content_type_seen {
        return Err(CmsError::invalid("content type attribute missing"));
    }
    message_digest.ok_or_else(|| CmsError::invalid("message digest attribute missing"))
}
