//! The body of `POST /v1/pre-registrations`: the hex SHA-256 digest of the node's public key.

use thiserror::Error;

use crate::protocols::error_code::{GatewayErrorCode, HasErrorCode};

/// RS-016: 64 hex characters; bodies over this are refused without being read further.
pub const PRE_REGISTRATION_MAX_BODY: usize = 64;

/// Why a pre-registration body is not a SHA-256 digest.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PreRegistrationError {
    /// More than 64 octets: refused as the spec asks (REF read up to 9 MiB and answered 400).
    #[error("payload is {len} octets long, over the limit of {PRE_REGISTRATION_MAX_BODY}")]
    TooLong {
        /// Octets received (or at least this many, if the reader stopped early).
        len: usize,
    },
    /// Fewer than 64 octets.
    #[error("payload is not a SHA-256 digest: {len} octets instead of 64")]
    WrongLength {
        /// Octets received.
        len: usize,
    },
    /// 64 octets, but not all lowercase hexadecimal digits (REF did not check this).
    #[error("payload is not a SHA-256 digest: expected lowercase hexadecimal digits")]
    NotLowercaseHex,
}

impl HasErrorCode for PreRegistrationError {
    fn error_code(&self) -> GatewayErrorCode {
        match self {
            PreRegistrationError::TooLong { .. } => GatewayErrorCode::TooLarge,
            PreRegistrationError::WrongLength { .. } | PreRegistrationError::NotLowercaseHex => {
                GatewayErrorCode::Malformed
            }
        }
    }
}

/// Decode a pre-registration body into the 32-byte digest the PNRA's `gatewayData` carries.
pub fn parse_pre_registration_body(body: &[u8]) -> Result<[u8; 32], PreRegistrationError> {
    let len = body.len();
    if len > PRE_REGISTRATION_MAX_BODY {
        return Err(PreRegistrationError::TooLong { len });
    }
    if len != PRE_REGISTRATION_MAX_BODY {
        return Err(PreRegistrationError::WrongLength { len });
    }
    // `hex` accepts uppercase too; clients send lowercase and the spec asks for it.
    if !body
        .iter()
        .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(byte))
    {
        return Err(PreRegistrationError::NotLowercaseHex);
    }
    let mut digest = [0u8; 32];
    hex::decode_to_slice(body, &mut digest).map_err(|_| PreRegistrationError::NotLowercaseHex)?;
    Ok(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST_HEX: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    #[test]
    fn decodes_lowercase_hex_digest() {
        let digest = parse_pre_registration_body(DIGEST_HEX.as_bytes()).unwrap();
        assert_eq!(digest[0], 0x00);
        assert_eq!(digest[1], 0x11);
        assert_eq!(digest[15], 0xff);
        assert_eq!(hex::encode(digest), DIGEST_HEX);
    }

    #[test]
    fn refuses_wrong_lengths() {
        assert_eq!(
            parse_pre_registration_body(b""),
            Err(PreRegistrationError::WrongLength { len: 0 })
        );
        assert_eq!(
            parse_pre_registration_body(&DIGEST_HEX.as_bytes()[..63]),
            Err(PreRegistrationError::WrongLength { len: 63 })
        );
        let with_newline = format!("{DIGEST_HEX}\n");
        let error = parse_pre_registration_body(with_newline.as_bytes()).unwrap_err();
        assert_eq!(error, PreRegistrationError::TooLong { len: 65 });
        assert_eq!(error.error_code(), GatewayErrorCode::TooLarge);
    }

    #[test]
    fn refuses_non_lowercase_hex() {
        let upper = DIGEST_HEX.to_uppercase();
        let mut not_hex = DIGEST_HEX.to_owned();
        not_hex.replace_range(10..11, "g");
        let mut non_ascii = DIGEST_HEX.as_bytes().to_vec();
        non_ascii[0] = 0xc3;
        for body in [upper.as_bytes(), not_hex.as_bytes(), &non_ascii] {
            let error = parse_pre_registration_body(body).unwrap_err();
            assert_eq!(error, PreRegistrationError::NotLowercaseHex);
            assert_eq!(error.error_code(), GatewayErrorCode::Malformed);
            assert!(error.to_string().contains("not a SHA-256 digest"));
        }
    }
}
