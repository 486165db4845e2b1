//! AlgorithmIdentifier encoding and decoding: digests and RSASSA-PSS parameters.

use super::super::keys::{HashAlgorithm, PssParams};
use super::error::CmsError;
use super::oids::{self, ID_MGF1, ID_RSASSA_PSS};
use super::tlv::{
    context_constructed, tlv, DerReader, Tlv, TAG_INTEGER, TAG_NULL, TAG_OID, TAG_SEQUENCE,
};

/// RFC 4055 default salt length when `saltLength` is absent.
const DEFAULT_PSS_SALT_LENGTH: usize = 20;
/// No real salt is longer than the largest digest; bounds what we hand to OpenSSL.
const MAX_PSS_SALT_LENGTH: usize = 512;

/// A parsed AlgorithmIdentifier: OID content octets and the optional parameters element.
pub(crate) struct AlgorithmIdentifier<'a> {
    pub oid: &'a [u8],
    pub params: Option<Tlv<'a>>,
}

pub(crate) fn parse_algorithm<'a>(content: &'a [u8]) -> Result<AlgorithmIdentifier<'a>, CmsError> {
    let mut reader = DerReader::new(content);
    let oid = reader.read(TAG_OID, "algorithm oid")?;
    let params = if reader.is_empty() {
        None
    } else {
        Some(reader.read_any()?)
    };
    reader.finish("algorithm identifier")?;
    Ok(AlgorithmIdentifier { oid, params })
}

/// `SEQUENCE { hash OID, NULL }`: the form relaynet-core emits and both libraries accept.
pub(crate) fn digest_algorithm_der(hash: HashAlgorithm) -> Vec<u8> {
    tlv(TAG_SEQUENCE, &[&oids::oid_der(&hash.oid()), &[TAG_NULL, 0]])
}

/// A digest AlgorithmIdentifier (content octets), with or without NULL parameters.
pub(crate) fn parse_digest_algorithm(content: &[u8]) -> Result<HashAlgorithm, CmsError> {
    let algorithm = parse_algorithm(content)?;
    check_null_or_absent(&algorithm.params)?;
    hash_from_oid_content(algorithm.oid)
}

fn hash_from_oid_content(oid: &[u8]) -> Result<HashAlgorithm, CmsError> {
    [
        HashAlgorithm::Sha256,
        HashAlgorithm::Sha384,
        HashAlgorithm::Sha512,
    ]
    .into_iter()
    .find(|hash| oids::is(oid, &hash.oid()))
    .ok_or_else(|| CmsError::invalid("unsupported digest algorithm"))
}

fn check_null_or_absent(params: &Option<Tlv<'_>>) -> Result<(), CmsError> {
    match params {
        None => Ok(()),
        Some(p) if p.tag == TAG_NULL && p.content.is_empty() => Ok(()),
        Some(_) => Err(CmsError::malformed(
            "digest algorithm with unexpected parameters",
        )),
    }
}

/// `id-RSASSA-PSS` with explicit parameters: hash, MGF1 with the same hash, salt = digest length.
pub(crate) fn pss_algorithm_der(params: PssParams) -> Vec<u8> {
    let hash = digest_algorithm_der(params.hash);
    let mgf1_hash = digest_algorithm_der(params.mgf1_hash);
    let mgf1 = tlv(TAG_SEQUENCE, &[&oids::oid_der(&ID_MGF1), &mgf1_hash]);
    let salt = integer_der(params.salt_length as u64);
    let pss_params = tlv(
        TAG_SEQUENCE,
        &[
            &tlv(context_constructed(0), &[&hash]),
            &tlv(context_constructed(1), &[&mgf1]),
            &tlv(context_constructed(2), &[&salt]),
        ],
    );
    tlv(TAG_SEQUENCE, &[&oids::oid_der(&ID_RSASSA_PSS), &pss_params])
}

/// The PSS parameters of a signatureAlgorithm (content octets). Only RSASSA-PSS with SHA-2 is
/// acceptable; the RFC 4055 SHA-1 defaults are refused as unsupported.
pub(crate) fn parse_pss_algorithm(content: &[u8]) -> Result<PssParams, CmsError> {
    let algorithm = parse_algorithm(content)?;
    if !oids::is(algorithm.oid, &ID_RSASSA_PSS) {
        return Err(CmsError::invalid("signature algorithm is not rsassa-pss"));
    }
    let params = algorithm
        .params
        .filter(|p| p.tag == TAG_SEQUENCE)
        .ok_or_else(|| CmsError::invalid("rsassa-pss without parameters (sha-1 defaults)"))?;
    let mut reader = DerReader::new(params.content);
    let hash_field = reader
        .read_optional(context_constructed(0))?
        .ok_or_else(|| CmsError::invalid("rsassa-pss with the default sha-1 hash"))?;
    let hash = parse_digest_algorithm(single_sequence(hash_field.content, "pss hash")?)?;
    let mgf1_hash = match reader.read_optional(context_constructed(1))? {
        Some(field) => parse_mgf1(single_sequence(field.content, "pss mgf")?)?,
        None => return Err(CmsError::invalid("rsassa-pss with the default mgf1-sha-1")),
    };
    let salt_length = match reader.read_optional(context_constructed(2))? {
        Some(field) => {
            let mut inner = DerReader::new(field.content);
            let value = parse_small_unsigned(inner.read(TAG_INTEGER, "pss salt")?)?;
            inner.finish("pss salt")?;
            value
        }
        None => DEFAULT_PSS_SALT_LENGTH,
    };
    if salt_length > MAX_PSS_SALT_LENGTH {
        return Err(CmsError::invalid("rsassa-pss salt length out of range"));
    }
    if let Some(field) = reader.read_optional(context_constructed(3))? {
        let mut inner = DerReader::new(field.content);
        if parse_small_unsigned(inner.read(TAG_INTEGER, "pss trailer")?)? != 1 {
            return Err(CmsError::invalid("rsassa-pss trailer field other than 1"));
        }
    }
    reader.finish("rsassa-pss parameters")?;
    Ok(PssParams {
        hash,
        mgf1_hash,
        salt_length,
    })
}

fn parse_mgf1(content: &[u8]) -> Result<HashAlgorithm, CmsError> {
    let algorithm = parse_algorithm(content)?;
    if !oids::is(algorithm.oid, &ID_MGF1) {
        return Err(CmsError::invalid(
            "unsupported pss mask generation function",
        ));
    }
    let params = algorithm
        .params
        .filter(|p| p.tag == TAG_SEQUENCE)
        .ok_or_else(|| CmsError::malformed("mgf1 without a hash algorithm"))?;
    parse_digest_algorithm(params.content)
}

/// The content of the one SEQUENCE inside an EXPLICIT tag.
fn single_sequence<'a>(content: &'a [u8], what: &str) -> Result<&'a [u8], CmsError> {
    let mut reader = DerReader::new(content);
    let inner = reader.read(TAG_SEQUENCE, what)?;
    reader.finish(what)?;
    Ok(inner)
}

/// A non-negative INTEGER that fits comfortably in a usize (versions, salt lengths).
pub(crate) fn parse_small_unsigned(content: &[u8]) -> Result<usize, CmsError> {
    let digits = match content {
        [] => return Err(CmsError::malformed("empty integer")),
        [first, ..] if first & 0x80 != 0 => {
            return Err(CmsError::malformed("negative integer"));
        }
        [0, rest @ ..] => rest,
        all => all,
    };
    if digits.len() > 4 {
        return Err(CmsError::malformed("integer too large"));
    }
    Ok(digits
        .iter()
        .fold(0usize, |acc, d| (acc << 8) | *d as usize))
}

/// DER INTEGER of a non-negative value.
pub(crate) fn integer_der(value: u64) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count().min(7);
    let mut content = Vec::with_capacity(9);
    if bytes[skip] & 0x80 != 0 {
        content.push(0);
    }
    content.extend_from_slice(&bytes[skip..]);
    tlv(TAG_INTEGER, &[&content])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pss_parameters_round_trip_for_every_hash() {
        for hash in [
            HashAlgorithm::Sha256,
            HashAlgorithm::Sha384,
            HashAlgorithm::Sha512,
        ] {
            let params = PssParams::for_hash(hash);
            let der = pss_algorithm_der(params);
            let mut reader = DerReader::new(&der);
            let content = reader.read(TAG_SEQUENCE, "alg").unwrap();
            assert_eq!(parse_pss_algorithm(content).unwrap(), params);
        }
    }

    #[test]
    fn pss_salt_defaults_to_twenty() {
        let hash = digest_algorithm_der(HashAlgorithm::Sha256);
        let mgf1 = tlv(TAG_SEQUENCE, &[&oids::oid_der(&ID_MGF1), &hash]);
        let params = tlv(
            TAG_SEQUENCE,
            &[
                &tlv(context_constructed(0), &[&hash]),
                &tlv(context_constructed(1), &[&mgf1]),
            ],
        );
        let alg = tlv(TAG_SEQUENCE, &[&oids::oid_der(&ID_RSASSA_PSS), &params]);
        let parsed = parse_pss_algorithm(&alg[2..]).unwrap();
        assert_eq!(parsed.salt_length, 20);
    }

    #[test]
    fn digest_algorithms_parse_with_and_without_null() {
        let with_null = digest_algorithm_der(HashAlgorithm::Sha384);
        assert_eq!(
            parse_digest_algorithm(&with_null[2..]).unwrap(),
            HashAlgorithm::Sha384
        );
        let without = oids::oid_der(&HashAlgorithm::Sha512.oid());
        assert_eq!(
            parse_digest_algorithm(&without).unwrap(),
            HashAlgorithm::Sha512
        );
    }

    #[test]
    fn integers_encode_minimally() {
        assert_eq!(integer_der(0), vec![2, 1, 0]);
        assert_eq!(integer_der(32), vec![2, 1, 32]);
        assert_eq!(integer_der(128), vec![2, 2, 0, 128]);
        assert_eq!(parse_small_unsigned(&[0, 128]).unwrap(), 128);
    }
}
