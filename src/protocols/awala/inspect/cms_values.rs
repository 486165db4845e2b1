//! SignedData, detached signatures and session envelopes.

use const_oid::ObjectIdentifier;

use super::report::{self, Report};
use super::{InspectOptions, Verdict};
use crate::protocols::awala::cms::{
    self, SignedDataVerified, HANDSHAKE_NONCE_SIGNATURE_OID, PARCEL_DELIVERY_SIGNATURE_OID,
};
use crate::protocols::awala::error::ProtocolErrorKind;
use crate::protocols::awala::keys::HashAlgorithm;
use crate::protocols::awala::pki::{build_certification_path, Certificate};

pub(super) fn inspect_signed_data(
    bytes: &[u8],
    options: &InspectOptions<'_>,
    report: &mut Report,
) -> Verdict {
    let verified = match cms::verify(bytes) {
        Ok(verified) => verified,
        Err(error) if error.kind() == ProtocolErrorKind::Invalid => {
            return Verdict::Invalid(error.to_string())
        }
        Err(error) => return Verdict::Malformed(error.to_string()),
    };
    report.set("plaintext_sha256", report::digest(&verified.plaintext));
    report.set("plaintext_length", verified.plaintext.len());
    report.set("hash", hash_name(verified.hash));
    check_signer(&verified, options, report)
}

pub(super) fn inspect_detached(
    bytes: &[u8],
    options: &InspectOptions<'_>,
    report: &mut Report,
) -> Verdict {
    let Some(plaintext) = options.detached_plaintext else {
        return Verdict::Invalid(
            "a detached signature can only be verified with the content it covers".to_string(),
        );
    };
    let purposes: Vec<(ObjectIdentifier, &str)> = match options.detached_purpose {
        Some(oid) => vec![(oid, purpose_name(&oid))],
        None => vec![
            (PARCEL_DELIVERY_SIGNATURE_OID, "parcel_delivery"),
            (HANDSHAKE_NONCE_SIGNATURE_OID, "handshake_nonce"),
        ],
    };
    let mut last_error = String::new();
    for (oid, name) in purposes {
        match cms::verify_detached(bytes, &oid, plaintext) {
            Ok(verified) => {
                report.set("purpose", name);
                report.set("hash", hash_name(verified.hash));
                return check_signer(&verified, options, report);
            }
            Err(error) => last_error = error.to_string(),
        }
    }
    Verdict::Invalid(last_error)
}

pub(super) fn inspect_envelope(
    bytes: &[u8],
    options: &InspectOptions<'_>,
    report: &mut Report,
) -> Verdict {
    if let Err(error) = cms::session_envelope_info(bytes) {
        return Verdict::Malformed(error.to_string());
    }
    match decrypt(bytes, options, report, "") {
        Ok(_) => Verdict::Valid,
        Err(reason) => Verdict::Invalid(reason),
    }
}

/// Describes a session envelope (key ids, curve) under `prefix` and, when the options carry a
/// session key that fits, decrypts it. `Ok(None)`: no key was given.
pub(super) fn decrypt(
    envelope: &[u8],
    options: &InspectOptions<'_>,
    report: &mut Report,
    prefix: &str,
) -> Result<Option<Vec<u8>>, String> {
    let info = match cms::session_envelope_info(envelope) {
        Ok(info) => info,
        // Without keys an undecodable payload is not our concern (parcel payloads are end-to-end).
        Err(error) if options.session_keys.is_empty() => {
            report.set(&format!("{prefix}envelope_error"), error.to_string());
            return Ok(None);
        }
        Err(error) => return Err(error.to_string()),
    };
    report.set(
        &format!("{prefix}recipient_key_id"),
        info.recipient_key_id.to_hex(),
    );
    report.set(
        &format!("{prefix}originator_key_id"),
        info.originator_key.id.to_hex(),
    );
    report.set(
        &format!("{prefix}curve"),
        report::curve(info.originator_key.public_key.curve()),
    );
    if options.session_keys.is_empty() {
        return Ok(None);
    }
    // A key given with its id behaves like a key store: it only opens envelopes addressed to it.
    let candidates = options
        .session_keys
        .iter()
        .filter(|(id, _)| id.as_ref().is_none_or(|id| *id == info.recipient_key_id));
    let mut last_error = format!("no session key with id {} was given", info.recipient_key_id);
    for (_, key) in candidates {
        match cms::session_decrypt(envelope, key) {
            Ok(decryption) => {
                report.set("plaintext_sha256", report::digest(&decryption.plaintext));
                report.set("plaintext_length", decryption.plaintext.len());
                return Ok(Some(decryption.plaintext));
            }
            Err(error) => last_error = error.to_string(),
        }
    }
    Err(last_error)
}

/// Describes the signer and, with trust anchors, checks that it chains to one of them.
fn check_signer(
    verified: &SignedDataVerified,
    options: &InspectOptions<'_>,
    report: &mut Report,
) -> Verdict {
    let signer = match Certificate::from_der(&verified.signer_certificate_der) {
        Ok(signer) => signer,
        Err(error) => return Verdict::Malformed(format!("signer certificate: {error}")),
    };
    report.set("signer_id", signer.subject_id());
    report.set("signer_certificate", report::certificate(&signer));
    report.set(
        "certificate_count",
        verified.other_certificates_der.len() + 1,
    );
    if options.trusted.is_empty() {
        return Verdict::Valid;
    }
    let intermediates: Result<Vec<Certificate>, _> = verified
        .other_certificates_der
        .iter()
        .map(|der| Certificate::from_der(der))
        .collect();
    let intermediates = match intermediates {
        Ok(intermediates) => intermediates,
        Err(error) => return Verdict::Malformed(format!("embedded certificate: {error}")),
    };
    match build_certification_path(&signer, &intermediates, options.trusted, options.now, None) {
        Ok(path) => {
            report.set("chain_length", path.len());
            Verdict::Valid
        }
        Err(error) => Verdict::Invalid(format!("signer is not trusted: {error}")),
    }
}

fn hash_name(hash: HashAlgorithm) -> &'static str {
    match hash {
        HashAlgorithm::Sha256 => "sha256",
        HashAlgorithm::Sha384 => "sha384",
        HashAlgorithm::Sha512 => "sha512",
    }
}

fn purpose_name(oid: &ObjectIdentifier) -> &'static str {
    if *oid == PARCEL_DELIVERY_SIGNATURE_OID {
        "parcel_delivery"
    } else if *oid == HANDSHAKE_NONCE_SIGNATURE_OID {
        "handshake_nonce"
    } else {
        "other"
    }
}
