//! A parsed, immutable X.509 certificate as Awala uses it.
//!
//! Parsing happens once, in [`Certificate::from_der`]; everything path validation and message
//! handling asks for afterwards (subject id, key ids, validity, DER slices) is precomputed, so
//! clones are an `Arc` bump and accessors never fail.

use std::collections::HashSet;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use const_oid::db::rfc4519::CN;
use const_oid::db::rfc5280::{
    ID_CE_AUTHORITY_KEY_IDENTIFIER, ID_CE_BASIC_CONSTRAINTS, ID_CE_SUBJECT_KEY_IDENTIFIER,
};
use const_oid::ObjectIdentifier;
use der::asn1::BmpString;
use der::{Decode, Header, Reader, SliceReader, Tag, TagNumber, Tagged};
use x509_cert::certificate::Version;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, BasicConstraints, SubjectKeyIdentifier};
use x509_cert::time::Time;

use super::algorithm::SignatureAlgorithm;
use super::error::PkiError;
use crate::protocols::awala::keys::{
    node_id_from_digest, sha256, HashAlgorithm, IdentityPublicKey,
};
use crate::protocols::awala::limits::MAX_CERTIFICATE_LENGTH;

/// Serial numbers longer than this are refused (RFC 5280 §4.1.2.2).
const MAX_SERIAL_NUMBER_LENGTH: usize = 20;

/// An X.509 v3 certificate with an RSA subject key. Cheap to clone.
#[derive(Clone)]
pub struct Certificate {
    inner: Arc<Inner>,
}

struct Inner {
    der: Vec<u8>,
    der_digest: [u8; 32],
    x509: x509_cert::Certificate,
    tbs: Range<usize>,
    issuer_name: Range<usize>,
    subject_name: Range<usize>,
    signature_algorithm: SignatureAlgorithm,
    subject_public_key: IdentityPublicKey,
    subject_id: String,
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
    basic_constraints: Option<BasicConstraints>,
    subject_key_id: Option<Vec<u8>>,
    authority_key_id: Option<Vec<u8>>,
    unknown_critical_extension: Option<ObjectIdentifier>,
}

impl Certificate {
    /// Parses a DER certificate. Refuses oversized input, non-v3 certificates, non-RSA subject
    /// keys, unsupported signature algorithms and duplicate or undecodable known extensions.
    /// Unknown critical extensions parse fine; path validation rejects them.
    pub fn from_der(der: &[u8]) -> Result<Certificate, PkiError> {
        if der.len() > MAX_CERTIFICATE_LENGTH {
            return Err(PkiError::TooLarge {
                actual: der.len(),
                limit: MAX_CERTIFICATE_LENGTH,
            });
        }
        let x509 = match x509_cert::Certificate::from_der(der) {
            Ok(x509) => x509,
            Err(error) => match super::lenient::with_minimal_serial(der) {
                Some(copy) => x509_cert::Certificate::from_der(&copy)?,
                None => return Err(error.into()),
            },
        };
        let raw = RawFields::locate(der)?;
        let tbs = &x509.tbs_certificate;
        if tbs.version != Version::V3 {
            return Err(PkiError::malformed("certificate is not x.509 v3"));
        }
        let serial_length = tbs.serial_number.as_bytes().len();
        if !(1..=MAX_SERIAL_NUMBER_LENGTH).contains(&serial_length) {
            return Err(PkiError::malformed(format!(
                "serial number of {serial_length} octets"
            )));
        }
        // RFC 5280 §4.1.1.2: the signed and unsigned copies must agree, or the signature
        // could be checked under an algorithm the issuer never chose.
        if tbs.signature != x509.signature_algorithm {
            return Err(PkiError::malformed(
                "signature algorithm differs between tbsCertificate and certificate",
            ));
        }
        let signature_algorithm =
            SignatureAlgorithm::from_algorithm_identifier(&x509.signature_algorithm)?;
        if x509.signature.as_bytes().is_none() {
            return Err(PkiError::malformed("signature has unused bits"));
        }
        let subject_public_key = IdentityPublicKey::from_spki_der(&der[raw.spki.clone()])?;
        let extensions = Extensions::parse(tbs.extensions.as_deref().unwrap_or(&[]))?;
        let inner = Inner {
            der_digest: sha256(der),
            subject_id: subject_public_key.node_id(),
            not_before: to_chrono(tbs.validity.not_before)?,
            not_after: to_chrono(tbs.validity.not_after)?,
            tbs: raw.tbs,
            issuer_name: raw.issuer_name,
            subject_name: raw.subject_name,
            signature_algorithm,
            subject_public_key,
            basic_constraints: extensions.basic_constraints,
            subject_key_id: extensions.subject_key_id,
            authority_key_id: extensions.authority_key_id,
            unknown_critical_extension: extensions.unknown_critical,
            der: der.to_vec(),
            x509,
        };
        Ok(Certificate {
            inner: Arc::new(inner),
        })
    }

    /// The DER serialisation, exactly as received or issued.
    pub fn der(&self) -> &[u8] {
        &self.inner.der
    }

    /// SHA-256 of [`Certificate::der`]: a stable identity for caches and de-duplication.
    pub fn der_digest(&self) -> &[u8; 32] {
        &self.inner.der_digest
    }

    /// The node id of the subject key (`"0"` + hex SHA-256 of its `rsaEncryption` SPKI).
    pub fn subject_id(&self) -> &str {
        &self.inner.subject_id
    }

    pub fn subject_public_key(&self) -> &IdentityPublicKey {
        &self.inner.subject_public_key
    }

    /// The first commonName of the subject, if it is a BMP, UTF-8, printable or IA5 string.
    pub fn common_name(&self) -> Option<String> {
        let subject = &self.inner.x509.tbs_certificate.subject;
        let value = subject
            .0
            .iter()
            .flat_map(|rdn| rdn.0.iter())
            .find(|attribute| attribute.oid == CN)
            .map(|attribute| &attribute.value)?;
        match value.tag() {
            Tag::BmpString => {
                let bmp: BmpString = value.decode_as().ok()?;
                Some(bmp.chars().collect())
            }
            Tag::Utf8String | Tag::PrintableString | Tag::Ia5String => {
                String::from_utf8(value.value().to_vec()).ok()
            }
            _ => None,
        }
    }

    /// The issuer's node id, derived from the authority key identifier (as the libraries do).
    pub fn issuer_id(&self) -> Option<String> {
        self.authority_key_id().map(node_id_from_digest)
    }

    pub fn subject_key_id(&self) -> Option<&[u8]> {
        self.inner.subject_key_id.as_deref()
    }

    /// The `keyIdentifier` of the authority key identifier extension.
    pub fn authority_key_id(&self) -> Option<&[u8]> {
        self.inner.authority_key_id.as_deref()
    }

    pub fn not_before(&self) -> DateTime<Utc> {
        self.inner.not_before
    }

    pub fn not_after(&self) -> DateTime<Utc> {
        self.inner.not_after
    }

    /// `notBefore <= now <= notAfter`, with no clock-drift slack (as both libraries do).
    pub fn is_valid_at(&self, now: DateTime<Utc>) -> bool {
        self.inner.not_before <= now && now <= self.inner.not_after
    }

    /// The serial number's content octets (two's complement, as encoded).
    pub fn serial_number(&self) -> &[u8] {
        // The received octets, not x509-cert's: relaynet-core sometimes writes a redundant
        // leading zero (see `lenient`), and CMS signer ids repeat the serial as written.
        super::lenient::raw_serial(&self.inner.der[self.inner.tbs.clone()])
            .unwrap_or_else(|| self.inner.x509.tbs_certificate.serial_number.as_bytes())
    }

    /// The DER of the issuer `Name`, as it appears in the certificate.
    pub fn issuer_name_der(&self) -> &[u8] {
        &self.inner.der[self.inner.issuer_name.clone()]
    }

    /// The DER of the subject `Name`, as it appears in the certificate.
    pub fn subject_name_der(&self) -> &[u8] {
        &self.inner.der[self.inner.subject_name.clone()]
    }

    /// The DER of `tbsCertificate`: the bytes the signature covers.
    pub fn tbs_der(&self) -> &[u8] {
        &self.inner.der[self.inner.tbs.clone()]
    }

    /// Whether basicConstraints says `cA = TRUE`.
    pub fn is_ca(&self) -> bool {
        self.inner
            .basic_constraints
            .as_ref()
            .is_some_and(|constraints| constraints.ca)
    }

    /// basicConstraints' `pathLenConstraint`, present even on non-CA delivery authorisations.
    pub fn path_len_constraint(&self) -> Option<u8> {
        self.inner
            .basic_constraints
            .as_ref()
            .and_then(|constraints| constraints.path_len_constraint)
    }

    /// Whether issuer and subject names are byte-for-byte equal.
    pub fn is_self_issued(&self) -> bool {
        self.issuer_name_der() == self.subject_name_der()
    }

    /// The first critical extension this module does not process, if any.
    pub fn unknown_critical_extension(&self) -> Option<&ObjectIdentifier> {
        self.inner.unknown_critical_extension.as_ref()
    }

    /// The parsed structure, for fields this type does not expose.
    pub fn x509(&self) -> &x509_cert::Certificate {
        &self.inner.x509
    }

    pub fn signature_algorithm(&self) -> SignatureAlgorithm {
        self.inner.signature_algorithm
    }

    /// The digest of the certificate's signature algorithm.
    pub fn signature_hash(&self) -> HashAlgorithm {
        self.inner.signature_algorithm.hash()
    }

    /// Checks this certificate's signature with `issuer`'s subject key. Names, validity and
    /// constraints are the path validator's business, not this method's.
    pub fn verify_issued_by(&self, issuer: &Certificate) -> Result<(), PkiError> {
        // Checked at parse time: the signature has no unused bits.
        let signature = self.inner.x509.signature.raw_bytes();
        let valid = self.inner.signature_algorithm.verify(
            issuer.subject_public_key(),
            self.tbs_der(),
            signature,
        )?;
        if valid {
            Ok(())
        } else {
            Err(PkiError::BadSignature {
                subject_id: self.subject_id().to_string(),
            })
        }
    }
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.inner.der == other.inner.der
    }
}

impl Eq for Certificate {}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("subject_id", &self.inner.subject_id)
            .field("issuer_id", &self.issuer_id())
            .field("not_before", &self.inner.not_before)
            .field("not_after", &self.inner.not_after)
            .field("is_ca", &self.is_ca())
            .finish()
    }
}

// === impl RawFields ===

/// Byte ranges of the fields that must be used exactly as received (signed bytes and names);
/// re-encoding the parsed structure could differ from the signed original.
struct RawFields {
    tbs: Range<usize>,
    issuer_name: Range<usize>,
    subject_name: Range<usize>,
    spki: Range<usize>,
}

impl RawFields {
    fn locate(der: &[u8]) -> Result<RawFields, PkiError> {
        let mut outer = SliceReader::new(der)?;
        Header::decode(&mut outer)?;
        let tbs = outer.tlv_bytes()?;
        let mut reader = SliceReader::new(tbs)?;
        let tbs_header = Header::decode(&mut reader)?;
        let tbs_content = reader.read_slice(tbs_header.length)?;
        let mut fields = SliceReader::new(tbs_content)?;
        let version_tag = Tag::ContextSpecific {
            constructed: true,
            number: TagNumber::N0,
        };
        if fields.peek_tag()? == version_tag {
            fields.tlv_bytes()?; // version
        }
        fields.tlv_bytes()?; // serialNumber
        fields.tlv_bytes()?; // signature
        let issuer_name = fields.tlv_bytes()?;
        fields.tlv_bytes()?; // validity
        let subject_name = fields.tlv_bytes()?;
        let spki = fields.tlv_bytes()?;
        Ok(RawFields {
            tbs: range_within(der, tbs),
            issuer_name: range_within(der, issuer_name),
            subject_name: range_within(der, subject_name),
            spki: range_within(der, spki),
        })
    }
}

/// Where `part` (a subslice of `whole`) sits within `whole`.
fn range_within(whole: &[u8], part: &[u8]) -> Range<usize> {
    let start = part.as_ptr() as usize - whole.as_ptr() as usize;
    start..start + part.len()
}

// === impl Extensions ===

/// The extensions path validation and message handling need, decoded once.
struct Extensions {
    basic_constraints: Option<BasicConstraints>,
    subject_key_id: Option<Vec<u8>>,
    authority_key_id: Option<Vec<u8>>,
    unknown_critical: Option<ObjectIdentifier>,
}

impl Extensions {
    fn parse(extensions: &[x509_cert::ext::Extension]) -> Result<Extensions, PkiError> {
        let mut parsed = Extensions {
            basic_constraints: None,
            subject_key_id: None,
            authority_key_id: None,
            unknown_critical: None,
        };
        // A set rather than pairwise comparison: a 64 KiB certificate can hold thousands of
        // tiny extensions, and quadratic work there would be a cheap denial of service.
        let mut seen = HashSet::with_capacity(extensions.len());
        for extension in extensions {
            let value = extension.extn_value.as_bytes();
            // RFC 5280 §4.2: at most one instance of each extension.
            if !seen.insert(extension.extn_id) {
                return Err(PkiError::malformed(format!(
                    "duplicate extension {}",
                    extension.extn_id
                )));
            }
            match extension.extn_id {
                ID_CE_BASIC_CONSTRAINTS => {
                    parsed.basic_constraints = Some(BasicConstraints::from_der(value)?);
                }
                ID_CE_SUBJECT_KEY_IDENTIFIER => {
                    let identifier = SubjectKeyIdentifier::from_der(value)?;
                    parsed.subject_key_id = Some(identifier.0.as_bytes().to_vec());
                }
                ID_CE_AUTHORITY_KEY_IDENTIFIER => {
                    let identifier = AuthorityKeyIdentifier::from_der(value)?;
                    parsed.authority_key_id =
                        identifier.key_identifier.map(|id| id.as_bytes().to_vec());
                }
                other if extension.critical => {
                    parsed.unknown_critical.get_or_insert(other);
                }
                _ => {}
            }
        }
        Ok(parsed)
    }
}

fn to_chrono(time: Time) -> Result<DateTime<Utc>, PkiError> {
    let seconds = i64::try_from(time.to_unix_duration().as_secs())
        .map_err(|_| PkiError::malformed("validity date out of range"))?;
    DateTime::from_timestamp(seconds, 0)
        .ok_or_else(|| PkiError::malformed("validity date out of range"))
}

#[cfg(test)]
#[path = "certificate_tests.rs"]
mod tests;
