//! Issuing certificates with exactly the profile relaynet-core emits (notes §1.3, §1.4).
//!
//! The TBS is assembled from individually encoded fields rather than from a parsed
//! `TbsCertificate`, so the issuer name is a byte-for-byte copy of the issuer certificate's
//! subject, which is what makes DN chaining hold whatever that encoding is.

use std::time::Duration;

use chrono::{DateTime, Utc};
use const_oid::db::rfc4519::CN;
use const_oid::AssociatedOid;
use der::asn1::{BitString, GeneralizedTime, OctetString, SetOfVec, UtcTime};
use der::{Any, Encode, Header, Tag, TagNumber};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, BasicConstraints, SubjectKeyIdentifier};
use x509_cert::ext::Extension;
use x509_cert::name::{RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

use super::algorithm::SignatureAlgorithm;
use super::certificate::Certificate;
use super::error::PkiError;
use crate::protocols::awala::keys::{
    random_bytes, HashAlgorithm, IdentityPrivateKey, IdentityPublicKey, PssParams,
};
use crate::protocols::awala::limits::MAX_PATH_LENGTH_CONSTRAINT;

/// `[0] EXPLICIT INTEGER 2`: X.509 v3.
const VERSION_3_DER: [u8; 5] = [0xa0, 0x03, 0x02, 0x01, 0x02];
/// relaynet-core draws 64-bit serial numbers.
const SERIAL_NUMBER_LENGTH: usize = 8;
/// First year UTCTime cannot represent (RFC 5280 §4.1.2.5 switches to GeneralizedTime).
const FIRST_GENERALIZED_TIME_YEAR: u16 = 2050;
/// pathLenConstraint of self-issued identity certificates (IG and PG).
pub const IDENTITY_PATH_LEN_CONSTRAINT: u8 = 2;

/// Everything needed to issue one certificate.
#[derive(Debug, Clone)]
pub struct CertificateIssuance<'a> {
    pub subject_public_key: &'a IdentityPublicKey,
    pub issuer_private_key: &'a IdentityPrivateKey,
    /// `None` issues a self-issued certificate (the issuer key must then be the subject's).
    pub issuer_certificate: Option<&'a Certificate>,
    pub not_before: DateTime<Utc>,
    /// Clamped to the issuer certificate's `notAfter`.
    pub not_after: DateTime<Utc>,
    pub is_ca: bool,
    pub path_len_constraint: u8,
    pub hash: HashAlgorithm,
}

/// Issues a certificate with the Awala profile: v3, random positive 64-bit serial, RSASSA-PSS
/// with explicit parameters, CN = subject node id as BMPString, UTCTime validity in whole
/// seconds, and basicConstraints (critical), AKI and SKI in that order.
///
/// Fails if the issuer certificate is not a CA or does not belong to the issuer key, if a
/// self-issued certificate is signed with another key, if `pathLenConstraint` exceeds 2, or if
/// the (clamped) validity period is empty.
pub fn issue_certificate(issuance: &CertificateIssuance<'_>) -> Result<Certificate, PkiError> {
    if issuance.path_len_constraint > MAX_PATH_LENGTH_CONSTRAINT {
        return Err(PkiError::Issuance(format!(
            "pathLenConstraint must be at most {MAX_PATH_LENGTH_CONSTRAINT}"
        )));
    }
    let issuer_public_key = issuance.issuer_private_key.public_key();
    let subject_name = encode_subject_name(&issuance.subject_public_key.node_id())?;
    let mut not_after = truncate_to_seconds(issuance.not_after);
    let issuer_name = match issuance.issuer_certificate {
        Some(issuer) => {
            // relaynet-core refuses to issue from a non-CA certificate, and a mismatched key
            // would produce a certificate that never verifies.
            if !issuer.is_ca() {
                return Err(PkiError::Issuance("issuer certificate is not a ca".into()));
            }
            if issuer.subject_public_key() != &issuer_public_key {
                return Err(PkiError::Issuance(
                    "issuer private key does not match the issuer certificate".into(),
                ));
            }
            not_after = not_after.min(issuer.not_after());
            issuer.subject_name_der().to_vec()
        }
        None => {
            if issuance.subject_public_key != &issuer_public_key {
                return Err(PkiError::Issuance(
                    "a self-issued certificate must be signed with the subject's key".into(),
                ));
            }
            subject_name.clone()
        }
    };
    let not_before = truncate_to_seconds(issuance.not_before);
    if not_before > not_after {
        return Err(PkiError::Issuance(format!(
            "notBefore {not_before} is after notAfter {not_after}"
        )));
    }
    let signature_algorithm = to_der(&SignatureAlgorithm::rsa_pss_identifier(issuance.hash)?)?;
    let validity = Validity {
        not_before: encode_time(not_before)?,
        not_after: encode_time(not_after)?,
    };
    let extensions = encode_extensions(
        issuance.is_ca,
        issuance.path_len_constraint,
        &issuer_public_key,
        issuance.subject_public_key,
    )?;
    let tbs = der_tlv(
        Tag::Sequence,
        &[
            &VERSION_3_DER[..],
            &to_der(&random_serial_number()?)?,
            &signature_algorithm,
            &issuer_name,
            &to_der(&validity)?,
            &subject_name,
            issuance.subject_public_key.spki_der(),
            &extensions,
        ]
        .concat(),
    )?;
    let signature = issuance
        .issuer_private_key
        .sign_pss(&tbs, PssParams::for_hash(issuance.hash))?;
    let signature = BitString::from_bytes(&signature).map_err(encode_error)?;
    let certificate = der_tlv(
        Tag::Sequence,
        &[tbs, signature_algorithm, to_der(&signature)?].concat(),
    )?;
    // Re-parsing validates our own output and fills in every precomputed field.
    Certificate::from_der(&certificate)
}

/// A gateway certificate (CA): IG → PG with `pathLenConstraint` 1, or a self-issued gateway
/// certificate with 2. The CDA relaynet-core issues is also one of these (CA, 1).
pub fn issue_gateway_certificate(
    subject_public_key: &IdentityPublicKey,
    issuer_private_key: &IdentityPrivateKey,
    issuer_certificate: Option<&Certificate>,
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
    path_len_constraint: u8,
) -> Result<Certificate, PkiError> {
    issue_certificate(&CertificateIssuance {
        subject_public_key,
        issuer_private_key,
        issuer_certificate,
        not_before,
        not_after,
        is_ca: true,
        path_len_constraint,
        hash: HashAlgorithm::Sha256,
    })
}

/// A private endpoint certificate (CA, `pathLenConstraint` 0), issued by its gateway or
/// self-issued.
pub fn issue_endpoint_certificate(
    subject_public_key: &IdentityPublicKey,
    issuer_private_key: &IdentityPrivateKey,
    issuer_certificate: Option<&Certificate>,
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
) -> Result<Certificate, PkiError> {
    issue_gateway_certificate(
        subject_public_key,
        issuer_private_key,
        issuer_certificate,
        not_before,
        not_after,
        0,
    )
}

/// A delivery authorisation (PDA, or JVM-style CDA): not a CA, `pathLenConstraint` 0 present.
pub fn issue_delivery_authorization(
    subject_public_key: &IdentityPublicKey,
    issuer_private_key: &IdentityPrivateKey,
    issuer_certificate: &Certificate,
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
) -> Result<Certificate, PkiError> {
    issue_certificate(&CertificateIssuance {
        subject_public_key,
        issuer_private_key,
        issuer_certificate: Some(issuer_certificate),
        not_before,
        not_after,
        is_ca: false,
        path_len_constraint: 0,
        hash: HashAlgorithm::Sha256,
    })
}

/// A self-issued identity certificate (CA, `pathLenConstraint` 2), as IGs and PGs use.
pub fn self_issue_identity_certificate(
    private_key: &IdentityPrivateKey,
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
) -> Result<Certificate, PkiError> {
    issue_gateway_certificate(
        &private_key.public_key(),
        private_key,
        None,
        not_before,
        not_after,
        IDENTITY_PATH_LEN_CONSTRAINT,
    )
}

// === encoding helpers ===

fn random_serial_number() -> Result<SerialNumber, PkiError> {
    let mut serial = random_bytes(SERIAL_NUMBER_LENGTH);
    // Positive, and never a leading zero octet, so DER keeps all eight octets.
    serial[0] &= 0x7f;
    if serial[0] == 0 {
        serial[0] = 1;
    }
    SerialNumber::new(&serial).map_err(encode_error)
}

/// `Name` with one RDN holding CN = `node_id` as a BMPString (UTF-16BE), as both libraries do.
fn encode_subject_name(node_id: &str) -> Result<Vec<u8>, PkiError> {
    let ucs2: Vec<u8> = node_id.encode_utf16().flat_map(u16::to_be_bytes).collect();
    let attribute = AttributeTypeAndValue {
        oid: CN,
        value: Any::new(Tag::BmpString, ucs2).map_err(encode_error)?,
    };
    let rdn = RelativeDistinguishedName(SetOfVec::try_from(vec![attribute]).map_err(encode_error)?);
    to_der(&RdnSequence(vec![rdn]))
}

fn encode_time(time: DateTime<Utc>) -> Result<Time, PkiError> {
    let seconds = u64::try_from(time.timestamp())
        .map_err(|_| PkiError::Issuance(format!("{time} is before 1970")))?;
    let date_time =
        der::DateTime::from_unix_duration(Duration::from_secs(seconds)).map_err(encode_error)?;
    if date_time.year() < FIRST_GENERALIZED_TIME_YEAR {
        Ok(Time::UtcTime(
            UtcTime::from_date_time(date_time).map_err(encode_error)?,
        ))
    } else {
        Ok(Time::GeneralTime(GeneralizedTime::from_date_time(
            date_time,
        )))
    }
}

/// `[3] EXPLICIT Extensions` in relaynet-core's order: basicConstraints (critical), AKI, SKI.
fn encode_extensions(
    is_ca: bool,
    path_len_constraint: u8,
    issuer_public_key: &IdentityPublicKey,
    subject_public_key: &IdentityPublicKey,
) -> Result<Vec<u8>, PkiError> {
    let basic_constraints = BasicConstraints {
        ca: is_ca,
        path_len_constraint: Some(path_len_constraint),
    };
    let authority_key_id = AuthorityKeyIdentifier {
        key_identifier: Some(octet_string(&issuer_public_key.digest())?),
        authority_cert_issuer: None,
        authority_cert_serial_number: None,
    };
    let subject_key_id = SubjectKeyIdentifier(octet_string(&subject_public_key.digest())?);
    let extensions = vec![
        extension(BasicConstraints::OID, true, &basic_constraints)?,
        extension(AuthorityKeyIdentifier::OID, false, &authority_key_id)?,
        extension(SubjectKeyIdentifier::OID, false, &subject_key_id)?,
    ];
    let explicit_3 = Tag::ContextSpecific {
        constructed: true,
        number: TagNumber::N3,
    };
    der_tlv(explicit_3, &to_der(&extensions)?)
}

fn extension(
    oid: const_oid::ObjectIdentifier,
    critical: bool,
    value: &impl Encode,
) -> Result<Extension, PkiError> {
    Ok(Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(to_der(value)?).map_err(encode_error)?,
    })
}

fn octet_string(bytes: &[u8]) -> Result<OctetString, PkiError> {
    OctetString::new(bytes).map_err(encode_error)
}

fn der_tlv(tag: Tag, content: &[u8]) -> Result<Vec<u8>, PkiError> {
    let mut encoded = to_der(&Header::new(tag, content.len()).map_err(encode_error)?)?;
    encoded.extend_from_slice(content);
    Ok(encoded)
}

fn to_der(value: &impl Encode) -> Result<Vec<u8>, PkiError> {
    value.to_der().map_err(encode_error)
}

fn truncate_to_seconds(time: DateTime<Utc>) -> DateTime<Utc> {
    // Whole seconds always fit, so this never falls back.
    DateTime::from_timestamp(time.timestamp(), 0).unwrap_or(time)
}

fn encode_error(error: der::Error) -> PkiError {
    PkiError::Issuance(format!("der encoding failed: {error}"))
}

#[cfg(test)]
#[path = "issue_tests.rs"]
mod tests;
