//! Signature `AlgorithmIdentifier`s.
//!
//! Awala signs certificates with RSASSA-PSS and spells every parameter out (hash and MGF1 hash
//! with explicit NULL parameters, salt as long as the digest, trailer omitted). Some tools sign
//! with PKCS#1 v1.5 instead, so `sha{256,384,512}WithRSAEncryption` is accepted on input only.

use const_oid::ObjectIdentifier;
use der::{Any, Sequence};
use openssl::rsa::Padding;
use openssl::sign::Verifier;
use spki::AlgorithmIdentifierOwned;

use super::error::PkiError;
use crate::protocols::awala::keys::{HashAlgorithm, IdentityPublicKey, PssParams};
use crate::protocols::awala::limits::MAX_PSS_SALT_LENGTH;

pub const RSASSA_PSS_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
pub const MGF1_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.8");
pub const SHA256_WITH_RSA_OID: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
pub const SHA384_WITH_RSA_OID: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
pub const SHA512_WITH_RSA_OID: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");

/// RFC 4055 defaults that apply when a field is absent: salt 20 (and SHA-1, which we refuse).
const DEFAULT_PSS_SALT_LENGTH: u32 = 20;
/// The only trailer field RFC 4055 defines.
const PSS_TRAILER_FIELD_BC: u32 = 1;

/// RSASSA-PSS-params (RFC 4055); every field is an EXPLICIT context tag with a DEFAULT.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct RsaPssParamsAsn1 {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    hash_algorithm: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    mask_gen_algorithm: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    salt_length: Option<u32>,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    trailer_field: Option<u32>,
}

/// A signature algorithm we can verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureAlgorithm {
    /// RSASSA-PSS, what Awala issues.
    RsaPss(PssParams),
    /// RSASSA-PKCS1-v1_5, tolerated on input.
    RsaPkcs1(HashAlgorithm),
}

impl SignatureAlgorithm {
    /// Interprets an `AlgorithmIdentifier`; anything but RSA-PSS/PKCS#1 with SHA-2 is refused.
    pub fn from_algorithm_identifier(
        identifier: &AlgorithmIdentifierOwned,
    ) -> Result<Self, PkiError> {
        let pkcs1_hash = match identifier.oid {
            RSASSA_PSS_OID => return decode_pss_params(identifier.parameters.as_ref()),
            SHA256_WITH_RSA_OID => HashAlgorithm::Sha256,
            SHA384_WITH_RSA_OID => HashAlgorithm::Sha384,
            SHA512_WITH_RSA_OID => HashAlgorithm::Sha512,
            other => return Err(PkiError::UnsupportedAlgorithm(other.to_string())),
        };
        // RFC 4055 says NULL, but absent parameters are common enough to tolerate.
        check_null_or_absent(identifier.parameters.as_ref())?;
        Ok(SignatureAlgorithm::RsaPkcs1(pkcs1_hash))
    }

    /// The `id-RSASSA-PSS` identifier Awala emits for `hash` (explicit NULLs, salt = digest
    /// length, trailer omitted).
    pub fn rsa_pss_identifier(hash: HashAlgorithm) -> Result<AlgorithmIdentifierOwned, PkiError> {
        let params = PssParams::for_hash(hash);
        let mgf1_hash = hash_identifier(params.mgf1_hash);
        let mgf1_identifier = AlgorithmIdentifierOwned {
            oid: MGF1_OID,
            parameters: Some(Any::encode_from(&mgf1_hash).map_err(encode_error)?),
        };
        let asn1 = RsaPssParamsAsn1 {
            hash_algorithm: Some(hash_identifier(params.hash)),
            mask_gen_algorithm: Some(mgf1_identifier),
            salt_length: Some(params.salt_length as u32),
            trailer_field: None,
        };
        Ok(AlgorithmIdentifierOwned {
            oid: RSASSA_PSS_OID,
            parameters: Some(Any::encode_from(&asn1).map_err(encode_error)?),
        })
    }

    /// The message digest the signature covers.
    pub fn hash(&self) -> HashAlgorithm {
        match self {
            SignatureAlgorithm::RsaPss(params) => params.hash,
            SignatureAlgorithm::RsaPkcs1(hash) => *hash,
        }
    }

    /// Whether `signature` over `data` verifies with `key`. `Ok(false)` means a wrong signature.
    pub fn verify(
        &self,
        key: &IdentityPublicKey,
        data: &[u8],
        signature: &[u8],
    ) -> Result<bool, PkiError> {
        match self {
            SignatureAlgorithm::RsaPss(params) => Ok(key.verify_pss(data, signature, *params)?),
            SignatureAlgorithm::RsaPkcs1(hash) => Ok(verify_pkcs1(key, *hash, data, signature)),
        }
    }
}

fn hash_identifier(hash: HashAlgorithm) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: hash.oid(),
        parameters: Some(Any::null()),
    }
}

fn decode_pss_params(parameters: Option<&Any>) -> Result<SignatureAlgorithm, PkiError> {
    let parameters =
        parameters.ok_or_else(|| unsupported("rsassa-pss without parameters (sha-1)"))?;
    let asn1: RsaPssParamsAsn1 = parameters.decode_as()?;
    let hash = decode_hash(asn1.hash_algorithm.as_ref())?;
    let mgf = asn1
        .mask_gen_algorithm
        .ok_or_else(|| unsupported("rsassa-pss with default mgf1-sha1"))?;
    if mgf.oid != MGF1_OID {
        return Err(unsupported(&format!(
            "mask generation function {}",
            mgf.oid
        )));
    }
    let mgf1_hash_identifier: AlgorithmIdentifierOwned = mgf
        .parameters
        .as_ref()
        .ok_or_else(|| PkiError::malformed("mgf1 without hash parameter"))?
        .decode_as()?;
    let mgf1_hash = decode_hash(Some(&mgf1_hash_identifier))?;
    let salt_length = asn1.salt_length.unwrap_or(DEFAULT_PSS_SALT_LENGTH);
    // Bounded so the cast to OpenSSL's `i32` salt length is trivially safe.
    if salt_length as usize > MAX_PSS_SALT_LENGTH {
        return Err(unsupported(&format!("pss salt length {salt_length}")));
    }
    if asn1
        .trailer_field
        .is_some_and(|t| t != PSS_TRAILER_FIELD_BC)
    {
        return Err(unsupported("pss trailer field other than 1"));
    }
    Ok(SignatureAlgorithm::RsaPss(PssParams {
        hash,
        mgf1_hash,
        salt_length: salt_length as usize,
    }))
}

fn decode_hash(identifier: Option<&AlgorithmIdentifierOwned>) -> Result<HashAlgorithm, PkiError> {
    let identifier = identifier.ok_or_else(|| unsupported("default hash sha-1"))?;
    // Both libraries write NULL parameters; RFC 5754 allows them to be absent.
    check_null_or_absent(identifier.parameters.as_ref())?;
    HashAlgorithm::from_oid(&identifier.oid)
        .ok_or_else(|| unsupported(&format!("hash {}", identifier.oid)))
}

fn check_null_or_absent(parameters: Option<&Any>) -> Result<(), PkiError> {
    match parameters {
        None => Ok(()),
        Some(any) if any.is_null() => Ok(()),
        Some(_) => Err(PkiError::malformed("unexpected algorithm parameters")),
    }
}

fn verify_pkcs1(key: &IdentityPublicKey, hash: HashAlgorithm, data: &[u8], sig: &[u8]) -> bool {
    let verify = || -> Result<bool, openssl::error::ErrorStack> {
        let mut verifier = Verifier::new(hash.message_digest(), key.pkey())?;
        verifier.set_rsa_padding(Padding::PKCS1)?;
        verifier.update(data)?;
        verifier.verify(sig)
    };
    // OpenSSL reports some malformed signatures as errors; both mean "does not verify".
    verify().unwrap_or(false)
}

fn unsupported(what: &str) -> PkiError {
    PkiError::UnsupportedAlgorithm(what.to_string())
}

fn encode_error(error: der::Error) -> PkiError {
    PkiError::Issuance(format!("cannot encode algorithm identifier: {error}"))
}

#[cfg(test)]
mod tests {
    use der::Encode;

    use super::*;

    #[test]
    fn pss_sha256_identifier_has_the_exact_awala_bytes() {
        let identifier = SignatureAlgorithm::rsa_pss_identifier(HashAlgorithm::Sha256).unwrap();
        let expected = concat!(
            "3041",
            "06092a864886f70d01010a",
            "3034",
            "a00f300d06096086480165030402010500",
            "a11c301a06092a864886f70d010108300d06096086480165030402010500",
            "a203020120",
        );
        assert_eq!(hex::encode(identifier.to_der().unwrap()), expected);
    }

    #[test]
    fn pss_identifiers_round_trip_for_every_hash() {
        for hash in [
            HashAlgorithm::Sha256,
            HashAlgorithm::Sha384,
            HashAlgorithm::Sha512,
        ] {
            let identifier = SignatureAlgorithm::rsa_pss_identifier(hash).unwrap();
            let decoded = SignatureAlgorithm::from_algorithm_identifier(&identifier).unwrap();
            assert_eq!(
                decoded,
                SignatureAlgorithm::RsaPss(PssParams::for_hash(hash))
            );
        }
    }

    #[test]
    fn pss_hash_without_null_parameters_is_accepted() {
        let hash = AlgorithmIdentifierOwned {
            oid: HashAlgorithm::SHA384_OID,
            parameters: None,
        };
        let params = RsaPssParamsAsn1 {
            hash_algorithm: Some(hash.clone()),
            mask_gen_algorithm: Some(AlgorithmIdentifierOwned {
                oid: MGF1_OID,
                parameters: Some(Any::encode_from(&hash).unwrap()),
            }),
            salt_length: Some(48),
            trailer_field: Some(1),
        };
        let identifier = AlgorithmIdentifierOwned {
            oid: RSASSA_PSS_OID,
            parameters: Some(Any::encode_from(&params).unwrap()),
        };
        let decoded = SignatureAlgorithm::from_algorithm_identifier(&identifier).unwrap();
        assert_eq!(
            decoded,
            SignatureAlgorithm::RsaPss(PssParams::for_hash(HashAlgorithm::Sha384))
        );
    }

    #[test]
    fn sha1_defaults_and_unknown_algorithms_are_refused() {
        let no_params = AlgorithmIdentifierOwned {
            oid: RSASSA_PSS_OID,
            parameters: None,
        };
        assert!(matches!(
            SignatureAlgorithm::from_algorithm_identifier(&no_params),
            Err(PkiError::UnsupportedAlgorithm(_))
        ));
        let ecdsa = AlgorithmIdentifierOwned {
            oid: ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2"),
            parameters: None,
        };
        assert!(SignatureAlgorithm::from_algorithm_identifier(&ecdsa).is_err());
        let pkcs1 = AlgorithmIdentifierOwned {
            oid: SHA256_WITH_RSA_OID,
            parameters: Some(Any::null()),
        };
        assert_eq!(
            SignatureAlgorithm::from_algorithm_identifier(&pkcs1).unwrap(),
            SignatureAlgorithm::RsaPkcs1(HashAlgorithm::Sha256)
        );
    }
}
