//! Parcels, cargo and CCAs: fields, validation and (with a session key) the decrypted payload.

use serde_json::Value;

use super::report::{self, Report};
use super::{cms_values, ArtifactKind, InspectOptions, Verdict};
use crate::protocols::awala::messages::{
    classify_item, CargoCollectionRequest, CargoItem, CargoMessageSet, ServiceMessage,
};
use crate::protocols::awala::pki::Certificate;
use crate::protocols::awala::ramf::{
    Cargo, CargoCollectionAuthorization, Parcel, RamfMessage, ValidationContext,
};

pub(super) fn inspect(
    kind: ArtifactKind,
    bytes: &[u8],
    options: &InspectOptions<'_>,
    report: &mut Report,
) -> Verdict {
    let parsed = match kind {
        ArtifactKind::Parcel => Parcel::deserialize(bytes).map(Parcel::into_inner),
        ArtifactKind::Cargo => Cargo::deserialize(bytes).map(Cargo::into_inner),
        _ => CargoCollectionAuthorization::deserialize(bytes)
            .map(CargoCollectionAuthorization::into_inner),
    };
    let message = match parsed {
        Ok(message) => message,
        Err(error) => return Verdict::Malformed(error.to_string()),
    };
    describe(&message, report);

    let context =
        ValidationContext::new(options.now).with_future_tolerance(options.future_tolerance);
    let validation = if options.trusted.is_empty() {
        message.validate(&context).map(|()| None)
    } else {
        message
            .validate_with_trust(options.trusted, &context)
            .map(Some)
    };
    match validation {
        Ok(Some(path)) => report.set("chain_length", path.len()),
        Ok(None) => {}
        Err(error) => return Verdict::Invalid(error.to_string()),
    }

    match cms_values::decrypt(message.payload(), options, report, "payload_") {
        Ok(Some(plaintext)) => describe_plaintext(kind, &plaintext, report),
        Ok(None) => Verdict::Valid,
        Err(reason) => Verdict::Invalid(reason),
    }
}

fn describe(message: &RamfMessage, report: &mut Report) {
    report.set("id", message.id());
    report.set("recipient_id", message.recipient().id.as_str());
    report.set(
        "recipient_internet_address",
        message
            .recipient()
            .internet_address
            .as_deref()
            .map(Value::from)
            .unwrap_or(Value::Null),
    );
    report.set("creation_date", report::date(message.creation_date()));
    report.set("ttl", message.ttl());
    report.set("expiry_date", report::date(message.expiry_date()));
    report.set("payload_length", message.payload().len());
    report.set("payload_sha256", report::digest(message.payload()));
    report.set("sender_id", message.sender_certificate().subject_id());
    report.set("sender_ca_count", message.sender_ca_certificates().len());
    report.set(
        "signature_hash",
        format!("{:?}", message.signature_hash()).to_lowercase(),
    );
    report.set(
        "sender_certificate",
        report::certificate(message.sender_certificate()),
    );
}

/// What the decrypted payload holds: the service message type, the cargo items, or the CDA.
fn describe_plaintext(kind: ArtifactKind, plaintext: &[u8], report: &mut Report) -> Verdict {
    match kind {
        ArtifactKind::Parcel => match ServiceMessage::decode(plaintext) {
            Ok(message) => report.set("service_message_type", message.content_type),
            Err(error) => return Verdict::Invalid(format!("payload: {error}")),
        },
        ArtifactKind::Cargo => match CargoMessageSet::decode(plaintext) {
            Ok(set) => {
                let items: Vec<Value> = set
                    .messages
                    .iter()
                    .map(|item| {
                        let name = match classify_item(item) {
                            CargoItem::Pca => "pca",
                            CargoItem::CertificateRotation => "certificate_rotation",
                            CargoItem::Parcel => "parcel",
                        };
                        serde_json::json!({"type": name, "length": item.len(), "sha256": report::digest(item)})
                    })
                    .collect();
                report.set("cargo_items", Value::Array(items));
            }
            Err(error) => return Verdict::Invalid(format!("payload: {error}")),
        },
        _ => match CargoCollectionRequest::decode(plaintext)
            .map_err(|error| error.to_string())
            .and_then(|ccr| {
                Certificate::from_der(&ccr.cargo_delivery_authorization_der)
                    .map_err(|error| error.to_string())
            }) {
            Ok(cda) => report.set("cargo_delivery_authorization", report::certificate(&cda)),
            Err(error) => return Verdict::Invalid(format!("payload: {error}")),
        },
    }
    Verdict::Valid
}
