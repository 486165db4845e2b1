//! CMS SignedData (notes §3.1): strict-DER production and BER-tolerant verification.
//!
//! Verification proves only that the embedded signer certificate's key signed the content; the
//! PKI module validates the certificate chain.

use super::super::keys::{HashAlgorithm, IdentityPrivateKey, IdentityPublicKey, PssParams};
use super::super::limits::MAX_RAMF_MESSAGE_LENGTH;
use super::algorithms::{digest_algorithm_der, integer_der, pss_algorithm_der};
use super::ber;
use super::certificate::{parse_certificate, rsa_public_key};
use super::error::CmsError;
use super::oids::{self, ID_CONTENT_TYPE, ID_DATA, ID_MESSAGE_DIGEST, ID_SIGNED_DATA};
use super::signed_data_parse::{parse_content_info, ParsedSignedData};
use super::tlv::{context_constructed, tlv, TAG_OCTET_STRING, TAG_SEQUENCE, TAG_SET};

/// What a successful verification established.
#[derive(Debug, Clone)]
pub struct SignedDataVerified {
    /// The encapsulated content (empty for detached signatures).
    pub plaintext: Vec<u8>,
    /// DER of the certificate whose key made the signature.
    pub signer_certificate_der: Vec<u8>,
    /// That certificate's public key.
    pub signer_public_key: IdentityPublicKey,
    /// The other embedded certificates, in the order received (the sender's CA chain).
    pub other_certificates_der: Vec<Vec<u8>>,
    /// The digest algorithm of the SignerInfo.
    pub hash: HashAlgorithm,
}

/// Signs `plaintext` into a strict-DER ContentInfo(SignedData) with the content encapsulated.
///
/// Follows the production recipe both libraries accept: one `{hash, NULL}` digest algorithm,
/// primitive eContent, the signer certificate then `ca_certificates_der` in `certificates`, one
/// v1 SignerInfo with contentType and messageDigest attributes and explicit RSASSA-PSS params.
pub fn sign(
    plaintext: &[u8],
    signer_key: &IdentityPrivateKey,
    signer_certificate_der: &[u8],
    ca_certificates_der: &[Vec<u8>],
    hash: HashAlgorithm,
) -> Result<Vec<u8>, CmsError> {
    if plaintext.len() > MAX_RAMF_MESSAGE_LENGTH {
        return Err(CmsError::TooLarge {
            what: "signed plaintext",
            actual: plaintext.len(),
            limit: MAX_RAMF_MESSAGE_LENGTH,
        });
    }
    let certificates: Vec<&[u8]> = std::iter::once(signer_certificate_der)
        .chain(ca_certificates_der.iter().map(Vec::as_slice))
        .collect();
    build(plaintext, Some(plaintext), signer_key, &certificates, hash)
}

/// Verifies a ContentInfo(SignedData) with encapsulated content (BER or DER).
pub fn verify(content_info: &[u8]) -> Result<SignedDataVerified, CmsError> {
    let der = ber::normalize(content_info)?;
    let parsed = parse_content_info(&der)?;
    let content = parsed
        .encapsulated_content
        .ok_or_else(|| CmsError::invalid("signed data has no encapsulated content"))?;
    let mut verified = verify_parsed(&parsed, &[content])?;
    verified.plaintext = content.to_vec();
    Ok(verified)
}

/// Verifies a detached signature over the concatenation of `content_parts` (passed in parts so
/// a large plaintext is digested where it lies instead of being copied); refuses a signature
/// that encapsulates content.
pub(crate) fn verify_detached_content(
    content_info: &[u8],
    content_parts: &[&[u8]],
) -> Result<SignedDataVerified, CmsError> {
    let der = ber::normalize(content_info)?;
    let parsed = parse_content_info(&der)?;
    if parsed.encapsulated_content.is_some() {
        return Err(CmsError::invalid("detached signature encapsulates content"));
    }
    verify_parsed(&parsed, content_parts)
}

/// Produces a ContentInfo(SignedData); `encapsulated` is None for detached signatures.
pub(crate) fn build(
    content: &[u8],
    encapsulated: Option<&[u8]>,
    signer_key: &IdentityPrivateKey,
    certificates: &[&[u8]],
    hash: HashAlgorithm,
) -> Result<Vec<u8>, CmsError> {
    let signer = certificates
        .first()
        .ok_or_else(|| CmsError::internal("no signer certificate"))?;
    let signer = parse_certificate(signer)
        .map_err(|e| CmsError::internal(format!("signer certificate: {e}")))?;
    let certificate_key = IdentityPublicKey::from_spki_der(signer.spki)
        .map_err(|e| CmsError::internal(format!("signer certificate key: {e}")))?;
    if certificate_key != signer_key.public_key() {
        // Such a value could never verify; refuse to emit it.
        return Err(CmsError::internal(
            "signer certificate does not hold the signing key",
        ));
    }

    let digest = hash.digest(content);
    let signed_attributes = signed_attributes_content(&digest);
    // The signature covers the attributes as an explicit SET (RFC 5652 §5.4).
    let attributes_as_set = tlv(TAG_SET, &[&signed_attributes]);
    let pss = PssParams::for_hash(hash);
    let signature = signer_key
        .sign_pss(&attributes_as_set, pss)
        .map_err(|e| CmsError::internal(e.to_string()))?;

    let digest_algorithm = digest_algorithm_der(hash);
    let signer_info = tlv(
        TAG_SEQUENCE,
        &[
            &integer_der(1),
            &tlv(TAG_SEQUENCE, &[signer.issuer, signer.serial]),
            &digest_algorithm,
            &tlv(context_constructed(0), &[&signed_attributes]),
            &pss_algorithm_der(pss),
            &tlv(TAG_OCTET_STRING, &[&signature]),
        ],
    );
    let encapsulated_content_info = match encapsulated {
        Some(plaintext) => tlv(
            TAG_SEQUENCE,
            &[
                &oids::oid_der(&ID_DATA),
                &tlv(
                    context_constructed(0),
                    &[&tlv(TAG_OCTET_STRING, &[plaintext])],
                ),
            ],
        ),
        None => tlv(TAG_SEQUENCE, &[&oids::oid_der(&ID_DATA)]),
    };
    let signed_data = tlv(
        TAG_SEQUENCE,
        &[
            &integer_der(1),
            &tlv(TAG_SET, &[&digest_algorithm]),
            &encapsulated_content_info,
            &tlv(context_constructed(0), certificates),
            &tlv(TAG_SET, &[&signer_info]),
        ],
    );
    Ok(tlv(
        TAG_SEQUENCE,
        &[
            &oids::oid_der(&ID_SIGNED_DATA),
            &tlv(context_constructed(0), &[&signed_data]),
        ],
    ))
}

/// contentType and messageDigest attributes, in DER SET OF order (content octets only).
fn signed_attributes_content(digest: &[u8]) -> Vec<u8> {
    let content_type = tlv(
        TAG_SEQUENCE,
        &[
            &oids::oid_der(&ID_CONTENT_TYPE),
            &tlv(TAG_SET, &[&oids::oid_der(&ID_DATA)]),
        ],
    );
    let message_digest = tlv(
        TAG_SEQUENCE,
        &[
            &oids::oid_der(&ID_MESSAGE_DIGEST),
            &tlv(TAG_SET, &[&tlv(TAG_OCTET_STRING, &[digest])]),
        ],
    );
    let mut attributes = [content_type, message_digest];
    attributes.sort();
    attributes.concat()
}

/// Checks the digest attribute and the signature of a parsed SignedData over the
/// concatenation of `content_parts`.
fn verify_parsed(
    parsed: &ParsedSignedData<'_>,
    content_parts: &[&[u8]],
) -> Result<SignedDataVerified, CmsError> {
    let signer_index = parsed.signer_certificate_index()?;
    let signer_certificate = &parsed.certificates[signer_index];
    let public_key = rsa_public_key(signer_certificate.spki)?;
    check_signature(parsed, content_parts, &public_key)?;
    Ok(SignedDataVerified {
        plaintext: Vec::new(),
        signer_certificate_der: signer_certificate.der.to_vec(),
        signer_public_key: public_key,
        other_certificates_der: parsed
            .certificates
            .iter()
            .enumerate()
            .filter(|(index, _)| *index != signer_index)
            .map(|(_, certificate)| certificate.der.to_vec())
            .collect(),
        hash: parsed.signer.hash,
    })
}

/// What [`verify_resolving`] established, with the certificates in the caller's type.
#[derive(Debug, Clone)]
pub struct SignedDataResolved<C> {
    pub plaintext: Vec<u8>,
    pub signer_certificate: C,
    /// The other embedded certificates, in the order received.
    pub other_certificates: Vec<C>,
    pub hash: HashAlgorithm,
}

/// [`verify`], with every embedded certificate turned into the caller's type by `resolve` and
/// the signer's key taken from that value by `public_key`: a caller that remembers parsed
/// certificates spares parsing each key again. The checks and their order are `verify`'s.
pub fn verify_resolving<C, E: From<CmsError>>(
    content_info: &[u8],
    mut resolve: impl FnMut(&[u8]) -> Result<C, E>,
    public_key: impl Fn(&C) -> &IdentityPublicKey,
) -> Result<SignedDataResolved<C>, E> {
    let der = ber::normalize(content_info)?;
    let parsed = parse_content_info(&der)?;
    let content = parsed
        .encapsulated_content
        .ok_or_else(|| CmsError::invalid("signed data has no encapsulated content"))?;
    let signer_index = parsed.signer_certificate_index()?;
    let signer_certificate = resolve(parsed.certificates[signer_index].der)?;
    check_signature(&parsed, &[content], public_key(&signer_certificate))?;
    let mut other_certificates = Vec::with_capacity(parsed.certificates.len() - 1);
    for (index, certificate) in parsed.certificates.iter().enumerate() {
        if index != signer_index {
            other_certificates.push(resolve(certificate.der)?);
        }
    }
    Ok(SignedDataResolved {
        plaintext: content.to_vec(),
        signer_certificate,
        other_certificates,
        hash: parsed.signer.hash,
    })
}

/// The digest attribute against the content, then the signature over the attributes.
fn check_signature(
    parsed: &ParsedSignedData<'_>,
    content_parts: &[&[u8]],
    public_key: &IdentityPublicKey,
) -> Result<(), CmsError> {
    let signer = &parsed.signer;
    if digest_parts(signer.hash, content_parts)?.as_ref() != signer.message_digest {
        return Err(CmsError::invalid(
            "message digest attribute does not match the content",
        ));
    }
    // Re-tag the received [0] IMPLICIT attributes as SET; never re-encode them.
    let mut attributes_as_set = Vec::with_capacity(signer.signed_attributes.len());
    attributes_as_set.push(TAG_SET);
    attributes_as_set.extend_from_slice(&signer.signed_attributes[1..]);
    let valid = public_key
        .verify_pss(&attributes_as_set, signer.signature, signer.pss)
        .map_err(|e| CmsError::internal(e.to_string()))?;
    if !valid {
        return Err(CmsError::invalid("signature does not verify"));
    }
    Ok(())
}

fn digest_parts(
    hash: HashAlgorithm,
    parts: &[&[u8]],
) -> Result<openssl::hash::DigestBytes, CmsError> {
    let mut hasher = openssl::hash::Hasher::new(hash.message_digest())?;
    for part in parts {
        hasher.update(part)?;
    }
    Ok(hasher.finish()?)
}
