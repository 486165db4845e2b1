//! The few fields of an X.509 certificate the CMS layer needs, borrowed from its DER.
//!
//! Full certificate handling (validity, extensions, path validation) belongs to the PKI module;
//! here we only locate the signer among the embedded certificates and take its key.

use super::error::CmsError;
use super::oids;
use super::tlv::{context_constructed, DerReader, TAG_INTEGER, TAG_OCTET_STRING, TAG_SEQUENCE};

const ID_CE_SUBJECT_KEY_IDENTIFIER: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("2.5.29.14");
const TAG_BOOLEAN: u8 = 0x01;

/// Borrowed views into one certificate's DER.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CertificateFields<'a> {
    /// The whole certificate.
    pub der: &'a [u8],
    /// The issuer Name element (tag and length included), as an IssuerAndSerialNumber holds it.
    pub issuer: &'a [u8],
    /// The serialNumber INTEGER element.
    pub serial: &'a [u8],
    /// The SubjectPublicKeyInfo element.
    pub spki: &'a [u8],
    /// The subjectKeyIdentifier extension value, if present.
    pub subject_key_identifier: Option<&'a [u8]>,
}

/// Extracts issuer, serial, SPKI and SKI from one certificate element (tag included).
pub(crate) fn parse_certificate(der: &[u8]) -> Result<CertificateFields<'_>, CmsError> {
    let mut outer = DerReader::new(der);
    let certificate = outer.read(TAG_SEQUENCE, "certificate")?;
    outer.finish("certificate")?;
    let mut certificate = DerReader::new(certificate);
    let tbs = certificate.read(TAG_SEQUENCE, "tbsCertificate")?;
    let mut tbs = DerReader::new(tbs);
    tbs.read_optional(context_constructed(0))?; // version
    let serial = tbs.read_tlv(TAG_INTEGER, "serialNumber")?.raw;
    tbs.read(TAG_SEQUENCE, "certificate signature algorithm")?;
    let issuer = tbs.read_tlv(TAG_SEQUENCE, "issuer")?.raw;
    tbs.read(TAG_SEQUENCE, "validity")?;
    tbs.read(TAG_SEQUENCE, "subject")?;
    let spki = tbs.read_tlv(TAG_SEQUENCE, "subjectPublicKeyInfo")?.raw;
    tbs.read_optional(0x81)?; // issuerUniqueID
    tbs.read_optional(0x82)?; // subjectUniqueID
    let subject_key_identifier = match tbs.read_optional(context_constructed(3))? {
        Some(extensions) => find_subject_key_identifier(extensions.content)?,
        None => None,
    };
    Ok(CertificateFields {
        der,
        issuer,
        serial,
        spki,
        subject_key_identifier,
    })
}

fn find_subject_key_identifier(explicit: &[u8]) -> Result<Option<&[u8]>, CmsError> {
    let mut wrapper = DerReader::new(explicit);
    let mut extensions = DerReader::new(wrapper.read(TAG_SEQUENCE, "extensions")?);
    while !extensions.is_empty() {
        let mut extension = DerReader::new(extensions.read(TAG_SEQUENCE, "extension")?);
        let oid = extension.read(super::tlv::TAG_OID, "extension id")?;
        extension.read_optional(TAG_BOOLEAN)?;
        let value = extension.read(TAG_OCTET_STRING, "extension value")?;
        if oids::is(oid, &ID_CE_SUBJECT_KEY_IDENTIFIER) {
            let mut inner = DerReader::new(value);
            let key_id = inner.read(TAG_OCTET_STRING, "subjectKeyIdentifier")?;
            return Ok(Some(key_id));
        }
    }
    Ok(None)
}
