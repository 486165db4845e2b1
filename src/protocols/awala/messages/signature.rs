//! The 7-octet format signature that prefixes RAMF messages and some control messages.

use crate::protocols::awala::error::Asn1Error;

/// `"Awala"`, the first five octets of every format signature.
pub const FORMAT_SIGNATURE_PREFIX: &[u8; 5] = b"Awala";
/// The concrete version octet: always zero in both libraries.
pub const FORMAT_VERSION: u8 = 0x00;
/// Total length of a format signature.
pub const FORMAT_SIGNATURE_LENGTH: usize = 7;

/// The concrete message types that carry a format signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    Parcel,
    Cargo,
    Cca,
    Pca,
    CertificateRotation,
}

impl MessageType {
    const ALL: [MessageType; 5] = [
        MessageType::Parcel,
        MessageType::Cargo,
        MessageType::Cca,
        MessageType::Pca,
        MessageType::CertificateRotation,
    ];

    /// The type octet.
    pub fn octet(self) -> u8 {
        match self {
            MessageType::Parcel => 0x50,
            MessageType::Cargo => 0x43,
            MessageType::Cca => 0x44,
            MessageType::Pca => 0x51,
            MessageType::CertificateRotation => 0x10,
        }
    }

    /// `"Awala"` ‖ type ‖ version.
    pub fn format_signature(self) -> [u8; FORMAT_SIGNATURE_LENGTH] {
        let mut signature = [0u8; FORMAT_SIGNATURE_LENGTH];
        signature[..5].copy_from_slice(FORMAT_SIGNATURE_PREFIX);
        signature[5] = self.octet();
        signature[6] = FORMAT_VERSION;
        signature
    }

    /// Prepends this type's format signature to `body`.
    pub fn prefix(self, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(FORMAT_SIGNATURE_LENGTH + body.len());
        out.extend_from_slice(&self.format_signature());
        out.extend_from_slice(body);
        out
    }

    /// Checks the format signature of `bytes` is this type's and returns what follows it.
    pub fn strip(self, bytes: &[u8]) -> Result<&[u8], Asn1Error> {
        match bytes.split_at_checked(FORMAT_SIGNATURE_LENGTH) {
            Some((signature, body)) if signature == self.format_signature() => Ok(body),
            _ => Err(Asn1Error::malformed(format!(
                "format signature is not that of {self:?}"
            ))),
        }
    }
}

/// The message type whose full format signature (including version) starts `bytes`.
pub fn detect(bytes: &[u8]) -> Option<MessageType> {
    let signature = bytes.get(..FORMAT_SIGNATURE_LENGTH)?;
    MessageType::ALL
        .into_iter()
        .find(|kind| signature == kind.format_signature())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_seven_octets() {
        assert_eq!(
            MessageType::Pca.format_signature(),
            [0x41, 0x77, 0x61, 0x6C, 0x61, 0x51, 0x00]
        );
        assert_eq!(MessageType::Parcel.format_signature()[5], b'P');
        assert_eq!(MessageType::Cargo.format_signature()[5], b'C');
        assert_eq!(MessageType::Cca.format_signature()[5], b'D');
    }

    #[test]
    fn detects_every_type() {
        for kind in MessageType::ALL {
            assert_eq!(detect(&kind.prefix(b"rest")), Some(kind));
            assert_eq!(kind.strip(&kind.prefix(b"rest")), Ok(&b"rest"[..]));
        }
        assert_eq!(detect(b"Awala"), None);
        assert_eq!(detect(b"Awala\x50\x01"), None);
        assert_eq!(detect(b"Relay\x50\x00"), None);
        assert!(MessageType::Parcel
            .strip(&MessageType::Cargo.prefix(b""))
            .is_err());
    }
}
