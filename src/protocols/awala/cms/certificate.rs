//! The few fields of an X.509 certificate the CMS layer needs, borrowed from its DER.
//!
//! Full certificate handling (validity, extensions, path validation) belongs to the PKI module;
//! here we only locate the signer among the embedded certificates and take its key.

use super::super::keys::IdentityPublicKey;
use super::error::CmsError;
use super::oids;
use super::tlv::{context_constructed, DerReader, TAG_INTEGER, TAG_OCTET_STRING, TAG_SEQUENCE};

const ID_CE_SUBJECT_KEY_IDENTIFIER: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("2.5.29.14");
const TAG_BOOLEAN: u8 = 0x01;
const RSA_ENCRYPTION: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

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

/// The RSA key of an SPKI element (`rsaEncryption` or `id-RSASSA-PSS`).
///
/// Walks the SPKI here and hands OpenSSL only the PKCS#1 key: OpenSSL 3.0's generic SPKI
/// decoder is slower than the RSA verification it precedes.
pub(crate) fn rsa_public_key(spki: &[u8]) -> Result<IdentityPublicKey, CmsError> {
    let mut outer = DerReader::new(spki);
    let mut fields = DerReader::new(outer.read(TAG_SEQUENCE, "subjectPublicKeyInfo")?);
    let algorithm =
        super::algorithms::parse_algorithm(fields.read(TAG_SEQUENCE, "key algorithm")?)?;
    if !oids::is(algorithm.oid, &RSA_ENCRYPTION) && !oids::is(algorithm.oid, &oids::ID_RSASSA_PSS) {
        return Err(CmsError::invalid("signer key is not rsa"));
    }
    let bits = fields.read(super::tlv::TAG_BIT_STRING, "subjectPublicKey")?;
    fields.finish("subjectPublicKeyInfo")?;
    match bits {
        [0, key @ ..] => {
            IdentityPublicKey::from_rsa_public_key_der(key).map_err(CmsError::from_input_key)
        }
        _ => Err(CmsError::malformed("subjectPublicKey bit string")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocols::awala::cms::test_support::signers;

    #[test]
    fn fields_and_key_match_openssl() {
        let [signer, _] = signers();
        let fields = parse_certificate(&signer.certificate_der).unwrap();
        let x509 = openssl::x509::X509::from_der(&signer.certificate_der).unwrap();
        assert_eq!(fields.issuer, x509.issuer_name().to_der().unwrap());
        assert_eq!(
            fields.spki,
            x509.public_key().unwrap().public_key_to_der().unwrap()
        );
        assert_eq!(
            fields.subject_key_identifier.unwrap(),
            x509.subject_key_id().unwrap().as_slice()
        );
        assert_eq!(
            rsa_public_key(fields.spki).unwrap(),
            signer.key.public_key()
        );
    }
}
