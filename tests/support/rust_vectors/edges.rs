//! Boundary values the other sections do not reach: limits and instants where an off-by-one
//! in our encoders or in a checker's reading of them would show.

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use serde_json::json;

use super::super::manifest::{Decrypt, Item};
use super::pki::Pki;
use super::ramf::{recipient, write, Spec};
use super::{iso, manifest_item, object, plus, sha256_hex, Output, DAY, HOUR};
use awala_gateway::protocols::awala::cms::{session_encrypt, EnvelopeOptions};
use awala_gateway::protocols::awala::keys::HashAlgorithm;
use awala_gateway::protocols::awala::messages::{CargoMessageSet, ServiceMessage};
use awala_gateway::protocols::awala::pki::issue_endpoint_certificate;

pub fn write_edge_cases(out: &mut Output, pki: &Pki, certs: &BTreeMap<&'static str, String>) {
    let (now, nodes) = (pki.now, &pki.nodes);
    // A parcel with an empty payload, signed like the valid ones.
    let base = |name| Spec {
        name,
        kind: "parcel",
        recipient: recipient(&nodes.pe.id, None),
        creation_date: plus(now, -HOUR),
        ttl: DAY as u32,
        payload: Vec::new(),
        sender: &nodes.peer,
        sender_cert: pki.cert("pda"),
        chain: vec![pki.cert("pe").clone(), pki.cert("pg").clone()],
        hash: HashAlgorithm::Sha256,
        trusted: vec![certs["ig"].clone()],
        expect: "valid",
        reason: None,
        validate_at: None,
        decrypt: None,
        mangle: None,
    };
    write(out, base("parcel-valid-empty-payload"));
    // The libraries accept a message up to and including creation_date + ttl.
    let at_expiry = Spec {
        validate_at: Some(plus(now, -HOUR + DAY)),
        ..base("parcel-valid-at-expiry-instant")
    };
    write(out, at_expiry);
    write(
        out,
        Spec {
            validate_at: Some(plus(now, -HOUR + DAY + 1)),
            expect: "invalid",
            reason: Some("validate_at is one second after creation_date + ttl"),
            ..base("parcel-expired-one-second-after-expiry")
        },
    );
    // The longest TTL the protocol allows (180 days; its INTEGER needs a leading 0x00), and a
    // creation date exactly at validate_at.
    let max_ttl = (180 * DAY) as u32;
    write(
        out,
        Spec {
            ttl: max_ttl,
            ..base("parcel-valid-max-ttl")
        },
    );
    write(
        out,
        Spec {
            creation_date: now,
            ..base("parcel-valid-created-at-validate-at")
        },
    );
    // TTL 0 encodes as the one-octet INTEGER 0 and expires the instant it is created.
    let zero_ttl = Spec {
        creation_date: now,
        ttl: 0,
        ..base("parcel-valid-zero-ttl")
    };
    write(out, zero_ttl);

    // From 2050 on, certificate validity switches from UTCTime to GeneralizedTime.
    let end = Utc.with_ymd_and_hms(2051, 6, 1, 12, 0, 0).unwrap();
    let start = plus(now, -3 * HOUR);
    let peer = &nodes.peer;
    let cert = issue_endpoint_certificate(&peer.public, &peer.key, None, start, end).unwrap();
    let fields = json!({
        "subject_id": peer.id,
        "issuer_id": peer.id,
        "not_before": iso(start),
        "not_after": iso(end),
        "is_ca": true,
        "path_len": 0,
    });
    out.valid(
        "certificate-generalized-time",
        "certificate",
        cert.der(),
        fields,
    );

    let empty_set = CargoMessageSet { messages: vec![] }.encode().unwrap();
    let fields = json!({ "messages_sha256": Vec::<String>::new() });
    out.valid(
        "cargo-message-set-empty",
        "cargo_message_set",
        &empty_set,
        fields,
    );
    let empty_message = ServiceMessage {
        content_type: "application/octet-stream".into(),
        content: vec![],
    };
    let fields = json!({
        "content_type": empty_message.content_type,
        "content_sha256": sha256_hex(&[]),
    });
    let bytes = empty_message.encode().unwrap();
    out.valid(
        "service-message-empty-content",
        "service_message",
        &bytes,
        fields,
    );

    // An empty plaintext still gives one full AES-CBC block of padding.
    let session = pki.session("igP256");
    let encryption =
        session_encrypt(&[], &session.pair.session_key(), EnvelopeOptions::default()).unwrap();
    let name = "session-envelope-empty-plaintext";
    let file = out.file(&format!("{name}.der"), &encryption.envelope);
    let fields = object(json!({
        "recipient_key_id": session.key_id_hex(),
        "originator_key_id": hex::encode(encryption.originator_key.id.as_bytes()),
        "curve": session.curve,
    }));
    let key = session.pair.private_key.to_pkcs8_der().unwrap();
    out.item(Item {
        decrypt: Some(Decrypt {
            session_private_key: out.file("keys/igP256-session.pkcs8.der", &key),
            session_key_id: Some(session.key_id_hex()),
            plaintext: out.file("plain/empty.bin", &[]),
        }),
        ..manifest_item(name, "session_envelope", &file, "valid", None, fields)
    });
}
