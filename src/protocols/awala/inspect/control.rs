//! Control messages and payload plaintexts: PCAs, PoWeb frames, registration messages,
//! connection parameters, cargo message sets, service messages and CCRs.

use serde_json::Value;

use super::report::{self, Report};
use super::{ArtifactKind, InspectOptions, Verdict};
use crate::protocols::awala::error::ProtocolErrorKind;
use crate::protocols::awala::keys::SessionKey;
use crate::protocols::awala::messages::{
    classify_item, CargoCollectionRequest, CargoItem, CargoMessageSet, HandshakeChallenge,
    HandshakeResponse, MessageError, NodeConnectionParams, ParcelCollectionAck, ParcelDelivery,
    PrivateNodeRegistration, PrivateNodeRegistrationAuthorization, PrivateNodeRegistrationRequest,
    ServiceMessage,
};
use crate::protocols::awala::pki::Certificate;

pub(super) fn inspect(
    kind: ArtifactKind,
    bytes: &[u8],
    options: &InspectOptions<'_>,
    report: &mut Report,
) -> Verdict {
    let outcome = match kind {
        ArtifactKind::Pca => ParcelCollectionAck::deserialize(bytes)
            .map_err(|error| Verdict::Malformed(error.to_string()))
            .map(|pca| {
                report.set("sender_endpoint_id", pca.sender_endpoint_id);
                report.set("recipient_endpoint_id", pca.recipient_endpoint_id);
                report.set("parcel_id", pca.parcel_id);
            }),
        ArtifactKind::CargoMessageSet => CargoMessageSet::decode(bytes)
            .map_err(|error| Verdict::Malformed(error.to_string()))
            .map(|set| {
                report.set(
                    "messages_sha256",
                    report::digests(set.messages.iter().map(Vec::as_slice)),
                );
                let types: Vec<Value> = set
                    .messages
                    .iter()
                    .map(|item| match classify_item(item) {
                        CargoItem::Pca => "pca".into(),
                        CargoItem::CertificateRotation => "certificate_rotation".into(),
                        CargoItem::Parcel => "parcel".into(),
                    })
                    .collect();
                report.set("message_types", Value::Array(types));
            }),
        ArtifactKind::ServiceMessage => ServiceMessage::decode(bytes)
            .map_err(|error| Verdict::Malformed(error.to_string()))
            .map(|message| {
                report.set("content_type", message.content_type);
                report.set("content_sha256", report::digest(&message.content));
                report.set("content_length", message.content.len());
            }),
        ArtifactKind::Ccr => CargoCollectionRequest::decode(bytes)
            .map_err(|error| Verdict::Malformed(error.to_string()))
            .and_then(|ccr| {
                let cda_der = ccr.cargo_delivery_authorization_der;
                report.set("cda_sha256", report::digest(&cda_der));
                let cda = Certificate::from_der(&cda_der)
                    .map_err(|error| Verdict::Malformed(format!("cda: {error}")))?;
                report.set("cda", report::certificate(&cda));
                Ok(())
            }),
        ArtifactKind::HandshakeChallenge => HandshakeChallenge::decode(bytes)
            .map_err(|error| Verdict::Malformed(error.to_string()))
            .map(|challenge| report.set("nonce_hex", hex::encode(challenge.nonce))),
        ArtifactKind::HandshakeResponse => HandshakeResponse::decode(bytes)
            .map_err(|error| Verdict::Malformed(error.to_string()))
            .map(|response| {
                report.set(
                    "signatures_sha256",
                    report::digests(response.nonce_signatures.iter().map(Vec::as_slice)),
                );
            }),
        ArtifactKind::ParcelDelivery => ParcelDelivery::decode(bytes)
            .map_err(|error| Verdict::Malformed(error.to_string()))
            .map(|delivery| {
                report.set("delivery_id", delivery.delivery_id);
                report.set("parcel_sha256", report::digest(&delivery.parcel_serialized));
                report.set("parcel_length", delivery.parcel_serialized.len());
            }),
        ArtifactKind::Pnra => inspect_pnra(bytes, options, report),
        ArtifactKind::Pnrr => PrivateNodeRegistrationRequest::deserialize_and_verify(bytes)
            .map_err(message_verdict)
            .map(|pnrr| {
                let key = &pnrr.private_node_public_key;
                report.set("public_key_sha256", report::digest(key.spki_der()));
                report.set("private_node_id", key.node_id());
                report.set("pnra_sha256", report::digest(&pnrr.pnra_serialized));
            }),
        ArtifactKind::Pnr => PrivateNodeRegistration::decode(bytes)
            .map_err(message_verdict)
            .and_then(|pnr| describe_pnr(&pnr, report)),
        ArtifactKind::NodeConnectionParams => NodeConnectionParams::decode(bytes)
            .map_err(message_verdict)
            .map(|params| {
                report.set("internet_address", params.internet_address);
                report.set(
                    "identity_key_sha256",
                    report::digest(params.identity_key.spki_der()),
                );
                report.set("node_id", params.identity_key.node_id());
                describe_session_key(Some(&params.session_key), report);
            }),
        _ => Err(Verdict::Malformed(format!(
            "{} is not a control message",
            kind.name()
        ))),
    };
    match outcome {
        Ok(()) => Verdict::Valid,
        Err(verdict) => verdict,
    }
}

/// Describes a PNRA and checks its signature with the given keys or trusted certificates.
/// Without any, the signature cannot be checked, which says nothing against the PNRA: it is
/// described, and only its expiry decides the verdict.
fn inspect_pnra(
    bytes: &[u8],
    options: &InspectOptions<'_>,
    report: &mut Report,
) -> Result<(), Verdict> {
    let pnra = PrivateNodeRegistrationAuthorization::deserialize_unverified(bytes)
        .map_err(message_verdict)?;
    report.set("expiry_date", report::date(pnra.expiry_date));
    report.set("gateway_data_hex", hex::encode(&pnra.gateway_data));
    let keys: Vec<_> = options
        .signer_keys
        .iter()
        .cloned()
        .chain(
            options
                .trusted
                .iter()
                .map(|c| c.subject_public_key().clone()),
        )
        .collect();
    if keys.is_empty() {
        report.set("signature", "not checked (no --signer-key)");
        if pnra.expiry_date < options.now {
            return Err(message_verdict(MessageError::Expired {
                what: "pnra",
                expiry: pnra.expiry_date,
            }));
        }
        return Ok(());
    }
    let mut last_error = None;
    for key in &keys {
        match PrivateNodeRegistrationAuthorization::deserialize_and_verify(bytes, key, options.now)
        {
            Ok(_) => {
                report.set("signature", "valid");
                report.set("signer_id", key.node_id());
                return Ok(());
            }
            // Expiry is checked after the signature, so this key did sign it.
            Err(error @ MessageError::Expired { .. }) => {
                report.set("signature", "valid");
                report.set("signer_id", key.node_id());
                return Err(message_verdict(error));
            }
            Err(error) => last_error = Some(error),
        }
    }
    report.set("signature", "does not verify with the given keys");
    Err(last_error.map(message_verdict).unwrap_or(Verdict::Valid))
}

/// The digests the interop manifest compares, then both certificates described as other
/// artifacts describe theirs, so operators see who registered with whom and until when.
fn describe_pnr(pnr: &PrivateNodeRegistration, report: &mut Report) -> Result<(), Verdict> {
    report.set(
        "private_node_certificate_sha256",
        report::digest(&pnr.private_node_certificate_der),
    );
    report.set(
        "gateway_certificate_sha256",
        report::digest(&pnr.gateway_certificate_der),
    );
    report.set(
        "internet_address",
        pnr.internet_gateway_internet_address.as_str(),
    );
    describe_session_key(pnr.session_key.as_ref(), report);
    let private_node = Certificate::from_der(&pnr.private_node_certificate_der)
        .map_err(|error| Verdict::Malformed(format!("private node certificate: {error}")))?;
    let gateway = Certificate::from_der(&pnr.gateway_certificate_der)
        .map_err(|error| Verdict::Malformed(format!("gateway certificate: {error}")))?;
    report.set("private_node_id", private_node.subject_id());
    report.set(
        "private_node_certificate",
        report::certificate(&private_node),
    );
    report.set("gateway_id", gateway.subject_id());
    report.set("gateway_certificate", report::certificate(&gateway));
    Ok(())
}

fn describe_session_key(session_key: Option<&SessionKey>, report: &mut Report) {
    match session_key {
        Some(key) => {
            report.set("session_key_id", key.id.to_hex());
            report.set(
                "session_public_key_sha256",
                report::digest(key.public_key.spki_der()),
            );
            report.set("session_key_curve", report::curve(key.public_key.curve()));
        }
        None => {
            report.set("session_key_id", Value::Null);
            report.set("session_public_key_sha256", Value::Null);
            report.set("session_key_curve", Value::Null);
        }
    }
}

fn message_verdict(error: MessageError) -> Verdict {
    match error.kind() {
        ProtocolErrorKind::Malformed | ProtocolErrorKind::TooLarge => {
            Verdict::Malformed(error.to_string())
        }
        _ => Verdict::Invalid(error.to_string()),
    }
}
