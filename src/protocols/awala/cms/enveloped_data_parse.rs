//! Parsing of ContentInfo(EnvelopedData) for channel sessions, after BER normalisation.
//!
//! Only the Awala profile is accepted: one KeyAgreeRecipientInfo with an ephemeral EC originator
//! key and an `rKeyId` recipient, AES key wrap, AES-CBC content and the originator key id in an
//! unprotected attribute.

use std::borrow::Cow;

use super::super::keys::{EcCurve, HashAlgorithm};
use super::algorithms::parse_algorithm;
use super::ber::join_octet_segments;
use super::envelope_options::{kdf_hash_from_oid_content, ContentCipher, KeyWrap};
use super::error::CmsError;
use super::oids::{self, ID_DATA, ID_EC_PUBLIC_KEY, ID_ENVELOPED_DATA, ORIGINATOR_SESSION_KEY_ID};
use super::tlv::{
    context, context_constructed, DerReader, TAG_BIT_STRING, TAG_INTEGER, TAG_OCTET_STRING,
    TAG_OID, TAG_SEQUENCE, TAG_SET,
};

/// AES-CBC IV length.
const CBC_IV_LENGTH: usize = 16;

#[derive(Debug)]
pub(crate) struct ParsedEnvelope<'a> {
    pub kdf_hash: HashAlgorithm,
    pub key_wrap: KeyWrap,
    /// None when the originator algorithm carries no named curve (then inferred from the point).
    pub originator_curve: Option<EcCurve>,
    pub originator_point: &'a [u8],
    pub originator_key_id: &'a [u8],
    pub ukm: Option<&'a [u8]>,
    pub recipient_key_id: &'a [u8],
    pub encrypted_key: &'a [u8],
    pub content_cipher: ContentCipher,
    pub iv: &'a [u8],
    pub encrypted_content: Cow<'a, [u8]>,
}

/// Parses a DER ContentInfo whose content is a session EnvelopedData.
pub(crate) fn parse_envelope(der: &[u8]) -> Result<ParsedEnvelope<'_>, CmsError> {
    let mut outer = DerReader::new(der);
    let mut content_info = DerReader::new(outer.read(TAG_SEQUENCE, "content info")?);
    outer.finish("content info")?;
    if !oids::is(
        content_info.read(TAG_OID, "content type")?,
        &ID_ENVELOPED_DATA,
    ) {
        return Err(CmsError::invalid("content type is not enveloped data"));
    }
    let mut explicit = DerReader::new(content_info.read(context_constructed(0), "content")?);
    content_info.finish("content info")?;
    let mut enveloped = DerReader::new(explicit.read(TAG_SEQUENCE, "enveloped data")?);
    explicit.finish("content")?;

    enveloped.read(TAG_INTEGER, "enveloped data version")?;
    enveloped.read_optional(context_constructed(0))?; // originatorInfo: not used by Awala
    let mut recipient_infos = DerReader::new(enveloped.read(TAG_SET, "recipient infos")?);
    let recipient = recipient_infos.read_any()?;
    if !recipient_infos.is_empty() {
        return Err(CmsError::invalid(
            "envelope has more than one recipient info",
        ));
    }
    if recipient.tag != context_constructed(1) {
        return Err(CmsError::invalid(
            "recipient info is not a key agreement recipient info",
        ));
    }
    let encrypted_content_info = enveloped.read(TAG_SEQUENCE, "encrypted content info")?;
    let unprotected = enveloped
        .read_optional(context_constructed(1))?
        .ok_or_else(|| CmsError::invalid("envelope has no originator key id attribute"))?;
    enveloped.finish("enveloped data")?;

    let kari = parse_key_agreement(recipient.content)?;
    let content = parse_encrypted_content_info(encrypted_content_info)?;
    Ok(ParsedEnvelope {
        kdf_hash: kari.kdf_hash,
        key_wrap: kari.key_wrap,
        originator_curve: kari.originator_curve,
        originator_point: kari.originator_point,
        originator_key_id: find_originator_key_id(unprotected.content)?,
        ukm: kari.ukm,
        recipient_key_id: kari.recipient_key_id,
        encrypted_key: kari.encrypted_key,
        content_cipher: content.cipher,
        iv: content.iv,
        encrypted_content: content.ciphertext,
    })
}

struct KeyAgreement<'a> {
    kdf_hash: HashAlgorithm,
    key_wrap: KeyWrap,
    originator_curve: Option<EcCurve>,
    originator_point: &'a [u8],
    ukm: Option<&'a [u8]>,
    recipient_key_id: &'a [u8],
    encrypted_key: &'a [u8],
}

fn parse_key_agreement(content: &[u8]) -> Result<KeyAgreement<'_>, CmsError> {
    let mut reader = DerReader::new(content);
    reader.read(TAG_INTEGER, "key agreement version")?;
    let mut originator = DerReader::new(reader.read(context_constructed(0), "originator")?);
    let originator_key = originator
        .read_optional(context_constructed(1))?
        .ok_or_else(|| CmsError::invalid("originator is not an ephemeral public key"))?;
    originator.finish("originator")?;
    let (originator_curve, originator_point) = parse_originator_key(originator_key.content)?;
    let ukm = match reader.read_optional(context_constructed(1))? {
        Some(explicit) => {
            let mut inner = DerReader::new(explicit.content);
            let ukm = inner.read(TAG_OCTET_STRING, "ukm")?;
            inner.finish("ukm")?;
            Some(ukm)
        }
        None => None,
    };
    let scheme = parse_algorithm(reader.read(TAG_SEQUENCE, "key encryption algorithm")?)?;
    let kdf_hash = kdf_hash_from_oid_content(scheme.oid)
        .ok_or_else(|| CmsError::invalid("unsupported key agreement scheme"))?;
    let wrap = scheme
        .params
        .filter(|p| p.tag == TAG_SEQUENCE)
        .ok_or_else(|| CmsError::malformed("key agreement scheme without a wrap algorithm"))?;
    let wrap = parse_algorithm(wrap.content)?;
    let key_wrap = KeyWrap::from_oid_content(wrap.oid)
        .ok_or_else(|| CmsError::invalid("unsupported key wrap algorithm"))?;
    let mut encrypted_keys = DerReader::new(reader.read(TAG_SEQUENCE, "recipient encrypted keys")?);
    reader.finish("key agreement recipient info")?;
    let mut encrypted_key = DerReader::new(encrypted_keys.read(TAG_SEQUENCE, "encrypted key")?);
    if !encrypted_keys.is_empty() {
        return Err(CmsError::invalid(
            "envelope has more than one recipient key",
        ));
    }
    let rid = encrypted_key
        .read_optional(context_constructed(0))?
        .ok_or_else(|| CmsError::invalid("recipient is not identified by key id"))?;
    let mut rid = DerReader::new(rid.content);
    let recipient_key_id = rid.read(TAG_OCTET_STRING, "recipient key id")?;
    let wrapped = encrypted_key.read(TAG_OCTET_STRING, "wrapped key")?;
    encrypted_key.finish("recipient encrypted key")?;
    Ok(KeyAgreement {
        kdf_hash,
        key_wrap,
        originator_curve,
        originator_point,
        ukm,
        recipient_key_id,
        encrypted_key: wrapped,
    })
}

/// `OriginatorPublicKey` content: the curve (if named) and the point octets.
fn parse_originator_key(content: &[u8]) -> Result<(Option<EcCurve>, &[u8]), CmsError> {
    let mut reader = DerReader::new(content);
    let algorithm = parse_algorithm(reader.read(TAG_SEQUENCE, "originator key algorithm")?)?;
    if !oids::is(algorithm.oid, &ID_EC_PUBLIC_KEY) {
        return Err(CmsError::invalid("originator key is not an ec key"));
    }
    let curve = match algorithm.params {
        Some(params) if params.tag == TAG_OID => Some(
            curve_from_oid_content(params.content)
                .ok_or_else(|| CmsError::invalid("unsupported originator curve"))?,
        ),
        _ => None,
    };
    let bits = reader.read(TAG_BIT_STRING, "originator public key")?;
    reader.finish("originator public key")?;
    match bits {
        [0, point @ ..] if !point.is_empty() => Ok((curve, point)),
        _ => Err(CmsError::malformed("originator public key bit string")),
    }
}

fn curve_from_oid_content(content: &[u8]) -> Option<EcCurve> {
    [EcCurve::P256, EcCurve::P384, EcCurve::P521]
        .into_iter()
        .find(|curve| oids::is(content, &curve.oid()))
}

/// Infers the curve from an uncompressed point's length (when no named curve is given).
pub(crate) fn curve_from_point_length(point: &[u8]) -> Option<EcCurve> {
    match point.len() {
        65 => Some(EcCurve::P256),
        97 => Some(EcCurve::P384),
        133 => Some(EcCurve::P521),
        _ => None,
    }
}

struct EncryptedContent<'a> {
    cipher: ContentCipher,
    iv: &'a [u8],
    ciphertext: Cow<'a, [u8]>,
}

fn parse_encrypted_content_info(content: &[u8]) -> Result<EncryptedContent<'_>, CmsError> {
    let mut reader = DerReader::new(content);
    if !oids::is(reader.read(TAG_OID, "encrypted content type")?, &ID_DATA) {
        return Err(CmsError::invalid("encrypted content type is not data"));
    }
    let algorithm = parse_algorithm(reader.read(TAG_SEQUENCE, "content encryption algorithm")?)?;
    let cipher = ContentCipher::from_oid_content(algorithm.oid)
        .ok_or_else(|| CmsError::invalid("unsupported content encryption algorithm"))?;
    let iv = algorithm
        .params
        .filter(|p| p.tag == TAG_OCTET_STRING && p.content.len() == CBC_IV_LENGTH)
        .ok_or_else(|| CmsError::malformed("aes-cbc without a 16-octet iv"))?
        .content;
    // [0] IMPLICIT OCTET STRING: primitive (DER, small BC values) or constructed (pkijs, BC).
    let ciphertext = match reader.read_any() {
        Ok(field) if field.tag == context(0) => join_octet_segments(false, field.content)?,
        Ok(field) if field.tag == context_constructed(0) => {
            join_octet_segments(true, field.content)?
        }
        _ => return Err(CmsError::malformed("missing encrypted content")),
    };
    reader.finish("encrypted content info")?;
    Ok(EncryptedContent {
        cipher,
        iv,
        ciphertext,
    })
}

/// The originator session key id: the single OCTET STRING value of the Awala attribute.
fn find_originator_key_id(attributes: &[u8]) -> Result<&[u8], CmsError> {
    let mut reader = DerReader::new(attributes);
    while !reader.is_empty() {
        let mut attribute = DerReader::new(reader.read(TAG_SEQUENCE, "attribute")?);
        let attribute_type = attribute.read(TAG_OID, "attribute type")?;
        let mut values = DerReader::new(attribute.read(TAG_SET, "attribute values")?);
        if !oids::is(attribute_type, &ORIGINATOR_SESSION_KEY_ID) {
            continue;
        }
        let value = values.read_any()?;
        if value.tag != TAG_OCTET_STRING || !values.is_empty() {
            return Err(CmsError::invalid(
                "originator key id is not a single octet string",
            ));
        }
        return Ok(value.content);
    }
    Err(CmsError::invalid(
        "envelope has no originator key id attribute",
    ))
}
