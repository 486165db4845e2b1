//! The `Authorization` header of `POST /v1/parcels`: `<scheme> <base64 detached signature>`.
//!
//! Clients send the `Relaynet-Countersignature` scheme; the spec's `Awala-Countersignature` is
//! accepted too (DESIGN §6). The scheme is compared case-sensitively, as REF does and as every
//! client spells it. Only the token after the first space is the value; anything after a
//! further space is ignored (REF splits on single spaces, so two spaces mean an empty value).
//! Verifying the signature itself belongs to the Awala core; this only extracts the bytes.

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use thiserror::Error;

use crate::protocols::error_code::{GatewayErrorCode, HasErrorCode};

/// The scheme every client sends today.
pub const RELAYNET_SCHEME: &str = "Relaynet-Countersignature";
/// The spelling RS-016 uses; no client sends it yet.
pub const AWALA_SCHEME: &str = "Awala-Countersignature";
/// Value of `WWW-Authenticate` on every 401 from parcel delivery (the scheme clients know).
pub const WWW_AUTHENTICATE: &str = RELAYNET_SCHEME;

/// Standard base64, padding optional: encoders differ on padding and neither spelling is
/// ambiguous, so accepting both costs nothing.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why the countersignature header could not be read. Every variant answers `401` with
/// [`WWW_AUTHENTICATE`], as REF does.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CountersignatureError {
    /// No `Authorization` header (or one that is not visible ASCII); raised by the handler.
    #[error("authorization header is missing")]
    Missing,
    /// The scheme is neither `Relaynet-Countersignature` nor `Awala-Countersignature`.
    #[error("authorization scheme should be {RELAYNET_SCHEME}")]
    UnsupportedScheme,
    /// The scheme is not followed by a value, or the value is empty.
    #[error("countersignature is missing")]
    MissingValue,
    /// The value is not base64.
    #[error("countersignature is not valid base64")]
    Undecodable,
}

impl HasErrorCode for CountersignatureError {
    fn error_code(&self) -> GatewayErrorCode {
        GatewayErrorCode::Unauthorized
    }
}

/// Extract the detached-signature bytes from an `Authorization` header value.
pub fn parse_countersignature_header(value: &str) -> Result<Vec<u8>, CountersignatureError> {
    let mut tokens = value.splitn(3, ' ');
    let scheme = tokens.next().unwrap_or_default();
    if scheme != RELAYNET_SCHEME && scheme != AWALA_SCHEME {
        return Err(CountersignatureError::UnsupportedScheme);
    }
    let encoded = tokens.next().unwrap_or_default();
    if encoded.is_empty() {
        return Err(CountersignatureError::MissingValue);
    }
    let signature = BASE64
        .decode(encoded)
        .map_err(|_| CountersignatureError::Undecodable)?;
    if signature.is_empty() {
        return Err(CountersignatureError::MissingValue);
    }
    Ok(signature)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_both_schemes() {
        assert_eq!(
            parse_countersignature_header("Relaynet-Countersignature AQID"),
            Ok(vec![1, 2, 3])
        );
        assert_eq!(
            parse_countersignature_header("Awala-Countersignature AQID"),
            Ok(vec![1, 2, 3])
        );
    }

    #[test]
    fn padding_is_optional_and_trailing_tokens_ignored() {
        assert_eq!(
            parse_countersignature_header("Relaynet-Countersignature AQI="),
            Ok(vec![1, 2])
        );
        assert_eq!(
            parse_countersignature_header("Relaynet-Countersignature AQI"),
            Ok(vec![1, 2])
        );
        assert_eq!(
            parse_countersignature_header("Relaynet-Countersignature AQID extra stuff"),
            Ok(vec![1, 2, 3])
        );
    }

    #[test]
    fn refuses_other_schemes_case_sensitively() {
        for value in [
            "",
            "Bearer AQID",
            "relaynet-countersignature AQID",
            "AWALA-COUNTERSIGNATURE AQID",
            "Relaynet-CCA AQID",
            " Relaynet-Countersignature AQID",
            "Relaynet-CountersignatureAQID",
        ] {
            assert_eq!(
                parse_countersignature_header(value),
                Err(CountersignatureError::UnsupportedScheme),
                "{value:?}"
            );
        }
    }

    #[test]
    fn refuses_missing_or_empty_values() {
        for value in [
            "Relaynet-Countersignature",
            "Relaynet-Countersignature ",
            "Relaynet-Countersignature  AQID",
            "Awala-Countersignature ",
        ] {
            assert_eq!(
                parse_countersignature_header(value),
                Err(CountersignatureError::MissingValue),
                "{value:?}"
            );
        }
    }

    #[test]
    fn refuses_undecodable_values() {
        for value in [
            "Relaynet-Countersignature !!!!",
            "Relaynet-Countersignature AQ=D",
            "Relaynet-Countersignature A",
        ] {
            assert_eq!(
                parse_countersignature_header(value),
                Err(CountersignatureError::Undecodable),
                "{value:?}"
            );
        }
    }

    #[test]
    fn every_error_is_unauthorized() {
        for error in [
            CountersignatureError::Missing,
            CountersignatureError::UnsupportedScheme,
            CountersignatureError::MissingValue,
            CountersignatureError::Undecodable,
        ] {
            assert_eq!(error.error_code(), GatewayErrorCode::Unauthorized);
        }
        assert_eq!(WWW_AUTHENTICATE, "Relaynet-Countersignature");
    }
}
