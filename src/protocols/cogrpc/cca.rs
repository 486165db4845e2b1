//! The CCA carried in `CollectCargo`'s `authorization` metadata: `<scheme> <base64 CCA>`.
//!
//! Clients send `Relaynet-CCA`; the spec's `Awala-CCA` is accepted too (DESIGN §6). As in REF,
//! the value must appear exactly once, the scheme is the first space-separated token and the
//! CCA the second; anything after a further space is ignored. Deserialising and validating the
//! CCA belongs to the Awala core; this only extracts the bytes.

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use thiserror::Error;

use crate::protocols::error_code::{GatewayErrorCode, HasErrorCode};

/// gRPC metadata key of the CCA (lowercase, as HTTP/2 requires).
pub const AUTHORIZATION_METADATA_KEY: &str = "authorization";
/// The scheme every courier sends today.
pub const RELAYNET_CCA_SCHEME: &str = "Relaynet-CCA";
/// The spelling RS-008 uses; no courier sends it yet.
pub const AWALA_CCA_SCHEME: &str = "Awala-CCA";

/// Standard base64, padding optional (see the PoWeb countersignature parser for why).
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why the `authorization` metadata does not carry a CCA. Every variant ends the call with
/// `UNAUTHENTICATED` (notes §7.3); messages follow REF's.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CcaMetadataError {
    /// Absent, or present more than once.
    #[error("authorization metadata should be specified exactly once (got {count})")]
    NotExactlyOnce {
        /// How many values were sent.
        count: usize,
    },
    /// The scheme is neither `Relaynet-CCA` nor `Awala-CCA`.
    #[error("authorization type should be {RELAYNET_CCA_SCHEME}")]
    UnsupportedScheme,
    /// Nothing follows the scheme.
    #[error("authorization value should be set to the CCA")]
    MissingValue,
    /// The value is not base64 or decodes to nothing.
    #[error("CCA is malformed")]
    Malformed,
}

impl CcaMetadataError {
    /// The gRPC status code to end the call with: always `UNAUTHENTICATED`.
    pub fn grpc_code(&self) -> tonic::Code {
        tonic::Code::Unauthenticated
    }
}

impl HasErrorCode for CcaMetadataError {
    fn error_code(&self) -> GatewayErrorCode {
        GatewayErrorCode::Unauthorized
    }
}

/// Extract the serialised CCA from every value of the `authorization` metadata key.
pub fn parse_cca_metadata(values: &[&str]) -> Result<Vec<u8>, CcaMetadataError> {
    let [value] = values else {
        return Err(CcaMetadataError::NotExactlyOnce {
            count: values.len(),
        });
    };
    let mut tokens = value.splitn(3, ' ');
    let scheme = tokens.next().unwrap_or_default();
    if scheme != RELAYNET_CCA_SCHEME && scheme != AWALA_CCA_SCHEME {
        return Err(CcaMetadataError::UnsupportedScheme);
    }
    let encoded = tokens.next().unwrap_or_default();
    if encoded.is_empty() {
        return Err(CcaMetadataError::MissingValue);
    }
    match BASE64.decode(encoded) {
        Ok(cca) if !cca.is_empty() => Ok(cca),
        _ => Err(CcaMetadataError::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_both_schemes() {
        assert_eq!(
            parse_cca_metadata(&["Relaynet-CCA AQID"]),
            Ok(vec![1, 2, 3])
        );
        assert_eq!(parse_cca_metadata(&["Awala-CCA AQID"]), Ok(vec![1, 2, 3]));
        assert_eq!(parse_cca_metadata(&["Relaynet-CCA AQI"]), Ok(vec![1, 2]));
        assert_eq!(
            parse_cca_metadata(&["Relaynet-CCA AQID trailing"]),
            Ok(vec![1, 2, 3])
        );
    }

    #[test]
    fn requires_exactly_one_value() {
        assert_eq!(
            parse_cca_metadata(&[]),
            Err(CcaMetadataError::NotExactlyOnce { count: 0 })
        );
        assert_eq!(
            parse_cca_metadata(&["Relaynet-CCA AQID", "Relaynet-CCA AQID"]),
            Err(CcaMetadataError::NotExactlyOnce { count: 2 })
        );
    }

    #[test]
    fn refuses_other_schemes() {
        for value in [
            "",
            "Bearer AQID",
            "relaynet-cca AQID",
            "Relaynet-Countersignature AQID",
        ] {
            assert_eq!(
                parse_cca_metadata(&[value]),
                Err(CcaMetadataError::UnsupportedScheme),
                "{value:?}"
            );
        }
    }

    #[test]
    fn refuses_missing_and_malformed_values() {
        for value in ["Relaynet-CCA", "Relaynet-CCA ", "Awala-CCA  AQID"] {
            assert_eq!(
                parse_cca_metadata(&[value]),
                Err(CcaMetadataError::MissingValue),
                "{value:?}"
            );
        }
        for value in ["Relaynet-CCA !!", "Relaynet-CCA A", "Relaynet-CCA ===="] {
            assert_eq!(
                parse_cca_metadata(&[value]),
                Err(CcaMetadataError::Malformed),
                "{value:?}"
            );
        }
    }

    #[test]
    fn every_error_is_unauthenticated() {
        let errors = [
            CcaMetadataError::NotExactlyOnce { count: 0 },
            CcaMetadataError::UnsupportedScheme,
            CcaMetadataError::MissingValue,
            CcaMetadataError::Malformed,
        ];
        for error in errors {
            assert_eq!(error.grpc_code(), tonic::Code::Unauthenticated);
            assert_eq!(error.error_code(), GatewayErrorCode::Unauthorized);
            assert_eq!(error.error_code().tonic_code(), error.grpc_code());
        }
    }
}
