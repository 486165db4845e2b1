//! Control messages, PoWeb binding messages and registration messages: plain DER values (some
//! with a format signature) straight from the core's encoders.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::cargo::CargoContext;
use super::crypto::Signatures;
use super::parcels::Parcels;
use super::pki::{Node, Pki};
use super::{iso, manifest_item, object, plus, sha256_hex, Output};
use awala_gateway::protocols::awala::messages::{
    CargoCollectionRequest, CertificateRotation, CertificationPathEncoding, HandshakeChallenge,
    HandshakeResponse, NodeConnectionParams, ParcelCollectionAck, ParcelDelivery,
    PrivateNodeRegistration, PrivateNodeRegistrationAuthorization, PrivateNodeRegistrationRequest,
};

pub fn write_control_messages(
    out: &mut Output,
    pki: &Pki,
    parcels: &Parcels,
    cargo: &CargoContext,
) {
    let nodes = &pki.nodes;
    let pca = &cargo.pca_to_pg;
    out.valid(
        "pca",
        "pca",
        &pca.serialize().unwrap(),
        json!({
            "sender_endpoint_id": pca.sender_endpoint_id,
            "recipient_endpoint_id": pca.recipient_endpoint_id,
            "parcel_id": pca.parcel_id,
        }),
    );
    let short = ParcelCollectionAck {
        sender_endpoint_id: nodes.peer.id.clone(),
        recipient_endpoint_id: nodes.pe.id.clone(),
        parcel_id: "x".into(),
    }
    .serialize()
    .unwrap();
    let file = out.file("pca-truncated.der", &short[..short.len() - 3]);
    let reason = Some("truncated by 3 octets");
    out.item(manifest_item(
        "pca-truncated",
        "pca",
        &file,
        "malformed",
        reason,
        Default::default(),
    ));

    let digests: Vec<String> = cargo.pg_to_ig_items.iter().map(|m| sha256_hex(m)).collect();
    let fields = json!({ "messages_sha256": digests });
    out.valid(
        "cargo-message-set",
        "cargo_message_set",
        &cargo.pg_to_ig_set,
        fields,
    );

    // The rotation the IG sends a PG (its new certificate and the IG's), in both encodings:
    // desktop gateways read the JS one, Android gateways the JVM one.
    let path = &cargo.rotation;
    for (suffix, encoding, label) in [
        ("", CertificationPathEncoding::Js, "js"),
        ("-jvm", CertificationPathEncoding::Jvm, "jvm"),
    ] {
        let fields = json!({
            "leaf_sha256": sha256_hex(pki.cert("pg").der()),
            "ca_sha256": [sha256_hex(pki.cert("ig").der())],
            "encoding": label,
        });
        let rotation = CertificateRotation { path: path.clone() }
            .serialize(encoding)
            .unwrap();
        let name = format!("certification-path{suffix}");
        out.valid(
            &name,
            "certification_path",
            &path.encode_as(encoding).unwrap(),
            fields.clone(),
        );
        let name = format!("certificate-rotation{suffix}");
        out.valid(&name, "certificate_rotation", &rotation, fields);
    }

    let message = &parcels.service_message;
    let fields = json!({
        "content_type": message.content_type,
        "content_sha256": sha256_hex(&message.content),
    });
    out.valid(
        "service-message",
        "service_message",
        &parcels.service_message_bytes,
        fields,
    );
    let fields = json!({ "cda_sha256": sha256_hex(pki.cert("cda").der()) });
    out.valid("ccr", "ccr", &cargo.ccr, fields);
    let cda = pki.cert("cda-jvm-style").der();
    let jvm_ccr = CargoCollectionRequest {
        cargo_delivery_authorization_der: cda.to_vec(),
    };
    let fields = json!({ "cda_sha256": sha256_hex(cda) });
    out.valid(
        "ccr-jvm-style-cda",
        "ccr",
        &jvm_ccr.encode().unwrap(),
        fields,
    );
}

pub fn write_binding_messages(out: &mut Output, parcels: &Parcels, signatures: &Signatures) {
    let nonce = &signatures.nonce;
    let challenge = HandshakeChallenge {
        nonce: nonce.clone(),
    }
    .encode()
    .unwrap();
    let fields = json!({ "nonce_hex": hex::encode(nonce) });
    out.valid(
        "handshake-challenge",
        "handshake_challenge",
        &challenge,
        fields,
    );

    let nonce_signatures = vec![signatures.handshake_signature.clone()];
    let digests: Vec<String> = nonce_signatures.iter().map(|s| sha256_hex(s)).collect();
    let response = HandshakeResponse { nonce_signatures }.encode().unwrap();
    let fields = json!({ "signatures_sha256": digests });
    out.valid(
        "handshake-response",
        "handshake_response",
        &response,
        fields,
    );

    let parcel = &parcels.bytes["parcel-valid-sha256"];
    let delivery = ParcelDelivery {
        delivery_id: "delivery-1".into(),
        parcel_serialized: parcel.clone(),
    }
    .encode()
    .unwrap();
    let fields = json!({ "delivery_id": "delivery-1", "parcel_sha256": sha256_hex(parcel) });
    out.valid("parcel-delivery", "parcel_delivery", &delivery, fields);
}

pub fn write_registration_messages(out: &mut Output, pki: &Pki) {
    let (now, nodes) = (pki.now, &pki.nodes);
    let ig_key_path = out.file("keys/ig-identity.spki.der", nodes.ig.public.spki_der());
    // What the gateway puts in its PNRAs: the digest of the key it authorises.
    let pg_key_digest = nodes.pg.public.digest().to_vec();
    let mut pnra = |name: &str, expiry: DateTime<Utc>, signer: &Node, reason: Option<&str>| {
        let authorization = PrivateNodeRegistrationAuthorization {
            expiry_date: expiry,
            gateway_data: pg_key_digest.clone(),
        };
        let bytes = authorization.sign(&signer.key).unwrap();
        let file = out.file(&format!("{name}.der"), &bytes);
        let expect = if reason.is_some() { "invalid" } else { "valid" };
        let fields = object(json!({
            "expiry_date": iso(expiry),
            "gateway_data_hex": hex::encode(&pg_key_digest),
        }));
        let mut item = manifest_item(name, "pnra", &file, expect, reason, fields);
        item.signer_public_key = Some(ig_key_path.clone());
        out.item(item);
        bytes
    };
    // Real IGs make PNRAs expire within seconds (notes §5.1).
    let pnra_bytes = pnra("pnra", plus(now, 10), &nodes.ig, None);
    pnra(
        "pnra-expired",
        plus(now, -10),
        &nodes.ig,
        Some("expiry_date before validate_at"),
    );
    let reason = Some("signed by the PG key, not signer_public_key");
    pnra("pnra-wrong-signer", plus(now, 10), &nodes.pg, reason);

    let request = PrivateNodeRegistrationRequest {
        private_node_public_key: nodes.pg.public.clone(),
        pnra_serialized: pnra_bytes.clone(),
    };
    let fields = json!({
        "public_key_sha256": sha256_hex(nodes.pg.public.spki_der()),
        "pnra_sha256": sha256_hex(&pnra_bytes),
    });
    out.valid(
        "pnrr",
        "pnrr",
        &request.sign(&nodes.pg.key).unwrap(),
        fields,
    );

    let ig_session = pki.session("igP256");
    let session_key = ig_session.pair.session_key();
    let session_spki = session_key.public_key.spki_der().to_vec();
    for (name, key) in [
        ("pnr", Some(session_key.clone())),
        ("pnr-without-session-key", None),
    ] {
        let with_key = key.is_some();
        let registration = PrivateNodeRegistration {
            private_node_certificate_der: pki.cert("pg").der().to_vec(),
            gateway_certificate_der: pki.cert("ig").der().to_vec(),
            internet_gateway_internet_address: pki.ig_address.into(),
            session_key: key,
        };
        let fields = json!({
            "private_node_certificate_sha256": sha256_hex(pki.cert("pg").der()),
            "gateway_certificate_sha256": sha256_hex(pki.cert("ig").der()),
            "internet_address": pki.ig_address,
            "session_key_id": with_key.then(|| ig_session.key_id_hex()),
            "session_public_key_sha256": with_key.then(|| sha256_hex(&session_spki)),
        });
        out.valid(name, "pnr", &registration.encode().unwrap(), fields);
    }

    let params = NodeConnectionParams {
        internet_address: pki.ig_address.into(),
        identity_key: nodes.ig.public.clone(),
        session_key,
    };
    let fields = json!({
        "internet_address": pki.ig_address,
        "identity_key_sha256": sha256_hex(nodes.ig.public.spki_der()),
        "session_key_id": ig_session.key_id_hex(),
        "session_public_key_sha256": sha256_hex(&session_spki),
    });
    out.valid(
        "node-connection-params",
        "node_connection_params",
        &params.encode().unwrap(),
        fields,
    );
}
