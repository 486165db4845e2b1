//! Recognises any Awala artifact, describes it as JSON and validates it: the library behind
//! `awala-gateway inspect`, which operators use to see what a peer sent.
//!
//! Pure like the rest of the core: the caller passes the bytes, `now`, trust anchors and keys.
//! Field names follow `tests/interop/MANIFEST.md`, so interop tests compare descriptions with
//! what other implementations say they produced.
//!
//! - [`detect`]: recognition by format signature, then by ASN.1 shape.
//! - `ramf_values`, `cms_values`, `pki_values`, `control`: one describer per artifact family.

mod cms_values;
mod control;
pub mod detect;
mod pki_values;
mod ramf_values;
mod report;

use std::time::Duration;

use chrono::{DateTime, Utc};
use const_oid::ObjectIdentifier;
use serde_json::{Map, Value};

use super::keys::{IdentityPublicKey, SessionKeyId, SessionPrivateKey};
use super::limits::DEFAULT_FUTURE_TOLERANCE;
use super::pki::Certificate;

/// Every artifact `inspect` knows, named as in the interop manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArtifactKind {
    Parcel,
    Cargo,
    Cca,
    Pca,
    CertificateRotation,
    Certificate,
    CertificationPath,
    CargoMessageSet,
    ServiceMessage,
    Ccr,
    HandshakeChallenge,
    HandshakeResponse,
    ParcelDelivery,
    Pnra,
    Pnrr,
    Pnr,
    NodeConnectionParams,
    DetachedSignature,
    SignedData,
    SessionEnvelope,
}

impl ArtifactKind {
    pub const ALL: [ArtifactKind; 20] = [
        ArtifactKind::Parcel,
        ArtifactKind::Cargo,
        ArtifactKind::Cca,
        ArtifactKind::Pca,
        ArtifactKind::CertificateRotation,
        ArtifactKind::Certificate,
        ArtifactKind::CertificationPath,
        ArtifactKind::CargoMessageSet,
        ArtifactKind::ServiceMessage,
        ArtifactKind::Ccr,
        ArtifactKind::HandshakeChallenge,
        ArtifactKind::HandshakeResponse,
        ArtifactKind::ParcelDelivery,
        ArtifactKind::Pnra,
        ArtifactKind::Pnrr,
        ArtifactKind::Pnr,
        ArtifactKind::NodeConnectionParams,
        ArtifactKind::DetachedSignature,
        ArtifactKind::SignedData,
        ArtifactKind::SessionEnvelope,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ArtifactKind::Parcel => "parcel",
            ArtifactKind::Cargo => "cargo",
            ArtifactKind::Cca => "cca",
            ArtifactKind::Pca => "pca",
            ArtifactKind::CertificateRotation => "certificate_rotation",
            ArtifactKind::Certificate => "certificate",
            ArtifactKind::CertificationPath => "certification_path",
            ArtifactKind::CargoMessageSet => "cargo_message_set",
            ArtifactKind::ServiceMessage => "service_message",
            ArtifactKind::Ccr => "ccr",
            ArtifactKind::HandshakeChallenge => "handshake_challenge",
            ArtifactKind::HandshakeResponse => "handshake_response",
            ArtifactKind::ParcelDelivery => "parcel_delivery",
            ArtifactKind::Pnra => "pnra",
            ArtifactKind::Pnrr => "pnrr",
            ArtifactKind::Pnr => "pnr",
            ArtifactKind::NodeConnectionParams => "node_connection_params",
            ArtifactKind::DetachedSignature => "detached_signature",
            ArtifactKind::SignedData => "signed_data",
            ArtifactKind::SessionEnvelope => "session_envelope",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }
}

/// What inspection concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Valid,
    /// Parses, but fails validation, verification or decryption.
    Invalid(String),
    /// Does not parse (for RAMF messages: includes a signature that does not verify, since the
    /// libraries check it while parsing).
    Malformed(String),
}

/// Inputs to an inspection besides the bytes.
#[derive(Clone)]
pub struct InspectOptions<'a> {
    /// Read the bytes as this kind instead of recognising them.
    pub kind: Option<ArtifactKind>,
    pub now: DateTime<Utc>,
    pub future_tolerance: Duration,
    /// Trust anchors; with none, only what needs no anchor is validated.
    pub trusted: &'a [Certificate],
    /// Session private keys for decrypting payloads, with their ids when known.
    pub session_keys: &'a [(Option<SessionKeyId>, SessionPrivateKey)],
    /// The content a detached signature covers.
    pub detached_plaintext: Option<&'a [u8]>,
    /// The purpose a detached signature must have been made for (both known ones if `None`).
    pub detached_purpose: Option<ObjectIdentifier>,
    /// Keys that may have signed a registration authorisation (the trusted certificates'
    /// keys are tried too).
    pub signer_keys: &'a [IdentityPublicKey],
}

impl InspectOptions<'_> {
    pub fn new(now: DateTime<Utc>) -> Self {
        InspectOptions {
            kind: None,
            now,
            future_tolerance: DEFAULT_FUTURE_TOLERANCE,
            trusted: &[],
            session_keys: &[],
            detached_plaintext: None,
            detached_purpose: None,
            signer_keys: &[],
        }
    }
}

/// A description (always with `"type"`) and a verdict.
#[derive(Debug, Clone)]
pub struct Inspection {
    pub kind: Option<ArtifactKind>,
    pub description: Map<String, Value>,
    pub verdict: Verdict,
}

/// Recognises, describes and validates `bytes`.
pub fn inspect(bytes: &[u8], options: &InspectOptions<'_>) -> Inspection {
    let Some(kind) = options.kind.or_else(|| detect::detect(bytes)) else {
        let mut description = Map::new();
        description.insert("type".into(), "unknown".into());
        description.insert("length".into(), bytes.len().into());
        return Inspection {
            kind: None,
            description,
            verdict: Verdict::Malformed("not a recognised awala artifact".to_string()),
        };
    };
    let mut report = report::Report::new(kind, bytes.len());
    let verdict = match kind {
        ArtifactKind::Parcel | ArtifactKind::Cargo | ArtifactKind::Cca => {
            ramf_values::inspect(kind, bytes, options, &mut report)
        }
        ArtifactKind::Certificate => pki_values::inspect_certificate(bytes, options, &mut report),
        ArtifactKind::CertificationPath | ArtifactKind::CertificateRotation => {
            pki_values::inspect_path(kind, bytes, options, &mut report)
        }
        ArtifactKind::SignedData => cms_values::inspect_signed_data(bytes, options, &mut report),
        ArtifactKind::DetachedSignature => {
            cms_values::inspect_detached(bytes, options, &mut report)
        }
        ArtifactKind::SessionEnvelope => cms_values::inspect_envelope(bytes, options, &mut report),
        _ => control::inspect(kind, bytes, options, &mut report),
    };
    Inspection {
        kind: Some(kind),
        description: report.into_map(),
        verdict,
    }
}
