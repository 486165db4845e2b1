//! The three concrete RAMF message types. They differ only in format signature and size limit,
//! so one macro defines them and keeps their APIs identical.

use std::ops::Deref;

use super::error::RamfError;
use super::message::{MessageDraft, RamfMessage};
use crate::protocols::awala::keys::{HashAlgorithm, IdentityPrivateKey};
use crate::protocols::awala::limits::{
    MAX_PARCEL_LENGTH, MAX_RAMF_MESSAGE_EMIT_LENGTH, MAX_RAMF_MESSAGE_LENGTH,
};
use crate::protocols::awala::messages::MessageType;
use crate::protocols::awala::pki::{Certificate, CertificateCache};

macro_rules! ramf_kind {
    ($(#[$doc:meta])* $name:ident, $message_type:expr, $what:literal, $read_limit:expr, $write_limit:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(RamfMessage);

        impl $name {
            /// Parses and verifies the signature (not the trust: see `validation`).
            pub fn deserialize(bytes: &[u8]) -> Result<Self, RamfError> {
                RamfMessage::deserialize($message_type, bytes, $read_limit, $what, None).map($name)
            }

            /// [`Self::deserialize`], taking the embedded certificates from `certificates`
            /// when they were parsed before.
            pub fn deserialize_cached(
                bytes: &[u8],
                certificates: &CertificateCache,
            ) -> Result<Self, RamfError> {
                RamfMessage::deserialize($message_type, bytes, $read_limit, $what, Some(certificates))
                    .map($name)
            }

            /// Signs `draft` with `sender_key`, attaching the sender certificate and its CAs.
            pub fn serialize(
                draft: &MessageDraft,
                sender_key: &IdentityPrivateKey,
                sender_certificate: &Certificate,
                sender_ca_certificates: &[Certificate],
                hash: HashAlgorithm,
            ) -> Result<Vec<u8>, RamfError> {
                RamfMessage::serialize(
                    $message_type,
                    draft,
                    sender_key,
                    sender_certificate,
                    sender_ca_certificates,
                    hash,
                    $write_limit,
                    $what,
                )
            }

            pub fn into_inner(self) -> RamfMessage {
                self.0
            }
        }

        impl Deref for $name {
            type Target = RamfMessage;

            fn deref(&self) -> &RamfMessage {
                &self.0
            }
        }
    };
}

ramf_kind!(
    /// A parcel: end-to-end message between endpoints; its payload is opaque to gateways.
    Parcel,
    MessageType::Parcel,
    "parcel",
    MAX_PARCEL_LENGTH,
    MAX_PARCEL_LENGTH
);

ramf_kind!(
    /// Cargo: a batch of messages between gateways, encrypted with the channel session.
    Cargo,
    MessageType::Cargo,
    "cargo",
    MAX_RAMF_MESSAGE_LENGTH,
    MAX_RAMF_MESSAGE_EMIT_LENGTH
);

ramf_kind!(
    /// A cargo collection authorisation, presented by couriers to collect cargo.
    CargoCollectionAuthorization,
    MessageType::Cca,
    "cargo collection authorization",
    MAX_RAMF_MESSAGE_LENGTH,
    MAX_RAMF_MESSAGE_EMIT_LENGTH
);
