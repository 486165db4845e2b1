//! RSA-3072 and RSA-4096 keys as signers and as subjects of issued certificates, with the
//! SHA-384/SHA-512 digests that go with them: the deployment PKI only uses 2048-bit keys.

use std::collections::BTreeMap;

use serde_json::json;

use super::super::manifest::{Detached, Item};
use super::parcels::Parcels;
use super::pki::Pki;
use super::ramf::{recipient, write, Spec};
use super::{iso, manifest_item, object, plus, sha256_hex, Output, DAY, HOUR};
use awala_gateway::protocols::awala::cms::{self, sign_detached, HANDSHAKE_NONCE_SIGNATURE_OID};
use awala_gateway::protocols::awala::keys::HashAlgorithm;
use awala_gateway::protocols::awala::pki::issue_gateway_certificate;

pub fn write_large_key_items(
    out: &mut Output,
    pki: &Pki,
    certs: &BTreeMap<&'static str, String>,
    parcels: &Parcels,
) {
    let (now, nodes) = (pki.now, &pki.nodes);
    // The IG issuing a private gateway certificate to a 3072-bit key, trusted = IG.
    let (start, end) = (plus(now, -3 * HOUR), plus(now, 30 * DAY));
    let rsa3072 = &nodes.rsa3072;
    let ig = &nodes.ig;
    let cert = issue_gateway_certificate(
        &rsa3072.public,
        &ig.key,
        Some(pki.cert("ig")),
        start,
        end,
        1,
    )
    .unwrap();
    let file = out.file("certs/rsa3072-issued-by-ig.der", cert.der());
    let fields = object(json!({
        "subject_id": rsa3072.id,
        "issuer_id": ig.id,
        "not_before": iso(start),
        "not_after": iso(end),
        "is_ca": true,
        "path_len": 1,
    }));
    let name = "certificate-rsa3072-issued-by-ig";
    out.item(Item {
        trusted_certificates: vec![certs["ig"].clone()],
        ..manifest_item(name, "certificate", &file, "valid", None, fields)
    });

    // An Internet endpoint with a 4096-bit key sending a SHA-512 parcel with its own certificate.
    write(
        out,
        Spec {
            name: "parcel-internet-bound-rsa4096-sha512",
            kind: "parcel",
            recipient: recipient(&nodes.peer.id, Some("pohttp.example.net")),
            creation_date: plus(now, -HOUR),
            ttl: DAY as u32,
            payload: parcels.service_message_bytes.clone(),
            sender: &nodes.rsa4096,
            sender_cert: pki.cert("rsa4096-self-sha512"),
            chain: vec![],
            hash: HashAlgorithm::Sha512,
            trusted: vec![],
            expect: "valid",
            reason: None,
            validate_at: None,
            decrypt: None,
            mangle: None,
        },
    );

    // SignedData by the 3072-bit key with SHA-384, trusted = its own self-issued certificate.
    let plaintext = b"Signed with RSA-3072 and SHA-384".to_vec();
    let signer = pki.cert("rsa3072-self-sha384");
    let bytes = cms::sign(
        &plaintext,
        &rsa3072.key,
        signer.der(),
        &[],
        HashAlgorithm::Sha384,
    )
    .unwrap();
    let file = out.file("signed-data-rsa3072-sha384.der", &bytes);
    let fields = object(json!({
        "plaintext_sha256": sha256_hex(&plaintext),
        "signer_id": rsa3072.id,
        "hash": "sha384",
    }));
    let name = "signed-data-rsa3072-sha384";
    out.item(Item {
        trusted_certificates: vec![certs["rsa3072-self-sha384"].clone()],
        ..manifest_item(name, "signed_data", &file, "valid", None, fields)
    });

    // A handshake nonce signature with SHA-512 by the PG (2048-bit) key: verifiers must follow
    // the digest the SignerInfo names.
    let nonce = b"0123456789abcdef";
    let pg = &nodes.pg;
    let oid = HANDSHAKE_NONCE_SIGNATURE_OID;
    let signature = sign_detached(
        &oid,
        nonce,
        &pg.key,
        pki.cert("pg").der(),
        HashAlgorithm::Sha512,
    )
    .unwrap();
    let name = "detached-handshake-nonce-sha512";
    let file = out.file(&format!("{name}.der"), &signature);
    let fields = object(json!({ "signer_id": pg.id }));
    out.item(Item {
        trusted_certificates: vec![certs["ig"].clone()],
        detached: Some(Detached {
            plaintext: out.file("plain/fixed-nonce.bin", nonce),
            oid: oid.to_string(),
        }),
        ..manifest_item(name, "detached_signature", &file, "valid", None, fields)
    });
}
