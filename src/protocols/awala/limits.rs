//! Every size and time limit of the protocol core, in one place.
//!
//! Figures follow what the published libraries accept (see `awala-protocol-notes.md` §2.4), not
//! the spec text, where the two differ.

use std::time::Duration;

/// Largest RAMF message (any type) we accept: the libraries reject anything over 9 MiB.
pub const MAX_RAMF_MESSAGE_LENGTH: usize = 9_437_184;
/// Largest RAMF message we emit (the spec's limit).
pub const MAX_RAMF_MESSAGE_EMIT_LENGTH: usize = 8_396_800;
/// Largest parcel serialisation (relaynet-core rejects longer parcels, and cargo cannot hold them).
pub const MAX_PARCEL_LENGTH: usize = 8_322_038;
/// Largest RAMF payload field (2^23 - 1, relaynet-core's limit).
pub const MAX_RAMF_PAYLOAD_LENGTH: usize = 8_388_607;
/// Largest plaintext that may be encrypted into a payload (service data unit).
pub const MAX_SDU_PLAINTEXT_LENGTH: usize = 8_322_048;
/// Largest item in a CargoMessageSet: the SDU limit minus two worst-case DER headers.
pub const MAX_CARGO_MESSAGE_LENGTH: usize =
    MAX_SDU_PLAINTEXT_LENGTH - 2 * DER_OCTET_STRING_OVERHEAD;
/// Worst-case DER tag + length size of an OCTET STRING of up to ~8 MiB, used by cargo batching.
pub const DER_OCTET_STRING_OVERHEAD: usize = 5;
/// Longest RAMF message id.
pub const MAX_MESSAGE_ID_LENGTH: usize = 64;
/// Longest recipient id or Internet address.
pub const MAX_RECIPIENT_FIELD_LENGTH: usize = 1024;
/// Longest RAMF TTL: 180 days, in seconds.
pub const MAX_TTL_SECONDS: u32 = 15_552_000;
/// Deepest BER nesting we follow before calling the input malformed (protects the stack).
pub const MAX_BER_DEPTH: usize = 32;
/// Most certificates we accept in one SignedData or certification path.
pub const MAX_CERTIFICATES_PER_MESSAGE: usize = 16;
/// Largest certificate we accept (real Awala certificates are ~1-2 KiB).
pub const MAX_CERTIFICATE_LENGTH: usize = 64 * 1024;
/// Longest certification path we build, leaf and trust anchor included. Awala paths have at most
/// four certificates (IG, PG, endpoint, PDA); the bound stops pathological searches.
pub const MAX_CERTIFICATION_PATH_LENGTH: usize = 8;
/// Most intermediate plus trusted certificates one path search considers.
pub const MAX_PATH_CANDIDATE_CERTIFICATES: usize = 64;
/// Largest `pathLenConstraint` the libraries issue (identity certificates use 2).
pub const MAX_PATH_LENGTH_CONSTRAINT: u8 = 2;
/// Largest RSA-PSS salt we accept: the most a 4096-bit modulus can carry, in octets.
pub const MAX_PSS_SALT_LENGTH: usize = 512;
/// Successful signature checks remembered by a path validation cache.
pub const SIGNATURE_CACHE_CAPACITY: usize = 16_384;
/// Parsed certificates remembered for the chains that parcels repeat (a few KiB each).
pub const CERTIFICATE_CACHE_CAPACITY: usize = 4_096;

/// How far in the future a message's creation date may be before we reject it. The libraries
/// allow none (senders back-date instead); a small window is harmless and spares clock-skewed
/// peers. Configurable by callers; this is the default.
pub const DEFAULT_FUTURE_TOLERANCE: Duration = Duration::from_secs(5 * 60);

/// How far back we date certificates, cargo and other messages we issue, as the reference
/// gateway does, so peers with slow clocks accept them.
pub const ISSUANCE_BACKDATE: Duration = Duration::from_secs(3 * 60 * 60);
/// Validity of our self-issued identity certificate (reference gateway: 360 days).
pub const IDENTITY_CERTIFICATE_VALIDITY: Duration = Duration::from_secs(360 * 24 * 60 * 60);
/// Validity of a private gateway certificate issued at registration or rotation.
pub const PRIVATE_GATEWAY_CERTIFICATE_VALIDITY: Duration = Duration::from_secs(180 * 24 * 60 * 60);
/// A private gateway whose certificate expires sooner than this gets a rotation in cargo.
pub const CERTIFICATE_ROTATION_THRESHOLD: Duration = Duration::from_secs(90 * 24 * 60 * 60);
/// Lifetime of a pre-registration authorisation (PNRA).
pub const PNRA_VALIDITY: Duration = Duration::from_secs(10);
/// Length of the nonce in a parcel-collection handshake challenge.
pub const HANDSHAKE_NONCE_LENGTH: usize = 16;
/// Length of the session key ids we generate.
pub const SESSION_KEY_ID_LENGTH: usize = 8;
/// Length of the user keying material in session EnvelopedData (relaynet-core needs it).
pub const UKM_LENGTH: usize = 64;
/// RSA modulus sizes accepted for identity keys.
pub const RSA_MODULUS_BITS: [u32; 3] = [2048, 3072, 4096];

// === Control messages and payload plaintexts (see `messages/`) ===

/// Most items we decode from one CargoMessageSet. Real items (PCAs, parcels) are over 100
/// octets, so a full cargo holds under 100 000; the cap bounds the per-item bookkeeping.
pub const MAX_CARGO_MESSAGE_SET_ITEMS: usize = 100_000;
/// Longest service-message content type we decode.
pub const MAX_CONTENT_TYPE_LENGTH: usize = 1024;
/// Longest PoWeb parcel delivery id we decode (we issue UUIDs).
pub const MAX_DELIVERY_ID_LENGTH: usize = 256;
/// Longest handshake nonce we decode (we issue 16-octet nonces).
pub const MAX_HANDSHAKE_NONCE_LENGTH: usize = 1024;
/// Most nonce signatures we accept in one handshake response (clients send one).
pub const MAX_HANDSHAKE_SIGNATURES: usize = 16;
/// Largest detached nonce signature (CMS SignedData embedding the signer certificate).
pub const MAX_NONCE_SIGNATURE_LENGTH: usize = 64 * 1024;
/// Largest identity or session SubjectPublicKeyInfo we decode (RSA-4096 SPKI is ~550 octets).
pub const MAX_SPKI_LENGTH: usize = 4096;
/// Longest session key id we decode (we issue 8 octets).
pub const MAX_SESSION_KEY_ID_LENGTH: usize = 64;
/// Largest `gatewayData` in a PNRA (we put a 32-octet digest there).
pub const MAX_PNRA_GATEWAY_DATA_LENGTH: usize = 1024;
/// Largest raw RSA-PSS signature (RSA-4096 gives 512 octets).
pub const MAX_RSA_SIGNATURE_LENGTH: usize = 1024;
/// Largest serialised PNRA, as embedded in a PNRR.
pub const MAX_PNRA_LENGTH: usize = 4096;
